/**
 * Polling with a deadline, for tests that wait for something that has no event to await.
 *
 * @module
 */

/** Options of {@link eventually}. */
export interface EventuallyOptions {
  /** How long to keep trying, in ms. Default: 10 000. */
  readonly timeoutInMs?: number;
  /** Pause between attempts, in ms. Default: 25. */
  readonly intervalInMs?: number;
  /** Stops polling early. */
  readonly signal?: AbortSignal;
}

/**
 * Calls `check` until it returns (or resolves) without throwing, and returns its result. When the
 * deadline passes, throws the last error `check` threw, with the time waited in the message.
 *
 * @example
 * ```ts
 * import { eventually } from '@aio-connector/testing';
 * import { expect } from 'vitest';
 * const received: string[] = [];
 * await eventually(() => expect(received).toHaveLength(3), { timeoutInMs: 5_000 });
 * ```
 */
export async function eventually<T>(
  check: () => T | Promise<T>,
  options: EventuallyOptions = {},
): Promise<T> {
  const timeoutInMs = options.timeoutInMs ?? 10_000;
  const intervalInMs = options.intervalInMs ?? 25;
  if (!(timeoutInMs >= 0))
    throw new RangeError(`timeoutInMs must be >= 0, received ${timeoutInMs}`);
  if (!(intervalInMs >= 0))
    throw new RangeError(`intervalInMs must be >= 0, received ${intervalInMs}`);
  const deadline = Date.now() + timeoutInMs;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      return await check();
    } catch (error) {
      if (Date.now() >= deadline) {
        if (error instanceof Error) {
          error.message = `still failing after ${timeoutInMs} ms: ${error.message}`;
          throw error;
        }
        throw new Error(`still failing after ${timeoutInMs} ms`, { cause: error });
      }
    }
    await new Promise((resolve) => setTimeout(resolve, intervalInMs));
  }
}
