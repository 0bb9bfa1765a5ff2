/**
 * `LeasedLock`: a lease on a state store key, the primitive behind leader election.
 *
 * The key holds the holder's name; acquiring is `SET key holder NEX PX duration` (only if the key
 * does not exist or already holds the same name, so the holder can renew), releasing is
 * `VDEL key holder`. The version (`__ts`) of the acquiring or renewing `SET` is the fencing token:
 * write protected keys with it, and the state store refuses writes fenced with an older token.
 *
 * @module
 */
import { Buffer } from 'node:buffer';
import { AioError, abortError } from '../../errors.ts';
import { silentLogger, type Logger } from '../../logger.ts';
import { compareHlc, parseHlc, type HlcTimestamp } from '../../protocol/hlc.ts';
import { computeBackoff, retry, sleep, type RetryOptions } from '../../retry.ts';
import type {
  StateStoreClient,
  StateStoreKeyNotification,
} from '../state-store/state-store-client.ts';

/** What a lease needs from a state store client ({@link StateStoreClient} provides it). */
export type LeaseStore = Pick<
  StateStoreClient,
  'clientId' | 'set' | 'get' | 'vdel' | 'observe' | 'unobserve' | 'onNotification'
>;

/**
 * The retry policy of leases and leader election (the AIO SDKs' policy: 5 retries, exponential
 * from 4 ms, at most 200 ms apart, ±5 % jitter). It retries failed state store requests that are
 * retryable (timeouts, MQTT failures), and spaces the attempts made when a contended lease is
 * freed, so that the previous holder gets the first chance to renew.
 *
 * @example
 * ```ts
 * import { defaultLeaseRetryOptions, computeBackoff } from '@aio-connector/core';
 * computeBackoff(1, { ...defaultLeaseRetryOptions, jitter: 0 }); // 4
 * ```
 */
export const defaultLeaseRetryOptions = Object.freeze({
  retries: 5,
  minDelayInMs: 4,
  maxDelayInMs: 200,
  factor: 2,
  jitter: 0.05,
} satisfies RetryOptions);

/** Options of {@link LeasedLock}. Every field is optional. */
export interface LeasedLockOptions {
  /** The name written into the key while this lock holds it. Default: the store's client id. */
  readonly holderName?: string;
  /**
   * Distinguishes several holders sharing one name: the key then holds `{holderName}:{sessionId}`.
   * Default: none.
   */
  readonly sessionId?: string;
  /**
   * Retry policy for failed requests and for contention. Merged over
   * {@link defaultLeaseRetryOptions}.
   */
  readonly retry?: Omit<RetryOptions, 'signal' | 'logger' | 'operation'>;
  /** Default: silent. */
  readonly logger?: Logger;
}

/** Options of {@link LeasedLock.tryAcquire} and {@link LeasedLock.acquire}. */
export interface LeaseAcquireOptions {
  /** How long the lease lasts after each acquisition or renewal, in ms (`PX`). Default: 10 000. */
  readonly durationInMs?: number;
  /**
   * Renew the lease automatically at this interval, in ms; must be smaller than `durationInMs`.
   * Default: no automatic renewal.
   */
  readonly renewalInMs?: number;
  /** Cancels the attempt (and, for `acquire`, the wait). */
  readonly signal?: AbortSignal;
}

/** The outcome of {@link LeasedLock.tryAcquire}. */
export interface LeaseAcquireResult {
  readonly acquired: boolean;
  /** The fencing token (the version of the acquiring `SET`) when acquired. */
  readonly fencingToken?: string;
}

/** A change of the lease seen by this lock. */
export interface LeasedLockChange {
  /** The current holder's name, `undefined` when nobody holds the lease. */
  readonly holder: string | undefined;
  /** Whether this lock holds the lease. */
  readonly isHeld: boolean;
}

/** Receives lease changes. */
export type LeasedLockListener = (change: LeasedLockChange) => void;

const utf8 = new TextEncoder();
const lenientUtf8 = new TextDecoder('utf-8');

function nonEmptyString(value: unknown, name: string): string {
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string`);
  if (value.length === 0) throw new RangeError(`${name} must not be empty`);
  return value;
}

function duration(value: unknown, name: string, fallback: number | undefined): number | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number`);
  if (!Number.isSafeInteger(value) || value < 1)
    throw new RangeError(`${name} must be an integer >= 1, received ${value}`);
  return value;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

function parseVersion(text: string | undefined): HlcTimestamp | undefined {
  if (text === undefined) return undefined;
  try {
    return parseHlc(text);
  } catch {
    return undefined;
  }
}

/**
 * A lease on a state store key.
 *
 * - {@link LeasedLock.tryAcquire}: one attempt; with `renewalInMs` the lease is then renewed
 *   automatically until a renewal fails, is not applied, or another holder is seen — the lock then
 *   reports the loss at once (`isHeld` false, a change event).
 * - {@link LeasedLock.acquire}: waits until acquired — it observes the key (`KEYNOTIFY`), retries
 *   when the key is deleted or expires (after a short backoff) and polls at a quarter of the lease
 *   duration in case a notification is missed.
 * - {@link LeasedLock.release}: stops renewing and deletes the key if this lock still holds it.
 *
 * Failed requests are retried with {@link defaultLeaseRetryOptions} when retryable; then the
 * method rejects with the last error. A renewal is retried only until the lease would expire.
 *
 * @example
 * ```ts
 * import { LeasedLock, StateStoreClient } from '@aio-connector/core';
 * declare const store: StateStoreClient;
 * const lock = new LeasedLock(store, 'inventory-lock');
 * const { fencingToken } = await lock.acquire({ durationInMs: 10_000, renewalInMs: 9_000 });
 * await store.set('inventory', '42', { fencingToken });
 * await lock.release();
 * await lock.close();
 * ```
 */
export class LeasedLock {
  /** The state store key of the lease. */
  readonly lockName: string;
  /** The value written into the key while this lock holds it. */
  readonly holderName: string;
  readonly #store: LeaseStore;
  readonly #key: Uint8Array;
  readonly #retry: RetryOptions;
  readonly #logger: Logger;
  readonly #listeners = new Set<LeasedLockListener>();
  readonly #freeWaiters = new Set<() => void>();
  readonly #closeController = new AbortController();
  readonly #removeNotificationListener: () => void;
  #held = false;
  #fencingToken: string | undefined;
  #holder: string | undefined;
  #holderVersion: HlcTimestamp | undefined;
  #emitted: LeasedLockChange = { holder: undefined, isHeld: false };
  /** Changes on every acquisition, loss and release, so stale renewals do nothing. */
  #generation = 0;
  #expiresAt = 0;
  /** Acquisition attempts in flight: until they settle, seeing our own name is not reported. */
  #attempts = 0;
  #expiryTimer: NodeJS.Timeout | undefined;
  #renewalTimer: NodeJS.Timeout | undefined;
  #renewalController: AbortController | undefined;
  #observing: Promise<void> | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  #closing: Promise<void> | undefined;

  constructor(store: LeaseStore, lockName: string, options: LeasedLockOptions = {}) {
    if (typeof store !== 'object' || store === null || typeof store.set !== 'function')
      throw new TypeError('store must be a StateStoreClient');
    if (typeof options !== 'object' || options === null)
      throw new TypeError('options must be an object');
    this.lockName = nonEmptyString(lockName, 'lockName');
    const holder = nonEmptyString(options.holderName ?? store.clientId, 'holderName');
    const sessionId =
      options.sessionId === undefined ? undefined : nonEmptyString(options.sessionId, 'sessionId');
    if (
      options.retry !== undefined &&
      (typeof options.retry !== 'object' || options.retry === null)
    )
      throw new TypeError('retry must be an object');
    this.holderName = sessionId === undefined ? holder : `${holder}:${sessionId}`;
    this.#store = store;
    this.#key = utf8.encode(this.lockName);
    this.#retry = { ...defaultLeaseRetryOptions, ...options.retry };
    this.#logger = (options.logger ?? silentLogger).child({
      component: 'leased-lock',
      lockName: this.lockName,
    });
    this.#removeNotificationListener = store.onNotification((notification) => {
      this.#onNotification(notification);
    });
  }

  /** Whether this lock holds the lease. */
  get isHeld(): boolean {
    return this.#held;
  }

  /** The fencing token of the last acquisition or renewal, while the lease is held. */
  get fencingToken(): string | undefined {
    return this.#fencingToken;
  }

  /** The holder last seen (from notifications, responses and reads), if any. */
  get holder(): string | undefined {
    return this.#holder;
  }

  /**
   * Adds a listener called when the holder or `isHeld` changes; returns the function that removes
   * it.
   *
   * @example
   * ```ts
   * declare const lock: import('@aio-connector/core').LeasedLock;
   * const stop = lock.onChange(({ holder, isHeld }) => console.log(holder, isHeld));
   * ```
   */
  onChange(listener: LeasedLockListener): () => void {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    const entry: LeasedLockListener = (change) => {
      listener(change);
    };
    this.#listeners.add(entry);
    return () => {
      this.#listeners.delete(entry);
    };
  }

  /**
   * Starts observing the key (`KEYNOTIFY`) and reads its holder. Idempotent; `acquire` calls it.
   *
   * @example
   * ```ts
   * declare const lock: import('@aio-connector/core').LeasedLock;
   * await lock.observe();
   * console.log(lock.holder);
   * ```
   */
  async observe(options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    const signal = this.#signal(options.signal);
    try {
      this.#observing ??= this.#startObserving(signal).catch((error: unknown) => {
        this.#observing = undefined;
        throw error;
      });
      await abortable(this.#observing, signal);
    } catch (error) {
      throw this.#closedOr(error);
    }
  }

  async #startObserving(signal: AbortSignal): Promise<void> {
    await this.#withRetry('observe lease', signal, (s) =>
      this.#store.observe(this.#key, { signal: s }),
    );
    await this.#refreshHolder(signal);
  }

  /**
   * Reads the current holder from the state store.
   *
   * @example
   * ```ts
   * declare const lock: import('@aio-connector/core').LeasedLock;
   * const holder = await lock.getHolder(); // string | undefined
   * ```
   */
  async getHolder(options: { readonly signal?: AbortSignal } = {}): Promise<string | undefined> {
    const signal = this.#signal(options.signal);
    try {
      await this.#refreshHolder(signal);
    } catch (error) {
      throw this.#closedOr(error);
    }
    return this.#holder;
  }

  /**
   * Makes one attempt to acquire (or, if held, renew) the lease.
   *
   * @example
   * ```ts
   * declare const lock: import('@aio-connector/core').LeasedLock;
   * const { acquired, fencingToken } = await lock.tryAcquire({ durationInMs: 5_000 });
   * ```
   */
  async tryAcquire(options: LeaseAcquireOptions = {}): Promise<LeaseAcquireResult> {
    const { durationInMs, renewalInMs } = checkAcquireOptions(options);
    const signal = this.#signal(options.signal);
    try {
      return await this.#attempt(durationInMs, renewalInMs, signal);
    } catch (error) {
      throw this.#closedOr(error);
    }
  }

  /**
   * Waits until the lease is acquired and resolves with the fencing token. Rejects with
   * `ERR_AIO_ABORTED` when `signal` aborts, `ERR_AIO_CLOSED` when the lock is closed, or the last
   * error of a request that kept failing.
   *
   * @example
   * ```ts
   * declare const lock: import('@aio-connector/core').LeasedLock;
   * const { fencingToken } = await lock.acquire({
   *   durationInMs: 10_000,
   *   renewalInMs: 9_000,
   *   signal: AbortSignal.timeout(60_000),
   * });
   * ```
   */
  async acquire(options: LeaseAcquireOptions = {}): Promise<{ readonly fencingToken: string }> {
    const { durationInMs, renewalInMs } = checkAcquireOptions(options);
    const signal = this.#signal(options.signal);
    const pollInMs = Math.max(50, Math.floor(durationInMs / 4));
    let wakes = 0;
    try {
      await this.observe({ signal });
      for (;;) {
        if (signal.aborted) throw abortError(signal, 'acquire lease');
        const freed = this.#nextFree();
        try {
          const result = await this.#attempt(durationInMs, renewalInMs, signal);
          if (result.acquired && result.fencingToken !== undefined)
            return { fencingToken: result.fencingToken };
          const woken = await waitUntilFree(freed.promise, pollInMs, signal);
          if (woken) {
            wakes += 1;
            await sleep(computeBackoff(wakes, this.#retry), signal);
          }
        } finally {
          freed.cancel();
        }
      }
    } catch (error) {
      throw this.#closedOr(error);
    }
  }

  /**
   * Stops renewing and deletes the key if this lock holds it (`VDEL`). Resolves with whether the
   * key was deleted.
   *
   * @example
   * ```ts
   * declare const lock: import('@aio-connector/core').LeasedLock;
   * const released = await lock.release();
   * ```
   */
  async release(options: { readonly signal?: AbortSignal } = {}): Promise<boolean> {
    const signal = this.#signal(options.signal);
    this.#stopHolding();
    this.#emitChange();
    try {
      const result = await this.#exclusive(() =>
        this.#withRetry('release lease', signal, (s) =>
          this.#store.vdel(this.#key, this.holderName, { signal: s }),
        ),
      );
      if (result === 1 && this.#holder === this.holderName) {
        this.#holder = undefined;
        this.#emitChange();
      }
      return result === 1;
    } catch (error) {
      throw this.#closedOr(error);
    }
  }

  /**
   * Stops renewing and observing, and rejects pending `acquire` calls with `ERR_AIO_CLOSED`. Does
   * not release the lease: it expires at the end of its duration (call `release` first to hand it
   * over at once). Safe to call twice.
   *
   * @example
   * ```ts
   * declare const lock: import('@aio-connector/core').LeasedLock;
   * await lock.close();
   * ```
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** Same as {@link LeasedLock.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #close(): Promise<void> {
    this.#closeController.abort(new AioError('ERR_AIO_CLOSED', 'the leased lock is closed'));
    const wasHeld = this.#held;
    this.#stopHolding();
    this.#removeNotificationListener();
    if (wasHeld) this.#emitChange();
    const observing = this.#observing;
    this.#observing = undefined;
    if (observing !== undefined) {
      try {
        await observing;
        await this.#store.unobserve(this.#key);
      } catch (error) {
        this.#logger.debug({ err: error }, 'stopping the lease observation failed');
      }
    }
    this.#listeners.clear();
  }

  // ------------------------------------------------------------------ internals

  #signal(signal: AbortSignal | undefined): AbortSignal {
    if (this.#closing !== undefined)
      throw new AioError('ERR_AIO_CLOSED', 'the leased lock is closed');
    if (signal !== undefined && !(signal instanceof AbortSignal))
      throw new TypeError('signal must be an AbortSignal');
    return signal === undefined
      ? this.#closeController.signal
      : AbortSignal.any([signal, this.#closeController.signal]);
  }

  #closedOr(error: unknown): unknown {
    return this.#closeController.signal.aborted
      ? new AioError('ERR_AIO_CLOSED', 'the leased lock is closed', { cause: error })
      : error;
  }

  /** Runs state store writes of this lock one at a time. */
  #exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(operation, operation);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #withRetry<T>(
    operation: string,
    signal: AbortSignal,
    attempt: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    return retry(() => attempt(signal), {
      ...this.#retry,
      signal,
      logger: this.#logger,
      operation,
    });
  }

  async #attempt(
    durationInMs: number,
    renewalInMs: number | undefined,
    signal: AbortSignal,
  ): Promise<LeaseAcquireResult> {
    const result = await this.#exclusive(async () => {
      const sentAt = performance.now();
      this.#attempts += 1;
      try {
        const response = await this.#withRetry('acquire lease', signal, (s) =>
          this.#store.set(this.#key, this.holderName, {
            condition: 'onlyIfEqualOrNotSet',
            expiresInMs: durationInMs,
            signal: s,
          }),
        );
        if (response.applied) {
          this.#acquired(response.version, sentAt, durationInMs, renewalInMs);
          return { acquired: true, fencingToken: response.version };
        }
        if (this.#held) this.#lose('the lease is held by another holder');
        return { acquired: false };
      } finally {
        this.#attempts -= 1;
        this.#emitChange();
      }
    });
    if (!result.acquired) {
      try {
        await this.#refreshHolder(signal);
      } catch (error) {
        if (signal.aborted) throw error;
        this.#logger.debug({ err: error }, 'reading the lease holder failed');
      }
    }
    return result;
  }

  #acquired(
    version: string,
    sentAt: number,
    durationInMs: number,
    renewalInMs: number | undefined,
  ): void {
    const wasHeld = this.#held;
    this.#stopHolding();
    this.#held = true;
    this.#fencingToken = version;
    this.#seen(this.holderName, parseVersion(version));
    this.#holdUntil(sentAt + durationInMs);
    if (renewalInMs !== undefined) this.#scheduleRenewal(renewalInMs, durationInMs);
    if (!wasHeld) this.#logger.info({ holder: this.holderName }, 'lease acquired');
    this.#emitChange();
  }

  #holdUntil(expiresAt: number): void {
    this.#expiresAt = expiresAt;
    clearTimeout(this.#expiryTimer);
    const check = (): void => {
      if (!this.#held) return;
      const remaining = this.#expiresAt - performance.now();
      if (remaining > 0) {
        this.#expiryTimer = setTimeout(check, remaining);
        this.#expiryTimer.unref();
        return;
      }
      this.#lose('the lease expired before it was renewed');
    };
    this.#expiryTimer = setTimeout(check, Math.max(0, expiresAt - performance.now()));
    this.#expiryTimer.unref();
  }

  #scheduleRenewal(renewalInMs: number, durationInMs: number): void {
    const generation = this.#generation;
    clearTimeout(this.#renewalTimer);
    this.#renewalTimer = setTimeout(() => {
      void this.#renew(generation, renewalInMs, durationInMs);
    }, renewalInMs);
    this.#renewalTimer.unref();
  }

  async #renew(generation: number, renewalInMs: number, durationInMs: number): Promise<void> {
    if (generation !== this.#generation || !this.#held) return;
    const controller = new AbortController();
    this.#renewalController = controller;
    const deadline = setTimeout(
      () => {
        controller.abort(new AioError('ERR_AIO_TIMEOUT', 'the lease expired during its renewal'));
      },
      Math.max(0, this.#expiresAt - performance.now()),
    );
    deadline.unref();
    try {
      await this.#exclusive(async () => {
        if (generation !== this.#generation) return;
        const sentAt = performance.now();
        const response = await this.#withRetry('renew lease', controller.signal, (s) =>
          this.#store.set(this.#key, this.holderName, {
            condition: 'onlyIfEqualOrNotSet',
            expiresInMs: durationInMs,
            signal: s,
          }),
        );
        if (generation !== this.#generation) return;
        if (!response.applied) {
          this.#lose('the lease renewal was not applied: another holder has it');
          this.#refreshHolder(this.#closeController.signal).catch((error: unknown) => {
            this.#logger.debug({ err: error }, 'reading the lease holder failed');
          });
          return;
        }
        this.#fencingToken = response.version;
        this.#seen(this.holderName, parseVersion(response.version));
        this.#holdUntil(sentAt + durationInMs);
        this.#scheduleRenewal(renewalInMs, durationInMs);
        this.#emitChange();
      });
    } catch (error) {
      if (generation === this.#generation) this.#lose('the lease renewal failed', error);
    } finally {
      clearTimeout(deadline);
      if (this.#renewalController === controller) this.#renewalController = undefined;
    }
  }

  /** Forgets the lease locally: no renewal, no token, no expiry timer. */
  #stopHolding(): void {
    this.#generation += 1;
    this.#held = false;
    this.#fencingToken = undefined;
    clearTimeout(this.#renewalTimer);
    clearTimeout(this.#expiryTimer);
    this.#renewalTimer = undefined;
    this.#expiryTimer = undefined;
    this.#renewalController?.abort(new AioError('ERR_AIO_CLOSED', 'the lease is not held'));
    this.#renewalController = undefined;
  }

  #lose(reason: string, error?: unknown): void {
    if (!this.#held) return;
    this.#stopHolding();
    this.#logger.warn({ err: error, holder: this.#holder }, `lease lost: ${reason}`);
    this.#emitChange();
  }

  /** Records a holder seen at a version, unless a newer state is already known. */
  #seen(holder: string | undefined, version: HlcTimestamp | undefined): boolean {
    if (version !== undefined) {
      if (this.#holderVersion !== undefined && compareHlc(version, this.#holderVersion) <= 0)
        return false;
      this.#holderVersion = version;
    }
    this.#holder = holder;
    return true;
  }

  async #refreshHolder(signal: AbortSignal): Promise<void> {
    const before = this.#holderVersion;
    const { value, version } = await this.#withRetry('read lease holder', signal, (s) =>
      this.#store.get(this.#key, { signal: s }),
    );
    if (value === undefined) {
      if (this.#holderVersion === before) this.#seen(undefined, undefined);
    } else {
      this.#seen(lenientUtf8.decode(value), parseVersion(version));
    }
    if (this.#held && this.#holder !== undefined && this.#holder !== this.holderName)
      this.#lose('another holder has the lease');
    this.#emitChange();
  }

  #onNotification(notification: StateStoreKeyNotification): void {
    if (!equalBytes(notification.key, this.#key)) return;
    const version = parseVersion(notification.version);
    if (version === undefined) return;
    if (notification.operation === 'SET') {
      const holder = lenientUtf8.decode(notification.value ?? new Uint8Array(0));
      if (!this.#seen(holder, version)) return;
      if (this.#held && holder !== this.holderName) this.#lose('another holder took the lease');
    } else {
      if (!this.#seen(undefined, version)) return;
      if (this.#held) this.#lose('the lease was deleted or expired');
      for (const wake of [...this.#freeWaiters]) wake();
    }
    this.#emitChange();
  }

  /** A promise resolved the next time the key is deleted or expires. */
  #nextFree(): { readonly promise: Promise<void>; readonly cancel: () => void } {
    let wake!: () => void;
    const promise = new Promise<void>((resolve) => {
      wake = () => {
        this.#freeWaiters.delete(wake);
        resolve();
      };
    });
    this.#freeWaiters.add(wake);
    return {
      promise,
      cancel: () => {
        this.#freeWaiters.delete(wake);
      },
    };
  }

  #emitChange(): void {
    const change: LeasedLockChange = { holder: this.#holder, isHeld: this.#held };
    // our own write seen before its response: wait for the response to tell whether it is ours
    if (!change.isHeld && change.holder === this.holderName && this.#attempts > 0) return;
    if (change.holder === this.#emitted.holder && change.isHeld === this.#emitted.isHeld) return;
    this.#emitted = change;
    for (const listener of [...this.#listeners]) {
      try {
        listener(change);
      } catch (error) {
        this.#logger.warn({ err: error }, 'a lease change listener threw');
      }
    }
  }
}

function checkAcquireOptions(options: LeaseAcquireOptions): {
  durationInMs: number;
  renewalInMs: number | undefined;
} {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('options must be an object');
  const durationInMs = duration(options.durationInMs, 'durationInMs', 10_000) as number;
  const renewalInMs = duration(options.renewalInMs, 'renewalInMs', undefined);
  if (renewalInMs !== undefined && renewalInMs >= durationInMs)
    throw new RangeError(
      `renewalInMs (${renewalInMs}) must be smaller than durationInMs (${durationInMs})`,
    );
  return { durationInMs, renewalInMs };
}

/** Resolves `true` when `freed` resolves, `false` after `ms`; rejects when `signal` aborts. */
function waitUntilFree(freed: Promise<void>, ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      outcome();
    };
    const onAbort = (): void => {
      settle(() => {
        reject(abortError(signal, 'acquire lease'));
      });
    };
    const timer = setTimeout(() => {
      settle(() => {
        resolve(false);
      });
    }, ms);
    timer.unref();
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    void freed.then(() => {
      settle(() => {
        resolve(true);
      });
    });
  });
}

/** Rejects with `ERR_AIO_ABORTED` as soon as `signal` aborts; the listener is removed after. */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(abortError(signal, 'observe lease'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(abortError(signal, 'observe lease'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
