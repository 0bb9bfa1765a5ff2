/**
 * The thermostat REST sample server: the API of the official Azure IoT Operations REST thermostat
 * sample (`/api/thermostat/*`, `/api/sensor/env`, `/api/factory/location`) over HTTP or HTTPS, with
 * anonymous, Basic or mTLS authentication, conditional GET (`ETag` / `If-None-Match`), a log of the
 * requests received, and injectable faults for tests and demos.
 *
 * @module
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ConfigError, sleep } from '@aio-connector/core';
import {
  SampleListener,
  RequestLog,
  authenticate,
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

/**
 * A fault injected into the answers of the thermostat REST server. Effects combine: the delay comes
 * first, then `status` replaces the normal answer, then the body is padded, truncated or cut.
 */
export interface SampleHttpFault {
  /**
   * Answer with this status (200–599) and a JSON body `{"error", "message"}` instead of the normal
   * answer. `401` also sends `WWW-Authenticate`. Default: the normal answer.
   */
  readonly status?: number;
  /** A `Retry-After` header: seconds, or text sent as is (an HTTP date). Default: none. */
  readonly retryAfter?: number | string;
  /** Wait this long before answering, in ms (at most 10 minutes). Default: 0. */
  readonly delayInMs?: number;
  /**
   * Pad the JSON body with a `"padding"` string member until it is this many bytes long (at most
   * 1 GiB), streamed in 64 KiB chunks. Default: no padding.
   */
  readonly bodyBytes?: number;
  /** Send the body chunked, without `Content-Length`. Default: `false`. */
  readonly chunked?: boolean;
  /**
   * Cut the connection: `'before-response'` resets it (TCP RST) without answering, `'mid-body'`
   * sends the headers (with the full `Content-Length`, unless `chunked`) and half of the body, then
   * closes it. Default: none.
   */
  readonly reset?: 'before-response' | 'mid-body';
  /** Send a body that is not valid JSON (the last byte is left out). Default: `false`. */
  readonly malformedJson?: boolean;
  /** How many matching requests get the fault; then it is removed. Default: `Infinity`. */
  readonly times?: number;
}

/** The faults of a {@link ThermostatServer}, by request path. */
export interface SampleHttpFaults {
  /**
   * Injects `fault` into the answers to requests for `path` (the exact path, without query), or to
   * every request with `'*'`. A fault for the path is used before a `'*'` one. Replaces the fault
   * already set for `path`. Throws a `TypeError` / `RangeError` for an invalid fault.
   */
  set(path: string, fault: SampleHttpFault): void;
  /** The fault set for `path`, with the number of uses left in `times`. */
  get(path: string): SampleHttpFault | undefined;
  /** Removes the fault of `path`; returns whether there was one. */
  delete(path: string): boolean;
  /** Removes every fault. */
  clear(): void;
  /** How many faults are set. */
  readonly size: number;
}

/** Options of {@link startThermostatServer}. Every field is optional. */
export interface ThermostatServerOptions extends SampleServerCommonOptions {
  /**
   * The simulated thermostat to serve, for example one shared with a thermostat event server.
   * Default: a new one made from `random`, `now`, `stepInMs` and `initialState`.
   */
  readonly state?: ThermostatSimulator;
  /** The initial values of the simulated thermostat. Default: random set point and temperature. */
  readonly initialState?: Pick<
    ThermostatSimulatorOptions,
    'desiredTemperature' | 'currentTemperature' | 'power'
  >;
  /**
   * Simulated time per step, in ms: values change from one step to the next and stay the same
   * within one (so conditional GETs can get `304`). Default: 1000.
   */
  readonly stepInMs?: number;
  /**
   * Honour faults requested in the query string (`?fault=…`, see {@link startThermostatServer}).
   * Default: `true`.
   */
  readonly queryFaults?: boolean;
}

/** A running thermostat REST server. */
export interface ThermostatServer extends AsyncDisposable {
  /** The origin to send requests to, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  readonly url: string;
  /** The port listened on. */
  readonly port: number;
  /** The simulated thermostat. */
  readonly state: ThermostatSimulator;
  /** The requests received, oldest first (a copy; credentials redacted). */
  readonly requests: readonly SampleServerRequest[];
  /** The injected faults. */
  readonly faults: SampleHttpFaults;
  /** The open connections. */
  readonly connections: number;
  /** Stops listening and destroys every open connection. Idempotent. */
  close(): Promise<void>;
}

type StoredFault = SampleHttpFault & { remaining: number };

const maxBodyBytes = 1024 * 1024 * 1024;
const maxDelayInMs = 600_000;
const chunkBytes = 64 * 1024;

function checkFault(fault: SampleHttpFault, name = 'fault'): void {
  if (typeof fault !== 'object' || fault === null)
    throw new TypeError(`${name} must be an object, received ${typeof fault}`);
  checkOptionalNumber(`${name}.status`, fault.status, 200, 599, true);
  checkOptionalNumber(`${name}.delayInMs`, fault.delayInMs, 0, maxDelayInMs);
  checkOptionalNumber(`${name}.bodyBytes`, fault.bodyBytes, 0, maxBodyBytes, true);
  checkOptionalNumber(`${name}.times`, fault.times, 1, Infinity, true);
  if (typeof fault.retryAfter === 'number')
    checkOptionalNumber(`${name}.retryAfter`, fault.retryAfter, 0, 86_400);
  else if (fault.retryAfter !== undefined && typeof fault.retryAfter !== 'string')
    throw new TypeError(`${name}.retryAfter must be a number or a string`);
  if (fault.chunked !== undefined && typeof fault.chunked !== 'boolean')
    throw new TypeError(`${name}.chunked must be a boolean, received ${typeof fault.chunked}`);
  if (fault.malformedJson !== undefined && typeof fault.malformedJson !== 'boolean')
    throw new TypeError(
      `${name}.malformedJson must be a boolean, received ${typeof fault.malformedJson}`,
    );
  if (fault.reset !== undefined && fault.reset !== 'before-response' && fault.reset !== 'mid-body')
    throw new TypeError(
      `${name}.reset must be 'before-response' or 'mid-body', received ${String(fault.reset)}`,
    );
}

class FaultTable implements SampleHttpFaults {
  readonly #faults = new Map<string, StoredFault>();

  set(path: string, fault: SampleHttpFault): void {
    if (typeof path !== 'string' || path === '')
      throw new TypeError(`path must be a non-empty string, received ${typeof path}`);
    checkFault(fault);
    this.#faults.set(path, { ...fault, remaining: fault.times ?? Infinity });
  }

  get(path: string): SampleHttpFault | undefined {
    const stored = this.#faults.get(path);
    if (stored === undefined) return undefined;
    const { remaining, ...fault } = stored;
    return { ...fault, times: remaining };
  }

  delete(path: string): boolean {
    return this.#faults.delete(path);
  }

  clear(): void {
    this.#faults.clear();
  }

  get size(): number {
    return this.#faults.size;
  }

  /** The fault for a request to `path`, counting one use. */
  take(path: string): SampleHttpFault | undefined {
    for (const key of [path, '*']) {
      const stored = this.#faults.get(key);
      if (stored === undefined) continue;
      stored.remaining--;
      if (stored.remaining <= 0) this.#faults.delete(key);
      return stored;
    }
    return undefined;
  }
}

/** Parses `?fault=…` (see {@link startThermostatServer}); throws a RangeError when invalid. */
function queryFault(params: URLSearchParams): SampleHttpFault | undefined {
  const kinds = params.get('fault');
  if (kinds === null || kinds === '') return undefined;
  const number = (name: string, fallback: number): number => {
    const text = params.get(name);
    if (text === null || text === '') return fallback;
    const value = Number(text);
    if (!Number.isFinite(value)) throw new RangeError(`query parameter ${name} must be a number`);
    return value;
  };
  const fault: {
    -readonly [K in keyof SampleHttpFault]: SampleHttpFault[K];
  } = {};
  for (const kind of kinds.split(',').map((k) => k.trim())) {
    if (/^[1-5][0-9][0-9]$/.test(kind)) fault.status = Number(kind);
    else if (kind === 'status') fault.status = number('status', 503);
    else if (kind === 'delay' || kind === 'slow') fault.delayInMs = number('delayInMs', 2000);
    else if (kind === 'oversized') fault.bodyBytes = number('bodyBytes', 1024 * 1024);
    else if (kind === 'chunked') fault.chunked = true;
    else if (kind === 'reset' || kind === 'reset-mid-body') fault.reset = 'mid-body';
    else if (kind === 'reset-before-response') fault.reset = 'before-response';
    else if (kind === 'malformed') fault.malformedJson = true;
    else throw new RangeError(`unknown fault "${kind}"`);
  }
  const retryAfter = params.get('retryAfter');
  if (retryAfter !== null && retryAfter !== '') {
    const seconds = Number(retryAfter);
    fault.retryAfter = Number.isFinite(seconds) ? seconds : retryAfter;
  }
  checkFault(fault, 'query fault');
  return fault;
}

/** What a route answers. */
interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: OutgoingHttpHeaders;
  /** A cacheable representation: send an ETag and honour If-None-Match. */
  readonly cacheable?: boolean;
}

type Route = (context: RouteContext) => Answer;

interface RouteContext {
  readonly body: string;
  readonly state: ThermostatSimulator;
}

const desiredRequired = { message: 'Desired temperature is required' };

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  if (text.trim() === '') return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

function ok(body: unknown): Answer {
  return { status: 200, body, cacheable: true };
}

function makeRoutes(location: {
  floorNumber: number;
  factoryId: string;
  now: () => Date;
}): ReadonlyMap<string, Readonly<Record<string, Route>>> {
  return new Map<string, Readonly<Record<string, Route>>>([
    [
      '/api/thermostat/current',
      { GET: ({ state }) => ok({ currentTemperature: state.currentTemperature }) },
    ],
    [
      '/api/thermostat/desired',
      {
        GET: ({ state }) => ok({ desiredTemperature: state.desiredTemperature }),
        POST: ({ body, state }) => {
          const value = parseJsonObject(body)?.desiredTemperature;
          if (typeof value !== 'number' || !Number.isFinite(value))
            return { status: 400, body: desiredRequired };
          if (value < 50 || value > 90)
            return {
              status: 400,
              body: { message: 'Desired temperature must be between 50 and 90' },
            };
          state.setDesiredTemperature(value);
          return { status: 200, body: { message: 'Desired temperature set successfully' } };
        },
      },
    ],
    [
      '/api/thermostat/status',
      {
        GET: ({ state }) =>
          ok({
            status: state.status,
            currentTemperature: state.currentTemperature,
            desiredTemperature: state.desiredTemperature,
          }),
      },
    ],
    [
      '/api/thermostat/power',
      {
        GET: ({ state }) => ok({ power: state.power }),
        POST: ({ body, state }) => {
          const power = parseJsonObject(body)?.power;
          if (power !== 'on' && power !== 'off')
            return { status: 400, body: { message: "Power state must be 'on' or 'off'" } };
          state.setPower(power);
          return { status: 200, body: { message: `Thermostat power turned ${power}` } };
        },
      },
    ],
    [
      '/api/sensor/env',
      {
        GET: ({ state }) =>
          ok({
            temperature: state.currentTemperature,
            humidity: state.humidity,
            unit: { temperature: 'Fahrenheit', humidity: 'Percentage' },
            currentTemperature: state.currentTemperature,
            desiredTemperature: state.desiredTemperature,
          }),
      },
    ],
    [
      '/api/factory/location',
      {
        GET: () =>
          ok({
            floorNumber: location.floorNumber,
            factoryId: location.factoryId,
            timestamp: location.now().toISOString(),
          }),
      },
    ],
    [
      '/thermostat',
      {
        GET: ({ state }) =>
          ok({
            currentTemperature: state.currentTemperature,
            desiredTemperature: state.desiredTemperature,
          }),
      },
    ],
  ]);
}

function entityTag(text: string): string {
  return `"${createHash('sha256').update(text).digest('base64url').slice(0, 27)}"`;
}

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((candidate) => {
    const tag = candidate.trim().replace(/^W\//, '');
    return tag === '*' || tag === etag;
  });
}

/** Resets a TCP connection (RST); a TLS connection, which cannot be reset, is destroyed. */
function resetConnection(socket: Socket | null): void {
  if (socket === null || socket.destroyed) return;
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

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

/** The body, padded to `bodyBytes` when asked, as a list of pieces (padding made lazily). */
function* bodyPieces(text: string, bodyBytes: number | undefined): Generator<Buffer> {
  const base = Buffer.from(text);
  if (bodyBytes === undefined || !text.endsWith('}') || bodyBytes <= base.length) {
    yield base;
    return;
  }
  const open = text.slice(0, -1);
  const prefix = Buffer.from(`${open}${open.trimEnd().endsWith('{') ? '' : ','}"padding":"`);
  const suffix = Buffer.from('"}');
  let padding = Math.max(0, bodyBytes - prefix.length - suffix.length);
  yield prefix;
  const filler = Buffer.alloc(Math.min(chunkBytes, padding), 'x');
  while (padding > 0) {
    const size = Math.min(padding, filler.length);
    yield filler.subarray(0, size);
    padding -= size;
  }
  yield suffix;
}

function paddedLength(text: string, bodyBytes: number | undefined): number {
  let total = 0;
  if (bodyBytes === undefined || !text.endsWith('}') || bodyBytes <= Buffer.byteLength(text))
    return Buffer.byteLength(text);
  for (const piece of bodyPieces(text, bodyBytes)) total += piece.length;
  return total;
}

class ThermostatServerImpl implements ThermostatServer {
  readonly #listener: SampleListener;
  readonly #log: RequestLog;
  readonly #faults = new FaultTable();
  readonly #state: ThermostatSimulator;
  readonly #routes: ReturnType<typeof makeRoutes>;
  readonly #auth: SampleServerAuth;
  readonly #queryFaults: boolean;

  constructor(options: ThermostatServerOptions) {
    const common = resolveCommonOptions(options, 'thermostat server');
    const { state, initialState, stepInMs, queryFaults = true } = options;
    if (typeof queryFaults !== 'boolean')
      throw new TypeError(`queryFaults must be a boolean, received ${typeof queryFaults}`);
    if (state !== undefined) {
      if (!(state instanceof ThermostatSimulator))
        throw new TypeError('state must be a ThermostatSimulator');
      if (initialState !== undefined || stepInMs !== undefined)
        throw new ConfigError(
          `thermostat server: option "state" cannot be combined with option "${initialState === undefined ? 'stepInMs' : 'initialState'}"; set them on the ThermostatSimulator`,
          { source: 'thermostat server', field: 'state' },
        );
    }
    if (initialState !== undefined && (typeof initialState !== 'object' || initialState === null))
      throw new TypeError(`initialState must be an object, received ${typeof initialState}`);
    this.#state =
      state ??
      new ThermostatSimulator({
        ...initialState,
        ...(common.random === undefined ? {} : { random: common.random }),
        now: common.now,
        ...(stepInMs === undefined ? {} : { stepInMs }),
      });
    const random = common.random ?? (() => this.#state.random());
    this.#routes = makeRoutes({
      floorNumber: 1 + Math.min(4, Math.floor(random() * 5)),
      factoryId: `factory-${String(100 + Math.min(899, Math.floor(random() * 900)))}`,
      now: common.now,
    });
    this.#auth = common.auth;
    this.#queryFaults = queryFaults;
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
    return this;
  }

  get url(): string {
    return this.#listener.origin;
  }

  get port(): number {
    return this.#listener.port;
  }

  get state(): ThermostatSimulator {
    return this.#state;
  }

  get requests(): readonly SampleServerRequest[] {
    return this.#log.entries;
  }

  get faults(): SampleHttpFaults {
    return this.#faults;
  }

  get connections(): number {
    return this.#listener.connections;
  }

  close(): Promise<void> {
    return this.#listener.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
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
    if (body.truncated) {
      // discard the rest so the client reads the answer instead of a reset
      request.resume();
      sendJson(response, 413, errorBody(413, 'Request body larger than 64 KiB'), {
        connection: 'close',
      });
      return;
    }
    let fault: SampleHttpFault | undefined;
    try {
      fault = this.#faults.take(url.pathname);
      if (fault === undefined && this.#queryFaults) fault = queryFault(url.searchParams);
    } catch (error) {
      sendJson(response, 400, errorBody(400, (error as Error).message));
      return;
    }
    if (fault?.delayInMs !== undefined && fault.delayInMs > 0) {
      try {
        await sleep(fault.delayInMs, this.#listener.closedSignal);
      } catch {
        response.destroy();
        return;
      }
    }
    if (fault?.reset === 'before-response') {
      resetConnection(request.socket);
      return;
    }
    this.#state.advance();
    const answer =
      fault?.status === undefined ? this.#route(request, url.pathname, body.text) : faulted(fault);
    await this.#deliver(request, response, answer, fault);
  }

  #route(request: IncomingMessage, path: string, body: string): Answer {
    const methods = this.#routes.get(path);
    if (methods === undefined)
      return { status: 404, body: errorBody(404, `No resource at ${path}`) };
    const method = request.method === 'HEAD' ? 'GET' : (request.method ?? 'GET');
    const route = methods[method];
    if (route === undefined) {
      const allowed = Object.keys(methods);
      if (allowed.includes('GET')) allowed.push('HEAD');
      return {
        status: 405,
        body: errorBody(405, `${request.method ?? ''} is not allowed on ${path}`),
        headers: { allow: allowed.join(', ') },
      };
    }
    return route({ body, state: this.#state });
  }

  async #deliver(
    request: IncomingMessage,
    response: ServerResponse,
    answer: Answer,
    fault: SampleHttpFault | undefined,
  ): Promise<void> {
    const text = JSON.stringify(answer.body);
    const headers: OutgoingHttpHeaders = {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-cache',
      ...answer.headers,
    };
    if (fault?.retryAfter !== undefined) headers['retry-after'] = String(fault.retryAfter);
    if (answer.status === 204 || answer.status === 304) {
      delete headers['content-type'];
      response.writeHead(answer.status, headers);
      response.end();
      return;
    }
    const shaped =
      fault !== undefined &&
      (fault.bodyBytes !== undefined ||
        fault.malformedJson === true ||
        fault.reset !== undefined ||
        fault.chunked === true);
    if (answer.cacheable === true && answer.status === 200 && !shaped) {
      const etag = entityTag(text);
      headers.etag = etag;
      if (matchesEtag(request.headers['if-none-match'], etag)) {
        delete headers['content-type'];
        response.writeHead(304, headers);
        response.end();
        return;
      }
    }
    if (!shaped) {
      headers['content-length'] = Buffer.byteLength(text);
      response.writeHead(answer.status, headers);
      response.end(text);
      return;
    }
    const total = paddedLength(text, fault.bodyBytes);
    let limit = fault.malformedJson === true ? Math.max(0, total - 1) : total;
    if (fault.chunked !== true) headers['content-length'] = limit;
    if (fault.reset === 'mid-body') limit = Math.floor(limit / 2);
    response.writeHead(answer.status, headers);
    if (request.method === 'HEAD') {
      if (fault.reset === 'mid-body') request.socket.destroy();
      else response.end();
      return;
    }
    if (fault.reset === 'mid-body') response.flushHeaders();
    let sent = 0;
    for (const piece of bodyPieces(text, fault.bodyBytes)) {
      if (response.destroyed) return;
      const part = piece.subarray(0, Math.max(0, limit - sent));
      if (part.length === 0) break;
      sent += part.length;
      if (fault.reset === 'mid-body' && sent >= limit) {
        // Reset only once the last part has reached the socket.
        await new Promise<void>((resolve) => {
          response.write(part, () => {
            resolve();
          });
        });
      } else if (!response.write(part)) {
        await drained(response);
      }
    }
    if (fault.reset === 'mid-body') {
      request.socket.destroy();
      return;
    }
    response.end();
  }
}

function faulted(fault: SampleHttpFault): Answer {
  const status = fault.status ?? 500;
  return {
    status,
    body: errorBody(status, `Injected fault: HTTP ${status}`),
    ...(status === 401 ? { headers: { 'www-authenticate': 'Basic realm="thermostat"' } } : {}),
  };
}

/**
 * Starts the thermostat REST sample server and resolves once it listens.
 *
 * Endpoints (JSON; temperatures in °F rounded to 2 decimals; values change once per `stepInMs`):
 *
 * | request | answer |
 * |---|---|
 * | `GET /api/thermostat/current` | `{"currentTemperature": 71.25}` (68–77 with the default set points) |
 * | `GET /api/thermostat/desired` | `{"desiredTemperature": 72}` |
 * | `POST /api/thermostat/desired` `{"desiredTemperature": n}` | `{"message":"Desired temperature set successfully"}`; `400 {"message":"Desired temperature is required"}` without a number, `400` outside 50–90 |
 * | `GET /api/thermostat/status` | `{"status":"heating"\|"cooling"\|"off","currentTemperature","desiredTemperature"}` (`off` while the power is off) |
 * | `GET /api/thermostat/power` | `{"power":"on"\|"off"}` |
 * | `POST /api/thermostat/power` `{"power":"on"\|"off"}` | `{"message":"Thermostat power turned on"}`; `400` otherwise |
 * | `GET /api/sensor/env` | `{"temperature","humidity","unit":{"temperature":"Fahrenheit","humidity":"Percentage"},"currentTemperature","desiredTemperature"}` |
 * | `GET /api/factory/location` | `{"floorNumber","factoryId","timestamp"}` |
 * | `GET /thermostat` | `{"currentTemperature","desiredTemperature"}` |
 *
 * Unknown paths get `404`, other methods `405` with `Allow`, failed Basic authentication `401`
 * with `WWW-Authenticate: Basic`. Successful GETs carry an `ETag`; a matching `If-None-Match` gets
 * `304`. HEAD is answered wherever GET is.
 *
 * Faults are set with `server.faults.set(path, fault)` or, unless `queryFaults` is `false`, per
 * request with the query string: `?fault=` one or more of `503` (any status), `status`
 * (`&status=`, default 503), `delay` (`&delayInMs=`, default 2000), `oversized` (`&bodyBytes=`,
 * default 1 MiB), `chunked`, `reset` (mid-body), `reset-before-response`, `malformed`, comma
 * separated, plus `&retryAfter=` seconds.
 *
 * @example
 * ```ts
 * import { startThermostatServer } from '@aio-connector/devkit';
 * await using server = await startThermostatServer({
 *   auth: { kind: 'basic', username: 'user', password: 'pass' },
 * });
 * const response = await fetch(`${server.url}/api/thermostat/current`, {
 *   headers: { authorization: `Basic ${btoa('user:pass')}` },
 * });
 * console.log(await response.json()); // { currentTemperature: 71.25 }
 * server.faults.set('/api/thermostat/current', { status: 503, retryAfter: 1, times: 1 });
 * ```
 */
export async function startThermostatServer(
  options: ThermostatServerOptions = {},
): Promise<ThermostatServer> {
  return new ThermostatServerImpl(options).start();
}
