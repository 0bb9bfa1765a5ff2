import { describe, expect, it } from 'vitest';
import { OrderedAckQueue } from '../../src/mqtt/ordered-ack-queue.ts';

describe('OrderedAckQueue', () => {
  it('acknowledges in receive order whatever order the handlers finish in', () => {
    const sent: number[] = [];
    const queue = new OrderedAckQueue((id) => sent.push(id));
    const done = [11, 12, 13, 14].map((id) => queue.add(id));
    done[3]!();
    done[1]!();
    expect(sent).toEqual([]);
    done[0]!();
    expect(sent).toEqual([11, 12]);
    done[2]!();
    expect(sent).toEqual([11, 12, 13, 14]);
    expect(queue.size).toBe(0);
  });

  it('sends at once when nothing is pending before the message', () => {
    const sent: number[] = [];
    const queue = new OrderedAckQueue((id) => sent.push(id));
    queue.add(1)();
    queue.add(2)();
    expect(sent).toEqual([1, 2]);
  });

  it('ignores a second completion of the same message', () => {
    const sent: number[] = [];
    const queue = new OrderedAckQueue((id) => sent.push(id));
    const first = queue.add(1);
    const second = queue.add(2);
    second();
    second();
    first();
    first();
    expect(sent).toEqual([1, 2]);
  });

  it('abandons pending acknowledgements on clear, and old completions become no-ops', () => {
    const sent: number[] = [];
    const queue = new OrderedAckQueue((id) => sent.push(id));
    const first = queue.add(1);
    const second = queue.add(2);
    second();
    queue.clear();
    expect(queue.size).toBe(0);
    first();
    expect(sent).toEqual([]);
    // the broker redelivers after the reconnect, possibly with the same packet identifiers
    const again = queue.add(1);
    again();
    expect(sent).toEqual([1]);
  });

  it('stops flushing when the send function clears the queue', () => {
    const sent: number[] = [];
    const queue: OrderedAckQueue = new OrderedAckQueue((id) => {
      sent.push(id);
      queue.clear();
    });
    const done = [1, 2, 3].map((id) => queue.add(id));
    done[1]!();
    done[2]!();
    done[0]!();
    expect(sent).toEqual([1]);
  });

  it('rejects a send that is not a function', () => {
    expect(() => new OrderedAckQueue(1 as unknown as () => void)).toThrow(TypeError);
  });
});
