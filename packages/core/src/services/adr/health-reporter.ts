/**
 * `HealthReporter`: runtime health of device endpoints, datasets, events, streams and management
 * actions, sent to ADR as telemetry (QoS 1) with deduplication and periodic re-sending.
 *
 * @module
 */
import { AioError, ProtocolError } from '../../errors.ts';
import { silentLogger, type Logger } from '../../logger.ts';
import type { MqttClient } from '../../mqtt/mqtt-client.ts';
import type { HybridLogicalClock } from '../../protocol/hlc.ts';
import { TelemetrySender } from '../../protocol/telemetry-sender.ts';
import { isRetryable, retry, type RetryOptions } from '../../retry.ts';
import { healthStatuses, type HealthStatus, type RuntimeHealth } from './models.ts';
import { compareHealth } from './status.ts';

/**
 * The ADR telemetry events that carry runtime health.
 *
 * @example
 * ```ts
 * import { healthEventNames } from '@aio-connector/core';
 * healthEventNames[0]; // 'deviceEndpointRuntimeHealthEvent'
 * ```
 */
export const healthEventNames = Object.freeze([
  'deviceEndpointRuntimeHealthEvent',
  'datasetRuntimeHealthEvent',
  'eventRuntimeHealthEvent',
  'streamRuntimeHealthEvent',
  'managementActionRuntimeHealthEvent',
] as const);

/** The name of an ADR runtime health telemetry event. */
export type HealthEventName = (typeof healthEventNames)[number];

/** The topic pattern of ADR runtime health telemetry. */
function healthTopicPattern(event: HealthEventName): string {
  return `akri/connector/resources/telemetry/{ex:connectorClientId}/{ex:deviceName}/{ex:inboundEndpointName}/${event}`;
}

/**
 * A health report as the connector states it; the reporter adds `version` and `lastUpdateTime`.
 * For `Available`, `message` and `reasonCode` are not sent (as the official SDKs require).
 */
export interface RuntimeHealthReport {
  readonly status: HealthStatus;
  /** What went wrong, for `Unavailable`. */
  readonly message?: string;
  /** A CamelCase reason for the last transition, for `Unavailable`. */
  readonly reasonCode?: string;
}

/** One component of an asset whose health is reported. */
export type AssetHealthComponent =
  | { readonly kind: 'dataset'; readonly datasetName: string }
  | { readonly kind: 'event'; readonly eventGroupName: string; readonly eventName: string }
  | { readonly kind: 'stream'; readonly streamName: string }
  | {
      readonly kind: 'managementAction';
      readonly managementGroupName: string;
      readonly managementActionName: string;
    };

type HealthComponent = { readonly kind: 'deviceEndpoint' } | AssetHealthComponent;

/** Options of {@link HealthReporter}. Every field is optional. */
export interface HealthReporterOptions {
  /**
   * How often the last health of every component that is not paused is sent again (with a fresh
   * `lastUpdateTime`), batched per asset, in ms. At least 1 000. Default: 10 000, like the .NET
   * SDK (the Rust SDK uses 600 000 with a 60 000 minimum).
   */
  readonly intervalInMs?: number;
  /** Message expiry of the health telemetry, in ms (rounded up to seconds). Default: 10 000. */
  readonly timeoutInMs?: number;
  /**
   * How failed sends are retried (MQTT errors). Default: 10 retries, 128 ms doubling, at most 5 s
   * apart, like the official SDKs.
   */
  readonly retry?: RetryOptions;
  /** The application's clock. Default: the shared clock. */
  readonly hlc?: HybridLogicalClock;
  /** Default: silent. */
  readonly logger?: Logger;
}

/**
 * The retry defaults of the ADR client and health reporter (CONTRACT: 10 retries, 2^(6+n) ms,
 * at most 5 s, ±5 % jitter).
 *
 * @internal
 */
export const adrRetryDefaults: RetryOptions = Object.freeze({
  retries: 10,
  minDelayInMs: 128,
  factor: 2,
  maxDelayInMs: 5_000,
  jitter: 0.05,
});

interface Entry {
  readonly component: HealthComponent;
  health: RuntimeHealth;
  paused: boolean;
  /** The last send of this component failed: send the next report even if it is the same. */
  failed: boolean;
  /** Counts the sends of this component, so that only the outcome of the latest one counts. */
  sends: number;
  /**
   * A send of this component waits behind another send of its group: it will carry the health
   * current when it starts.
   */
  queued: boolean;
}

interface Group {
  readonly key: string;
  readonly deviceName: string;
  readonly endpointName: string;
  readonly assetName: string | undefined;
  readonly entries: Map<string, Entry>;
  /** Sends of this group run one after the other, in report order. */
  chain: Promise<void>;
  /** A periodic re-send of this group is queued or running. */
  resending: boolean;
  /** Sends of this group queued or running. */
  sending: number;
}

const maxVersion = Number.MAX_SAFE_INTEGER;

function checkName(name: string, value: unknown): string {
  if (typeof value !== 'string')
    throw new TypeError(`${name} must be a string, received ${typeof value}`);
  if (value === '') throw new RangeError(`${name} must not be empty`);
  return value;
}

function checkVersion(value: unknown): number {
  if (value === undefined || value === null) return 0;
  if (typeof value !== 'number' || Number.isNaN(value))
    throw new TypeError(`version must be a number, received ${typeof value}`);
  if (!Number.isInteger(value) || value < 0 || value > maxVersion)
    throw new RangeError(`version must be a non-negative integer, received ${value}`);
  return value;
}

function checkInterval(value: unknown): number {
  if (value === undefined) return 10_000;
  if (typeof value !== 'number' || Number.isNaN(value))
    throw new TypeError(`intervalInMs must be a number, received ${typeof value}`);
  if (value < 1_000 || !Number.isFinite(value))
    throw new RangeError(`intervalInMs must be at least 1 000 ms, received ${value}`);
  return value;
}

function componentKey(component: HealthComponent): string {
  switch (component.kind) {
    case 'deviceEndpoint':
      return 'deviceEndpoint';
    case 'dataset':
      return `dataset\u0000${component.datasetName}`;
    case 'stream':
      return `stream\u0000${component.streamName}`;
    case 'event':
      return `event\u0000${component.eventGroupName}\u0000${component.eventName}`;
    case 'managementAction':
      return `managementAction\u0000${component.managementGroupName}\u0000${component.managementActionName}`;
  }
}

function checkComponent(value: unknown): AssetHealthComponent {
  if (typeof value !== 'object' || value === null)
    throw new TypeError('component must be an object with a kind');
  const component = value as Record<string, unknown>;
  switch (component['kind']) {
    case 'dataset':
      return { kind: 'dataset', datasetName: checkName('datasetName', component['datasetName']) };
    case 'stream':
      return { kind: 'stream', streamName: checkName('streamName', component['streamName']) };
    case 'event':
      return {
        kind: 'event',
        eventGroupName: checkName('eventGroupName', component['eventGroupName']),
        eventName: checkName('eventName', component['eventName']),
      };
    case 'managementAction':
      return {
        kind: 'managementAction',
        managementGroupName: checkName('managementGroupName', component['managementGroupName']),
        managementActionName: checkName('managementActionName', component['managementActionName']),
      };
    default:
      throw new TypeError(`component.kind must be dataset, event, stream or managementAction`);
  }
}

function groupKey(deviceName: string, endpointName: string, assetName: string | undefined): string {
  return `${deviceName}\u0000${endpointName}\u0000${assetName ?? ''}\u0000${assetName === undefined ? 'd' : 'a'}`;
}

function eventOf(component: HealthComponent): HealthEventName {
  switch (component.kind) {
    case 'deviceEndpoint':
      return 'deviceEndpointRuntimeHealthEvent';
    case 'dataset':
      return 'datasetRuntimeHealthEvent';
    case 'event':
      return 'eventRuntimeHealthEvent';
    case 'stream':
      return 'streamRuntimeHealthEvent';
    case 'managementAction':
      return 'managementActionRuntimeHealthEvent';
  }
}

/** The wire element of one component's health inside its event (the Thing Model's field names). */
function elementOf(
  component: HealthComponent,
  runtimeHealth: RuntimeHealth,
): Record<string, unknown> {
  switch (component.kind) {
    case 'deviceEndpoint':
      return { runtimeHealth };
    case 'dataset':
      return { datasetName: component.datasetName, runtimeHealth };
    case 'event':
      return {
        eventGroupName: component.eventGroupName,
        eventName: component.eventName,
        runtimeHealth,
      };
    case 'stream':
      return { streamName: component.streamName, runtimeHealth };
    case 'managementAction':
      return {
        managementGroupName: component.managementGroupName,
        managementActionName: component.managementActionName,
        runtimeHealth,
      };
  }
}

const listNames: Readonly<
  Record<Exclude<HealthEventName, 'deviceEndpointRuntimeHealthEvent'>, string>
> = {
  datasetRuntimeHealthEvent: 'datasets',
  eventRuntimeHealthEvent: 'events',
  streamRuntimeHealthEvent: 'streams',
  managementActionRuntimeHealthEvent: 'managementActions',
};

/** The payload of a health event, wrapped in an object keyed by the event name (CONTRACT §2.9). */
function healthPayload(
  event: HealthEventName,
  assetName: string | undefined,
  items: readonly { readonly component: HealthComponent; readonly health: RuntimeHealth }[],
): Record<string, unknown> {
  if (event === 'deviceEndpointRuntimeHealthEvent') {
    const first = items[0];
    if (first === undefined)
      throw new RangeError('a device endpoint health event needs one health');
    return { [event]: elementOf(first.component, first.health) };
  }
  return {
    [event]: {
      assetName,
      [listNames[event]]: items.map((item) => elementOf(item.component, item.health)),
    },
  };
}

function toRuntimeHealth(report: RuntimeHealthReport, version: number, now: number): RuntimeHealth {
  if (typeof report !== 'object' || report === null)
    throw new TypeError('health must be an object with a status');
  const { status, message, reasonCode } = report;
  if (!(healthStatuses as readonly unknown[]).includes(status))
    throw new TypeError(
      `health.status must be one of ${healthStatuses.join(', ')}, received ${JSON.stringify(status)}`,
    );
  if (message !== undefined && typeof message !== 'string')
    throw new TypeError(`health.message must be a string, received ${typeof message}`);
  if (reasonCode !== undefined && typeof reasonCode !== 'string')
    throw new TypeError(`health.reasonCode must be a string, received ${typeof reasonCode}`);
  const base = { version, status, lastUpdateTime: new Date(now).toISOString() };
  if (status === 'Available') return base;
  return {
    ...base,
    ...(message === undefined ? {} : { message }),
    ...(reasonCode === undefined ? {} : { reasonCode }),
  };
}

/**
 * Reports runtime health to ADR, the way the official SDKs do:
 * - the first report of a component is sent, and starts the periodic re-send;
 * - a report equal to the last one (status, message, reason code, version) is not sent: only its
 *   `lastUpdateTime` is kept for the next periodic re-send;
 * - a report for an older `version` of the definition than the last one is dropped;
 * - anything else is sent at once.
 *
 * Every `intervalInMs` the last health of every component that is not paused is sent again with
 * `lastUpdateTime` set to now (ADR28), batched per asset and event kind. Call
 * {@link HealthReporter.pause} when a definition was updated (so the service can age the component
 * to "Unknown" until the connector reports again) and {@link HealthReporter.remove} when it was
 * deleted.
 *
 * Payloads are the Thing Model's, wrapped in an object keyed by the event name, e.g.
 * `{"datasetRuntimeHealthEvent":{"assetName":"oven","datasets":[{"datasetName":"temperature","runtimeHealth":{...}}]}}`,
 * published with QoS 1 and message expiry = `timeoutInMs`. Reporting never blocks nor throws for a
 * failed send: sends run in the background, one at a time per device endpoint or asset, are
 * retried with backoff, and a final failure is logged; a component whose last send failed is sent
 * again on its next report even when nothing changed. While a send waits behind another one (a
 * slow or absent broker), later changes of its components do not queue more sends: it carries
 * their latest health. `flush()` waits for the sends.
 *
 * @example
 * ```ts
 * import { HealthReporter } from '@aio-connector/core';
 * declare const client: import('@aio-connector/core').MqttClient;
 * declare const asset: import('@aio-connector/core').Asset;
 * const health = new HealthReporter(client, { intervalInMs: 10_000 });
 * health.reportDataset('oven', 'rest', 'oven-asset', 'temperature', { status: 'Available' }, asset.version);
 * health.reportDataset('oven', 'rest', 'oven-asset', 'temperature', {
 *   status: 'Unavailable',
 *   message: 'HTTP 503 from /api/temperature',
 *   reasonCode: 'SourceUnavailable',
 * }, asset.version);
 * // after an update of the asset definition:
 * health.pause('oven', 'rest', 'oven-asset');
 * await health.close();
 * ```
 */
export class HealthReporter {
  /** The interval of the periodic re-send, in ms. */
  readonly intervalInMs: number;
  readonly #senders: ReadonlyMap<HealthEventName, TelemetrySender<Record<string, unknown>>>;
  readonly #groups = new Map<string, Group>();
  readonly #retry: RetryOptions;
  readonly #timeoutInMs: number;
  readonly #logger: Logger;
  readonly #controller = new AbortController();
  /** Every send queued or running, so that `flush` can wait for them. */
  readonly #inFlight = new Set<Promise<void>>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  /** After close, the sends still queued share this one deadline (one message expiry). */
  #closeDeadline: AbortSignal | undefined;

  constructor(client: MqttClient, options: HealthReporterOptions = {}) {
    if (typeof client !== 'object' || client === null)
      throw new TypeError('an MqttClient is required');
    if (typeof options !== 'object' || options === null)
      throw new TypeError('options must be an object');
    this.intervalInMs = checkInterval(options.intervalInMs);
    const timeoutInMs = options.timeoutInMs ?? 10_000;
    if (typeof timeoutInMs !== 'number' || Number.isNaN(timeoutInMs))
      throw new TypeError(`timeoutInMs must be a number, received ${typeof timeoutInMs}`);
    if (!(timeoutInMs >= 1_000) || !Number.isFinite(timeoutInMs))
      throw new RangeError(`timeoutInMs must be at least 1 000 ms, received ${timeoutInMs}`);
    this.#timeoutInMs = timeoutInMs;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'adr-health-reporter' });
    this.#retry = { ...adrRetryDefaults, ...options.retry, logger: this.#logger };
    const senders = new Map<HealthEventName, TelemetrySender<Record<string, unknown>>>();
    for (const event of healthEventNames)
      senders.set(
        event,
        new TelemetrySender<Record<string, unknown>>(client, healthTopicPattern(event), {
          topicTokens: { 'ex:connectorClientId': client.clientId },
          qos: 1,
          timeoutInMs,
          ...(options.hlc === undefined ? {} : { hlc: options.hlc }),
          logger: this.#logger,
        }),
      );
    this.#senders = senders;
  }

  /**
   * Reports the health of a device inbound endpoint. `version` is the device's `version` (`0` when
   * it has none). Returns at once; the send (if the report is worth sending) runs in the
   * background, is retried, and a final failure is logged. `flush()` waits for it.
   */
  reportDeviceEndpoint(
    deviceName: string,
    endpointName: string,
    health: RuntimeHealthReport,
    version?: number,
  ): void {
    this.#report(deviceName, endpointName, undefined, { kind: 'deviceEndpoint' }, health, version);
  }

  /** Reports the health of a dataset. `version` is the asset's `version` (`0` when it has none). */
  reportDataset(
    deviceName: string,
    endpointName: string,
    assetName: string,
    datasetName: string,
    health: RuntimeHealthReport,
    version?: number,
  ): void {
    this.#report(
      deviceName,
      endpointName,
      checkName('assetName', assetName),
      { kind: 'dataset', datasetName: checkName('datasetName', datasetName) },
      health,
      version,
    );
  }

  /** Reports the health of an event of an event group. `version` is the asset's `version`. */
  reportEvent(
    deviceName: string,
    endpointName: string,
    assetName: string,
    eventGroupName: string,
    eventName: string,
    health: RuntimeHealthReport,
    version?: number,
  ): void {
    this.#report(
      deviceName,
      endpointName,
      checkName('assetName', assetName),
      {
        kind: 'event',
        eventGroupName: checkName('eventGroupName', eventGroupName),
        eventName: checkName('eventName', eventName),
      },
      health,
      version,
    );
  }

  /** Reports the health of a stream. `version` is the asset's `version`. */
  reportStream(
    deviceName: string,
    endpointName: string,
    assetName: string,
    streamName: string,
    health: RuntimeHealthReport,
    version?: number,
  ): void {
    this.#report(
      deviceName,
      endpointName,
      checkName('assetName', assetName),
      { kind: 'stream', streamName: checkName('streamName', streamName) },
      health,
      version,
    );
  }

  /** Reports the health of a management action. `version` is the asset's `version`. */
  reportManagementAction(
    deviceName: string,
    endpointName: string,
    assetName: string,
    managementGroupName: string,
    managementActionName: string,
    health: RuntimeHealthReport,
    version?: number,
  ): void {
    this.#report(
      deviceName,
      endpointName,
      checkName('assetName', assetName),
      {
        kind: 'managementAction',
        managementGroupName: checkName('managementGroupName', managementGroupName),
        managementActionName: checkName('managementActionName', managementActionName),
      },
      health,
      version,
    );
  }

  /**
   * Stops re-sending health until the component is reported again; its next report is sent
   * whatever it is (unless it is for an older version). Call it when a definition was updated and
   * the last health may no longer hold, so the service can age the component to "Unknown".
   * - `pause(device, endpoint)`: the device endpoint's own health;
   * - `pause(device, endpoint, asset)`: every component of the asset;
   * - `pause(device, endpoint, asset, component)`: that component.
   */
  pause(
    deviceName: string,
    endpointName: string,
    assetName?: string,
    component?: AssetHealthComponent,
  ): void {
    for (const { entry } of this.#select(deviceName, endpointName, assetName, component, false))
      entry.paused = true;
  }

  /**
   * Forgets cached health so that nothing more is re-sent (a deleted device, asset or element):
   * - `remove(device, endpoint)`: the device endpoint and every asset of it;
   * - `remove(device, endpoint, asset)`: every component of the asset;
   * - `remove(device, endpoint, asset, component)`: that component.
   */
  remove(
    deviceName: string,
    endpointName: string,
    assetName?: string,
    component?: AssetHealthComponent,
  ): void {
    for (const { group, key } of this.#select(
      deviceName,
      endpointName,
      assetName,
      component,
      true,
    )) {
      group.entries.delete(key);
      if (group.entries.size === 0) this.#groups.delete(group.key);
    }
    if (this.#groups.size === 0) this.#stopTimer();
  }

  /** Resolves once every send queued so far has finished (successfully or not). */
  async flush(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
  }

  /**
   * Stops the periodic re-send and retries, and waits for the sends already queued (each gets one
   * more attempt; together they get at most `timeoutInMs`, so a broker that is away cannot hold
   * close up). Later reports are ignored. Safe to call twice.
   */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#closeDeadline = AbortSignal.timeout(this.#timeoutInMs);
      this.#stopTimer();
      this.#controller.abort(new AioError('ERR_AIO_CLOSED', 'the health reporter was closed'));
    }
    await this.flush();
  }

  /** Same as {@link HealthReporter.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  *#select(
    deviceNameInput: string,
    endpointNameInput: string,
    assetNameInput: string | undefined,
    componentInput: AssetHealthComponent | undefined,
    wholeDevice: boolean,
  ): Generator<{ readonly group: Group; readonly entry: Entry; readonly key: string }> {
    const deviceName = checkName('deviceName', deviceNameInput);
    const endpointName = checkName('endpointName', endpointNameInput);
    const assetName =
      assetNameInput === undefined ? undefined : checkName('assetName', assetNameInput);
    const component = componentInput === undefined ? undefined : checkComponent(componentInput);
    if (component !== undefined && assetName === undefined)
      throw new TypeError(`a ${component.kind} component needs an assetName`);
    for (const group of [...this.#groups.values()]) {
      if (group.deviceName !== deviceName || group.endpointName !== endpointName) continue;
      if (
        assetName === undefined
          ? !wholeDevice && group.assetName !== undefined
          : group.assetName !== assetName
      )
        continue;
      for (const [key, entry] of [...group.entries])
        if (component === undefined || key === componentKey(component)) yield { group, entry, key };
    }
  }

  #report(
    deviceName: string,
    endpointName: string,
    assetName: string | undefined,
    component: HealthComponent,
    report: RuntimeHealthReport,
    versionInput: number | undefined,
  ): void {
    checkName('deviceName', deviceName);
    checkName('endpointName', endpointName);
    const version = checkVersion(versionInput);
    const health = toRuntimeHealth(report, version, Date.now());
    if (this.#closed) {
      this.#logger.debug(
        { deviceName, endpointName, assetName },
        'health report after close ignored',
      );
      return;
    }
    const key = groupKey(deviceName, endpointName, assetName);
    let group = this.#groups.get(key);
    if (group === undefined) {
      group = {
        key,
        deviceName,
        endpointName,
        assetName,
        entries: new Map(),
        chain: Promise.resolve(),
        resending: false,
        sending: 0,
      };
      this.#groups.set(key, group);
    }
    const entryKey = componentKey(component);
    const entry = group.entries.get(entryKey);
    if (entry !== undefined && health.version < entry.health.version) {
      this.#logger.debug(
        { deviceName, endpointName, assetName, component, version },
        'health report for an older version dropped',
      );
      return;
    }
    // A paused component sends its next report whatever it is; otherwise the official rules
    // apply, and a component whose last send failed is sent again even when nothing changed.
    const send =
      entry === undefined ||
      entry.paused ||
      entry.failed ||
      compareHealth(entry.health, health) === 'send';
    const current: Entry = entry ?? {
      component,
      health,
      paused: false,
      failed: false,
      sends: 0,
      queued: false,
    };
    current.health = health;
    current.paused = false;
    if (entry === undefined) group.entries.set(entryKey, current);
    this.#startTimer();
    // while the broker is away, changes do not pile up: the send already waiting carries this one
    if (!send || current.queued) return;
    const event = eventOf(component);
    this.#enqueue(group, event, [{ component, health, entry: current }]).catch((error: unknown) => {
      this.#logger.warn(
        { deviceName, endpointName, assetName, component, err: error },
        `${event} could not be sent`,
      );
    });
  }

  #enqueue(
    group: Group,
    event: HealthEventName,
    items: readonly {
      readonly component: HealthComponent;
      readonly health: RuntimeHealth;
      readonly entry: Entry;
    }[],
  ): Promise<void> {
    const sender = this.#senders.get(event);
    if (sender === undefined) throw new TypeError(`unknown health event ${event}`);
    const tokens = {
      'ex:deviceName': group.deviceName,
      'ex:inboundEndpointName': group.endpointName,
    };
    const signal = this.#controller.signal;
    const shouldRetry = this.#retry.shouldRetry ?? isRetryable;
    // behind another send (a broker that is slow or away), this send will carry the latest health
    const waits = group.sending > 0;
    group.sending += 1;
    const sequence = items.map((item) => {
      item.entry.failed = false;
      if (waits) item.entry.queued = true;
      return ++item.entry.sends;
    });
    const settle = (failed: boolean): void => {
      items.forEach((item, i) => {
        if (item.entry.sends === sequence[i]) item.entry.failed = failed;
      });
    };
    const send = group.chain.then(async () => {
      // after a wait, the latest health of each component (the changes made meanwhile)
      for (const item of items) item.entry.queued = false;
      const payload = healthPayload(
        event,
        group.assetName,
        items.map((item) => ({
          component: item.component,
          health: waits ? item.entry.health : item.health,
        })),
      );
      // each attempt waits for its PUBACK at most as long as the message lives
      const attempt = async (): Promise<void> => {
        const timeout = this.#closeDeadline ?? AbortSignal.timeout(this.#timeoutInMs);
        try {
          await sender.send(payload, { topicTokens: tokens, signal: timeout });
        } catch (error) {
          if (!timeout.aborted) throw error;
          throw new ProtocolError('timeout', `${event} was not acknowledged in time`, {
            timeoutName: 'timeoutInMs',
            timeoutInMs: this.#timeoutInMs,
            cause: error,
          });
        }
      };
      // after close, what was queued gets one attempt and no retry
      if (this.#closed) await attempt();
      else
        await retry(attempt, {
          ...this.#retry,
          signal,
          operation: event,
          shouldRetry: (error, count) => !this.#closed && shouldRetry(error, count),
        });
    });
    send.then(
      () => {
        settle(false);
      },
      () => {
        settle(true);
      },
    );
    const tail = send.catch(() => undefined);
    void tail.then(() => {
      group.sending -= 1;
    });
    group.chain = tail;
    this.#inFlight.add(tail);
    void tail.then(() => this.#inFlight.delete(tail));
    return send;
  }

  #startTimer(): void {
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#resendAll();
      if (this.#groups.size > 0) this.#startTimer();
    }, this.intervalInMs);
    this.#timer.unref();
  }

  #stopTimer(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #resendAll(): void {
    const now = new Date().toISOString();
    for (const group of this.#groups.values()) {
      if (group.resending) continue;
      const byEvent = new Map<
        HealthEventName,
        { component: HealthComponent; health: RuntimeHealth; entry: Entry }[]
      >();
      for (const entry of group.entries.values()) {
        if (entry.paused) continue;
        entry.health = { ...entry.health, lastUpdateTime: now };
        const event = eventOf(entry.component);
        const list = byEvent.get(event) ?? [];
        list.push({ component: entry.component, health: entry.health, entry });
        byEvent.set(event, list);
      }
      if (byEvent.size === 0) continue;
      group.resending = true;
      const sends = [...byEvent].map(([event, items]) =>
        this.#enqueue(group, event, items).catch((error: unknown) => {
          this.#logger.warn(
            {
              deviceName: group.deviceName,
              endpointName: group.endpointName,
              assetName: group.assetName,
              event,
              err: error,
            },
            'periodic health report failed',
          );
        }),
      );
      void Promise.all(sends).then(() => {
        group.resending = false;
      });
    }
  }
}
