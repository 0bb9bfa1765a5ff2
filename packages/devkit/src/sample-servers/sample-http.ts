/**
 * What the sample servers share: option checks, authentication (anonymous, Basic, mTLS), HTTP or
 * HTTPS listeners whose connections are tracked so `close()` ends them, a bounded log of received
 * requests, and small response writers.
 *
 * @module
 */
import { Buffer } from 'node:buffer';
import { createHash, timingSafeEqual } from 'node:crypto';
import {
  createServer as createHttpServer,
  STATUS_CODES,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { ConfigError, abortError } from '@aio-connector/core';

/** PEM text or bytes, or a list of them. */
export type SamplePem = string | Buffer | readonly (string | Buffer)[];

/**
 * How a sample server authenticates clients.
 *
 * - `anonymous`: everyone is let in.
 * - `basic`: HTTP Basic with one username and password (compared in constant time); anything else
 *   gets `401` with `WWW-Authenticate: Basic realm="…"`.
 * - `mtls`: the TLS handshake requires a client certificate issued by `ca` (default: `tls.ca`);
 *   clients without one, or with one from another CA, fail the handshake. With `allowedSubjects`,
 *   a trusted certificate whose subject CN is not listed gets `403`. Needs `tls`.
 */
export type SampleServerAuth =
  | { readonly kind: 'anonymous' }
  | {
      readonly kind: 'basic';
      readonly username: string;
      readonly password: string;
      /** The realm in `WWW-Authenticate`. Default: `'thermostat'`. */
      readonly realm?: string;
    }
  | {
      readonly kind: 'mtls';
      /** The CA certificates client certificates must chain to. Default: `tls.ca`. */
      readonly ca?: SamplePem;
      /** Subject common names accepted. Default: any certificate issued by `ca`. */
      readonly allowedSubjects?: readonly string[];
    };

/** The TLS settings of a sample server; with them it serves HTTPS. */
export interface SampleServerTls {
  /** The server certificate (and intermediates), PEM. */
  readonly cert: SamplePem;
  /** The private key of the certificate, PEM. */
  readonly key: string | Buffer;
  /** CA certificates trusted for client certificates, PEM. */
  readonly ca?: SamplePem;
  /**
   * Ask clients for a certificate without requiring one (the subject is recorded in
   * {@link SampleServerRequest.clientCertificateSubject}). Default: `false`; `mtls` auth requires
   * one regardless.
   */
  readonly requestCert?: boolean;
}

/** A request a sample server received, as logged in its `requests`. */
export interface SampleServerRequest {
  /** The HTTP method. */
  readonly method: string;
  /** The path, without the query. */
  readonly path: string;
  /** The query, with its leading `?`, or `''`. */
  readonly search: string;
  /**
   * The request headers, names in lower case, repeated headers joined with `, `. The credentials
   * of `Authorization` and `Proxy-Authorization` are replaced by `[redacted]` (the scheme stays),
   * and `Cookie` is replaced entirely.
   */
  readonly headers: Readonly<Record<string, string>>;
  /** The request body as UTF-8 text (at most 64 KiB are read), `''` when empty. */
  readonly body: string;
  /** The subject CN of the client certificate, when the client sent one over TLS. */
  readonly clientCertificateSubject?: string;
  /** When the request arrived, by the server's clock. */
  readonly receivedAt: Date;
}

/** Options every sample server accepts. */
export interface SampleServerCommonOptions {
  /** The interface to listen on. Default: `'127.0.0.1'`. */
  readonly host?: string;
  /** The TCP port; 0 picks a free one. Default: 0. */
  readonly port?: number;
  /** How clients authenticate. Default: `{ kind: 'anonymous' }`. */
  readonly auth?: SampleServerAuth;
  /** Serve HTTPS with these settings. Default: plain HTTP. */
  readonly tls?: SampleServerTls;
  /** The random source of the simulation, numbers in [0, 1). Default: `Math.random`. */
  readonly random?: () => number;
  /** The clock of the simulation and of the request log. Default: `() => new Date()`. */
  readonly now?: () => Date;
  /** How many requests {@link SampleServerRequest | requests} keeps (oldest dropped). Default: 1000. */
  readonly maxRecordedRequests?: number;
  /** Called with each request as it is logged (a CLI prints them, for example). */
  readonly onRequest?: (request: SampleServerRequest) => void;
  /** Aborts the start; aborting later closes the server. */
  readonly signal?: AbortSignal;
}

/** Largest request body read, in bytes. */
export const maxRequestBodyBytes = 64 * 1024;

/** The resolved common options. */
export interface ResolvedCommonOptions {
  readonly host: string;
  readonly port: number;
  readonly auth: SampleServerAuth;
  readonly tls: SampleServerTls | undefined;
  readonly random: (() => number) | undefined;
  readonly now: () => Date;
  readonly maxRecordedRequests: number;
  readonly onRequest: ((request: SampleServerRequest) => void) | undefined;
  readonly signal: AbortSignal | undefined;
}

function isPem(value: unknown): boolean {
  if (typeof value === 'string' || Buffer.isBuffer(value)) return true;
  return Array.isArray(value) && value.every((v) => typeof v === 'string' || Buffer.isBuffer(v));
}

/** Checks the options shared by every sample server and resolves their defaults. */
export function resolveCommonOptions(
  options: SampleServerCommonOptions,
  serverName: string,
): ResolvedCommonOptions {
  if (typeof options !== 'object' || options === null)
    throw new TypeError(`options must be an object, received ${typeof options}`);
  const {
    host = '127.0.0.1',
    port = 0,
    auth = { kind: 'anonymous' },
    tls,
    random,
    now = () => new Date(),
    maxRecordedRequests = 1000,
    onRequest,
    signal,
  } = options;
  if (typeof host !== 'string' || host === '')
    throw new TypeError(`host must be a non-empty string, received ${typeof host}`);
  checkInteger('port', port, 0, 65_535);
  checkInteger('maxRecordedRequests', maxRecordedRequests, 0, 1_000_000);
  if (random !== undefined && typeof random !== 'function')
    throw new TypeError(`random must be a function, received ${typeof random}`);
  if (typeof now !== 'function')
    throw new TypeError(`now must be a function, received ${typeof now}`);
  if (onRequest !== undefined && typeof onRequest !== 'function')
    throw new TypeError(`onRequest must be a function, received ${typeof onRequest}`);
  if (signal !== undefined && !(signal instanceof AbortSignal))
    throw new TypeError('signal must be an AbortSignal');
  if (tls !== undefined) {
    if (typeof tls !== 'object' || tls === null)
      throw new TypeError(`tls must be an object, received ${typeof tls}`);
    if (!isPem(tls.cert)) throw new TypeError('tls.cert must be PEM text or bytes');
    if (typeof tls.key !== 'string' && !Buffer.isBuffer(tls.key))
      throw new TypeError('tls.key must be PEM text or bytes');
    if (tls.ca !== undefined && !isPem(tls.ca))
      throw new TypeError('tls.ca must be PEM text or bytes');
    if (tls.requestCert !== undefined && typeof tls.requestCert !== 'boolean')
      throw new TypeError(`tls.requestCert must be a boolean, received ${typeof tls.requestCert}`);
  }
  checkAuth(auth, tls, serverName);
  return Object.freeze({
    host,
    port,
    auth,
    tls,
    random,
    now,
    maxRecordedRequests,
    onRequest,
    signal,
  });
}

function checkAuth(auth: SampleServerAuth, tls: SampleServerTls | undefined, name: string): void {
  if (typeof auth !== 'object' || auth === null)
    throw new TypeError(`auth must be an object, received ${typeof auth}`);
  switch (auth.kind) {
    case 'anonymous':
      return;
    case 'basic':
      if (typeof auth.username !== 'string')
        throw new TypeError(`auth.username must be a string, received ${typeof auth.username}`);
      if (typeof auth.password !== 'string')
        throw new TypeError(`auth.password must be a string, received ${typeof auth.password}`);
      if (auth.username.includes(':'))
        throw new RangeError('auth.username must not contain ":" (HTTP Basic cannot carry it)');
      if (auth.realm !== undefined && (typeof auth.realm !== 'string' || auth.realm.includes('"')))
        throw new TypeError('auth.realm must be a string without double quotes');
      return;
    case 'mtls':
      if (tls === undefined)
        throw new ConfigError(
          `${name}: option "auth" is { kind: 'mtls' } but option "tls" is not set; mTLS needs a server certificate`,
          { source: name, field: 'tls' },
        );
      if (auth.ca !== undefined && !isPem(auth.ca))
        throw new TypeError('auth.ca must be PEM text or bytes');
      if (auth.ca === undefined && tls.ca === undefined)
        throw new ConfigError(
          `${name}: option "auth" is { kind: 'mtls' } without "ca", and option "tls.ca" is not set either; one must name the client CA`,
          { source: name, field: 'auth.ca' },
        );
      if (
        auth.allowedSubjects !== undefined &&
        (!Array.isArray(auth.allowedSubjects) ||
          !auth.allowedSubjects.every((s) => typeof s === 'string'))
      )
        throw new TypeError('auth.allowedSubjects must be an array of strings');
      return;
    default:
      throw new TypeError(
        `auth.kind must be 'anonymous', 'basic' or 'mtls', received ${String((auth as { kind: unknown }).kind)}`,
      );
  }
}

/** Throws unless `value` is an integer in [min, max]. */
export function checkInteger(name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || Number.isNaN(value))
    throw new TypeError(`${name} must be a number, received ${typeof value}`);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new RangeError(`${name} must be an integer between ${min} and ${max}, received ${value}`);
}

/** Throws unless `value` is a number in [min, max] (undefined allowed). */
export function checkOptionalNumber(
  name: string,
  value: unknown,
  min: number,
  max: number,
  integer = false,
): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || Number.isNaN(value))
    throw new TypeError(`${name} must be a number, received ${typeof value}`);
  if ((integer && !Number.isInteger(value) && value !== Infinity) || value < min || value > max)
    throw new RangeError(
      `${name} must be ${integer ? 'an integer ' : ''}between ${min} and ${max}, received ${value}`,
    );
}

/** The outcome of authenticating one request. */
export type AuthOutcome = 'ok' | 'unauthorized' | 'forbidden';

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Authenticates a request against `auth` (Basic compared in constant time). */
export function authenticate(auth: SampleServerAuth, request: IncomingMessage): AuthOutcome {
  switch (auth.kind) {
    case 'anonymous':
      return 'ok';
    case 'basic': {
      const header = request.headers.authorization ?? '';
      const match = /^basic\s+([A-Za-z0-9+/=]*)\s*$/i.exec(header);
      const presented = match?.[1] === undefined ? '' : Buffer.from(match[1], 'base64').toString();
      const expected = `${auth.username}:${auth.password}`;
      // Both sides are hashed to the same length, so the comparison time does not depend on them.
      const same = timingSafeEqual(digest(presented), digest(expected));
      return same && match !== null ? 'ok' : 'unauthorized';
    }
    case 'mtls': {
      const socket = request.socket as Partial<TLSSocket>;
      if (socket.authorized !== true) return 'unauthorized';
      if (auth.allowedSubjects === undefined) return 'ok';
      const subject = clientCertificateSubject(request);
      return subject !== undefined && auth.allowedSubjects.includes(subject) ? 'ok' : 'forbidden';
    }
  }
}

/** The CN of the client certificate of a TLS request, if any. */
export function clientCertificateSubject(request: IncomingMessage): string | undefined {
  const socket = request.socket as Partial<TLSSocket>;
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  const cert = socket.getPeerCertificate();
  const cn = (cert as { subject?: Record<string, string | string[] | undefined> }).subject?.CN;
  if (cn === undefined) return undefined;
  return Array.isArray(cn) ? cn.join(', ') : cn;
}

/** The headers to log: credentials removed. */
function loggedHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(', ') : value;
    if (name === 'authorization' || name === 'proxy-authorization') {
      const scheme = /^\S+/.exec(text)?.[0];
      headers[name] = scheme === undefined ? '[redacted]' : `${scheme} [redacted]`;
    } else if (name === 'cookie') {
      headers[name] = '[redacted]';
    } else {
      headers[name] = text;
    }
  }
  return headers;
}

/** What {@link readBody} returns. */
export interface ReadBody {
  readonly text: string;
  /** The body was larger than {@link maxRequestBodyBytes}; `text` holds the start. */
  readonly truncated: boolean;
}

/** Reads a request body, at most {@link maxRequestBodyBytes}. */
export function readBody(request: IncomingMessage): Promise<ReadBody> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    const finish = (): void => {
      request.off('data', onData);
      request.off('end', finish);
      request.off('error', finish);
      request.off('close', finish);
      resolve({ text: Buffer.concat(chunks).toString('utf8'), truncated });
    };
    const onData = (chunk: Buffer): void => {
      if (size + chunk.length > maxRequestBodyBytes) {
        chunks.push(chunk.subarray(0, maxRequestBodyBytes - size));
        size = maxRequestBodyBytes;
        truncated = true;
        finish();
        return;
      }
      chunks.push(chunk);
      size += chunk.length;
    };
    request.on('data', onData);
    request.once('end', finish);
    request.once('error', finish);
    request.once('close', finish);
  });
}

/** The log of requests of one server, bounded. */
export class RequestLog {
  readonly #entries: SampleServerRequest[] = [];
  readonly #max: number;
  readonly #now: () => Date;
  readonly #onRequest: ((request: SampleServerRequest) => void) | undefined;

  constructor(options: ResolvedCommonOptions) {
    this.#max = options.maxRecordedRequests;
    this.#now = options.now;
    this.#onRequest = options.onRequest;
  }

  /** A copy of the entries, oldest first. */
  get entries(): readonly SampleServerRequest[] {
    return [...this.#entries];
  }

  record(request: IncomingMessage, url: URL, body: string): SampleServerRequest {
    const subject = clientCertificateSubject(request);
    const entry: SampleServerRequest = Object.freeze({
      method: request.method ?? 'GET',
      path: url.pathname,
      search: url.search,
      headers: Object.freeze(loggedHeaders(request)),
      body,
      ...(subject === undefined ? {} : { clientCertificateSubject: subject }),
      receivedAt: this.#now(),
    });
    if (this.#max > 0) {
      this.#entries.push(entry);
      if (this.#entries.length > this.#max)
        this.#entries.splice(0, this.#entries.length - this.#max);
    }
    try {
      this.#onRequest?.(entry);
    } catch {
      // a failing observer must not break the server
    }
    return entry;
  }
}

/** The URL of a request (the host part is a placeholder). */
export function requestUrl(request: IncomingMessage): URL {
  try {
    return new URL(request.url ?? '/', 'http://sample.invalid');
  } catch {
    return new URL('http://sample.invalid/');
  }
}

const jsonType = 'application/json; charset=utf-8';

/** Writes a JSON response with a Content-Length. */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: OutgoingHttpHeaders = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': jsonType,
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  response.end(text);
}

/** The JSON body of an error response. */
export function errorBody(status: number, message: string): { error: string; message: string } {
  return { error: STATUS_CODES[status] ?? 'Error', message };
}

/** Writes the response for a failed authentication. */
export function sendAuthFailure(
  response: ServerResponse,
  auth: SampleServerAuth,
  outcome: Exclude<AuthOutcome, 'ok'>,
): void {
  if (outcome === 'forbidden') {
    sendJson(response, 403, errorBody(403, 'Client certificate not allowed'));
    return;
  }
  const realm = auth.kind === 'basic' ? (auth.realm ?? 'thermostat') : 'thermostat';
  sendJson(response, 401, errorBody(401, 'Authentication required'), {
    'www-authenticate': `Basic realm="${realm}", charset="UTF-8"`,
  });
}

/** An HTTP(S) listener whose connections are tracked. */
export class SampleListener {
  readonly server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #options: ResolvedCommonOptions;
  readonly #closed = new AbortController();
  #closing: Promise<void> | undefined;
  #port = 0;
  #onAbort: (() => void) | undefined;

  constructor(
    options: ResolvedCommonOptions,
    handler: (request: IncomingMessage, response: ServerResponse) => void,
  ) {
    this.#options = options;
    const { tls, auth } = options;
    if (tls === undefined) {
      this.server = createHttpServer(handler);
    } else {
      const mtls = auth.kind === 'mtls';
      const ca = mtls ? (auth.ca ?? tls.ca) : tls.ca;
      this.server = createHttpsServer(
        {
          cert: tls.cert as string | Buffer | (string | Buffer)[],
          key: tls.key,
          ...(ca === undefined ? {} : { ca: ca as string | Buffer | (string | Buffer)[] }),
          requestCert: mtls || tls.requestCert === true,
          rejectUnauthorized: mtls,
        },
        handler,
      );
    }
    this.server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
    // A handshake that fails (no or untrusted client certificate) must not surface as an error.
    this.server.on('tlsClientError', (_error: Error, socket: Socket) => {
      socket.destroy();
    });
    this.server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
      if (error.code !== 'ECONNRESET' && socket.writable) {
        socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      } else {
        socket.destroy();
      }
    });
  }

  /** Aborted when the server closes; cancels pending delays. */
  get closedSignal(): AbortSignal {
    return this.#closed.signal;
  }

  /** Whether {@link SampleListener.close} has been called. */
  get closing(): boolean {
    return this.#closing !== undefined;
  }

  /** The port listened on. */
  get port(): number {
    return this.#port;
  }

  /** The origin clients use, e.g. `http://127.0.0.1:41234`. */
  get origin(): string {
    const scheme = this.#options.tls === undefined ? 'http' : 'https';
    let host = this.#options.host;
    if (host === '0.0.0.0') host = '127.0.0.1';
    else if (host === '::' || host === '[::]') host = '[::1]';
    else if (host.includes(':') && !host.startsWith('[')) host = `[${host}]`;
    return `${scheme}://${host}:${this.#port}`;
  }

  /** The open connections. */
  get connections(): number {
    return this.#sockets.size;
  }

  async listen(): Promise<void> {
    const { signal } = this.#options;
    if (signal?.aborted) throw abortError(signal, 'starting the sample server');
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error): void => {
        reject(error);
      };
      this.server.once('error', onError);
      this.server.listen({ host: this.#options.host, port: this.#options.port }, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    this.#port = (this.server.address() as AddressInfo).port;
    if (signal !== undefined) {
      if (signal.aborted) {
        await this.close();
        throw abortError(signal, 'starting the sample server');
      }
      this.#onAbort = () => void this.close();
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  /** Stops listening and destroys every open connection. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    if (this.#onAbort !== undefined)
      this.#options.signal?.removeEventListener('abort', this.#onAbort);
    this.#closed.abort();
    const stopped = this.server.listening
      ? new Promise<void>((resolve) => {
          this.server.close(() => {
            resolve();
          });
        })
      : Promise.resolve();
    const sockets = [...this.#sockets].map(
      (socket) =>
        new Promise<void>((resolve) => {
          socket.once('close', () => {
            resolve();
          });
          socket.destroy();
        }),
    );
    await Promise.all([stopped, ...sockets]);
  }
}
