/**
 * A bounded FIFO with an explicit overflow policy, used by the forwarder to hold messages while the
 * broker is away. Items are removed only when their consumer says they are done (acknowledged), so
 * the bound covers everything not yet acknowledged.
 *
 * @module
 */
import { AioError, abortError } from '../errors.ts';

/**
 * What happens when an item arrives and the queue is full:
 * - `drop-oldest`: the oldest unsent item is dropped to make room (fresh telemetry wins);
 * - `drop-newest`: the new item is refused;
 * - `block`: the producer waits for room (backpressure).
 */
export type OverflowPolicy = 'drop-oldest' | 'drop-newest' | 'block';

/** An entry of the queue. */
export interface QueueEntry<T> {
  readonly value: T;
  /** Set once a consumer took the entry; taken entries are never dropped. */
  taken: boolean;
}

/** Why an item left the queue without being delivered. */
export class QueueDropError extends AioError {
  constructor(reason: 'overflow' | 'closed', capacity: number) {
    super(
      reason === 'overflow' ? 'ERR_AIO_QUEUE_OVERFLOW' : 'ERR_AIO_CLOSED',
      reason === 'overflow'
        ? `forwarding queue is full (${capacity} messages): message dropped`
        : 'forwarding queue was closed before the message was delivered',
      { details: { capacity } },
    );
    this.name = 'QueueDropError';
  }
}

/**
 * A bounded FIFO.
 *
 * @example
 * ```ts
 * // used by the forwarder
 * const queue = new BoundedQueue<string>({ capacity: 2, overflow: 'drop-oldest', onDrop: (v) => console.log('dropped', v) });
 * await queue.push('a');
 * const entry = await queue.take();
 * queue.done(entry);
 * ```
 */
export class BoundedQueue<T> {
  readonly capacity: number;
  readonly overflow: OverflowPolicy;
  readonly #entries: QueueEntry<T>[] = [];
  readonly #onDrop: (value: T, error: QueueDropError) => void;
  #takers: ((entry: QueueEntry<T> | undefined) => void)[] = [];
  #spaceWaiters: (() => void)[] = [];
  #closed = false;
  #dropped = 0;

  constructor(options: {
    readonly capacity: number;
    readonly overflow?: OverflowPolicy;
    readonly onDrop?: (value: T, error: QueueDropError) => void;
  }) {
    const { capacity } = options;
    if (typeof capacity !== 'number' || Number.isNaN(capacity))
      throw new TypeError('capacity must be a number');
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`capacity must be an integer >= 1, received ${capacity}`);
    const overflow = options.overflow ?? 'drop-oldest';
    if (!['drop-oldest', 'drop-newest', 'block'].includes(overflow))
      throw new RangeError(
        `overflow must be drop-oldest, drop-newest or block, received ${overflow as string}`,
      );
    this.capacity = capacity;
    this.overflow = overflow;
    this.#onDrop = options.onDrop ?? (() => undefined);
  }

  /** Items held (taken or not) — everything not yet done. */
  get size(): number {
    return this.#entries.length;
  }

  /** Items dropped since creation. */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Adds an item. With `block`, waits for room (abortable). With `drop-newest`, a full queue drops
   * the new item (reported through `onDrop`, and the returned promise resolves to `false`).
   * Resolves `true` when the item was queued.
   */
  async push(value: T, options: { readonly signal?: AbortSignal } = {}): Promise<boolean> {
    if (this.#closed) {
      this.#drop(value, new QueueDropError('closed', this.capacity));
      return false;
    }
    while (this.#entries.length >= this.capacity) {
      if (this.overflow === 'drop-newest') {
        this.#drop(value, new QueueDropError('overflow', this.capacity));
        return false;
      }
      if (this.overflow === 'drop-oldest') {
        const index = this.#entries.findIndex((entry) => !entry.taken);
        if (index === -1) {
          // everything is in flight: nothing can be dropped, so the new item is
          this.#drop(value, new QueueDropError('overflow', this.capacity));
          return false;
        }
        const [oldest] = this.#entries.splice(index, 1);
        this.#drop((oldest as QueueEntry<T>).value, new QueueDropError('overflow', this.capacity));
        continue;
      }
      await this.#waitForSpace(options.signal);
      if (this.#closed) {
        this.#drop(value, new QueueDropError('closed', this.capacity));
        return false;
      }
    }
    const entry: QueueEntry<T> = { value, taken: false };
    this.#entries.push(entry);
    this.#wakeTaker();
    return true;
  }

  /**
   * Takes the oldest item not yet taken; it stays in the queue (and counts against the capacity)
   * until {@link done} or {@link release}. Resolves `undefined` once the queue is closed and empty.
   */
  take(options: { readonly signal?: AbortSignal } = {}): Promise<QueueEntry<T> | undefined> {
    const entry = this.#entries.find((e) => !e.taken);
    if (entry) {
      entry.taken = true;
      return Promise.resolve(entry);
    }
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((resolve, reject) => {
      const { signal } = options;
      const taker = (next: QueueEntry<T> | undefined): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(next);
      };
      const onAbort = (): void => {
        this.#takers = this.#takers.filter((t) => t !== taker);
        reject(abortError(signal as AbortSignal, 'take'));
      };
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#takers.push(taker);
    });
  }

  /** Removes a taken item for good (delivered). */
  done(entry: QueueEntry<T>): void {
    const index = this.#entries.indexOf(entry);
    if (index === -1) return;
    this.#entries.splice(index, 1);
    this.#wakeSpace();
  }

  /** Puts a taken item back (delivery failed; it will be taken again, in its original order). */
  release(entry: QueueEntry<T>): void {
    if (!this.#entries.includes(entry)) return;
    entry.taken = false;
    this.#wakeTaker();
  }

  /** Items not taken yet, oldest first. */
  pending(): T[] {
    return this.#entries.filter((e) => !e.taken).map((e) => e.value);
  }

  /** Whether there is room for one more item. */
  hasRoom(): boolean {
    return this.#entries.length < this.capacity;
  }

  /**
   * Stops accepting items. Waiting takers get `undefined` once the queue is drained; with
   * `discard`, every queued item not taken is dropped now (reported through `onDrop`).
   */
  close(options: { readonly discard?: boolean } = {}): void {
    this.#closed = true;
    if (options.discard) {
      for (const entry of this.#entries.filter((e) => !e.taken)) {
        this.#entries.splice(this.#entries.indexOf(entry), 1);
        this.#drop(entry.value, new QueueDropError('closed', this.capacity));
      }
    }
    for (const waiter of this.#spaceWaiters.splice(0)) waiter();
    if (!this.#entries.some((e) => !e.taken))
      for (const taker of this.#takers.splice(0)) taker(undefined);
  }

  #drop(value: T, error: QueueDropError): void {
    this.#dropped += 1;
    this.#onDrop(value, error);
  }

  #wakeTaker(): void {
    while (this.#takers.length > 0) {
      const entry = this.#entries.find((e) => !e.taken);
      if (!entry) return;
      entry.taken = true;
      (this.#takers.shift() as (entry: QueueEntry<T> | undefined) => void)(entry);
    }
  }

  #wakeSpace(): void {
    const waiter = this.#spaceWaiters.shift();
    waiter?.();
    if (this.#closed && !this.#entries.some((e) => !e.taken))
      for (const taker of this.#takers.splice(0)) taker(undefined);
  }

  #waitForSpace(signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiter = (): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        this.#spaceWaiters = this.#spaceWaiters.filter((w) => w !== waiter);
        reject(abortError(signal as AbortSignal, 'push'));
      };
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#spaceWaiters.push(waiter);
    });
  }
}
