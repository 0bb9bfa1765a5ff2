/**
 * The error hierarchy shared by every package of the SDK.
 *
 * Every error the SDK raises is an {@link AioError} with a stable `code` (`ERR_AIO_*`), a
 * `retryable` flag that the retry policy reads, and an optional `cause`. Subclasses exist only where
 * callers act differently on them. Use {@link isAioError} rather than `instanceof`: it checks a
 * `Symbol.for` brand, so it works across duplicate installs of the package.
 *
 * Every code is listed in {@link errorCodes} and documented in `docs/errors.md`; a test keeps the
 * two in sync.
 *
 * @module
 */

const brand = Symbol.for('aio-connector-sdk.error');

/**
 * Every error code the SDK raises, with a one-line description. `docs/errors.md` documents each.
 *
 * @example
 * ```ts
 * import { errorCodes } from '@aio-connector/core';
 * console.log(errorCodes.ERR_AIO_CONFIG);
 * ```
 */
export const errorCodes = {
  ERR_AIO_CONFIG: 'A setting, mounted file or environment variable is missing or invalid.',
  ERR_AIO_INVALID_ARGUMENT: 'An argument passed to an SDK function is invalid.',
  ERR_AIO_ABORTED: 'The operation was aborted through its AbortSignal.',
  ERR_AIO_CLOSED: 'The component was stopped or destroyed before the operation completed.',
  ERR_AIO_TIMEOUT: 'The operation did not complete in the time allowed.',
  ERR_AIO_QUEUE_OVERFLOW:
    'The forwarding queue was full and a message was dropped under the overflow policy.',
  ERR_AIO_PAYLOAD_TOO_LARGE:
    'A message is larger than its destination accepts (the broker maximum packet size).',
  ERR_AIO_SCHEMA_INVALID: 'An explicit message schema is not a valid JSON Schema.',
  ERR_AIO_SCHEMA_MISMATCH: 'A payload does not match the message schema of its dataset or event.',
  ERR_AIO_SCHEMA_REGISTRATION: 'Registering a message schema with the schema registry failed.',
  ERR_AIO_SCHEMA_REGISTRY: 'The schema registry answered a request with an error.',
  ERR_AIO_RETRIES_EXHAUSTED: 'A retried operation failed on every attempt allowed.',
  ERR_AIO_MQTT_CONNECT: 'The MQTT broker refused or dropped the connection attempt.',
  ERR_AIO_MQTT_SESSION_LOST: 'The broker reported that the persistent MQTT session was lost.',
  ERR_AIO_MQTT_PUBLISH: 'The broker did not accept a PUBLISH (negative PUBACK or disconnect).',
  ERR_AIO_MQTT_SUBSCRIBE: 'The broker rejected a SUBSCRIBE or UNSUBSCRIBE.',
  ERR_AIO_MQTT_AUTH: 'K8S-SAT authentication failed or the token file is unusable.',
  ERR_AIO_PROTOCOL_MISSING_HEADER: 'A required MQTT property or user property is missing.',
  ERR_AIO_PROTOCOL_INVALID_HEADER: 'An MQTT property or user property has an invalid value.',
  ERR_AIO_PROTOCOL_INVALID_PAYLOAD: 'A message payload could not be serialized or deserialized.',
  ERR_AIO_PROTOCOL_TIMEOUT: 'A command or telemetry operation timed out.',
  ERR_AIO_PROTOCOL_CANCELLATION: 'A command or telemetry operation was cancelled.',
  ERR_AIO_PROTOCOL_INVALID_CONFIGURATION:
    'A protocol component (sender, receiver, invoker, executor) is configured incorrectly.',
  ERR_AIO_PROTOCOL_INVALID_STATE:
    'A protocol component was used in a state that does not allow it.',
  ERR_AIO_PROTOCOL_INTERNAL_LOGIC: 'A remote component reported an internal logic error.',
  ERR_AIO_PROTOCOL_UNKNOWN: 'A remote component reported an error the protocol does not classify.',
  ERR_AIO_PROTOCOL_EXECUTION: 'The command handler failed while executing a request.',
  ERR_AIO_PROTOCOL_MQTT: 'The MQTT layer failed while carrying a protocol message.',
  ERR_AIO_PROTOCOL_UNSUPPORTED_VERSION:
    'The peer does not support the protocol version of the message.',
  ERR_AIO_HLC_CLOCK_DRIFT:
    'A hybrid logical clock timestamp is further from the wall clock than the maximum drift allows.',
  ERR_AIO_HLC_OVERFLOW: 'The hybrid logical clock counter reached its maximum value.',
  ERR_AIO_STATE_STORE_PARSE:
    'A state store payload (RESP3) is malformed, truncated or not the expected response.',
  ERR_AIO_STATE_STORE_SERVICE: 'The state store service answered a request with an error.',
  ERR_AIO_ADR_SERVICE: 'The Azure Device Registry service answered a request with an error.',
  ERR_AIO_HTTP_STATUS: 'An HTTP server answered with a status that is not a success.',
  ERR_AIO_HTTP_NETWORK:
    'An HTTP connection failed: refused, reset, closed early, or the answer was not valid HTTP.',
  ERR_AIO_HTTP_TIMEOUT: 'An HTTP connection, response headers or response body took too long.',
  ERR_AIO_HTTP_BODY_TOO_LARGE: 'An HTTP response body is larger than the size allowed.',
  ERR_AIO_HTTP_TLS:
    'A TLS connection failed: server certificate not trusted or client certificate refused.',
  ERR_AIO_HTTP_CONTENT_TYPE: 'An HTTP response has a content type other than the one expected.',
  ERR_AIO_HTTP_REDIRECT:
    'An HTTP server redirected to another origin, or redirected more often than allowed.',
  ERR_AIO_SSE_EVENT_TOO_LARGE:
    'A Server-Sent Events message is larger than the size allowed; it was skipped.',
  ERR_AIO_SSE_BUFFER_OVERFLOW:
    'A Server-Sent Events stream sent more bytes without a line break than allowed; it was closed.',
  ERR_AIO_SSE_IDLE_TIMEOUT:
    'A Server-Sent Events stream sent nothing, not even a comment, for longer than allowed.',
  ERR_AIO_SSE_STREAM_ENDED: 'The server ended a Server-Sent Events stream.',
  ERR_AIO_SSE_NO_CONTENT:
    'A Server-Sent Events server answered 204 No Content: it asks clients not to reconnect.',
  ERR_AIO_HTTP_INVALID_JSON:
    'An HTTP response declared or expected to be JSON has a body that is not valid JSON.',
} as const;

/** A stable error code of the SDK. */
export type AioErrorCode = keyof typeof errorCodes;

/** Options accepted by {@link AioError} and its subclasses. */
export interface AioErrorOptions {
  /** The underlying error. */
  readonly cause?: unknown;
  /** Whether retrying the operation may succeed. Default: `false`. */
  readonly retryable?: boolean;
  /**
   * A delay requested by the remote side before the next attempt (for example an HTTP
   * `Retry-After`), in milliseconds. The retry policy honours it, capped.
   */
  readonly retryAfterInMs?: number;
  /** Context for logs and status reports. Never put secrets here. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * The base error of the SDK.
 *
 * @example
 * ```ts
 * import { AioError, isAioError } from '@aio-connector/core';
 * try {
 *   throw new AioError('ERR_AIO_TIMEOUT', 'no answer within 10 s', { retryable: true });
 * } catch (error) {
 *   if (isAioError(error) && error.retryable) console.log(error.code);
 * }
 * ```
 */
export class AioError extends Error {
  /** The stable error code. */
  readonly code: AioErrorCode;
  /** Whether retrying the operation may succeed. */
  readonly retryable: boolean;
  /** A delay the remote side asked for before retrying, in milliseconds. */
  readonly retryAfterInMs: number | undefined;
  /** Context for logs and status reports. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: AioErrorCode, message: string, options: AioErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AioError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.retryAfterInMs = options.retryAfterInMs;
    this.details = Object.freeze({ ...options.details });
  }

  /** @internal */
  get [brand](): true {
    return true;
  }
}

/**
 * Whether `value` is an error raised by the SDK (any copy of it).
 *
 * @example
 * ```ts
 * import { isAioError } from '@aio-connector/core';
 * function describe(error: unknown) {
 *   return isAioError(error) ? error.code : 'unknown';
 * }
 * ```
 */
export function isAioError(value: unknown): value is AioError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[brand] === true
  );
}

/**
 * A configuration error: a setting, mounted file, environment variable or device/asset definition
 * is missing or invalid. Connectors report these to ADR status and keep running the rest.
 *
 * @example
 * ```ts
 * import { ConfigError } from '@aio-connector/core';
 * throw new ConfigError('CONNECTOR_ID is not set', { details: { variable: 'CONNECTOR_ID' } });
 * ```
 */
export class ConfigError extends AioError {
  /** The variable, file or option that is wrong. */
  readonly source: string | undefined;
  /** The field inside that source, as a dotted path. */
  readonly field: string | undefined;

  constructor(
    message: string,
    options: AioErrorOptions & { readonly source?: string; readonly field?: string } = {},
  ) {
    super('ERR_AIO_CONFIG', message, {
      ...options,
      details: { ...options.details, source: options.source, field: options.field },
    });
    this.name = 'ConfigError';
    this.source = options.source;
    this.field = options.field;
  }
}

/**
 * The kinds of protocol error, as named by the AIO protocol error model and the METL conformance
 * suite.
 */
export type ProtocolErrorKind =
  | 'missing header'
  | 'invalid header'
  | 'invalid payload'
  | 'timeout'
  | 'cancellation'
  | 'invalid configuration'
  | 'invalid state'
  | 'internal logic error'
  | 'unknown error'
  | 'execution error'
  | 'mqtt error'
  | 'unsupported version';

const protocolCodes: Record<ProtocolErrorKind, AioErrorCode> = {
  'missing header': 'ERR_AIO_PROTOCOL_MISSING_HEADER',
  'invalid header': 'ERR_AIO_PROTOCOL_INVALID_HEADER',
  'invalid payload': 'ERR_AIO_PROTOCOL_INVALID_PAYLOAD',
  timeout: 'ERR_AIO_PROTOCOL_TIMEOUT',
  cancellation: 'ERR_AIO_PROTOCOL_CANCELLATION',
  'invalid configuration': 'ERR_AIO_PROTOCOL_INVALID_CONFIGURATION',
  'invalid state': 'ERR_AIO_PROTOCOL_INVALID_STATE',
  'internal logic error': 'ERR_AIO_PROTOCOL_INTERNAL_LOGIC',
  'unknown error': 'ERR_AIO_PROTOCOL_UNKNOWN',
  'execution error': 'ERR_AIO_PROTOCOL_EXECUTION',
  'mqtt error': 'ERR_AIO_PROTOCOL_MQTT',
  'unsupported version': 'ERR_AIO_PROTOCOL_UNSUPPORTED_VERSION',
};

/** Extra facts carried by a {@link ProtocolError}. */
export interface ProtocolErrorInfo extends AioErrorOptions {
  /** Detected before any network communication (a bad argument or configuration). */
  readonly isShallow?: boolean;
  /** Detected by the remote side (reported through `__stat`). */
  readonly isRemote?: boolean;
  /** The MQTT or user property that was missing or invalid. */
  readonly headerName?: string;
  /** The invalid value of that header. */
  readonly headerValue?: string;
  /** The configuration property or argument that was invalid. */
  readonly propertyName?: string;
  /** The invalid value of that property. */
  readonly propertyValue?: unknown;
  /** The timeout that expired. */
  readonly timeoutName?: string;
  /** The duration of that timeout, in milliseconds. */
  readonly timeoutInMs?: number;
  /** The command the error concerns. */
  readonly commandName?: string;
  /** The `__stat` status code of a remote error. */
  readonly statusCode?: number;
  /** Whether a remote error was raised by application code (`__apErr`). */
  readonly isApplicationError?: boolean;
  /** The protocol version of the message that was rejected. */
  readonly protocolVersion?: string;
  /** The protocol major versions the peer supports. */
  readonly supportedMajorProtocolVersions?: readonly number[];
}

/**
 * An error of the AIO MQTT protocol layer (telemetry, commands), carrying the facts the protocol
 * error model defines.
 *
 * @example
 * ```ts
 * import { ProtocolError } from '@aio-connector/core';
 * const error = new ProtocolError('missing header', 'no __stat on the response', {
 *   headerName: '__stat',
 * });
 * console.log(error.code); // ERR_AIO_PROTOCOL_MISSING_HEADER
 * ```
 */
export class ProtocolError extends AioError {
  readonly kind: ProtocolErrorKind;
  readonly isShallow: boolean;
  readonly isRemote: boolean;
  readonly headerName: string | undefined;
  readonly headerValue: string | undefined;
  readonly propertyName: string | undefined;
  readonly propertyValue: unknown;
  readonly timeoutName: string | undefined;
  readonly timeoutInMs: number | undefined;
  readonly commandName: string | undefined;
  readonly statusCode: number | undefined;
  readonly isApplicationError: boolean;
  readonly protocolVersion: string | undefined;
  readonly supportedMajorProtocolVersions: readonly number[] | undefined;

  constructor(kind: ProtocolErrorKind, message: string, info: ProtocolErrorInfo = {}) {
    super(protocolCodes[kind], message, {
      ...info,
      retryable:
        info.retryable ?? (kind === 'timeout' || kind === 'mqtt error' || info.statusCode === 503),
    });
    this.name = 'ProtocolError';
    this.kind = kind;
    this.isShallow = info.isShallow ?? false;
    this.isRemote = info.isRemote ?? false;
    this.headerName = info.headerName;
    this.headerValue = info.headerValue;
    this.propertyName = info.propertyName;
    this.propertyValue = info.propertyValue;
    this.timeoutName = info.timeoutName;
    this.timeoutInMs = info.timeoutInMs;
    this.commandName = info.commandName;
    this.statusCode = info.statusCode;
    this.isApplicationError = info.isApplicationError ?? false;
    this.protocolVersion = info.protocolVersion;
    this.supportedMajorProtocolVersions = info.supportedMajorProtocolVersions;
  }
}

/**
 * The error a component throws when an operation is aborted through its `signal`. Carries the
 * signal's reason as `cause`.
 */
export function abortError(signal: AbortSignal, operation: string): AioError {
  return new AioError('ERR_AIO_ABORTED', `${operation} was aborted`, { cause: signal.reason });
}
