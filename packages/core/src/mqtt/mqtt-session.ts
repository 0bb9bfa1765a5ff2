/**
 * `MqttSession`: the connector's MQTT 5 connection to the AIO broker, over mqtt.js.
 *
 * - CleanStart false with a Session Expiry Interval, so the broker keeps subscriptions and queued
 *   messages while the session is disconnected; a reconnect that finds the session gone is fatal.
 * - Reconnects forever with exponential backoff and jitter (the first connection too), except when
 *   the broker refuses the credentials or the TLS certificates.
 * - K8S-SAT enhanced authentication, re-authenticating before the token expires and whenever the
 *   token file changes.
 * - QoS 1 publishes stay pending across reconnects and resolve with the PUBACK reason code.
 * - Received QoS 1 messages are acknowledged when every handler has settled, in receive order.
 *
 * @module
 */
import { watch, type FSWatcher } from 'node:fs';
import { isIP } from 'node:net';
import { dirname } from 'node:path';
import {
  connect as mqttConnect,
  type IClientOptions,
  type IConnackPacket,
  type IDisconnectPacket,
  type IPublishPacket,
  type MqttClient as MqttJsClient,
  type Packet,
} from 'mqtt';
import { AioError, ConfigError, abortError, type AioErrorCode } from '../errors.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { computeBackoff, sleep } from '../retry.ts';
import type {
  ConnectionEvent,
  MessageHandler,
  MqttClient,
  OutgoingMessage,
  PublishResult,
  QoS,
  SubscribeResult,
} from './mqtt-client.ts';
import type { MqttConnectionSettings } from './mqtt-connection-settings.ts';
import {
  checkInternals,
  guardConnack,
  sendAuthPacket,
  sendPuback,
  takeOverAcknowledgements,
} from './mqtt-internals.ts';
import {
  checkOutgoingMessage,
  fromPublishPacket,
  publishPacketSize,
  toPayload,
  toPublishOptions,
} from './mqtt-properties.ts';
import { OrderedAckQueue } from './ordered-ack-queue.ts';
import { readSatToken, type SatToken } from './sat-token.ts';

/** Reconnect backoff of {@link MqttSession}. Every field is optional. */
export interface MqttReconnectOptions {
  /** Delay before the first reconnect attempt, in ms. Default: 250. */
  readonly minDelayInMs?: number;
  /** Largest delay between attempts, in ms. Default: 60 000. */
  readonly maxDelayInMs?: number;
  /** Jitter ratio in [0, 1] (each delay is multiplied by a factor in `[1 - j, 1 + j]`). Default: 0.5. */
  readonly jitter?: number;
}

/** Options of {@link MqttSession}. Every field is optional. */
export interface MqttSessionOptions {
  /** Where the session logs (pino-compatible). Default: silent. */
  readonly logger?: Logger;
  /** Reconnect backoff. */
  readonly reconnect?: MqttReconnectOptions;
  /**
   * The CONNECT user property `metriccategory` the AIO broker uses to attribute clients; `''` omits
   * it. Default: `'aiosdk-typescript'`.
   */
  readonly metricCategory?: string;
  /** How long one connection attempt may wait for the CONNACK, in ms. Default: 30 000. */
  readonly connectTimeoutInMs?: number;
  /**
   * Quiet period after a change in the SAT file's folder before the token is re-read, in ms.
   * Default: 500.
   */
  readonly tokenWatchDebounceInMs?: number;
}

/** Options of {@link MqttSession.close}. */
export interface MqttSessionCloseOptions {
  /** How long to wait for unacknowledged QoS 1 publishes, in ms. Default: 10 000. */
  readonly timeoutInMs?: number;
  /**
   * Send Session Expiry Interval 0 with the DISCONNECT so the broker drops the session (its
   * subscriptions and queued messages). Default: `false` (the session survives a restart).
   */
  readonly endSession?: boolean;
}

/** The lifecycle state of an {@link MqttSession}. */
export type MqttSessionState =
  'new' | 'connecting' | 'connected' | 'reconnecting' | 'closing' | 'closed';

type IAuthPacket = Extract<Packet, { cmd: 'auth' }>;
type IPubackPacket = Extract<Packet, { cmd: 'puback' }>;

const satMethod = 'K8S-SAT';
const reauthLeadInMs = 5_000;
const maxTimerInMs = 2_147_483_647;
/** CONNACK reason codes that refuse the client's credentials: retrying cannot help. */
const credentialRefusals = new Set([0x86, 0x87, 0x8c]);
const sessionTakenOver = 0x8e;
const certificateRejected =
  /^ERR_SSL_(?:SSLV3|TLSV1|TLSV13)_ALERT_(?:BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_REQUIRED|CERTIFICATE_UNKNOWN|CERTIFICATE_EXPIRED|CERTIFICATE_REVOKED|UNSUPPORTED_CERTIFICATE|ACCESS_DENIED)$/;
const serverUntrusted = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

interface Resolved {
  readonly logger: Logger;
  readonly reconnect: { minDelayInMs: number; maxDelayInMs: number; jitter: number };
  readonly metricCategory: string;
  readonly connectTimeoutInMs: number;
  readonly tokenWatchDebounceInMs: number;
}

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

function checkNumber(name: string, value: unknown, min: number, max: number, integer = true): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || Number.isNaN(value))
    throw new TypeError(`${name} must be a number, received ${typeof value}`);
  if (value < min || value > max || (integer && !Number.isInteger(value)))
    throw new RangeError(
      `${name} must be ${integer ? 'an integer ' : ''}between ${min} and ${max}, received ${value}`,
    );
}

function resolveOptions(options: MqttSessionOptions): Resolved {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('options must be an object');
  const reconnect = options.reconnect ?? {};
  if (typeof reconnect !== 'object' || reconnect === null)
    throw new TypeError('reconnect must be an object');
  checkNumber('reconnect.minDelayInMs', reconnect.minDelayInMs, 0, maxTimerInMs);
  checkNumber('reconnect.maxDelayInMs', reconnect.maxDelayInMs, 0, maxTimerInMs);
  checkNumber('reconnect.jitter', reconnect.jitter, 0, 1, false);
  checkNumber('connectTimeoutInMs', options.connectTimeoutInMs, 1, maxTimerInMs);
  checkNumber('tokenWatchDebounceInMs', options.tokenWatchDebounceInMs, 0, maxTimerInMs);
  if (options.metricCategory !== undefined && typeof options.metricCategory !== 'string')
    throw new TypeError('metricCategory must be a string');
  const minDelayInMs = reconnect.minDelayInMs ?? 250;
  const maxDelayInMs = reconnect.maxDelayInMs ?? 60_000;
  if (maxDelayInMs < minDelayInMs)
    throw new RangeError(
      `reconnect.maxDelayInMs (${maxDelayInMs}) must not be less than reconnect.minDelayInMs (${minDelayInMs})`,
    );
  return Object.freeze({
    logger: options.logger ?? silentLogger,
    reconnect: Object.freeze({ minDelayInMs, maxDelayInMs, jitter: reconnect.jitter ?? 0.5 }),
    metricCategory: options.metricCategory ?? 'aiosdk-typescript',
    connectTimeoutInMs: options.connectTimeoutInMs ?? 30_000,
    tokenWatchDebounceInMs: options.tokenWatchDebounceInMs ?? 500,
  });
}

function checkSettings(settings: MqttConnectionSettings): void {
  if (typeof settings !== 'object' || settings === null)
    throw new TypeError('settings must be an object');
  const { hostname, clientId } = settings;
  if (typeof hostname !== 'string') throw new TypeError('settings.hostname must be a string');
  if (hostname === '') throw new RangeError('settings.hostname must not be empty');
  checkNumber('settings.port', settings.port, 1, 65_535);
  if (settings.port === undefined) throw new TypeError('settings.port must be a number');
  if (typeof clientId !== 'string') throw new TypeError('settings.clientId must be a string');
  if (clientId === '') throw new RangeError('settings.clientId must not be empty');
  checkNumber('settings.keepAliveInSeconds', settings.keepAliveInSeconds, 0, 65_535);
  checkNumber('settings.sessionExpiryInSeconds', settings.sessionExpiryInSeconds, 1, 0xffff_ffff);
  checkNumber('settings.receiveMaximum', settings.receiveMaximum, 1, 65_535);
  if (typeof settings.useTls !== 'boolean')
    throw new TypeError('settings.useTls must be a boolean');
  const ca = settings.caCertificates;
  if (ca !== undefined && (!Array.isArray(ca) || ca.some((pem) => typeof pem !== 'string')))
    throw new TypeError('settings.caCertificates must be an array of PEM strings');
  for (const name of [
    'clientCertificate',
    'clientKey',
    'satFile',
    'username',
    'password',
    'tlsServerName',
  ] as const) {
    if (settings[name] !== undefined && typeof settings[name] !== 'string')
      throw new TypeError(`settings.${name} must be a string`);
  }
  if (settings.satFile !== undefined && settings.username !== undefined)
    throw new ConfigError(
      'settings.satFile and settings.username are mutually exclusive: use K8S-SAT or username/password authentication',
      { field: 'satFile' },
    );
  if ((settings.clientCertificate === undefined) !== (settings.clientKey === undefined))
    throw new ConfigError(
      'settings.clientCertificate and settings.clientKey must be set together',
      {
        field: settings.clientCertificate === undefined ? 'clientCertificate' : 'clientKey',
      },
    );
  if (!settings.useTls && settings.clientCertificate !== undefined)
    throw new ConfigError('settings.clientCertificate requires settings.useTls', {
      field: 'useTls',
    });
}

/**
 * The connector's MQTT 5 session with the broker. Implements {@link MqttClient}, the interface the
 * protocol layer uses.
 *
 * Connection failures are retried forever with backoff; fatal failures (credentials or certificates
 * refused, an unusable SAT, the session lost on a reconnect) close the session: `closed` resolves
 * with the error, listeners get a `closed` event, and pending operations reject. The process
 * should then exit so the pod restarts.
 *
 * @example
 * ```ts
 * import { MqttSession } from '@aio-connector/core';
 * await using session = new MqttSession(
 *   { hostname: 'aio-broker', port: 18883, clientId: 'my-connector', useTls: true,
 *     caCertificates: [caPem], satFile: '/etc/akri/secrets/broker-sat' },
 *   { logger },
 * );
 * await session.connect({ signal: AbortSignal.timeout(60_000) });
 * session.onMessage(async (message) => console.log(message.topic));
 * await session.subscribe('commands/#', { qos: 1 });
 * await session.publish({ topic: 'hello', payload: new TextEncoder().encode('hi'), qos: 1 });
 * const fatal = await session.closed; // resolves when the session ends
 * ```
 */
export class MqttSession implements MqttClient, AsyncDisposable {
  /** The MQTT client id (`settings.clientId`, verbatim). */
  readonly clientId: string;
  /**
   * Resolves when the session has ended: with the fatal error that ended it, or `undefined` after
   * `close()` / `destroy()`. Never rejects.
   */
  readonly closed: Promise<Error | undefined>;

  readonly #settings: MqttConnectionSettings;
  readonly #options: Resolved;
  readonly #log: Logger;
  readonly #client: MqttJsClient;
  readonly #connectProperties: NonNullable<IClientOptions['properties']>;
  readonly #acks: OrderedAckQueue;
  readonly #handlers = new Set<MessageHandler>();
  readonly #listeners = new Set<(event: ConnectionEvent) => void>();
  /** Rejects every operation in progress (publish, subscribe, unsubscribe, waits). */
  readonly #pending = new Set<(error: Error) => void>();
  /** Settles when mqtt.js is done with a QoS 1 publish. */
  readonly #inflight = new Set<Promise<void>>();
  /** PUBACKs by packet identifier, read by the publish callback. */
  readonly #pubacks = new Map<number, IPubackPacket>();
  /** Filters the broker confirmed and that were not unsubscribed since: the session's state. */
  readonly #subscriptions = new Set<string>();
  #resolveClosed!: (error: Error | undefined) => void;

  #state: MqttSessionState = 'new';
  #firstConnect: Deferred<void> | undefined;
  #nextConnect: Deferred<void> | undefined;
  #closing: Promise<void> | undefined;
  #hadSession = false;
  #failures = 0;
  #connack: IConnackPacket | undefined;
  #connectedNow = false;
  #stopReconnecting = false;
  #reconnectTimer: NodeJS.Timeout | undefined;
  // facts about the current connection attempt
  #attemptError: Error | undefined;
  #refusal: IConnackPacket | undefined;
  #serverDisconnect: IDisconnectPacket | undefined;
  // K8S-SAT
  #token: SatToken | undefined;
  #reauthTimer: NodeJS.Timeout | undefined;
  #debounceTimer: NodeJS.Timeout | undefined;
  #watcher: FSWatcher | undefined;
  #reauthenticating = false;

  /**
   * @param settings Where and how to connect.
   * @param options Logger, reconnect backoff and tuning; every field optional.
   */
  constructor(settings: MqttConnectionSettings, options: MqttSessionOptions = {}) {
    checkSettings(settings);
    this.#options = resolveOptions(options);
    this.#settings = settings;
    this.clientId = settings.clientId;
    this.#log = this.#options.logger.child({ component: 'mqtt-session', clientId: this.clientId });
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });

    const userProperties: Record<string, string> = {};
    if (this.#options.metricCategory !== '')
      userProperties['metriccategory'] = this.#options.metricCategory;
    this.#connectProperties = {
      sessionExpiryInterval: settings.sessionExpiryInSeconds ?? 3600,
      ...(settings.receiveMaximum === undefined ? {} : { receiveMaximum: settings.receiveMaximum }),
      ...(Object.keys(userProperties).length > 0 ? { userProperties } : {}),
      ...(settings.satFile === undefined ? {} : { authenticationMethod: satMethod }),
    };
    const tls: Partial<IClientOptions> & { minVersion?: 'TLSv1.2' } = settings.useTls
      ? {
          protocol: 'mqtts',
          rejectUnauthorized: true,
          minVersion: 'TLSv1.2',
          ...(settings.caCertificates === undefined || settings.caCertificates.length === 0
            ? {}
            : { ca: [...settings.caCertificates] }),
          ...(settings.clientCertificate === undefined
            ? {}
            : { cert: settings.clientCertificate, key: settings.clientKey }),
          ...(settings.tlsServerName !== undefined
            ? { servername: settings.tlsServerName }
            : isIP(settings.hostname) === 0
              ? { servername: settings.hostname }
              : {}),
        }
      : { protocol: 'mqtt' };
    this.#client = mqttConnect({
      host: settings.hostname,
      hostname: settings.hostname,
      port: settings.port,
      ...tls,
      protocolVersion: 5,
      clientId: settings.clientId,
      clean: false,
      keepalive: settings.keepAliveInSeconds ?? 60,
      properties: this.#connectProperties,
      ...(settings.username === undefined ? {} : { username: settings.username }),
      ...(settings.password === undefined ? {} : { password: settings.password }),
      manualConnect: true,
      reconnectPeriod: 0,
      connectTimeout: this.#options.connectTimeoutInMs,
      resubscribe: false,
      queueQoSZero: false,
      reschedulePings: true,
      // mqtt.js's own debug output (DEBUG=mqttjs*) prints whole packets, credentials included.
      log: () => undefined,
    });
    checkInternals(this.#client);
    this.#acks = new OrderedAckQueue((messageId) => {
      sendPuback(this.#client, messageId);
    });
    this.#wire();
  }

  /** The lifecycle state. */
  get state(): MqttSessionState {
    return this.#state;
  }

  /** Whether the session is connected right now. */
  get connected(): boolean {
    return this.#state === 'connected' || (this.#state === 'closing' && this.#client.connected);
  }

  /** The broker's Maximum Packet Size from the last CONNACK, if it announced one. */
  get maximumPacketSize(): number | undefined {
    return this.#connack?.properties?.maximumPacketSize;
  }

  /**
   * Starts the session and resolves on the first successful CONNACK. Failed attempts are retried
   * with backoff until then (the broker may start after the connector); rejects with the fatal
   * error if the session ends first. Aborting `signal` before the first connection gives up: the
   * session is destroyed. Calling it again returns the same outcome.
   */
  connect(options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    const { signal } = options;
    if (this.#state === 'closed' || this.#state === 'closing')
      return Promise.reject(this.#closedError('connect'));
    if (signal?.aborted) return Promise.reject(abortError(signal, 'connect'));
    if (this.#firstConnect === undefined) {
      this.#firstConnect = deferred();
      this.#state = 'connecting';
      this.#log.info(
        {
          host: this.#settings.hostname,
          port: this.#settings.port,
          tls: this.#settings.useTls,
          auth: this.#settings.satFile === undefined ? undefined : satMethod,
          sessionExpiryInSeconds: this.#connectProperties.sessionExpiryInterval,
        },
        'connecting to the MQTT broker',
      );
      void this.#attempt();
    }
    const first = this.#firstConnect.promise;
    if (signal === undefined) return first;
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        reject(abortError(signal, 'connect'));
        if (!this.#hadSession) this.destroy();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      first.then(
        () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  /**
   * Publishes a message. QoS 1 resolves with the broker's PUBACK (reason codes >= 0x80 are returned,
   * not thrown), also when the PUBACK arrives after a reconnect; QoS 0 resolves once written.
   * Rejects with `ERR_AIO_MQTT_PUBLISH` when the message cannot be carried (QoS 0 while
   * disconnected, larger than the broker's maximum packet size), `ERR_AIO_CLOSED` when the session
   * ends first, `ERR_AIO_ABORTED` when `signal` aborts (the message may still be delivered).
   */
  async publish(
    message: OutgoingMessage,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<PublishResult> {
    checkOutgoingMessage(message);
    const { signal } = options;
    if (signal?.aborted) throw abortError(signal, 'publish');
    if (this.#state === 'closed' || this.#state === 'closing') throw this.#closedError('publish');
    const maximum = this.maximumPacketSize;
    if (maximum !== undefined) {
      const size = publishPacketSize(message);
      if (size > maximum)
        throw new AioError(
          'ERR_AIO_MQTT_PUBLISH',
          `the message to ${message.topic} (${size} bytes) exceeds the broker's maximum packet size (${maximum} bytes)`,
          { details: { topic: message.topic, size, maximumPacketSize: maximum } },
        );
    }
    return new Promise<PublishResult>((resolve, reject) => {
      let settled = false;
      const finish = (): boolean => {
        if (settled) return false;
        settled = true;
        this.#pending.delete(fail);
        signal?.removeEventListener('abort', onAbort);
        return true;
      };
      const fail = (error: Error): void => {
        if (finish()) reject(error);
      };
      const onAbort = (): void => {
        fail(abortError(signal as AbortSignal, 'publish'));
      };
      this.#pending.add(fail);
      signal?.addEventListener('abort', onAbort, { once: true });
      let released = (): void => undefined;
      if (message.qos === 1) {
        const done = new Promise<void>((resolveDone) => {
          released = resolveDone;
        });
        this.#inflight.add(done);
        void done.then(() => this.#inflight.delete(done));
      }
      this.#client.publish(
        message.topic,
        toPayload(message),
        toPublishOptions(message),
        (error, packet) => {
          released();
          const puback = this.#pubackFor(packet);
          if (error === undefined || error === null) {
            if (finish()) resolve(this.#publishResult(message.qos === 1 ? puback : undefined));
          } else if (puback !== undefined) {
            if (finish()) resolve(this.#publishResult(puback));
          } else {
            fail(
              this.#operationError('ERR_AIO_MQTT_PUBLISH', `publish to ${message.topic}`, error),
            );
          }
        },
      );
    });
  }

  /**
   * Subscribes to one filter (No Local as asked, Retain As Published off, Retain Handling 0).
   * Resolves with the SUBACK reason code (the granted QoS); rejects with `ERR_AIO_MQTT_SUBSCRIBE`
   * when it is >= 0x80. A SUBSCRIBE cut off by a disconnection is sent again after the reconnect.
   */
  async subscribe(
    filter: string,
    options: { readonly qos: QoS; readonly noLocal?: boolean },
  ): Promise<SubscribeResult> {
    checkFilter(filter);
    if (typeof options !== 'object' || options === null)
      throw new TypeError('options must be an object');
    if (options.qos !== 0 && options.qos !== 1)
      throw new RangeError(`options.qos must be 0 or 1, received ${String(options.qos)}`);
    if (options.noLocal !== undefined && typeof options.noLocal !== 'boolean')
      throw new TypeError('options.noLocal must be a boolean');
    const subscription = { qos: options.qos, nl: options.noLocal ?? false, rap: false, rh: 0 };
    const result = await this.#withReconnect(`subscribe to ${filter}`, (done) => {
      this.#client.subscribe(filter, subscription, (error, _granted, packet) => {
        const suback =
          packet ?? (error as { packet?: { cmd?: string; granted?: unknown[] } } | null)?.packet;
        const code = suback?.cmd === 'suback' ? suback.granted?.[0] : undefined;
        done(typeof code === 'number' ? code : undefined, error ?? undefined);
      });
    });
    this.#subscriptions.add(filter);
    return result;
  }

  /**
   * Unsubscribes from one filter. Resolves with the UNSUBACK reason code (0x11 when there was no
   * such subscription); rejects with `ERR_AIO_MQTT_SUBSCRIBE` when it is >= 0x80.
   */
  async unsubscribe(filter: string): Promise<SubscribeResult> {
    checkFilter(filter);
    const result = await this.#withReconnect(`unsubscribe from ${filter}`, (done) => {
      this.#client.unsubscribe(filter, (error, packet) => {
        const code =
          packet !== undefined && packet.cmd === 'unsuback' && Array.isArray(packet.granted)
            ? packet.granted[0]
            : undefined;
        done(typeof code === 'number' ? code : error == null ? 0 : undefined, error ?? undefined);
      });
    });
    this.#subscriptions.delete(filter);
    return result;
  }

  /**
   * Adds a message handler; returns the function that removes it. Every handler sees every
   * message. A QoS 1 message is acknowledged once every handler has returned and every promise
   * returned has settled (a handler that throws still lets it be acknowledged), and
   * acknowledgements go out in the order messages arrived.
   */
  onMessage(handler: MessageHandler): () => void {
    if (typeof handler !== 'function') throw new TypeError('handler must be a function');
    const entry: MessageHandler = (message) => handler(message);
    this.#handlers.add(entry);
    return () => {
      this.#handlers.delete(entry);
    };
  }

  /** Adds a connection-state listener; returns the function that removes it. */
  onConnectionChange(listener: (event: ConnectionEvent) => void): () => void {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    const entry = (event: ConnectionEvent): void => {
      listener(event);
    };
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /**
   * Ends the session gracefully: new operations are refused, unacknowledged QoS 1 publishes get up
   * to `timeoutInMs` to complete (reconnecting if needed), then a DISCONNECT is sent (with Session
   * Expiry 0 when `endSession`). What is still pending is rejected with `ERR_AIO_CLOSED`.
   * Idempotent: concurrent calls share one promise.
   */
  close(options: MqttSessionCloseOptions = {}): Promise<void> {
    if (typeof options !== 'object' || options === null)
      throw new TypeError('options must be an object');
    checkNumber('timeoutInMs', options.timeoutInMs, 0, maxTimerInMs);
    if (options.endSession !== undefined && typeof options.endSession !== 'boolean')
      throw new TypeError('endSession must be a boolean');
    this.#closing ??= this.#close(options.timeoutInMs ?? 10_000, options.endSession ?? false);
    return this.#closing;
  }

  /** Ends the session at once: the connection is dropped and everything pending rejects. */
  destroy(): void {
    if (this.#state === 'closed') return;
    this.#stopReconnecting = true;
    this.#endClient(true);
    this.#finish(undefined);
  }

  /** Same as {@link MqttSession.close} with default options. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // --- connection management -------------------------------------------------------------------

  #wire(): void {
    const client = this.#client;
    client.on('error', (error) => {
      this.#attemptError = error;
      this.#log.debug({ err: error }, 'MQTT client error');
    });
    client.on('packetreceive', (packet: Packet) => {
      if (packet.cmd === 'puback' && packet.messageId !== undefined)
        this.#pubacks.set(packet.messageId, packet);
      else if (packet.cmd === 'connack' && (packet.reasonCode ?? 0) !== 0) this.#refusal = packet;
      else if (packet.cmd === 'disconnect') this.#serverDisconnect = packet;
    });
    client.on('connect', (connack) => {
      // Nagle's algorithm holds small packets (a PUBACK, an RPC request) for up to 40 ms waiting
      // for more data; every request/response exchange would pay it twice.
      (
        client as unknown as { stream?: { setNoDelay?: (noDelay: boolean) => void } }
      ).stream?.setNoDelay?.(true);
      this.#onConnected(connack);
    });
    client.on('close', () => {
      this.#onClose();
    });
    guardConnack(client, (connack) => this.#acceptConnack(connack));
    takeOverAcknowledgements(client, (packet) => {
      this.#onPublish(packet);
    });
    client.handleAuth = (packet: IAuthPacket, callback) => {
      this.#onAuth(packet, callback);
    };
  }

  async #attempt(): Promise<void> {
    if (this.#state === 'closed' || this.#stopReconnecting) return;
    this.#attemptError = undefined;
    this.#refusal = undefined;
    this.#serverDisconnect = undefined;
    const satFile = this.#settings.satFile;
    if (satFile !== undefined) {
      try {
        this.#token = await readSatToken(satFile);
      } catch (error) {
        this.#fail(error as Error);
        return;
      }
      if (this.#isEnded() || this.#stopReconnecting) return;
      this.#connectProperties.authenticationData = this.#token.bytes;
    }
    this.#log.debug({ attempt: this.#failures + 1 }, 'sending CONNECT');
    try {
      this.#client.connect();
    } catch (error) {
      // tls.connect throws synchronously on unusable certificates or keys.
      this.#fail(
        new ConfigError(
          `cannot open the connection to ${this.#settings.hostname}:${this.#settings.port}: ${(error as Error).message}`,
          { cause: error, field: 'tls' },
        ),
      );
    }
  }

  #acceptConnack(connack: IConnackPacket): boolean {
    if (this.#state === 'closed') return false;
    if (this.#hadSession && !connack.sessionPresent) {
      if (this.#subscriptions.size === 0) {
        // Without subscriptions the broker held nothing for this client (no queued messages, no
        // unacknowledged deliveries), and unacknowledged publishes are sent again: nothing is lost.
        // Some brokers (aedes) only report a session that has subscriptions.
        this.#log.info('the broker started a new session; the old one had no subscriptions');
        return true;
      }
      this.#fail(
        new AioError(
          'ERR_AIO_MQTT_SESSION_LOST',
          `the broker did not resume the session of client ${this.clientId} (CONNACK sessionPresent=false): its subscriptions and queued messages are lost`,
          { details: { clientId: this.clientId } },
        ),
      );
      return false;
    }
    return true;
  }

  #onConnected(connack: IConnackPacket): void {
    if (this.#state === 'closed') return;
    this.#connack = connack;
    this.#hadSession = true;
    this.#failures = 0;
    this.#connectedNow = true;
    if (this.#state !== 'closing') this.#state = 'connected';
    this.#log.info(
      {
        sessionPresent: connack.sessionPresent,
        maximumPacketSize: connack.properties?.maximumPacketSize,
        receiveMaximum: connack.properties?.receiveMaximum,
      },
      'connected to the MQTT broker',
    );
    this.#emit({ type: 'connected', sessionPresent: connack.sessionPresent });
    this.#firstConnect?.resolve();
    const next = this.#nextConnect;
    this.#nextConnect = undefined;
    next?.resolve();
    if (this.#settings.satFile !== undefined && this.#state === 'connected') {
      this.#scheduleReauth();
      this.#watchToken();
    }
  }

  #onClose(): void {
    const wasConnected = this.#connectedNow;
    this.#connectedNow = false;
    this.#acks.clear();
    this.#pubacks.clear();
    clearTimeout(this.#reauthTimer);
    if (this.#state === 'closed') return;
    const fatal = this.#fatalCause();
    if (fatal !== undefined) {
      this.#fail(fatal);
      return;
    }
    if (this.#stopReconnecting) return;
    const cause = this.#attemptError ?? this.#serverDisconnectError();
    const error = new AioError(
      'ERR_AIO_MQTT_CONNECT',
      wasConnected
        ? `lost the connection to the MQTT broker${cause === undefined ? '' : `: ${cause.message}`}`
        : `cannot connect to the MQTT broker at ${this.#settings.hostname}:${this.#settings.port}${
            cause === undefined ? '' : `: ${cause.message}`
          }`,
      {
        retryable: true,
        cause,
        details: {
          host: this.#settings.hostname,
          port: this.#settings.port,
          reasonCode: this.#refusal?.reasonCode ?? this.#serverDisconnect?.reasonCode,
        },
      },
    );
    this.#failures = wasConnected ? 1 : this.#failures + 1;
    const delayInMs = computeBackoff(this.#failures, this.#options.reconnect);
    if (this.#state !== 'closing') this.#state = this.#hadSession ? 'reconnecting' : 'connecting';
    const log = wasConnected || this.#failures >= 3 ? this.#log.warn : this.#log.debug;
    log.call(
      this.#log,
      { err: error, attempt: this.#failures, delayInMs },
      wasConnected
        ? 'MQTT connection lost; reconnecting'
        : 'MQTT connection attempt failed; retrying',
    );
    this.#emit({ type: 'disconnected', error });
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      void this.#attempt();
    }, delayInMs);
  }

  /** The error that makes the end of the current connection fatal, if any. */
  #fatalCause(): Error | undefined {
    const host = `${this.#settings.hostname}:${this.#settings.port}`;
    const refusal = this.#refusal;
    if (refusal !== undefined && credentialRefusals.has(refusal.reasonCode ?? 0)) {
      const code: AioErrorCode =
        this.#settings.satFile !== undefined || refusal.reasonCode === 0x8c
          ? 'ERR_AIO_MQTT_AUTH'
          : 'ERR_AIO_MQTT_CONNECT';
      return new AioError(
        code,
        `the MQTT broker at ${host} refused the credentials of client ${this.clientId}: CONNACK reason code 0x${(refusal.reasonCode ?? 0).toString(16)} (${refusal.properties?.reasonString ?? reasonName(refusal.reasonCode ?? 0)})`,
        { details: { host, reasonCode: refusal.reasonCode } },
      );
    }
    if (this.#serverDisconnect?.reasonCode === sessionTakenOver)
      return new AioError(
        'ERR_AIO_MQTT_SESSION_LOST',
        `the session of client ${this.clientId} was taken over by another connection with the same client id (DISCONNECT 0x8e)`,
        { details: { clientId: this.clientId, reasonCode: sessionTakenOver } },
      );
    const code = (this.#attemptError as { code?: unknown } | undefined)?.code;
    if (typeof code === 'string' && certificateRejected.test(code))
      return new AioError(
        'ERR_AIO_MQTT_CONNECT',
        `the MQTT broker at ${host} rejected the TLS client certificate (${code})`,
        { cause: this.#attemptError, details: { host, tlsError: code } },
      );
    if (typeof code === 'string' && serverUntrusted.has(code))
      return new AioError(
        'ERR_AIO_MQTT_CONNECT',
        `the TLS certificate of the MQTT broker at ${host} is not trusted (${code}); check the broker trust bundle`,
        { cause: this.#attemptError, details: { host, tlsError: code } },
      );
    return undefined;
  }

  #serverDisconnectError(): Error | undefined {
    const packet = this.#serverDisconnect;
    if (packet === undefined) return undefined;
    const code = packet.reasonCode ?? 0;
    return new Error(
      `the broker sent DISCONNECT 0x${code.toString(16)} (${packet.properties?.reasonString ?? reasonName(code)})`,
    );
  }

  /** Ends the session with a fatal error. */
  #fail(error: Error): void {
    if (this.#state === 'closed') return;
    this.#log.error({ err: error }, 'MQTT session failed');
    this.#stopReconnecting = true;
    this.#endClient(true);
    this.#finish(error);
  }

  /** Moves to `closed`: timers stopped, everything pending rejected, listeners told. */
  #finish(error: Error | undefined): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#stopReconnecting = true;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    this.#stopTokenRefresh();
    this.#acks.clear();
    const rejection = error ?? this.#closedError('the operation');
    this.#firstConnect?.reject(rejection);
    this.#nextConnect?.reject(rejection);
    this.#nextConnect = undefined;
    for (const fail of [...this.#pending]) fail(rejection);
    this.#pending.clear();
    if (error === undefined) this.#log.info('MQTT session closed');
    this.#emit({ type: 'closed', ...(error === undefined ? {} : { error }) });
    this.#resolveClosed(error);
  }

  async #close(timeoutInMs: number, endSession: boolean): Promise<void> {
    if (this.#state === 'closed') return;
    if (this.#state === 'new') {
      this.#finish(undefined);
      return;
    }
    this.#state = 'closing';
    this.#stopTokenRefresh();
    const closing = this.#closedError('connect');
    this.#firstConnect?.reject(closing);
    this.#nextConnect?.reject(closing);
    this.#nextConnect = undefined;
    if (this.#inflight.size > 0) {
      this.#log.debug(
        { inflight: this.#inflight.size, timeoutInMs },
        'waiting for QoS 1 publishes',
      );
      const timeout = new AbortController();
      await Promise.race([
        Promise.allSettled([...this.#inflight]),
        sleep(timeoutInMs, timeout.signal).catch(() => undefined),
        this.closed,
      ]);
      timeout.abort();
    }
    if (this.#isEnded()) return;
    this.#stopReconnecting = true;
    clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    const client = this.#client;
    const abandoned = Object.keys(client.outgoing).map(Number);
    if (abandoned.length > 0)
      this.#log.warn({ count: abandoned.length }, 'closing with unacknowledged MQTT packets');
    for (const messageId of abandoned) client.removeOutgoingMessage(messageId);
    if (client.connected) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.#endClient(true);
          resolve();
        }, 5_000);
        timer.unref();
        client.end(
          false,
          {
            reasonCode: 0,
            ...(endSession ? { properties: { sessionExpiryInterval: 0 } } : {}),
          },
          () => {
            clearTimeout(timer);
            resolve();
          },
        );
      });
    } else this.#endClient(true);
    this.#finish(undefined);
  }

  /** Whether the session reached `closed` (a method, so TypeScript does not narrow it). */
  #isEnded(): boolean {
    return this.#state === 'closed';
  }

  #isClosing(): boolean {
    return this.#state === 'closing';
  }

  #endClient(force: boolean): void {
    // mqtt.js cannot end a client that never opened a stream.
    if ((this.#client as { stream?: unknown }).stream === undefined) return;
    this.#client.end(force);
  }

  #emit(event: ConnectionEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.#log.warn({ err: error, event: event.type }, 'connection listener threw');
      }
    }
  }

  #closedError(operation: string): AioError {
    return new AioError('ERR_AIO_CLOSED', `${operation} failed: the MQTT session is closed`, {
      details: { clientId: this.clientId },
    });
  }

  /** The error for an operation mqtt.js failed: closed, or a retryable transport failure. */
  #operationError(code: AioErrorCode, operation: string, cause: Error): AioError {
    if (this.#state === 'closed' || this.#state === 'closing') return this.#closedError(operation);
    return new AioError(code, `${operation} failed: ${cause.message}`, {
      cause,
      retryable: true,
      details: { clientId: this.clientId },
    });
  }

  #pubackFor(packet: Packet | undefined): IPubackPacket | undefined {
    if (packet === undefined) return undefined;
    if (packet.cmd === 'puback') return packet;
    if (packet.cmd === 'publish' && packet.messageId !== undefined) {
      const puback = this.#pubacks.get(packet.messageId);
      this.#pubacks.delete(packet.messageId);
      return puback;
    }
    return undefined;
  }

  #publishResult(puback: IPubackPacket | undefined): PublishResult {
    const reasonString = puback?.properties?.reasonString;
    return {
      reasonCode: puback?.reasonCode ?? 0,
      ...(reasonString === undefined ? {} : { reasonString }),
    };
  }

  /** Resolves on the next successful CONNACK; rejects if the session ends first. */
  #whenConnected(): Promise<void> {
    this.#nextConnect ??= deferred();
    return this.#nextConnect.promise;
  }

  /**
   * Runs a SUBSCRIBE / UNSUBSCRIBE until the broker answers: a reason code >= 0x80 rejects with
   * `ERR_AIO_MQTT_SUBSCRIBE`; a packet lost with the connection is sent again after the reconnect.
   */
  async #withReconnect(
    operation: string,
    send: (done: (reasonCode: number | undefined, error: Error | undefined) => void) => void,
  ): Promise<SubscribeResult> {
    for (;;) {
      if (this.#state === 'closed' || this.#state === 'closing') throw this.#closedError(operation);
      const outcome = await new Promise<{ code?: number; error?: Error }>((resolve, reject) => {
        let settled = false;
        const fail = (error: Error): void => {
          if (settled) return;
          settled = true;
          this.#pending.delete(fail);
          reject(error);
        };
        this.#pending.add(fail);
        send((code, error) => {
          if (settled) return;
          settled = true;
          this.#pending.delete(fail);
          resolve({
            ...(code === undefined ? {} : { code }),
            ...(error === undefined ? {} : { error }),
          });
        });
      });
      if (outcome.code !== undefined) {
        if (outcome.code >= 0x80)
          throw new AioError(
            'ERR_AIO_MQTT_SUBSCRIBE',
            `${operation} was refused by the broker: reason code 0x${outcome.code.toString(16)} (${reasonName(outcome.code)})`,
            { details: { reasonCode: outcome.code } },
          );
        return { reasonCode: outcome.code };
      }
      const cause = outcome.error ?? new Error('no answer');
      if (this.#isEnded() || this.#isClosing()) throw this.#closedError(operation);
      if (!/connection closed|disconnecting|no connection/i.test(cause.message))
        throw new AioError('ERR_AIO_MQTT_SUBSCRIBE', `${operation} failed: ${cause.message}`, {
          cause,
        });
      this.#log.debug(
        { operation },
        'connection lost before the answer; sending again after reconnect',
      );
      if (!this.#client.connected) await this.#whenConnected();
    }
  }

  // --- received messages ---------------------------------------------------------------------------

  #onPublish(packet: IPublishPacket): void {
    if (this.#state === 'closed') return;
    const message = fromPublishPacket(packet);
    const waits: Promise<void>[] = [];
    for (const handler of [...this.#handlers]) {
      try {
        const result = handler(message);
        if (result !== undefined && typeof (result as { then?: unknown }).then === 'function')
          waits.push(
            Promise.resolve(result).catch((error: unknown) => {
              this.#log.warn({ err: error, topic: message.topic }, 'message handler failed');
            }),
          );
      } catch (error) {
        this.#log.warn({ err: error, topic: message.topic }, 'message handler failed');
      }
    }
    if (packet.qos !== 1 || packet.messageId === undefined) return;
    const acknowledge = this.#acks.add(packet.messageId);
    if (waits.length === 0) acknowledge();
    else void Promise.all(waits).then(acknowledge);
  }

  // --- K8S-SAT -------------------------------------------------------------------------------------

  #onAuth(packet: IAuthPacket, callback: (error?: Error, packet?: Packet) => void): void {
    if (packet.reasonCode === 0x18 && this.#token !== undefined) {
      // The broker asks to continue the exchange: answer with the current token.
      callback(undefined, {
        cmd: 'auth',
        reasonCode: 0x18,
        properties: { authenticationMethod: satMethod, authenticationData: this.#token.bytes },
      });
      return;
    }
    if (packet.reasonCode === 0) this.#log.debug('re-authentication accepted');
    callback();
  }

  #scheduleReauth(): void {
    clearTimeout(this.#reauthTimer);
    const token = this.#token;
    if (token === undefined || this.#state !== 'connected') return;
    // Re-authenticate 5 s before the token expires; if the file still holds the same token then,
    // look again every second until it is renewed (or expires).
    const due = token.expiresAtInMs - reauthLeadInMs - Date.now();
    const delayInMs = Math.min(maxTimerInMs, due > 0 ? due : 1_000);
    this.#reauthTimer = setTimeout(() => {
      void this.#reauthenticate('the token is about to expire');
    }, delayInMs);
    this.#reauthTimer.unref();
  }

  #watchToken(): void {
    const satFile = this.#settings.satFile;
    if (this.#watcher !== undefined || satFile === undefined) return;
    // Kubernetes renews a projected token by swapping symlinks in its folder: watch the folder.
    try {
      const watcher = watch(dirname(satFile), { persistent: false }, () => {
        clearTimeout(this.#debounceTimer);
        this.#debounceTimer = setTimeout(() => {
          void this.#reauthenticate('the token file changed');
        }, this.#options.tokenWatchDebounceInMs);
        this.#debounceTimer.unref();
      });
      watcher.on('error', (error) => {
        this.#log.warn({ err: error }, 'stopped watching the SAT folder');
        watcher.close();
        if (this.#watcher === watcher) this.#watcher = undefined;
      });
      this.#watcher = watcher;
    } catch (error) {
      this.#log.warn(
        { err: error },
        'cannot watch the SAT folder; re-authenticating on expiry only',
      );
    }
  }

  #stopTokenRefresh(): void {
    clearTimeout(this.#reauthTimer);
    clearTimeout(this.#debounceTimer);
    this.#reauthTimer = undefined;
    this.#debounceTimer = undefined;
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  async #reauthenticate(reason: string): Promise<void> {
    const satFile = this.#settings.satFile;
    if (satFile === undefined || this.#state !== 'connected' || this.#reauthenticating) return;
    this.#reauthenticating = true;
    try {
      let token: SatToken;
      try {
        token = await readSatToken(satFile);
      } catch (error) {
        this.#log.error({ err: error }, 'cannot re-authenticate with the SAT');
        return;
      }
      if (this.#state !== 'connected' || !this.#client.connected) return;
      if (this.#token !== undefined && token.bytes.equals(this.#token.bytes)) {
        this.#scheduleReauth();
        return;
      }
      this.#token = token;
      this.#connectProperties.authenticationData = token.bytes;
      sendAuthPacket(this.#client, 0x19, satMethod, token.bytes);
      this.#log.info(
        { reason, expiresAt: new Date(token.expiresAtInMs).toISOString() },
        're-authenticating with a new SAT',
      );
      this.#scheduleReauth();
    } finally {
      this.#reauthenticating = false;
    }
  }
}

function checkFilter(filter: string): void {
  if (typeof filter !== 'string') throw new TypeError('filter must be a string');
  if (filter === '') throw new RangeError('filter must not be empty');
}

const reasonNames: Readonly<Record<number, string>> = {
  0x11: 'no subscription existed',
  0x80: 'unspecified error',
  0x81: 'malformed packet',
  0x82: 'protocol error',
  0x83: 'implementation specific error',
  0x84: 'unsupported protocol version',
  0x85: 'client identifier not valid',
  0x86: 'bad user name or password',
  0x87: 'not authorized',
  0x88: 'server unavailable',
  0x89: 'server busy',
  0x8a: 'banned',
  0x8b: 'server shutting down',
  0x8c: 'bad authentication method',
  0x8d: 'keep alive timeout',
  0x8e: 'session taken over',
  0x8f: 'topic filter invalid',
  0x90: 'topic name invalid',
  0x91: 'packet identifier in use',
  0x93: 'receive maximum exceeded',
  0x95: 'packet too large',
  0x97: 'quota exceeded',
  0x98: 'administrative action',
  0x99: 'payload format invalid',
  0x9c: 'use another server',
  0x9d: 'server moved',
  0x9e: 'shared subscriptions not supported',
  0x9f: 'connection rate exceeded',
  0xa1: 'subscription identifiers not supported',
  0xa2: 'wildcard subscriptions not supported',
};

function reasonName(code: number): string {
  return reasonNames[code] ?? (code === 0 ? 'success' : 'unknown reason');
}
