/**
 * `AdrClient`: the connector side of the Azure Device Registry (ADR) service — the RPC catalogue of
 * the ADR base service and the device discovery service, update notifications, read-modify-write
 * status updates and runtime health.
 *
 * @module
 */
import { AioError, ProtocolError, abortError } from '../../errors.ts';
import { silentLogger, type Logger } from '../../logger.ts';
import type { MqttClient } from '../../mqtt/mqtt-client.ts';
import { CommandInvoker } from '../../protocol/command-invoker.ts';
import type { HybridLogicalClock } from '../../protocol/hlc.ts';
import { rawSerializer } from '../../protocol/serializers.ts';
import { TelemetryReceiver, type TelemetryMessage } from '../../protocol/telemetry-receiver.ts';
import { retry, type RetryOptions } from '../../retry.ts';
import { AdrServiceError, isAkriServiceErrorCode } from './adr-service-error.ts';
import type { DiscoveredAsset, DiscoveredDevice, DiscoveryResult } from './discovery-models.ts';
import { HealthReporter, adrRetryDefaults } from './health-reporter.ts';
import type { Asset, AssetStatus, Device, DeviceStatus, NotificationPreference } from './models.ts';
import { statusEquals } from './status.ts';
import {
  parseAsset,
  parseAssetStatus,
  parseDevice,
  parseDeviceStatus,
  validateAsset,
  validateDevice,
  type AdrValidationIssue,
} from './validate.ts';

/**
 * The actions of the ADR base service Thing Model, in its order.
 *
 * @example
 * ```ts
 * import { adrActionNames } from '@aio-connector/core';
 * adrActionNames.includes('getAssetStatus'); // true
 * ```
 */
export const adrActionNames = Object.freeze([
  'getDevice',
  'getDeviceStatus',
  'getAsset',
  'getAssetStatus',
  'updateDeviceStatus',
  'updateAssetStatus',
  'setNotificationPreferenceForDeviceUpdates',
  'setNotificationPreferenceForAssetUpdates',
  'createOrUpdateDiscoveredAsset',
] as const);

/** An action of the ADR base service. */
export type AdrActionName = (typeof adrActionNames)[number];

const resourcesPrefix =
  'akri/connector/resources/{ex:connectorClientId}/{ex:deviceName}/{ex:inboundEndpointName}';
const telemetryPrefix =
  'akri/connector/resources/telemetry/{ex:connectorClientId}/{ex:deviceName}/{ex:inboundEndpointName}';
const discoveredDeviceAction = 'createOrUpdateDiscoveredDevice';
const discoveredDeviceTopic = `akri/discovery/resources/{ex:discoveryClientId}/{ex:inboundEndpointType}/${discoveredDeviceAction}`;

/** Options of {@link AdrClient}. Every field is optional. */
export interface AdrClientOptions {
  /** The application's clock. Default: the shared clock. */
  readonly hlc?: HybridLogicalClock;
  /** Default: silent. */
  readonly logger?: Logger;
  /**
   * How long each RPC waits for its response (also its message expiry, and the expiry of health
   * telemetry), in ms. At least 1 000. Default: 10 000.
   */
  readonly timeoutInMs?: number;
  /**
   * How failed RPCs and health sends are retried. Default: 10 retries, 128 ms doubling, at most
   * 5 s apart, ±5 % jitter (the official SDKs). Timeouts, MQTT errors, `__stat` 503 and the service
   * errors `InternalError` and `KubeError` are retried; `BadRequest`, `Unauthorized` and
   * `SerializationError` fail at once.
   */
  readonly retry?: RetryOptions;
  /**
   * How often the health reporter re-sends the last health of every component, in ms. At least
   * 1 000. Default: 10 000 (the .NET SDK; the Rust SDK uses 600 000).
   */
  readonly healthIntervalInMs?: number;
}

/** Options of each RPC. Every field is optional. */
export interface AdrCallOptions {
  /** Aborts the call, including its retries. */
  readonly signal?: AbortSignal;
  /** Overrides the client's `timeoutInMs` for each attempt of this call. */
  readonly timeoutInMs?: number;
}

/** Options of {@link AdrClient.updateDeviceStatusWith} and {@link AdrClient.updateAssetStatusWith}. */
export interface StatusUpdateOptions extends AdrCallOptions {
  /**
   * Skip the write when the new status equals the current one, ignoring `lastTransitionTime`.
   * Default: `true`.
   */
  readonly onlyIfChanged?: boolean;
}

/**
 * A `deviceUpdateEvent`: the definition of a device changed. `device` is the definition as the
 * service sent it (with only the inbound endpoint of the notification); `issues` lists what
 * {@link validateDevice} finds wrong with it (empty when it is valid).
 */
export interface DeviceUpdateEvent {
  readonly deviceName: string;
  readonly endpointName: string;
  readonly device: Device;
  readonly issues: readonly AdrValidationIssue[];
}

/**
 * An `assetUpdateEvent`: the definition of an asset changed. Device and endpoint come from
 * `asset.deviceRef`. `asset` is the definition as the service sent it (only `deviceRef` is checked)
 * so that every part can be validated and reported; `issues` lists what {@link validateAsset}
 * finds wrong with it (empty when it is valid).
 */
export interface AssetUpdateEvent {
  readonly deviceName: string;
  readonly endpointName: string;
  readonly assetName: string;
  readonly asset: Asset;
  readonly issues: readonly AdrValidationIssue[];
}

type Body = Record<string, unknown>;
type StatusUpdate<S> = (current: S) => S | undefined | Promise<S | undefined>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkName(name: string, value: unknown): string {
  if (typeof value !== 'string')
    throw new TypeError(`${name} must be a string, received ${typeof value}`);
  if (value === '') throw new RangeError(`${name} must not be empty`);
  return value;
}

function checkTimeout(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value))
    throw new TypeError(`${name} must be a number, received ${typeof value}`);
  if (value < 1_000 || !Number.isFinite(value))
    throw new RangeError(`${name} must be at least 1 000 ms, received ${value}`);
  return value;
}

function checkPreference(value: unknown): NotificationPreference {
  if (value !== 'On' && value !== 'Off')
    throw new TypeError(
      `the notification preference must be 'On' or 'Off', received ${String(value)}`,
    );
  return value;
}

function checkObject(name: string, value: unknown): Record<string, unknown> {
  if (!isRecord(value)) throw new TypeError(`${name} must be an object`);
  return value;
}

/** A copy without `null` and `undefined` fields: on the ADR wire a cleared field is absent. */
function withoutNulls<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item: unknown) => withoutNulls(item)) as T;
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value))
      if (item !== null && item !== undefined) out[key] = withoutNulls(item);
    return out as T;
  }
  return value;
}

function invalidResponse(action: string, message: string, cause?: unknown): ProtocolError {
  return new ProtocolError('invalid payload', `the ${action} response ${message}`, {
    commandName: action,
    ...(cause === undefined ? {} : { cause }),
  });
}

function readBody(action: string, payload: Uint8Array): Body {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (error) {
    throw invalidResponse(action, 'is not JSON', error);
  }
  if (!isRecord(parsed)) throw invalidResponse(action, 'is not a JSON object');
  const error = parsed[`${action}Error`];
  if (error !== undefined && error !== null) throw serviceError(action, error);
  return parsed;
}

function serviceError(action: string, error: unknown): AdrServiceError {
  const body = isRecord(error) ? error : {};
  const code = body['code'];
  const message = typeof body['message'] === 'string' ? body['message'] : undefined;
  const timestamp = typeof body['timestamp'] === 'string' ? body['timestamp'] : undefined;
  const serviceCode = isAkriServiceErrorCode(code) ? code : undefined;
  return new AdrServiceError(
    `ADR ${action} failed: ${typeof code === 'string' ? code : 'error'}${message === undefined ? '' : `: ${message}`}`,
    {
      action,
      serviceCode,
      serviceMessage: message,
      serviceTimestamp: timestamp,
      ...(serviceCode === undefined && code !== undefined ? { details: { code } } : {}),
    },
  );
}

function field(action: string, body: Body, name: string): unknown {
  const value = body[name];
  if (value === undefined || value === null) throw invalidResponse(action, `has no "${name}"`);
  return value;
}

function readDiscovery(action: string, body: Body, name: string): DiscoveryResult {
  const value = field(action, body, name);
  if (!isRecord(value)) throw invalidResponse(action, `"${name}" is not an object`);
  const { discoveryId, version } = value;
  if (typeof discoveryId !== 'string')
    throw invalidResponse(action, `"${name}.discoveryId" is not a string`);
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0)
    throw invalidResponse(action, `"${name}.version" is not a non-negative integer`);
  return { discoveryId, version };
}

function isAccepted(value: unknown): boolean {
  return typeof value === 'string' && value.toLowerCase() === 'accepted';
}

/** Waits for `promise` unless `signal` aborts first. */
function untilAborted<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  operation: string,
): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(abortError(signal, operation));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(abortError(signal, operation));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/**
 * The client of the ADR service a connector talks to over MQTT (CONTRACT §2.9): every action of
 * the ADR base service Thing Model plus `createOrUpdateDiscoveredDevice` of the device discovery
 * service, update notifications, status read-modify-write, and a {@link HealthReporter}.
 *
 * - Requests use the AIO RPC envelope of {@link CommandInvoker} on
 *   `akri/connector/resources/{clientId}/{device}/{endpoint}/{action}`; `getDevice` and
 *   `getDeviceStatus` send an empty payload without content type.
 * - The service answers with `__stat` 200 and either the result wrapped in an object
 *   (`{"device": …}`, `{"updatedAssetStatus": …}`) or an error body
 *   `{"<action>Error": {code, message, timestamp}}`, which becomes an {@link AdrServiceError}. A
 *   response that is not JSON or lacks the wrapper is a `ProtocolError` of kind `invalid payload`.
 * - Every call is retried with the client's retry policy: timeouts, MQTT errors, 503 and the
 *   service errors `InternalError` and `KubeError` (the real service reports a device or asset it
 *   does not know as `KubeError`); `BadRequest`, `Unauthorized` and `SerializationError` fail at
 *   once.
 * - Status updates replace the whole status (omitted fields are removed; the device's inbound
 *   endpoint map is merged per endpoint by the service). `null` fields are never sent.
 *
 * @example
 * ```ts
 * import { AdrClient, setConfigStatus, setDatasetStatus } from '@aio-connector/core';
 * declare const session: import('@aio-connector/core').MqttClient;
 * const adr = new AdrClient(session, { timeoutInMs: 10_000 });
 * await adr.start();
 * adr.onAssetUpdate(({ assetName, asset }) => console.log('updated', assetName, asset.version));
 * await adr.setDeviceUpdateNotifications('oven', 'rest', 'On');
 * const device = await adr.getDevice('oven', 'rest');
 * await adr.setAssetUpdateNotifications('oven', 'rest', 'oven-asset', 'On');
 * const asset = await adr.getAsset('oven', 'rest', 'oven-asset');
 * await adr.updateAssetStatusWith('oven', 'rest', 'oven-asset', (current) =>
 *   setDatasetStatus(setConfigStatus(current, { error: null, version: asset.version ?? null }), 'temperature', { error: null }),
 * );
 * adr.health.reportDataset('oven', 'rest', 'oven-asset', 'temperature', { status: 'Available' }, asset.version);
 * console.log(device.endpoints?.inbound?.['rest']?.address);
 * await adr.close();
 * ```
 */
export class AdrClient {
  /** The runtime health reporter (shares the client's MQTT session, clock and retry policy). */
  readonly health: HealthReporter;
  readonly #logger: Logger;
  readonly #timeoutInMs: number;
  readonly #retry: RetryOptions;
  readonly #invokers = new Map<string, CommandInvoker<unknown, Uint8Array>>();
  readonly #receivers: readonly TelemetryReceiver[];
  readonly #deviceListeners = new Set<(event: DeviceUpdateEvent) => void | Promise<void>>();
  readonly #assetListeners = new Set<(event: AssetUpdateEvent) => void | Promise<void>>();
  readonly #locks = new Map<string, Promise<void>>();
  /** The last asset status written per asset: the base of the next read-modify-write. */
  readonly #lastWrittenAssetStatus = new Map<string, AssetStatus>();
  readonly #closeController = new AbortController();
  #starting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(client: MqttClient, options: AdrClientOptions = {}) {
    if (typeof client !== 'object' || client === null)
      throw new TypeError('an MqttClient is required');
    if (typeof options !== 'object' || options === null)
      throw new TypeError('options must be an object');
    checkName('client.clientId', client.clientId);
    this.#logger = (options.logger ?? silentLogger).child({ component: 'adr-client' });
    this.#timeoutInMs = checkTimeout('timeoutInMs', options.timeoutInMs, 10_000);
    const healthIntervalInMs = checkTimeout(
      'healthIntervalInMs',
      options.healthIntervalInMs,
      10_000,
    );
    if (
      options.retry !== undefined &&
      (typeof options.retry !== 'object' || options.retry === null)
    )
      throw new TypeError('retry must be an object');
    this.#retry = { ...adrRetryDefaults, ...options.retry };
    const hlc = options.hlc === undefined ? {} : { hlc: options.hlc };
    for (const action of adrActionNames)
      this.#invokers.set(
        action,
        new CommandInvoker<unknown, Uint8Array>(client, action, `${resourcesPrefix}/${action}`, {
          responseSerializer: rawSerializer,
          topicTokens: { 'ex:connectorClientId': client.clientId },
          timeoutInMs: this.#timeoutInMs,
          logger: this.#logger,
          ...hlc,
        }),
      );
    this.#invokers.set(
      discoveredDeviceAction,
      new CommandInvoker<unknown, Uint8Array>(
        client,
        discoveredDeviceAction,
        discoveredDeviceTopic,
        {
          responseSerializer: rawSerializer,
          topicTokens: { 'ex:discoveryClientId': client.clientId },
          timeoutInMs: this.#timeoutInMs,
          logger: this.#logger,
          ...hlc,
        },
      ),
    );
    const receiverOptions = {
      topicTokens: { 'ex:connectorClientId': client.clientId },
      qos: 1 as const,
      logger: this.#logger,
      ...hlc,
    };
    this.#receivers = [
      new TelemetryReceiver(
        client,
        `${telemetryPrefix}/deviceUpdateEvent`,
        (message) => this.#onDeviceUpdate(message),
        receiverOptions,
      ),
      new TelemetryReceiver(
        client,
        `${telemetryPrefix}/assetUpdateEvent`,
        (message) => this.#onAssetUpdate(message),
        receiverOptions,
      ),
    ];
    this.health = new HealthReporter(client, {
      intervalInMs: healthIntervalInMs,
      timeoutInMs: this.#timeoutInMs,
      retry: this.#retry,
      logger: options.logger ?? silentLogger,
      ...hlc,
    });
  }

  /**
   * Subscribes to the update notifications sent to this client
   * (`akri/connector/resources/telemetry/{clientId}/+/+/deviceUpdateEvent` and `assetUpdateEvent`,
   * QoS 1). RPCs work without it. Safe to call twice.
   */
  start(options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    if (this.#closing !== undefined) return Promise.reject(this.#closedError('start'));
    this.#starting ??= (async () => {
      try {
        await Promise.all(this.#receivers.map((receiver) => receiver.start(options)));
      } catch (error) {
        this.#starting = undefined;
        await Promise.all(
          this.#receivers.map((receiver) => receiver.stop().catch(() => undefined)),
        );
        throw error;
      }
      this.#logger.debug('ADR client subscribed to update notifications');
    })();
    return this.#starting;
  }

  /**
   * `getDevice`: the device, with the requested inbound endpoint only. Throws a `ConfigError` for
   * a definition that does not match the Thing Model.
   */
  getDevice(
    deviceName: string,
    endpointName: string,
    options: AdrCallOptions = {},
  ): Promise<Device> {
    checkName('deviceName', deviceName);
    checkName('endpointName', endpointName);
    return this.#call('getDevice', deviceName, endpointName, undefined, options, (body) =>
      parseDevice(field('getDevice', body, 'device'), { deviceName }),
    );
  }

  /** `getDeviceStatus`: the device status, with the requested inbound endpoint only. */
  getDeviceStatus(
    deviceName: string,
    endpointName: string,
    options: AdrCallOptions = {},
  ): Promise<DeviceStatus> {
    checkName('deviceName', deviceName);
    checkName('endpointName', endpointName);
    return this.#call('getDeviceStatus', deviceName, endpointName, undefined, options, (body) =>
      parseDeviceStatus(field('getDeviceStatus', body, 'deviceStatus')),
    );
  }

  /**
   * `updateDeviceStatus`: replaces the device status (`config`; the inbound endpoint entries sent
   * are merged per endpoint by the service). Resolves with the status the service stored.
   */
  updateDeviceStatus(
    deviceName: string,
    endpointName: string,
    status: DeviceStatus,
    options: AdrCallOptions = {},
  ): Promise<DeviceStatus> {
    checkName('deviceName', deviceName);
    checkName('endpointName', endpointName);
    checkObject('status', status);
    return this.#withLock(deviceKey(deviceName, endpointName), options.signal, () =>
      this.#writeDeviceStatus(deviceName, endpointName, status, options),
    );
  }

  /** `getAsset`: the asset, validated. Throws a `ConfigError` naming the first field in error. */
  getAsset(
    deviceName: string,
    endpointName: string,
    assetName: string,
    options: AdrCallOptions = {},
  ): Promise<Asset> {
    checkName('assetName', assetName);
    return this.getAssetDefinition(deviceName, endpointName, assetName, options).then((json) =>
      parseAsset(json, { assetName }),
    );
  }

  /**
   * `getAsset`, returning the definition as the service sent it (a JSON object), for callers that
   * validate it with {@link validateAsset} to keep the healthy parts of an asset that has a bad one.
   */
  getAssetDefinition(
    deviceName: string,
    endpointName: string,
    assetName: string,
    options: AdrCallOptions = {},
  ): Promise<unknown> {
    checkName('deviceName', deviceName);
    checkName('endpointName', endpointName);
    checkName('assetName', assetName);
    return this.#call('getAsset', deviceName, endpointName, { assetName }, options, (body) => {
      const asset = field('getAsset', body, 'asset');
      if (!isRecord(asset)) throw invalidResponse('getAsset', '"asset" is not an object');
      return asset;
    });
  }

  /** `getAssetStatus`: the asset status. */
  getAssetStatus(
    deviceName: string,
    endpointName: string,
    assetName: string,
    options: AdrCallOptions = {},
  ): Promise<AssetStatus> {
    checkName('deviceName', deviceName);
    checkName('endpointName', endpointName);
    checkName('assetName', assetName);
    return this.#call('getAssetStatus', deviceName, endpointName, { assetName }, options, (body) =>
      parseAssetStatus(field('getAssetStatus', body, 'assetStatus')),
    );
  }

  /**
   * `updateAssetStatus`: replaces the whole asset status (entries left out are removed). The
   * status sent becomes the base of the next {@link AdrClient.updateAssetStatusWith}.
   */
  updateAssetStatus(
    deviceName: string,
    endpointName: string,
    assetName: string,
    status: AssetStatus,
    options: AdrCallOptions = {},
  ): Promise<AssetStatus> {
    checkName('deviceName', deviceName);
    checkName('endpointName', endpointName);
    checkName('assetName', assetName);
    checkObject('status', status);
    const key = assetKey(deviceName, endpointName, assetName);
    return this.#withLock(key, options.signal, () =>
      this.#writeAssetStatus(key, deviceName, endpointName, assetName, status, options),
    );
  }

  /**
   * `setNotificationPreferenceForDeviceUpdates`: asks the service to send (`On`) or stop (`Off`)
   * `deviceUpdateEvent` notifications for the device endpoint. Throws an {@link AdrServiceError}
   * unless the service answers `Accepted`.
   */
  async setDeviceUpdateNotifications(
    deviceName: string,
    endpointName: string,
    preference: NotificationPreference,
    options: AdrCallOptions = {},
  ): Promise<void> {
    checkName('deviceName', deviceName);
    checkName('endpointName', endpointName);
    const action = 'setNotificationPreferenceForDeviceUpdates';
    const request = { notificationPreferenceRequest: checkPreference(preference) };
    await this.#call(action, deviceName, endpointName, request, options, (body) => {
      this.#readAccepted(action, body);
    });
  }

  /**
   * `setNotificationPreferenceForAssetUpdates`: asks the service to send (`On`) or stop (`Off`)
   * `assetUpdateEvent` notifications for the asset. Throws an {@link AdrServiceError} unless the
   * service answers `Accepted`.
   */
  async setAssetUpdateNotifications(
    deviceName: string,
    endpointName: string,
    assetName: string,
    preference: NotificationPreference,
    options: AdrCallOptions = {},
  ): Promise<void> {
    checkName('deviceName', deviceName);
    checkName('endpointName', endpointName);
    checkName('assetName', assetName);
    const action = 'setNotificationPreferenceForAssetUpdates';
    const request = {
      notificationPreferenceRequest: {
        assetName,
        notificationPreference: checkPreference(preference),
      },
    };
    await this.#call(action, deviceName, endpointName, request, options, (body) => {
      this.#readAccepted(action, body);
    });
  }

  /**
   * `createOrUpdateDiscoveredAsset`: proposes an asset found on the device endpoint. The name
   * deduplicates repeated discoveries.
   */
  createOrUpdateDiscoveredAsset(
    deviceName: string,
    endpointName: string,
    discoveredAssetName: string,
    discoveredAsset: DiscoveredAsset,
    options: AdrCallOptions = {},
  ): Promise<DiscoveryResult> {
    checkName('deviceName', deviceName);
    checkName('endpointName', endpointName);
    checkName('discoveredAssetName', discoveredAssetName);
    checkObject('discoveredAsset', discoveredAsset);
    const action = 'createOrUpdateDiscoveredAsset';
    const request = {
      discoveredAssetRequest: {
        discoveredAssetName,
        discoveredAsset: withoutNulls(discoveredAsset),
      },
    };
    return this.#call(action, deviceName, endpointName, request, options, (body) =>
      readDiscovery(action, body, 'discoveredAssetResponse'),
    );
  }

  /**
   * `createOrUpdateDiscoveredDevice` of the device discovery service
   * (`akri/discovery/resources/{clientId}/{inboundEndpointType}/createOrUpdateDiscoveredDevice`):
   * proposes a device found by the connector. The name deduplicates repeated discoveries.
   */
  createOrUpdateDiscoveredDevice(
    inboundEndpointType: string,
    discoveredDeviceName: string,
    discoveredDevice: DiscoveredDevice,
    options: AdrCallOptions = {},
  ): Promise<DiscoveryResult> {
    checkName('inboundEndpointType', inboundEndpointType);
    checkName('discoveredDeviceName', discoveredDeviceName);
    checkObject('discoveredDevice', discoveredDevice);
    const request = {
      discoveredDeviceRequest: {
        discoveredDeviceName,
        discoveredDevice: withoutNulls(discoveredDevice),
      },
    };
    return this.#invokeWithRetry(
      discoveredDeviceAction,
      { 'ex:inboundEndpointType': inboundEndpointType },
      request,
      options,
      (body) => readDiscovery(discoveredDeviceAction, body, 'discoveredDeviceResponse'),
    );
  }

  /**
   * Calls `listener` for every `deviceUpdateEvent` (after {@link AdrClient.start}). Listeners run
   * one after the other and the notification is acknowledged once they have finished. Returns a
   * function that removes the listener.
   */
  onDeviceUpdate(listener: (event: DeviceUpdateEvent) => void | Promise<void>): () => void {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    this.#deviceListeners.add(listener);
    return () => this.#deviceListeners.delete(listener);
  }

  /**
   * Calls `listener` for every `assetUpdateEvent` (after {@link AdrClient.start}). Listeners run
   * one after the other and the notification is acknowledged once they have finished. Returns a
   * function that removes the listener.
   */
  onAssetUpdate(listener: (event: AssetUpdateEvent) => void | Promise<void>): () => void {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    this.#assetListeners.add(listener);
    return () => this.#assetListeners.delete(listener);
  }

  /**
   * Read-modify-write of the device status under a per-device-endpoint lock: reads the status
   * with `getDeviceStatus` (every time), passes a deep copy to `update`, and writes what it
   * returns. `undefined` means no change. With `onlyIfChanged` (default) a result equal to the
   * current status (ignoring `lastTransitionTime`) is not written. Resolves with the status the
   * service stored, or the current one when nothing was written.
   */
  updateDeviceStatusWith(
    deviceName: string,
    endpointName: string,
    update: StatusUpdate<DeviceStatus>,
    options: StatusUpdateOptions = {},
  ): Promise<DeviceStatus> {
    checkName('deviceName', deviceName);
    checkName('endpointName', endpointName);
    if (typeof update !== 'function') throw new TypeError('update must be a function');
    const onlyIfChanged = checkOnlyIfChanged(options.onlyIfChanged);
    return this.#withLock(deviceKey(deviceName, endpointName), options.signal, async () => {
      const current = await this.getDeviceStatus(deviceName, endpointName, options);
      const next = await update(structuredClone(current));
      if (next === undefined) return current;
      checkObject('the updated status', next);
      if (onlyIfChanged && statusEquals(current, next)) return current;
      return this.#writeDeviceStatus(deviceName, endpointName, next, options);
    });
  }

  /**
   * Read-modify-write of the asset status under a per-asset lock. The base is the last status
   * this client wrote for the asset (the connector is its only writer, and a read right after a
   * write may not see it yet); `getAssetStatus` is called only before the first write. `update`
   * gets a deep copy; `undefined` means no change; with `onlyIfChanged` (default) an equal result
   * (ignoring `lastTransitionTime`) is not written. Resolves with the status the service stored,
   * or the current one when nothing was written.
   */
  updateAssetStatusWith(
    deviceName: string,
    endpointName: string,
    assetName: string,
    update: StatusUpdate<AssetStatus>,
    options: StatusUpdateOptions = {},
  ): Promise<AssetStatus> {
    checkName('deviceName', deviceName);
    checkName('endpointName', endpointName);
    checkName('assetName', assetName);
    if (typeof update !== 'function') throw new TypeError('update must be a function');
    const onlyIfChanged = checkOnlyIfChanged(options.onlyIfChanged);
    const key = assetKey(deviceName, endpointName, assetName);
    return this.#withLock(key, options.signal, async () => {
      const cached = this.#lastWrittenAssetStatus.get(key);
      const current =
        cached === undefined
          ? await this.getAssetStatus(deviceName, endpointName, assetName, options)
          : structuredClone(cached);
      const next = await update(structuredClone(current));
      if (next === undefined) return current;
      checkObject('the updated status', next);
      if (onlyIfChanged && statusEquals(current, next)) return current;
      return this.#writeAssetStatus(key, deviceName, endpointName, assetName, next, options);
    });
  }

  /** Forgets what the client keeps about a deleted asset: last written status, lock, health. */
  forgetAsset(deviceName: string, endpointName: string, assetName: string): void {
    checkName('deviceName', deviceName);
    checkName('endpointName', endpointName);
    checkName('assetName', assetName);
    const key = assetKey(deviceName, endpointName, assetName);
    this.#lastWrittenAssetStatus.delete(key);
    this.#locks.delete(key);
    this.health.remove(deviceName, endpointName, assetName);
  }

  /**
   * Forgets what the client keeps about a deleted device endpoint and every asset of it: last
   * written statuses, locks, health.
   */
  forgetDevice(deviceName: string, endpointName: string): void {
    checkName('deviceName', deviceName);
    checkName('endpointName', endpointName);
    const device = deviceKey(deviceName, endpointName);
    const prefix = `${device}\u0000`;
    for (const key of [...this.#lastWrittenAssetStatus.keys()])
      if (key.startsWith(prefix)) this.#lastWrittenAssetStatus.delete(key);
    for (const key of [...this.#locks.keys()])
      if (key === device || key.startsWith(prefix)) this.#locks.delete(key);
    this.health.remove(deviceName, endpointName);
  }

  /**
   * Stops: calls in progress reject with `ERR_AIO_CLOSED`, the health reporter stops, the
   * notification and response subscriptions are removed. Waits for the broker's answers at most
   * `timeoutInMs` (an UNSUBSCRIBE waits for a broker that is away until it is back). Safe to call
   * twice.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closeController.abort(this.#closedError('the ADR client'));
      await this.health.close();
      const stops = Promise.allSettled([
        ...this.#receivers.map((receiver) => receiver.stop()),
        ...[...this.#invokers.values()].map((invoker) => invoker.stop()),
      ]);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => {
          resolve(undefined);
        }, this.#timeoutInMs);
        timer.unref();
      });
      const results = await Promise.race([stops, timedOut]);
      clearTimeout(timer);
      if (results === undefined)
        this.#logger.debug('the broker did not answer the unsubscribes in time while closing');
      else
        for (const result of results)
          if (result.status === 'rejected')
            this.#logger.debug(
              { err: result.reason as unknown },
              'unsubscribe failed while closing',
            );
      this.#deviceListeners.clear();
      this.#assetListeners.clear();
    })();
    return this.#closing;
  }

  /** Same as {@link AdrClient.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #closedError(operation: string): AioError {
    return new AioError('ERR_AIO_CLOSED', `${operation}: the ADR client is closed`);
  }

  #readAccepted(action: string, body: Body): void {
    const response = field(action, body, 'responsePayload');
    if (isAccepted(response)) return;
    throw new AdrServiceError(
      `ADR ${action} was not accepted (responsePayload ${JSON.stringify(response)})`,
      { action, details: { responsePayload: response } },
    );
  }

  #call<T>(
    action: AdrActionName,
    deviceName: string,
    endpointName: string,
    request: unknown,
    options: AdrCallOptions,
    read: (body: Body) => T,
  ): Promise<T> {
    return this.#invokeWithRetry(
      action,
      { 'ex:deviceName': deviceName, 'ex:inboundEndpointName': endpointName },
      request,
      options,
      read,
    );
  }

  async #invokeWithRetry<T>(
    action: string,
    topicTokens: Readonly<Record<string, string>>,
    request: unknown,
    options: AdrCallOptions,
    read: (body: Body) => T,
  ): Promise<T> {
    if (typeof options !== 'object' || options === null)
      throw new TypeError('options must be an object');
    const timeoutInMs = checkTimeout('timeoutInMs', options.timeoutInMs, this.#timeoutInMs);
    if (this.#closing !== undefined) throw this.#closedError(action);
    const invoker = this.#invokers.get(action);
    if (invoker === undefined) throw new TypeError(`unknown ADR action ${action}`);
    const signal =
      options.signal === undefined
        ? this.#closeController.signal
        : AbortSignal.any([options.signal, this.#closeController.signal]);
    try {
      return await retry(
        async () => {
          const response = await invoker.invoke(request, { topicTokens, timeoutInMs, signal });
          return read(readBody(action, response.payload));
        },
        { ...this.#retry, signal, operation: action, logger: this.#logger },
      );
    } catch (error) {
      if (this.#closeController.signal.aborted && !(options.signal?.aborted ?? false))
        throw this.#closedError(action);
      throw error;
    }
  }

  #writeDeviceStatus(
    deviceName: string,
    endpointName: string,
    status: DeviceStatus,
    options: AdrCallOptions,
  ): Promise<DeviceStatus> {
    return this.#call(
      'updateDeviceStatus',
      deviceName,
      endpointName,
      { deviceStatusUpdate: withoutNulls(status) },
      options,
      (body) => parseDeviceStatus(field('updateDeviceStatus', body, 'updatedDeviceStatus')),
    );
  }

  async #writeAssetStatus(
    key: string,
    deviceName: string,
    endpointName: string,
    assetName: string,
    status: AssetStatus,
    options: AdrCallOptions,
  ): Promise<AssetStatus> {
    const assetStatus = withoutNulls(status);
    const updated = await this.#call(
      'updateAssetStatus',
      deviceName,
      endpointName,
      { assetStatusUpdate: { assetName, assetStatus } },
      options,
      (body) => parseAssetStatus(field('updateAssetStatus', body, 'updatedAssetStatus')),
    );
    this.#lastWrittenAssetStatus.set(key, structuredClone(assetStatus));
    return updated;
  }

  /** Runs `operation` after every earlier holder of `key` has finished. */
  async #withLock<T>(
    key: string,
    signal: AbortSignal | undefined,
    operation: () => Promise<T>,
  ): Promise<T> {
    const previous = this.#locks.get(key) ?? Promise.resolve();
    let release: () => void = () => undefined;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.#locks.set(key, tail);
    try {
      await untilAborted(previous, signal, 'waiting for the status lock');
      return await operation();
    } finally {
      release();
      if (this.#locks.get(key) === tail) this.#locks.delete(key);
    }
  }

  async #onDeviceUpdate(message: TelemetryMessage<unknown>): Promise<void> {
    const deviceName = message.topicTokens['ex:deviceName'];
    const endpointName = message.topicTokens['ex:inboundEndpointName'];
    const event = isRecord(message.payload) ? message.payload['deviceUpdateEvent'] : undefined;
    const device = isRecord(event) ? event['device'] : undefined;
    if (deviceName === undefined || endpointName === undefined || !isRecord(device)) {
      this.#logger.warn({ topic: message.topic }, 'malformed deviceUpdateEvent dropped');
      return;
    }
    const { issues } = validateDevice(device, { deviceName });
    if (issues.length > 0)
      this.#logger.warn(
        { deviceName, endpointName, issues: issues.map((issue) => issue.message) },
        'updated device definition has problems',
      );
    const update: DeviceUpdateEvent = {
      deviceName,
      endpointName,
      device: device,
      issues,
    };
    for (const listener of [...this.#deviceListeners]) {
      try {
        await listener(update);
      } catch (error) {
        this.#logger.warn(
          { deviceName, endpointName, err: error },
          'device update listener failed',
        );
      }
    }
  }

  async #onAssetUpdate(message: TelemetryMessage<unknown>): Promise<void> {
    const event = isRecord(message.payload) ? message.payload['assetUpdateEvent'] : undefined;
    const assetName = isRecord(event) ? event['assetName'] : undefined;
    const asset = isRecord(event) ? event['asset'] : undefined;
    const deviceRef = isRecord(asset) ? asset['deviceRef'] : undefined;
    const deviceName = isRecord(deviceRef) ? deviceRef['deviceName'] : undefined;
    const endpointName = isRecord(deviceRef) ? deviceRef['endpointName'] : undefined;
    if (
      typeof assetName !== 'string' ||
      assetName === '' ||
      !isRecord(asset) ||
      typeof deviceName !== 'string' ||
      typeof endpointName !== 'string'
    ) {
      this.#logger.warn({ topic: message.topic }, 'malformed assetUpdateEvent dropped');
      return;
    }
    const { issues } = validateAsset(asset, { assetName });
    if (issues.length > 0)
      this.#logger.warn(
        { assetName, issues: issues.map((issue) => issue.message) },
        'updated asset definition has problems',
      );
    const update: AssetUpdateEvent = {
      deviceName,
      endpointName,
      assetName,
      asset: asset as unknown as Asset,
      issues,
    };
    for (const listener of [...this.#assetListeners]) {
      try {
        await listener(update);
      } catch (error) {
        this.#logger.warn({ assetName, err: error }, 'asset update listener failed');
      }
    }
  }
}

function checkOnlyIfChanged(value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'boolean')
    throw new TypeError(`onlyIfChanged must be a boolean, received ${typeof value}`);
  return value;
}

function deviceKey(deviceName: string, endpointName: string): string {
  return `${deviceName}\u0000${endpointName}`;
}

function assetKey(deviceName: string, endpointName: string, assetName: string): string {
  return `${deviceName}\u0000${endpointName}\u0000${assetName}`;
}
