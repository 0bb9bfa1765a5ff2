/**
 * The HTTP(S) client of one device endpoint, shared by the REST and SSE connectors: one pooled
 * undici `Agent` (keep-alive) with the endpoint's TLS settings and credentials, timeouts, a response
 * size cap enforced while streaming, conditional GET, same-origin redirects, and coded errors.
 *
 * @module
 */
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import type { Readable } from 'node:stream';
import { createSecureContext } from 'node:tls';
import { Agent, Pool, buildConnector, type Dispatcher } from 'undici';
import { AioError, ConfigError, abortError, isAioError } from '../errors.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { throwIfAborted } from '../retry.ts';
import { AnonymousCredentials, type EndpointCredentials } from '../runtime/endpoint-credentials.ts';
import {
  HttpError,
  classifyHttpStatus,
  httpErrorFromFailure,
  isTlsAlert,
  localPortOf,
  parseRetryAfter,
} from './http-error.ts';
import { flattenHeaders, normalizeRequestHeaders, parseContentType } from './http-headers.ts';
import { displayUrl, parseHttpAddress, resolveHttpDataSource } from './http-url.ts';

/** Options of {@link HttpEndpointClient}. Every field is optional. */
export interface HttpEndpointClientOptions {
  /**
   * The endpoint's credentials and trust list, as read by `EndpointCredentialsReader`. Default:
   * `Anonymous` without a trust list (the system roots are trusted).
   */
  readonly credentials?: EndpointCredentials | undefined;
  /** Time allowed to open a connection (TCP and TLS), in ms; 0 = no limit. Default: 10 000. */
  readonly connectTimeoutInMs?: number | undefined;
  /** Time allowed between sending a request and receiving the response headers, in ms; 0 = no limit. Default: 30 000. */
  readonly headersTimeoutInMs?: number | undefined;
  /**
   * Longest pause allowed between two pieces of a response body, in ms, for
   * {@link HttpEndpointClient.request}; 0 = no limit. Default: 30 000. Streams have their own
   * setting ({@link HttpStreamOptions.bodyTimeoutInMs}).
   */
  readonly bodyTimeoutInMs?: number | undefined;
  /** Largest response body {@link HttpEndpointClient.request} accepts, in bytes. Default: 16 MiB. */
  readonly maxResponseBytes?: number | undefined;
  /**
   * How long an idle keep-alive connection stays open, in ms (a shorter `Keep-Alive: timeout` from
   * the server wins). Default: 4 000.
   */
  readonly keepAliveTimeoutInMs?: number | undefined;
  /**
   * Largest number of connections to the endpoint; requests beyond it wait for a free connection
   * (an open stream holds its connection). Default: no limit.
   */
  readonly connections?: number | undefined;
  /** Same-origin redirects followed per request; 0 = none. Default: 5. */
  readonly maxRedirects?: number | undefined;
  /** The `User-Agent` header; `''` sends none. Default: `'aio-connector-sdk'`. */
  readonly userAgent?: string | undefined;
  /**
   * The name to verify in the server certificate (and send as SNI), when it differs from the host
   * of the address. Default: the host of the address.
   */
  readonly tlsServerName?: string | undefined;
  /**
   * What configuration errors name as their source, for example
   * `device my-thermostat endpoint my-rest-endpoint`. Default: `'HTTP endpoint'`.
   */
  readonly source?: string | undefined;
  /** Where requests (trace) and failures (debug) are logged. Default: silent. */
  readonly logger?: Logger | undefined;
}

/**
 * The defaults of {@link HttpEndpointClientOptions}.
 *
 * @example
 * ```ts
 * import { defaultHttpEndpointClientOptions } from '@aio-connector/core';
 * console.log(defaultHttpEndpointClientOptions.maxResponseBytes); // 16777216
 * ```
 */
export const defaultHttpEndpointClientOptions = Object.freeze({
  connectTimeoutInMs: 10_000,
  headersTimeoutInMs: 30_000,
  bodyTimeoutInMs: 30_000,
  maxResponseBytes: 16 * 1024 * 1024,
  keepAliveTimeoutInMs: 4_000,
  maxRedirects: 5,
  userAgent: 'aio-connector-sdk',
});

/** The validators of a conditional GET, from an earlier response. */
export interface HttpConditional {
  /** The `ETag` of the earlier response; sent as `If-None-Match`. */
  readonly etag?: string | undefined;
  /** The `Last-Modified` of the earlier response; sent as `If-Modified-Since`. */
  readonly lastModified?: string | undefined;
}

/** Options of {@link HttpEndpointClient.request}. Every field is optional. */
export interface HttpRequestOptions {
  /** The method. Default: `'GET'`. */
  readonly method?: string | undefined;
  /**
   * The dataSource: a path (with query) resolved against the endpoint address, or an absolute URL
   * on the same origin. Default: `''` (the address itself).
   */
  readonly url?: string | undefined;
  /** Request headers. `Authorization` is replaced when the endpoint uses UsernamePassword. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** The request body. Default: none. */
  readonly body?: string | Uint8Array | undefined;
  /** Time allowed for the whole request, body included, in ms; 0 = no limit. Default: 0. */
  readonly timeoutInMs?: number | undefined;
  /** Largest response body accepted, in bytes. Default: the client's `maxResponseBytes`. */
  readonly maxResponseBytes?: number | undefined;
  /** Make the request conditional: a `304 Not Modified` answer is then `notModified: true`. */
  readonly conditional?: HttpConditional | undefined;
  /** Aborts the request. */
  readonly signal?: AbortSignal | undefined;
}

/** What {@link HttpEndpointClient.request} resolves with: a response with a success status or 304. */
export interface HttpResponse {
  /** The URL that answered (after same-origin redirects). */
  readonly url: string;
  /** The status: 2xx, or 304 for a conditional request whose resource did not change. */
  readonly status: number;
  /** The status text (reason phrase). */
  readonly statusText: string;
  /** The response headers, lower-case names, repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  /** The `Content-Type` header as received, if any. */
  readonly contentType: string | undefined;
  /** The media type of `contentType`, lower case (`application/json`), if it is well-formed. */
  readonly mediaType: string | undefined;
  /** The whole body (empty for 304 and HEAD). */
  readonly body: Uint8Array;
  /** The `ETag`: of this response, or for a 304 without one, the one sent. */
  readonly etag: string | undefined;
  /** The `Last-Modified`: of this response, or for a 304 without one, the one sent. */
  readonly lastModified: string | undefined;
  /** `true` for a 304: the resource did not change since the conditional validators. */
  readonly notModified: boolean;
}

/** Options of {@link HttpEndpointClient.stream}. Every field is optional. */
export interface HttpStreamOptions {
  /** The method. Default: `'GET'`. */
  readonly method?: string | undefined;
  /** The dataSource, as in {@link HttpRequestOptions.url}. Default: `''` (the address itself). */
  readonly url?: string | undefined;
  /** Request headers. `Authorization` is replaced when the endpoint uses UsernamePassword. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** The request body. Default: none. */
  readonly body?: string | Uint8Array | undefined;
  /** Time allowed until the response headers, in ms; 0 = no limit. Default: the client's. */
  readonly headersTimeoutInMs?: number | undefined;
  /**
   * Longest pause allowed between two pieces of body, in ms; 0 = no limit (an event stream usually
   * has its own heartbeat watchdog). Default: 0.
   */
  readonly bodyTimeoutInMs?: number | undefined;
  /**
   * The media type the response must have (for example `text/event-stream`); another or no
   * content type fails with `ERR_AIO_HTTP_CONTENT_TYPE`. When set and no `Accept` header is
   * given, it is sent as `Accept`. Default: any.
   */
  readonly expectContentType?: string | undefined;
  /** Bytes read ahead of the consumer before reading from the socket stops. Default: 65 536. */
  readonly highWaterMark?: number | undefined;
  /** Aborts the request, and the stream once open. */
  readonly signal?: AbortSignal | undefined;
}

/** An open response stream, from {@link HttpEndpointClient.stream}. */
export interface HttpStream {
  /** The URL that answered (after same-origin redirects). */
  readonly url: string;
  /** The status (2xx). */
  readonly status: number;
  /** The status text (reason phrase). */
  readonly statusText: string;
  /** The response headers, lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  /** The `Content-Type` header as received, if any. */
  readonly contentType: string | undefined;
  /** The media type of `contentType`, lower case, if it is well-formed. */
  readonly mediaType: string | undefined;
  /**
   * The body, chunk by chunk as it arrives. Pull-based: while the consumer does not ask for the
   * next chunk, at most `highWaterMark` bytes are read ahead, then reading from the socket stops
   * and TCP flow control slows the server. Iterate it once. Ends when the server ends the body or
   * {@link HttpStream.cancel} is called; fails with an `HttpError` (network, timeout), an
   * `ERR_AIO_ABORTED` error (signal) or `ERR_AIO_CLOSED` (client destroyed).
   */
  readonly body: AsyncIterable<Uint8Array>;
  /** Stops the stream and closes its connection. Idempotent; ends a pending iteration quietly. */
  cancel(): void;
  /** Same as {@link HttpStream.cancel}. */
  [Symbol.asyncDispose](): Promise<void>;
}

interface ResolvedClientOptions {
  readonly connectTimeoutInMs: number;
  readonly headersTimeoutInMs: number;
  readonly bodyTimeoutInMs: number;
  readonly maxResponseBytes: number;
  readonly keepAliveTimeoutInMs: number;
  readonly connections: number | undefined;
  readonly maxRedirects: number;
  readonly userAgent: string;
  readonly tlsServerName: string | undefined;
  readonly source: string;
}

const maxTimerInMs = 2_147_483_647;
const excerptReadBytes = 8 * 1024;
const excerptLength = 512;
const excerptTimeoutInMs = 5_000;
const discardReadBytes = 64 * 1024;
const followedRedirects = new Set([301, 302, 303, 307, 308]);
const methodToken = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const emptyBody = new Uint8Array(0);

/**
 * Destroys a response body we no longer want. undici emits an abort error on a destroyed body; with
 * no listener that would be an uncaught exception that kills the process.
 */
function discardBody(body: {
  on(event: 'error', listener: () => void): unknown;
  destroy(): unknown;
}): void {
  body.on('error', () => undefined);
  body.destroy();
}

function checkNumber(
  name: string,
  value: unknown,
  min: number,
  max: number,
  integer = true,
): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || Number.isNaN(value))
    throw new TypeError(`${name} must be a number, received ${typeof value}`);
  if (value < min || value > max || (integer && !Number.isInteger(value)))
    throw new RangeError(
      `${name} must be ${integer ? 'an integer ' : ''}between ${min} and ${max}, received ${value}`,
    );
  return value;
}

function checkString(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string')
    throw new TypeError(`${name} must be a string, received ${typeof value}`);
  return value;
}

function checkSignal(name: string, value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) throw new TypeError(`${name} must be an AbortSignal`);
  return value;
}

function checkMethod(value: unknown): string {
  const method = checkString('options.method', value) ?? 'GET';
  if (!methodToken.test(method))
    throw new RangeError(`options.method must be an HTTP method token, received "${method}"`);
  if (method.toUpperCase() === 'CONNECT')
    throw new RangeError('options.method CONNECT is not supported');
  return method;
}

function checkBody(value: unknown): string | Uint8Array | undefined {
  if (value === undefined || typeof value === 'string' || value instanceof Uint8Array) return value;
  throw new TypeError(`options.body must be a string or a Uint8Array, received ${typeof value}`);
}

function checkOptionsObject(value: unknown, name: string): void {
  if (typeof value !== 'object' || value === null)
    throw new TypeError(
      `${name} must be an object, received ${value === null ? 'null' : typeof value}`,
    );
}

function resolveClientOptions(options: HttpEndpointClientOptions): ResolvedClientOptions {
  checkOptionsObject(options, 'options');
  const d = defaultHttpEndpointClientOptions;
  const userAgent = checkString('options.userAgent', options.userAgent) ?? d.userAgent;
  if (/[\r\n\0]/.test(userAgent))
    throw new RangeError('options.userAgent must not contain CR, LF or NUL');
  const tlsServerName = checkString('options.tlsServerName', options.tlsServerName);
  if (tlsServerName === '') throw new RangeError('options.tlsServerName must not be empty');
  return Object.freeze({
    connectTimeoutInMs:
      checkNumber('options.connectTimeoutInMs', options.connectTimeoutInMs, 0, maxTimerInMs) ??
      d.connectTimeoutInMs,
    headersTimeoutInMs:
      checkNumber('options.headersTimeoutInMs', options.headersTimeoutInMs, 0, maxTimerInMs) ??
      d.headersTimeoutInMs,
    bodyTimeoutInMs:
      checkNumber('options.bodyTimeoutInMs', options.bodyTimeoutInMs, 0, maxTimerInMs) ??
      d.bodyTimeoutInMs,
    maxResponseBytes:
      checkNumber(
        'options.maxResponseBytes',
        options.maxResponseBytes,
        0,
        Number.MAX_SAFE_INTEGER,
      ) ?? d.maxResponseBytes,
    keepAliveTimeoutInMs:
      checkNumber('options.keepAliveTimeoutInMs', options.keepAliveTimeoutInMs, 1, maxTimerInMs) ??
      d.keepAliveTimeoutInMs,
    connections: checkNumber('options.connections', options.connections, 1, 65_535),
    maxRedirects:
      checkNumber('options.maxRedirects', options.maxRedirects, 0, 100) ?? d.maxRedirects,
    userAgent,
    tlsServerName,
    source: checkString('options.source', options.source) || 'HTTP endpoint',
  });
}

/** The TLS options given to every connection. */
interface TlsSettings {
  rejectUnauthorized: true;
  ca?: string[];
  cert?: string;
  key?: string;
  servername?: string;
}

function pathText(path: string | undefined): string {
  return path === undefined ? '' : ` ${path}`;
}

/** Checks the credentials and turns them into TLS options and an `Authorization` header. */
function credentialsSettings(
  credentials: EndpointCredentials,
  address: URL,
  source: string,
): { tls: TlsSettings; authorization: string | undefined } {
  const method = (credentials as { method?: unknown } | null)?.method;
  if (method !== 'Anonymous' && method !== 'UsernamePassword' && method !== 'Certificate')
    throw new TypeError(
      'options.credentials must be AnonymousCredentials, UsernamePasswordCredentials or CertificateCredentials',
    );
  const tls: TlsSettings = { rejectUnauthorized: true };
  const { trustList } = credentials;
  if (trustList !== undefined && address.protocol === 'https:') {
    if (trustList.length === 0)
      throw new ConfigError(
        `${source}: the trust list${pathText(credentials.trustListPath)} holds no certificate`,
        { source, field: 'trustSettings.trustList' },
      );
    try {
      for (const pem of trustList) new X509Certificate(pem);
      createSecureContext({ ca: [...trustList] });
    } catch (error) {
      throw new ConfigError(
        `${source}: the trust list${pathText(credentials.trustListPath)} holds a certificate that cannot be used: ${(error as Error).message}`,
        { source, field: 'trustSettings.trustList', cause: error },
      );
    }
    tls.ca = [...trustList];
  }
  let authorization: string | undefined;
  if (credentials.method === 'UsernamePassword') {
    if (credentials.username.includes(':'))
      throw new ConfigError(
        `${source}: the username must not contain ":" (HTTP basic authentication cannot carry it)`,
        { source, field: 'authentication.usernamePasswordCredentials.usernameSecretName' },
      );
    const token = Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8');
    authorization = `Basic ${token.toString('base64')}`;
  } else if (credentials.method === 'Certificate') {
    const field = 'authentication.x509Credentials';
    if (address.protocol !== 'https:')
      throw new ConfigError(
        `${source}: Certificate authentication needs an https: address, found ${address.origin}`,
        { source, field: 'address' },
      );
    const key = credentials.key;
    if (key === undefined)
      throw new ConfigError(
        `${source}: the client certificate${pathText(credentials.certificatePath)} comes without a private key; set keySecretName`,
        { source, field: `${field}.keySecretName` },
      );
    const cert = credentials.certificate + (credentials.intermediateCertificates ?? '');
    try {
      createSecureContext({ cert, key });
    } catch (error) {
      throw new ConfigError(
        `${source}: the client certificate and key cannot be used together: ${(error as Error).message}`,
        { source, field, cause: error },
      );
    }
    tls.cert = cert;
    tls.key = key;
  }
  return { tls, authorization };
}

/** Combines the caller's signal and an overall timeout into the signal given to undici. */
class RequestScope {
  readonly #controller = new AbortController();
  readonly #callerSignal: AbortSignal | undefined;
  #timer: NodeJS.Timeout | undefined;
  #abortedBy: 'caller' | 'timeout' | undefined;

  constructor(signal: AbortSignal | undefined, timeoutInMs: number | undefined) {
    this.#callerSignal = signal;
    if (signal !== undefined) {
      if (signal.aborted) this.#onCallerAbort();
      else signal.addEventListener('abort', this.#onCallerAbort, { once: true });
    }
    if (timeoutInMs !== undefined && timeoutInMs > 0) {
      this.#timer = setTimeout(() => {
        this.#abortedBy ??= 'timeout';
        this.#controller.abort(new Error('request timeout'));
      }, timeoutInMs);
      this.#timer.unref();
    }
  }

  readonly #onCallerAbort = (): void => {
    this.#abortedBy ??= 'caller';
    this.#controller.abort(new Error('request aborted'));
  };

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get abortedBy(): 'caller' | 'timeout' | undefined {
    return this.#abortedBy;
  }

  get callerSignal(): AbortSignal | undefined {
    return this.#callerSignal;
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#callerSignal?.removeEventListener('abort', this.#onCallerAbort);
  }
}

/**
 * Reads at most `limit` bytes of a body within `timeoutInMs`, then drops the rest (closing the
 * connection when some is left). Never throws: a body that fails yields what arrived.
 */
async function readSome(body: Readable, limit: number, timeoutInMs: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  const timer = setTimeout(() => {
    discardBody(body);
  }, timeoutInMs);
  timer.unref();
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit) break;
    }
  } catch {
    // keep what arrived
  } finally {
    clearTimeout(timer);
    if (!body.readableEnded) discardBody(body);
  }
  return Buffer.concat(chunks, size).subarray(0, limit);
}

function excerptOf(bytes: Buffer): string | undefined {
  if (bytes.length === 0) return undefined;
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  const clean = Array.from(text, (character) => {
    const code = character.codePointAt(0) ?? 0;
    return code < 0x20 || code === 0x7f ? ' ' : character;
  })
    .join('')
    .replace(/ {2,}/g, ' ')
    .trim();
  return clean.length > excerptLength ? `${clean.slice(0, excerptLength)}…` : clean;
}

function statusHint(status: number): string {
  switch (status) {
    case 401:
      return " — check the endpoint's credentials";
    case 403:
      return " — the endpoint's credentials are not allowed this request";
    case 404:
      return ' — check the dataSource path';
    case 405:
      return ' — check the HTTP method';
    case 406:
    case 415:
      return ' — check the Accept and Content-Type headers';
    default:
      return '';
  }
}

/**
 * The HTTP(S) client of one device inbound endpoint. It owns one pooled undici `Agent`
 * (keep-alive connections, HTTP/1.1) configured from the endpoint's credentials:
 *
 * - **Anonymous**: no `Authorization` header;
 * - **UsernamePassword**: HTTP basic authentication on every request (never logged; errors never
 *   carry request headers);
 * - **Certificate**: mutual TLS with the client certificate, its intermediates and key;
 * - a **trust list** replaces the system roots for verifying the server; without one the system
 *   roots (Node's bundled CAs, plus `NODE_EXTRA_CA_CERTS`) are used. Server certificate
 *   verification is always on: this API has no option to turn it off.
 *
 * Credentials are read once: when they rotate (the endpoint restarts), make a new client and close
 * the old one.
 *
 * @example
 * ```ts
 * import { EndpointCredentialsReader, HttpEndpointClient, retry } from '@aio-connector/core';
 * const reader = new EndpointCredentialsReader({ credentialsMountPath: '/etc/akri/secrets/device_endpoint_auth' });
 * const credentials = await reader.read({ deviceName: 'thermostat', inboundEndpointName: 'rest' });
 * await using client = new HttpEndpointClient('http://thermostat.local:8080', { credentials });
 * const response = await retry(() => client.request({ url: '/api/sensor/env' }), { retries: 3 });
 * console.log(response.status, new TextDecoder().decode(response.body));
 * ```
 */
export class HttpEndpointClient {
  readonly #address: URL;
  readonly #options: ResolvedClientOptions;
  readonly #agent: Agent;
  readonly #authorization: string | undefined;
  readonly #logger: Logger;
  readonly #credentialsMethod: EndpointCredentials['method'];
  /** TLS alerts received on this client's connections, by local port, for error messages. */
  readonly #tlsAlerts = new Map<number, Error>();
  readonly #pools = new Set<Pool>();
  #closed = false;
  #destroyed = false;
  #closing: Promise<void> | undefined;
  #destroying: Promise<void> | undefined;
  #onDestroyed: (() => void) | undefined;

  /**
   * @param address The endpoint `address`: an `http:` or `https:` URL (else a `ConfigError` naming
   *   the field `address`). Its path, if any, prefixes every dataSource path.
   * @param options Credentials, timeouts, limits and logger.
   */
  constructor(address: string, options: HttpEndpointClientOptions = {}) {
    const resolved = resolveClientOptions(options);
    const { source } = resolved;
    this.#address = parseHttpAddress(address, { source });
    this.#options = resolved;
    const credentials = options.credentials ?? new AnonymousCredentials();
    const { tls, authorization } = credentialsSettings(credentials, this.#address, source);
    this.#authorization = authorization;
    this.#credentialsMethod = credentials.method;
    if (resolved.tlsServerName !== undefined) tls.servername = resolved.tlsServerName;
    else if (this.#address.protocol === 'https:' && isIP(hostOf(this.#address)) === 0)
      tls.servername = hostOf(this.#address);
    this.#logger = (options.logger ?? silentLogger).child({
      component: 'http',
      origin: this.#address.origin,
    });
    if (authorization !== undefined && this.#address.protocol === 'http:')
      this.#logger.warn(
        { authentication: credentials.method },
        'basic authentication over http: sends the password unencrypted; use an https: address',
      );

    const connector = buildConnector({
      ...tls,
      timeout: resolved.connectTimeoutInMs,
      allowH2: false,
    });
    const alerts = this.#tlsAlerts;
    const connect: buildConnector.connector = (connectOptions, callback) => {
      connector(connectOptions, (...args) => {
        const [error, socket] = args;
        if (error === null && socket != null) {
          const port = socket.localPort;
          if (port !== undefined) alerts.delete(port);
          socket.on('error', (error: unknown) => {
            if (port === undefined || !isTlsAlert(error)) return;
            if (alerts.size >= 64) alerts.delete(alerts.keys().next().value as number);
            alerts.set(port, error);
          });
        }
        callback(...args);
      });
    };
    const pools = this.#pools;
    this.#agent = new Agent({
      // the pools are kept so that destroy() reaches them also after close(), which detaches them
      // from the agent
      factory: (origin, poolOptions) => {
        const pool = new Pool(origin, poolOptions);
        pools.add(pool);
        return pool;
      },
      connect,
      allowH2: false,
      headersTimeout: resolved.headersTimeoutInMs,
      bodyTimeout: resolved.bodyTimeoutInMs,
      keepAliveTimeout: resolved.keepAliveTimeoutInMs,
      ...(resolved.connections === undefined ? {} : { connections: resolved.connections }),
    });
  }

  /** The endpoint address, normalized. */
  get address(): string {
    return this.#address.href;
  }

  /** The origin requests go to (`https://host:port`). */
  get origin(): string {
    return this.#address.origin;
  }

  /** The authentication method of the credentials the client was made with. */
  get authenticationMethod(): EndpointCredentials['method'] {
    return this.#credentialsMethod;
  }

  /** `true` once {@link HttpEndpointClient.close} or {@link HttpEndpointClient.destroy} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** `true` once {@link HttpEndpointClient.destroy} was called. */
  get destroyed(): boolean {
    return this.#destroyed;
  }

  /**
   * Resolves a dataSource against the endpoint address: a path is appended to the address path, an
   * absolute URL must be on the same origin. Throws a `ConfigError` naming the field `dataSource`
   * otherwise. See {@link resolveHttpDataSource}.
   *
   * @example
   * ```ts
   * import { HttpEndpointClient } from '@aio-connector/core';
   * const client = new HttpEndpointClient('http://127.0.0.1:8080/base');
   * client.resolveUrl('/api/x?n=1').href; // 'http://127.0.0.1:8080/base/api/x?n=1'
   * await client.close();
   * ```
   */
  resolveUrl(dataSource: string): URL {
    return resolveHttpDataSource(this.#address, dataSource, { source: this.#options.source });
  }

  /**
   * Sends one request and reads the whole response body, at most `maxResponseBytes` of it (a
   * larger body aborts the request, closes its connection and fails with
   * `ERR_AIO_HTTP_BODY_TOO_LARGE`). Resolves with 2xx responses, and 304 when the request is
   * conditional. Follows same-origin redirects (at most `maxRedirects`); a cross-origin redirect
   * fails with `ERR_AIO_HTTP_REDIRECT`.
   *
   * Rejects with an {@link HttpError} (`ERR_AIO_HTTP_STATUS` for another status, with the start of
   * the body; network, timeout and TLS failures), an `ERR_AIO_ABORTED` error when `signal` aborts,
   * `ERR_AIO_CLOSED` after `close()`/`destroy()`, a `ConfigError` for a bad dataSource, and
   * `TypeError`/`RangeError` for bad options. The body is always read to its end or cancelled, so
   * connections never leak.
   *
   * @example
   * ```ts
   * import { HttpEndpointClient } from '@aio-connector/core';
   * await using client = new HttpEndpointClient('http://127.0.0.1:8080');
   * let validators = {};
   * const first = await client.request({ url: '/api/thermostat/current' });
   * validators = { etag: first.etag, lastModified: first.lastModified };
   * const again = await client.request({ url: '/api/thermostat/current', conditional: validators });
   * if (again.notModified) console.log('no new data');
   * ```
   */
  async request(options: HttpRequestOptions = {}): Promise<HttpResponse> {
    checkOptionsObject(options, 'options');
    let method = checkMethod(options.method);
    let body = checkBody(options.body);
    const signal = checkSignal('options.signal', options.signal);
    const timeoutInMs = checkNumber('options.timeoutInMs', options.timeoutInMs, 0, maxTimerInMs);
    const maxResponseBytes =
      checkNumber(
        'options.maxResponseBytes',
        options.maxResponseBytes,
        0,
        Number.MAX_SAFE_INTEGER,
      ) ?? this.#options.maxResponseBytes;
    const conditional = checkConditional(options.conditional);
    const headers = this.#requestHeaders(options.headers, conditional);
    let url = this.resolveUrl(checkString('options.url', options.url) ?? '');
    this.#throwIfClosed(method, url);
    throwIfAborted(signal, `${method} ${displayUrl(url)}`);

    const scope = new RequestScope(signal, timeoutInMs);
    let phase: 'headers' | 'body' = 'headers';
    const started = performance.now();
    try {
      for (let hops = 0; ; hops += 1) {
        const response = await this.#send(url, method, headers, body, scope.signal, {});
        const status = response.statusCode;
        const responseHeaders = flattenHeaders(response.headers);
        const location = responseHeaders['location'];
        if (followedRedirects.has(status) && location !== undefined) {
          await readSome(response.body, discardReadBytes, excerptTimeoutInMs);
          url = this.#redirectTarget(method, url, location, hops, status, responseHeaders);
          if (
            (status === 303 && method !== 'HEAD') ||
            ((status === 301 || status === 302) && method === 'POST')
          ) {
            method = 'GET';
            body = undefined;
            delete headers['content-type'];
          }
          continue;
        }
        if (status === 304 && conditional !== undefined) {
          await readSome(response.body, discardReadBytes, excerptTimeoutInMs);
          this.#trace(method, url, status, 0, started);
          return this.#response(url, response, responseHeaders, emptyBody, conditional);
        }
        if (status < 200 || status >= 300)
          throw await this.#statusError(method, url, response, responseHeaders);
        phase = 'body';
        const bytes =
          method === 'HEAD'
            ? await readSome(response.body, discardReadBytes, excerptTimeoutInMs).then(
                () => emptyBody,
              )
            : await readCapped(response.body, responseHeaders, maxResponseBytes, method, url);
        this.#trace(method, url, status, bytes.length, started);
        return this.#response(url, response, responseHeaders, bytes, undefined);
      }
    } catch (error) {
      const failure = this.#failure(
        error,
        method,
        url,
        phase,
        scope,
        this.#options.bodyTimeoutInMs,
      );
      this.#logger.debug(
        { method, url: displayUrl(url), code: failure.code, err: failure },
        'http request failed',
      );
      throw failure;
    } finally {
      scope.dispose();
    }
  }

  /**
   * Opens a response stream (for example Server-Sent Events) and resolves once the response
   * headers arrive. The body is read on demand: while the consumer does not pull, undici stops
   * reading the socket after `highWaterMark` bytes, so memory stays bounded. The client's headers
   * timeout applies; the body idle timeout is off unless `bodyTimeoutInMs` is set.
   *
   * Rejects, with the body drained or cancelled, with an {@link HttpError}: `ERR_AIO_HTTP_STATUS`
   * for a status that is not 2xx (with the start of the body), `ERR_AIO_HTTP_CONTENT_TYPE` when
   * `expectContentType` does not match (not retryable), and network, TLS, timeout or redirect
   * failures as {@link HttpEndpointClient.request} does. Same-origin redirects are followed.
   *
   * @example
   * ```ts
   * import { HttpEndpointClient } from '@aio-connector/core';
   * await using client = new HttpEndpointClient('http://127.0.0.1:8080');
   * const stream = await client.stream({ url: '/events', expectContentType: 'text/event-stream' });
   * const decoder = new TextDecoder();
   * for await (const chunk of stream.body) {
   *   console.log(decoder.decode(chunk, { stream: true }));
   * }
   * ```
   */
  async stream(options: HttpStreamOptions = {}): Promise<HttpStream> {
    checkOptionsObject(options, 'options');
    let method = checkMethod(options.method);
    let body = checkBody(options.body);
    const signal = checkSignal('options.signal', options.signal);
    const headersTimeoutInMs =
      checkNumber('options.headersTimeoutInMs', options.headersTimeoutInMs, 0, maxTimerInMs) ??
      this.#options.headersTimeoutInMs;
    const bodyTimeoutInMs =
      checkNumber('options.bodyTimeoutInMs', options.bodyTimeoutInMs, 0, maxTimerInMs) ?? 0;
    const highWaterMark = checkNumber(
      'options.highWaterMark',
      options.highWaterMark,
      1,
      Number.MAX_SAFE_INTEGER,
    );
    const expected = checkString('options.expectContentType', options.expectContentType);
    const expectedType = expected === undefined ? undefined : parseContentType(expected)?.mediaType;
    if (expected !== undefined && expectedType === undefined)
      throw new RangeError(
        `options.expectContentType must be a media type such as "text/event-stream", received "${expected}"`,
      );
    const headers = this.#requestHeaders(options.headers, undefined);
    if (expectedType !== undefined && headers['accept'] === undefined)
      headers['accept'] = expectedType;
    let url = this.resolveUrl(checkString('options.url', options.url) ?? '');
    this.#throwIfClosed(method, url);
    throwIfAborted(signal, `${method} ${displayUrl(url)}`);

    const scope = new RequestScope(signal, undefined);
    const dispatch = {
      headersTimeout: headersTimeoutInMs,
      bodyTimeout: bodyTimeoutInMs,
      ...(highWaterMark === undefined ? {} : { highWaterMark }),
    };
    try {
      for (let hops = 0; ; hops += 1) {
        const response = await this.#send(url, method, headers, body, scope.signal, dispatch);
        const status = response.statusCode;
        const responseHeaders = flattenHeaders(response.headers);
        const location = responseHeaders['location'];
        if (followedRedirects.has(status) && location !== undefined) {
          await readSome(response.body, discardReadBytes, excerptTimeoutInMs);
          url = this.#redirectTarget(method, url, location, hops, status, responseHeaders);
          if (
            (status === 303 && method !== 'HEAD') ||
            ((status === 301 || status === 302) && method === 'POST')
          ) {
            method = 'GET';
            body = undefined;
            delete headers['content-type'];
          }
          continue;
        }
        if (status < 200 || status >= 300)
          throw await this.#statusError(method, url, response, responseHeaders);
        const contentType = responseHeaders['content-type'];
        const mediaType = parseContentType(contentType)?.mediaType;
        if (expectedType !== undefined && status !== 204 && mediaType !== expectedType) {
          discardBody(response.body);
          throw new HttpError(
            'ERR_AIO_HTTP_CONTENT_TYPE',
            `${method} ${displayUrl(url)} answered ${status} with content type ${contentType === undefined ? '(none)' : JSON.stringify(contentType)}, expected ${expectedType}`,
            {
              method,
              url,
              status,
              statusText: response.statusText,
              headers: responseHeaders,
              retryable: false,
              details: { expected: expectedType, received: contentType },
            },
          );
        }
        const finalUrl = url;
        const finalMethod = method;
        this.#logger.trace({ method, url: displayUrl(url), status }, 'http stream opened');
        return new ResponseStream(
          {
            url: url.href,
            status,
            statusText: response.statusText,
            headers: responseHeaders,
            contentType,
            mediaType,
          },
          response.body,
          scope,
          (error) =>
            this.#failure(
              error,
              finalMethod,
              finalUrl,
              'body',
              scope,
              bodyTimeoutInMs,
              headersTimeoutInMs,
            ),
        );
      }
    } catch (error) {
      scope.dispose();
      const failure = this.#failure(
        error,
        method,
        url,
        'headers',
        scope,
        bodyTimeoutInMs,
        headersTimeoutInMs,
      );
      this.#logger.debug(
        { method, url: displayUrl(url), code: failure.code, err: failure },
        'http stream failed',
      );
      throw failure;
    }
  }

  /**
   * Closes the client gracefully: new requests fail with `ERR_AIO_CLOSED`, requests and streams in
   * flight run to their end, then the connections close. Idempotent: concurrent and later calls
   * share one promise. When `signal` aborts before that, the client is destroyed instead (and the
   * promise resolves once it is). Open streams keep `close()` waiting: cancel them first.
   *
   * @example
   * ```ts
   * import { HttpEndpointClient } from '@aio-connector/core';
   * const client = new HttpEndpointClient('http://127.0.0.1:8080');
   * await client.close({ signal: AbortSignal.timeout(5_000) });
   * ```
   */
  close(options: { readonly signal?: AbortSignal | undefined } = {}): Promise<void> {
    checkOptionsObject(options, 'options');
    const signal = checkSignal('options.signal', options.signal);
    this.#closed = true;
    this.#closing ??= new Promise<void>((resolve) => {
      this.#agent.close().then(resolve, resolve);
      if (this.#destroying !== undefined) void this.#destroying.then(resolve);
      this.#onDestroyed = resolve;
    });
    if (signal !== undefined && !this.#destroyed) {
      if (signal.aborted) void this.destroy();
      else {
        const onAbort = (): void => void this.destroy();
        signal.addEventListener('abort', onAbort, { once: true });
        void this.#closing.then(() => {
          signal.removeEventListener('abort', onAbort);
        });
      }
    }
    return this.#closing;
  }

  /**
   * Destroys the client at once: requests and streams in flight fail with `ERR_AIO_CLOSED`, and
   * every connection closes. Idempotent. Resolves once the sockets are closed.
   *
   * @example
   * ```ts
   * import { HttpEndpointClient } from '@aio-connector/core';
   * const client = new HttpEndpointClient('http://127.0.0.1:8080');
   * await client.destroy();
   * ```
   */
  destroy(): Promise<void> {
    this.#closed = true;
    this.#destroyed = true;
    this.#destroying ??= Promise.allSettled([
      this.#agent.destroy(),
      ...[...this.#pools].map((pool) => pool.destroy()),
    ]).then(() => {
      this.#pools.clear();
      this.#onDestroyed?.();
    });
    return this.#destroying;
  }

  /** Closes the client gracefully, as {@link HttpEndpointClient.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #throwIfClosed(method: string, url: URL): void {
    if (this.#closed)
      throw new AioError(
        'ERR_AIO_CLOSED',
        `${method} ${displayUrl(url)}: the HTTP client of ${this.#address.origin} is ${this.#destroyed ? 'destroyed' : 'closed'}`,
      );
  }

  #requestHeaders(
    extra: Readonly<Record<string, string>> | undefined,
    conditional: HttpConditional | undefined,
  ): Record<string, string> {
    const headers: Record<string, string> = {};
    if (this.#options.userAgent !== '') headers['user-agent'] = this.#options.userAgent;
    Object.assign(headers, normalizeRequestHeaders(extra, 'options.headers'));
    if (conditional?.etag !== undefined) headers['if-none-match'] = conditional.etag;
    if (conditional?.lastModified !== undefined)
      headers['if-modified-since'] = conditional.lastModified;
    if (this.#authorization !== undefined) headers['authorization'] = this.#authorization;
    return headers;
  }

  #send(
    url: URL,
    method: string,
    headers: Record<string, string>,
    body: string | Uint8Array | undefined,
    signal: AbortSignal,
    extra: {
      readonly headersTimeout?: number;
      readonly bodyTimeout?: number;
      readonly highWaterMark?: number;
    },
  ): Promise<Dispatcher.ResponseData> {
    return this.#agent.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method,
      headers,
      body: body ?? null,
      signal,
      ...extra,
    });
  }

  #redirectTarget(
    method: string,
    from: URL,
    location: string,
    hops: number,
    status: number,
    headers: Readonly<Record<string, string>>,
  ): URL {
    const fail = (reason: string, details: Record<string, unknown> = {}): HttpError =>
      new HttpError(
        'ERR_AIO_HTTP_REDIRECT',
        `${method} ${displayUrl(from)} answered ${status}: ${reason}`,
        { method, url: from, status, headers, retryable: false, details },
      );
    let target: URL;
    try {
      target = new URL(location, from);
    } catch {
      throw fail('the Location header is not a valid URL');
    }
    if (target.origin !== from.origin)
      throw fail(
        `redirect to another origin (${displayUrl(target)}) not followed, so the endpoint's credentials stay with it — point the address or dataSource at the new location`,
        { location: displayUrl(target) },
      );
    if (hops >= this.#options.maxRedirects)
      throw fail(
        this.#options.maxRedirects === 0
          ? `redirect to ${displayUrl(target)} not followed (maxRedirects is 0)`
          : `more than ${this.#options.maxRedirects} redirects`,
        { location: displayUrl(target) },
      );
    target.hash = '';
    return target;
  }

  async #statusError(
    method: string,
    url: URL,
    response: Dispatcher.ResponseData,
    headers: Readonly<Record<string, string>>,
  ): Promise<HttpError> {
    const status = response.statusCode;
    const excerpt = excerptOf(await readSome(response.body, excerptReadBytes, excerptTimeoutInMs));
    const { retryable } = classifyHttpStatus(status);
    const retryAfterInMs = parseRetryAfter(headers['retry-after']);
    const statusText = response.statusText;
    return new HttpError(
      'ERR_AIO_HTTP_STATUS',
      `${method} ${displayUrl(url)} answered ${status}${statusText === '' ? '' : ` ${statusText}`}${statusHint(status)}`,
      {
        method,
        url,
        status,
        statusText,
        headers,
        bodyExcerpt: excerpt,
        retryable,
        ...(retryAfterInMs === undefined ? {} : { retryAfterInMs }),
      },
    );
  }

  #response(
    url: URL,
    response: Dispatcher.ResponseData,
    headers: Readonly<Record<string, string>>,
    body: Uint8Array,
    conditional: HttpConditional | undefined,
  ): HttpResponse {
    const contentType = headers['content-type'];
    return Object.freeze({
      url: url.href,
      status: response.statusCode,
      statusText: response.statusText,
      headers,
      contentType,
      mediaType: parseContentType(contentType)?.mediaType,
      body,
      etag: headers['etag'] ?? conditional?.etag,
      lastModified: headers['last-modified'] ?? conditional?.lastModified,
      notModified: conditional !== undefined && response.statusCode === 304,
    });
  }

  #failure(
    error: unknown,
    method: string,
    url: URL,
    phase: 'headers' | 'body',
    scope: RequestScope,
    bodyTimeoutInMs: number,
    headersTimeoutInMs: number = this.#options.headersTimeoutInMs,
  ): AioError {
    if (isAioError(error)) return error;
    const target = `${method} ${displayUrl(url)}`;
    if (scope.abortedBy === 'caller' && scope.callerSignal !== undefined)
      return abortError(scope.callerSignal, target);
    if (scope.abortedBy === 'timeout')
      return new HttpError('ERR_AIO_HTTP_TIMEOUT', `${target} failed: the request took too long`, {
        method,
        url,
        cause: error,
        retryable: true,
        details: { phase: 'request' },
      });
    const code = (error as { code?: unknown } | null)?.code;
    if (
      this.#destroyed ||
      (this.#closed && (code === 'UND_ERR_CLOSED' || code === 'UND_ERR_DESTROYED'))
    )
      return new AioError(
        'ERR_AIO_CLOSED',
        `${target}: the HTTP client was ${this.#destroyed ? 'destroyed' : 'closed'}`,
        { cause: error },
      );
    const port = localPortOf(error);
    const tlsAlert = port === undefined ? undefined : this.#tlsAlerts.get(port);
    if (port !== undefined) this.#tlsAlerts.delete(port);
    return httpErrorFromFailure(error, {
      method,
      url,
      phase,
      connectTimeoutInMs: this.#options.connectTimeoutInMs,
      headersTimeoutInMs,
      bodyTimeoutInMs,
      tlsAlert,
    });
  }

  #trace(method: string, url: URL, status: number, bytes: number, started: number): void {
    this.#logger.trace(
      {
        method,
        url: displayUrl(url),
        status,
        bytes,
        durationInMs: Math.round(performance.now() - started),
      },
      'http request',
    );
  }
}

function hostOf(url: URL): string {
  const host = url.hostname;
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

function checkConditional(value: unknown): HttpConditional | undefined {
  if (value === undefined) return undefined;
  checkOptionsObject(value, 'options.conditional');
  const { etag, lastModified } = value as HttpConditional;
  const checkedEtag = checkString('options.conditional.etag', etag);
  const checkedLastModified = checkString('options.conditional.lastModified', lastModified);
  for (const [name, item] of [
    ['etag', checkedEtag],
    ['lastModified', checkedLastModified],
  ] as const)
    if (item !== undefined && /[\r\n\0]/.test(item))
      throw new RangeError(`options.conditional.${name} must not contain CR, LF or NUL`);
  if (checkedEtag === undefined && checkedLastModified === undefined) return undefined;
  return {
    ...(checkedEtag === undefined ? {} : { etag: checkedEtag }),
    ...(checkedLastModified === undefined ? {} : { lastModified: checkedLastModified }),
  };
}

/** Reads a whole body, failing as soon as it grows past `cap` (the connection is then closed). */
async function readCapped(
  body: Readable,
  headers: Readonly<Record<string, string>>,
  cap: number,
  method: string,
  url: URL,
): Promise<Uint8Array> {
  const tooLarge = (receivedBytes: number, declaredBytes: number | undefined): HttpError =>
    new HttpError(
      'ERR_AIO_HTTP_BODY_TOO_LARGE',
      `${method} ${displayUrl(url)}: the response body is larger than ${cap} bytes${declaredBytes === undefined ? '' : ` (Content-Length ${declaredBytes})`}; the request was aborted`,
      {
        method,
        url,
        headers,
        retryable: false,
        details: { maxResponseBytes: cap, receivedBytes, declaredBytes },
      },
    );
  const declared = headers['content-length'];
  const declaredBytes = declared === undefined ? undefined : Number(declared);
  if (declaredBytes !== undefined && Number.isFinite(declaredBytes) && declaredBytes > cap) {
    discardBody(body);
    throw tooLarge(0, declaredBytes);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    if (size + chunk.length > cap) throw tooLarge(size, undefined); // leaving the loop destroys the body
    chunks.push(chunk);
    size += chunk.length;
  }
  if (chunks.length === 0) return emptyBody;
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
}

interface StreamHead {
  readonly url: string;
  readonly status: number;
  readonly statusText: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly contentType: string | undefined;
  readonly mediaType: string | undefined;
}

class ResponseStream implements HttpStream {
  readonly url: string;
  readonly status: number;
  readonly statusText: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly contentType: string | undefined;
  readonly mediaType: string | undefined;
  readonly body: AsyncIterable<Uint8Array>;
  readonly #readable: Readable;
  readonly #scope: RequestScope;
  readonly #mapError: (error: unknown) => AioError;
  #cancelled = false;

  constructor(
    head: StreamHead,
    readable: Readable,
    scope: RequestScope,
    mapError: (error: unknown) => AioError,
  ) {
    this.url = head.url;
    this.status = head.status;
    this.statusText = head.statusText;
    this.headers = head.headers;
    this.contentType = head.contentType;
    this.mediaType = head.mediaType;
    this.#readable = readable;
    this.#scope = scope;
    this.#mapError = mapError;
    this.body = this.#chunks();
  }

  async *#chunks(): AsyncGenerator<Uint8Array, void, undefined> {
    try {
      for await (const chunk of this.#readable as AsyncIterable<Buffer>) yield chunk;
    } catch (error) {
      if (this.#cancelled) return;
      throw this.#mapError(error);
    } finally {
      this.#finish();
    }
  }

  #finish(): void {
    this.#scope.dispose();
    if (!this.#readable.readableEnded && !this.#readable.destroyed) discardBody(this.#readable);
  }

  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    this.#finish();
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.cancel();
    return Promise.resolve();
  }
}
