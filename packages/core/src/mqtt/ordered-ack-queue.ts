/**
 * Orders the acknowledgements of received QoS 1 messages: a PUBACK goes out only when every message
 * received before it was acknowledged too, whatever order the handlers finish in.
 *
 * @module
 */

/**
 * A queue of received messages waiting for their handlers. Each {@link OrderedAckQueue.add} returns
 * a function that marks the message handled; acknowledgements are sent, in receive order, for the
 * longest handled prefix of the queue. {@link OrderedAckQueue.clear} abandons everything pending (on
 * a disconnection the broker redelivers unacknowledged messages), and the functions returned before
 * it become no-ops.
 *
 * @example
 * ```ts
 * const sent: number[] = [];
 * const queue = new OrderedAckQueue((id) => sent.push(id));
 * const first = queue.add(1);
 * const second = queue.add(2);
 * second(); // nothing sent yet: 1 is still pending
 * first(); // sends 1, then 2
 * ```
 */
export class OrderedAckQueue {
  readonly #send: (messageId: number) => void;
  #entries: { readonly messageId: number; done: boolean }[] = [];
  #generation = 0;

  /** @param send Writes the acknowledgement of `messageId`; called in receive order. */
  constructor(send: (messageId: number) => void) {
    if (typeof send !== 'function') throw new TypeError('send must be a function');
    this.#send = send;
  }

  /** Messages received and not yet acknowledged. */
  get size(): number {
    return this.#entries.length;
  }

  /** Adds a received message; returns the function that marks it handled (idempotent). */
  add(messageId: number): () => void {
    const entry = { messageId, done: false };
    this.#entries.push(entry);
    const generation = this.#generation;
    return () => {
      if (generation !== this.#generation || entry.done) return;
      entry.done = true;
      this.#flush();
    };
  }

  /** Abandons every pending acknowledgement. */
  clear(): void {
    this.#generation++;
    this.#entries = [];
  }

  #flush(): void {
    const generation = this.#generation;
    while (this.#entries.length > 0 && this.#entries[0]?.done === true) {
      const entry = this.#entries.shift();
      if (entry !== undefined) this.#send(entry.messageId);
      // `send` may have cleared the queue (a write on a closing connection).
      if (generation !== this.#generation) return;
    }
  }
}
