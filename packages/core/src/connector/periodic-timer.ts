/**
 * The sampling timer of polling connectors: ticks on a fixed grid (no cumulative drift), never
 * overlaps a slow tick (missed slots are skipped, not queued), and starts at a random offset so
 * thousands of datasets with the same interval do not fire in the same millisecond.
 *
 * @module
 */
import { isAioError } from '../errors.ts';
import { sleep } from '../retry.ts';

/** Options of {@link runPeriodically}. */
export interface PeriodicOptions {
  /** Interval between tick starts, in ms. Must be ≥ 1. */
  readonly intervalInMs: number;
  /**
   * Delay before the first tick, in ms. Default: a random delay in `[0, min(intervalInMs,
   * maxStartJitterInMs))`.
   */
  readonly initialDelayInMs?: number;
  /** Upper bound of the random start offset, in ms. Default: 5 000. */
  readonly maxStartJitterInMs?: number;
  /** Stops the timer; an in-flight tick receives the same signal. */
  readonly signal: AbortSignal;
  /** Clock, for tests. Default: `performance.now`. */
  readonly now?: () => number;
  /** Random source in [0, 1), for tests. Default: `Math.random`. */
  readonly random?: () => number;
}

/** What a tick learns about its slot. */
export interface TickInfo {
  /** Tick number, from 1. */
  readonly tick: number;
  /** Slots skipped since the previous tick because it overran. */
  readonly skippedSlots: number;
}

/**
 * Calls `tick` on a fixed grid until `signal` aborts, then resolves once the in-flight tick (if
 * any) has returned. Errors thrown by `tick` propagate (catch them inside `tick` to keep going).
 *
 * @example
 * ```ts
 * // used by PollingTelemetryConnector for each dataset
 * const controller = new AbortController();
 * void runPeriodically(async ({ tick }) => console.log('tick', tick), {
 *   intervalInMs: 1_000,
 *   signal: controller.signal,
 * });
 * ```
 */
export async function runPeriodically(
  tick: (info: TickInfo) => Promise<void>,
  options: PeriodicOptions,
): Promise<void> {
  const { intervalInMs, signal } = options;
  if (typeof intervalInMs !== 'number' || Number.isNaN(intervalInMs))
    throw new TypeError('intervalInMs must be a number');
  if (intervalInMs < 1 || !Number.isFinite(intervalInMs))
    throw new RangeError(`intervalInMs must be a finite number >= 1, received ${intervalInMs}`);
  const now = options.now ?? (() => performance.now());
  const random = options.random ?? Math.random;
  const jitterBound = Math.min(intervalInMs, options.maxStartJitterInMs ?? 5_000);
  const initialDelay = options.initialDelayInMs ?? Math.floor(random() * jitterBound);
  const start = now() + initialDelay;
  let slot = 0;
  let count = 0;
  let skippedSlots = 0;
  for (;;) {
    const wait = start + slot * intervalInMs - now();
    try {
      if (wait > 0) await sleep(wait, signal);
      else if (signal.aborted) return;
    } catch (error) {
      if (isAioError(error) && error.code === 'ERR_AIO_ABORTED') return;
      throw error;
    }
    count += 1;
    await tick({ tick: count, skippedSlots });
    if (signal.aborted) return;
    // the next slot lies strictly in the future: an overrunning tick skips the slots it covered
    const next = Math.max(slot + 1, Math.floor((now() - start) / intervalInMs) + 1);
    skippedSlots = next - slot - 1;
    slot = next;
  }
}
