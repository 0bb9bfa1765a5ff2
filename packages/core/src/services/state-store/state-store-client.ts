/**
 * `StateStoreClient`: the client of the AIO broker state store (the distributed key-value store
 * of the MQTT broker), over the AIO RPC protocol with RESP3 payloads.
 *
 * - Requests go to `statestore/v1/FA9AE35F-2F64-47CD-9BFF-08E2B32A0FE8/command/invoke` as
 *   `application/octet-stream` (payload format indicator 0, QoS 1) through a `CommandInvoker`.
 *   Responses must be `application/octet-stream` (or carry no content type).
 * - Every response carries the key's version in `__ts` (a hybrid logical clock value); it is
 *   required on `SET` responses. A fencing token travels in `__ft`, persistence in
 *   `aio-persistence: true`.
 * - Key notifications (`KEYNOTIFY`) arrive on
 *   `clients/statestore/v1/FA9AE35F-2F64-47CD-9BFF-08E2B32A0FE8/{UPPERHEX(clientId)}/command/notify/{HEX(key)}`;
 *   the client subscribes to that filter with `+` for the key level on the first `observe`.
 *
 * @module
 */
import { Buffer } from 'node:buffer';
import { AioError, ProtocolError } from '../../errors.ts';
import { silentLogger, type Logger } from '../../logger.ts';
import type {
  ConnectionEvent,
  IncomingMessage,
  MqttClient,
  OutgoingMessage,
  UserProperty,
} from '../../mqtt/mqtt-client.ts';
import { CommandInvoker, type CommandResponse } from '../../protocol/command-invoker.ts';
import { parseHlc, sharedHybridLogicalClock, type HybridLogicalClock } from '../../protocol/hlc.ts';
import { unsupportedContentType, type PayloadSerializer } from '../../protocol/serializers.ts';
import { unsubscribeOrThrow } from '../../protocol/protocol-support.ts';
import {
  encodeDelRequest,
  encodeGetRequest,
  encodeKeyNotifyRequest,
  encodeSetRequest,
  encodeVdelRequest,
  parseDelResponse,
  parseGetResponse,
  parseKeyNotifyResponse,
  parseNotification,
  parseSetResponse,
  parseVdelResponse,
  type StateStoreBytes,
  type StateStoreSetCondition,
  type StateStoreVdelResult,
} from './resp3.ts';

/**
 * The MQTT topics of the state store.
 *
 * @example
 * ```ts
 * import { stateStoreTopics } from '@aio-connector/core';
 * stateStoreTopics.request; // 'statestore/v1/FA9AE35F-2F64-47CD-9BFF-08E2B32A0FE8/command/invoke'
 * ```
 */
export const stateStoreTopics = Object.freeze({
  /** Where requests are sent. */
  request: 'statestore/v1/FA9AE35F-2F64-47CD-9BFF-08E2B32A0FE8/command/invoke',
  /** The first levels of every key notification topic. */
  notificationPrefix: 'clients/statestore/v1/FA9AE35F-2F64-47CD-9BFF-08E2B32A0FE8',
} as const);

/** The content type of state store requests and responses. */
const octetStream = 'application/octet-stream';
const fencingTokenProperty = '__ft';
const persistenceProperty = 'aio-persistence';
const timestampProperty = '__ts';
/**
 * The invoker refuses user data names with the reserved `__` prefix, so the fencing token is
 * handed to it under this name and renamed to `__ft` when the request is published.
 */
const fencingTokenCarrier = 'x-aio-state-store-fencing-token';

const utf8 = new TextEncoder();
const lenientUtf8 = new TextDecoder('utf-8');

function toBytes(input: StateStoreBytes, name: string): Uint8Array {
  if (typeof input === 'string') return utf8.encode(input);
  if (input instanceof Uint8Array) return input;
  throw new TypeError(`${name} must be a Uint8Array or a string`);
}

function checkKey(key: StateStoreBytes): Uint8Array {
  const bytes = toBytes(key, 'key');
  if (bytes.byteLength === 0) throw new RangeError('key must not be empty');
  return bytes;
}

function upperHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    .toString('hex')
    .toUpperCase();
}

/**
 * The topic of the notifications a client receives for a key, or, without a key, the filter that
 * matches all of them (`+` for the key level).
 *
 * @example
 * ```ts
 * import { stateStoreNotificationTopic } from '@aio-connector/core';
 * stateStoreNotificationTopic('c1', 'k');
 * // 'clients/statestore/v1/FA9AE35F-2F64-47CD-9BFF-08E2B32A0FE8/6331/command/notify/6B'
 * stateStoreNotificationTopic('c1');
 * // 'clients/statestore/v1/FA9AE35F-2F64-47CD-9BFF-08E2B32A0FE8/6331/command/notify/+'
 * ```
 */
export function stateStoreNotificationTopic(clientId: string, key?: StateStoreBytes): string {
  if (typeof clientId !== 'string') throw new TypeError('clientId must be a string');
  const keyLevel = key === undefined ? '+' : upperHex(toBytes(key, 'key'));
  return `${stateStoreTopics.notificationPrefix}/${upperHex(utf8.encode(clientId))}/command/notify/${keyLevel}`;
}

function decodeHexKey(text: string): Uint8Array | undefined {
  if (text.length === 0 || text.length % 2 !== 0 || !/^[0-9A-Fa-f]+$/.test(text)) return undefined;
  return new Uint8Array(Buffer.from(text, 'hex'));
}

function keyId(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1');
}

/** Requests are bytes; responses must be `application/octet-stream` or carry no content type. */
const octetStreamSerializer: PayloadSerializer<Uint8Array> = Object.freeze({
  serialize: (value: Uint8Array) => ({
    payload: value,
    contentType: octetStream,
    payloadFormatIndicator: 0 as const,
  }),
  deserialize(payload: Uint8Array, contentType: string | undefined): Uint8Array {
    if (contentType !== undefined && contentType !== octetStream)
      throw unsupportedContentType(contentType);
    return payload;
  },
});

/** Renames the fencing token carrier to `__ft` on the way out. */
function withFencingTokens(client: MqttClient): MqttClient {
  const rename = (message: OutgoingMessage): OutgoingMessage => {
    const properties = message.userProperties;
    if (properties?.some(([name]) => name === fencingTokenCarrier) !== true) return message;
    return {
      ...message,
      userProperties: properties.map(([name, value]): UserProperty =>
        name === fencingTokenCarrier ? [fencingTokenProperty, value] : [name, value],
      ),
    };
  };
  return {
    get clientId() {
      return client.clientId;
    },
    get maximumPacketSize() {
      return client.maximumPacketSize;
    },
    publish: (message, options) => client.publish(rename(message), options),
    subscribe: (filter, options) => client.subscribe(filter, options),
    unsubscribe: (filter) => client.unsubscribe(filter),
    onMessage: (handler) => client.onMessage(handler),
  };
}

/** Options of {@link StateStoreClient}. Every field is optional. */
export interface StateStoreClientOptions {
  /** The application's clock, stamped into `__ts`. Default: the shared clock of the process. */
  readonly hlc?: HybridLogicalClock;
  /**
   * How long to wait for each response, in ms; also the request's message expiry (rounded up to
   * whole seconds). Default: 10 000.
   */
  readonly timeoutInMs?: number;
  /** Default: silent. */
  readonly logger?: Logger;
}

/** Options shared by every request. Every field is optional. */
export interface StateStoreRequestOptions {
  /** Cancels the request: it rejects with a `ProtocolError` of kind `cancellation`. */
  readonly signal?: AbortSignal;
  /** Overrides the client's `timeoutInMs` for this request. */
  readonly timeoutInMs?: number;
}

/** Options of {@link StateStoreClient.set}. Every field is optional. */
export interface StateStoreSetOptions extends StateStoreRequestOptions {
  /** When to apply the write (`NX`, `NEX`). Default: `'always'`. */
  readonly condition?: StateStoreSetCondition;
  /** Expire the key this many ms after the write (`PX`). Integer ≥ 1. Default: never. */
  readonly expiresInMs?: number;
  /**
   * A fencing token (a hybrid logical clock value, typically the version of a lock's `SET`), sent
   * as `__ft`. Default: none.
   */
  readonly fencingToken?: string;
  /** Ask the broker to persist the key (`aio-persistence: true`). Default: `false`. */
  readonly persist?: boolean;
}

/** Options of {@link StateStoreClient.del} and {@link StateStoreClient.vdel}. */
export interface StateStoreDeleteOptions extends StateStoreRequestOptions {
  /** A fencing token sent as `__ft`. Default: none. */
  readonly fencingToken?: string;
}

/** The outcome of {@link StateStoreClient.set}. */
export interface StateStoreSetResponse {
  /** `false` when the `NX` / `NEX` condition was not met. */
  readonly applied: boolean;
  /**
   * The version (`__ts`) of the response: the key's new version when applied, otherwise the
   * version the service reports for the key.
   */
  readonly version: string;
}

/** The outcome of {@link StateStoreClient.get}. */
export interface StateStoreGetResponse {
  /** The value, or `undefined` when the key does not exist. */
  readonly value: Uint8Array | undefined;
  /** The key's version (`__ts`), or `undefined` when the key does not exist. */
  readonly version: string | undefined;
}

/** A key notification: a watched key was set (with its new value) or deleted (or expired). */
export interface StateStoreKeyNotification {
  readonly key: Uint8Array;
  /** The key decoded as UTF-8. */
  readonly keyText: string;
  readonly operation: 'SET' | 'DELETE';
  /** The new value, for `SET`. */
  readonly value?: Uint8Array;
  /** The version of the change (`__ts`). */
  readonly version: string;
}

/** Receives key notifications. */
export type StateStoreNotificationListener = (notification: StateStoreKeyNotification) => void;

function checkTimeout(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number`);
  if (!Number.isFinite(value) || value < 1 || value > 0xffff_ffff * 1000)
    throw new RangeError(`${name} must be between 1 and ${0xffff_ffff * 1000}, received ${value}`);
  return value;
}

function checkFencingToken(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new TypeError('fencingToken must be a string');
  try {
    parseHlc(value, fencingTokenProperty);
  } catch {
    throw new RangeError(`fencingToken must be a hybrid logical clock value, received '${value}'`);
  }
  return value;
}

function checkOptions(options: unknown): void {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('options must be an object');
}

/**
 * The state store client.
 *
 * Failures reject with: `StateStoreServiceError` (`ERR_AIO_STATE_STORE_SERVICE`) for a `-ERR …`
 * answer (its `kind` classifies it, e.g. `fencing token lower version`); `AioError`
 * `ERR_AIO_STATE_STORE_PARSE` for a payload that is not a valid answer; `ProtocolError` for the
 * RPC layer (`timeout` — retryable —, `cancellation`, `mqtt error`, `invalid header` for a
 * response that is not `application/octet-stream` or has a bad `__ts`, `missing header` for a
 * `SET` response without `__ts`); `AioError` `ERR_AIO_CLOSED` after {@link StateStoreClient.close}.
 * Arguments of the wrong type throw `TypeError`, out of range `RangeError`.
 *
 * Observations survive reconnects: when the MQTT client reports a new connection, every observed
 * key is registered again (the service forgets registrations of a disconnected client) and its
 * current value is read and delivered as a `SET` notification. Changes while disconnected are not
 * replayed otherwise: in particular a deletion during the outage is not reported.
 *
 * @example
 * ```ts
 * import { StateStoreClient, MqttSession } from '@aio-connector/core';
 * declare const session: MqttSession;
 * const store = new StateStoreClient(session);
 * const { version } = await store.set('config', JSON.stringify({ a: 1 }), { expiresInMs: 60_000 });
 * const { value } = await store.get('config');
 * store.onNotification((n) => console.log(n.keyText, n.operation, n.version));
 * await store.observe('config');
 * console.log(version, value);
 * await store.close();
 * ```
 */
export class StateStoreClient {
  /** The MQTT client id (notifications are addressed by it). */
  readonly clientId: string;
  /** The filter subscribed for key notifications. */
  readonly notificationFilter: string;
  readonly #client: MqttClient;
  readonly #invoker: CommandInvoker<Uint8Array, Uint8Array>;
  readonly #hlc: HybridLogicalClock;
  readonly #logger: Logger;
  readonly #timeoutInMs: number;
  readonly #listeners = new Set<StateStoreNotificationListener>();
  /** key id → { key, count of observe() calls not matched by unobserve() } */
  readonly #observed = new Map<string, { readonly key: Uint8Array; count: number }>();
  readonly #notificationTopicStart: string;
  #subscribing: Promise<void> | undefined;
  #removeMessageHandler: (() => void) | undefined;
  #removeConnectionListener: (() => void) | undefined;
  #disconnected = false;
  #closing: Promise<void> | undefined;

  constructor(client: MqttClient, options: StateStoreClientOptions = {}) {
    if (typeof client !== 'object' || client === null)
      throw new TypeError('client must be an MqttClient');
    checkOptions(options);
    const timeoutInMs = checkTimeout(options.timeoutInMs, 'timeoutInMs') ?? 10_000;
    if (options.hlc !== undefined && typeof options.hlc.updateNow !== 'function')
      throw new TypeError('hlc must be a HybridLogicalClock');
    this.#client = client;
    this.clientId = client.clientId;
    this.#timeoutInMs = timeoutInMs;
    this.#hlc = options.hlc ?? sharedHybridLogicalClock();
    this.#logger = (options.logger ?? silentLogger).child({ component: 'state-store' });
    this.#invoker = new CommandInvoker<Uint8Array, Uint8Array>(
      withFencingTokens(client),
      'invoke',
      stateStoreTopics.request,
      {
        requestSerializer: octetStreamSerializer,
        responseSerializer: octetStreamSerializer,
        timeoutInMs,
        hlc: this.#hlc,
        logger: this.#logger,
      },
    );
    this.notificationFilter = stateStoreNotificationTopic(client.clientId);
    this.#notificationTopicStart = this.notificationFilter.slice(0, -1);
  }

  /**
   * Writes a key. Resolves with `applied: false` when the `NX` / `NEX` condition was not met.
   *
   * @example
   * ```ts
   * declare const store: import('@aio-connector/core').StateStoreClient;
   * const { applied, version } = await store.set('lock', 'me', {
   *   condition: 'onlyIfEqualOrNotSet',
   *   expiresInMs: 10_000,
   * });
   * ```
   */
  async set(
    key: StateStoreBytes,
    value: StateStoreBytes,
    options: StateStoreSetOptions = {},
  ): Promise<StateStoreSetResponse> {
    checkOptions(options);
    const keyBytes = checkKey(key);
    const fencingToken = checkFencingToken(options.fencingToken);
    const persist = options.persist ?? false;
    if (typeof persist !== 'boolean') throw new TypeError('persist must be a boolean');
    const payload = encodeSetRequest(keyBytes, toBytes(value, 'value'), {
      ...(options.condition === undefined ? {} : { condition: options.condition }),
      ...(options.expiresInMs === undefined ? {} : { expiresInMs: options.expiresInMs }),
    });
    const userData: Record<string, string> = {};
    if (fencingToken !== undefined) userData[fencingTokenCarrier] = fencingToken;
    if (persist) userData[persistenceProperty] = 'true';
    const response = await this.#invoke(payload, options, userData);
    const result = parseSetResponse(response.payload);
    const version = versionOf(response);
    if (version === undefined)
      throw new ProtocolError('missing header', 'the state store answered a SET without __ts', {
        headerName: timestampProperty,
        commandName: 'invoke',
      });
    return { applied: result === 'OK', version };
  }

  /**
   * Reads a key.
   *
   * @example
   * ```ts
   * declare const store: import('@aio-connector/core').StateStoreClient;
   * const { value, version } = await store.get('config');
   * if (value !== undefined) console.log(new TextDecoder().decode(value), version);
   * ```
   */
  async get(
    key: StateStoreBytes,
    options: StateStoreRequestOptions = {},
  ): Promise<StateStoreGetResponse> {
    checkOptions(options);
    const response = await this.#invoke(encodeGetRequest(checkKey(key)), options);
    const value = parseGetResponse(response.payload);
    return { value, version: value === undefined ? undefined : versionOf(response) };
  }

  /**
   * Deletes a key; resolves with the number of keys deleted (1, or 0 when it did not exist).
   *
   * @example
   * ```ts
   * declare const store: import('@aio-connector/core').StateStoreClient;
   * const deleted = await store.del('config');
   * ```
   */
  async del(key: StateStoreBytes, options: StateStoreDeleteOptions = {}): Promise<number> {
    checkOptions(options);
    const keyBytes = checkKey(key);
    const response = await this.#invoke(encodeDelRequest(keyBytes), options, fencing(options));
    return parseDelResponse(response.payload);
  }

  /**
   * Deletes a key only if it holds `value`: 1 deleted, 0 the key did not exist, -1 it holds
   * another value.
   *
   * @example
   * ```ts
   * declare const store: import('@aio-connector/core').StateStoreClient;
   * const result = await store.vdel('lock', 'me'); // 1 | 0 | -1
   * ```
   */
  async vdel(
    key: StateStoreBytes,
    value: StateStoreBytes,
    options: StateStoreDeleteOptions = {},
  ): Promise<StateStoreVdelResult> {
    checkOptions(options);
    const keyBytes = checkKey(key);
    const payload = encodeVdelRequest(keyBytes, toBytes(value, 'value'));
    const response = await this.#invoke(payload, options, fencing(options));
    return parseVdelResponse(response.payload);
  }

  /**
   * Starts notifications for a key (`KEYNOTIFY`); they are delivered to the
   * {@link StateStoreClient.onNotification} listeners. Observing a key twice is counted: it is
   * released after as many {@link StateStoreClient.unobserve} calls.
   *
   * @example
   * ```ts
   * declare const store: import('@aio-connector/core').StateStoreClient;
   * const stop = store.onNotification((n) => console.log(n.operation, n.keyText));
   * await store.observe('config');
   * ```
   */
  async observe(key: StateStoreBytes, options: StateStoreRequestOptions = {}): Promise<void> {
    checkOptions(options);
    const keyBytes = checkKey(key);
    this.#checkOpen();
    await this.#subscribe(options.signal);
    const id = keyId(keyBytes);
    const entry = this.#observed.get(id);
    if (entry !== undefined) {
      entry.count += 1;
      return;
    }
    // registered before the request so that no notification is missed
    const added = { key: Uint8Array.from(keyBytes), count: 1 };
    this.#observed.set(id, added);
    try {
      const response = await this.#invoke(encodeKeyNotifyRequest(keyBytes), options);
      if (!parseKeyNotifyResponse(response.payload))
        throw new AioError(
          'ERR_AIO_STATE_STORE_PARSE',
          'invalid state store payload: unexpected response to KEYNOTIFY: integer 0',
          { details: { reason: 'unexpected response to KEYNOTIFY', operation: 'KEYNOTIFY' } },
        );
    } catch (error) {
      if (this.#observed.get(id) === added) {
        added.count -= 1;
        if (added.count <= 0) this.#observed.delete(id);
      }
      throw error;
    }
  }

  /**
   * Stops notifications for a key (`KEYNOTIFY … STOP`) once every `observe` of it is matched.
   *
   * @example
   * ```ts
   * declare const store: import('@aio-connector/core').StateStoreClient;
   * await store.unobserve('config');
   * ```
   */
  async unobserve(key: StateStoreBytes, options: StateStoreRequestOptions = {}): Promise<void> {
    checkOptions(options);
    const keyBytes = checkKey(key);
    this.#checkOpen();
    const id = keyId(keyBytes);
    const entry = this.#observed.get(id);
    if (entry !== undefined) {
      entry.count -= 1;
      if (entry.count > 0) return;
      this.#observed.delete(id);
    }
    const response = await this.#invoke(encodeKeyNotifyRequest(keyBytes, { stop: true }), options);
    parseKeyNotifyResponse(response.payload);
  }

  /**
   * Adds a key notification listener; returns the function that removes it. Listeners see the
   * notifications of every observed key, in arrival order; an exception in a listener is logged
   * and does not stop the others.
   *
   * @example
   * ```ts
   * declare const store: import('@aio-connector/core').StateStoreClient;
   * const stop = store.onNotification(({ keyText, operation, value }) => {
   *   console.log(keyText, operation, value?.byteLength);
   * });
   * stop();
   * ```
   */
  onNotification(listener: StateStoreNotificationListener): () => void {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    const entry: StateStoreNotificationListener = (notification) => {
      listener(notification);
    };
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /** The keys observed now, as bytes. */
  get observedKeys(): Uint8Array[] {
    return [...this.#observed.values()].map((entry) => Uint8Array.from(entry.key));
  }

  /**
   * Stops observing every key (best effort), unsubscribes from notifications and stops the
   * invoker; requests in flight reject. Safe to call twice.
   *
   * @example
   * ```ts
   * declare const store: import('@aio-connector/core').StateStoreClient;
   * await store.close();
   * ```
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** Same as {@link StateStoreClient.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #close(): Promise<void> {
    const keys = [...this.#observed.values()].map((entry) => entry.key);
    this.#observed.clear();
    await Promise.allSettled(
      keys.map((key) =>
        this.#invoker.invoke(encodeKeyNotifyRequest(key, { stop: true }), {
          timeoutInMs: Math.min(this.#timeoutInMs, 2_000),
        }),
      ),
    );
    this.#removeConnectionListener?.();
    this.#removeConnectionListener = undefined;
    this.#removeMessageHandler?.();
    this.#removeMessageHandler = undefined;
    const subscribing = this.#subscribing;
    this.#subscribing = undefined;
    if (subscribing !== undefined) {
      try {
        await subscribing;
        await unsubscribeOrThrow(
          this.#client,
          this.notificationFilter,
          undefined,
          this.#timeoutInMs,
        );
      } catch (error) {
        this.#logger.debug({ err: error }, 'unsubscribing from key notifications failed');
      }
    }
    await this.#invoker.stop().catch((error: unknown) => {
      this.#logger.debug({ err: error }, 'stopping the state store invoker failed');
    });
  }

  #checkOpen(): void {
    if (this.#closing !== undefined)
      throw new AioError('ERR_AIO_CLOSED', 'the state store client is closed');
  }

  async #invoke(
    payload: Uint8Array,
    options: StateStoreRequestOptions,
    userData: Readonly<Record<string, string>> = {},
  ): Promise<CommandResponse<Uint8Array>> {
    this.#checkOpen();
    const timeoutInMs = checkTimeout(options.timeoutInMs, 'timeoutInMs');
    return this.#invoker.invoke(payload, {
      contentType: octetStream,
      payloadFormatIndicator: 0,
      ...(Object.keys(userData).length === 0 ? {} : { userData }),
      ...(timeoutInMs === undefined ? {} : { timeoutInMs }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  }

  #subscribe(signal: AbortSignal | undefined): Promise<void> {
    this.#subscribing ??= (async () => {
      this.#removeMessageHandler = this.#client.onMessage((message) => {
        this.#onMessage(message);
      });
      this.#removeConnectionListener = this.#client.onConnectionChange?.((event) => {
        this.#onConnectionChange(event);
      });
      try {
        const { reasonCode } = await this.#client.subscribe(this.notificationFilter, { qos: 1 });
        if (reasonCode >= 0x80)
          throw new ProtocolError(
            'mqtt error',
            `the broker refused the subscription to '${this.notificationFilter}' (reason code 0x${reasonCode.toString(16)})`,
            { details: { filter: this.notificationFilter, reasonCode } },
          );
      } catch (error) {
        this.#removeMessageHandler();
        this.#removeMessageHandler = undefined;
        this.#removeConnectionListener?.();
        this.#removeConnectionListener = undefined;
        this.#subscribing = undefined;
        if (error instanceof ProtocolError) throw error;
        throw new ProtocolError(
          'mqtt error',
          `subscribing to '${this.notificationFilter}' failed`,
          {
            cause: error,
            details: { filter: this.notificationFilter },
          },
        );
      }
      this.#logger.debug({ filter: this.notificationFilter }, 'subscribed to key notifications');
    })();
    return raceAbort(this.#subscribing, signal);
  }

  #onMessage(message: IncomingMessage): void {
    if (!message.topic.startsWith(this.#notificationTopicStart)) return;
    const hexKey = message.topic.slice(this.#notificationTopicStart.length);
    const key = decodeHexKey(hexKey);
    if (key === undefined) {
      this.#logger.warn(
        { topic: message.topic },
        'key notification with an undecodable key ignored',
      );
      return;
    }
    if (!this.#observed.has(keyId(key))) return;
    const version = getProperty(message.userProperties, timestampProperty);
    if (version === undefined) {
      this.#logger.warn({ topic: message.topic }, 'key notification without __ts ignored');
      return;
    }
    let parsed;
    try {
      parseHlc(version);
      parsed = parseNotification(message.payload);
    } catch (error) {
      this.#logger.warn({ topic: message.topic, err: error }, 'malformed key notification ignored');
      return;
    }
    try {
      this.#hlc.update(version);
    } catch (error) {
      this.#logger.debug({ err: error }, 'key notification version not merged into the clock');
    }
    this.#emit({
      key,
      keyText: lenientUtf8.decode(key),
      operation: parsed.operation,
      ...(parsed.operation === 'SET' ? { value: parsed.value } : {}),
      version,
    });
  }

  #emit(notification: StateStoreKeyNotification): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(notification);
      } catch (error) {
        this.#logger.warn({ err: error }, 'a key notification listener threw');
      }
    }
  }

  #onConnectionChange(event: ConnectionEvent): void {
    if (event.type === 'disconnected') {
      this.#disconnected = true;
      return;
    }
    if (event.type !== 'connected' || !this.#disconnected) return;
    this.#disconnected = false;
    void this.#restoreObservations();
  }

  /** Registers every observed key again and reports its current value. */
  async #restoreObservations(): Promise<void> {
    for (const { key } of [...this.#observed.values()]) {
      if (this.#closing !== undefined) return;
      try {
        const registered = await this.#invoke(encodeKeyNotifyRequest(key), {});
        parseKeyNotifyResponse(registered.payload);
        const current = await this.#invoke(encodeGetRequest(key), {});
        const value = parseGetResponse(current.payload);
        const version = versionOf(current);
        if (value !== undefined && version !== undefined && this.#observed.has(keyId(key)))
          this.#emit({ key, keyText: lenientUtf8.decode(key), operation: 'SET', value, version });
      } catch (error) {
        this.#logger.warn(
          { key: lenientUtf8.decode(key), err: error },
          'restoring a key observation after a reconnect failed',
        );
      }
    }
  }
}

/** Rejects with a cancellation error as soon as `signal` aborts; the listener is removed after. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(cancelled(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(cancelled(signal));
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

function cancelled(signal: AbortSignal): ProtocolError {
  return new ProtocolError('cancellation', 'the state store request was cancelled', {
    cause: signal.reason,
    commandName: 'invoke',
  });
}

function fencing(options: StateStoreDeleteOptions): Record<string, string> {
  const token = checkFencingToken(options.fencingToken);
  return token === undefined ? {} : { [fencingTokenCarrier]: token };
}

function getProperty(
  properties: readonly UserProperty[] | undefined,
  name: string,
): string | undefined {
  for (const [key, value] of properties ?? []) if (key === name) return value;
  return undefined;
}

function versionOf(response: CommandResponse<Uint8Array>): string | undefined {
  return getProperty(response.userProperties, timestampProperty);
}
