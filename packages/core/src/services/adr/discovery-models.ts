/**
 * The wire shapes of discovery: the assets a connector reports with
 * `createOrUpdateDiscoveredAsset` (ADR base service) and the devices it reports with
 * `createOrUpdateDiscoveredDevice` (device discovery service), as their Thing Models define them.
 * Field names are the camelCase names of the wire; absent fields are omitted. `lastUpdatedOn` is
 * the time (RFC 3339) the element was discovered.
 *
 * @module
 */
import type {
  AssetDeviceRef,
  DatasetDestination,
  EventStreamDestination,
  ManagementActionType,
  OutboundEndpoint,
} from './models.ts';

/** A data point of a discovered dataset. */
export interface DiscoveredAssetDataPoint {
  readonly name: string;
  readonly dataSource?: string;
  readonly typeRef?: string;
  /** Stringified JSON. */
  readonly dataPointConfiguration?: string;
  /** RFC 3339. */
  readonly lastUpdatedOn?: string;
}

/** A discovered dataset. */
export interface DiscoveredAssetDataset {
  readonly name: string;
  readonly dataSource?: string;
  readonly typeRef?: string;
  /** Stringified JSON. */
  readonly datasetConfiguration?: string;
  readonly dataPoints?: readonly DiscoveredAssetDataPoint[];
  readonly destinations?: readonly DatasetDestination[];
  /** RFC 3339. */
  readonly lastUpdatedOn?: string;
}

/** A discovered event. */
export interface DiscoveredAssetEvent {
  readonly name: string;
  readonly dataSource?: string;
  readonly typeRef?: string;
  /** Stringified JSON. */
  readonly eventConfiguration?: string;
  readonly destinations?: readonly EventStreamDestination[];
  /** RFC 3339. */
  readonly lastUpdatedOn?: string;
}

/** A discovered event group. */
export interface DiscoveredAssetEventGroup {
  readonly name: string;
  readonly dataSource?: string;
  readonly typeRef?: string;
  /** Stringified JSON. */
  readonly eventGroupConfiguration?: string;
  readonly defaultDestinations?: readonly EventStreamDestination[];
  readonly events?: readonly DiscoveredAssetEvent[];
}

/** A discovered stream. */
export interface DiscoveredAssetStream {
  readonly name: string;
  readonly typeRef?: string;
  /** Stringified JSON. */
  readonly streamConfiguration?: string;
  readonly destinations?: readonly EventStreamDestination[];
  /** RFC 3339. */
  readonly lastUpdatedOn?: string;
}

/** A discovered management action. */
export interface DiscoveredAssetManagementAction {
  readonly name: string;
  readonly actionType: ManagementActionType;
  readonly targetUri: string;
  readonly topic?: string;
  readonly timeoutInSeconds?: number;
  readonly typeRef?: string;
  /** Stringified JSON. */
  readonly actionConfiguration?: string;
  /** RFC 3339. */
  readonly lastUpdatedOn?: string;
}

/** A discovered management group. */
export interface DiscoveredAssetManagementGroup {
  readonly name: string;
  readonly dataSource?: string;
  readonly typeRef?: string;
  readonly defaultTopic?: string;
  readonly defaultTimeoutInSeconds?: number;
  /** Stringified JSON. */
  readonly managementGroupConfiguration?: string;
  readonly actions?: readonly DiscoveredAssetManagementAction[];
  /** RFC 3339. */
  readonly lastUpdatedOn?: string;
}

/** An asset found by a connector, proposed to ADR (`createOrUpdateDiscoveredAsset`). */
export interface DiscoveredAsset {
  readonly deviceRef: AssetDeviceRef;
  readonly assetTypeRefs?: readonly string[];
  readonly attributes?: Readonly<Record<string, string>>;
  readonly description?: string;
  readonly displayName?: string;
  readonly documentationUri?: string;
  readonly externalAssetId?: string;
  readonly hardwareRevision?: string;
  readonly manufacturer?: string;
  readonly manufacturerUri?: string;
  readonly model?: string;
  readonly productCode?: string;
  readonly serialNumber?: string;
  readonly softwareRevision?: string;
  /** Stringified JSON. */
  readonly defaultDatasetsConfiguration?: string;
  /** Stringified JSON. */
  readonly defaultEventsConfiguration?: string;
  /** Stringified JSON. */
  readonly defaultStreamsConfiguration?: string;
  /** Stringified JSON. */
  readonly defaultManagementGroupsConfiguration?: string;
  readonly defaultDatasetsDestinations?: readonly DatasetDestination[];
  readonly defaultEventsDestinations?: readonly EventStreamDestination[];
  readonly defaultStreamsDestinations?: readonly EventStreamDestination[];
  readonly datasets?: readonly DiscoveredAssetDataset[];
  readonly eventGroups?: readonly DiscoveredAssetEventGroup[];
  readonly streams?: readonly DiscoveredAssetStream[];
  readonly managementGroups?: readonly DiscoveredAssetManagementGroup[];
}

/** An inbound endpoint of a discovered device. */
export interface DiscoveredDeviceInboundEndpoint {
  readonly address: string;
  readonly endpointType: string;
  readonly version?: string;
  /** Stringified JSON. */
  readonly additionalConfiguration?: string;
  /** The authentication methods the endpoint supports (`Anonymous`, `Certificate`, ...). */
  readonly supportedAuthenticationMethods?: readonly string[];
  /** RFC 3339. */
  readonly lastUpdatedOn?: string;
}

/** The endpoints of a discovered device. */
export interface DiscoveredDeviceEndpoints {
  readonly inbound?: Readonly<Record<string, DiscoveredDeviceInboundEndpoint>>;
  readonly outbound?: { readonly assigned: Readonly<Record<string, OutboundEndpoint>> };
}

/** A device found by a connector, proposed to ADR (`createOrUpdateDiscoveredDevice`). */
export interface DiscoveredDevice {
  readonly attributes?: Readonly<Record<string, string>>;
  readonly endpoints?: DiscoveredDeviceEndpoints;
  readonly externalDeviceId?: string;
  readonly manufacturer?: string;
  readonly model?: string;
  readonly operatingSystem?: string;
  readonly operatingSystemVersion?: string;
}

/** What ADR answers to a discovered asset or device: its discovery id and resource version. */
export interface DiscoveryResult {
  readonly discoveryId: string;
  readonly version: number;
}
