import { describe, expect, it } from 'vitest';
import { isAioError } from '@aio-connector/core';
import { signalOf, signalParameters } from '../src/memory-connector.ts';

describe('the memory connector signals', () => {
  const parameters = signalParameters({ amplitude: 10, offset: 20, periodInSeconds: 4 });

  it('computes each signal from the time and the sample count', () => {
    expect(signalOf('sine', parameters)(1000, 0)).toBe(30);
    expect(signalOf('sine', parameters)(3000, 0)).toBe(10);
    expect(signalOf('sawtooth', parameters)(2000, 0)).toBe(25);
    expect(signalOf('counter', parameters)(0, 7)).toBe(7);
    expect(signalOf('constant:-2.5', parameters)(0, 0)).toBe(-2.5);
    const random = signalOf('random', parameters)(0, 0);
    expect(random).toBeGreaterThanOrEqual(20);
    expect(random).toBeLessThan(30);
  });

  it('uses defaults and rejects bad settings and unknown signals', () => {
    expect(signalParameters({})).toEqual({ amplitude: 10, offset: 20, periodInSeconds: 60 });
    for (const attempt of [
      () => signalParameters({ amplitude: 'big' }),
      () => signalParameters({ periodInSeconds: 0 }),
      () => signalOf('square', parameters),
      () => signalOf(undefined, parameters),
    ]) {
      let error: unknown;
      try {
        attempt();
      } catch (caught) {
        error = caught;
      }
      expect(isAioError(error) && error.code).toBe('ERR_AIO_CONFIG');
    }
  });
});
