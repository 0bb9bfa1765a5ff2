/**
 * The error of a Server-Sent Events stream: an event too large, a peer that never sends a line
 * break, a stream that went silent, ended, or answered 204.
 *
 * @module
 */
import { AioError, displayUrl, type AioErrorCode, type AioErrorOptions } from '@aio-connector/core';

const sseBrand = Symbol.for('aio-connector-sdk.sse-stream-error');

/** The error codes an {@link SseStreamError} carries. */
export type SseStreamErrorCode = Extract<
  AioErrorCode,
  | 'ERR_AIO_SSE_EVENT_TOO_LARGE'
  | 'ERR_AIO_SSE_BUFFER_OVERFLOW'
  | 'ERR_AIO_SSE_IDLE_TIMEOUT'
  | 'ERR_AIO_SSE_STREAM_ENDED'
  | 'ERR_AIO_SSE_NO_CONTENT'
>;

const retryableCodes: ReadonlySet<SseStreamErrorCode> = new Set([
  'ERR_AIO_SSE_BUFFER_OVERFLOW',
  'ERR_AIO_SSE_IDLE_TIMEOUT',
  'ERR_AIO_SSE_STREAM_ENDED',
]);

/** What an {@link SseStreamError} is built from. Every field is optional. */
export interface SseStreamErrorOptions extends AioErrorOptions {
  /** The stream URL; shown without credentials or secret-looking query values. */
  readonly url?: string | URL | undefined;
  /** The last event id of the stream when the error happened. */
  readonly lastEventId?: string | undefined;
}

/**
 * A failure of a Server-Sent Events stream. `retryable` says whether the stream is reopened at
 * once (with backoff): an idle, ended or overflowing stream is; a 204 answer and an event too large
 * are not (the event is skipped; a 204 is retried on the slow schedule).
 *
 * @example
 * ```ts
 * import { SseStreamError, isSseStreamError } from '@aio-connector/sse';
 * const error = new SseStreamError('ERR_AIO_SSE_IDLE_TIMEOUT', 'no data for 45 s', {
 *   url: 'http://127.0.0.1:8080/events',
 * });
 * console.log(isSseStreamError(error), error.retryable); // true true
 * ```
 */
export class SseStreamError extends AioError {
  declare readonly code: SseStreamErrorCode;
  /** The stream URL, without credentials, fragment or secret-looking query values. */
  readonly url: string | undefined;
  /** The last event id of the stream when the error happened. */
  readonly lastEventId: string | undefined;

  constructor(code: SseStreamErrorCode, message: string, options: SseStreamErrorOptions = {}) {
    const url = options.url === undefined ? undefined : displayUrl(options.url);
    super(code, message, {
      ...options,
      retryable: options.retryable ?? retryableCodes.has(code),
      details: {
        ...options.details,
        ...(url === undefined ? {} : { url }),
        ...(options.lastEventId === undefined ? {} : { lastEventId: options.lastEventId }),
      },
    });
    this.name = 'SseStreamError';
    this.url = url;
    this.lastEventId = options.lastEventId;
  }

  /** @internal */
  get [sseBrand](): true {
    return true;
  }
}

/**
 * Whether `value` is an {@link SseStreamError} (from any copy of the package).
 *
 * @example
 * ```ts
 * import { isSseStreamError } from '@aio-connector/sse';
 * function reason(error: unknown) {
 *   return isSseStreamError(error) ? error.code : 'other';
 * }
 * ```
 */
export function isSseStreamError(value: unknown): value is SseStreamError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[sseBrand] === true
  );
}
