/**
 * `LeaderElectionClient`: leader election between replicas over the state store, as the AIO SDKs
 * do it. The position is a state store key holding the leader's name, taken with
 * `SET positionId candidate NEX PX term` and renewed every renewal period; resigning is
 * `VDEL positionId candidate`.
 *
 * @module
 */
import { ConfigError } from '../../errors.ts';
import { silentLogger, type Logger } from '../../logger.ts';
import type { RetryOptions } from '../../retry.ts';
import { LeasedLock, type LeaseStore } from './leased-lock.ts';

/** Options of {@link LeaderElectionClient}. `positionId` is required; the rest are optional. */
export interface LeaderElectionClientOptions {
  /** The state store key of the leadership position; unique per deployment. Required. */
  readonly positionId: string;
  /** This candidate's name, written into the key while it leads. Default: the MQTT client id. */
  readonly candidateName?: string;
  /** How long a term lasts after each acquisition or renewal, in ms. Default: 10 000. */
  readonly termInMs?: number;
  /**
   * How often the leader renews its term, in ms; smaller than `termInMs`. Default: 90 % of the
   * term (9 000 with the default term).
   */
  readonly renewalInMs?: number;
  /**
   * Retry policy for failed state store requests and contention. Default:
   * {@link defaultLeaseRetryOptions} (5 retries, 4 ms to 200 ms).
   */
  readonly retry?: Omit<RetryOptions, 'signal' | 'logger' | 'operation'>;
  /** Default: silent. */
  readonly logger?: Logger;
}

/** A change of leadership seen by a candidate. */
export interface LeadershipChange {
  /** The current leader's name, `undefined` while the position is vacant. */
  readonly leader: string | undefined;
  /** Whether this candidate leads. */
  readonly isLeader: boolean;
}

/** Receives leadership changes. */
export type LeadershipChangeListener = (change: LeadershipChange) => void;

function term(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number`);
  if (!Number.isSafeInteger(value) || value < 1)
    throw new RangeError(`${name} must be an integer >= 1, received ${value}`);
  return value;
}

/**
 * A candidate for a leadership position.
 *
 * - {@link LeaderElectionClient.campaign} resolves once this candidate leads, then renews the
 *   term every `renewalInMs`. While another candidate leads, it waits for the position to be
 *   deleted or to expire (key notifications, with a poll at a quarter of the term as a fallback).
 * - Leadership is lost when a renewal fails or is not applied, when the term runs out without a
 *   renewal, or when another holder is seen: `isLeader` turns false and the listeners hear it at
 *   once. Campaign again to run for the position.
 * - A leader that stops renewing (killed process, `close()` without `resign()`) loses the
 *   position within one term; a campaigning candidate then takes it.
 * - {@link LeaderElectionClient.fencingToken} is the version of the last acquiring or renewing
 *   `SET`: fence writes with it so that a deposed leader's late writes are refused.
 *
 * @example
 * ```ts
 * import { LeaderElectionClient, StateStoreClient } from '@aio-connector/core';
 * declare const store: StateStoreClient;
 * const election = new LeaderElectionClient(store, { positionId: 'my-connector-leader' });
 * election.onLeadershipChange(({ leader, isLeader }) => console.log(leader, isLeader));
 * await election.campaign({ signal: AbortSignal.timeout(120_000) });
 * await store.set('work', 'done', { fencingToken: election.fencingToken });
 * await election.resign();
 * await election.close();
 * ```
 */
export class LeaderElectionClient {
  readonly positionId: string;
  readonly candidateName: string;
  readonly termInMs: number;
  readonly renewalInMs: number;
  readonly #lock: LeasedLock;

  constructor(store: LeaseStore, options: LeaderElectionClientOptions) {
    if (typeof options !== 'object' || options === null)
      throw new TypeError('options must be an object with a positionId');
    const { positionId } = options;
    if (typeof positionId !== 'string') throw new TypeError('positionId must be a string');
    if (positionId.length === 0) throw new RangeError('positionId must not be empty');
    const termInMs = term(options.termInMs, 'termInMs', 10_000);
    if (termInMs < 2) throw new RangeError(`termInMs must be >= 2, received ${termInMs}`);
    const renewalInMs = term(options.renewalInMs, 'renewalInMs', Math.floor(termInMs * 0.9));
    if (renewalInMs >= termInMs)
      throw new ConfigError(
        `renewalInMs (${renewalInMs}) must be smaller than termInMs (${termInMs})`,
        { source: 'options', field: 'renewalInMs', details: { renewalInMs, termInMs } },
      );
    const logger = (options.logger ?? silentLogger).child({
      component: 'leader-election',
      positionId,
    });
    this.#lock = new LeasedLock(store, positionId, {
      ...(options.candidateName === undefined ? {} : { holderName: options.candidateName }),
      ...(options.retry === undefined ? {} : { retry: options.retry }),
      logger,
    });
    this.positionId = positionId;
    this.candidateName = this.#lock.holderName;
    this.termInMs = termInMs;
    this.renewalInMs = renewalInMs;
  }

  /** Whether this candidate leads now. */
  get isLeader(): boolean {
    return this.#lock.isHeld;
  }

  /** The current leader's name as last seen, or `undefined` when the position is vacant. */
  get leader(): string | undefined {
    return this.#lock.holder;
  }

  /** The fencing token of this candidate's current term, while it leads. */
  get fencingToken(): string | undefined {
    return this.#lock.fencingToken;
  }

  /**
   * Runs for the position: resolves once this candidate leads (at once if it already does).
   * Rejects with `ERR_AIO_ABORTED` when `signal` aborts, `ERR_AIO_CLOSED` when the client is
   * closed, or the last error of a state store request that kept failing.
   *
   * @example
   * ```ts
   * declare const election: import('@aio-connector/core').LeaderElectionClient;
   * await election.campaign({ signal: AbortSignal.timeout(60_000) });
   * console.log(election.isLeader); // true
   * ```
   */
  async campaign(options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    if (typeof options !== 'object' || options === null)
      throw new TypeError('options must be an object');
    if (this.#lock.isHeld) return;
    await this.#lock.acquire({
      durationInMs: this.termInMs,
      renewalInMs: this.renewalInMs,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
  }

  /**
   * Adds a listener called when the leader or this candidate's leadership changes; returns the
   * function that removes it.
   *
   * @example
   * ```ts
   * declare const election: import('@aio-connector/core').LeaderElectionClient;
   * const stop = election.onLeadershipChange(({ leader, isLeader }) => {
   *   if (!isLeader) console.log(`following ${leader ?? 'nobody'}`);
   * });
   * ```
   */
  onLeadershipChange(listener: LeadershipChangeListener): () => void {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    return this.#lock.onChange(({ holder, isHeld }) => {
      listener({ leader: holder, isLeader: isHeld });
    });
  }

  /**
   * Gives up the position if this candidate holds it (`VDEL`), so that another candidate takes it
   * at once; stops renewing. Resolves with whether the position was released.
   *
   * @example
   * ```ts
   * declare const election: import('@aio-connector/core').LeaderElectionClient;
   * await election.resign();
   * ```
   */
  resign(options: { readonly signal?: AbortSignal } = {}): Promise<boolean> {
    return this.#lock.release(options);
  }

  /**
   * Stops renewing and observing; a pending campaign rejects with `ERR_AIO_CLOSED`. Does not
   * resign: the position expires at the end of the term. Safe to call twice.
   *
   * @example
   * ```ts
   * declare const election: import('@aio-connector/core').LeaderElectionClient;
   * if (election.isLeader) await election.resign();
   * await election.close();
   * ```
   */
  close(): Promise<void> {
    return this.#lock.close();
  }

  /** Same as {@link LeaderElectionClient.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
