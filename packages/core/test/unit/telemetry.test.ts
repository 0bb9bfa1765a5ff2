import { describe, expect, it } from 'vitest';
import { propagation, trace, type MeterProvider, type TracerProvider } from '@opentelemetry/api';
import { createTelemetry, metricNames } from '@aio-connector/core';

/** An in-memory meter provider that records every measurement. */
function recordingMeterProvider() {
  const records: { name: string; value: number; attributes: Record<string, unknown> }[] = [];
  const callbacks = new Map<string, ((r: { observe(v: number, a?: object): void }) => void)[]>();
  const instrument = (name: string) => ({
    add: (value: number, attributes: Record<string, unknown> = {}) =>
      records.push({ name, value, attributes }),
    record: (value: number, attributes: Record<string, unknown> = {}) =>
      records.push({ name, value, attributes }),
    addCallback: (cb: (r: { observe(v: number, a?: object): void }) => void) => {
      callbacks.set(name, [...(callbacks.get(name) ?? []), cb]);
    },
    removeCallback: (cb: unknown) => {
      callbacks.set(
        name,
        (callbacks.get(name) ?? []).filter((c) => c !== cb),
      );
    },
  });
  const meter = {
    createCounter: instrument,
    createHistogram: instrument,
    createObservableGauge: instrument,
  };
  const provider = { getMeter: () => meter } as unknown as MeterProvider;
  const collect = (name: string) => {
    const seen: number[] = [];
    for (const cb of callbacks.get(name) ?? []) cb({ observe: (v) => seen.push(v) });
    return seen;
  };
  return { provider, records, collect };
}

describe('telemetry', () => {
  it('records samples, forwards, drops and registrations with outcome attributes', async () => {
    const { provider, records } = recordingMeterProvider();
    const telemetry = await createTelemetry({ meterProvider: provider });
    expect(telemetry.enabled).toBe(true);
    telemetry.recordSample({ 'aio.dataset': 'ds', skipped: undefined }, 12, true);
    telemetry.recordForward({ 'aio.destination': 'mqtt' }, 3, 42, true);
    telemetry.recordForward({ 'aio.destination': 'mqtt' }, 3, 42, false);
    telemetry.recordDrop({ 'aio.reason': 'queue_overflow' }, 5);
    telemetry.recordSchemaRegistration({}, false);
    expect(records).toContainEqual({
      name: metricNames.samples,
      value: 1,
      attributes: { 'aio.dataset': 'ds', 'aio.outcome': 'success' },
    });
    expect(records).toContainEqual({
      name: metricNames.sampleDuration,
      value: 12,
      attributes: { 'aio.dataset': 'ds', 'aio.outcome': 'success' },
    });
    expect(records.filter((r) => r.name === metricNames.forwardedBytes)).toEqual([
      { name: metricNames.forwardedBytes, value: 42, attributes: { 'aio.destination': 'mqtt' } },
    ]);
    expect(records).toContainEqual({
      name: metricNames.drops,
      value: 5,
      attributes: { 'aio.reason': 'queue_overflow' },
    });
    expect(records).toContainEqual({
      name: metricNames.schemaRegistrations,
      value: 1,
      attributes: { 'aio.outcome': 'failure' },
    });
  });

  it('reads the queue depth gauge on collection until unregistered', async () => {
    const { provider, collect } = recordingMeterProvider();
    const telemetry = await createTelemetry({ meterProvider: provider });
    let depth = 3;
    const stop = telemetry.observeQueueDepth(() => depth);
    expect(collect(metricNames.queueDepth)).toEqual([3]);
    depth = 7;
    expect(collect(metricNames.queueDepth)).toEqual([7]);
    stop();
    expect(collect(metricNames.queueDepth)).toEqual([]);
  });

  it('is a no-op when disabled', async () => {
    const telemetry = await createTelemetry({ disabled: true });
    expect(telemetry.enabled).toBe(false);
    expect(telemetry.startSpan('x').traceProperties()).toEqual([]);
  });

  it('propagates the span context as MQTT user properties through the global propagator', async () => {
    const injected: string[] = [];
    propagation.setGlobalPropagator({
      inject: (context, carrier: Record<string, string>) => {
        const span = trace.getSpanContext(context);
        injected.push(span?.traceId ?? 'none');
        carrier['traceparent'] = `00-${span?.traceId ?? ''}-${span?.spanId ?? ''}-01`;
      },
      extract: (context) => context,
      fields: () => ['traceparent'],
    });
    const spanContext = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1 };
    const tracerProvider = {
      getTracer: () => ({
        startSpan: () => trace.wrapSpanContext(spanContext),
      }),
    } as unknown as TracerProvider;
    const telemetry = await createTelemetry({ tracerProvider });
    const span = telemetry.startSpan('forward');
    span.setAttributes({ 'http.response.status_code': 200 });
    expect(span.traceProperties()).toEqual([
      ['traceparent', `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`],
    ]);
    span.end();
    span.end();
    propagation.disable();
  });
});
