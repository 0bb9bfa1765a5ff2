import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runPeriodically } from '../../src/connector/periodic-timer.ts';

describe('runPeriodically', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const clock = () => Date.now();

  it('ticks on a fixed grid without cumulative drift', async () => {
    const controller = new AbortController();
    const starts: number[] = [];
    const t0 = Date.now();
    const done = runPeriodically(
      async () => {
        starts.push(Date.now() - t0);
        await new Promise((r) => setTimeout(r, 30)); // each tick takes 30 ms of a 100 ms slot
      },
      { intervalInMs: 100, initialDelayInMs: 0, signal: controller.signal, now: clock },
    );
    await vi.advanceTimersByTimeAsync(1_050);
    controller.abort();
    await vi.runAllTimersAsync();
    await done;
    expect(starts).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
  });

  it('never overlaps a slow tick and skips the slots it covered', async () => {
    const controller = new AbortController();
    const starts: number[] = [];
    const skipped: number[] = [];
    let running = 0;
    let maxRunning = 0;
    const t0 = Date.now();
    const done = runPeriodically(
      async ({ tick, skippedSlots }) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        starts.push(Date.now() - t0);
        skipped.push(skippedSlots);
        await new Promise((r) => setTimeout(r, tick === 2 ? 250 : 10)); // tick 2 overruns 2.5 slots
        running--;
      },
      { intervalInMs: 100, initialDelayInMs: 0, signal: controller.signal, now: clock },
    );
    await vi.advanceTimersByTimeAsync(650);
    controller.abort();
    await vi.runAllTimersAsync();
    await done;
    expect(maxRunning).toBe(1);
    expect(starts).toEqual([0, 100, 400, 500, 600]);
    expect(skipped).toEqual([0, 0, 2, 0, 0]);
  });

  it('spreads the first tick with a random start offset below the interval', async () => {
    const controller = new AbortController();
    const starts: number[] = [];
    const t0 = Date.now();
    const done = runPeriodically(
      async () => {
        starts.push(Date.now() - t0);
      },
      { intervalInMs: 1_000, signal: controller.signal, now: clock, random: () => 0.42 },
    );
    await vi.advanceTimersByTimeAsync(2_500);
    controller.abort();
    await done;
    expect(starts).toEqual([420, 1420, 2420]);
  });

  it('stops on abort and waits for the in-flight tick', async () => {
    const controller = new AbortController();
    let finished = false;
    const done = runPeriodically(
      async () => {
        controller.abort();
        await new Promise((r) => setTimeout(r, 50));
        finished = true;
      },
      { intervalInMs: 10, initialDelayInMs: 0, signal: controller.signal, now: clock },
    );
    await vi.advanceTimersByTimeAsync(100);
    await done;
    expect(finished).toBe(true);
  });

  it('validates the interval', async () => {
    const signal = new AbortController().signal;
    await expect(
      runPeriodically(async () => {}, { intervalInMs: 0, signal }),
    ).rejects.toBeInstanceOf(RangeError);
    await expect(
      runPeriodically(async () => {}, { intervalInMs: 'x' as unknown as number, signal }),
    ).rejects.toBeInstanceOf(TypeError);
  });
});
