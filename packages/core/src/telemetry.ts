/**
 * OpenTelemetry instruments of the SDK. `@opentelemetry/api` is an optional peer dependency: when
 * it is installed, the SDK records metrics and spans through the global (or given) meter and
 * tracer providers, and propagates W3C trace context in MQTT 5 user properties; when it is absent,
 * every instrument is a no-op. Names are documented in `docs/observability.md`.
 *
 * @module
 */
import type {
  Attributes,
  Context,
  Counter,
  Histogram,
  MeterProvider,
  Span,
  TracerProvider,
} from '@opentelemetry/api';
import type { UserProperty } from './mqtt/mqtt-client.ts';

// eslint-disable-next-line @typescript-eslint/consistent-type-imports -- the optional peer is only loaded with a dynamic import
type OtelApi = typeof import('@opentelemetry/api');

/** The instrumentation scope name of the SDK's meters and tracers. */
export const instrumentationScope = '@aio-connector/core';

/** Metric names recorded by the SDK. */
export const metricNames = {
  samples: 'aio.connector.samples',
  sampleDuration: 'aio.connector.sample.duration',
  forwards: 'aio.connector.forwards',
  forwardDuration: 'aio.connector.forward.duration',
  forwardedBytes: 'aio.connector.forwarded.bytes',
  retries: 'aio.connector.retries',
  drops: 'aio.connector.drops',
  queueDepth: 'aio.connector.queue.depth',
  schemaRegistrations: 'aio.connector.schema.registrations',
  events: 'aio.connector.events',
} as const;

/** Options of {@link createTelemetry}. */
export interface TelemetryOptions {
  /** Meter provider. Default: the global one of `@opentelemetry/api`. */
  readonly meterProvider?: MeterProvider;
  /** Tracer provider. Default: the global one of `@opentelemetry/api`. */
  readonly tracerProvider?: TracerProvider;
  /** Turn everything off even when `@opentelemetry/api` is installed. Default: false. */
  readonly disabled?: boolean;
}

/** Attribute values the SDK attaches (never secrets). */
export type TelemetryAttributes = Readonly<Record<string, string | number | boolean | undefined>>;

/** A span handle; `end()` is safe to call twice. */
export interface TelemetrySpan {
  /** Adds attributes to the span (e.g. an HTTP status code known only at the end). */
  setAttributes(attributes: TelemetryAttributes): void;
  /** Records the failure on the span and sets its status to error. */
  fail(error: unknown): void;
  end(): void;
  /** The W3C trace context of this span as MQTT user properties (`traceparent`, `tracestate`). */
  traceProperties(): UserProperty[];
}

/**
 * The SDK's instruments. Obtain one with {@link createTelemetry}; {@link noopTelemetry} records
 * nothing.
 *
 * @example
 * ```ts
 * import { createTelemetry } from '@aio-connector/core';
 * const telemetry = await createTelemetry();
 * const span = telemetry.startSpan('sample', { 'aio.dataset': 'ds1' });
 * telemetry.recordSample({ 'aio.dataset': 'ds1' }, 12.5, true);
 * span.end();
 * ```
 */
export interface Telemetry {
  /** Whether anything is recorded. */
  readonly enabled: boolean;
  recordSample(attributes: TelemetryAttributes, durationInMs: number, ok: boolean): void;
  recordForward(
    attributes: TelemetryAttributes,
    durationInMs: number,
    bytes: number,
    ok: boolean,
  ): void;
  recordEvent(attributes: TelemetryAttributes): void;
  recordRetry(attributes: TelemetryAttributes): void;
  recordDrop(attributes: TelemetryAttributes, count?: number): void;
  recordSchemaRegistration(attributes: TelemetryAttributes, ok: boolean): void;
  /** Registers a callback read on every metric collection for the queue depth gauge. */
  observeQueueDepth(read: () => number, attributes?: TelemetryAttributes): () => void;
  /** Starts a span (child of the active context, if any). */
  startSpan(name: string, attributes?: TelemetryAttributes): TelemetrySpan;
}

const noopSpan: TelemetrySpan = {
  setAttributes: () => undefined,
  fail: () => undefined,
  end: () => undefined,
  traceProperties: () => [],
};

/** Telemetry that records nothing. */
export const noopTelemetry: Telemetry = Object.freeze({
  enabled: false,
  recordSample: () => undefined,
  recordForward: () => undefined,
  recordEvent: () => undefined,
  recordRetry: () => undefined,
  recordDrop: () => undefined,
  recordSchemaRegistration: () => undefined,
  observeQueueDepth: () => () => undefined,
  startSpan: () => noopSpan,
});

let apiPromise: Promise<OtelApi | undefined> | undefined;

/** Loads `@opentelemetry/api` if it is installed. */
function loadApi(): Promise<OtelApi | undefined> {
  apiPromise ??= import('@opentelemetry/api').then(
    (api) => api,
    () => undefined,
  );
  return apiPromise;
}

function clean(attributes: TelemetryAttributes | undefined): Attributes {
  const out: Attributes = {};
  if (attributes)
    for (const [key, value] of Object.entries(attributes))
      if (value !== undefined) out[key] = value;
  return out;
}

/**
 * Creates the SDK's instruments over `@opentelemetry/api` when it is installed, else returns
 * {@link noopTelemetry}.
 *
 * @example
 * ```ts
 * import { createTelemetry } from '@aio-connector/core';
 * const telemetry = await createTelemetry({ disabled: process.env.NO_OTEL === '1' });
 * ```
 */
export async function createTelemetry(options: TelemetryOptions = {}): Promise<Telemetry> {
  if (options.disabled) return noopTelemetry;
  const api = await loadApi();
  if (!api) return noopTelemetry;
  return new OtelTelemetry(api, options);
}

class OtelTelemetry implements Telemetry {
  readonly enabled = true;
  readonly #api: OtelApi;
  readonly #tracer;
  readonly #meter;
  readonly #samples: Counter;
  readonly #sampleDuration: Histogram;
  readonly #forwards: Counter;
  readonly #forwardDuration: Histogram;
  readonly #forwardedBytes: Counter;
  readonly #events: Counter;
  readonly #retries: Counter;
  readonly #drops: Counter;
  readonly #schemaRegistrations: Counter;

  constructor(api: OtelApi, options: TelemetryOptions) {
    this.#api = api;
    const meterProvider = options.meterProvider ?? api.metrics.getMeterProvider();
    const tracerProvider = options.tracerProvider ?? api.trace.getTracerProvider();
    this.#meter = meterProvider.getMeter(instrumentationScope);
    this.#tracer = tracerProvider.getTracer(instrumentationScope);
    const m = this.#meter;
    this.#samples = m.createCounter(metricNames.samples, {
      description: 'Dataset samples taken, by outcome',
    });
    this.#sampleDuration = m.createHistogram(metricNames.sampleDuration, {
      description: 'Time taken by one dataset sample',
      unit: 'ms',
    });
    this.#forwards = m.createCounter(metricNames.forwards, {
      description: 'Messages forwarded to a destination, by outcome',
    });
    this.#forwardDuration = m.createHistogram(metricNames.forwardDuration, {
      description: 'Time from forward call to broker acknowledgement',
      unit: 'ms',
    });
    this.#forwardedBytes = m.createCounter(metricNames.forwardedBytes, {
      description: 'Payload bytes forwarded',
      unit: 'By',
    });
    this.#events = m.createCounter(metricNames.events, {
      description: 'Events received from southbound sources',
    });
    this.#retries = m.createCounter(metricNames.retries, {
      description: 'Retried attempts, by operation',
    });
    this.#drops = m.createCounter(metricNames.drops, {
      description: 'Messages dropped, by reason',
    });
    this.#schemaRegistrations = m.createCounter(metricNames.schemaRegistrations, {
      description: 'Schema registrations with the schema registry, by outcome',
    });
  }

  recordSample(attributes: TelemetryAttributes, durationInMs: number, ok: boolean): void {
    const attrs = { ...clean(attributes), 'aio.outcome': ok ? 'success' : 'failure' };
    this.#samples.add(1, attrs);
    this.#sampleDuration.record(durationInMs, attrs);
  }

  recordForward(
    attributes: TelemetryAttributes,
    durationInMs: number,
    bytes: number,
    ok: boolean,
  ): void {
    const attrs = { ...clean(attributes), 'aio.outcome': ok ? 'success' : 'failure' };
    this.#forwards.add(1, attrs);
    this.#forwardDuration.record(durationInMs, attrs);
    if (ok) this.#forwardedBytes.add(bytes, clean(attributes));
  }

  recordEvent(attributes: TelemetryAttributes): void {
    this.#events.add(1, clean(attributes));
  }

  recordRetry(attributes: TelemetryAttributes): void {
    this.#retries.add(1, clean(attributes));
  }

  recordDrop(attributes: TelemetryAttributes, count = 1): void {
    this.#drops.add(count, clean(attributes));
  }

  recordSchemaRegistration(attributes: TelemetryAttributes, ok: boolean): void {
    this.#schemaRegistrations.add(1, {
      ...clean(attributes),
      'aio.outcome': ok ? 'success' : 'failure',
    });
  }

  observeQueueDepth(read: () => number, attributes?: TelemetryAttributes): () => void {
    const gauge = this.#meter.createObservableGauge(metricNames.queueDepth, {
      description: 'Messages waiting in the forwarding queue',
    });
    const attrs = clean(attributes);
    const callback = (result: { observe(value: number, attributes?: Attributes): void }): void => {
      result.observe(read(), attrs);
    };
    gauge.addCallback(callback);
    return () => {
      gauge.removeCallback(callback);
    };
  }

  startSpan(name: string, attributes?: TelemetryAttributes): TelemetrySpan {
    const api = this.#api;
    const span: Span = this.#tracer.startSpan(name, { attributes: clean(attributes) });
    let ended = false;
    return {
      setAttributes: (attributes) => {
        span.setAttributes(clean(attributes));
      },
      fail: (error) => {
        span.recordException(error instanceof Error ? error : String(error));
        span.setStatus({
          code: api.SpanStatusCode.ERROR,
          message: error instanceof Error ? error.message : String(error),
        });
      },
      end: () => {
        if (ended) return;
        ended = true;
        span.end();
      },
      traceProperties: () => {
        const carrier: Record<string, string> = {};
        const ctx: Context = api.trace.setSpan(api.context.active(), span);
        api.propagation.inject(ctx, carrier);
        return Object.entries(carrier).map(([key, value]) => [key, value] as const);
      },
    };
  }
}
