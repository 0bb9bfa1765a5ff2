/**
 * The in-memory engine of the state store emulator: the semantics of the AIO state store service
 * (`SET` with `NX` / `NEX` / `PX`, `GET`, `DEL`, `VDEL`, `KEYNOTIFY`), its key versions, fencing
 * tokens and error responses, without any transport. The emulator feeds it the payload and user
 * properties of each request and publishes what it returns.
 *
 * Behaviour follows the service:
 *
 * - Every write gets a new hybrid logical clock version, later than the request's `__ts`; responses
 *   carry the version of the key they concern (`__ts`), notifications the version of the change.
 * - `SET` requires `__ts`. A `__ts` or `__ft` more than `maxClockDriftInMs` ahead of the clock is
 *   rejected, as is one that is not an HLC.
 * - Fencing: a key written with `__ft` keeps that token; from then on `SET`, `DEL` and `VDEL` on it
 *   need a `__ft` at least as new (a newer one replaces the stored token).
 * - Keys with `PX` expire: lazily when a request touches them, and in {@link StateStoreEngine.sweep}.
 *   Expiry notifies watchers with `NOTIFY DELETE`.
 * - Commands and options must be upper case; malformed requests get the service's `-ERR` texts
 *   (`syntax error`, `unknown command`, `wrong number of arguments`, `the key length is zero`, …).
 *
 * @module
 */
import { Buffer } from 'node:buffer';
import {
  HybridLogicalClock,
  compareHlc,
  defaultMaxClockDriftInMs,
  encodeDeleteNotification,
  encodeHlc,
  encodeResp3,
  encodeSetNotification,
  parseHlc,
  parseRequest,
  stateStoreServiceErrorMessages,
  type HlcTimestamp,
  type StateStoreRequestPayload,
  type StateStoreServiceErrorKind,
} from '@aio-connector/core';

/** Options of {@link StateStoreEngine}. */
export interface StateStoreEngineOptions {
  /** The wall clock, in milliseconds since the Unix epoch. Default: `Date.now`. */
  readonly now?: () => number;
  /** The node id in the versions the engine assigns. Default: `'StateStore'`. */
  readonly nodeId?: string;
  /**
   * How far ahead of the clock a request `__ts` or `__ft` may be, in milliseconds. Default: 60 000
   * (the service's one minute).
   */
  readonly maxClockDriftInMs?: number;
}

/** One request, as received by the emulator. */
export interface StateStoreEngineRequest {
  /** The RESP3 request payload. */
  readonly payload: Uint8Array;
  /** The MQTT client id of the requester (notifications are addressed by it). */
  readonly clientId: string;
  /** The request's `__ts` user property. */
  readonly timestamp?: string | undefined;
  /** The request's `__ft` user property (fencing token). */
  readonly fencingToken?: string | undefined;
}

/** A key notification to publish to one client that asked for `KEYNOTIFY` on the key. */
export interface StateStoreEngineNotification {
  /** The client to notify. */
  readonly clientId: string;
  /** The key that changed. */
  readonly key: Uint8Array;
  /** The RESP3 payload: `*4 NOTIFY SET VALUE <value>` or `*2 NOTIFY DELETE`. */
  readonly payload: Uint8Array;
  /** The version of the change, for the `__ts` user property. */
  readonly version: string;
}

/** What the engine answers to a request. */
export interface StateStoreEngineResponse {
  /** The RESP3 response payload. */
  readonly payload: Uint8Array;
  /**
   * The version of the key the response concerns, for the response `__ts`: the new version after
   * a write, the stored one otherwise; absent for an error or a key that does not exist.
   */
  readonly version?: string;
  /** Notifications caused by the request (including the expiry of the key it touched). */
  readonly notifications: readonly StateStoreEngineNotification[];
}

/** A stored key, as returned by {@link StateStoreEngine.inspect}. */
export interface StateStoreEngineEntry {
  /** The value. */
  readonly value: Uint8Array;
  /** The version of the last write (HLC). */
  readonly version: string;
  /** The fencing token protecting the key (HLC), when it was written with one. */
  readonly fencingToken?: string;
  /** When the key expires, in milliseconds since the epoch, when it was written with `PX`. */
  readonly expiresAt?: number;
}

interface Entry {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly version: string;
  readonly fencingToken: HlcTimestamp | undefined;
  readonly expiresAt: number | undefined;
}

type Condition = 'always' | 'NX' | 'NEX';

const ok = encodeResp3({ type: 'simple', value: 'OK' });
const nullBlob = encodeResp3({ type: 'null' });
const integers = new Map([-1, 0, 1].map((n) => [n, encodeResp3({ type: 'integer', value: n })]));
const deleteNotification = encodeDeleteNotification();
const pxPattern = /^[1-9][0-9]{0,14}$/;
const ascii = new TextDecoder();

function integer(value: -1 | 0 | 1): Uint8Array {
  return integers.get(value) as Uint8Array;
}

function errorResponse(
  kind: Exclude<StateStoreServiceErrorKind, 'unknown'>,
): StateStoreEngineResponse {
  const value = `ERR ${stateStoreServiceErrorMessages[kind]}`;
  return { payload: encodeResp3({ type: 'error', value }), notifications: [] };
}

function keyId(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

function isWord(arg: Uint8Array | undefined, word: string): boolean {
  return arg !== undefined && ascii.decode(arg) === word;
}

type HeaderResult =
  | {
      readonly timestamp: HlcTimestamp | undefined;
      readonly fencingToken: HlcTimestamp | undefined;
    }
  | { readonly error: Exclude<StateStoreServiceErrorKind, 'unknown'> };

/**
 * An in-memory AIO state store. Synchronous and deterministic given its clock.
 *
 * @example
 * ```ts
 * import { encodeSetRequest, encodeHlc } from '@aio-connector/core';
 * import { StateStoreEngine } from '@aio-connector/devkit';
 *
 * const engine = new StateStoreEngine();
 * const response = engine.execute({
 *   payload: encodeSetRequest('k', 'v'),
 *   clientId: 'client-1',
 *   timestamp: encodeHlc({ timestamp: Date.now(), counter: 0, nodeId: 'client-1' }),
 * });
 * // response.payload is '+OK\r\n', response.version the key's new version
 * ```
 */
export class StateStoreEngine {
  readonly #now: () => number;
  readonly #maxClockDriftInMs: number;
  readonly #clock: HybridLogicalClock;
  readonly #entries = new Map<string, Entry>();
  /** key id → client ids watching it */
  readonly #watchers = new Map<string, Set<string>>();

  constructor(options: StateStoreEngineOptions = {}) {
    if (typeof options !== 'object' || options === null)
      throw new TypeError('options must be an object');
    const now = options.now ?? Date.now;
    if (typeof now !== 'function') throw new TypeError('now must be a function');
    const nodeId = options.nodeId ?? 'StateStore';
    if (typeof nodeId !== 'string') throw new TypeError('nodeId must be a string');
    if (nodeId === '' || /[\s]/.test(nodeId))
      throw new RangeError('nodeId must be a non-empty string without whitespace');
    const drift = options.maxClockDriftInMs ?? defaultMaxClockDriftInMs;
    if (typeof drift !== 'number') throw new TypeError('maxClockDriftInMs must be a number');
    if (!Number.isFinite(drift) || drift < 0)
      throw new RangeError(`maxClockDriftInMs must be a finite number >= 0, received ${drift}`);
    this.#now = now;
    this.#maxClockDriftInMs = drift;
    this.#clock = new HybridLogicalClock({ nodeId, maxClockDriftInMs: drift, now });
  }

  /** The number of keys that have not expired. */
  get size(): number {
    const now = this.#now();
    let count = 0;
    for (const entry of this.#entries.values()) if (!isExpired(entry, now)) count += 1;
    return count;
  }

  /**
   * Executes one request and returns the response and the notifications to publish. Never throws
   * for a bad request: malformed payloads and headers are answered with `-ERR …` like the service.
   * Throws `TypeError` only when `request` itself is not a request object.
   */
  execute(request: StateStoreEngineRequest): StateStoreEngineResponse {
    if (typeof request !== 'object' || request === null)
      throw new TypeError('request must be an object');
    if (!(request.payload instanceof Uint8Array))
      throw new TypeError('request.payload must be a Uint8Array');
    if (typeof request.clientId !== 'string')
      throw new TypeError('request.clientId must be a string');
    for (const name of ['timestamp', 'fencingToken'] as const) {
      const value: unknown = request[name];
      if (value !== undefined && typeof value !== 'string')
        throw new TypeError(`request.${name} must be a string`);
    }
    let parsed: StateStoreRequestPayload;
    try {
      parsed = parseRequest(request.payload);
    } catch {
      return errorResponse('syntax error');
    }
    try {
      return this.#dispatch(parsed, request);
    } catch (error) {
      // Only the clock can fail here (its counter overflows when a frozen clock sees 100 000
      // writes in one millisecond); answer like any other failed request.
      const reason = error instanceof Error ? error.message : String(error);
      return {
        payload: encodeResp3({ type: 'error', value: `ERR ${reason.replace(/[\r\n]+/g, ' ')}` }),
        notifications: [],
      };
    }
  }

  #dispatch(
    { command, args }: StateStoreRequestPayload,
    request: StateStoreEngineRequest,
  ): StateStoreEngineResponse {
    switch (command) {
      case 'SET':
        return this.#set(args, request);
      case 'GET':
        return this.#get(args, request);
      case 'DEL':
      case 'VDEL':
        return this.#delete(command, args, request);
      case 'KEYNOTIFY':
        return this.#keyNotify(args, request);
      default:
        return errorResponse('unknown command');
    }
  }

  /**
   * Deletes every key whose expiry has passed and returns the `NOTIFY DELETE` notifications for
   * their watchers. Call it on a timer (see {@link StateStoreEngine.nextExpiryAt}).
   */
  sweep(): StateStoreEngineNotification[] {
    const now = this.#now();
    const notifications: StateStoreEngineNotification[] = [];
    for (const [id, entry] of this.#entries) {
      if (isExpired(entry, now)) this.#remove(id, entry, undefined, notifications);
    }
    return notifications;
  }

  /** The earliest expiry among the stored keys, in ms since the epoch, or `undefined`. */
  nextExpiryAt(): number | undefined {
    let next: number | undefined;
    for (const entry of this.#entries.values()) {
      if (entry.expiresAt !== undefined && (next === undefined || entry.expiresAt < next))
        next = entry.expiresAt;
    }
    return next;
  }

  /**
   * Drops every `KEYNOTIFY` registration of a client, as the service does when the client
   * disconnects. Returns how many were dropped.
   */
  removeClient(clientId: string): number {
    let removed = 0;
    for (const [id, clients] of this.#watchers) {
      if (clients.delete(clientId)) removed += 1;
      if (clients.size === 0) this.#watchers.delete(id);
    }
    return removed;
  }

  /** The stored state of a key (a copy), or `undefined` when it does not exist or has expired. */
  inspect(key: Uint8Array | string): StateStoreEngineEntry | undefined {
    const bytes = typeof key === 'string' ? new TextEncoder().encode(key) : key;
    if (!(bytes instanceof Uint8Array)) throw new TypeError('key must be a Uint8Array or a string');
    const entry = this.#entries.get(keyId(bytes));
    if (entry === undefined || isExpired(entry, this.#now())) return undefined;
    return {
      value: Uint8Array.from(entry.value),
      version: entry.version,
      ...(entry.fencingToken === undefined ? {} : { fencingToken: encodeHlc(entry.fencingToken) }),
      ...(entry.expiresAt === undefined ? {} : { expiresAt: entry.expiresAt }),
    };
  }

  // ------------------------------------------------------------------ commands

  #set(args: readonly Uint8Array[], request: StateStoreEngineRequest): StateStoreEngineResponse {
    const [key, value] = args;
    if (key === undefined || value === undefined) return errorResponse('wrong number of arguments');
    let condition: Condition = 'always';
    let expiresInMs: number | undefined;
    for (let i = 2; i < args.length; i += 1) {
      const option = ascii.decode(args[i]);
      if ((option === 'NX' || option === 'NEX') && condition === 'always') {
        condition = option;
      } else if (option === 'PX' && expiresInMs === undefined) {
        const next = args[i + 1];
        const text = next === undefined ? '' : ascii.decode(next);
        if (!pxPattern.test(text)) return errorResponse('syntax error');
        expiresInMs = Number(text);
        i += 1;
      } else {
        return errorResponse('syntax error');
      }
    }
    if (key.length === 0) return errorResponse('key length zero');
    const headers = this.#headers(request, { requireTimestamp: true, fenced: true });
    if ('error' in headers) return errorResponse(headers.error);

    const notifications: StateStoreEngineNotification[] = [];
    const id = keyId(key);
    const entry = this.#current(id, notifications);
    const fencing = checkFencing(entry, headers.fencingToken);
    if (fencing !== undefined) return { ...errorResponse(fencing), notifications };

    if (
      entry !== undefined &&
      (condition === 'NX' || (condition === 'NEX' && !equalBytes(entry.value, value)))
    )
      return { payload: integer(-1), version: entry.version, notifications };

    const version = this.#nextVersion(headers.timestamp);
    const stored = entry?.fencingToken;
    const requested = headers.fencingToken;
    const fencingToken =
      requested !== undefined && (stored === undefined || compareHlc(requested, stored) > 0)
        ? requested
        : stored;
    this.#entries.set(id, {
      key,
      value,
      version,
      fencingToken,
      expiresAt: expiresInMs === undefined ? undefined : this.#now() + expiresInMs,
    });
    this.#notify(id, key, encodeSetNotification(value), version, notifications);
    return { payload: ok, version, notifications };
  }

  #get(args: readonly Uint8Array[], request: StateStoreEngineRequest): StateStoreEngineResponse {
    const [key] = args;
    if (key === undefined || args.length !== 1) return errorResponse('wrong number of arguments');
    if (key.length === 0) return errorResponse('key length zero');
    const headers = this.#headers(request, { requireTimestamp: false, fenced: false });
    if ('error' in headers) return errorResponse(headers.error);
    const notifications: StateStoreEngineNotification[] = [];
    const entry = this.#current(keyId(key), notifications);
    if (entry === undefined) return { payload: nullBlob, notifications };
    return {
      payload: encodeResp3({ type: 'blob', value: entry.value }),
      version: entry.version,
      notifications,
    };
  }

  #delete(
    command: 'DEL' | 'VDEL',
    args: readonly Uint8Array[],
    request: StateStoreEngineRequest,
  ): StateStoreEngineResponse {
    const [key, value] = args;
    if (key === undefined || args.length !== (command === 'DEL' ? 1 : 2))
      return errorResponse('wrong number of arguments');
    if (key.length === 0) return errorResponse('key length zero');
    const headers = this.#headers(request, { requireTimestamp: false, fenced: true });
    if ('error' in headers) return errorResponse(headers.error);
    const notifications: StateStoreEngineNotification[] = [];
    const id = keyId(key);
    const entry = this.#current(id, notifications);
    if (entry === undefined) return { payload: integer(0), notifications };
    const fencing = checkFencing(entry, headers.fencingToken);
    if (fencing !== undefined) return { ...errorResponse(fencing), notifications };
    if (value !== undefined && !equalBytes(entry.value, value))
      return { payload: integer(-1), version: entry.version, notifications };
    const version = this.#remove(id, entry, headers.timestamp, notifications);
    return { payload: integer(1), version, notifications };
  }

  #keyNotify(
    args: readonly Uint8Array[],
    request: StateStoreEngineRequest,
  ): StateStoreEngineResponse {
    const [key, option] = args;
    if (key === undefined || args.length > 2) return errorResponse('wrong number of arguments');
    if (option !== undefined && !isWord(option, 'STOP')) return errorResponse('syntax error');
    if (key.length === 0) return errorResponse('key length zero');
    const headers = this.#headers(request, { requireTimestamp: false, fenced: false });
    if ('error' in headers) return errorResponse(headers.error);
    const notifications: StateStoreEngineNotification[] = [];
    const id = keyId(key);
    const entry = this.#current(id, notifications);
    const versioned = entry === undefined ? {} : { version: entry.version };
    if (option === undefined) {
      let clients = this.#watchers.get(id);
      if (clients === undefined) {
        clients = new Set();
        this.#watchers.set(id, clients);
      }
      clients.add(request.clientId);
      return { payload: ok, ...versioned, notifications };
    }
    const clients = this.#watchers.get(id);
    if (clients?.delete(request.clientId) !== true)
      return { payload: integer(0), ...versioned, notifications };
    if (clients.size === 0) this.#watchers.delete(id);
    return { payload: ok, ...versioned, notifications };
  }

  // ------------------------------------------------------------------ internals

  #headers(
    request: StateStoreEngineRequest,
    rules: { readonly requireTimestamp: boolean; readonly fenced: boolean },
  ): HeaderResult {
    const now = Math.floor(this.#now());
    let timestamp: HlcTimestamp | undefined;
    if (request.timestamp === undefined) {
      if (rules.requireTimestamp) return { error: 'missing timestamp' };
    } else {
      timestamp = parseOrUndefined(request.timestamp);
      if (timestamp === undefined) return { error: 'malformed timestamp' };
      if (timestamp.timestamp - now > this.#maxClockDriftInMs) return { error: 'timestamp skew' };
    }
    let fencingToken: HlcTimestamp | undefined;
    if (rules.fenced && request.fencingToken !== undefined) {
      fencingToken = parseOrUndefined(request.fencingToken);
      if (fencingToken === undefined) return { error: 'malformed timestamp' };
      if (fencingToken.timestamp - now > this.#maxClockDriftInMs)
        return { error: 'fencing token skew' };
    }
    return { timestamp, fencingToken };
  }

  /** The live entry of a key, expiring it first (with notifications) if its time has come. */
  #current(id: string, notifications: StateStoreEngineNotification[]): Entry | undefined {
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    if (!isExpired(entry, this.#now())) return entry;
    this.#remove(id, entry, undefined, notifications);
    return undefined;
  }

  /** Deletes a key, notifies its watchers and returns the version of the deletion. */
  #remove(
    id: string,
    entry: Entry,
    timestamp: HlcTimestamp | undefined,
    notifications: StateStoreEngineNotification[],
  ): string {
    const version = this.#nextVersion(timestamp);
    this.#entries.delete(id);
    this.#notify(id, entry.key, deleteNotification, version, notifications);
    return version;
  }

  #notify(
    id: string,
    key: Uint8Array,
    payload: Uint8Array,
    version: string,
    notifications: StateStoreEngineNotification[],
  ): void {
    const clients = this.#watchers.get(id);
    if (clients === undefined) return;
    for (const clientId of clients)
      notifications.push({ clientId, key: Uint8Array.from(key), payload, version });
  }

  /** A new version, later than both the engine's last one and the request's `__ts`. */
  #nextVersion(timestamp: HlcTimestamp | undefined): string {
    if (timestamp !== undefined && timestamp.nodeId !== this.#clock.nodeId)
      return this.#clock.update(timestamp);
    return this.#clock.updateNow();
  }
}

function isExpired(entry: Entry, now: number): boolean {
  return entry.expiresAt !== undefined && now >= entry.expiresAt;
}

function parseOrUndefined(text: string): HlcTimestamp | undefined {
  try {
    return parseHlc(text);
  } catch {
    return undefined;
  }
}

function checkFencing(
  entry: Entry | undefined,
  requested: HlcTimestamp | undefined,
): 'missing fencing token' | 'fencing token lower version' | undefined {
  const stored = entry?.fencingToken;
  if (stored === undefined) return undefined;
  if (requested === undefined) return 'missing fencing token';
  return compareHlc(requested, stored) < 0 ? 'fencing token lower version' : undefined;
}
