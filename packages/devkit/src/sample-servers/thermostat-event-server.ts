/**
 * The thermostat event sample server: a Server-Sent Events stream of the simulated thermostat's
 * `thermostat_status_changed` events (the payload of the official TCP thermostat sample) and
 * `alarm` events, with ids a client resumes from (`Last-Event-ID`), the `retry:` field, comment
 * heartbeats, and injectable faults (dropped connections, 204, 401, wrong content type, a stalled
 * or newline-free stream, oversized events) for tests and demos.
 *
 * @module
 */
import { Buffer } from 'node:buffer';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { AioError, ConfigError, abortError } from '@aio-connector/core';
import {
  SampleListener,
  RequestLog,
  authenticate,
  checkInteger,
  checkOptionalNumber,
  errorBody,
  readBody,
  requestUrl,
  resolveCommonOptions,
  sendAuthFailure,
  sendJson,
  type SampleServerAuth,
  type SampleServerCommonOptions,
  type SampleServerRequest,
} from './sample-http.ts';
import { ThermostatSimulator, type ThermostatSimulatorOptions } from './thermostat-simulator.ts';

/** An event the server sent, as kept in its replay buffer. */
export interface SampleStreamEvent {
  /** The event id (`id:` field), increasing by 1 from 1 for each event of the server. */
  readonly id: number;
  /** The event name (`event:` field); `undefined` sends none (clients see `message`). */
  readonly event: string | undefined;
  /** The data as sent, lines joined with `\n` (each line is one `data:` field). */
  readonly data: string;
  /** When the event was sent, by the server's clock. */
  readonly sentAt: Date;
}

/** What {@link ThermostatEventServer.send} takes. */
export interface SampleStreamEventInput {
  /** The event name; no line breaks. Default: none (clients see `message`). */
  readonly event?: string;
  /**
   * The data: a string is sent as is (one `data:` field per line), anything else as JSON (pretty
   * printed over several lines with `multilineData`).
   */
  readonly data: unknown;
}

/**
 * A fault for the next event stream requests. Each applies to `times` requests (default:
 * `Infinity`, until cleared).
 *
 * - `status`: answer with this status instead of a stream (`204` tells clients to stop, `401` also
 *   sends `WWW-Authenticate: Basic`, others a JSON error body and an optional `Retry-After`).
 * - `content-type`: answer `200` with this content type (default `application/json`) and a JSON
 *   body.
 * - `stall`: send the stream headers, then nothing at all (no events, no heartbeats).
 * - `oversized-event`: start the stream with one event (no id) whose data is `bytes` bytes long,
 *   then go on normally.
 * - `no-newline`: send the stream headers and `bytes` bytes without any line break, then stall.
 */
export type SampleStreamFault =
  | {
      readonly kind: 'status';
      readonly status: number;
      readonly retryAfter?: number | string;
      readonly times?: number;
    }
  | { readonly kind: 'content-type'; readonly contentType?: string; readonly times?: number }
  | { readonly kind: 'stall'; readonly times?: number }
  | { readonly kind: 'oversized-event'; readonly bytes: number; readonly times?: number }
  | { readonly kind: 'no-newline'; readonly bytes: number; readonly times?: number };

/** The fault setting of a {@link ThermostatEventServer}. */
export interface SampleStreamFaults {
  /** Applies `fault` to the next stream requests, replacing the current one. */
  set(fault: SampleStreamFault): void;
  /** The fault in force, with the uses left in `times`. */
  readonly current: SampleStreamFault | undefined;
  /** Removes the fault. */
  clear(): void;
}

/**
 * How streams are dropped: `destroy` closes the TCP connection once what was written has been sent,
 * without ending the HTTP response (clients see a truncated body); `end` ends the response cleanly.
 */
export type SampleDropMode = 'destroy' | 'end';

/** Options of {@link startThermostatEventServer}. Every field is optional. */
export interface ThermostatEventServerOptions extends SampleServerCommonOptions {
  /** The simulated thermostat, for example one shared with a REST server. Default: a new one. */
  readonly state?: ThermostatSimulator;
  /** The initial values of a new simulated thermostat. Default: random. */
  readonly initialState?: Pick<
    ThermostatSimulatorOptions,
    'desiredTemperature' | 'currentTemperature' | 'power'
  >;
  /**
   * Every `intervalInMs` the thermostat takes a step and the server sends a
   * `thermostat_status_changed` event (and an `alarm` when out of band); 0 sends events only
   * through `send()` / `tick()`. Default: 1000.
   */
  readonly intervalInMs?: number;
  /** The path, or paths, serving the stream (all serve the same events). Default: `'/events'`. */
  readonly path?: string | readonly string[];
  /** Send `retry: <retryInMs>` when a stream opens. Default: not sent. */
  readonly retryInMs?: number;
  /** Send a `: ping` comment to every stream this often, in ms. Default: no heartbeats. */
  readonly heartbeatInMs?: number;
  /** Send JSON data pretty printed, one `data:` field per line. Default: `false`. */
  readonly multilineData?: boolean;
  /** How many events are kept for `Last-Event-ID` replay (oldest dropped). Default: 1000. */
  readonly replayBufferSize?: number;
  /**
   * An `alarm` is sent when the current temperature is more than this many °F above
   * (`OVER_TEMP`) or below (`UNDER_TEMP`) the desired one. Default: 3.
   */
  readonly alarmThreshold?: number;
  /**
   * Honour faults requested in the query string (`?fault=…`, see
   * {@link startThermostatEventServer}). Default: `true`.
   */
  readonly queryFaults?: boolean;
  /**
   * A stream whose unsent data exceeds this many bytes (a client that stopped reading) is
   * destroyed. Default: 8 MiB.
   */
  readonly maxBufferedBytes?: number;
}

/** A running thermostat event server. */
export interface ThermostatEventServer extends AsyncDisposable {
  /** The URL of the (first) stream, e.g. `http://127.0.0.1:41234/events`. */
  readonly url: string;
  /** The origin, e.g. `http://127.0.0.1:41234` (a device endpoint address). */
  readonly origin: string;
  /** The port listened on. */
  readonly port: number;
  /** The stream paths. */
  readonly paths: readonly string[];
  /** The simulated thermostat. */
  readonly state: ThermostatSimulator;
  /** The requests received, oldest first (a copy; credentials redacted). */
  readonly requests: readonly SampleServerRequest[];
  /** The streams receiving events now. */
  readonly clients: number;
  /** The open TCP connections (including stalled streams). */
  readonly connections: number;
  /** The id of the last event sent; 0 before the first. */
  readonly lastEventId: number;
  /** The replay buffer, oldest first (a copy). */
  readonly events: readonly SampleStreamEvent[];
  /** The fault setting. */
  readonly faults: SampleStreamFaults;
  /**
   * Sends an event to every stream now, with the next id, and keeps it for replay. Throws a
   * `TypeError` for an event name with a line break or data that is not serializable.
   */
  send(input: SampleStreamEventInput): SampleStreamEvent;
  /**
   * Moves the thermostat one step and sends its `thermostat_status_changed` event, plus an `alarm`
   * when out of band; returns the events sent.
   */
  tick(): readonly SampleStreamEvent[];
  /** Drops every open stream (including stalled ones); returns how many. Default mode: `destroy`. */
  dropConnections(mode?: SampleDropMode): number;
  /**
   * After every `count` events sent, drops every stream (after writing the event); `undefined`
   * stops. Default mode: `destroy`.
   */
  dropConnectionsEvery(count: number | undefined, mode?: SampleDropMode): void;
  /**
   * Resolves once at least `count` streams receive events. Rejects with `ERR_AIO_ABORTED` when
   * `signal` aborts, `ERR_AIO_CLOSED` when the server closes.
   */
  waitForClients(count: number, options?: { readonly signal?: AbortSignal }): Promise<void>;
  /** Stops the timers and listening, and destroys every open connection. Idempotent. */
  close(): Promise<void>;
}

const defaultMaxBufferedBytes = 8 * 1024 * 1024;
const maxFaultBytes = 256 * 1024 * 1024;
const chunkBytes = 64 * 1024;
/** How long a dropped stream may take to send what was written before it is destroyed. */
const cutTimeoutInMs = 2000;

interface Client {
  readonly response: ServerResponse;
}

interface Waiter {
  readonly count: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

type StoredFault = SampleStreamFault & { remaining: number };

function checkStreamFault(fault: SampleStreamFault, name = 'fault'): void {
  if (typeof fault !== 'object' || fault === null)
    throw new TypeError(`${name} must be an object, received ${typeof fault}`);
  checkOptionalNumber(`${name}.times`, fault.times, 1, Infinity, true);
  switch (fault.kind) {
    case 'status':
      checkInteger(`${name}.status`, fault.status, 200, 599);
      if (typeof fault.retryAfter === 'number')
        checkOptionalNumber(`${name}.retryAfter`, fault.retryAfter, 0, 86_400);
      else if (fault.retryAfter !== undefined && typeof fault.retryAfter !== 'string')
        throw new TypeError(`${name}.retryAfter must be a number or a string`);
      return;
    case 'content-type':
      if (
        fault.contentType !== undefined &&
        (typeof fault.contentType !== 'string' || /[\r\n]/.test(fault.contentType))
      )
        throw new TypeError(`${name}.contentType must be a string without line breaks`);
      return;
    case 'stall':
      return;
    case 'oversized-event':
    case 'no-newline':
      checkInteger(`${name}.bytes`, fault.bytes, 1, maxFaultBytes);
      return;
    default:
      throw new TypeError(
        `${name}.kind must be 'status', 'content-type', 'stall', 'oversized-event' or 'no-newline', received ${String((fault as { kind: unknown }).kind)}`,
      );
  }
}

class StreamFaults implements SampleStreamFaults {
  #fault: StoredFault | undefined;

  set(fault: SampleStreamFault): void {
    checkStreamFault(fault);
    this.#fault = { ...fault, remaining: fault.times ?? Infinity };
  }

  get current(): SampleStreamFault | undefined {
    if (this.#fault === undefined) return undefined;
    const { remaining, ...fault } = this.#fault;
    return { ...fault, times: remaining };
  }

  clear(): void {
    this.#fault = undefined;
  }

  take(): SampleStreamFault | undefined {
    const fault = this.#fault;
    if (fault === undefined) return undefined;
    fault.remaining--;
    if (fault.remaining <= 0) this.#fault = undefined;
    return fault;
  }
}

function queryStreamFault(params: URLSearchParams): SampleStreamFault | undefined {
  const kind = params.get('fault');
  if (kind === null || kind === '') return undefined;
  const number = (name: string, fallback: number): number => {
    const text = params.get(name);
    if (text === null || text === '') return fallback;
    const value = Number(text);
    if (!Number.isFinite(value)) throw new RangeError(`query parameter ${name} must be a number`);
    return value;
  };
  const retryAfterText = params.get('retryAfter');
  const retryAfter =
    retryAfterText === null || retryAfterText === ''
      ? {}
      : {
          retryAfter: Number.isFinite(Number(retryAfterText))
            ? Number(retryAfterText)
            : retryAfterText,
        };
  let fault: SampleStreamFault;
  if (/^[2-5][0-9][0-9]$/.test(kind))
    fault = { kind: 'status', status: Number(kind), ...retryAfter };
  else if (kind === 'status')
    fault = { kind: 'status', status: number('status', 503), ...retryAfter };
  else if (kind === 'stall') fault = { kind: 'stall' };
  else if (kind === 'content-type')
    fault = { kind: 'content-type', contentType: params.get('contentType') ?? 'application/json' };
  else if (kind === 'oversized' || kind === 'oversized-event')
    fault = { kind: 'oversized-event', bytes: number('bytes', 1024 * 1024) };
  else if (kind === 'no-newline')
    fault = { kind: 'no-newline', bytes: number('bytes', 1024 * 1024) };
  else throw new RangeError(`unknown fault "${kind}"`);
  checkStreamFault(fault, 'query fault');
  return fault;
}

/** Encodes one event in the `text/event-stream` format. */
function encodeEvent(id: number | undefined, event: string | undefined, data: string): string {
  let text = id === undefined ? '' : `id: ${id}\n`;
  if (event !== undefined) text += `event: ${event}\n`;
  for (const line of data.split(/\r\n|\r|\n/)) text += `data: ${line}\n`;
  return `${text}\n`;
}

function resolvePaths(path: string | readonly string[]): readonly string[] {
  const paths = typeof path === 'string' ? [path] : path;
  if (!Array.isArray(paths) || paths.length === 0)
    throw new TypeError('path must be a string or a non-empty array of strings');
  for (const p of paths as unknown[]) {
    if (typeof p !== 'string') throw new TypeError(`path must be a string, received ${typeof p}`);
    if (!p.startsWith('/') || /[?#\s]/.test(p))
      throw new RangeError(`path must start with "/" and have no query or spaces, received "${p}"`);
  }
  return Object.freeze([...new Set(paths as string[])]);
}

const streamHeaders: OutgoingHttpHeaders = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};

/** Resolves when the response can take more data, or is gone. */
function drained(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.once('drain', done);
    response.once('close', done);
  });
}

/** Writes `total` bytes made of `prefix`, filler `x` and `suffix`, minding backpressure. */
async function writeFilled(
  response: ServerResponse,
  prefix: string,
  total: number,
  suffix: string,
): Promise<void> {
  const open = (): boolean => !response.destroyed && !response.writableEnded;
  let filler = Math.max(0, total - Buffer.byteLength(prefix) - Buffer.byteLength(suffix));
  if (prefix !== '' && !response.write(prefix)) await drained(response);
  const chunk = Buffer.alloc(Math.min(chunkBytes, Math.max(1, filler)), 'x');
  while (filler > 0 && open()) {
    const size = Math.min(filler, chunk.length);
    filler -= size;
    if (!response.write(chunk.subarray(0, size))) await drained(response);
  }
  if (suffix !== '' && open()) response.write(suffix);
}

/**
 * Cuts the connection of a stream without ending the HTTP response (the client sees a truncated
 * body), after what was already written has been sent.
 */
function cut(response: ServerResponse): void {
  const socket = response.socket;
  if (socket === null || socket.destroyed) return;
  const timer = setTimeout(() => socket.destroy(), cutTimeoutInMs);
  timer.unref();
  socket.once('close', () => {
    clearTimeout(timer);
  });
  socket.end(() => socket.destroy());
}

class ThermostatEventServerImpl implements ThermostatEventServer {
  readonly #listener: SampleListener;
  readonly #log: RequestLog;
  readonly #faults = new StreamFaults();
  readonly #state: ThermostatSimulator;
  readonly #auth: SampleServerAuth;
  readonly #now: () => Date;
  readonly #paths: readonly string[];
  readonly #retryInMs: number | undefined;
  readonly #multilineData: boolean;
  readonly #replayBufferSize: number;
  readonly #alarmThreshold: number;
  readonly #queryFaults: boolean;
  readonly #maxBufferedBytes: number;
  readonly #intervalInMs: number;
  readonly #heartbeatInMs: number | undefined;
  readonly #clients = new Set<Client>();
  readonly #streams = new Set<ServerResponse>();
  readonly #buffer: SampleStreamEvent[] = [];
  #waiters: Waiter[] = [];
  #lastId = 0;
  #dropEvery: { count: number; mode: SampleDropMode; sent: number } | undefined;
  #interval: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(options: ThermostatEventServerOptions) {
    const common = resolveCommonOptions(options, 'thermostat event server');
    const {
      state,
      initialState,
      intervalInMs = 1000,
      path = '/events',
      retryInMs,
      heartbeatInMs,
      multilineData = false,
      replayBufferSize = 1000,
      alarmThreshold = 3,
      queryFaults = true,
      maxBufferedBytes = defaultMaxBufferedBytes,
    } = options;
    checkInteger('intervalInMs', intervalInMs, 0, 86_400_000);
    checkOptionalNumber('retryInMs', retryInMs, 0, 86_400_000, true);
    checkOptionalNumber('heartbeatInMs', heartbeatInMs, 1, 86_400_000, true);
    checkInteger('replayBufferSize', replayBufferSize, 0, 1_000_000);
    checkOptionalNumber('alarmThreshold', alarmThreshold, 0, 100);
    checkInteger('maxBufferedBytes', maxBufferedBytes, 1024, 1024 * 1024 * 1024);
    if (typeof multilineData !== 'boolean')
      throw new TypeError(`multilineData must be a boolean, received ${typeof multilineData}`);
    if (typeof queryFaults !== 'boolean')
      throw new TypeError(`queryFaults must be a boolean, received ${typeof queryFaults}`);
    if (state !== undefined) {
      if (!(state instanceof ThermostatSimulator))
        throw new TypeError('state must be a ThermostatSimulator');
      if (initialState !== undefined)
        throw new ConfigError(
          'thermostat event server: option "state" cannot be combined with option "initialState"; set the initial values on the ThermostatSimulator',
          { source: 'thermostat event server', field: 'state' },
        );
    }
    if (initialState !== undefined && (typeof initialState !== 'object' || initialState === null))
      throw new TypeError(`initialState must be an object, received ${typeof initialState}`);
    this.#paths = resolvePaths(path);
    this.#state =
      state ??
      new ThermostatSimulator({
        ...initialState,
        ...(common.random === undefined ? {} : { random: common.random }),
        now: common.now,
        ...(intervalInMs > 0 ? { stepInMs: intervalInMs } : {}),
      });
    this.#auth = common.auth;
    this.#now = common.now;
    this.#retryInMs = retryInMs;
    this.#multilineData = multilineData;
    this.#replayBufferSize = replayBufferSize;
    this.#alarmThreshold = alarmThreshold;
    this.#queryFaults = queryFaults;
    this.#maxBufferedBytes = maxBufferedBytes;
    this.#intervalInMs = intervalInMs;
    this.#heartbeatInMs = heartbeatInMs;
    this.#log = new RequestLog(common);
    this.#listener = new SampleListener(common, (request, response) => {
      this.#handle(request, response).catch(() => {
        if (!response.headersSent) sendJson(response, 500, errorBody(500, 'Internal error'));
        else response.destroy();
      });
    });
  }

  async start(): Promise<this> {
    await this.#listener.listen();
    if (this.#intervalInMs > 0) {
      this.#interval = setInterval(() => {
        this.tick();
      }, this.#intervalInMs);
      this.#interval.unref();
    }
    if (this.#heartbeatInMs !== undefined) {
      this.#heartbeat = setInterval(() => {
        for (const client of this.#clients) this.#write(client, ': ping\n\n');
      }, this.#heartbeatInMs);
      this.#heartbeat.unref();
    }
    return this;
  }

  get url(): string {
    return `${this.#listener.origin}${this.#paths[0] ?? '/events'}`;
  }

  get origin(): string {
    return this.#listener.origin;
  }

  get port(): number {
    return this.#listener.port;
  }

  get paths(): readonly string[] {
    return this.#paths;
  }

  get state(): ThermostatSimulator {
    return this.#state;
  }

  get requests(): readonly SampleServerRequest[] {
    return this.#log.entries;
  }

  get clients(): number {
    return this.#clients.size;
  }

  get connections(): number {
    return this.#listener.connections;
  }

  get lastEventId(): number {
    return this.#lastId;
  }

  get events(): readonly SampleStreamEvent[] {
    return [...this.#buffer];
  }

  get faults(): SampleStreamFaults {
    return this.#faults;
  }

  send(input: SampleStreamEventInput): SampleStreamEvent {
    if (typeof input !== 'object' || input === null)
      throw new TypeError(`input must be an object, received ${typeof input}`);
    const { event, data } = input;
    if (event !== undefined && (typeof event !== 'string' || /[\r\n]/.test(event)))
      throw new TypeError('event must be a string without line breaks');
    let text: string;
    if (typeof data === 'string') {
      text = data;
    } else {
      const json = JSON.stringify(data, null, this.#multilineData ? 2 : undefined) as
        string | undefined;
      if (json === undefined) throw new TypeError('data must be a string or serializable as JSON');
      text = json;
    }
    const sent: SampleStreamEvent = Object.freeze({
      id: ++this.#lastId,
      event,
      data: text.split(/\r\n|\r/).join('\n'),
      sentAt: this.#now(),
    });
    if (this.#replayBufferSize > 0) {
      this.#buffer.push(sent);
      if (this.#buffer.length > this.#replayBufferSize) this.#buffer.shift();
    }
    const wire = encodeEvent(sent.id, event, sent.data);
    for (const client of this.#clients) this.#write(client, wire);
    const drop = this.#dropEvery;
    if (drop !== undefined && ++drop.sent % drop.count === 0) this.dropConnections(drop.mode);
    return sent;
  }

  tick(): readonly SampleStreamEvent[] {
    const reading = this.#state.step();
    const { currentTemperature, desiredTemperature } = reading;
    const sent = [
      this.send({
        event: 'thermostat_status_changed',
        data: { desiredTemperature, currentTemperature },
      }),
    ];
    const over = currentTemperature > desiredTemperature + this.#alarmThreshold;
    const under = currentTemperature < desiredTemperature - this.#alarmThreshold;
    if (over || under) {
      sent.push(
        this.send({
          event: 'alarm',
          data: {
            code: over ? 'OVER_TEMP' : 'UNDER_TEMP',
            temperature: currentTemperature,
            desiredTemperature,
            timestamp: this.#now().toISOString(),
          },
        }),
      );
    }
    return sent;
  }

  dropConnections(mode: SampleDropMode = 'destroy'): number {
    if (mode !== 'destroy' && mode !== 'end')
      throw new TypeError(`mode must be 'destroy' or 'end', received ${String(mode)}`);
    const streams = [...this.#streams];
    for (const response of streams) {
      this.#forget(response);
      if (mode === 'end') response.end();
      else cut(response);
    }
    return streams.length;
  }

  dropConnectionsEvery(count: number | undefined, mode: SampleDropMode = 'destroy'): void {
    if (count === undefined) {
      this.#dropEvery = undefined;
      return;
    }
    checkInteger('count', count, 1, Number.MAX_SAFE_INTEGER);
    if (mode !== 'destroy' && mode !== 'end')
      throw new TypeError(`mode must be 'destroy' or 'end', received ${String(mode)}`);
    this.#dropEvery = { count, mode, sent: 0 };
  }

  waitForClients(count: number, options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    checkInteger('count', count, 0, Number.MAX_SAFE_INTEGER);
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortError(signal, 'waiting for clients'));
    if (this.#clients.size >= count) return Promise.resolve();
    if (this.#listener.closing)
      return Promise.reject(new AioError('ERR_AIO_CLOSED', 'the sample server is closed'));
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(abortError(signal as AbortSignal, 'waiting for clients'));
      };
      const waiter: Waiter = {
        count,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  close(): Promise<void> {
    clearInterval(this.#interval);
    clearInterval(this.#heartbeat);
    this.#interval = undefined;
    this.#heartbeat = undefined;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters)
      waiter.reject(new AioError('ERR_AIO_CLOSED', 'the sample server is closed'));
    this.#clients.clear();
    this.#streams.clear();
    return this.#listener.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #write(client: Client, text: string): void {
    const { response } = client;
    if (response.destroyed || response.writableEnded) {
      this.#forget(response);
      return;
    }
    if (response.writableLength > this.#maxBufferedBytes) {
      this.#forget(response);
      response.socket?.destroy();
      return;
    }
    response.write(text);
  }

  #forget(response: ServerResponse): void {
    this.#streams.delete(response);
    for (const client of this.#clients)
      if (client.response === response) this.#clients.delete(client);
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = requestUrl(request);
    const body = await readBody(request);
    this.#log.record(request, url, body.text);
    if (this.#listener.closing) {
      response.destroy();
      return;
    }
    const outcome = authenticate(this.#auth, request);
    if (outcome !== 'ok') {
      sendAuthFailure(response, this.#auth, outcome);
      return;
    }
    if (!this.#paths.includes(url.pathname)) {
      sendJson(response, 404, errorBody(404, `No event stream at ${url.pathname}`));
      return;
    }
    if (request.method !== 'GET') {
      sendJson(
        response,
        405,
        errorBody(405, `${request.method ?? ''} is not allowed on ${url.pathname}`),
        { allow: 'GET' },
      );
      return;
    }
    let fault: SampleStreamFault | undefined;
    try {
      fault = this.#faults.take();
      if (fault === undefined && this.#queryFaults) fault = queryStreamFault(url.searchParams);
    } catch (error) {
      sendJson(response, 400, errorBody(400, (error as Error).message));
      return;
    }
    if (fault?.kind === 'status') {
      this.#answerStatus(response, fault.status, fault.retryAfter);
      return;
    }
    if (fault?.kind === 'content-type') {
      sendJson(
        response,
        200,
        { message: 'This is not an event stream' },
        {
          'content-type': fault.contentType ?? 'application/json',
        },
      );
      return;
    }
    request.socket.setNoDelay(true);
    response.writeHead(200, streamHeaders);
    response.flushHeaders();
    this.#streams.add(response);
    response.once('close', () => {
      this.#forget(response);
    });
    if (fault?.kind === 'stall') return;
    if (fault?.kind === 'no-newline') {
      await writeFilled(response, '', fault.bytes, '');
      return;
    }
    if (this.#retryInMs !== undefined) response.write(`retry: ${this.#retryInMs}\n\n`);
    if (fault?.kind === 'oversized-event') {
      const prefix = 'event: thermostat_status_changed\ndata: {"padding":"';
      const suffix = '"}\n\n';
      const size = fault.bytes + Buffer.byteLength('event: thermostat_status_changed\ndata: \n\n');
      await writeFilled(response, prefix, size, suffix);
      if (response.destroyed || !this.#streams.has(response)) return;
    }
    const replay = this.#replayAfter(
      request.headers['last-event-id'] ?? url.searchParams.get('lastEventId') ?? undefined,
    );
    const client: Client = { response };
    // Replay and registration happen in the same turn, so no event falls between them.
    for (const event of replay) this.#write(client, encodeEvent(event.id, event.event, event.data));
    if (response.destroyed || !this.#streams.has(response)) return;
    this.#clients.add(client);
    this.#notifyWaiters();
  }

  #answerStatus(
    response: ServerResponse,
    status: number,
    retryAfter: number | string | undefined,
  ): void {
    const headers: OutgoingHttpHeaders = {};
    if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
    if (status === 204 || status === 304) {
      response.writeHead(status, headers);
      response.end();
      return;
    }
    if (status === 401) headers['www-authenticate'] = 'Basic realm="thermostat", charset="UTF-8"';
    sendJson(response, status, errorBody(status, `Injected fault: HTTP ${status}`), headers);
  }

  #replayAfter(lastEventId: string | string[] | undefined): readonly SampleStreamEvent[] {
    const text = Array.isArray(lastEventId) ? lastEventId[0] : lastEventId;
    if (text === undefined || !/^\s*[0-9]{1,15}\s*$/.test(text)) return [];
    const after = Number(text);
    return this.#buffer.filter((event) => event.id > after);
  }

  #notifyWaiters(): void {
    const ready = this.#waiters.filter((w) => this.#clients.size >= w.count);
    if (ready.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => this.#clients.size < w.count);
    for (const waiter of ready) waiter.resolve();
  }
}

/**
 * Starts the thermostat event sample server (Server-Sent Events) and resolves once it listens.
 *
 * Each stream (`GET` on `path`, `text/event-stream`) receives:
 *
 * - `retry: <retryInMs>` first, when set;
 * - with a `Last-Event-ID` header (or `?lastEventId=`), the buffered events after that id;
 * - every `intervalInMs`: `id: <n>`, `event: thermostat_status_changed`,
 *   `data: {"desiredTemperature":72,"currentTemperature":71.25}` (the TCP thermostat sample's
 *   payload), and, while the current temperature is more than `alarmThreshold` °F off the desired
 *   one, `event: alarm` with `{"code":"OVER_TEMP"|"UNDER_TEMP","temperature","desiredTemperature","timestamp"}`;
 * - `: ping` comments every `heartbeatInMs`, when set.
 *
 * Ids increase by 1 per event across the server, so a client that resumes with `Last-Event-ID`
 * gets every event it missed (as long as the replay buffer still holds them) and none twice.
 *
 * Faults are set with `server.faults.set(fault)`, `dropConnections()`,
 * `dropConnectionsEvery(n)`, or, unless `queryFaults` is `false`, per request: `?fault=` `204`
 * (any status), `status` (`&status=`), `stall`, `content-type` (`&contentType=`), `oversized`
 * (`&bytes=`), `no-newline` (`&bytes=`), plus `&retryAfter=`.
 *
 * @example
 * ```ts
 * import { startThermostatEventServer } from '@aio-connector/devkit';
 * await using server = await startThermostatEventServer({ intervalInMs: 500, retryInMs: 2000 });
 * const response = await fetch(server.url, { headers: { 'last-event-id': '0' } });
 * console.log(response.headers.get('content-type')); // text/event-stream; charset=utf-8
 * server.send({ event: 'alarm', data: { code: 'OVER_TEMP', temperature: 80 } });
 * ```
 */
export async function startThermostatEventServer(
  options: ThermostatEventServerOptions = {},
): Promise<ThermostatEventServer> {
  return new ThermostatEventServerImpl(options).start();
}
