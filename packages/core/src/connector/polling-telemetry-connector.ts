/**
 * `PollingTelemetryConnector`: the base of connectors that sample datasets on a timer (REST APIs,
 * databases, PLC reads). Implement one method, `sampleDataset`; the base owns the timers, retries,
 * schemas, forwarding, status and health.
 *
 * @module
 */
import { isAioError } from '../errors.ts';
import { retry } from '../retry.ts';
import { ConnectorBase, type AssetRunnerTools, type ConnectorOptions } from './connector-base.ts';
import type { DatasetContext, ForwardData, ForwardOptions } from './contexts.ts';
import { runPeriodically } from './periodic-timer.ts';

const sampleBrand = Symbol.for('aio-connector-sdk.sample');

/**
 * A sample with forwarding options (content type, user properties). Return one from
 * `sampleDataset` when plain data is not enough; create it with {@link sample}.
 */
export interface Sample {
  readonly data: ForwardData;
  readonly options: Omit<ForwardOptions, 'signal' | 'waitForAck'>;
}

/**
 * Wraps sampled data with forwarding options.
 *
 * @example
 * ```ts
 * import { sample } from '@aio-connector/core';
 * return sample(bytes, { contentType: 'application/cbor' });
 * ```
 */
export function sample(data: ForwardData, options: Sample['options'] = {}): Sample {
  return Object.freeze({ data, options, [sampleBrand]: true });
}

function isSample(value: unknown): value is Sample {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[sampleBrand] === true
  );
}

/** What `sampleDataset` and samplers return: data to forward, or `undefined` for "nothing new". */
export type SampleResult = ForwardData | Sample | undefined;

/** A stateful sampler for one dataset (created by `createSampler`). */
export interface DatasetSampler {
  /** Takes one sample. */
  sample(options: { readonly signal: AbortSignal }): Promise<SampleResult>;
  /** Overrides the dataset's sampling interval, in ms. */
  readonly samplingIntervalInMs?: number;
  /** Called when the dataset stops (asset update or delete, leadership lost, shutdown). */
  close?(): void | Promise<void>;
}

/**
 * The base class of polling connectors.
 *
 * Each valid dataset of each available asset is sampled on its own timer: the interval comes from
 * the dataset configuration (`samplingIntervalInMilliseconds`, `samplingInterval`, ...), then the
 * asset's `defaultDatasetsConfiguration`, then `defaultSamplingIntervalInMs` (10 s). Timers tick on
 * a fixed grid (no drift), never overlap a slow sample, and start at a random offset. A failing
 * sample is retried with backoff (honouring `Retry-After`; non-retryable errors fail fast), then
 * reported on the dataset's ADR status and health; the dataset keeps its schedule and the error is
 * cleared when a sample succeeds.
 *
 * @example
 * ```ts
 * import { PollingTelemetryConnector, type DatasetContext } from '@aio-connector/core';
 *
 * class ThermostatConnector extends PollingTelemetryConnector {
 *   protected override async sampleDataset(ds: DatasetContext, { signal }: { signal: AbortSignal }) {
 *     const res = await fetch(new URL(ds.dataset.dataSource ?? '/', ds.endpoint.address), { signal });
 *     return res.json();
 *   }
 * }
 * await new ThermostatConnector().run();
 * ```
 */
export abstract class PollingTelemetryConnector extends ConnectorBase {
  constructor(options: ConnectorOptions = {}) {
    // the asset's work ends when every dataset has stopped (and closed its sampler)
    super(options, (asset, signal, tools) =>
      Promise.allSettled(asset.datasets.map((ds) => this.#runDataset(ds, signal, tools))).then(
        () => undefined,
      ),
    );
  }

  /**
   * Takes one sample of a dataset. Return the data to forward (bytes as they are, a string as
   * UTF-8, anything else as JSON), a {@link sample} with options, or `undefined` when there is
   * nothing new. Throw to report a failure: errors with `retryable: false` are not retried.
   */
  protected abstract sampleDataset(
    dataset: DatasetContext,
    options: { readonly signal: AbortSignal },
  ): Promise<SampleResult>;

  /**
   * Creates a stateful sampler for a dataset (a connection, a cursor, an HTTP client). Default:
   * a sampler that calls `sampleDataset`. Samplers are closed when the dataset stops.
   */
  protected createSampler(dataset: DatasetContext): DatasetSampler | Promise<DatasetSampler> {
    return { sample: (options) => this.sampleDataset(dataset, options) };
  }

  /**
   * The sampling interval of a dataset, in ms. Default: `dataset.samplingIntervalInMs` (or the
   * sampler's own).
   */
  protected samplingIntervalOf(dataset: DatasetContext): number {
    return dataset.samplingIntervalInMs;
  }

  async #runDataset(
    dataset: DatasetContext,
    signal: AbortSignal,
    tools: AssetRunnerTools,
  ): Promise<void> {
    let sampler: DatasetSampler;
    try {
      sampler = await this.createSampler(dataset);
    } catch (error) {
      dataset.logger.error({ err: error }, 'creating the sampler failed');
      await dataset.reportError(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    try {
      const intervalInMs = sampler.samplingIntervalInMs ?? this.samplingIntervalOf(dataset);
      dataset.logger.debug({ intervalInMs }, 'sampling started');
      await runPeriodically(() => this.#tick(dataset, sampler, intervalInMs, signal, tools), {
        intervalInMs,
        signal,
      });
    } catch (error) {
      // e.g. a sampling interval that cannot be scheduled: this dataset only, on its status
      if (!signal.aborted) {
        dataset.logger.error({ err: error }, 'sampling stopped');
        await dataset.reportError(error instanceof Error ? error : new Error(String(error)));
      }
    } finally {
      try {
        await sampler.close?.();
      } catch (error) {
        dataset.logger.warn({ err: error }, 'closing the sampler failed');
      }
    }
  }

  async #tick(
    dataset: DatasetContext,
    sampler: DatasetSampler,
    intervalInMs: number,
    signal: AbortSignal,
    tools: AssetRunnerTools,
  ): Promise<void> {
    const attributes = {
      'aio.device': dataset.asset.deviceName,
      'aio.asset': dataset.asset.assetName,
      'aio.dataset': dataset.name,
    };
    const span = tools.telemetry.startSpan(`sample ${dataset.name}`, attributes);
    const started = performance.now();
    let result: SampleResult;
    try {
      result = await retry(() => sampler.sample({ signal }), {
        retries: tools.retry.retries ?? 3,
        minDelayInMs: tools.retry.minDelayInMs ?? 250,
        // never back off past the dataset's own schedule
        maxDelayInMs: Math.min(tools.retry.maxDelayInMs ?? 30_000, intervalInMs),
        ...(tools.retry.jitter === undefined ? {} : { jitter: tools.retry.jitter }),
        ...(tools.retry.maxRetryAfterInMs === undefined
          ? {}
          : { maxRetryAfterInMs: tools.retry.maxRetryAfterInMs }),
        signal,
        logger: dataset.logger,
        operation: `sample ${dataset.name}`,
        onFailedAttempt: () => {
          tools.telemetry.recordRetry({ ...attributes, 'aio.operation': 'sample' });
        },
      });
    } catch (error) {
      span.fail(error);
      span.end();
      if (signal.aborted) return;
      tools.telemetry.recordSample(attributes, performance.now() - started, false);
      const failure = error instanceof Error ? error : new Error(String(error));
      dataset.logger.warn(
        { err: failure, code: isAioError(failure) ? failure.code : undefined },
        'sampling failed',
      );
      await dataset.reportError(failure);
      return;
    }
    tools.telemetry.recordSample(attributes, performance.now() - started, true);
    span.end();
    await dataset.reportError(undefined);
    if (result === undefined || signal.aborted) return;
    try {
      if (isSample(result)) await dataset.forward(result.data, { ...result.options, signal });
      else await dataset.forward(result, { signal });
    } catch (error) {
      // reported on the dataset's status by the forwarder; the dataset keeps its schedule
      if (!signal.aborted) dataset.logger.warn({ err: error }, 'forwarding the sample failed');
    }
  }
}
