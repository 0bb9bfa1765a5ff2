/**
 * The hybrid logical clock (HLC) of the AIO protocol: wall-clock milliseconds plus a counter plus
 * a node id, encoded `%015d:%05d:nodeId` in the `__ts` user property. One clock per application;
 * every outbound message advances it and every inbound `__ts` is merged into it.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { AioError, ProtocolError } from '../errors.ts';

/** Default maximum distance between an HLC timestamp and the wall clock: one minute. */
export const defaultMaxClockDriftInMs = 60_000;

const maxCounter = 99_999;
const encoded = /^(\d{1,15}):(\d{1,5}):(.+)$/;

/** One HLC value. Immutable. */
export interface HlcTimestamp {
  /** Milliseconds since the Unix epoch. */
  readonly timestamp: number;
  readonly counter: number;
  readonly nodeId: string;
}

/**
 * Encodes an HLC value as carried in `__ts`.
 *
 * @example
 * ```ts
 * import { encodeHlc } from '@aio-connector/core';
 * encodeHlc({ timestamp: 1755676800123, counter: 0, nodeId: 'n1' }); // '001755676800123:00000:n1'
 * ```
 */
export function encodeHlc(value: HlcTimestamp): string {
  return `${String(value.timestamp).padStart(15, '0')}:${String(value.counter).padStart(5, '0')}:${value.nodeId}`;
}

/**
 * Parses an `__ts` value. Throws a `ProtocolError` of kind `invalid header` naming `headerName`
 * when the text is not a valid HLC.
 *
 * @example
 * ```ts
 * import { parseHlc } from '@aio-connector/core';
 * parseHlc('001755676800123:00007:n1').counter; // 7
 * ```
 */
export function parseHlc(text: string, headerName = '__ts'): HlcTimestamp {
  const match = encoded.exec(text);
  const timestamp = match ? Number(match[1]) : NaN;
  const counter = match ? Number(match[2]) : NaN;
  if (!match || !Number.isSafeInteger(timestamp) || !Number.isSafeInteger(counter)) {
    throw new ProtocolError('invalid header', `${headerName} is not a hybrid logical clock value`, {
      headerName,
      headerValue: text,
    });
  }
  return { timestamp, counter, nodeId: match[3] as string };
}

/**
 * Orders two HLC values: negative when `a` is earlier, positive when later, 0 when equal (node id
 * breaks ties).
 */
export function compareHlc(a: HlcTimestamp, b: HlcTimestamp): number {
  if (a.timestamp !== b.timestamp) return a.timestamp < b.timestamp ? -1 : 1;
  if (a.counter !== b.counter) return a.counter < b.counter ? -1 : 1;
  return a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0;
}

/** Options of {@link HybridLogicalClock}. */
export interface HybridLogicalClockOptions {
  /** Node id. Default: a random UUID. */
  readonly nodeId?: string;
  /** Maximum allowed distance from the wall clock, in ms. Default: 60 000. */
  readonly maxClockDriftInMs?: number;
  /** Wall clock in ms since the epoch. Default: `Date.now`. */
  readonly now?: () => number;
}

/**
 * The application's hybrid logical clock.
 *
 * @example
 * ```ts
 * import { HybridLogicalClock } from '@aio-connector/core';
 * const clock = new HybridLogicalClock();
 * const ts = clock.updateNow();          // advance for an outbound message
 * clock.update('001755676800123:00000:peer'); // merge an inbound __ts
 * console.log(ts, clock.toString());
 * ```
 */
export class HybridLogicalClock {
  readonly nodeId: string;
  readonly maxClockDriftInMs: number;
  readonly #now: () => number;
  #timestamp: number;
  #counter = 0;

  constructor(options: HybridLogicalClockOptions = {}) {
    const drift = options.maxClockDriftInMs ?? defaultMaxClockDriftInMs;
    if (typeof drift !== 'number' || Number.isNaN(drift))
      throw new TypeError('maxClockDriftInMs must be a number');
    if (drift < 0) throw new RangeError(`maxClockDriftInMs must be >= 0, received ${drift}`);
    this.nodeId = options.nodeId ?? randomUUID();
    this.maxClockDriftInMs = drift;
    this.#now = options.now ?? Date.now;
    this.#timestamp = Math.floor(this.#now());
  }

  /** The current value. */
  get value(): HlcTimestamp {
    return { timestamp: this.#timestamp, counter: this.#counter, nodeId: this.nodeId };
  }

  /** The current value, encoded. */
  toString(): string {
    return encodeHlc(this.value);
  }

  /**
   * Advances the clock to now (or bumps the counter if the wall clock has not moved) and returns
   * the encoded result. Throws `ERR_AIO_HLC_CLOCK_DRIFT` / `ERR_AIO_HLC_OVERFLOW`.
   */
  updateNow(): string {
    const now = Math.floor(this.#now());
    if (now > this.#timestamp) {
      this.#timestamp = now;
      this.#counter = 0;
    } else {
      this.#bump(this.#counter + 1);
    }
    this.#checkDrift(this.#timestamp, now);
    return this.toString();
  }

  /**
   * Merges another clock's value (an inbound `__ts`) into this one. Throws a `ProtocolError`
   * (`invalid header`) for text that is not an HLC, and `ERR_AIO_HLC_CLOCK_DRIFT` when the other
   * value is too far ahead of the wall clock.
   */
  update(other: HlcTimestamp | string): string {
    const value = typeof other === 'string' ? parseHlc(other) : other;
    if (value.nodeId === this.nodeId) return this.toString();
    const now = Math.floor(this.#now());
    this.#checkDrift(value.timestamp, now);
    if (now > this.#timestamp && now > value.timestamp) {
      this.#timestamp = now;
      this.#counter = 0;
    } else if (this.#timestamp === value.timestamp) {
      this.#bump(Math.max(this.#counter, value.counter) + 1);
    } else if (this.#timestamp > value.timestamp) {
      this.#bump(this.#counter + 1);
    } else {
      this.#timestamp = value.timestamp;
      this.#bump(value.counter + 1);
    }
    return this.toString();
  }

  #bump(counter: number): void {
    if (counter > maxCounter)
      throw new AioError('ERR_AIO_HLC_OVERFLOW', 'hybrid logical clock counter overflow', {
        details: { counter },
      });
    this.#counter = counter;
  }

  #checkDrift(timestamp: number, now: number): void {
    if (timestamp - now > this.maxClockDriftInMs)
      throw new AioError(
        'ERR_AIO_HLC_CLOCK_DRIFT',
        `hybrid logical clock is ${timestamp - now} ms ahead of the wall clock (max ${this.maxClockDriftInMs} ms)`,
        { details: { timestamp, now, maxClockDriftInMs: this.maxClockDriftInMs } },
      );
  }
}

let sharedClock: HybridLogicalClock | undefined;

/**
 * The application's shared hybrid logical clock, created on first use. Protocol components use it
 * when no `hlc` option is given, so that every message of the process is stamped from one clock.
 *
 * @example
 * ```ts
 * import { sharedHybridLogicalClock } from '@aio-connector/core';
 * const clock = sharedHybridLogicalClock();
 * console.log(clock.updateNow());
 * ```
 */
export function sharedHybridLogicalClock(): HybridLogicalClock {
  sharedClock ??= new HybridLogicalClock();
  return sharedClock;
}
