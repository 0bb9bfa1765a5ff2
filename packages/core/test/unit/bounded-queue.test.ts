import { describe, expect, it } from 'vitest';
import { BoundedQueue, type QueueDropError } from '../../src/connector/bounded-queue.ts';

function recorder<T>() {
  const drops: { value: T; code: string }[] = [];
  return {
    drops,
    onDrop: (value: T, error: QueueDropError) => drops.push({ value, code: error.code }),
  };
}

describe('BoundedQueue', () => {
  it('keeps FIFO order and holds taken items until done', async () => {
    const q = new BoundedQueue<number>({ capacity: 3 });
    await q.push(1);
    await q.push(2);
    const a = await q.take();
    expect(a?.value).toBe(1);
    expect(q.size).toBe(2);
    q.release(a!);
    expect((await q.take())?.value).toBe(1); // released items come back in order
    q.done(a!);
    expect(q.size).toBe(1);
    expect((await q.take())?.value).toBe(2);
  });

  it('drop-oldest drops the oldest item not yet taken', async () => {
    const r = recorder<number>();
    const q = new BoundedQueue<number>({ capacity: 2, overflow: 'drop-oldest', onDrop: r.onDrop });
    await q.push(1);
    await q.push(2);
    const inFlight = await q.take(); // 1 is in flight: it must not be dropped
    expect(await q.push(3)).toBe(true);
    expect(r.drops).toEqual([{ value: 2, code: 'ERR_AIO_QUEUE_OVERFLOW' }]);
    expect(q.pending()).toEqual([3]);
    expect(await q.push(4)).toBe(true);
    expect(r.drops.map((d) => d.value)).toEqual([2, 3]);
    q.done(inFlight!);
    expect(q.dropped).toBe(2);
  });

  it('drop-oldest refuses the new item when everything is in flight', async () => {
    const r = recorder<number>();
    const q = new BoundedQueue<number>({ capacity: 1, overflow: 'drop-oldest', onDrop: r.onDrop });
    await q.push(1);
    await q.take();
    expect(await q.push(2)).toBe(false);
    expect(r.drops).toEqual([{ value: 2, code: 'ERR_AIO_QUEUE_OVERFLOW' }]);
  });

  it('drop-newest refuses new items when full', async () => {
    const r = recorder<number>();
    const q = new BoundedQueue<number>({ capacity: 1, overflow: 'drop-newest', onDrop: r.onDrop });
    expect(await q.push(1)).toBe(true);
    expect(await q.push(2)).toBe(false);
    expect(q.pending()).toEqual([1]);
    expect(r.drops).toEqual([{ value: 2, code: 'ERR_AIO_QUEUE_OVERFLOW' }]);
  });

  it('block makes the producer wait for room, abortably', async () => {
    const q = new BoundedQueue<number>({ capacity: 1, overflow: 'block' });
    await q.push(1);
    let pushed = false;
    const waiting = q.push(2).then((ok) => (pushed = ok));
    await Promise.resolve();
    expect(pushed).toBe(false);
    const entry = await q.take();
    q.done(entry!);
    await waiting;
    expect(pushed).toBe(true);
    expect(q.pending()).toEqual([2]);

    const controller = new AbortController();
    const aborted = q.push(3, { signal: controller.signal });
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ERR_AIO_ABORTED' });
    expect(q.pending()).toEqual([2]);
  });

  it('a waiting taker receives the next item, and undefined after close', async () => {
    const q = new BoundedQueue<string>({ capacity: 2 });
    const next = q.take();
    await q.push('x');
    expect((await next)?.value).toBe('x');
    const after = q.take();
    q.close();
    expect(await after).toBeUndefined();
  });

  it('close with discard drops what is not in flight', async () => {
    const r = recorder<string>();
    const q = new BoundedQueue<string>({ capacity: 3, onDrop: r.onDrop });
    await q.push('a');
    await q.push('b');
    await q.take();
    q.close({ discard: true });
    expect(r.drops).toEqual([{ value: 'b', code: 'ERR_AIO_CLOSED' }]);
    expect(await q.push('c')).toBe(false);
  });

  it('validates options', () => {
    expect(() => new BoundedQueue({ capacity: 0 })).toThrow(RangeError);
    expect(() => new BoundedQueue({ capacity: 'x' as unknown as number })).toThrow(TypeError);
    expect(() => new BoundedQueue({ capacity: 1, overflow: 'spill' as 'block' })).toThrow(
      RangeError,
    );
  });
});
