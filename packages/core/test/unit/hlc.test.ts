import { describe, expect, it } from 'vitest';
import {
  HybridLogicalClock,
  compareHlc,
  encodeHlc,
  isAioError,
  parseHlc,
} from '@aio-connector/core';

describe('HybridLogicalClock', () => {
  it('encodes as %015d:%05d:nodeId and parses back', () => {
    const text = encodeHlc({ timestamp: 1_755_676_800_123, counter: 7, nodeId: 'node-a' });
    expect(text).toBe('001755676800123:00007:node-a');
    expect(parseHlc(text)).toEqual({ timestamp: 1_755_676_800_123, counter: 7, nodeId: 'node-a' });
  });

  it('rejects malformed values as an invalid header naming __ts', () => {
    for (const bad of ['', 'abc', '12:34', '0000000000:xx:n', '1:2:']) {
      try {
        parseHlc(bad);
        expect.unreachable(bad);
      } catch (error) {
        expect(isAioError(error) && error.code).toBe('ERR_AIO_PROTOCOL_INVALID_HEADER');
        expect(error).toMatchObject({ headerName: '__ts', headerValue: bad });
      }
    }
  });

  it('advances the counter when the wall clock stands still and resets it when it moves', () => {
    let now = 1_000;
    const clock = new HybridLogicalClock({ nodeId: 'n', now: () => now });
    expect(clock.updateNow()).toBe('000000000001000:00001:n');
    expect(clock.updateNow()).toBe('000000000001000:00002:n');
    now = 1_005;
    expect(clock.updateNow()).toBe('000000000001005:00000:n');
  });

  it('merges a later remote value and stays ahead of it', () => {
    const now = 1_000;
    const clock = new HybridLogicalClock({ nodeId: 'n', now: () => now });
    clock.update('000000000001500:00004:peer');
    expect(clock.value).toEqual({ timestamp: 1_500, counter: 5, nodeId: 'n' });
    clock.update('000000000001500:00009:peer');
    expect(clock.value.counter).toBe(10);
    clock.update('000000000001200:00050:peer');
    expect(clock.value).toEqual({ timestamp: 1_500, counter: 11, nodeId: 'n' });
    expect(compareHlc(clock.value, parseHlc('000000000001500:00009:peer'))).toBeGreaterThan(0);
  });

  it('refuses a remote value more than the maximum drift ahead of the wall clock', () => {
    const clock = new HybridLogicalClock({ nodeId: 'n', now: () => 0, maxClockDriftInMs: 60_000 });
    expect(() => clock.update('000000000060000:00000:peer')).not.toThrow();
    try {
      clock.update('000000000060001:00000:peer');
      expect.unreachable();
    } catch (error) {
      expect(isAioError(error) && error.code).toBe('ERR_AIO_HLC_CLOCK_DRIFT');
    }
  });

  it('reports counter overflow', () => {
    const clock = new HybridLogicalClock({ nodeId: 'n', now: () => 0 });
    expect(clock.update('000000000000000:99998:peer')).toBe('000000000000000:99999:n');
    expect(() => clock.updateNow()).toThrow(/overflow/);
    expect(() => clock.update('000000000000000:99999:peer')).toThrow(/overflow/);
  });
});
