/**
 * The clock and timers the protocol components use. The default is the system clock; tests pass a
 * controllable one (for example a clock that can be frozen) through the components' `timeSource`
 * option.
 *
 * @module
 */

/** An opaque timer handle returned by {@link TimeSource.setTimeout}. */
export type TimerHandle = unknown;

/**
 * A wall clock plus one-shot timers.
 *
 * @example
 * ```ts
 * import { systemTimeSource } from './time-source.ts';
 * const handle = systemTimeSource.setTimeout(() => console.log('later'), 1_000);
 * systemTimeSource.clearTimeout(handle);
 * ```
 */
export interface TimeSource {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Calls `callback` once after `ms` milliseconds. Timers must not keep the process alive. */
  setTimeout(callback: () => void, ms: number): TimerHandle;
  /** Cancels a timer; a no-op for a timer that already fired. */
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The system clock: `Date.now` and unref'd Node.js timers.
 *
 * @example
 * ```ts
 * import { systemTimeSource } from './time-source.ts';
 * console.log(systemTimeSource.now());
 * ```
 */
export const systemTimeSource: TimeSource = Object.freeze({
  now: () => Date.now(),
  setTimeout: (callback: () => void, ms: number): TimerHandle => {
    const timer = setTimeout(callback, ms);
    timer.unref();
    return timer;
  },
  clearTimeout: (handle: TimerHandle): void => {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
});
