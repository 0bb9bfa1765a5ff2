/**
 * The REST settings of device endpoints, datasets and data points: which keys the connector reads
 * from the stringified configuration fields (lenient JSON), what values they accept, and the
 * requests a dataset makes.
 *
 * @module
 */
import {
  ConfigError,
  configurationOf,
  parseDurationInMs,
  parseHttpAddress,
  resolveHttpDataSource,
  samplingIntervalKeys,
  type Asset,
  type AssetDataset,
  type InboundEndpoint,
} from '@aio-connector/core';

/** The HTTP methods a dataset or data point can use. */
export type RestRequestMethod = 'GET' | 'POST';

/**
 * The keys the REST connector reads, by where they appear. Keys are matched case-insensitively;
 * any other key is logged as a warning (it is probably misspelt) and ignored.
 *
 * @example
 * ```ts
 * import { restConfigurationKeys } from '@aio-connector/rest';
 * console.log(restConfigurationKeys.dataset.includes('HttpRequestMethod')); // true
 * ```
 */
export const restConfigurationKeys = Object.freeze({
  /** `datasetConfiguration` and the asset's `defaultDatasetsConfiguration`. */
  dataset: Object.freeze([
    'HttpRequestMethod',
    'headers',
    'body',
    'timeoutInMs',
    'timeout',
    'maxResponseBytes',
    ...samplingIntervalKeys,
  ]),
  /** `dataPointConfiguration` (the dataset's request keys apply unless the data point sets them). */
  dataPoint: Object.freeze(['HttpRequestMethod', 'headers', 'body', 'timeoutInMs', 'timeout']),
  /** The device endpoint's `additionalConfiguration`. */
  endpoint: Object.freeze(['headers', 'tlsServerName', 'maxResponseBytes']),
});

/** One HTTP request of a dataset: the dataset's own, or one per data point. */
export interface RestRequest {
  /** The data point name, or `undefined` for the dataset's own request. */
  readonly dataPointName: string | undefined;
  /** The `dataSource` as configured. */
  readonly dataSource: string;
  /** The absolute URL, resolved against the endpoint address (same origin). */
  readonly url: string;
  readonly method: RestRequestMethod;
  /** Request headers (names in lower case): the endpoint's, then the dataset's, then the data point's. */
  readonly headers: Readonly<Record<string, string>>;
  /** The request body (POST only). */
  readonly body: string | undefined;
  /** Time allowed for the whole request, in ms; `undefined` = the connector's default. */
  readonly timeoutInMs: number | undefined;
  /** Largest response body accepted, in bytes; `undefined` = the endpoint's or connector's cap. */
  readonly maxResponseBytes: number | undefined;
}

/** The requests of a dataset, and the configuration keys that were ignored. */
export interface RestDatasetPlan {
  /** One request per data point when the dataset has data points, else the dataset's own. */
  readonly requests: readonly RestRequest[];
  /** Whether the responses are merged into one object keyed by data point name. */
  readonly merge: boolean;
  /** Human-readable notes about ignored keys (log them as warnings). */
  readonly warnings: readonly string[];
}

/** The REST settings of a device endpoint (`additionalConfiguration`). */
export interface RestEndpointSettings {
  /** Headers sent with every request to the endpoint (names in lower case). */
  readonly headers: Readonly<Record<string, string>>;
  /** The name verified in the server certificate, when it differs from the address host. */
  readonly tlsServerName: string | undefined;
  /** Largest response body accepted from the endpoint, in bytes. */
  readonly maxResponseBytes: number | undefined;
  /** Human-readable notes about ignored keys. */
  readonly warnings: readonly string[];
}

const maxTimeoutInMs = 2_147_483_647;
const token = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const forbiddenHeaders = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'expect',
  'te',
  'trailer',
]);

interface Located {
  readonly source: string;
  /** The configuration field, e.g. `datasetConfiguration`. */
  readonly field: string;
}

/** A case-insensitive view of a configuration object. */
class Settings {
  readonly #values: Map<string, { key: string; value: unknown; at: Located }>;

  constructor() {
    this.#values = new Map();
  }

  /** Layers `configuration` over what is there (later layers win). */
  add(configuration: Readonly<Record<string, unknown>>, at: Located): this {
    for (const [key, value] of Object.entries(configuration))
      this.#values.set(key.toLowerCase(), { key, value, at });
    return this;
  }

  get(key: string): { key: string; value: unknown; at: Located } | undefined {
    return this.#values.get(key.toLowerCase());
  }

  /** The keys that are not in `known`. */
  unknown(known: readonly string[]): { key: string; at: Located }[] {
    const names = new Set(known.map((k) => k.toLowerCase()));
    return [...this.#values.entries()]
      .filter(([name]) => !names.has(name))
      .map(([, entry]) => ({ key: entry.key, at: entry.at }));
  }
}

function fail(at: Located, key: string, message: string): never {
  throw new ConfigError(`${at.source} ${at.field} ${key} ${message}`, {
    source: at.source,
    field: `${at.field}.${key}`,
  });
}

function shown(value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) return typeof value;
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function methodOf(settings: Settings): RestRequestMethod | undefined {
  const entry = settings.get('HttpRequestMethod');
  if (entry === undefined) return undefined;
  const { value, key, at } = entry;
  if (typeof value === 'string') {
    const method = value.trim().toUpperCase();
    if (method === 'GET' || method === 'POST') return method;
  }
  return fail(at, key, `must be "GET" or "POST", found ${shown(value)}`);
}

function headersOf(settings: Settings, name = 'headers'): Record<string, string> {
  const entry = settings.get(name);
  if (entry === undefined) return {};
  const { value, key, at } = entry;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return fail(at, key, `must be an object of header names to values, found ${shown(value)}`);
  const headers: Record<string, string> = {};
  for (const [header, raw] of Object.entries(value as Record<string, unknown>)) {
    if (!token.test(header)) fail(at, key, `has an invalid header name ${JSON.stringify(header)}`);
    const lower = header.toLowerCase();
    if (forbiddenHeaders.has(lower))
      fail(at, key, `must not set ${JSON.stringify(header)}: the HTTP client manages it`);
    if (typeof raw !== 'string' && typeof raw !== 'number' && typeof raw !== 'boolean')
      fail(at, key, `${JSON.stringify(header)} must be a string, found ${shown(raw)}`);
    const text = String(raw);
    if (/[\r\n\0]/.test(text))
      fail(at, key, `${JSON.stringify(header)} must not contain CR, LF or NUL`);
    headers[lower] = text;
  }
  return headers;
}

function bodyOf(settings: Settings): { body: string; json: boolean } | undefined {
  const entry = settings.get('body');
  if (entry === undefined || entry.value === null) return undefined;
  if (typeof entry.value === 'string') return { body: entry.value, json: false };
  return { body: JSON.stringify(entry.value), json: true };
}

function timeoutOf(settings: Settings): number | undefined {
  for (const name of ['timeoutInMs', 'timeout']) {
    const entry = settings.get(name);
    if (entry === undefined) continue;
    const { value, key, at } = entry;
    const ms =
      name === 'timeoutInMs'
        ? typeof value === 'number' ||
          (typeof value === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(value))
          ? Number(value)
          : undefined
        : parseDurationInMs(value);
    if (ms === undefined || !Number.isFinite(ms) || ms < 1 || ms > maxTimeoutInMs)
      fail(
        at,
        key,
        name === 'timeoutInMs'
          ? `must be a number of milliseconds between 1 and ${maxTimeoutInMs}, found ${shown(value)}`
          : `must be a number of milliseconds or an ISO 8601 duration (PT5S), found ${shown(value)}`,
      );
    return Math.ceil(ms);
  }
  return undefined;
}

function byteCountOf(settings: Settings, name: string): number | undefined {
  const entry = settings.get(name);
  if (entry === undefined) return undefined;
  const { value, key, at } = entry;
  const bytes =
    typeof value === 'number' || (typeof value === 'string' && /^\s*\d+\s*$/.test(value))
      ? Number(value)
      : Number.NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1)
    fail(at, key, `must be a positive whole number of bytes, found ${shown(value)}`);
  return bytes;
}

function unknownKeyWarnings(settings: Settings, known: readonly string[], what: string): string[] {
  return settings
    .unknown(known)
    .map(
      ({ key, at }) =>
        `${at.source} ${at.field}: unknown key ${JSON.stringify(key)} ignored (the REST connector reads ${what})`,
    );
}

/**
 * Reads the REST settings of a device endpoint from its `additionalConfiguration`: `headers`
 * (sent with every request), `tlsServerName` and `maxResponseBytes`. Throws a `ConfigError`
 * naming the field for a value that cannot work; unknown keys are returned as warnings.
 *
 * @example
 * ```ts
 * import { restEndpointSettings } from '@aio-connector/rest';
 * const settings = restEndpointSettings(
 *   { address: 'https://10.0.0.7', endpointType: 'Microsoft.Rest',
 *     additionalConfiguration: '{"tlsServerName": "thermostat.local",}' },
 *   'device "d1" endpoint "e1"',
 * );
 * console.log(settings.tlsServerName); // 'thermostat.local'
 * ```
 */
export function restEndpointSettings(
  endpoint: InboundEndpoint,
  source = 'inbound endpoint',
): RestEndpointSettings {
  const at: Located = { source, field: 'additionalConfiguration' };
  const settings = new Settings().add(configurationOf(endpoint, { source }), at);
  const serverName = settings.get('tlsServerName');
  if (
    serverName !== undefined &&
    (typeof serverName.value !== 'string' || serverName.value.trim() === '')
  )
    fail(serverName.at, serverName.key, `must be a host name, found ${shown(serverName.value)}`);
  return Object.freeze({
    headers: Object.freeze(headersOf(settings)),
    tlsServerName: serverName === undefined ? undefined : (serverName.value as string).trim(),
    maxResponseBytes: byteCountOf(settings, 'maxResponseBytes'),
    warnings: Object.freeze(
      unknownKeyWarnings(
        settings,
        restConfigurationKeys.endpoint,
        restConfigurationKeys.endpoint.join(', '),
      ),
    ),
  });
}

/** What {@link planRestDataset} needs to know about a dataset. */
export interface RestDatasetInput {
  readonly assetName: string;
  readonly asset: Asset;
  readonly dataset: AssetDataset;
  readonly endpoint: InboundEndpoint;
  /** The endpoint's settings, from {@link restEndpointSettings}. Default: read from `endpoint`. */
  readonly endpointSettings?: RestEndpointSettings;
}

/**
 * Works out the requests of a dataset: with data points, one request per data point (its
 * `dataSource`, which is required); otherwise one request to the dataset's `dataSource` (the
 * endpoint address itself when absent). Settings come from the asset's
 * `defaultDatasetsConfiguration`, overridden by the dataset's `datasetConfiguration`, overridden
 * for a data point by its `dataPointConfiguration`. Throws a `ConfigError` naming the field for
 * anything that cannot work (a dataSource on another origin, an unknown method, a body on a GET,
 * a bad header, timeout or size); unknown keys are returned as warnings.
 *
 * @example
 * ```ts
 * import { planRestDataset } from '@aio-connector/rest';
 * const plan = planRestDataset({
 *   assetName: 'thermostat',
 *   asset,
 *   dataset: asset.datasets![0]!,
 *   endpoint: device.endpoints!.inbound!['rest']!,
 * });
 * for (const request of plan.requests) console.log(request.method, request.url);
 * ```
 */
export function planRestDataset(input: RestDatasetInput): RestDatasetPlan {
  const { assetName, asset, dataset, endpoint } = input;
  const source = `asset "${assetName}" dataset "${dataset.name}"`;
  const endpointSettings = input.endpointSettings ?? restEndpointSettings(endpoint);
  const address = parseHttpAddress(endpoint.address, { source: 'inbound endpoint' });
  const assetSource = `asset "${assetName}"`;
  const datasetSettings = new Settings()
    .add(configurationOf(asset, 'defaultDatasetsConfiguration', { source: assetSource }), {
      source: assetSource,
      field: 'defaultDatasetsConfiguration',
    })
    .add(configurationOf(dataset, { source }), { source, field: 'datasetConfiguration' });
  const warnings = unknownKeyWarnings(
    datasetSettings,
    restConfigurationKeys.dataset,
    'HttpRequestMethod, headers, body, timeoutInMs, timeout, maxResponseBytes and the sampling interval',
  );
  const maxResponseBytes = byteCountOf(datasetSettings, 'maxResponseBytes');
  const datasetHeaders = headersOf(datasetSettings);

  /** `settings`: the effective request keys; `ownHeaders`: headers added over the dataset's. */
  const request = (
    settings: Settings,
    dataPointName: string | undefined,
    dataSource: string,
    ownHeaders: Readonly<Record<string, string>>,
  ): RestRequest => {
    const url = resolveHttpDataSource(address, dataSource, {
      source: dataPointName === undefined ? source : `${source} data point "${dataPointName}"`,
    });
    const method = methodOf(settings) ?? 'GET';
    const body = bodyOf(settings);
    const bodyEntry = settings.get('body');
    if (body !== undefined && bodyEntry !== undefined && method !== 'POST')
      fail(
        bodyEntry.at,
        bodyEntry.key,
        `needs "HttpRequestMethod": "POST" (the request is a ${method})`,
      );
    const headers: Record<string, string> = {
      ...endpointSettings.headers,
      ...datasetHeaders,
      ...ownHeaders,
    };
    if (body !== undefined && headers['content-type'] === undefined)
      headers['content-type'] = body.json ? 'application/json' : 'text/plain; charset=utf-8';
    return Object.freeze({
      dataPointName,
      dataSource,
      url: url.href,
      method,
      headers: Object.freeze(headers),
      body: body?.body,
      timeoutInMs: timeoutOf(settings),
      maxResponseBytes,
    });
  };

  const dataPoints = dataset.dataPoints ?? [];
  if (dataPoints.length === 0)
    return Object.freeze({
      requests: Object.freeze([request(datasetSettings, undefined, dataset.dataSource ?? '', {})]),
      merge: false,
      warnings: Object.freeze(warnings),
    });
  const seen = new Set<string>();
  const requests = dataPoints.map((dataPoint, index) => {
    const field = `dataPoints[${index}]`;
    const pointSource = `${source} data point "${dataPoint.name}"`;
    if (seen.has(dataPoint.name))
      throw new ConfigError(
        `${source} has two data points named ${JSON.stringify(dataPoint.name)}`,
        { source, field: `${field}.name` },
      );
    seen.add(dataPoint.name);
    if (typeof dataPoint.dataSource !== 'string' || dataPoint.dataSource.trim() === '')
      throw new ConfigError(
        `${pointSource} has no dataSource: the REST connector needs a path (or a URL on the endpoint's origin) per data point`,
        { source, field: `${field}.dataSource` },
      );
    const at: Located = { source, field: `${field}.dataPointConfiguration` };
    const own = new Settings().add(configurationOf(dataPoint, { source: pointSource }), at);
    for (const { key } of own.unknown(restConfigurationKeys.dataPoint))
      warnings.push(
        samplingIntervalKeys.some((k) => k.toLowerCase() === key.toLowerCase())
          ? `${source} ${at.field}: ${JSON.stringify(key)} ignored (data points are sampled with their dataset; set the interval on the dataset)`
          : `${source} ${at.field}: unknown key ${JSON.stringify(key)} ignored (the REST connector reads HttpRequestMethod, headers, body, timeoutInMs and timeout)`,
      );
    // the data point's keys override the dataset's, except headers, which are added to them
    // (a data point's timeout replaces both timeout keys of the dataset)
    const ownTimeout = own.get('timeoutInMs') !== undefined || own.get('timeout') !== undefined;
    const effective = new Settings();
    for (const layer of [datasetSettings, own])
      for (const key of restConfigurationKeys.dataPoint) {
        const entry = layer.get(key);
        if (entry === undefined || key === 'headers') continue;
        if (layer === datasetSettings && ownTimeout && key.startsWith('timeout')) continue;
        effective.add({ [entry.key]: entry.value }, entry.at);
      }
    return request(effective, dataPoint.name, dataPoint.dataSource, headersOf(own));
  });
  return Object.freeze({
    requests: Object.freeze(requests),
    merge: true,
    warnings: Object.freeze(warnings),
  });
}
