/**
 * The ADR service emulator: the Azure Device Registry service a connector talks to, on any MQTT 5
 * broker. It answers every action of the ADR base service Thing Model and the device discovery
 * service's `createOrUpdateDiscoveredDevice` with `CommandExecutor`s, records runtime health
 * telemetry, and sends `deviceUpdateEvent` / `assetUpdateEvent` notifications when definitions
 * change.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import {
  CommandExecutor,
  TelemetryReceiver,
  TelemetrySender,
  parseAssetStatus,
  parseDeviceStatus,
  silentLogger,
  type Asset,
  type AssetStatus,
  type CommandRequest,
  type CommandResponseInit,
  type Device,
  type DeviceStatus,
  type DiscoveredAsset,
  type DiscoveredDevice,
  type HybridLogicalClock,
  type Logger,
  type MqttClient,
  type RuntimeHealth,
  type TelemetryMessage,
  type UserProperty,
} from '@aio-connector/core';

// The topics of the Thing Models (AdrBaseService.TM.json, DeviceDiscoveryService.TM.json).
const resourcesPattern =
  'akri/connector/resources/{ex:connectorClientId}/{ex:deviceName}/{ex:inboundEndpointName}';
const telemetryPattern =
  'akri/connector/resources/telemetry/{ex:connectorClientId}/{ex:deviceName}/{ex:inboundEndpointName}';
const discoveryPattern =
  'akri/discovery/resources/{ex:discoveryClientId}/{ex:inboundEndpointType}/createOrUpdateDiscoveredDevice';

/**
 * The actions the emulator answers: the ADR base service's and `createOrUpdateDiscoveredDevice`.
 *
 * @example
 * ```ts
 * import { adrServiceActions } from '@aio-connector/devkit';
 * adrServiceActions.includes('createOrUpdateDiscoveredDevice'); // true
 * ```
 */
export const adrServiceActions = Object.freeze([
  'getDevice',
  'getDeviceStatus',
  'getAsset',
  'getAssetStatus',
  'updateDeviceStatus',
  'updateAssetStatus',
  'setNotificationPreferenceForDeviceUpdates',
  'setNotificationPreferenceForAssetUpdates',
  'createOrUpdateDiscoveredAsset',
  'createOrUpdateDiscoveredDevice',
] as const);

/** An action the emulator answers. */
export type AdrServiceAction = (typeof adrServiceActions)[number];

/**
 * The runtime health events the emulator records.
 *
 * @example
 * ```ts
 * import { adrServiceHealthEvents } from '@aio-connector/devkit';
 * adrServiceHealthEvents.includes('datasetRuntimeHealthEvent'); // true
 * ```
 */
export const adrServiceHealthEvents = Object.freeze([
  'deviceEndpointRuntimeHealthEvent',
  'datasetRuntimeHealthEvent',
  'eventRuntimeHealthEvent',
  'streamRuntimeHealthEvent',
  'managementActionRuntimeHealthEvent',
] as const);

/** A runtime health event the emulator records. */
export type AdrServiceHealthEvent = (typeof adrServiceHealthEvents)[number];

/** The error codes of the ADR Thing Model (`AkriServiceError.code`). */
export type AdrServiceErrorCode =
  'BadRequest' | 'InternalError' | 'KubeError' | 'SerializationError' | 'Unauthorized';

/** A definition map as given to {@link startAdrService}: `loadResources()` maps work as they are. */
export type AdrDefinitions<T, K extends string> =
  ReadonlyMap<string, T | { readonly [P in K]: T }> | Readonly<Record<string, T>>;

/** Options of {@link startAdrService}. Every field is optional. */
export interface AdrServiceOptions {
  /** The devices, by name: `Device` specs, or the `devices` of `loadResources()`. Default: none. */
  readonly devices?: AdrDefinitions<Device, 'device'>;
  /** The assets, by name: `Asset` specs, or the `assets` of `loadResources()`. Default: none. */
  readonly assets?: AdrDefinitions<Asset, 'asset'>;
  /** Default: silent. */
  readonly logger?: Logger;
  /** The wall clock (ms since the epoch) for error timestamps and `lastTransitionTime`. Default: `Date.now`. */
  readonly now?: () => number;
  /** The clock of the protocol components. Default: the shared clock. */
  readonly hlc?: HybridLogicalClock;
  /**
   * Also send `deviceUpdateEvent` / `assetUpdateEvent` after a status update, as the real service
   * does (a status write changes the resource). Default: `false` (only definition changes notify).
   */
  readonly notifyOnStatusUpdate?: boolean;
}

/** One RPC the emulator received. */
export interface AdrServiceRequest {
  readonly action: AdrServiceAction;
  /** The connector (or discovery) client id from the topic. */
  readonly clientId: string;
  /** From the topic (ADR base service actions). */
  readonly deviceName: string | undefined;
  /** From the topic (ADR base service actions). */
  readonly endpointName: string | undefined;
  /** From the topic (`createOrUpdateDiscoveredDevice`). */
  readonly inboundEndpointType: string | undefined;
  readonly topic: string;
  /** The JSON request; `undefined` for an empty payload. */
  readonly payload: unknown;
  readonly contentType: string | undefined;
  readonly payloadFormatIndicator: 0 | 1 | undefined;
  /** Every user property of the request, in order. */
  readonly userProperties: readonly UserProperty[];
  /** The response body the emulator answered with. */
  readonly response: unknown;
  readonly receivedAt: number;
}

/** One component health inside a recorded health event. */
export interface RecordedHealthEntry {
  readonly assetName?: string;
  readonly datasetName?: string;
  readonly eventGroupName?: string;
  readonly eventName?: string;
  readonly streamName?: string;
  readonly managementGroupName?: string;
  readonly managementActionName?: string;
  readonly runtimeHealth: RuntimeHealth;
  /** `runtimeHealth.version`: the definition version the health is about. */
  readonly version: number;
}

/** One runtime health telemetry message the emulator received. */
export interface RecordedHealthEvent {
  readonly event: AdrServiceHealthEvent;
  readonly topic: string;
  readonly clientId: string;
  readonly deviceName: string;
  readonly endpointName: string;
  /** The asset of dataset, event, stream and management action events. */
  readonly assetName: string | undefined;
  /** The whole JSON payload as received. */
  readonly payload: unknown;
  /** One entry per component health in the payload (empty when the payload is malformed). */
  readonly entries: readonly RecordedHealthEntry[];
  readonly contentType: string | undefined;
  readonly messageExpiryInterval: number | undefined;
  readonly receivedAt: number;
}

/** One update notification the emulator sent. */
export interface SentNotification {
  readonly event: 'deviceUpdateEvent' | 'assetUpdateEvent';
  readonly clientId: string;
  readonly topic: string;
  readonly payload: unknown;
}

/** A discovered asset the emulator holds. */
export interface DiscoveredAssetRecord {
  readonly discoveredAssetName: string;
  readonly clientId: string;
  readonly deviceName: string;
  readonly endpointName: string;
  readonly discoveredAsset: DiscoveredAsset;
  readonly discoveryId: string;
  readonly version: number;
}

/** A discovered device the emulator holds. */
export interface DiscoveredDeviceRecord {
  readonly discoveredDeviceName: string;
  readonly clientId: string;
  readonly inboundEndpointType: string;
  readonly discoveredDevice: DiscoveredDevice;
  readonly discoveryId: string;
  readonly version: number;
}

/** A failure to inject with {@link AdrServiceEmulator.failNext}. */
export interface AdrServiceFailure {
  /** Default: `InternalError`. */
  readonly code?: AdrServiceErrorCode;
  /** Default: `injected failure`. */
  readonly message?: string;
}

type Json = Record<string, unknown>;

class ServiceFailure extends Error {
  readonly serviceCode: AdrServiceErrorCode;
  constructor(serviceCode: AdrServiceErrorCode, message: string) {
    super(message);
    this.serviceCode = serviceCode;
  }
}

interface StoredDevice {
  device: Device;
}

interface StoredAsset {
  asset: Asset;
}

interface AssetSubscription {
  readonly deviceName: string;
  readonly endpointName: string;
}

interface DiscoveredState<R> {
  record: R;
  readonly canonical: string;
}

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkName(name: string, value: unknown): string {
  if (typeof value !== 'string')
    throw new TypeError(`${name} must be a string, received ${typeof value}`);
  if (value === '') throw new RangeError(`${name} must not be empty`);
  return value;
}

/** A canonical JSON text, ignoring the fields the service manages. */
function canonical(value: unknown, ignore: ReadonlySet<string> = new Set()): string {
  const walk = (item: unknown): unknown => {
    if (Array.isArray(item)) return item.map(walk);
    if (isRecord(item)) {
      const out: Json = {};
      for (const key of Object.keys(item).sort())
        if (!ignore.has(key) && item[key] !== undefined) out[key] = walk(item[key]);
      return out;
    }
    return item;
  };
  return JSON.stringify(walk(value));
}

const managedFields = new Set(['version', 'lastTransitionTime']);

function definitionsOf<T extends object>(input: unknown, key: 'device' | 'asset'): Map<string, T> {
  const out = new Map<string, T>();
  if (input === undefined) return out;
  const entries: [string, unknown][] =
    input instanceof Map
      ? [...(input as Map<string, unknown>)]
      : isRecord(input)
        ? Object.entries(input)
        : [];
  if (!(input instanceof Map) && !isRecord(input))
    throw new TypeError(`${key}s must be a Map or an object of definitions by name`);
  for (const [name, value] of entries) {
    // a `loadResources()` entry carries the definition under `device` / `asset`
    const definition = isRecord(value) && isRecord(value[key]) ? value[key] : value;
    if (!isRecord(definition)) throw new TypeError(`${key} "${name}" must be an object`);
    out.set(name, structuredClone(definition) as T);
  }
  return out;
}

/** The device as returned for one inbound endpoint: other inbound endpoints left out. */
function deviceView(device: Device, endpointName: string): Device {
  const endpoint = device.endpoints?.inbound?.[endpointName];
  return structuredClone({
    ...device,
    endpoints: {
      ...device.endpoints,
      inbound: endpoint === undefined ? {} : { [endpointName]: endpoint },
    },
  });
}

/** The device status as returned for one inbound endpoint. */
function deviceStatusView(status: DeviceStatus, endpointName: string): DeviceStatus {
  const entry = status.endpoints?.inbound?.[endpointName];
  return structuredClone({
    ...(status.config === undefined ? {} : { config: status.config }),
    ...(entry === undefined ? {} : { endpoints: { inbound: { [endpointName]: entry } } }),
  });
}

/**
 * The ADR service emulator (see {@link startAdrService}). Holds devices, assets, their statuses,
 * notification preferences per connector client, discovered resources, and everything it received.
 *
 * @example
 * ```ts
 * import { loadResources, startAdrService } from '@aio-connector/devkit';
 * declare const session: import('@aio-connector/core').MqttClient;
 * const resources = await loadResources('./resources');
 * const adr = await startAdrService(session, resources);
 * await adr.setAsset('thermostat', { ...resources.assets.get('thermostat')!.asset, displayName: 'Hall' });
 * console.log(adr.assetStatus('thermostat'), adr.health().length);
 * await adr.close();
 * ```
 */
export class AdrServiceEmulator {
  readonly #client: MqttClient;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #notifyOnStatusUpdate: boolean;
  readonly #devices = new Map<string, StoredDevice>();
  readonly #assets = new Map<string, StoredAsset>();
  readonly #deviceStatuses = new Map<string, DeviceStatus>();
  readonly #assetStatuses = new Map<string, AssetStatus>();
  /** client id → `{device}\0{endpoint}` keys with device notifications on. */
  readonly #deviceSubscriptions = new Map<string, Set<string>>();
  /** client id → asset name → where its notifications go. */
  readonly #assetSubscriptions = new Map<string, Map<string, AssetSubscription>>();
  readonly #discoveredAssets = new Map<string, DiscoveredState<DiscoveredAssetRecord>>();
  readonly #discoveredDevices = new Map<string, DiscoveredState<DiscoveredDeviceRecord>>();
  readonly #failures = new Map<
    AdrServiceAction,
    { count: number; code: AdrServiceErrorCode; message: string }
  >();
  readonly #requests: AdrServiceRequest[] = [];
  readonly #health: RecordedHealthEvent[] = [];
  readonly #notifications: SentNotification[] = [];
  readonly #executors: CommandExecutor[] = [];
  readonly #receivers: TelemetryReceiver[] = [];
  readonly #deviceUpdates: TelemetrySender;
  readonly #assetUpdates: TelemetrySender;
  #closing: Promise<void> | undefined;

  /** @internal Use {@link startAdrService}. */
  constructor(client: MqttClient, options: AdrServiceOptions = {}) {
    if (typeof client !== 'object' || client === null)
      throw new TypeError('an MqttClient is required');
    if (typeof options !== 'object' || options === null)
      throw new TypeError('options must be an object');
    if (options.now !== undefined && typeof options.now !== 'function')
      throw new TypeError('now must be a function');
    if (
      options.notifyOnStatusUpdate !== undefined &&
      typeof options.notifyOnStatusUpdate !== 'boolean'
    )
      throw new TypeError('notifyOnStatusUpdate must be a boolean');
    this.#client = client;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'adr-service-emulator' });
    this.#now = options.now ?? Date.now;
    this.#notifyOnStatusUpdate = options.notifyOnStatusUpdate ?? false;
    for (const [name, device] of definitionsOf<Device>(options.devices, 'device'))
      this.#devices.set(name, { device: { ...device, version: device.version ?? 1 } });
    for (const [name, asset] of definitionsOf<Asset>(options.assets, 'asset')) {
      checkAssetShape(name, asset);
      this.#assets.set(name, { asset: { ...asset, version: asset.version ?? 1 } });
    }
    const hlc = options.hlc === undefined ? {} : { hlc: options.hlc };
    const common = { logger: this.#logger, ...hlc };
    for (const action of adrServiceActions) {
      const pattern =
        action === 'createOrUpdateDiscoveredDevice'
          ? discoveryPattern
          : `${resourcesPattern}/${action}`;
      this.#executors.push(
        new CommandExecutor<unknown, unknown>(
          client,
          action,
          pattern,
          (request) => this.#handle(action, request),
          { concurrency: 8, ...common },
        ),
      );
    }
    for (const event of adrServiceHealthEvents)
      this.#receivers.push(
        new TelemetryReceiver<unknown>(
          client,
          `${telemetryPattern}/${event}`,
          (message) => {
            this.#recordHealth(event, message);
          },
          common,
        ),
      );
    this.#deviceUpdates = new TelemetrySender<unknown>(
      client,
      `${telemetryPattern}/deviceUpdateEvent`,
      {
        qos: 1,
        ...common,
      },
    );
    this.#assetUpdates = new TelemetrySender<unknown>(
      client,
      `${telemetryPattern}/assetUpdateEvent`,
      {
        qos: 1,
        ...common,
      },
    );
  }

  /** @internal Subscribes every executor and receiver. */
  async start(): Promise<void> {
    try {
      await Promise.all([
        ...this.#executors.map((executor) => executor.start()),
        ...this.#receivers.map((receiver) => receiver.start()),
      ]);
    } catch (error) {
      await this.close();
      throw error;
    }
    this.#logger.debug({ clientId: this.#client.clientId }, 'ADR service emulator started');
  }

  /** Every RPC received so far, in arrival order. */
  get requests(): readonly AdrServiceRequest[] {
    return this.#requests;
  }

  /** Every update notification sent so far, in order. */
  get notifications(): readonly SentNotification[] {
    return this.#notifications;
  }

  /** The discovered assets and devices, by discovered name. */
  get discovered(): {
    readonly assets: ReadonlyMap<string, DiscoveredAssetRecord>;
    readonly devices: ReadonlyMap<string, DiscoveredDeviceRecord>;
  } {
    return {
      assets: new Map([...this.#discoveredAssets].map(([name, state]) => [name, state.record])),
      devices: new Map([...this.#discoveredDevices].map(([name, state]) => [name, state.record])),
    };
  }

  /** Every runtime health telemetry message received so far, in arrival order. */
  health(): readonly RecordedHealthEvent[] {
    return [...this.#health];
  }

  /** The stored device definition (with the `version` the emulator manages), or `undefined`. */
  device(name: string): Device | undefined {
    const stored = this.#devices.get(name);
    return stored === undefined ? undefined : structuredClone(stored.device);
  }

  /** The stored asset definition (with the `version` the emulator manages), or `undefined`. */
  asset(name: string): Asset | undefined {
    const stored = this.#assets.get(name);
    return stored === undefined ? undefined : structuredClone(stored.asset);
  }

  /**
   * Creates or replaces a device. When the definition changed (ignoring `version` and
   * `lastTransitionTime`), `version` is incremented, `lastTransitionTime` set, and every connector
   * client that turned device notifications on for one of its endpoints gets a `deviceUpdateEvent`.
   * Resolves once the notifications are published.
   */
  async setDevice(name: string, device: Device): Promise<void> {
    checkName('name', name);
    if (typeof device !== 'object' || device === null || Array.isArray(device))
      throw new TypeError('device must be an object');
    const existing = this.#devices.get(name);
    if (
      existing !== undefined &&
      canonical(existing.device, managedFields) === canonical(device, managedFields)
    )
      return;
    const version =
      existing === undefined
        ? (device.version ?? 1)
        : Math.max((existing.device.version ?? 0) + 1, device.version ?? 0);
    const stored: Device = {
      ...structuredClone(device),
      version,
      lastTransitionTime: new Date(this.#now()).toISOString(),
    };
    this.#devices.set(name, { device: stored });
    if (existing !== undefined) await this.#notifyDevice(name);
  }

  /**
   * Deletes a device, its status and the notification preferences for it. The service sends no
   * notification for a delete (connectors learn it from the mount). Returns whether it existed.
   */
  deleteDevice(name: string): boolean {
    checkName('name', name);
    const existed = this.#devices.delete(name);
    this.#deviceStatuses.delete(name);
    for (const keys of this.#deviceSubscriptions.values())
      for (const key of [...keys]) if (key.startsWith(`${name}\u0000`)) keys.delete(key);
    return existed;
  }

  /**
   * Creates or replaces an asset (it needs `deviceRef`). When the definition changed (ignoring
   * `version` and `lastTransitionTime`), `version` is incremented, `lastTransitionTime` set, and
   * every connector client that turned notifications on for the asset gets an `assetUpdateEvent`.
   * Resolves once the notifications are published.
   */
  async setAsset(name: string, asset: Asset): Promise<void> {
    checkName('name', name);
    checkAssetShape(name, asset);
    const existing = this.#assets.get(name);
    if (
      existing !== undefined &&
      canonical(existing.asset, managedFields) === canonical(asset, managedFields)
    )
      return;
    const version =
      existing === undefined
        ? (asset.version ?? 1)
        : Math.max((existing.asset.version ?? 0) + 1, asset.version ?? 0);
    const stored: Asset = {
      ...structuredClone(asset),
      version,
      lastTransitionTime: new Date(this.#now()).toISOString(),
    };
    this.#assets.set(name, { asset: stored });
    if (existing !== undefined) await this.#notifyAsset(name);
  }

  /** Deletes an asset, its status and the notification preferences for it. Returns whether it existed. */
  deleteAsset(name: string): boolean {
    checkName('name', name);
    const existed = this.#assets.delete(name);
    this.#assetStatuses.delete(name);
    for (const assets of this.#assetSubscriptions.values()) assets.delete(name);
    return existed;
  }

  /**
   * The status connectors reported for a device: with `endpointName`, as `getDeviceStatus`
   * returns it for that endpoint; without, the whole status.
   */
  deviceStatus(deviceName: string, endpointName?: string): DeviceStatus | undefined {
    const status = this.#deviceStatuses.get(deviceName);
    if (status === undefined) return undefined;
    return endpointName === undefined
      ? structuredClone(status)
      : deviceStatusView(status, endpointName);
  }

  /** The status connectors reported for an asset. */
  assetStatus(assetName: string): AssetStatus | undefined {
    const status = this.#assetStatuses.get(assetName);
    return status === undefined ? undefined : structuredClone(status);
  }

  /**
   * Answers the next `count` requests of `action` with an error body (`{"<action>Error": …}`) —
   * for testing retries and error handling. `InternalError` and `KubeError` are the transient
   * codes a client retries.
   */
  failNext(action: AdrServiceAction, count = 1, failure: AdrServiceFailure = {}): void {
    if (!(adrServiceActions as readonly string[]).includes(action))
      throw new TypeError(`action must be one of ${adrServiceActions.join(', ')}`);
    if (!Number.isInteger(count) || count < 0)
      throw new RangeError(`count must be a non-negative integer, received ${count}`);
    this.#failures.set(action, {
      count,
      code: failure.code ?? 'InternalError',
      message: failure.message ?? 'injected failure',
    });
  }

  /** Unsubscribes everything. Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const results = await Promise.allSettled([
        ...this.#executors.map((executor) => executor.stop()),
        ...this.#receivers.map((receiver) => receiver.stop()),
      ]);
      for (const result of results)
        if (result.status === 'rejected')
          this.#logger.debug({ err: result.reason as unknown }, 'unsubscribe failed while closing');
    })();
    return this.#closing;
  }

  /** Same as {@link AdrServiceEmulator.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---------------------------------------------------------------------------------------------

  async #handle(
    action: AdrServiceAction,
    request: CommandRequest<unknown>,
  ): Promise<CommandResponseInit<unknown>> {
    const tokens = request.topicTokens;
    const clientId =
      (action === 'createOrUpdateDiscoveredDevice'
        ? tokens['ex:discoveryClientId']
        : tokens['ex:connectorClientId']) ?? '';
    const deviceName = tokens['ex:deviceName'];
    const endpointName = tokens['ex:inboundEndpointName'];
    let response: Json;
    const failure = this.#failures.get(action);
    if (failure !== undefined && failure.count > 0) {
      failure.count--;
      response = this.#errorBody(action, failure.code, failure.message);
    } else {
      try {
        response = await this.#execute(
          action,
          clientId,
          deviceName ?? '',
          endpointName ?? '',
          tokens,
          request.payload,
        );
      } catch (error) {
        if (!(error instanceof ServiceFailure)) throw error;
        response = this.#errorBody(action, error.serviceCode, error.message);
      }
    }
    this.#requests.push(
      Object.freeze({
        action,
        clientId,
        deviceName,
        endpointName,
        inboundEndpointType: tokens['ex:inboundEndpointType'],
        topic: request.topic,
        payload: request.payload,
        contentType: request.contentType,
        payloadFormatIndicator: request.payloadFormatIndicator,
        userProperties: request.userProperties,
        response,
        receivedAt: this.#now(),
      }),
    );
    return { payload: response };
  }

  #errorBody(action: AdrServiceAction, code: AdrServiceErrorCode, message: string): Json {
    return {
      [`${action}Error`]: { code, message, timestamp: new Date(this.#now()).toISOString() },
    };
  }

  #execute(
    action: AdrServiceAction,
    clientId: string,
    deviceName: string,
    endpointName: string,
    tokens: Readonly<Record<string, string>>,
    payload: unknown,
  ): Json | Promise<Json> {
    switch (action) {
      case 'getDevice': {
        const device = this.#requireEndpoint(deviceName, endpointName);
        return { device: deviceView(device, endpointName) };
      }
      case 'getDeviceStatus': {
        this.#requireEndpoint(deviceName, endpointName);
        return {
          deviceStatus: deviceStatusView(this.#deviceStatuses.get(deviceName) ?? {}, endpointName),
        };
      }
      case 'getAsset': {
        const assetName = requireString(requestObject(payload), 'assetName');
        return { asset: structuredClone(this.#requireAsset(assetName).asset) };
      }
      case 'getAssetStatus': {
        const assetName = requireString(requestObject(payload), 'assetName');
        this.#requireAsset(assetName);
        return { assetStatus: structuredClone(this.#assetStatuses.get(assetName) ?? {}) };
      }
      case 'updateDeviceStatus':
        return this.#updateDeviceStatus(deviceName, endpointName, payload);
      case 'updateAssetStatus':
        return this.#updateAssetStatus(payload);
      case 'setNotificationPreferenceForDeviceUpdates': {
        const preference = requestObject(payload)['notificationPreferenceRequest'];
        if (preference !== 'On' && preference !== 'Off')
          throw new ServiceFailure(
            'BadRequest',
            'notificationPreferenceRequest must be "On" or "Off"',
          );
        this.#requireEndpoint(deviceName, endpointName);
        const keys = this.#deviceSubscriptions.get(clientId) ?? new Set<string>();
        const key = `${deviceName}\u0000${endpointName}`;
        if (preference === 'On') keys.add(key);
        else keys.delete(key);
        this.#deviceSubscriptions.set(clientId, keys);
        return { responsePayload: 'Accepted' };
      }
      case 'setNotificationPreferenceForAssetUpdates': {
        const inner = requestObject(payload)['notificationPreferenceRequest'];
        if (!isRecord(inner))
          throw new ServiceFailure('BadRequest', 'notificationPreferenceRequest must be an object');
        const assetName = requireString(inner, 'assetName');
        const preference = inner['notificationPreference'];
        if (preference !== 'On' && preference !== 'Off')
          throw new ServiceFailure('BadRequest', 'notificationPreference must be "On" or "Off"');
        this.#requireAsset(assetName);
        const assets =
          this.#assetSubscriptions.get(clientId) ?? new Map<string, AssetSubscription>();
        if (preference === 'On') assets.set(assetName, { deviceName, endpointName });
        else assets.delete(assetName);
        this.#assetSubscriptions.set(clientId, assets);
        return { responsePayload: 'Accepted' };
      }
      case 'createOrUpdateDiscoveredAsset':
        return this.#discoverAsset(clientId, deviceName, endpointName, payload);
      case 'createOrUpdateDiscoveredDevice':
        return this.#discoverDevice(clientId, tokens['ex:inboundEndpointType'] ?? '', payload);
    }
  }

  #requireDevice(deviceName: string): Device {
    const stored = this.#devices.get(deviceName);
    if (stored === undefined)
      throw new ServiceFailure(
        'KubeError',
        `devices.namespaces.deviceregistry.microsoft.com "${deviceName}" not found`,
      );
    return stored.device;
  }

  #requireEndpoint(deviceName: string, endpointName: string): Device {
    const device = this.#requireDevice(deviceName);
    if (device.endpoints?.inbound?.[endpointName] === undefined)
      throw new ServiceFailure(
        'KubeError',
        `device "${deviceName}" has no inbound endpoint "${endpointName}"`,
      );
    return device;
  }

  #requireAsset(assetName: string): StoredAsset {
    const stored = this.#assets.get(assetName);
    if (stored === undefined)
      throw new ServiceFailure(
        'KubeError',
        `assets.namespaces.deviceregistry.microsoft.com "${assetName}" not found`,
      );
    return stored;
  }

  async #updateDeviceStatus(
    deviceName: string,
    endpointName: string,
    payload: unknown,
  ): Promise<Json> {
    const update = requestObject(payload)['deviceStatusUpdate'];
    if (!isRecord(update))
      throw new ServiceFailure('BadRequest', 'deviceStatusUpdate must be an object');
    let status: DeviceStatus;
    try {
      status = parseDeviceStatus(update);
    } catch (error) {
      throw new ServiceFailure(
        'SerializationError',
        error instanceof Error ? error.message : String(error),
      );
    }
    this.#requireEndpoint(deviceName, endpointName);
    const previous = this.#deviceStatuses.get(deviceName) ?? {};
    // `config` is replaced; the inbound endpoint entries sent are added or replaced one by one.
    const inbound = { ...previous.endpoints?.inbound, ...status.endpoints?.inbound };
    const next: DeviceStatus = {
      ...(status.config === undefined ? {} : { config: status.config }),
      ...(Object.keys(inbound).length === 0 ? {} : { endpoints: { inbound } }),
    };
    this.#deviceStatuses.set(deviceName, next);
    if (this.#notifyOnStatusUpdate) await this.#notifyDevice(deviceName);
    return { updatedDeviceStatus: deviceStatusView(next, endpointName) };
  }

  async #updateAssetStatus(payload: unknown): Promise<Json> {
    const update = requestObject(payload)['assetStatusUpdate'];
    if (!isRecord(update))
      throw new ServiceFailure('BadRequest', 'assetStatusUpdate must be an object');
    const assetName = requireString(update, 'assetName');
    if (!isRecord(update['assetStatus']))
      throw new ServiceFailure('BadRequest', 'assetStatusUpdate.assetStatus must be an object');
    let status: AssetStatus;
    try {
      status = parseAssetStatus(update['assetStatus']);
    } catch (error) {
      throw new ServiceFailure(
        'SerializationError',
        error instanceof Error ? error.message : String(error),
      );
    }
    this.#requireAsset(assetName);
    this.#assetStatuses.set(assetName, structuredClone(status));
    if (this.#notifyOnStatusUpdate) await this.#notifyAsset(assetName);
    return { updatedAssetStatus: structuredClone(status) };
  }

  #discoverAsset(
    clientId: string,
    deviceName: string,
    endpointName: string,
    payload: unknown,
  ): Json {
    const request = requestObject(payload)['discoveredAssetRequest'];
    if (!isRecord(request))
      throw new ServiceFailure('BadRequest', 'discoveredAssetRequest must be an object');
    const discoveredAssetName = requireString(request, 'discoveredAssetName');
    const discoveredAsset = request['discoveredAsset'];
    if (!isRecord(discoveredAsset) || !isRecord(discoveredAsset['deviceRef']))
      throw new ServiceFailure('BadRequest', 'discoveredAsset must be an object with a deviceRef');
    this.#requireEndpoint(deviceName, endpointName);
    const text = canonical(discoveredAsset);
    const existing = this.#discoveredAssets.get(discoveredAssetName);
    const version =
      existing === undefined
        ? 1
        : existing.canonical === text
          ? existing.record.version
          : existing.record.version + 1;
    const record: DiscoveredAssetRecord = {
      discoveredAssetName,
      clientId,
      deviceName,
      endpointName,
      discoveredAsset: structuredClone(discoveredAsset) as unknown as DiscoveredAsset,
      discoveryId: existing?.record.discoveryId ?? randomUUID(),
      version,
    };
    this.#discoveredAssets.set(discoveredAssetName, { record, canonical: text });
    return { discoveredAssetResponse: { discoveryId: record.discoveryId, version } };
  }

  #discoverDevice(clientId: string, inboundEndpointType: string, payload: unknown): Json {
    const request = requestObject(payload)['discoveredDeviceRequest'];
    if (!isRecord(request))
      throw new ServiceFailure('BadRequest', 'discoveredDeviceRequest must be an object');
    const discoveredDeviceName = requireString(request, 'discoveredDeviceName');
    const discoveredDevice = request['discoveredDevice'];
    if (!isRecord(discoveredDevice))
      throw new ServiceFailure('BadRequest', 'discoveredDevice must be an object');
    const text = canonical(discoveredDevice);
    const existing = this.#discoveredDevices.get(discoveredDeviceName);
    const version =
      existing === undefined
        ? 1
        : existing.canonical === text
          ? existing.record.version
          : existing.record.version + 1;
    const record: DiscoveredDeviceRecord = {
      discoveredDeviceName,
      clientId,
      inboundEndpointType,
      discoveredDevice: structuredClone(discoveredDevice),
      discoveryId: existing?.record.discoveryId ?? randomUUID(),
      version,
    };
    this.#discoveredDevices.set(discoveredDeviceName, { record, canonical: text });
    return { discoveredDeviceResponse: { discoveryId: record.discoveryId, version } };
  }

  async #notifyDevice(deviceName: string): Promise<void> {
    const stored = this.#devices.get(deviceName);
    if (stored === undefined) return;
    const sends: Promise<void>[] = [];
    for (const [clientId, keys] of this.#deviceSubscriptions)
      for (const key of keys) {
        const [name, endpointName] = key.split('\u0000') as [string, string];
        if (name !== deviceName) continue;
        const payload = {
          deviceUpdateEvent: { deviceName, device: deviceView(stored.device, endpointName) },
        };
        sends.push(
          this.#send(
            'deviceUpdateEvent',
            this.#deviceUpdates,
            clientId,
            deviceName,
            endpointName,
            payload,
          ),
        );
      }
    await Promise.all(sends);
  }

  async #notifyAsset(assetName: string): Promise<void> {
    const stored = this.#assets.get(assetName);
    if (stored === undefined) return;
    const sends: Promise<void>[] = [];
    for (const [clientId, assets] of this.#assetSubscriptions) {
      const target = assets.get(assetName);
      if (target === undefined) continue;
      const payload = { assetUpdateEvent: { assetName, asset: structuredClone(stored.asset) } };
      sends.push(
        this.#send(
          'assetUpdateEvent',
          this.#assetUpdates,
          clientId,
          target.deviceName,
          target.endpointName,
          payload,
        ),
      );
    }
    await Promise.all(sends);
  }

  async #send(
    event: SentNotification['event'],
    sender: TelemetrySender,
    clientId: string,
    deviceName: string,
    endpointName: string,
    payload: Json,
  ): Promise<void> {
    const topicTokens = {
      'ex:connectorClientId': clientId,
      'ex:deviceName': deviceName,
      'ex:inboundEndpointName': endpointName,
    };
    const topic = sender.topic.resolve(topicTokens);
    this.#notifications.push(Object.freeze({ event, clientId, topic, payload }));
    try {
      await sender.send(payload, { topicTokens });
    } catch (error) {
      this.#logger.warn({ topic, err: error }, `${event} could not be sent`);
    }
  }

  #recordHealth(event: AdrServiceHealthEvent, message: TelemetryMessage<unknown>): void {
    const tokens = message.topicTokens;
    const body = isRecord(message.payload) ? message.payload[event] : undefined;
    const assetName =
      isRecord(body) && typeof body['assetName'] === 'string' ? body['assetName'] : undefined;
    this.#health.push(
      Object.freeze({
        event,
        topic: message.topic,
        clientId: tokens['ex:connectorClientId'] ?? '',
        deviceName: tokens['ex:deviceName'] ?? '',
        endpointName: tokens['ex:inboundEndpointName'] ?? '',
        assetName,
        payload: message.payload,
        entries: healthEntries(event, body, assetName),
        contentType: message.contentType,
        messageExpiryInterval: message.messageExpiryInterval,
        receivedAt: this.#now(),
      }),
    );
  }
}

const healthLists: Readonly<
  Record<
    Exclude<AdrServiceHealthEvent, 'deviceEndpointRuntimeHealthEvent'>,
    readonly [string, readonly string[]]
  >
> = {
  datasetRuntimeHealthEvent: ['datasets', ['datasetName']],
  eventRuntimeHealthEvent: ['events', ['eventGroupName', 'eventName']],
  streamRuntimeHealthEvent: ['streams', ['streamName']],
  managementActionRuntimeHealthEvent: [
    'managementActions',
    ['managementGroupName', 'managementActionName'],
  ],
};

function toEntry(
  element: unknown,
  names: readonly string[],
  assetName: string | undefined,
): RecordedHealthEntry | undefined {
  if (!isRecord(element) || !isRecord(element['runtimeHealth'])) return undefined;
  const runtimeHealth = element['runtimeHealth'] as unknown as RuntimeHealth;
  const entry: Record<string, unknown> = {
    ...(assetName === undefined ? {} : { assetName }),
    runtimeHealth,
    version: typeof runtimeHealth.version === 'number' ? runtimeHealth.version : Number.NaN,
  };
  for (const name of names) if (typeof element[name] === 'string') entry[name] = element[name];
  return entry as unknown as RecordedHealthEntry;
}

function healthEntries(
  event: AdrServiceHealthEvent,
  body: unknown,
  assetName: string | undefined,
): RecordedHealthEntry[] {
  if (!isRecord(body)) return [];
  if (event === 'deviceEndpointRuntimeHealthEvent') {
    const entry = toEntry(body, [], undefined);
    return entry === undefined ? [] : [entry];
  }
  const [listName, names] = healthLists[event];
  const list = body[listName];
  if (!Array.isArray(list)) return [];
  return list.flatMap((element: unknown) => {
    const entry = toEntry(element, names, assetName);
    return entry === undefined ? [] : [entry];
  });
}

function requestObject(payload: unknown): Json {
  if (!isRecord(payload))
    throw new ServiceFailure('BadRequest', 'the request body must be a JSON object');
  return payload;
}

function requireString(body: Json, name: string): string {
  const value = body[name];
  if (typeof value !== 'string' || value === '')
    throw new ServiceFailure('BadRequest', `${name} must be a non-empty string`);
  return value;
}

function checkAssetShape(name: string, asset: unknown): asserts asset is Asset {
  if (!isRecord(asset)) throw new TypeError(`asset "${name}" must be an object`);
  const ref = asset['deviceRef'];
  if (
    !isRecord(ref) ||
    typeof ref['deviceName'] !== 'string' ||
    typeof ref['endpointName'] !== 'string'
  )
    throw new TypeError(`asset "${name}" needs deviceRef.deviceName and deviceRef.endpointName`);
}

/**
 * Starts the ADR service emulator on an MQTT client (for example an `MqttSession` connected to the
 * sandbox broker) and resolves once every subscription is in place. It speaks the wire protocol of
 * the real service (CONTRACT §2.9):
 *
 * - every action of `AdrBaseService.TM.json` on
 *   `akri/connector/resources/{connectorClientId}/{deviceName}/{inboundEndpointName}/{action}` (any
 *   client id: subscribed with `+`), and `createOrUpdateDiscoveredDevice` on
 *   `akri/discovery/resources/{discoveryClientId}/{inboundEndpointType}/createOrUpdateDiscoveredDevice`;
 * - answers `__stat` 200 with the result wrapped as the Thing Model says (`{"device": …}`,
 *   `{"updatedAssetStatus": …}`, `{"responsePayload":"Accepted"}`), or an error body
 *   `{"<action>Error":{code,message,timestamp}}`: `KubeError` for an unknown device, endpoint or
 *   asset (as the real service), `BadRequest` for a request body without the fields it needs,
 *   `SerializationError` for a status that does not match the Thing Model. A payload that is not
 *   JSON gets `__stat` 400 from the protocol layer, a content type that is not JSON 415;
 * - `getDevice` / `getDeviceStatus` return only the inbound endpoint of the topic;
 *   `updateAssetStatus` replaces the whole status; `updateDeviceStatus` replaces `config` and
 *   merges the inbound endpoint entries per endpoint;
 * - notification preferences are kept per connector client and device endpoint or asset;
 *   definition changes through {@link AdrServiceEmulator.setDevice} / `setAsset` bump `version` and
 *   send `deviceUpdateEvent` / `assetUpdateEvent` to the clients that turned them `On`;
 * - runtime health telemetry (`*RuntimeHealthEvent`) is recorded, see
 *   {@link AdrServiceEmulator.health}.
 *
 * @example
 * ```ts
 * import { MqttSession, AdrClient } from '@aio-connector/core';
 * import { startAdrService } from '@aio-connector/devkit';
 * declare const serviceSession: MqttSession;
 * declare const connectorSession: MqttSession;
 * const service = await startAdrService(serviceSession, {
 *   devices: { oven: { endpoints: { inbound: { rest: { address: 'http://127.0.0.1:8080', endpointType: 'rest' } } } } },
 *   assets: { 'oven-asset': { deviceRef: { deviceName: 'oven', endpointName: 'rest' } } },
 * });
 * const adr = new AdrClient(connectorSession);
 * console.log((await adr.getDevice('oven', 'rest')).version, service.requests.length);
 * await adr.close();
 * await service.close();
 * ```
 */
export async function startAdrService(
  client: MqttClient,
  options: AdrServiceOptions = {},
): Promise<AdrServiceEmulator> {
  const service = new AdrServiceEmulator(client, options);
  await service.start();
  return service;
}
