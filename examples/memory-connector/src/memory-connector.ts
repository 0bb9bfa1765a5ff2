/**
 * `MemoryConnector`: a polling connector whose "device" is simulated in memory, so it runs with
 * nothing to connect to. Each dataset (or each data point of a dataset) names a signal in its
 * `dataSource`:
 *
 * | dataSource | value |
 * |---|---|
 * | `sine` | `offset + amplitude × sin(2π t / period)` |
 * | `sawtooth` | rises from `offset` to `offset + amplitude` once per period |
 * | `random` | uniform in `[offset, offset + amplitude)` |
 * | `counter` | 0, 1, 2, … per dataset |
 * | `constant:<n>` | `n` |
 *
 * `amplitude` (default 10), `offset` (default 20) and `periodInSeconds` (default 60) come from the
 * dataset configuration (then the asset's `defaultDatasetsConfiguration`). A dataset with data
 * points becomes one JSON object keyed by data point name; a dataset without becomes
 * `{ "value": … }` (with a `timestamp`), sent as `application/json`. An unknown signal is reported
 * on the dataset's status in ADR.
 *
 * @module
 */
import {
  ConfigError,
  PollingTelemetryConnector,
  sample,
  type DatasetContext,
  type DatasetSampler,
} from '@aio-connector/core';

/** A function of time (ms since the epoch) and of how many samples were taken. */
export type Signal = (timeInMs: number, sampleIndex: number) => number;

/** The signal parameters of a dataset. */
export interface SignalParameters {
  readonly amplitude: number;
  readonly offset: number;
  readonly periodInSeconds: number;
}

function numberSetting(
  configuration: Readonly<Record<string, unknown>>,
  name: string,
  fallback: number,
): number {
  const value = configuration[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new ConfigError(`the dataset configuration "${name}" must be a number`, {
      source: 'datasetConfiguration',
      field: name,
    });
  return value;
}

/** Reads `amplitude`, `offset` and `periodInSeconds` from a dataset's configuration. */
export function signalParameters(
  configuration: Readonly<Record<string, unknown>>,
): SignalParameters {
  const periodInSeconds = numberSetting(configuration, 'periodInSeconds', 60);
  if (periodInSeconds <= 0)
    throw new ConfigError('the dataset configuration "periodInSeconds" must be > 0', {
      source: 'datasetConfiguration',
      field: 'periodInSeconds',
    });
  return {
    amplitude: numberSetting(configuration, 'amplitude', 10),
    offset: numberSetting(configuration, 'offset', 20),
    periodInSeconds,
  };
}

/** The signal a `dataSource` names; throws a `ConfigError` for an unknown one. */
export function signalOf(dataSource: string | undefined, parameters: SignalParameters): Signal {
  const { amplitude, offset, periodInSeconds } = parameters;
  const periodInMs = periodInSeconds * 1000;
  const round = (value: number): number => Math.round(value * 1000) / 1000;
  const name = (dataSource ?? '').trim();
  if (name === 'sine')
    return (time) => round(offset + amplitude * Math.sin((2 * Math.PI * time) / periodInMs));
  if (name === 'sawtooth')
    return (time) => round(offset + (amplitude * (time % periodInMs)) / periodInMs);
  if (name === 'random') return () => round(offset + amplitude * Math.random());
  if (name === 'counter') return (_time, index) => index;
  const constant = /^constant:(-?\d+(?:\.\d+)?)$/.exec(name);
  if (constant !== null) {
    const value = Number(constant[1]);
    return () => value;
  }
  throw new ConfigError(
    `unknown signal ${JSON.stringify(dataSource ?? '')}: use sine, sawtooth, random, counter or constant:<n>`,
    { source: 'dataSource' },
  );
}

/**
 * A polling connector that samples simulated signals.
 *
 * @example
 * ```ts
 * import { MemoryConnector } from './memory-connector.ts';
 * await new MemoryConnector().run(); // reads the Akri pod contract from the environment
 * ```
 */
export class MemoryConnector extends PollingTelemetryConnector {
  protected override sampleDataset(): Promise<undefined> {
    // every dataset gets its own sampler (below), which keeps its sample count
    return Promise.resolve(undefined);
  }

  protected override createSampler(dataset: DatasetContext): DatasetSampler {
    const parameters = signalParameters(dataset.configuration);
    const points = dataset.dataset.dataPoints ?? [];
    const signals =
      points.length === 0
        ? [['value', signalOf(dataset.dataset.dataSource, parameters)] as const]
        : points.map((point) => [point.name, signalOf(point.dataSource, parameters)] as const);
    let index = 0;
    return {
      sample: () => {
        const now = Date.now();
        const message: Record<string, number | string> = {};
        for (const [name, signal] of signals) message[name] = signal(now, index);
        message['timestamp'] = new Date(now).toISOString();
        index += 1;
        return Promise.resolve(sample(message, { contentType: 'application/json' }));
      },
    };
  }
}
