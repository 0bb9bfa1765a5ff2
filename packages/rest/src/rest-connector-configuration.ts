/**
 * The REST connector's options from the connector template's additional configuration (the
 * `ADDITIONAL_CONNECTOR_CONFIGURATION` mount file), so the container image can be tuned without
 * code.
 *
 * @module
 */
import { ConfigError } from '@aio-connector/core';
import type { RestConnectorOptions, RestHttpOptions } from './rest-connector.ts';

const source = 'ADDITIONAL_CONNECTOR_CONFIGURATION';

const httpNumberKeys = [
  'maxResponseBytes',
  'connectTimeoutInMs',
  'headersTimeoutInMs',
  'bodyTimeoutInMs',
  'requestTimeoutInMs',
  'keepAliveTimeoutInMs',
  'connections',
  'maxRedirects',
] as const satisfies readonly (keyof RestHttpOptions)[];

const booleanKeys = ['conditionalGet', 'forwardOnlyOnChange'] as const;

function fail(key: string, message: string): never {
  throw new ConfigError(`${source} ${key} ${message}`, { source, field: key });
}

function numberOf(key: string, value: unknown): number {
  const number =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value)
        ? Number(value)
        : Number.NaN;
  if (!Number.isFinite(number)) fail(key, `must be a number, found ${JSON.stringify(value)}`);
  return number;
}

function booleanOf(key: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return fail(key, `must be true or false, found ${JSON.stringify(value)}`);
}

/**
 * Reads REST connector options from the connector's additional configuration (a JSON object;
 * values may be strings, as the connector template stores them): `maxResponseBytes`,
 * `connectTimeoutInMs`, `headersTimeoutInMs`, `bodyTimeoutInMs`, `requestTimeoutInMs`,
 * `keepAliveTimeoutInMs`, `connections`, `maxRedirects`, `userAgent` (the `http` options),
 * `conditionalGet`, `notModified`, `forwardOnlyOnChange`, `nonJson` and
 * `defaultSamplingIntervalInMs`. Other keys are returned in `ignored`. Throws a `ConfigError`
 * naming the key for a value of the wrong type; ranges are checked by the `RestConnector`
 * constructor (`RangeError`).
 *
 * @example
 * ```ts
 * import { ConnectorSettings } from '@aio-connector/core';
 * import { RestConnector, restConnectorOptionsFromConfiguration } from '@aio-connector/rest';
 * const settings = await ConnectorSettings.fromEnvironment();
 * const { options } = restConnectorOptionsFromConfiguration(settings.additionalConfiguration);
 * await new RestConnector({ ...options, settings }).run();
 * ```
 */
export function restConnectorOptionsFromConfiguration(configuration: unknown): {
  readonly options: RestConnectorOptions;
  readonly ignored: readonly string[];
} {
  if (configuration === undefined || configuration === null) return { options: {}, ignored: [] };
  if (typeof configuration !== 'object' || Array.isArray(configuration))
    throw new ConfigError(`${source} must be a JSON object`, { source });
  const http: Record<string, unknown> = {};
  const options: Record<string, unknown> = {};
  const ignored: string[] = [];
  for (const [key, value] of Object.entries(configuration as Record<string, unknown>)) {
    if ((httpNumberKeys as readonly string[]).includes(key)) http[key] = numberOf(key, value);
    else if (key === 'userAgent') {
      if (typeof value !== 'string') fail(key, `must be a string, found ${JSON.stringify(value)}`);
      http[key] = value;
    } else if ((booleanKeys as readonly string[]).includes(key))
      options[key] = booleanOf(key, value);
    else if (key === 'notModified' || key === 'nonJson') {
      if (typeof value !== 'string') fail(key, `must be a string, found ${JSON.stringify(value)}`);
      options[key] = value;
    } else if (key === 'defaultSamplingIntervalInMs') options[key] = numberOf(key, value);
    else ignored.push(key);
  }
  if (Object.keys(http).length > 0) options['http'] = http;
  return { options, ignored };
}
