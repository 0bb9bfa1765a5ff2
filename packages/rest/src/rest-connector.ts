/**
 * `RestConnector`: the REST/HTTP polling connector. Each dataset of each asset is sampled on its
 * own timer with a request to the device endpoint address + the dataset's `dataSource` (or one
 * request per data point, merged into one JSON message), through one pooled HTTP client per
 * device endpoint. Retries, schemas, forwarding, status and health come from
 * `PollingTelemetryConnector`.
 *
 * @module
 */
import {
  ConfigError,
  PollingTelemetryConnector,
  createTelemetry,
  parseHttpAddress,
  type ConnectorOptions,
  type DatasetContext,
  type DatasetSampler,
  type EndpointContext,
  type SampleResult,
  type Telemetry,
} from '@aio-connector/core';
import { EndpointClients } from './endpoint-clients.ts';
import {
  planRestDataset,
  restEndpointSettings,
  type RestDatasetPlan,
  type RestRequest,
} from './rest-configuration.ts';
import { RestDatasetSampler, type RestSamplerSettings } from './rest-dataset-sampler.ts';
import type { RestNonJsonPolicy } from './rest-response.ts';

/** HTTP client settings of a {@link RestConnector}. Every field is optional. */
export interface RestHttpOptions {
  /** Largest response body accepted, in bytes (larger → `ERR_AIO_HTTP_BODY_TOO_LARGE`). Default: 16 MiB. */
  readonly maxResponseBytes?: number;
  /** Time allowed to open a connection (TCP and TLS), in ms; 0 = no limit. Default: 10 000. */
  readonly connectTimeoutInMs?: number;
  /** Time allowed until the response headers arrive, in ms; 0 = no limit. Default: 30 000. */
  readonly headersTimeoutInMs?: number;
  /** Longest pause between two pieces of a response body, in ms; 0 = no limit. Default: 30 000. */
  readonly bodyTimeoutInMs?: number;
  /**
   * Time allowed for a whole request, body included, in ms, unless the dataset or data point sets
   * `timeoutInMs`/`timeout`; 0 = no limit. Default: 30 000.
   */
  readonly requestTimeoutInMs?: number;
  /** How long an idle keep-alive connection stays open, in ms. Default: 4 000. */
  readonly keepAliveTimeoutInMs?: number;
  /** Largest number of connections per device endpoint. Default: no limit. */
  readonly connections?: number;
  /** Same-origin redirects followed per request; 0 = none. Default: 5. */
  readonly maxRedirects?: number;
  /** The `User-Agent` header; `''` sends none. Default: `'aio-connector-sdk'`. */
  readonly userAgent?: string;
}

/** Options of {@link RestConnector}: the connector options, plus the REST ones. Every field is optional. */
export interface RestConnectorOptions extends ConnectorOptions {
  /** HTTP client settings (timeouts, size cap, connections). */
  readonly http?: RestHttpOptions;
  /**
   * Send `If-None-Match` / `If-Modified-Since` with the validators of the previous response on
   * GET requests, so an unchanged resource answers `304 Not Modified`. Default: `true`.
   */
  readonly conditionalGet?: boolean;
  /**
   * What a `304 Not Modified` means: `'skip'` forwards nothing (no new data); `'resend'` forwards
   * the last data again. With data points, the sample is skipped only when every data point is
   * unchanged. Default: `'skip'`.
   */
  readonly notModified?: 'skip' | 'resend';
  /**
   * Forward a sample only when its bytes differ from the last one forwarded for the dataset.
   * Default: `false`.
   */
  readonly forwardOnlyOnChange?: boolean;
  /**
   * Responses that are not JSON: `'forward'` sends them as bytes with their content type (a
   * `text/*` data point value becomes a string); `'reject'` fails the sample with
   * `ERR_AIO_HTTP_CONTENT_TYPE`. Default: `'forward'`.
   */
  readonly nonJson?: RestNonJsonPolicy;
}

/**
 * The defaults of the REST-specific {@link RestConnectorOptions}.
 *
 * @example
 * ```ts
 * import { defaultRestConnectorOptions } from '@aio-connector/rest';
 * console.log(defaultRestConnectorOptions.http.maxResponseBytes); // 16777216
 * ```
 */
export const defaultRestConnectorOptions = Object.freeze({
  http: Object.freeze({
    maxResponseBytes: 16 * 1024 * 1024,
    connectTimeoutInMs: 10_000,
    headersTimeoutInMs: 30_000,
    bodyTimeoutInMs: 30_000,
    requestTimeoutInMs: 30_000,
    keepAliveTimeoutInMs: 4_000,
    connections: undefined,
    maxRedirects: 5,
    userAgent: 'aio-connector-sdk',
  }),
  conditionalGet: true,
  notModified: 'skip',
  forwardOnlyOnChange: false,
  nonJson: 'forward',
} as const);

interface ResolvedRestOptions {
  readonly http: {
    readonly maxResponseBytes: number;
    readonly connectTimeoutInMs: number;
    readonly headersTimeoutInMs: number;
    readonly bodyTimeoutInMs: number;
    readonly requestTimeoutInMs: number;
    readonly keepAliveTimeoutInMs: number;
    readonly connections: number | undefined;
    readonly maxRedirects: number;
    readonly userAgent: string;
  };
  readonly sampler: RestSamplerSettings;
}

const maxTimerInMs = 2_147_483_647;

function checkNumber(
  name: string,
  value: unknown,
  min: number,
  max: number,
  integer: boolean,
): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || Number.isNaN(value))
    throw new TypeError(`${name} must be a number, received ${typeof value}`);
  if (value < min || value > max || (integer && !Number.isInteger(value)))
    throw new RangeError(
      `${name} must be ${integer ? 'an integer' : 'a number'} between ${min} and ${max}, received ${value}`,
    );
  return value;
}

function checkChoice<T extends string>(
  name: string,
  value: unknown,
  choices: readonly T[],
): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string')
    throw new TypeError(`${name} must be a string, received ${typeof value}`);
  if (!(choices as readonly string[]).includes(value))
    throw new RangeError(
      `${name} must be ${choices.map((c) => `'${c}'`).join(' or ')}, received '${value}'`,
    );
  return value as T;
}

function checkBoolean(name: string, value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean')
    throw new TypeError(`${name} must be a boolean, received ${typeof value}`);
  return value;
}

function resolveRestOptions(options: RestConnectorOptions): ResolvedRestOptions {
  if (typeof options !== 'object' || options === null)
    throw new TypeError(`options must be an object, received ${typeof options}`);
  const http = options.http ?? {};
  if (typeof http !== 'object' || http === null)
    throw new TypeError(`http must be an object, received ${typeof http}`);
  const d = defaultRestConnectorOptions.http;
  const timeout = (name: keyof RestHttpOptions, fallback: number): number =>
    checkNumber(`http.${name}`, http[name], 0, maxTimerInMs, false) ?? fallback;
  const userAgent = http.userAgent;
  if (userAgent !== undefined && typeof userAgent !== 'string')
    throw new TypeError(`http.userAgent must be a string, received ${typeof userAgent}`);
  if (userAgent !== undefined && /[\r\n\0]/.test(userAgent))
    throw new RangeError('http.userAgent must not contain CR, LF or NUL');
  const resolvedHttp = Object.freeze({
    maxResponseBytes:
      checkNumber(
        'http.maxResponseBytes',
        http.maxResponseBytes,
        0,
        Number.MAX_SAFE_INTEGER,
        true,
      ) ?? d.maxResponseBytes,
    connectTimeoutInMs: timeout('connectTimeoutInMs', d.connectTimeoutInMs),
    headersTimeoutInMs: timeout('headersTimeoutInMs', d.headersTimeoutInMs),
    bodyTimeoutInMs: timeout('bodyTimeoutInMs', d.bodyTimeoutInMs),
    requestTimeoutInMs: timeout('requestTimeoutInMs', d.requestTimeoutInMs),
    keepAliveTimeoutInMs: timeout('keepAliveTimeoutInMs', d.keepAliveTimeoutInMs),
    connections: checkNumber('http.connections', http.connections, 1, 65_535, true),
    maxRedirects:
      checkNumber('http.maxRedirects', http.maxRedirects, 0, 100, true) ?? d.maxRedirects,
    userAgent: userAgent ?? d.userAgent,
  });
  return Object.freeze({
    http: resolvedHttp,
    sampler: Object.freeze({
      conditionalGet:
        checkBoolean('conditionalGet', options.conditionalGet) ??
        defaultRestConnectorOptions.conditionalGet,
      notModified:
        checkChoice('notModified', options.notModified, ['skip', 'resend'] as const) ??
        defaultRestConnectorOptions.notModified,
      forwardOnlyOnChange:
        checkBoolean('forwardOnlyOnChange', options.forwardOnlyOnChange) ??
        defaultRestConnectorOptions.forwardOnlyOnChange,
      nonJson:
        checkChoice('nonJson', options.nonJson, ['forward', 'reject'] as const) ??
        defaultRestConnectorOptions.nonJson,
      requestTimeoutInMs: resolvedHttp.requestTimeoutInMs,
    }),
  });
}

/**
 * The REST/HTTP connector: the counterpart of the Azure IoT Operations built-in connector for
 * REST/HTTP, usable as it is (`aio-rest-connector`, the package's container entry point) and as a
 * base class to customise.
 *
 * For each dataset it sends `GET` (or `POST`, with `"HttpRequestMethod": "POST"`) to the device
 * endpoint `address` + the dataset's `dataSource`; a dataset with `dataPoints` fetches every data
 * point's `dataSource` in parallel and merges the values into one JSON object keyed by data point
 * name. Authentication (Anonymous, UsernamePassword, Certificate) and the trust list come from the
 * device endpoint. 408, 429, 5xx and network failures are retried with backoff (honouring
 * `Retry-After`); 401, 403, 404 and other 4xx are reported at once on the dataset's status, and
 * the dataset keeps its schedule so it recovers when the device or definition is fixed.
 *
 * Customise it by overriding {@link RestConnector.prepareRequest} (add a header, sign a request)
 * and {@link RestConnector.transformData} (reshape the JSON before it is forwarded), or the hooks
 * of the base class (`getMessageSchema`, `validateDataset`, ...; call `super` to keep the REST
 * checks).
 *
 * @example
 * ```ts
 * import { RestConnector } from '@aio-connector/rest';
 *
 * const connector = new RestConnector({
 *   http: { maxResponseBytes: 1024 * 1024 },
 *   forwardOnlyOnChange: true,
 * });
 * process.exitCode = await connector.run(); // reads the Akri pod contract; stops on SIGTERM
 * ```
 */
export class RestConnector extends PollingTelemetryConnector {
  readonly #rest: ResolvedRestOptions;
  readonly #clients = new EndpointClients();
  readonly #telemetryOption: ConnectorOptions['telemetry'];
  #telemetry: Promise<Telemetry> | undefined;

  constructor(options: RestConnectorOptions = {}) {
    const rest = resolveRestOptions(options);
    super(options);
    this.#rest = rest;
    this.#telemetryOption = options.telemetry;
  }

  /**
   * Checks that a device endpoint can be served over HTTP: an absolute `http:`/`https:` address
   * without credentials, query or fragment, `Certificate` authentication only over `https:`, and
   * a valid `additionalConfiguration` (`headers`, `tlsServerName`, `maxResponseBytes`; unknown keys
   * are logged as warnings). Throws a `ConfigError`, reported on the device endpoint's status.
   */
  protected override validateEndpoint(endpoint: EndpointContext): void {
    const source = `device "${endpoint.deviceName}" endpoint "${endpoint.endpointName}"`;
    const address = parseHttpAddress(endpoint.endpoint.address, { source });
    const method = endpoint.endpoint.authentication?.method;
    if (method === 'Certificate' && address.protocol !== 'https:')
      throw new ConfigError(
        `${source} uses Certificate authentication, which needs an https: address, found ${address.protocol}`,
        { source, field: 'authentication.method' },
      );
    const settings = restEndpointSettings(endpoint.endpoint, source);
    for (const warning of settings.warnings) endpoint.logger.warn(warning);
  }

  /**
   * Checks that a dataset can be sampled over HTTP: every `dataSource` (the dataset's, or each
   * data point's, which is then required) is a path or a URL on the endpoint's origin, and the
   * configuration keys have usable values (`HttpRequestMethod` GET or POST, `headers`, `body` with
   * POST only, `timeoutInMs`/`timeout`, `maxResponseBytes`). Unknown keys are logged as warnings.
   * Throws a `ConfigError` naming the field, reported on the dataset's status.
   */
  protected override validateDataset(dataset: DatasetContext): void {
    const plan = this.#plan(dataset);
    for (const warning of plan.warnings) dataset.logger.warn(warning);
  }

  /**
   * Called before each request (each data point's too) with what the definition asks for; return
   * the request to send. Use it to add headers (a token), change the query, or set a body. The URL
   * must stay on the endpoint's origin. Default: the request unchanged.
   *
   * @example
   * ```ts
   * import { RestConnector, type RestRequest } from '@aio-connector/rest';
   * class TokenRestConnector extends RestConnector {
   *   protected override prepareRequest(request: RestRequest): RestRequest {
   *     return { ...request, headers: { ...request.headers, 'x-api-key': process.env['API_KEY'] ?? '' } };
   *   }
   * }
   * ```
   */
  protected prepareRequest(
    request: RestRequest,
    _dataset: DatasetContext,
  ): RestRequest | Promise<RestRequest> {
    return request;
  }

  /**
   * Called with the JSON data of each sample (the parsed body, or the merged data point object)
   * before it is forwarded; return the data to forward, or `undefined` to forward nothing. Not
   * called for non-JSON bodies. When it returns the value it was given, the response bytes are
   * forwarded exactly as received. Default: the data unchanged.
   *
   * @example
   * ```ts
   * import { RestConnector } from '@aio-connector/rest';
   * class CelsiusRestConnector extends RestConnector {
   *   protected override transformData(data: unknown): unknown {
   *     const { currentTemperature } = data as { currentTemperature: number };
   *     return { currentTemperatureC: ((currentTemperature - 32) * 5) / 9 };
   *   }
   * }
   * ```
   */
  protected transformData(data: unknown, _dataset: DatasetContext): unknown {
    return data;
  }

  /**
   * Makes the dataset's sampler: it shares the endpoint's HTTP client with the other datasets of
   * the endpoint (made on first use with the credentials read then; replaced after an
   * authentication or TLS failure so rotated secrets are picked up; closed when the last dataset
   * stops).
   */
  protected override async createSampler(dataset: DatasetContext): Promise<DatasetSampler> {
    const plan = this.#plan(dataset);
    const telemetry = await this.#telemetryInstance();
    const endpoint = restEndpointSettings(dataset.endpoint);
    const { requestTimeoutInMs: _requestTimeout, ...http } = this.#rest.http;
    const registration = this.#clients.register({
      asset: dataset.asset,
      options: {
        ...http,
        ...(endpoint.maxResponseBytes === undefined
          ? {}
          : { maxResponseBytes: endpoint.maxResponseBytes }),
        ...(endpoint.tlsServerName === undefined ? {} : { tlsServerName: endpoint.tlsServerName }),
      },
      logger: dataset.asset.logger,
    });
    return new RestDatasetSampler(
      dataset,
      plan,
      registration,
      this.#rest.sampler,
      {
        prepareRequest: (request) => this.prepareRequest(request, dataset),
        transformData: (data) => this.transformData(data, dataset),
      },
      telemetry,
    );
  }

  /**
   * Takes one sample with a fresh sampler (no conditional-GET or change state is kept between
   * calls). The connector itself samples through {@link RestConnector.createSampler}; override
   * that to take over sampling.
   */
  protected override async sampleDataset(
    dataset: DatasetContext,
    options: { readonly signal: AbortSignal },
  ): Promise<SampleResult> {
    const sampler = await this.createSampler(dataset);
    try {
      return await sampler.sample(options);
    } finally {
      await sampler.close?.();
    }
  }

  #plan(dataset: DatasetContext): RestDatasetPlan {
    const asset = dataset.asset;
    return planRestDataset({
      assetName: asset.assetName,
      asset: asset.asset,
      dataset: dataset.dataset,
      endpoint: dataset.endpoint,
      endpointSettings: restEndpointSettings(
        dataset.endpoint,
        `device "${asset.deviceName}" endpoint "${asset.endpointName}"`,
      ),
    });
  }

  #telemetryInstance(): Promise<Telemetry> {
    const option = this.#telemetryOption;
    this.#telemetry ??=
      option !== undefined && 'recordSample' in option
        ? Promise.resolve(option)
        : createTelemetry(option ?? {});
    return this.#telemetry;
  }
}
