import { describe, expect, it } from 'vitest';
import { AioError, computeBackoff, isAioError, retry, sleep } from '@aio-connector/core';

describe('computeBackoff', () => {
  it('grows exponentially and is capped', () => {
    const o = { minDelayInMs: 100, maxDelayInMs: 1_000, jitter: 0 };
    expect([1, 2, 3, 4, 5, 6].map((n) => computeBackoff(n, o))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
  });

  it('jitters within [1 - jitter, 1 + jitter]', () => {
    const o = { minDelayInMs: 1_000, jitter: 0.5 };
    expect(computeBackoff(1, o, undefined, () => 0)).toBe(500);
    expect(computeBackoff(1, o, undefined, () => 1)).toBe(1500);
  });

  it('honours Retry-After, capped', () => {
    const o = { minDelayInMs: 10, jitter: 0, maxRetryAfterInMs: 5_000 };
    expect(computeBackoff(1, o, { retryAfterInMs: 2_000 })).toBe(2_000);
    expect(computeBackoff(1, o, { retryAfterInMs: 60_000 })).toBe(5_000);
  });

  it('rejects bad options with TypeError / RangeError', async () => {
    await expect(retry(async () => 1, { retries: -1 })).rejects.toBeInstanceOf(RangeError);
    await expect(retry(async () => 1, { jitter: 2 })).rejects.toBeInstanceOf(RangeError);
    await expect(retry(async () => 1, { factor: 'x' as unknown as number })).rejects.toBeInstanceOf(
      TypeError,
    );
  });
});

describe('retry', () => {
  const fast = { minDelayInMs: 1, maxDelayInMs: 2 };

  it('retries retryable failures until success', async () => {
    const attempts: number[] = [];
    const result = await retry(async (attempt) => {
      attempts.push(attempt);
      if (attempt < 3) throw new AioError('ERR_AIO_TIMEOUT', 'slow', { retryable: true });
      return 'ok';
    }, fast);
    expect(result).toBe('ok');
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('fails fast on a non-retryable error', async () => {
    let calls = 0;
    const error = new AioError('ERR_AIO_CONFIG', 'bad');
    await expect(
      retry(async () => {
        calls++;
        throw error;
      }, fast),
    ).rejects.toBe(error);
    expect(calls).toBe(1);
  });

  it('rejects with the last error when retries run out', async () => {
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new AioError('ERR_AIO_TIMEOUT', `attempt ${calls}`, { retryable: true });
        },
        { ...fast, retries: 2 },
      ),
    ).rejects.toThrow('attempt 3');
    expect(calls).toBe(3);
  });

  it('aborts during the backoff sleep with ERR_AIO_ABORTED', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const run = retry(
      async () => {
        throw new AioError('ERR_AIO_TIMEOUT', 'slow', { retryable: true });
      },
      {
        minDelayInMs: 60_000,
        signal: controller.signal,
        onFailedAttempt: ({ attempt }) => {
          seen.push(attempt);
          queueMicrotask(() => {
            controller.abort(new Error('stop'));
          });
        },
      },
    );
    const error: unknown = await run.catch((e: unknown) => e);
    expect(isAioError(error) && error.code).toBe('ERR_AIO_ABORTED');
    expect(seen).toEqual([1]);
  });

  it('sleep rejects at once when the signal is already aborted', async () => {
    await expect(sleep(10, AbortSignal.abort())).rejects.toMatchObject({ code: 'ERR_AIO_ABORTED' });
  });
});
