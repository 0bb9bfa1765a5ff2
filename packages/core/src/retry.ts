/**
 * The one retry policy of the SDK: exponential backoff with jitter, `Retry-After` honoured and
 * capped, only retryable errors retried, every sleep abortable. Built on p-retry.
 *
 * @module
 */
import pRetry from 'p-retry';
import { abortError, isAioError } from './errors.ts';
import { silentLogger, type Logger } from './logger.ts';

/** Options of {@link retry} and {@link computeBackoff}. Every field is optional. */
export interface RetryOptions {
  /** Retries after the first attempt; `Infinity` retries until aborted. Default: 10. */
  readonly retries?: number;
  /** Delay before the first retry, in ms. Default: 250. */
  readonly minDelayInMs?: number;
  /** Largest delay between attempts, in ms. Default: 30 000. */
  readonly maxDelayInMs?: number;
  /** Growth factor of the delay. Default: 2. */
  readonly factor?: number;
  /**
   * Jitter ratio in [0, 1]: each delay is multiplied by a random factor in
   * `[1 - jitter, 1 + jitter]` (then capped). Default: 0.5.
   */
  readonly jitter?: number;
  /** Largest `Retry-After` honoured, in ms. Default: 120 000. */
  readonly maxRetryAfterInMs?: number;
  /** Decides whether an error is retried. Default: {@link isRetryable}. */
  readonly shouldRetry?: (error: unknown, attempt: number) => boolean;
  /** Called after each failed attempt that will be retried, with the delay chosen. */
  readonly onFailedAttempt?: (context: FailedAttempt) => void;
  /** Aborts the retry loop (and the sleep between attempts). */
  readonly signal?: AbortSignal;
  /** Where retries are logged (debug, then info from the third). Default: silent. */
  readonly logger?: Logger;
  /** A name for logs. */
  readonly operation?: string;
}

/** What {@link RetryOptions.onFailedAttempt} receives. */
export interface FailedAttempt {
  readonly error: unknown;
  /** The attempt that failed, from 1. */
  readonly attempt: number;
  /** The delay before the next attempt, in ms. */
  readonly delayInMs: number;
  /** Retries left after this one. */
  readonly retriesLeft: number;
}

/** The defaults of {@link RetryOptions}. */
export const defaultRetryOptions = Object.freeze({
  retries: 10,
  minDelayInMs: 250,
  maxDelayInMs: 30_000,
  factor: 2,
  jitter: 0.5,
  maxRetryAfterInMs: 120_000,
});

/**
 * Whether an error is worth retrying: an SDK error says so with `retryable`; any other error with a
 * boolean `retryable` property is taken at its word; other errors (from user code) count as
 * transient.
 *
 * @example
 * ```ts
 * import { AioError, isRetryable } from '@aio-connector/core';
 * isRetryable(new AioError('ERR_AIO_TIMEOUT', 'slow', { retryable: true })); // true
 * ```
 */
export function isRetryable(error: unknown): boolean {
  if (isAioError(error)) return error.retryable;
  if (typeof error === 'object' && error !== null && 'retryable' in error) {
    const flag = error.retryable;
    if (typeof flag === 'boolean') return flag;
  }
  return true;
}

/** The `Retry-After` an error carries, in ms, if any. */
export function retryAfterOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const value = (error as { retryAfterInMs?: unknown }).retryAfterInMs;
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

function checkOptions(options: RetryOptions): void {
  const { retries, minDelayInMs, maxDelayInMs, factor, jitter, maxRetryAfterInMs } = options;
  const check = (name: string, value: number | undefined, min: number, max = Infinity): void => {
    if (value === undefined) return;
    if (typeof value !== 'number' || Number.isNaN(value))
      throw new TypeError(`${name} must be a number, received ${typeof value}`);
    if (value < min || value > max)
      throw new RangeError(`${name} must be between ${min} and ${max}, received ${value}`);
  };
  check('retries', retries, 0);
  check('minDelayInMs', minDelayInMs, 0);
  check('maxDelayInMs', maxDelayInMs, 0);
  check('factor', factor, 1);
  check('jitter', jitter, 0, 1);
  check('maxRetryAfterInMs', maxRetryAfterInMs, 0);
  if (retries !== undefined && retries !== Infinity && !Number.isInteger(retries))
    throw new RangeError(`retries must be an integer or Infinity, received ${retries}`);
}

/**
 * The delay before retry number `attempt` (from 1), in ms: exponential, jittered, capped, and at
 * least the error's `Retry-After` (capped by `maxRetryAfterInMs`).
 *
 * @example
 * ```ts
 * import { computeBackoff } from '@aio-connector/core';
 * computeBackoff(3, { minDelayInMs: 100, jitter: 0 }); // 400
 * ```
 */
export function computeBackoff(
  attempt: number,
  options: RetryOptions = {},
  error?: unknown,
  random: () => number = Math.random,
): number {
  const o = { ...defaultRetryOptions, ...definedOnly(options) };
  const base = Math.min(o.maxDelayInMs, o.minDelayInMs * o.factor ** Math.max(0, attempt - 1));
  const jittered = Math.min(o.maxDelayInMs, base * (1 - o.jitter + 2 * o.jitter * random()));
  const retryAfter = retryAfterOf(error);
  const delay =
    retryAfter === undefined
      ? jittered
      : Math.max(jittered, Math.min(retryAfter, o.maxRetryAfterInMs));
  return Math.round(delay);
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Runs `operation` until it succeeds, retrying retryable failures with backoff. Rejects with the
 * last error when it is not retryable or the retries are used up, and with an `ERR_AIO_ABORTED`
 * error when `signal` aborts (including during a sleep).
 *
 * @example
 * ```ts
 * import { retry } from '@aio-connector/core';
 * const body = await retry(async (attempt) => {
 *   const res = await fetch('http://127.0.0.1:8080/api');
 *   if (!res.ok) throw Object.assign(new Error(`HTTP ${res.status}`), { retryable: res.status >= 500 });
 *   return res.text();
 * }, { retries: 5, signal: AbortSignal.timeout(30_000) });
 * ```
 */
export async function retry<T>(
  operation: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  checkOptions(options);
  const retries = options.retries ?? defaultRetryOptions.retries;
  const shouldRetry = options.shouldRetry ?? isRetryable;
  const logger = options.logger ?? silentLogger;
  const { signal } = options;
  if (signal?.aborted) throw abortError(signal, options.operation ?? 'operation');
  try {
    return await pRetry(operation, {
      retries,
      minTimeout: 0,
      maxTimeout: 0,
      ...(signal === undefined ? {} : { signal }),
      onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
        if (retriesLeft <= 0 || !shouldRetry(error, attemptNumber)) throw error;
        const delayInMs = computeBackoff(attemptNumber, options, error);
        options.onFailedAttempt?.({ error, attempt: attemptNumber, delayInMs, retriesLeft });
        const log = attemptNumber >= 3 ? logger.info : logger.debug;
        log.call(
          logger,
          {
            operation: options.operation,
            attempt: attemptNumber,
            delayInMs,
            err: error,
          },
          'retrying after failure',
        );
        await sleep(delayInMs, signal);
      },
    });
  } catch (error) {
    if (signal?.aborted && !(isAioError(error) && error.code === 'ERR_AIO_ABORTED'))
      throw abortError(signal, options.operation ?? 'operation');
    throw error;
  }
}

/**
 * Waits `ms` milliseconds. Rejects with an `ERR_AIO_ABORTED` error as soon as `signal` aborts; the
 * timer is unref'd and the listener removed either way.
 *
 * @example
 * ```ts
 * import { sleep } from '@aio-connector/core';
 * await sleep(100, AbortSignal.timeout(1_000));
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal, 'sleep'));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal as AbortSignal, 'sleep'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    timer.unref();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Throws an `ERR_AIO_ABORTED` error if `signal` is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined, operation: string): void {
  if (signal?.aborted) throw abortError(signal, operation);
}
