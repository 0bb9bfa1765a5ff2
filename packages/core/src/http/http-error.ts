/**
 * The HTTP error of the SDK and the rules that classify HTTP failures: which statuses are worth
 * retrying, how `Retry-After` is read, and what a network or TLS failure means.
 *
 * @module
 */
import { AioError, type AioErrorCode, type AioErrorOptions } from '../errors.ts';
import { redact } from '../logger.ts';
import { displayUrl } from './http-url.ts';

const httpBrand = Symbol.for('aio-connector-sdk.http-error');

/** The error codes an {@link HttpError} carries. */
export type HttpErrorCode = Extract<
  AioErrorCode,
  | 'ERR_AIO_HTTP_STATUS'
  | 'ERR_AIO_HTTP_NETWORK'
  | 'ERR_AIO_HTTP_TIMEOUT'
  | 'ERR_AIO_HTTP_BODY_TOO_LARGE'
  | 'ERR_AIO_HTTP_TLS'
  | 'ERR_AIO_HTTP_CONTENT_TYPE'
  | 'ERR_AIO_HTTP_REDIRECT'
>;

/** What an {@link HttpError} is built from. */
export interface HttpErrorOptions extends AioErrorOptions {
  /** The request method. */
  readonly method: string;
  /** The request URL; shown without credentials or secret-looking query values. */
  readonly url: string | URL;
  /** The response status, when a response arrived. */
  readonly status?: number | undefined;
  /** The response status text, when a response arrived. */
  readonly statusText?: string | undefined;
  /** The response headers, when a response arrived; secret-looking ones are redacted. */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** The start of the response body, when one was read. */
  readonly bodyExcerpt?: string | undefined;
}

/**
 * An HTTP request that failed: a status that is not a success, a network, TLS or timeout failure,
 * a response too large or of the wrong content type, or a redirect that is not followed. Carries
 * the request (`method`, `url` without credentials) and, when a response arrived, its `status`,
 * `headers` (secret-looking ones redacted) and the start of its body (`bodyExcerpt`). `retryable`
 * and `retryAfterInMs` drive the SDK's retry policy.
 *
 * @example
 * ```ts
 * import { HttpEndpointClient, isHttpError } from '@aio-connector/core';
 * const client = new HttpEndpointClient('http://127.0.0.1:8080');
 * try {
 *   await client.request({ url: '/api/sensor/env' });
 * } catch (error) {
 *   if (isHttpError(error) && error.status === 404) console.log(error.url, error.bodyExcerpt);
 * } finally {
 *   await client.close();
 * }
 * ```
 */
export class HttpError extends AioError {
  declare readonly code: HttpErrorCode;
  /** The request method. */
  readonly method: string;
  /** The request URL, without credentials, fragment or secret-looking query values. */
  readonly url: string;
  /** The response status, when a response arrived. */
  readonly status: number | undefined;
  /** The response status text, when a response arrived. */
  readonly statusText: string | undefined;
  /** The response headers (lower-case names), secret-looking ones redacted. */
  readonly headers: Readonly<Record<string, string>> | undefined;
  /** The start of the response body (at most 512 characters), when one was read. */
  readonly bodyExcerpt: string | undefined;

  constructor(code: HttpErrorCode, message: string, options: HttpErrorOptions) {
    const url = displayUrl(options.url);
    const headers =
      options.headers === undefined
        ? undefined
        : Object.freeze(redact({ ...options.headers }) as Record<string, string>);
    super(code, message, {
      ...options,
      details: {
        method: options.method,
        url,
        ...(options.status === undefined ? {} : { status: options.status }),
        ...options.details,
      },
    });
    this.name = 'HttpError';
    this.method = options.method;
    this.url = url;
    this.status = options.status;
    this.statusText = options.statusText;
    this.headers = headers;
    this.bodyExcerpt = options.bodyExcerpt;
  }

  /** @internal */
  get [httpBrand](): true {
    return true;
  }
}

/**
 * Whether `value` is an {@link HttpError} (from any copy of the SDK).
 *
 * @example
 * ```ts
 * import { isHttpError } from '@aio-connector/core';
 * function statusOf(error: unknown) {
 *   return isHttpError(error) ? error.status : undefined;
 * }
 * ```
 */
export function isHttpError(value: unknown): value is HttpError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[httpBrand] === true
  );
}

/** The kinds of HTTP status. */
export type HttpStatusKind =
  'informational' | 'success' | 'not-modified' | 'redirect' | 'client-error' | 'server-error';

/** What {@link classifyHttpStatus} tells about a status. */
export interface HttpStatusClassification {
  /** The kind of status. */
  readonly kind: HttpStatusKind;
  /** Whether a request that got this status is worth retrying later. */
  readonly retryable: boolean;
}

const retryableClientStatuses = new Set([408, 425, 429]);
const permanentServerStatuses = new Set([501, 505]);

/**
 * Classifies an HTTP status: `success` (2xx), `not-modified` (304: a conditional GET found no new
 * data), `redirect` (other 3xx), `client-error` (4xx) or `server-error` (5xx), and whether it is
 * worth retrying: 408, 425, 429 and every 5xx except 501 and 505 are; 401, 403, 404 and the other
 * 4xx are not (they are configuration problems: credentials, dataSource, method). Throws a
 * `RangeError` for a number that is not a status (an integer in 100..599).
 *
 * @example
 * ```ts
 * import { classifyHttpStatus } from '@aio-connector/core';
 * classifyHttpStatus(503); // { kind: 'server-error', retryable: true }
 * classifyHttpStatus(404); // { kind: 'client-error', retryable: false }
 * ```
 */
export function classifyHttpStatus(status: number): HttpStatusClassification {
  if (typeof status !== 'number')
    throw new TypeError(`status must be a number, received ${typeof status}`);
  if (!Number.isInteger(status) || status < 100 || status > 599)
    throw new RangeError(`status must be an integer between 100 and 599, received ${status}`);
  if (status < 200) return { kind: 'informational', retryable: false };
  if (status < 300) return { kind: 'success', retryable: false };
  if (status === 304) return { kind: 'not-modified', retryable: false };
  if (status < 400) return { kind: 'redirect', retryable: false };
  if (status < 500) return { kind: 'client-error', retryable: retryableClientStatuses.has(status) };
  return { kind: 'server-error', retryable: !permanentServerStatuses.has(status) };
}

/**
 * Reads a `Retry-After` header value: delta-seconds (`120`) or an HTTP-date
 * (`Wed, 21 Oct 2015 07:28:00 GMT`, counted from `now`). Returns milliseconds (0 for a date in the
 * past), or `undefined` when the value is absent or not valid.
 *
 * @example
 * ```ts
 * import { parseRetryAfter } from '@aio-connector/core';
 * parseRetryAfter('2'); // 2000
 * parseRetryAfter(new Date(Date.now() + 5_000).toUTCString()); // about 5000
 * ```
 */
export function parseRetryAfter(
  value: string | undefined,
  now: number = Date.now(),
): number | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) {
    const seconds = Number(text);
    return Number.isFinite(seconds) ? seconds * 1000 : undefined;
  }
  if (!/[a-z]/i.test(text)) return undefined;
  const date = Date.parse(text);
  if (!Number.isFinite(date)) return undefined;
  return Math.max(0, date - now);
}

/** What {@link httpErrorFromFailure} needs to know about the request. @internal */
export interface HttpFailureContext {
  readonly method: string;
  readonly url: URL;
  readonly phase: 'headers' | 'body';
  readonly connectTimeoutInMs: number;
  readonly headersTimeoutInMs: number;
  readonly bodyTimeoutInMs: number;
  /** A TLS alert the server sent on the connection of this request, if one was seen. */
  readonly tlsAlert?: Error | undefined;
}

const serverCertificateCodes: Readonly<Record<string, string>> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    "the server certificate is signed by an unknown CA — add the CA to the endpoint's trust list",
  UNABLE_TO_GET_ISSUER_CERT:
    "the server certificate is signed by an unknown CA — add the CA to the endpoint's trust list",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    "the server certificate is signed by an unknown CA — add the CA to the endpoint's trust list",
  SELF_SIGNED_CERT_IN_CHAIN:
    "the server certificate chain ends in a CA that is not trusted — add the CA to the endpoint's trust list",
  DEPTH_ZERO_SELF_SIGNED_CERT:
    "the server certificate is self-signed — add it (or its CA) to the endpoint's trust list",
  CERT_UNTRUSTED: "the server certificate is not trusted — add its CA to the endpoint's trust list",
  CERT_HAS_EXPIRED: 'the server certificate has expired',
  CERT_NOT_YET_VALID: 'the server certificate is not valid yet (check the clocks)',
  CERT_REVOKED: 'the server certificate is revoked',
  CERT_REJECTED: 'the server certificate is rejected for this purpose',
  CERT_SIGNATURE_FAILURE: 'the server certificate signature is invalid',
  INVALID_CA: 'a CA certificate in the server chain is invalid',
  INVALID_PURPOSE: 'the server certificate is not meant for TLS servers',
  PATH_LENGTH_EXCEEDED: 'the server certificate chain is longer than its CA allows',
  HOSTNAME_MISMATCH: 'the server certificate does not name the host of the address',
};

const clientCertificateAlerts = new Set([
  'BAD_CERTIFICATE',
  'UNSUPPORTED_CERTIFICATE',
  'CERTIFICATE_REVOKED',
  'CERTIFICATE_EXPIRED',
  'CERTIFICATE_UNKNOWN',
  'UNKNOWN_CA',
  'ACCESS_DENIED',
  'DECRYPT_ERROR',
]);

const networkMessages: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the server',
  EPIPE: 'connection closed by the server while sending',
  ECONNABORTED: 'connection aborted',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EHOSTDOWN: 'host down',
  ENOTFOUND: 'host name not found (DNS)',
  EAI_AGAIN: 'host name lookup failed temporarily (DNS)',
  UND_ERR_SOCKET: 'the server closed the connection',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'the response body is shorter than its Content-Length',
  UND_ERR_CLOSED: 'the connection closed',
  UND_ERR_INFO: 'the connection closed',
};

function codeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

function firstOf(error: unknown): unknown {
  if (error instanceof AggregateError && error.errors.length > 0) return error.errors[0];
  return error;
}

/** The TLS alert name in an OpenSSL error code, e.g. `UNKNOWN_CA` in `ERR_SSL_TLSV1_ALERT_UNKNOWN_CA`. */
function alertOf(code: string | undefined): string | undefined {
  const match =
    code === undefined ? null : /^ERR_SSL_(?:TLSV1[0-9]*|SSLV3|SSL\/TLS)_ALERT_(.+)$/.exec(code);
  return match?.[1];
}

/** Whether `error` is a TLS alert received from the server. @internal */
export function isTlsAlert(error: unknown): error is Error {
  return alertOf(codeOf(error)) !== undefined;
}

function tlsAlertMessage(alert: string): string {
  if (alert === 'CERTIFICATE_REQUIRED')
    return 'the server requires a client certificate and none was sent — give the endpoint Certificate authentication';
  if (clientCertificateAlerts.has(alert))
    return `the server refused the client certificate (TLS alert ${alert.toLowerCase()}) — check that the endpoint's certificate is signed by a CA the server trusts, is valid, and comes with its intermediate certificates`;
  if (alert === 'HANDSHAKE_FAILURE')
    return 'the TLS handshake failed (TLS alert handshake_failure): the server may require a client certificate, or accept no protocol version or cipher the client offers';
  if (alert === 'PROTOCOL_VERSION')
    return 'the server accepts no TLS version the client offers (TLS alert protocol_version)';
  return `the server ended the TLS connection with alert ${alert.toLowerCase()}`;
}

/**
 * Turns a failure of the transport (undici, sockets, TLS) into an {@link HttpError} with a clear
 * message and the right `retryable` flag.
 *
 * @internal
 */
export function httpErrorFromFailure(error: unknown, context: HttpFailureContext): HttpError {
  const { method, url } = context;
  const target = `${method} ${displayUrl(url)}`;
  const cause = error;
  const failure = firstOf(error);
  const code = codeOf(failure);
  const name = failure instanceof Error ? failure.name : undefined;
  const make = (
    errorCode: HttpErrorCode,
    reason: string,
    retryable: boolean,
    details: Record<string, unknown> = {},
  ): HttpError =>
    new HttpError(errorCode, `${target} failed: ${reason}`, {
      method,
      url,
      cause,
      retryable,
      details: { ...(code === undefined ? {} : { reason: code }), ...details },
    });

  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return make(
        'ERR_AIO_HTTP_TIMEOUT',
        `connecting to ${url.host} took longer than ${context.connectTimeoutInMs} ms`,
        true,
        { phase: 'connect', timeoutInMs: context.connectTimeoutInMs },
      );
    case 'UND_ERR_HEADERS_TIMEOUT':
      return make(
        'ERR_AIO_HTTP_TIMEOUT',
        `no response headers within ${context.headersTimeoutInMs} ms`,
        true,
        { phase: 'headers', timeoutInMs: context.headersTimeoutInMs },
      );
    case 'UND_ERR_BODY_TIMEOUT':
      return make(
        'ERR_AIO_HTTP_TIMEOUT',
        `no response body data for ${context.bodyTimeoutInMs} ms`,
        true,
        { phase: 'body', timeoutInMs: context.bodyTimeoutInMs },
      );
    case 'UND_ERR_HEADERS_OVERFLOW':
      return make('ERR_AIO_HTTP_NETWORK', 'the response headers are larger than allowed', false);
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return make(
        'ERR_AIO_HTTP_TLS',
        `the server certificate does not name the host ${url.hostname}: ${failure instanceof Error ? failure.message : ''}`,
        false,
      );
    case 'ERR_SSL_WRONG_VERSION_NUMBER':
    case 'ERR_SSL_PACKET_LENGTH_TOO_LONG':
      return make(
        'ERR_AIO_HTTP_TLS',
        'the server does not speak TLS on this port — should the address use http: instead of https:?',
        false,
      );
  }
  if (code !== undefined && code in serverCertificateCodes)
    return make('ERR_AIO_HTTP_TLS', serverCertificateCodes[code] ?? code, false);
  const alert = alertOf(code) ?? alertOf(codeOf(context.tlsAlert));
  if (alert !== undefined)
    return make('ERR_AIO_HTTP_TLS', tlsAlertMessage(alert), false, { tlsAlert: alert });
  if (code !== undefined && (code.startsWith('ERR_SSL_') || code.startsWith('ERR_OSSL_')))
    return make(
      'ERR_AIO_HTTP_TLS',
      `TLS failed (${code}): ${failure instanceof Error ? failure.message.split('\n')[0] : ''}`,
      false,
    );
  if (name === 'HTTPParserError' || code?.startsWith('HPE_') === true)
    return make(
      'ERR_AIO_HTTP_NETWORK',
      `the answer is not valid HTTP/1.1 — check the address port, and whether it should use https: instead of http:`,
      false,
    );
  let reason =
    (code === undefined ? undefined : networkMessages[code]) ??
    (failure instanceof Error ? failure.message : String(failure));
  if (code === 'UND_ERR_SOCKET' && url.protocol === 'https:' && bytesReadOf(failure) === 0)
    reason +=
      " before answering; if the server requires a client certificate, check the endpoint's Certificate authentication (certificate, key, intermediates)";
  return make('ERR_AIO_HTTP_NETWORK', reason, true);
}

function bytesReadOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const socket = (error as { socket?: { bytesRead?: unknown } | null }).socket;
  const value = socket?.bytesRead;
  return typeof value === 'number' ? value : undefined;
}

/** The local port of the socket an undici socket error is about, if known. @internal */
export function localPortOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const socket = (error as { socket?: { localPort?: unknown } | null }).socket;
  const value = socket?.localPort;
  return typeof value === 'number' ? value : undefined;
}
