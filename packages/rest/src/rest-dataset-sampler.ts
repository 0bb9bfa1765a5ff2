/**
 * The sampler of one REST dataset: sends its request (or one per data point, in parallel), keeps
 * the conditional-GET validators and last values, merges data points, and decides whether there
 * is anything new to forward.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import {
  AioError,
  HttpError,
  abortError,
  displayUrl,
  isAioError,
  isHttpError,
  sample,
  type DatasetContext,
  type DatasetSampler,
  type HttpConditional,
  type SampleResult,
  type Telemetry,
} from '@aio-connector/core';
import type { EndpointClientLease, EndpointClientRegistration } from './endpoint-clients.ts';
import type { RestDatasetPlan, RestRequest } from './rest-configuration.ts';
import {
  dataPointValue,
  decodeRestBody,
  type RestBody,
  type RestNonJsonPolicy,
} from './rest-response.ts';

/** How a sampler treats responses; resolved from the connector options. */
export interface RestSamplerSettings {
  readonly notModified: 'skip' | 'resend';
  readonly conditionalGet: boolean;
  readonly forwardOnlyOnChange: boolean;
  readonly nonJson: RestNonJsonPolicy;
  readonly requestTimeoutInMs: number;
}

/** The connector's customisation hooks, bound to the dataset. */
export interface RestSamplerHooks {
  prepareRequest(request: RestRequest): RestRequest | Promise<RestRequest>;
  transformData(data: unknown): unknown;
}

interface RequestState {
  readonly validators: HttpConditional | undefined;
  /** The last body (dataset request) or value (data point). */
  readonly body: RestBody | undefined;
  readonly value: unknown;
}

type Outcome =
  | { readonly notModified: true }
  | {
      readonly notModified: false;
      readonly body: RestBody;
      readonly value: unknown;
      readonly validators: HttpConditional | undefined;
    };

const encoder = new TextEncoder();

/** The error of a data point request, named after the data point. */
function inDataPoint(error: unknown, name: string): Error {
  if (!(error instanceof Error)) return new Error(`data point "${name}": ${String(error)}`);
  if (!isAioError(error) || error.code === 'ERR_AIO_ABORTED' || error.code === 'ERR_AIO_CLOSED')
    return error;
  const message = `data point "${name}": ${error.message}`;
  const common = {
    cause: error,
    retryable: error.retryable,
    ...(error.retryAfterInMs === undefined ? {} : { retryAfterInMs: error.retryAfterInMs }),
    details: { ...error.details, dataPoint: name },
  };
  if (isHttpError(error))
    return new HttpError(error.code, message, {
      ...common,
      method: error.method,
      url: error.url,
      ...(error.status === undefined ? {} : { status: error.status }),
      ...(error.statusText === undefined ? {} : { statusText: error.statusText }),
      ...(error.headers === undefined ? {} : { headers: error.headers }),
      ...(error.bodyExcerpt === undefined ? {} : { bodyExcerpt: error.bodyExcerpt }),
    });
  return new AioError(error.code, message, common);
}

/**
 * Samples one dataset over HTTP. Made by `RestConnector.createSampler`; closed when the dataset
 * stops.
 */
export class RestDatasetSampler implements DatasetSampler {
  readonly #dataset: DatasetContext;
  readonly #plan: RestDatasetPlan;
  readonly #registration: EndpointClientRegistration;
  readonly #settings: RestSamplerSettings;
  readonly #hooks: RestSamplerHooks;
  readonly #telemetry: Telemetry;
  readonly #states: (RequestState | undefined)[];
  #lastHash: string | undefined;
  #closed = false;

  constructor(
    dataset: DatasetContext,
    plan: RestDatasetPlan,
    registration: EndpointClientRegistration,
    settings: RestSamplerSettings,
    hooks: RestSamplerHooks,
    telemetry: Telemetry,
  ) {
    this.#dataset = dataset;
    this.#plan = plan;
    this.#registration = registration;
    this.#settings = settings;
    this.#hooks = hooks;
    this.#telemetry = telemetry;
    this.#states = plan.requests.map(() => undefined);
  }

  async sample({ signal }: { readonly signal: AbortSignal }): Promise<SampleResult> {
    if (this.#closed)
      throw new AioError(
        'ERR_AIO_CLOSED',
        `the sampler of dataset "${this.#dataset.name}" is closed`,
      );
    const lease = await this.#registration.lease(signal);
    let outcomes: Outcome[];
    try {
      outcomes = await this.#fetchAll(lease, signal);
    } finally {
      lease.release();
    }
    return this.#compose(outcomes);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#registration.unregister();
  }

  async #fetchAll(lease: EndpointClientLease, signal: AbortSignal): Promise<Outcome[]> {
    const requests = this.#plan.requests;
    if (!this.#plan.merge) return [await this.#fetch(lease, requests[0] as RestRequest, 0, signal)];
    // data points in parallel; the first failure cancels the others
    const local = new AbortController();
    const linked = AbortSignal.any([signal, local.signal]);
    const settled = await Promise.allSettled(
      requests.map((request, index) =>
        this.#fetch(lease, request, index, linked).catch((error: unknown) => {
          local.abort(error);
          throw inDataPoint(error, request.dataPointName ?? String(index));
        }),
      ),
    );
    if (signal.aborted) throw abortError(signal, `sample ${this.#dataset.name}`);
    const failures = settled
      .filter((result) => result.status === 'rejected')
      .map((result) => result.reason as Error)
      .filter((error) => !(isAioError(error) && error.code === 'ERR_AIO_ABORTED'));
    const failure = failures.find((error) => isAioError(error) && !error.retryable) ?? failures[0];
    if (failure !== undefined) throw failure;
    return settled.map((result) => (result as PromiseFulfilledResult<Outcome>).value);
  }

  async #fetch(
    lease: EndpointClientLease,
    planned: RestRequest,
    index: number,
    signal: AbortSignal,
  ): Promise<Outcome> {
    const request = await this.#hooks.prepareRequest(planned);
    const state = this.#states[index];
    const conditional =
      this.#settings.conditionalGet && request.method === 'GET' ? state?.validators : undefined;
    // a ConfigError when a prepared request leaves the endpoint's origin
    const url = lease.client.resolveUrl(request.url);
    const span = this.#telemetry.startSpan(request.method, {
      'http.request.method': request.method,
      'url.full': displayUrl(url),
      'server.address': url.hostname,
      'server.port': Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
      'aio.device': this.#dataset.asset.deviceName,
      'aio.asset': this.#dataset.asset.assetName,
      'aio.dataset': this.#dataset.name,
      'aio.data_point': request.dataPointName,
    });
    try {
      const response = await lease.client.request({
        method: request.method,
        url: url.href,
        headers: request.headers,
        body: request.body,
        timeoutInMs: request.timeoutInMs ?? this.#settings.requestTimeoutInMs,
        maxResponseBytes: request.maxResponseBytes,
        conditional,
        signal,
      });
      if (response.notModified) return { notModified: true };
      const body = decodeRestBody(response, request.method, this.#settings.nonJson);
      const value =
        request.dataPointName === undefined
          ? undefined
          : dataPointValue(request.dataPointName, body, response, request.method);
      const validators =
        response.etag === undefined && response.lastModified === undefined
          ? undefined
          : { etag: response.etag, lastModified: response.lastModified };
      return { notModified: false, body, value, validators };
    } catch (error) {
      lease.observe(error);
      span.fail(error);
      throw error;
    } finally {
      span.end();
    }
  }

  async #compose(outcomes: readonly Outcome[]): Promise<SampleResult> {
    const fresh = outcomes.some((outcome) => !outcome.notModified);
    // the state moves on only once the whole sample succeeded (transformData included)
    const next = outcomes.map((outcome, index) =>
      outcome.notModified
        ? this.#states[index]
        : { validators: outcome.validators, body: outcome.body, value: outcome.value },
    );
    if (!fresh && this.#settings.notModified === 'skip') return undefined;
    const payload = await this.#payload(next);
    // the last body is kept only to be sent again (data point values are always kept)
    const keepBody = this.#settings.notModified === 'resend';
    for (const [index, state] of next.entries())
      this.#states[index] = state === undefined || keepBody ? state : { ...state, body: undefined };
    if (payload === undefined) return undefined;
    const { bytes, contentType } = payload;
    if (this.#settings.forwardOnlyOnChange) {
      const hash = createHash('sha256')
        .update(contentType)
        .update('\0')
        .update(bytes)
        .digest('hex');
      if (hash === this.#lastHash) return undefined;
      this.#lastHash = hash;
    }
    return sample(bytes, { contentType });
  }

  /** The bytes to forward for the given request states, or `undefined` for nothing. */
  async #payload(
    next: readonly (RequestState | undefined)[],
  ): Promise<{ bytes: Uint8Array; contentType: string } | undefined> {
    if (this.#plan.merge) {
      const merged: Record<string, unknown> = {};
      this.#plan.requests.forEach((request, index) => {
        merged[request.dataPointName ?? String(index)] = next[index]?.value ?? null;
      });
      const data: unknown = await this.#hooks.transformData(merged);
      if (data === undefined) return undefined;
      return { bytes: encoder.encode(JSON.stringify(data)), contentType: 'application/json' };
    }
    const body = next[0]?.body;
    if (body === undefined || body.kind === 'empty') return undefined;
    if (body.kind === 'bytes') return { bytes: body.bytes, contentType: body.contentType };
    const data: unknown = await this.#hooks.transformData(body.value);
    if (data === undefined) return undefined;
    // unchanged data goes as received, byte for byte
    return data === body.value
      ? { bytes: body.bytes, contentType: body.mediaType }
      : { bytes: encoder.encode(JSON.stringify(data)), contentType: 'application/json' };
  }
}
