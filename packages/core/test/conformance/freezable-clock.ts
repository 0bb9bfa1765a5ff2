/**
 * A clock for the METL harness: runs with real time until frozen; while frozen, `now()` stands
 * still and no timer fires; when unfrozen, time resumes from where it stopped and pending timers
 * fire after their remaining delay.
 */
import type { TimeSource } from '../../src/protocol/time-source.ts';

interface Timer {
  readonly due: number;
  readonly callback: () => void;
  real: ReturnType<typeof setTimeout> | undefined;
}

export class FreezableClock implements TimeSource {
  #offset = 0;
  #frozenAt: number | undefined;
  readonly #timers = new Map<number, Timer>();
  #nextId = 1;

  now(): number {
    return this.#frozenAt ?? Date.now() - this.#offset;
  }

  get frozen(): boolean {
    return this.#frozenAt !== undefined;
  }

  setTimeout(callback: () => void, ms: number): number {
    const id = this.#nextId++;
    const timer: Timer = { due: this.now() + Math.max(0, ms), callback, real: undefined };
    this.#timers.set(id, timer);
    if (!this.frozen) this.#arm(id, timer);
    return id;
  }

  clearTimeout(handle: unknown): void {
    const timer = this.#timers.get(handle as number);
    if (timer === undefined) return;
    clearTimeout(timer.real);
    this.#timers.delete(handle as number);
  }

  freeze(): void {
    if (this.frozen) return;
    this.#frozenAt = this.now();
    for (const timer of this.#timers.values()) {
      clearTimeout(timer.real);
      timer.real = undefined;
    }
  }

  unfreeze(): void {
    const frozenAt = this.#frozenAt;
    if (frozenAt === undefined) return;
    this.#offset = Date.now() - frozenAt;
    this.#frozenAt = undefined;
    for (const [id, timer] of this.#timers) this.#arm(id, timer);
  }

  /** Waits `ms` of this clock's time. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }

  dispose(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer.real);
    this.#timers.clear();
  }

  #arm(id: number, timer: Timer): void {
    timer.real = setTimeout(
      () => {
        if (this.#timers.get(id) !== timer) return;
        this.#timers.delete(id);
        timer.callback();
      },
      Math.max(0, timer.due - this.now()),
    );
    timer.real.unref();
  }
}
