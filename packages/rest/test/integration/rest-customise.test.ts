/**
 * Customising the REST connector (its `prepareRequest` and `transformData` hooks), and its
 * OpenTelemetry spans (one per HTTP request, beside the base class's sample and forward spans).
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import type { DatasetContext, TelemetryOptions } from '@aio-connector/core';
import { startThermostatServer } from '@aio-connector/devkit';
import { RestConnector, type RestRequest } from '@aio-connector/rest';
import { eventually } from '@aio-connector/testing';
import { restAsset, restDataset, restDevice, startRestHarness } from './support/rest-harness.ts';

interface RecordedSpan {
  readonly name: string;
  readonly attributes: Record<string, unknown>;
  status: { code: number; message?: string } | undefined;
  ended: boolean;
}

type TracerProvider = NonNullable<TelemetryOptions['tracerProvider']>;

/** A tracer provider that records the spans started through it. */
function recordingTracerProvider(): { provider: TracerProvider; spans: RecordedSpan[] } {
  const spans: RecordedSpan[] = [];
  const tracer = {
    startSpan(name: string, options?: { attributes?: Record<string, unknown> }) {
      const recorded: RecordedSpan = {
        name,
        attributes: { ...options?.attributes },
        status: undefined,
        ended: false,
      };
      spans.push(recorded);
      const span = {
        spanContext: () => ({
          traceId: '0'.repeat(31) + '1',
          spanId: '0'.repeat(15) + '1',
          traceFlags: 1,
        }),
        setAttribute: () => span,
        setAttributes: () => span,
        addEvent: () => span,
        addLink: () => span,
        addLinks: () => span,
        setStatus: (status: { code: number; message?: string }) => {
          recorded.status = status;
          return span;
        },
        updateName: () => span,
        end: () => {
          recorded.ended = true;
        },
        isRecording: () => true,
        recordException: () => undefined,
      };
      return span;
    },
    startActiveSpan: () => {
      throw new Error('not used');
    },
  };
  return { provider: { getTracer: () => tracer }, spans };
}

class SiteRestConnector extends RestConnector {
  readonly seen: string[] = [];

  protected override prepareRequest(request: RestRequest, dataset: DatasetContext): RestRequest {
    this.seen.push(`${dataset.name}:${request.dataPointName ?? '-'}`);
    return {
      ...request,
      url: `${request.url}?unit=F`,
      headers: { ...request.headers, 'x-api-key': 'k-123' },
    };
  }

  protected override transformData(data: unknown): unknown {
    const { currentTemperature, desiredTemperature } = data as Record<string, number>;
    return {
      current: Math.round((((currentTemperature ?? 0) - 32) * 5) / 9),
      desired: Math.round((((desiredTemperature ?? 0) - 32) * 5) / 9),
    };
  }
}

describe('RestConnector customisation and telemetry', () => {
  it('lets a subclass prepare each request and reshape the data', async () => {
    const server = await startThermostatServer({
      stepInMs: 3_600_000,
      initialState: { currentTemperature: 68, desiredTemperature: 77 },
    });
    onTestFinished(() => server.close());
    const harness = await startRestHarness({
      device: restDevice(server.url),
      assets: restAsset([
        restDataset('status', '/thermostat', {
          dataPoints: [
            { name: 'currentTemperature', dataSource: '/api/thermostat/current' },
            { name: 'desiredTemperature', dataSource: '/api/thermostat/desired' },
          ],
        }),
      ]),
    });
    const connector = new SiteRestConnector({
      settings: await harness.sandbox.settingsFor('connector-0'),
    });
    onTestFinished(() => connector.stop());
    await connector.start();
    await harness.subscriber.waitFor(1, { timeoutInMs: 20_000 });
    expect(harness.json('status')[0]).toEqual({ current: 20, desired: 25 });
    const request = server.requests.find((r) => r.path === '/api/thermostat/current')!;
    expect(request.search).toBe('?unit=F');
    expect(request.headers['x-api-key']).toBe('k-123');
    expect(connector.seen).toEqual(
      expect.arrayContaining(['status:currentTemperature', 'status:desiredTemperature']),
    );
  });

  it('records a span per HTTP request with the request attributes, failed ones with an error status', async () => {
    const server = await startThermostatServer({ stepInMs: 3_600_000 });
    onTestFinished(() => server.close());
    server.faults.set('/api/thermostat/desired', { status: 503, times: 1 });
    const harness = await startRestHarness({
      device: restDevice(server.url),
      assets: restAsset([
        restDataset('status', '/thermostat', {
          dataPoints: [
            { name: 'currentTemperature', dataSource: '/api/thermostat/current' },
            { name: 'desiredTemperature', dataSource: '/api/thermostat/desired' },
          ],
        }),
      ]),
    });
    const { provider, spans } = recordingTracerProvider();
    await harness.start({
      telemetry: { tracerProvider: provider },
      retry: { retries: 2, minDelayInMs: 20 },
    });
    await harness.subscriber.waitFor(1, { timeoutInMs: 20_000 });
    await eventually(() => {
      const requests = spans.filter((s) => s.name === 'GET' && s.ended);
      const desired = requests.filter(
        (s) => s.attributes['aio.data_point'] === 'desiredTemperature',
      );
      expect(desired.length).toBeGreaterThanOrEqual(2);
      expect(desired[0]!.status?.code).toBe(2); // SpanStatusCode.ERROR
      expect(desired[0]!.status?.message).toMatch(/answered 503/);
      expect(desired[0]!.attributes).toEqual({
        'http.request.method': 'GET',
        'url.full': `${server.url}/api/thermostat/desired`,
        'server.address': '127.0.0.1',
        'server.port': server.port,
        'aio.device': 'thermostat-device',
        'aio.asset': 'thermostat',
        'aio.dataset': 'status',
        'aio.data_point': 'desiredTemperature',
      });
      expect(desired.at(-1)!.status).toBeUndefined();
      // the base class's spans are there too
      expect(spans.some((s) => s.name === 'sample status')).toBe(true);
    });
  });
});
