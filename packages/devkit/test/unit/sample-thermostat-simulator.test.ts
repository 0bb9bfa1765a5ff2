import { describe, expect, it } from 'vitest';
import { ThermostatSimulator } from '@aio-connector/devkit';

/** A seeded random source (mulberry32), so runs are reproducible. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('ThermostatSimulator', () => {
  it('starts within the sample band 68–77 °F with 2 decimals', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const { currentTemperature, desiredTemperature, humidity, power, status } =
        new ThermostatSimulator({ random: seeded(seed) }).snapshot();
      for (const value of [currentTemperature, desiredTemperature]) {
        expect(value).toBeGreaterThanOrEqual(68);
        expect(value).toBeLessThanOrEqual(77);
        expect(Math.round(value * 100) / 100).toBe(value);
      }
      expect(humidity).toBeGreaterThanOrEqual(30);
      expect(humidity).toBeLessThanOrEqual(70);
      expect(power).toBe('on');
      expect(status).toBe(desiredTemperature > currentTemperature ? 'heating' : 'cooling');
    }
  });

  it('is deterministic for the same random source', () => {
    const a = new ThermostatSimulator({ random: seeded(42) });
    const b = new ThermostatSimulator({ random: seeded(42) });
    expect(a.step(25)).toEqual(b.step(25));
    const c = new ThermostatSimulator({ random: seeded(43) });
    expect(c.step(25)).not.toEqual(a.snapshot());
  });

  it('drifts 20 % of the way towards the set point per step (no noise at random = 0.5)', () => {
    const thermostat = new ThermostatSimulator({
      random: () => 0.5,
      desiredTemperature: 76,
      currentTemperature: 68,
    });
    expect(thermostat.status).toBe('heating');
    expect(thermostat.step().currentTemperature).toBe(69.6); // 68 + 8 * 0.2
    expect(thermostat.step().currentTemperature).toBe(70.88); // 69.6 + 6.4 * 0.2
    const later = thermostat.step(40);
    expect(later.currentTemperature).toBeCloseTo(76, 1);
    expect(later.steps).toBe(42);
  });

  it('stays in the 68–77 band over many noisy steps with default set points', () => {
    const thermostat = new ThermostatSimulator({ random: seeded(7) });
    for (let i = 0; i < 500; i++) {
      const { currentTemperature, humidity } = thermostat.step();
      expect(currentTemperature).toBeGreaterThanOrEqual(68);
      expect(currentTemperature).toBeLessThanOrEqual(77);
      expect(humidity).toBeGreaterThanOrEqual(30);
      expect(humidity).toBeLessThanOrEqual(70);
    }
  });

  it('follows a set point outside the band and drifts to room temperature when off', () => {
    const thermostat = new ThermostatSimulator({
      random: () => 0.5,
      desiredTemperature: 70,
      currentTemperature: 70,
    });
    thermostat.setDesiredTemperature(85);
    expect(thermostat.step(60).currentTemperature).toBeCloseTo(85, 1);
    thermostat.setPower('off');
    expect(thermostat.status).toBe('off');
    expect(thermostat.step(60).currentTemperature).toBeCloseTo(76, 1);
    thermostat.setPower('on');
    expect(thermostat.status).toBe('heating');
  });

  it('advance() runs one step per stepInMs of clock time, at most 1000', () => {
    let time = 1_000_000;
    const thermostat = new ThermostatSimulator({
      random: () => 0.5,
      now: () => new Date(time),
      stepInMs: 1000,
      desiredTemperature: 72,
      currentTemperature: 70,
    });
    expect(thermostat.advance()).toBe(0);
    time += 999;
    expect(thermostat.advance()).toBe(0);
    time += 1;
    expect(thermostat.advance()).toBe(1);
    time += 2500;
    expect(thermostat.advance()).toBe(2);
    time += 500; // the remaining half step counts
    expect(thermostat.advance()).toBe(1);
    expect(thermostat.steps).toBe(4);
    time += 10_000_000;
    expect(thermostat.advance()).toBe(1000);
    time -= 5000; // a clock going back runs nothing
    expect(thermostat.advance()).toBe(0);
  });

  it('step() restarts the advance() time base', () => {
    let time = 0;
    const thermostat = new ThermostatSimulator({ now: () => new Date(time), stepInMs: 100 });
    time = 150;
    thermostat.step();
    time = 240;
    expect(thermostat.advance()).toBe(0);
    time = 250;
    expect(thermostat.advance()).toBe(1);
  });

  it('rejects invalid options and values', () => {
    expect(() => new ThermostatSimulator({ stepInMs: 0 })).toThrow(RangeError);
    expect(() => new ThermostatSimulator({ stepInMs: 'x' as unknown as number })).toThrow(
      TypeError,
    );
    expect(() => new ThermostatSimulator({ random: 1 as unknown as () => number })).toThrow(
      TypeError,
    );
    expect(() => new ThermostatSimulator({ desiredTemperature: 120 })).toThrow(RangeError);
    expect(() => new ThermostatSimulator({ power: 'maybe' as 'on' })).toThrow(TypeError);
    const thermostat = new ThermostatSimulator();
    expect(() => {
      thermostat.setDesiredTemperature(Number.NaN);
    }).toThrow(TypeError);
    expect(() => {
      thermostat.setDesiredTemperature(49.9);
    }).toThrow(RangeError);
    expect(() => thermostat.step(1.5)).toThrow(RangeError);
    expect(() => thermostat.step(-1)).toThrow(RangeError);
  });
});
