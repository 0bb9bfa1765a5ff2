/**
 * The context objects handed to connector code: the device endpoint, the asset, a dataset or an
 * event, with their parsed configuration, credentials, a child logger and the forwarding and
 * status helpers.
 *
 * @module
 */
import type { Logger } from '../logger.ts';
import type { UserProperty } from '../mqtt/mqtt-client.ts';
import type { EndpointCredentials } from '../runtime/endpoint-credentials.ts';
import type { StateStoreClient } from '../services/state-store/state-store-client.ts';
import type { Telemetry } from '../telemetry.ts';
import type {
  Asset,
  AssetDataset,
  AssetEvent,
  AssetEventGroup,
  AssetStream,
  Device,
  InboundEndpoint,
} from '../services/adr/models.ts';
import type { SchemaReference } from './aio-cloud-event.ts';

/** Options of the forward helpers. Every field is optional. */
export interface ForwardOptions {
  /**
   * MQTT Content Type of the message. Default: `application/octet-stream` (what the .NET SDK
   * always sends).
   */
  readonly contentType?: string;
  /** Extra MQTT user properties (names must not start with `__`). */
  readonly userProperties?: Readonly<Record<string, string>> | readonly UserProperty[];
  /** Replaces the device part of the CloudEvent `source` (a protocol-specific id of the data). */
  readonly protocolSpecificIdentifier?: string;
  /**
   * Wait until every destination acknowledged (QoS 1) before resolving. Default: `false` — resolve
   * once queued; delivery failures are reported on the dataset's or event's status.
   */
  readonly waitForAck?: boolean;
  readonly signal?: AbortSignal;
}

/**
 * What can be forwarded: bytes as they are, a string as UTF-8, anything else as JSON.
 */
export type ForwardData = Uint8Array | string | object | number | boolean | null;

/** Runtime health of a dataset or event, as reported to ADR. */
export interface HealthReport {
  readonly status: 'Available' | 'Unavailable';
  readonly message?: string;
  readonly reasonCode?: string;
}

/** The device inbound endpoint an asset belongs to. */
export interface EndpointContext {
  readonly deviceName: string;
  readonly endpointName: string;
  /** The device definition (refreshed when ADR sends a device update). */
  readonly device: Device;
  /** The inbound endpoint the connector serves (`device.endpoints.inbound[endpointName]`). */
  readonly endpoint: InboundEndpoint;
  /** The endpoint's `additionalConfiguration`, parsed (lenient JSON); `{}` when absent. */
  readonly configuration: Readonly<Record<string, unknown>>;
  /** Reads the endpoint's credentials and trust list from the mounts now (picks up rotation). */
  readCredentials(options?: { readonly signal?: AbortSignal }): Promise<EndpointCredentials>;
  readonly logger: Logger;
}

/** An asset while it is available to the connector. */
export interface AssetContext extends EndpointContext {
  readonly assetName: string;
  readonly asset: Asset;
  /** The datasets that passed validation, in definition order. */
  readonly datasets: readonly DatasetContext[];
  /** The events that passed validation, in definition order. */
  readonly events: readonly EventContext[];
  /** The streams that passed validation, in definition order. */
  readonly streams: readonly StreamContext[];
  /** The dataset named `name`. Throws a `RangeError` for an unknown name. */
  dataset(name: string): DatasetContext;
  /**
   * The connector's state store client (the AIO broker state store): keep state that must survive
   * a restart or a fail-over to another replica, such as a resume position.
   */
  readonly stateStore: StateStoreClient;
  /** The connector's OpenTelemetry instruments (no-ops when OpenTelemetry is not installed). */
  readonly telemetry: Telemetry;
  /** The event `eventName` of group `eventGroupName`. Throws a `RangeError` for an unknown one. */
  event(eventGroupName: string, eventName: string): EventContext;
  /** The stream named `name`. Throws a `RangeError` for an unknown name. */
  stream(name: string): StreamContext;
  /** Forwards data sampled for a dataset to its destinations. */
  forwardDataset(datasetName: string, data: ForwardData, options?: ForwardOptions): Promise<void>;
  /** Forwards data received for an event to its destinations. */
  forwardEvent(
    eventGroupName: string,
    eventName: string,
    data: ForwardData,
    options?: ForwardOptions,
  ): Promise<void>;
  /** Forwards data of a stream to its destinations (or the asset's default stream destinations). */
  forwardStream(streamName: string, data: ForwardData, options?: ForwardOptions): Promise<void>;
}

/** The part shared by dataset and event contexts. */
interface DataContext {
  readonly name: string;
  readonly asset: AssetContext;
  /** The effective configuration: the asset defaults, overridden by the element's own. */
  readonly configuration: Readonly<Record<string, unknown>>;
  /** The registered message schema, once there is one. */
  readonly schema: SchemaReference | undefined;
  readonly logger: Logger;
  /**
   * Forwards data to this element's destinations. Rejects with `ERR_AIO_CLOSED` once the element
   * is no longer served (its asset was updated or deleted, leadership was lost, the connector is
   * stopping): data that arrives after that is not forwarded.
   */
  forward(data: ForwardData, options?: ForwardOptions): Promise<void>;
  /**
   * Reports a problem on this element's ADR status (and health `Unavailable`), or clears it with
   * `undefined` (health `Available`).
   */
  reportError(error: Error | undefined): Promise<void>;
  /** Reports runtime health (deduplicated and re-sent periodically). */
  reportHealth(health: HealthReport): void;
}

/** A dataset of an available asset. */
export interface DatasetContext extends DataContext {
  readonly dataset: AssetDataset;
  /** Shortcut for `asset.endpoint`. */
  readonly endpoint: InboundEndpoint;
  /** The sampling interval, in ms (see `PollingTelemetryConnector`). */
  readonly samplingIntervalInMs: number;
}

/** An event of an available asset. */
export interface EventContext extends DataContext {
  readonly eventGroupName: string;
  readonly eventGroup: AssetEventGroup;
  readonly event: AssetEvent;
  /** Shortcut for `asset.endpoint`. */
  readonly endpoint: InboundEndpoint;
}

/** A stream of an available asset (continuous data such as a video or waveform feed). */
export interface StreamContext extends DataContext {
  readonly stream: AssetStream;
  /** Shortcut for `asset.endpoint`. */
  readonly endpoint: InboundEndpoint;
}
