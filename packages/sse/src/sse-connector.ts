/**
 * `SseConnector`: the Server-Sent Events connector. For every available asset it opens one stream
 * per distinct stream path (endpoint `address` + event group or dataset `dataSource`), routes each
 * message by its `event:` name to the asset events whose `dataSource` names it, forwards datasets
 * every message of their stream, and keeps the streams open: reconnect with backoff, resume with
 * `Last-Event-ID`, idle watchdog, size caps, backpressure from the forwarding queue.
 *
 * @module
 */
import {
  AioError,
  ConfigError,
  EventDrivenTelemetryConnector,
  HttpEndpointClient,
  displayUrl,
  parseHttpAddress,
  resolveHttpDataSource,
  type AssetContext,
  type ConnectorOptions,
  type DatasetContext,
  type EndpointContext,
  type EventContext,
  type HttpEndpointClientOptions,
  type Logger,
  type UserProperty,
} from '@aio-connector/core';
import {
  createMemoryLastEventIdStore,
  createStateStoreLastEventIdStore,
  type LastEventIdStore,
} from './last-event-id-store.ts';
import {
  reservedStreamHeaders,
  sseEndpointConfiguration,
  type SseEndpointConfiguration,
} from './sse-configuration.ts';
import {
  SseStream,
  isSendableEventId,
  resolveSseStreamTiming,
  type SseClientSource,
  type ResolvedSseStreamTiming,
  type SseReconnectOptions,
  type SseStreamItem,
  type SseStreamState,
  type SseStreamStats,
} from './sse-stream.ts';

/** How the last event id of a stream is carried from one run of an asset to the next. */
export type SseResumeMode =
  /** In the process: an asset update or restart of its work resumes; a connector restart starts from now. */
  | 'memory'
  /** Not at all: every run of an asset starts from now (reconnects within a run still resume). */
  | 'none'
  /**
   * In the AIO broker state store, through the connector's own state store client: a restarted
   * connector, or another replica that takes over, resumes where the previous one stopped.
   */
  | 'state-store';

/** The HTTP client options the SSE connector passes to `HttpEndpointClient`. */
export type SseHttpOptions = Pick<
  HttpEndpointClientOptions,
  | 'connectTimeoutInMs'
  | 'headersTimeoutInMs'
  | 'keepAliveTimeoutInMs'
  | 'maxRedirects'
  | 'userAgent'
  | 'tlsServerName'
>;

/** Options of {@link SseConnector}: those of every connector, plus the stream settings. */
export interface SseConnectorOptions extends ConnectorOptions {
  /**
   * The largest event accepted, in bytes (its lines up to the blank line that ends it). Larger
   * events are skipped and reported on the status of the events they were for. Default: 1 MiB.
   */
  readonly maxEventBytes?: number;
  /**
   * The most bytes accepted without a line break; more closes the stream
   * (`ERR_AIO_SSE_BUFFER_OVERFLOW`, reported) and it is reopened. At least `maxEventBytes`.
   * Default: 4 × `maxEventBytes`.
   */
  readonly maxBufferedBytes?: number;
  /**
   * Close and reopen a stream that sends no byte, not even a comment heartbeat, for this long while
   * the connector waits for data, in ms; 0 = never. Default: 45 000.
   */
  readonly idleTimeoutInMs?: number;
  /** The largest `retry:` delay of a server that is honoured, in ms. Default: 60 000. */
  readonly maxRetryInMs?: number;
  /**
   * After a 204 or a failure retrying does not fix (401, 403, 404, wrong content type, TLS), try
   * the stream again this often, in ms; 0 = only when the asset or device is updated. Default:
   * 300 000.
   */
  readonly slowRetryInMs?: number;
  /** The reconnection backoff (from the server's `retry:` when it sent one). */
  readonly reconnect?: SseReconnectOptions;
  /**
   * How the last event id of each stream is carried between runs of an asset: `'memory'`,
   * `'none'`, `'state-store'` (the connector's state store: survives connector restarts and
   * fail-overs), or a {@link LastEventIdStore} of your own. Default: `'memory'`.
   */
  readonly resume?: SseResumeMode | LastEventIdStore;
  /** How often a changed last event id is saved to a {@link LastEventIdStore}, in ms. Default: 1 000. */
  readonly resumeSaveIntervalInMs?: number;
  /**
   * Wait for the broker to acknowledge each message before reading the next one. Slower, but a
   * saved last event id then never runs ahead of what the broker has. Default: `false` (a message
   * is done once queued; a full queue still holds reading back).
   */
  readonly waitForAck?: boolean;
  /** Extra request headers sent on every stream request. Default: none. */
  readonly headers?: Readonly<Record<string, string>>;
  /** HTTP client settings (timeouts, TLS server name, user agent). */
  readonly http?: SseHttpOptions;
}

/**
 * The defaults of {@link SseConnectorOptions} that the SSE connector adds.
 *
 * @example
 * ```ts
 * import { defaultSseConnectorOptions } from '@aio-connector/sse';
 * console.log(defaultSseConnectorOptions.idleTimeoutInMs); // 45000
 * ```
 */
export const defaultSseConnectorOptions = Object.freeze({
  maxEventBytes: 1024 * 1024,
  idleTimeoutInMs: 45_000,
  maxRetryInMs: 60_000,
  slowRetryInMs: 300_000,
  resume: 'memory' as const,
  resumeSaveIntervalInMs: 1_000,
  waitForAck: false,
  /** The forwarding queue blocks (backpressure) instead of dropping. */
  overflow: 'block' as const,
});

/**
 * The event `dataSource` that receives the messages no other event of its stream takes.
 *
 * @example
 * ```ts
 * import type { AssetEvent } from '@aio-connector/core';
 * import { catchAllEventType } from '@aio-connector/sse';
 * const everythingElse: AssetEvent = { name: 'other', dataSource: catchAllEventType };
 * ```
 */
export const catchAllEventType = '*';

/** A stream of an asset, as reported by {@link SseConnector.streams}. */
export interface SseStreamStatus extends SseStreamStats {
  readonly deviceName: string;
  readonly endpointName: string;
  readonly assetName: string;
  /** The stream URL (credentials and secret-looking query values hidden). */
  readonly url: string;
  /** Messages no event or dataset of the stream takes. */
  readonly unmatched: number;
  /** Messages forwarded (once per event or dataset that took them). */
  readonly forwarded: number;
}

interface Target {
  readonly context: EventContext | DatasetContext;
  /** An error of the stream is shown on the target's status and must be cleared. */
  flagged: boolean;
}

interface StreamPlan {
  readonly url: URL;
  /** The dataSource as configured (the first one seen for this URL). */
  readonly dataSource: string;
  readonly byType: Map<string, Target[]>;
  readonly catchAll: Target[];
  readonly datasets: Target[];
  readonly all: Target[];
}

interface StreamRecord {
  readonly asset: AssetContext;
  readonly plan: StreamPlan;
  readonly stream: SseStream;
  unmatched: number;
  forwarded: number;
  readonly unmatchedTypes: Set<string>;
}

interface ResolvedSseOptions {
  readonly timing: ResolvedSseStreamTiming;
  readonly resume: LastEventIdStore | 'state-store' | undefined;
  readonly resumeSaveIntervalInMs: number;
  readonly waitForAck: boolean;
  readonly headers: Readonly<Record<string, string>>;
  readonly http: SseHttpOptions;
}

const utf8 = new TextEncoder();
const maxTimerInMs = 2_147_483_647;
/** The HTTP client options accepted: numbers with their range, or strings. */
const httpOptionRules: Readonly<Record<string, readonly [number, number] | 'string'>> = {
  connectTimeoutInMs: [0, maxTimerInMs],
  headersTimeoutInMs: [0, maxTimerInMs],
  keepAliveTimeoutInMs: [1, maxTimerInMs],
  maxRedirects: [0, 100],
  userAgent: 'string',
  tlsServerName: 'string',
};
const saveTimeoutInMs = 5_000;
const jsonStart = /^[\s]*[[{"\-0-9tfn]/;
const headerToken = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function resolveOptions(options: SseConnectorOptions): ResolvedSseOptions {
  if (typeof options !== 'object' || options === null)
    throw new TypeError(`options must be an object, received ${typeof options}`);
  const timing = resolveSseStreamTiming(options);
  const resume = options.resume ?? defaultSseConnectorOptions.resume;
  let store: LastEventIdStore | 'state-store' | undefined;
  if (resume === 'memory') store = createMemoryLastEventIdStore();
  else if (resume === 'none') store = undefined;
  else if (resume === 'state-store') store = resume;
  else if (
    typeof resume === 'object' &&
    resume !== null &&
    typeof resume.load === 'function' &&
    typeof resume.save === 'function'
  )
    store = resume;
  else
    throw new TypeError(
      `resume must be 'memory', 'none', 'state-store' or a LastEventIdStore, received ${typeof resume === 'string' ? `'${String(resume)}'` : typeof resume}`,
    );
  const interval =
    options.resumeSaveIntervalInMs ?? defaultSseConnectorOptions.resumeSaveIntervalInMs;
  if (typeof interval !== 'number' || Number.isNaN(interval))
    throw new TypeError(`resumeSaveIntervalInMs must be a number, received ${typeof interval}`);
  if (!Number.isInteger(interval) || interval < 1 || interval > maxTimerInMs)
    throw new RangeError(
      `resumeSaveIntervalInMs must be an integer between 1 and ${maxTimerInMs}, received ${interval}`,
    );
  const waitForAck = options.waitForAck ?? defaultSseConnectorOptions.waitForAck;
  if (typeof waitForAck !== 'boolean')
    throw new TypeError(`waitForAck must be a boolean, received ${typeof waitForAck}`);
  const headers = options.headers ?? {};
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers))
    throw new TypeError('headers must be an object of header names to strings');
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string')
      throw new TypeError(`headers["${name}"] must be a string, received ${typeof value}`);
    if (!headerToken.test(name)) throw new RangeError(`headers: "${name}" is not a header name`);
    if (/[\r\n\0]/.test(value))
      throw new RangeError(`headers["${name}"] must not contain CR, LF or NUL`);
    if (reservedStreamHeaders.has(name.toLowerCase()))
      throw new RangeError(`headers must not set "${name}": the connector manages it`);
  }
  const http = options.http ?? {};
  if (typeof http !== 'object' || http === null)
    throw new TypeError(`http must be an object, received ${typeof http}`);
  for (const [key, value] of Object.entries(http)) {
    const rule = httpOptionRules[key];
    if (rule === undefined)
      throw new RangeError(`http.${key} is not an option of the SSE connector's HTTP client`);
    if (value === undefined) continue;
    if (rule === 'string') {
      if (typeof value !== 'string')
        throw new TypeError(`http.${key} must be a string, received ${typeof value}`);
      if (/[\r\n\0]/.test(value) || (key === 'tlsServerName' && value === ''))
        throw new RangeError(`http.${key} must be non-empty text without CR, LF or NUL`);
      continue;
    }
    if (typeof value !== 'number' || Number.isNaN(value))
      throw new TypeError(`http.${key} must be a number, received ${typeof value}`);
    if (!Number.isInteger(value) || value < rule[0] || value > rule[1])
      throw new RangeError(
        `http.${key} must be an integer between ${rule[0]} and ${rule[1]}, received ${value}`,
      );
  }
  return Object.freeze({
    timing,
    resume: store,
    resumeSaveIntervalInMs: interval,
    waitForAck,
    headers: Object.freeze({ ...headers }),
    http: Object.freeze({ ...http }),
  });
}

/** The SSE event name an asset event takes: its `dataSource`, `message` when it has none. */
function eventTypeOf(event: EventContext): string {
  const name = event.event.dataSource?.trim();
  return name === undefined || name === '' ? 'message' : name;
}

function streamPathOf(target: EventContext | DatasetContext): string | undefined {
  const path = 'eventGroup' in target ? target.eventGroup.dataSource : target.dataset.dataSource;
  return path === undefined || path.trim() === '' ? undefined : path;
}

function sourceOf(target: EventContext | DatasetContext): string {
  const asset = `asset "${target.asset.assetName}"`;
  return 'eventGroup' in target
    ? `${asset} event "${target.eventGroupName}/${target.name}"`
    : `${asset} dataset "${target.name}"`;
}

function endpointSource(endpoint: EndpointContext): string {
  return `device "${endpoint.deviceName}" endpoint "${endpoint.endpointName}"`;
}

function looksLikeJson(text: string): boolean {
  if (!jsonStart.test(text)) return false;
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function waitForAbort(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    signal.addEventListener(
      'abort',
      () => {
        resolve();
      },
      { once: true },
    );
  });
}

/**
 * The Server-Sent Events connector.
 *
 * - **Streams.** One HTTP stream per distinct stream path of an asset: an event group's
 *   `dataSource` (for its events) or a dataset's `dataSource`, resolved against the endpoint
 *   `address`. Events and datasets reading the same path share the stream.
 * - **Routing.** Each message goes to the asset events of its stream whose `dataSource` is its
 *   `event:` name (`message` when the message has none, and for events without a `dataSource`),
 *   to the events whose `dataSource` is `*` when no other event takes it, and to every dataset of
 *   the stream. Other messages are counted as unmatched.
 * - **Payload.** The `data` field (multi-line data joined with `\n`), as UTF-8:
 *   `application/json` when it is JSON (the schema is inferred and registered),
 *   `text/plain; charset=utf-8` otherwise; user properties `sse-event` (the event name) and
 *   `sse-id` (the last event id, when there is one).
 * - **Resilience.** Reconnect after any drop with exponential backoff and jitter, never sooner than
 *   the server's `retry:` (capped), resuming with `Last-Event-ID`; an idle watchdog; 204 and
 *   non-retryable failures reported on the status and tried again on a slow schedule; events
 *   larger than `maxEventBytes` skipped; a peer that never sends a line break cut off at
 *   `maxBufferedBytes`.
 * - **Backpressure.** Forwarding uses the `block` overflow policy unless told otherwise: when the
 *   forwarding queue is full, the connector stops reading the stream instead of dropping messages.
 *
 * @example
 * ```ts
 * import { readinessProbeMain } from '@aio-connector/core';
 * import { SseConnector } from '@aio-connector/sse';
 *
 * readinessProbeMain();
 * await new SseConnector({ idleTimeoutInMs: 30_000 }).run();
 * ```
 */
export class SseConnector extends EventDrivenTelemetryConnector {
  readonly #sse: ResolvedSseOptions;
  readonly #records = new Set<StreamRecord>();
  #stateStoreResume: LastEventIdStore | undefined;

  constructor(options: SseConnectorOptions = {}) {
    const resolved = resolveOptions(options);
    super({
      ...options,
      forwarding: { overflow: defaultSseConnectorOptions.overflow, ...options.forwarding },
    });
    this.#sse = resolved;
  }

  /** The streams open or reconnecting now, with their counters. */
  get streams(): readonly SseStreamStatus[] {
    return [...this.#records].map((record) => ({
      ...record.stream.stats,
      deviceName: record.asset.deviceName,
      endpointName: record.asset.endpointName,
      assetName: record.asset.assetName,
      url: record.stream.displayUrl,
      unmatched: record.unmatched,
      forwarded: record.forwarded,
    }));
  }

  /**
   * Accepts `http:` and `https:` endpoint addresses, and checks the endpoint's
   * `additionalConfiguration` (`headers`, `tlsServerName`, `idleTimeoutInMs`, `maxEventBytes`).
   */
  protected override validateEndpoint(endpoint: EndpointContext): void {
    const source = endpointSource(endpoint);
    parseHttpAddress(endpoint.endpoint.address, { source });
    sseEndpointConfiguration(endpoint.configuration, source);
  }

  /** An event needs a stream path: its event group's `dataSource`. */
  protected override validateEvent(event: EventContext): void {
    const source = sourceOf(event);
    const path = streamPathOf(event);
    if (path === undefined)
      throw new ConfigError(
        `${source}: event group "${event.eventGroupName}" has no dataSource; set it to the path of the event stream on the endpoint (for example /events)`,
        { source, field: 'eventGroups.dataSource' },
      );
    resolveHttpDataSource(event.endpoint.address, path, { source });
    const type = eventTypeOf(event);
    if (/[\r\n]/.test(type))
      throw new ConfigError(
        `${source}: the event dataSource (the SSE event name) has a line break`,
        {
          source,
          field: 'dataSource',
        },
      );
  }

  /** A dataset needs a stream path: its `dataSource`. */
  protected override validateDataset(dataset: DatasetContext): void {
    const source = sourceOf(dataset);
    const path = streamPathOf(dataset);
    if (path === undefined)
      throw new ConfigError(
        `${source} has no dataSource; set it to the path of the event stream on the endpoint (for example /events)`,
        { source, field: 'dataSource' },
      );
    resolveHttpDataSource(dataset.endpoint.address, path, { source });
  }

  /** Opens the asset's streams and forwards their messages until `signal` aborts. */
  protected override async whileAssetAvailable(
    asset: AssetContext,
    { signal }: { readonly signal: AbortSignal },
  ): Promise<void> {
    const plans = this.#plan(asset);
    if (plans.length === 0) {
      asset.logger.info('the asset has no event or dataset to stream; idle until it is updated');
      await waitForAbort(signal);
      return;
    }
    const endpoint = sseEndpointConfiguration(asset.configuration, endpointSource(asset));
    const local = new AbortController();
    const runSignal = AbortSignal.any([signal, local.signal]);
    const results = await Promise.allSettled(
      plans.map((plan) =>
        this.#runStream(asset, endpoint, plan, runSignal).catch((error: unknown) => {
          local.abort(error);
          throw error;
        }),
      ),
    );
    const failed = results.find((result) => result.status === 'rejected');
    if (failed !== undefined && !signal.aborted) throw failed.reason;
  }

  /** Groups the asset's events and datasets by stream URL. */
  #plan(asset: AssetContext): StreamPlan[] {
    const plans = new Map<string, StreamPlan>();
    const planOf = (target: EventContext | DatasetContext): StreamPlan | undefined => {
      const path = streamPathOf(target);
      if (path === undefined) return undefined;
      const url = resolveHttpDataSource(asset.endpoint.address, path, { source: sourceOf(target) });
      let plan = plans.get(url.href);
      if (plan === undefined) {
        plan = { url, dataSource: path, byType: new Map(), catchAll: [], datasets: [], all: [] };
        plans.set(url.href, plan);
      }
      return plan;
    };
    for (const event of asset.events) {
      const plan = planOf(event);
      if (plan === undefined) continue;
      const target: Target = { context: event, flagged: false };
      const type = eventTypeOf(event);
      if (type === catchAllEventType) plan.catchAll.push(target);
      else {
        const list = plan.byType.get(type) ?? [];
        list.push(target);
        plan.byType.set(type, list);
      }
      plan.all.push(target);
    }
    for (const dataset of asset.datasets) {
      const plan = planOf(dataset);
      if (plan === undefined) continue;
      const target: Target = { context: dataset, flagged: false };
      plan.datasets.push(target);
      plan.all.push(target);
    }
    return [...plans.values()];
  }

  async #runStream(
    asset: AssetContext,
    endpoint: SseEndpointConfiguration,
    plan: StreamPlan,
    signal: AbortSignal,
  ): Promise<void> {
    // the resume key may be stored in the broker state store: no secret query values in it
    const key = `${asset.deviceName}/${asset.endpointName}/${asset.assetName}/${displayUrl(plan.url)}`;
    const logger = asset.logger.child({ stream: plan.dataSource });
    const store =
      this.#sse.resume === 'state-store'
        ? (this.#stateStoreResume ??= createStateStoreLastEventIdStore(asset.stateStore))
        : this.#sse.resume;
    let lastEventId = '';
    if (store !== undefined) {
      try {
        const saved: unknown = await store.load(key, { signal });
        if (typeof saved === 'string' && isSendableEventId(saved)) lastEventId = saved;
        else if (saved !== undefined && saved !== null)
          logger.warn(
            'the saved last event id cannot be sent as Last-Event-ID (not a string, or a line break); resuming from now',
          );
      } catch (error) {
        if (signal.aborted) return;
        logger.warn({ err: error }, 'could not read the saved last event id; resuming from now');
      }
    }
    if (signal.aborted) return;
    const { timing } = this.#sse;
    const maxEventBytes = endpoint.maxEventBytes ?? timing.maxEventBytes;
    const clients = new EndpointClientSource(asset, {
      ...this.#sse.http,
      ...(endpoint.tlsServerName === undefined ? {} : { tlsServerName: endpoint.tlsServerName }),
    });
    const stream = new SseStream(clients, {
      url: plan.dataSource,
      lastEventId,
      maxEventBytes,
      maxBufferedBytes:
        endpoint.maxEventBytes === undefined
          ? timing.maxBufferedBytes
          : Math.max(timing.maxBufferedBytes, Math.min(Number.MAX_SAFE_INTEGER, 4 * maxEventBytes)),
      idleTimeoutInMs: endpoint.idleTimeoutInMs ?? timing.idleTimeoutInMs,
      maxRetryInMs: timing.maxRetryInMs,
      slowRetryInMs: timing.slowRetryInMs,
      reconnect: timing.reconnect,
      headers: { ...this.#sse.headers, ...endpoint.headers },
      logger,
      onStateChange: (state) => {
        this.#onState(plan, state, stream.displayUrl);
      },
    });
    const record: StreamRecord = {
      asset,
      plan,
      stream,
      unmatched: 0,
      forwarded: 0,
      unmatchedTypes: new Set(),
    };
    this.#records.add(record);
    const saver = store === undefined ? undefined : new IdSaver(store, key, lastEventId, logger);
    const timer =
      saver === undefined
        ? undefined
        : setInterval(() => {
            void saver.save(stream.lastEventId, undefined);
          }, this.#sse.resumeSaveIntervalInMs);
    timer?.unref();
    try {
      await stream.run((item, options) => this.#route(record, item, options.signal), { signal });
    } finally {
      clearInterval(timer);
      this.#records.delete(record);
      await clients.close();
      await saver?.save(stream.lastEventId, AbortSignal.timeout(saveTimeoutInMs));
    }
  }

  #targetsOf(plan: StreamPlan, type: string): Target[] {
    const events = plan.byType.get(type) ?? plan.catchAll;
    return plan.datasets.length === 0 ? events : [...events, ...plan.datasets];
  }

  async #route(record: StreamRecord, item: SseStreamItem, signal: AbortSignal): Promise<void> {
    const targets = this.#targetsOf(record.plan, item.event);
    if (item.kind === 'skipped') {
      record.asset.logger.warn(
        { stream: record.stream.displayUrl, eventType: item.event, id: item.id, bytes: item.bytes },
        'event too large: skipped',
      );
      for (const target of targets) {
        target.flagged = true;
        void target.context.reportError(item.error);
      }
      return;
    }
    if (targets.length === 0) {
      record.unmatched += 1;
      if (!record.unmatchedTypes.has(item.event) && record.unmatchedTypes.size < 100) {
        record.unmatchedTypes.add(item.event);
        record.asset.logger.debug(
          { stream: record.stream.displayUrl, eventType: item.event },
          'no event or dataset takes this event type: not forwarded',
        );
      }
      return;
    }
    const payload = utf8.encode(item.data);
    const contentType = looksLikeJson(item.data) ? 'application/json' : 'text/plain; charset=utf-8';
    const userProperties: UserProperty[] = [['sse-event', item.event]];
    if (item.lastEventId !== '') userProperties.push(['sse-id', item.lastEventId]);
    for (const target of targets) {
      try {
        await target.context.forward(payload, {
          contentType,
          userProperties,
          signal,
          ...(this.#sse.waitForAck ? { waitForAck: true } : {}),
        });
        record.forwarded += 1;
        if (target.flagged) {
          target.flagged = false;
          void target.context.reportError(undefined);
        }
      } catch (error) {
        if (signal.aborted) throw error;
        // the forward failure is on the target's status already; the stream goes on
        record.asset.logger.debug({ err: error, target: target.context.name }, 'forward failed');
      }
    }
  }

  #onState(plan: StreamPlan, state: SseStreamState, url: string): void {
    switch (state.status) {
      case 'open':
        for (const target of plan.all) {
          if (target.flagged) {
            target.flagged = false;
            void target.context.reportError(undefined);
          }
          target.context.reportHealth({ status: 'Available' });
        }
        return;
      case 'reconnecting': {
        const { error, delayInMs } = state;
        const onStatus = error.code === 'ERR_AIO_SSE_BUFFER_OVERFLOW';
        for (const target of plan.all) {
          if (onStatus) {
            target.flagged = true;
            void target.context.reportError(error);
          }
          target.context.reportHealth({
            status: 'Unavailable',
            message: `the event stream ${url} is unavailable (${error.message}); reconnecting in ${Math.ceil(delayInMs / 1000)} s`,
            reasonCode: error.code,
          });
        }
        return;
      }
      case 'stopped':
        for (const target of plan.all) {
          target.flagged = true;
          void target.context.reportError(stoppedError(state.error, state.delayInMs));
        }
        return;
      case 'connecting':
      case 'closed':
        return;
    }
  }
}

/**
 * The HTTP client of one stream: made with the endpoint credentials read from the mounts when the
 * stream first connects, and made again (credentials read again) after an authentication or TLS
 * failure, so rotated secrets and trust lists are picked up.
 */
class EndpointClientSource implements SseClientSource {
  readonly address: string;
  readonly #asset: AssetContext;
  readonly #options: SseHttpOptions;
  #current: HttpEndpointClient | undefined;

  constructor(asset: AssetContext, options: SseHttpOptions) {
    this.address = asset.endpoint.address;
    this.#asset = asset;
    this.#options = options;
  }

  async client(options: { readonly renew: boolean; readonly signal: AbortSignal }) {
    if (this.#current !== undefined && !options.renew) return this.#current;
    await this.close();
    const credentials = await this.#asset.readCredentials({ signal: options.signal });
    this.#current = new HttpEndpointClient(this.address, {
      ...this.#options,
      credentials,
      source: endpointSource(this.#asset),
      logger: this.#asset.logger,
    });
    return this.#current;
  }

  async close(): Promise<void> {
    const current = this.#current;
    this.#current = undefined;
    await current?.destroy();
  }
}

/** The error reported for a stopped stream: the failure, and when it is tried again. */
function stoppedError(error: AioError, delayInMs: number | undefined): AioError {
  const when =
    delayInMs === undefined
      ? 'it is tried again when the asset or device is updated'
      : `it is tried again in ${Math.ceil(delayInMs / 1000)} s`;
  return new AioError(error.code, `${error.message}; ${when}`, {
    cause: error,
    retryable: error.retryable,
    details: error.details,
  });
}

/** Saves the last event id of one stream when it changed, one save at a time. */
class IdSaver {
  readonly #store: LastEventIdStore;
  readonly #key: string;
  readonly #logger: Logger;
  #saved: string;
  #saving: Promise<void> = Promise.resolve();

  constructor(store: LastEventIdStore, key: string, saved: string, logger: Logger) {
    this.#store = store;
    this.#key = key;
    this.#saved = saved;
    this.#logger = logger;
  }

  save(lastEventId: string, signal: AbortSignal | undefined): Promise<void> {
    this.#saving = this.#saving.then(async () => {
      if (lastEventId === this.#saved) return;
      try {
        await this.#store.save(this.#key, lastEventId, signal === undefined ? {} : { signal });
        this.#saved = lastEventId;
      } catch (error) {
        this.#logger.warn({ err: error }, 'could not save the last event id');
      }
    });
    return this.#saving;
  }
}
