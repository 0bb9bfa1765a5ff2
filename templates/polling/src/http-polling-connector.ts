import {
  AioError,
  ConfigError,
  PollingTelemetryConnector,
  sample,
  type DatasetContext,
  type SampleResult,
} from '@aio-connector/core';
import { httpGet } from './http-sampler.ts';

/**
 * A polling connector for devices that serve an HTTP API.
 *
 * - The device's inbound endpoint `address` is the base URL of the API
 *   (`http://thermostat.local:8080`).
 * - Each dataset of an asset is one GET request: its `dataSource` is the path
 *   (`/api/thermostat/status`), resolved against the address.
 * - How often a dataset is sampled comes from its configuration (`{"samplingInterval": 5000}`),
 *   then the asset's `defaultDatasetsConfiguration`, then 10 s.
 *
 * The base class does the rest: it watches the devices and assets allocated to this connector,
 * runs one timer per dataset, retries failed samples with backoff, infers and registers the JSON
 * schema of the data, forwards it to the dataset's destinations (MQTT topic or state store key)
 * and reports status and health to Azure Device Registry.
 */
export class HttpPollingConnector extends PollingTelemetryConnector {
  /**
   * Called for each dataset before it is sampled. Throwing reports the problem on that dataset's
   * status in Azure Device Registry; the other datasets of the asset keep running.
   */
  protected override validateDataset(ds: DatasetContext): void {
    urlOf(ds);
    timeoutOf(ds);
  }

  /**
   * Takes one sample. `signal` aborts when the dataset stops (asset updated or deleted,
   * shutdown): pass it to every I/O call. Return the data to forward, or `undefined` when there
   * is nothing new. Throw on failure: errors with `retryable: true` are retried with backoff
   * within the sampling interval, the others are reported at once.
   */
  protected override async sampleDataset(
    ds: DatasetContext,
    { signal }: { readonly signal: AbortSignal },
  ): Promise<SampleResult> {
    const headers: Record<string, string> = {};
    // Read from the mounted secrets on every sample, so a rotated password is picked up.
    const credentials = await ds.asset.readCredentials({ signal });
    if (credentials.method === 'UsernamePassword') {
      const token = Buffer.from(`${credentials.username}:${credentials.password}`).toString(
        'base64',
      );
      headers['authorization'] = `Basic ${token}`;
    }
    const response = await httpGet(urlOf(ds), { signal, headers, timeoutInMs: timeoutOf(ds) });
    if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(response.contentType)) {
      // Not JSON: forward the bytes as they are, with their content type.
      return sample(response.body, { contentType: response.contentType });
    }
    try {
      JSON.parse(new TextDecoder().decode(response.body));
    } catch (error) {
      const message = `dataset "${ds.name}": the response is not valid JSON`;
      throw new AioError('ERR_AIO_HTTP_INVALID_JSON', message, { cause: error });
    }
    // Forward the JSON as it came; its schema is inferred and registered with the schema registry.
    return sample(response.body, { contentType: 'application/json' });
  }
}

/** The URL of a dataset: its `dataSource` resolved against the endpoint address. */
function urlOf(ds: DatasetContext): URL {
  const { dataSource } = ds.dataset;
  if (dataSource === undefined || dataSource === '')
    throw new ConfigError(`dataset "${ds.name}" needs a dataSource: the path to GET`);
  let url: URL;
  try {
    url = new URL(dataSource, ds.endpoint.address);
  } catch (error) {
    throw new ConfigError(
      `dataset "${ds.name}": "${dataSource}" on "${ds.endpoint.address}" is not a valid URL`,
      { cause: error },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new ConfigError(`dataset "${ds.name}": ${url.protocol} is not http: or https:`);
  return url;
}

/** The request timeout: the `timeoutInMs` key of the dataset configuration, else 10 s. */
function timeoutOf(ds: DatasetContext): number {
  const value = ds.configuration['timeoutInMs'] ?? 10_000;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    throw new ConfigError(`dataset "${ds.name}": timeoutInMs must be a positive integer`);
  return value;
}
