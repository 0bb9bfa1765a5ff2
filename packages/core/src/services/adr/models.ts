/**
 * The wire shapes of the Azure Device Registry (ADR) service, as defined by its Thing Model
 * (`AdrBaseService.TM.json`): devices, assets, their statuses and runtime health. Field names are
 * the camelCase names of the wire; absent fields are omitted (never `null`). Values come from
 * {@link parseDevice} / {@link parseAsset}, which validate untrusted JSON and keep fields this
 * version does not know, so objects may carry more properties than typed here.
 *
 * The `*Configuration` fields are strings holding JSON (often with trailing commas); read them with
 * {@link configurationOf}.
 *
 * @module
 */

// enums, as string unions with their values listed once

/**
 * The values of {@link DestinationQos}.
 *
 * @example
 * ```ts
 * import { destinationQosValues } from '@aio-connector/core';
 * destinationQosValues.includes('Qos1'); // true
 * ```
 */
export const destinationQosValues = ['Qos0', 'Qos1'] as const;
/** MQTT QoS of a destination (the ADR wire spelling, not `0`/`1`). */
export type DestinationQos = (typeof destinationQosValues)[number];

/**
 * The values of {@link DestinationRetain}.
 *
 * @example
 * ```ts
 * import { destinationRetainValues } from '@aio-connector/core';
 * destinationRetainValues; // ['Keep', 'Never']
 * ```
 */
export const destinationRetainValues = ['Keep', 'Never'] as const;
/** Retain flag of an MQTT destination: `Keep` sets the retain flag. */
export type DestinationRetain = (typeof destinationRetainValues)[number];

/**
 * The values of {@link DatasetTarget}.
 *
 * @example
 * ```ts
 * import { datasetTargets } from '@aio-connector/core';
 * datasetTargets.join('|'); // 'BrokerStateStore|Mqtt|Storage'
 * ```
 */
export const datasetTargets = ['BrokerStateStore', 'Mqtt', 'Storage'] as const;
/** Where a dataset is forwarded. */
export type DatasetTarget = (typeof datasetTargets)[number];

/**
 * The values of {@link EventStreamTarget}.
 *
 * @example
 * ```ts
 * import { eventStreamTargets } from '@aio-connector/core';
 * eventStreamTargets.includes('BrokerStateStore' as never); // false
 * ```
 */
export const eventStreamTargets = ['Mqtt', 'Storage'] as const;
/** Where an event or stream is forwarded (the state store is not allowed). */
export type EventStreamTarget = (typeof eventStreamTargets)[number];

/**
 * The values of {@link HealthStatus}.
 *
 * @example
 * ```ts
 * import { healthStatuses } from '@aio-connector/core';
 * healthStatuses; // ['Available', 'Unavailable']
 * ```
 */
export const healthStatuses = ['Available', 'Unavailable'] as const;
/** Runtime health of a device endpoint, dataset, event, stream or management action. */
export type HealthStatus = (typeof healthStatuses)[number];

/**
 * The values of {@link NotificationPreference}.
 *
 * @example
 * ```ts
 * import { notificationPreferences } from '@aio-connector/core';
 * notificationPreferences; // ['On', 'Off']
 * ```
 */
export const notificationPreferences = ['On', 'Off'] as const;
/** Whether ADR sends update notifications for a device or asset. */
export type NotificationPreference = (typeof notificationPreferences)[number];

/**
 * The values of {@link AuthenticationMethod}.
 *
 * @example
 * ```ts
 * import { authenticationMethods } from '@aio-connector/core';
 * authenticationMethods.includes('Certificate'); // true
 * ```
 */
export const authenticationMethods = ['Anonymous', 'Certificate', 'UsernamePassword'] as const;
/** How a connector authenticates to a device inbound endpoint. */
export type AuthenticationMethod = (typeof authenticationMethods)[number];

/**
 * The values of {@link ManagementActionType}.
 *
 * @example
 * ```ts
 * import { managementActionTypes } from '@aio-connector/core';
 * managementActionTypes; // ['Call', 'Read', 'Write']
 * ```
 */
export const managementActionTypes = ['Call', 'Read', 'Write'] as const;
/** The kind of a management action. */
export type ManagementActionType = (typeof managementActionTypes)[number];

/**
 * The values of {@link AkriServiceErrorCode}.
 *
 * @example
 * ```ts
 * import { akriServiceErrorCodes } from '@aio-connector/core';
 * akriServiceErrorCodes.includes('KubeError'); // true
 * ```
 */
export const akriServiceErrorCodes = [
  'BadRequest',
  'InternalError',
  'KubeError',
  'SerializationError',
  'Unauthorized',
] as const;
/** The `code` of an error reported by the ADR service in a response body. */
export type AkriServiceErrorCode = (typeof akriServiceErrorCodes)[number];

// device

/** Credentials for `UsernamePassword`: names of mounted secrets (`{secret}/{key}`). */
export interface UsernamePasswordSecretNames {
  readonly usernameSecretName: string;
  readonly passwordSecretName: string;
}

/** Credentials for `Certificate`: names of mounted secrets. */
export interface X509SecretNames {
  /** The certificate (and, with some secret stores, its key). */
  readonly certificateSecretName: string;
  /** The intermediate certificates, PEM. */
  readonly intermediateCertificatesSecretName?: string;
  /** The private key, PEM or DER. */
  readonly keySecretName?: string;
}

/** How the connector authenticates to an inbound endpoint. */
export interface InboundEndpointAuthentication {
  readonly method: AuthenticationMethod;
  readonly usernamePasswordCredentials?: UsernamePasswordSecretNames;
  readonly x509Credentials?: X509SecretNames;
}

/** Server trust settings of an inbound endpoint. */
export interface InboundEndpointTrustSettings {
  /** Name of the secret holding the certificates to trust. */
  readonly trustList?: string;
}

/** A device inbound endpoint: where and how the connector reaches the device. */
export interface InboundEndpoint {
  /** The endpoint address (URL, host:port, ...). */
  readonly address: string;
  /** The endpoint type the connector template serves (for example `Microsoft.Http`). */
  readonly endpointType: string;
  readonly version?: string;
  /** Stringified JSON; read with {@link configurationOf}. */
  readonly additionalConfiguration?: string;
  readonly authentication?: InboundEndpointAuthentication;
  readonly trustSettings?: InboundEndpointTrustSettings;
}

/** A device outbound endpoint. */
export interface OutboundEndpoint {
  readonly address: string;
  readonly endpointType?: string;
}

/** The outbound endpoints of a device. */
export interface OutboundEndpoints {
  readonly assigned: Readonly<Record<string, OutboundEndpoint>>;
  readonly unassigned?: Readonly<Record<string, OutboundEndpoint>>;
}

/** The endpoints of a device. `getDevice` returns only the requested inbound endpoint. */
export interface DeviceEndpoints {
  readonly inbound?: Readonly<Record<string, InboundEndpoint>>;
  readonly outbound?: OutboundEndpoints;
}

/** A device, as returned by `getDevice` and carried by `deviceUpdateEvent`. */
export interface Device {
  readonly attributes?: Readonly<Record<string, string>>;
  readonly discoveredDeviceRef?: string;
  /** `undefined` counts as enabled. */
  readonly enabled?: boolean;
  readonly endpoints?: DeviceEndpoints;
  readonly externalDeviceId?: string;
  /** RFC 3339. */
  readonly lastTransitionTime?: string;
  readonly manufacturer?: string;
  readonly model?: string;
  readonly operatingSystem?: string;
  readonly operatingSystemVersion?: string;
  readonly uuid?: string;
  /** Incremented on every change of the definition. */
  readonly version?: number;
}

// asset

/** Where a destination sends data and how. Which fields apply depends on the target. */
export interface DestinationConfiguration {
  /** MQTT topic (target `Mqtt`). May contain tokens such as `{assetName}`. */
  readonly topic?: string;
  /** State store key (target `BrokerStateStore`). */
  readonly key?: string;
  /** Storage path (target `Storage`). */
  readonly path?: string;
  readonly qos?: DestinationQos;
  readonly retain?: DestinationRetain;
  /** Message expiry in seconds. */
  readonly ttl?: number;
}

/** A destination of a dataset. */
export interface DatasetDestination {
  readonly target: DatasetTarget;
  readonly configuration: DestinationConfiguration;
}

/** A destination of an event or stream. */
export interface EventStreamDestination {
  readonly target: EventStreamTarget;
  readonly configuration: DestinationConfiguration;
}

/** A data point of a dataset. */
export interface AssetDataPoint {
  readonly name: string;
  readonly dataSource?: string;
  readonly typeRef?: string;
  /** Stringified JSON; read with {@link configurationOf}. */
  readonly dataPointConfiguration?: string;
}

/** A dataset: data the connector samples and forwards. */
export interface AssetDataset {
  readonly name: string;
  readonly dataSource?: string;
  readonly typeRef?: string;
  /** Stringified JSON; read with {@link configurationOf}. */
  readonly datasetConfiguration?: string;
  readonly dataPoints?: readonly AssetDataPoint[];
  readonly destinations?: readonly DatasetDestination[];
}

/** An event of an event group. */
export interface AssetEvent {
  readonly name: string;
  readonly dataSource?: string;
  readonly typeRef?: string;
  /** Stringified JSON; read with {@link configurationOf}. */
  readonly eventConfiguration?: string;
  readonly destinations?: readonly EventStreamDestination[];
}

/** A group of events sharing a data source and default destinations. */
export interface AssetEventGroup {
  readonly name: string;
  readonly dataSource?: string;
  readonly typeRef?: string;
  /** Stringified JSON; read with {@link configurationOf}. */
  readonly eventGroupConfiguration?: string;
  readonly defaultDestinations?: readonly EventStreamDestination[];
  readonly events?: readonly AssetEvent[];
}

/** A stream of an asset. */
export interface AssetStream {
  readonly name: string;
  readonly typeRef?: string;
  /** Stringified JSON; read with {@link configurationOf}. */
  readonly streamConfiguration?: string;
  readonly destinations?: readonly EventStreamDestination[];
}

/** A management action: an RPC the connector serves on behalf of the asset. */
export interface AssetManagementAction {
  readonly name: string;
  readonly actionType: ManagementActionType;
  readonly targetUri: string;
  readonly topic?: string;
  readonly timeoutInSeconds?: number;
  readonly typeRef?: string;
  /** Stringified JSON; read with {@link configurationOf}. */
  readonly actionConfiguration?: string;
}

/** A group of management actions. */
export interface AssetManagementGroup {
  readonly name: string;
  readonly dataSource?: string;
  readonly typeRef?: string;
  readonly defaultTopic?: string;
  readonly defaultTimeoutInSeconds?: number;
  /** Stringified JSON; read with {@link configurationOf}. */
  readonly managementGroupConfiguration?: string;
  readonly actions?: readonly AssetManagementAction[];
}

/** The device inbound endpoint an asset belongs to. */
export interface AssetDeviceRef {
  readonly deviceName: string;
  readonly endpointName: string;
}

/** An asset, as returned by `getAsset` and carried by `assetUpdateEvent`. */
export interface Asset {
  readonly deviceRef: AssetDeviceRef;
  readonly uuid?: string;
  readonly version?: number;
  /** `undefined` counts as enabled. */
  readonly enabled?: boolean;
  readonly displayName?: string;
  readonly description?: string;
  readonly externalAssetId?: string;
  readonly discoveredAssetRefs?: readonly string[];
  readonly assetTypeRefs?: readonly string[];
  readonly attributes?: Readonly<Record<string, string>>;
  readonly documentationUri?: string;
  readonly hardwareRevision?: string;
  readonly manufacturer?: string;
  readonly manufacturerUri?: string;
  readonly model?: string;
  readonly productCode?: string;
  readonly serialNumber?: string;
  readonly softwareRevision?: string;
  /** RFC 3339. */
  readonly lastTransitionTime?: string;
  /** Stringified JSON; read with {@link configurationOf}. */
  readonly defaultDatasetsConfiguration?: string;
  /** Stringified JSON; read with {@link configurationOf}. */
  readonly defaultEventsConfiguration?: string;
  /** Stringified JSON; read with {@link configurationOf}. */
  readonly defaultStreamsConfiguration?: string;
  /** Stringified JSON; read with {@link configurationOf}. */
  readonly defaultManagementGroupsConfiguration?: string;
  readonly defaultDatasetsDestinations?: readonly DatasetDestination[];
  readonly defaultEventsDestinations?: readonly EventStreamDestination[];
  readonly defaultStreamsDestinations?: readonly EventStreamDestination[];
  readonly datasets?: readonly AssetDataset[];
  readonly eventGroups?: readonly AssetEventGroup[];
  readonly streams?: readonly AssetStream[];
  readonly managementGroups?: readonly AssetManagementGroup[];
}

// status

/** One detail of an {@link AdrConfigError}. */
export interface AdrConfigErrorDetail {
  /** Multi-part code, e.g. `400.200.100.432`. */
  readonly code?: string;
  readonly correlationId?: string;
  readonly info?: string;
  readonly message?: string;
}

/**
 * An error reported in a status (the Thing Model's `ConfigError`; named so to keep it apart from
 * the SDK's {@link ConfigError} class).
 */
export interface AdrConfigError {
  /** Classification, e.g. `'400'`, `'500'`. */
  readonly code?: string;
  readonly message?: string;
  readonly details?: readonly AdrConfigErrorDetail[];
}

/** The configuration status of a device or asset. */
export interface ConfigStatus {
  /** The last error; absent when the configuration is healthy. */
  readonly error?: AdrConfigError;
  /** RFC 3339. Ignored when comparing statuses. */
  readonly lastTransitionTime?: string;
  /** The version of the definition this status is about. */
  readonly version?: number;
}

/** The status of one device inbound endpoint. */
export interface DeviceEndpointStatus {
  readonly error?: AdrConfigError;
}

/** The status of a device (`getDeviceStatus`, `updateDeviceStatus`). */
export interface DeviceStatus {
  readonly config?: ConfigStatus;
  readonly endpoints?: {
    readonly inbound?: Readonly<Record<string, DeviceEndpointStatus>>;
  };
}

/** A registered schema, as referenced from a status entry. */
export interface MessageSchemaReference {
  readonly schemaName: string;
  readonly schemaRegistryNamespace: string;
  readonly schemaVersion: string;
}

/** The status of one dataset, event or stream (one entry per name). */
export interface DatasetEventStreamStatus {
  readonly name: string;
  readonly error?: AdrConfigError;
  readonly messageSchemaReference?: MessageSchemaReference;
}

/** The status of the events of one event group. */
export interface EventGroupStatus {
  readonly name: string;
  readonly events?: readonly DatasetEventStreamStatus[];
}

/** The status of one management action. */
export interface ManagementActionStatus {
  readonly name: string;
  readonly error?: AdrConfigError;
  readonly requestMessageSchemaReference?: MessageSchemaReference;
  readonly responseMessageSchemaReference?: MessageSchemaReference;
}

/** The status of the actions of one management group. */
export interface ManagementGroupStatus {
  readonly name: string;
  readonly actions?: readonly ManagementActionStatus[];
}

/**
 * The status of an asset (`getAssetStatus`, `updateAssetStatus`). An update replaces the whole
 * status: entries left out are removed.
 */
export interface AssetStatus {
  readonly config?: ConfigStatus;
  readonly datasets?: readonly DatasetEventStreamStatus[];
  readonly streams?: readonly DatasetEventStreamStatus[];
  readonly eventGroups?: readonly EventGroupStatus[];
  readonly managementGroups?: readonly ManagementGroupStatus[];
}

/** Runtime health, sent as telemetry (not part of the status). */
export interface RuntimeHealth {
  /** The `version` of the device or asset definition the health is about. */
  readonly version: number;
  readonly status: HealthStatus;
  /** RFC 3339; updated even when the status did not change. */
  readonly lastUpdateTime: string;
  readonly message?: string;
  /** CamelCase reason of the last transition. */
  readonly reasonCode?: string;
}

/** An error the ADR service returns in a response body (`{"<action>Error": {...}}`). */
export interface AkriServiceError {
  readonly code: AkriServiceErrorCode;
  readonly message: string;
  /** RFC 3339. */
  readonly timestamp: string;
}
