/**
 * The simulated thermostat behind the sample servers: a current temperature that drifts towards
 * the desired one while the power is on (and towards the room temperature while it is off), with a
 * little noise, and an ambient humidity. Deterministic when `random` and `now` are injected.
 *
 * @module
 */

/** The power state of the simulated thermostat. */
export type ThermostatPower = 'on' | 'off';

/**
 * What the thermostat is doing: `heating` when the desired temperature is above the current one,
 * `cooling` otherwise, `off` when the power is off.
 */
export type ThermostatStatus = 'heating' | 'cooling' | 'off';

/** A snapshot of the simulated thermostat. Temperatures in °F, rounded to 2 decimals. */
export interface ThermostatReading {
  /** The power state. */
  readonly power: ThermostatPower;
  /** What the thermostat is doing. */
  readonly status: ThermostatStatus;
  /** The measured temperature, °F. */
  readonly currentTemperature: number;
  /** The set point, °F. */
  readonly desiredTemperature: number;
  /** The relative humidity, percent (30–70). */
  readonly humidity: number;
  /** How many simulation steps have run. */
  readonly steps: number;
}

/** Options of {@link ThermostatSimulator}. Every field is optional. */
export interface ThermostatSimulatorOptions {
  /** The random source, returning numbers in [0, 1). Default: `Math.random`. */
  readonly random?: () => number;
  /** The clock used by {@link ThermostatSimulator.advance}. Default: `() => new Date()`. */
  readonly now?: () => Date;
  /** Simulated time per step for {@link ThermostatSimulator.advance}, in ms. Default: 1000. */
  readonly stepInMs?: number;
  /** The initial set point, °F, in [50, 90]. Default: random in [68, 77]. */
  readonly desiredTemperature?: number;
  /** The initial measured temperature, °F, in [50, 90]. Default: random in [68, 77]. */
  readonly currentTemperature?: number;
  /** The initial power state. Default: `'on'`. */
  readonly power?: ThermostatPower;
}

/** Limits of the simulation, °F and percent. */
const limits = {
  /** The normal band of the measured temperature (the official sample's 68–77 °F). */
  low: 68,
  high: 77,
  /** Set points accepted. */
  minDesired: 50,
  maxDesired: 90,
  /** Where the temperature goes while the power is off. */
  room: 76,
  minHumidity: 30,
  maxHumidity: 70,
} as const;

/** Fraction of the gap to the target closed per step. */
const drift = 0.2;
/** Peak-to-peak noise per step, °F. */
const temperatureNoise = 0.5;
/** Peak-to-peak humidity change per step, percent. */
const humidityNoise = 2;
/** Steps {@link ThermostatSimulator.advance} runs at most at once. */
const maxCatchUpSteps = 1000;

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

function checkTemperature(name: string, value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value))
    throw new TypeError(`${name} must be a number, received ${typeof value}`);
  if (!(value >= limits.minDesired && value <= limits.maxDesired))
    throw new RangeError(
      `${name} must be between ${limits.minDesired} and ${limits.maxDesired} °F, received ${value}`,
    );
  return value;
}

function checkPower(name: string, value: unknown): ThermostatPower {
  if (value !== 'on' && value !== 'off')
    throw new TypeError(`${name} must be 'on' or 'off', received ${String(value)}`);
  return value;
}

/**
 * A simulated thermostat. Each {@link ThermostatSimulator.step} moves the measured temperature 20 %
 * of the way to its target (the set point while the power is on, a room temperature of 76 °F while
 * it is off) plus up to ±0.25 °F of noise, and keeps it within 68–77 °F, widened to include the set
 * point when that lies outside. With the default set points the measured temperature therefore
 * stays in the official sample's 68–77 °F band.
 *
 * @example
 * ```ts
 * import { ThermostatSimulator } from '@aio-connector/devkit';
 * const thermostat = new ThermostatSimulator({ desiredTemperature: 72, currentTemperature: 68 });
 * thermostat.step(10);
 * thermostat.snapshot(); // { power: 'on', status: 'heating', currentTemperature: 71.6, ... }
 * ```
 */
export class ThermostatSimulator {
  readonly #random: () => number;
  readonly #now: () => Date;
  readonly #stepInMs: number;
  #power: ThermostatPower;
  #current: number;
  #desired: number;
  #humidity: number;
  #steps = 0;
  #lastStepAt: number;

  constructor(options: ThermostatSimulatorOptions = {}) {
    if (typeof options !== 'object' || options === null)
      throw new TypeError(`options must be an object, received ${typeof options}`);
    const { random = Math.random, now = () => new Date(), stepInMs = 1000 } = options;
    if (typeof random !== 'function')
      throw new TypeError(`random must be a function, received ${typeof random}`);
    if (typeof now !== 'function')
      throw new TypeError(`now must be a function, received ${typeof now}`);
    if (typeof stepInMs !== 'number' || Number.isNaN(stepInMs))
      throw new TypeError(`stepInMs must be a number, received ${typeof stepInMs}`);
    if (!(stepInMs >= 1 && stepInMs <= 86_400_000))
      throw new RangeError(`stepInMs must be between 1 and 86400000, received ${stepInMs}`);
    this.#random = random;
    this.#now = now;
    this.#stepInMs = stepInMs;
    this.#desired =
      options.desiredTemperature === undefined
        ? this.#uniform(limits.low, limits.high)
        : round2(checkTemperature('desiredTemperature', options.desiredTemperature));
    this.#current =
      options.currentTemperature === undefined
        ? this.#uniform(limits.low, limits.high)
        : round2(checkTemperature('currentTemperature', options.currentTemperature));
    this.#humidity = this.#uniform(40, 60);
    this.#power = options.power === undefined ? 'on' : checkPower('power', options.power);
    this.#lastStepAt = this.#clock();
  }

  /** The power state. */
  get power(): ThermostatPower {
    return this.#power;
  }

  /** The measured temperature, °F. */
  get currentTemperature(): number {
    return this.#current;
  }

  /** The set point, °F. */
  get desiredTemperature(): number {
    return this.#desired;
  }

  /** The relative humidity, percent. */
  get humidity(): number {
    return this.#humidity;
  }

  /** What the thermostat is doing. */
  get status(): ThermostatStatus {
    if (this.#power === 'off') return 'off';
    return this.#desired > this.#current ? 'heating' : 'cooling';
  }

  /** How many simulation steps have run. */
  get steps(): number {
    return this.#steps;
  }

  /**
   * A frozen snapshot of the thermostat.
   *
   * @example
   * ```ts
   * import { ThermostatSimulator } from '@aio-connector/devkit';
   * const { currentTemperature, desiredTemperature } = new ThermostatSimulator().snapshot();
   * ```
   */
  snapshot(): ThermostatReading {
    return Object.freeze({
      power: this.#power,
      status: this.status,
      currentTemperature: this.#current,
      desiredTemperature: this.#desired,
      humidity: this.#humidity,
      steps: this.#steps,
    });
  }

  /**
   * Changes the set point. Throws a `TypeError` for a non-number and a `RangeError` outside
   * [50, 90] °F.
   *
   * @example
   * ```ts
   * import { ThermostatSimulator } from '@aio-connector/devkit';
   * new ThermostatSimulator().setDesiredTemperature(72.5);
   * ```
   */
  setDesiredTemperature(value: number): void {
    this.#desired = round2(checkTemperature('desiredTemperature', value));
  }

  /**
   * Turns the thermostat on or off.
   *
   * @example
   * ```ts
   * import { ThermostatSimulator } from '@aio-connector/devkit';
   * new ThermostatSimulator().setPower('off');
   * ```
   */
  setPower(power: ThermostatPower): void {
    this.#power = checkPower('power', power);
  }

  /**
   * Runs `count` simulation steps now and returns the new snapshot. The time base of
   * {@link ThermostatSimulator.advance} restarts from now.
   *
   * @example
   * ```ts
   * import { ThermostatSimulator } from '@aio-connector/devkit';
   * const reading = new ThermostatSimulator().step();
   * ```
   */
  step(count = 1): ThermostatReading {
    if (typeof count !== 'number' || Number.isNaN(count))
      throw new TypeError(`count must be a number, received ${typeof count}`);
    if (!Number.isInteger(count) || count < 0 || count > maxCatchUpSteps)
      throw new RangeError(
        `count must be an integer in [0, ${maxCatchUpSteps}], received ${count}`,
      );
    for (let i = 0; i < count; i++) this.#stepOnce();
    this.#lastStepAt = this.#clock();
    return this.snapshot();
  }

  /**
   * Runs one step per `stepInMs` of clock time elapsed since the last step (at most 1000 at once)
   * and returns how many ran. Servers call it on each request, so values stay the same within a
   * step and change from one step to the next.
   *
   * @example
   * ```ts
   * import { ThermostatSimulator } from '@aio-connector/devkit';
   * let time = 0;
   * const thermostat = new ThermostatSimulator({ now: () => new Date(time), stepInMs: 1000 });
   * time = 3500;
   * thermostat.advance(); // 3
   * ```
   */
  advance(): number {
    const now = this.#clock();
    const elapsed = now - this.#lastStepAt;
    if (elapsed < 0) {
      this.#lastStepAt = now;
      return 0;
    }
    const due = Math.floor(elapsed / this.#stepInMs);
    if (due === 0) return 0;
    const count = Math.min(due, maxCatchUpSteps);
    for (let i = 0; i < count; i++) this.#stepOnce();
    this.#lastStepAt = due > maxCatchUpSteps ? now : this.#lastStepAt + due * this.#stepInMs;
    return count;
  }

  /**
   * A number in [0, 1] from the injected random source (the servers draw their own values from
   * it too, so one seed makes a whole sandbox reproducible).
   *
   * @example
   * ```ts
   * import { ThermostatSimulator } from '@aio-connector/devkit';
   * new ThermostatSimulator({ random: () => 0.25 }).random(); // 0.25
   * ```
   */
  random(): number {
    const value = this.#random();
    return Number.isFinite(value) ? clamp(value, 0, 1) : 0;
  }

  /**
   * The time from the injected clock.
   *
   * @example
   * ```ts
   * import { ThermostatSimulator } from '@aio-connector/devkit';
   * new ThermostatSimulator({ now: () => new Date(0) }).now().toISOString(); // '1970-01-01T00:00:00.000Z'
   * ```
   */
  now(): Date {
    return this.#now();
  }

  #clock(): number {
    const time = this.#now().getTime();
    return Number.isFinite(time) ? time : 0;
  }

  #uniform(low: number, high: number): number {
    return round2(low + (high - low) * this.random());
  }

  #stepOnce(): void {
    const target = this.#power === 'on' ? this.#desired : limits.room;
    const noise = (this.random() - 0.5) * temperatureNoise;
    const next = this.#current + (target - this.#current) * drift + noise;
    const low = Math.min(limits.low, this.#desired);
    const high = Math.max(limits.high, this.#desired);
    this.#current = round2(clamp(next, low, high));
    const humidity = this.#humidity + (this.random() - 0.5) * humidityNoise;
    this.#humidity = round2(clamp(humidity, limits.minHumidity, limits.maxHumidity));
    this.#steps++;
  }
}
