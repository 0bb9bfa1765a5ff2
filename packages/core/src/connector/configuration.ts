/**
 * Reading connector settings out of the stringified ADR configuration fields: the effective
 * configuration of a dataset or event (asset defaults overridden by the element's own) and the
 * sampling interval, with the key spellings found in the wild.
 *
 * @module
 */
import { ConfigError } from '../errors.ts';
import type { Asset, AssetDataset, AssetEvent, AssetEventGroup } from '../services/adr/models.ts';
import { configurationOf } from '../services/adr/validate.ts';

/**
 * The sampling-interval keys accepted in a dataset configuration or the asset's
 * `defaultDatasetsConfiguration`, in order of preference. Values are milliseconds (a number or a
 * numeric string) or an ISO 8601 duration such as `PT5S`. The official test assets use
 * `samplingInterval`, the TCP sample metadata `samplingIntervalInMilliseconds`, the docs
 * `SamplingInterval`.
 */
export const samplingIntervalKeys = [
  'samplingIntervalInMilliseconds',
  'samplingIntervalInMs',
  'samplingInterval',
  'SamplingIntervalInMilliseconds',
  'SamplingInterval',
] as const;

const isoDuration =
  /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/**
 * Parses a duration given in milliseconds (number or numeric string) or as an ISO 8601 duration
 * (`PT0.5S`, `PT1M`, `P1DT2H`). Returns `undefined` for anything else.
 */
export function parseDurationInMs(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const match = isoDuration.exec(text);
  if (!match || text === 'P' || text.endsWith('T')) return undefined;
  const [, d, h, m, s] = match.map((part) => (part === undefined ? 0 : Number(part)));
  return (((d ?? 0) * 24 + (h ?? 0)) * 60 + (m ?? 0)) * 60_000 + (s ?? 0) * 1_000;
}

function intervalFrom(
  configuration: Readonly<Record<string, unknown>>,
  source: string,
): number | undefined {
  for (const key of samplingIntervalKeys) {
    if (!(key in configuration)) continue;
    const raw = configuration[key];
    const value = parseDurationInMs(raw);
    if (value === undefined || value < 1)
      throw new ConfigError(
        `${source} ${key}: expected a positive number of milliseconds or an ISO 8601 duration, found ${JSON.stringify(raw)}`,
        { source, field: key },
      );
    return value;
  }
  return undefined;
}

/**
 * The effective configuration of a dataset: `defaultDatasetsConfiguration` of the asset,
 * overridden key by key by the dataset's `datasetConfiguration`. Throws a `ConfigError` naming the
 * field when either is not a JSON object.
 */
export function datasetConfiguration(asset: Asset, dataset: AssetDataset): Record<string, unknown> {
  return {
    ...configurationOf(asset, 'defaultDatasetsConfiguration'),
    ...configurationOf(dataset),
  };
}

/**
 * The effective configuration of an event: `defaultEventsConfiguration` of the asset, then the
 * group's `eventGroupConfiguration`, then the event's `eventConfiguration`.
 */
export function eventConfiguration(
  asset: Asset,
  eventGroup: AssetEventGroup,
  event: AssetEvent,
): Record<string, unknown> {
  return {
    ...configurationOf(asset, 'defaultEventsConfiguration'),
    ...configurationOf(eventGroup),
    ...configurationOf(event),
  };
}

/**
 * The sampling interval of a dataset, in ms: from the dataset's configuration, else the asset's
 * `defaultDatasetsConfiguration`, else `fallbackInMs`. Throws a `ConfigError` naming the key for a
 * value that is not a positive duration.
 *
 * @example
 * ```ts
 * import { samplingIntervalOf } from '@aio-connector/core';
 * samplingIntervalOf(asset, asset.datasets![0]!, 10_000);
 * ```
 */
export function samplingIntervalOf(
  asset: Asset,
  dataset: AssetDataset,
  fallbackInMs: number,
  assetName = 'asset',
): number {
  const own = intervalFrom(
    configurationOf(dataset),
    `${assetName} dataset "${dataset.name}" datasetConfiguration`,
  );
  if (own !== undefined) return own;
  const defaults = intervalFrom(
    configurationOf(asset, 'defaultDatasetsConfiguration'),
    `${assetName} defaultDatasetsConfiguration`,
  );
  return defaults ?? fallbackInMs;
}
