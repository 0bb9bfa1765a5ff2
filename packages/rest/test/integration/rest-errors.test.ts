/**
 * How the REST connector handles failing devices, end to end: what is retried (and how long it
 * waits), what is reported on the dataset's ADR status and health at once, what the MQTT
 * subscriber receives, and the recovery once the device behaves again.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startThermostatServer, type ThermostatServer } from '@aio-connector/devkit';
import { eventually } from '@aio-connector/testing';
import {
  restAsset,
  restDataset,
  restDevice,
  recordingLogger,
  startRestHarness,
  type RestHarness,
} from './support/rest-harness.ts';

const path = '/api/thermostat/current';

async function setup(
  datasetConfiguration?: string,
  samplingInterval = 300,
): Promise<{ server: ThermostatServer; harness: RestHarness }> {
  const server = await startThermostatServer({
    stepInMs: 3_600_000,
    initialState: { currentTemperature: 70.25, desiredTemperature: 72 },
  });
  onTestFinished(() => server.close());
  const harness = await startRestHarness({
    device: restDevice(server.url),
    assets: restAsset(
      [
        restDataset('current', path, {
          ...(datasetConfiguration === undefined ? {} : { datasetConfiguration }),
        }),
      ],
      { defaultDatasetsConfiguration: `{ "samplingInterval": ${samplingInterval} }` },
    ),
  });
  return { server, harness };
}

const requestsTo = (server: ThermostatServer) => server.requests.filter((r) => r.path === path);

describe('RestConnector failures', () => {
  it('retries 429 after the Retry-After delay, then forwards, with a clean status', async () => {
    const { server, harness } = await setup(undefined, 10_000);
    server.faults.set(path, { status: 429, retryAfter: 1, times: 1 });
    await harness.start({ retry: { retries: 3, minDelayInMs: 50 } });
    await harness.subscriber.waitFor(1, { timeoutInMs: 25_000 });
    const [limited, retried] = requestsTo(server);
    // both requests belong to the first tick (the interval is 10 s): the retry waited >= 1 s
    expect(retried!.receivedAt.getTime() - limited!.receivedAt.getTime()).toBeGreaterThanOrEqual(
      990,
    );
    expect(harness.json('current')).toEqual([{ currentTemperature: 70.25 }]);
    expect(harness.datasetError('current')).toBeUndefined();
    await eventually(() => {
      expect(harness.datasetHealth('current').map((h) => h.status)).toEqual(['Available']);
    });
  });

  it('reports a 500 that outlasts the retries, keeps sampling, and clears it once the device recovers', async () => {
    const { server, harness } = await setup();
    server.faults.set(path, { status: 500 });
    await harness.start({ retry: { retries: 1, minDelayInMs: 20 } });
    await eventually(
      () => {
        const error = harness.datasetError('current');
        expect(error?.code).toBe('ERR_AIO_HTTP_STATUS');
        expect(error?.message).toMatch(
          /GET http:\/\/127\.0\.0\.1:\d+\/api\/thermostat\/current answered 500/,
        );
        expect(harness.datasetHealth('current').at(-1)).toMatchObject({
          status: 'Unavailable',
          reasonCode: 'ERR_AIO_HTTP_STATUS',
        });
      },
      { timeoutInMs: 20_000 },
    );
    // each tick made the request and one retry
    expect(requestsTo(server).length).toBeGreaterThanOrEqual(2);
    expect(harness.subscriber.messages).toHaveLength(0);
    server.faults.clear();
    await harness.subscriber.waitFor(1, { timeoutInMs: 20_000 });
    expect(harness.json('current')[0]).toEqual({ currentTemperature: 70.25 });
    await eventually(() => {
      expect(harness.datasetError('current')).toBeUndefined();
      expect(harness.datasetHealth('current').at(-1)?.status).toBe('Available');
    });
  });

  it('reports a 404 at once without retrying, as a configuration problem', async () => {
    const { server, harness } = await setup(undefined, 60_000);
    server.faults.set(path, { status: 404 });
    await harness.start({ retry: { retries: 5, minDelayInMs: 20 } });
    await eventually(
      () => {
        expect(harness.datasetError('current')?.message).toMatch(/answered 404 Not Found/);
      },
      { timeoutInMs: 20_000 },
    );
    // one tick in a minute: one request, no retries
    expect(requestsTo(server)).toHaveLength(1);
  });

  it('times out a slow server with the dataset timeout, and recovers', async () => {
    const { server, harness } = await setup('{ "timeoutInMs": 300 }');
    server.faults.set(path, { delayInMs: 5_000 });
    await harness.start({ retry: { retries: 0 } });
    await eventually(
      () => {
        const error = harness.datasetError('current');
        expect(error?.code).toBe('ERR_AIO_HTTP_TIMEOUT');
        expect(error?.message).toContain('took too long');
      },
      { timeoutInMs: 20_000 },
    );
    expect(harness.subscriber.messages).toHaveLength(0);
    server.faults.clear();
    await harness.subscriber.waitFor(1, { timeoutInMs: 20_000 });
    await eventually(() => {
      expect(harness.datasetError('current')).toBeUndefined();
    });
  });

  it('rejects a body larger than maxResponseBytes without retrying', async () => {
    const { server, harness } = await setup(undefined, 60_000);
    server.faults.set(path, { bodyBytes: 256 * 1024, chunked: true });
    await harness.start({ http: { maxResponseBytes: 4096 }, retry: { retries: 5 } });
    await eventually(
      () => {
        const error = harness.datasetError('current');
        expect(error?.code).toBe('ERR_AIO_HTTP_BODY_TOO_LARGE');
        expect(error?.message).toContain('larger than 4096 bytes');
      },
      { timeoutInMs: 20_000 },
    );
    expect(requestsTo(server)).toHaveLength(1);
    expect(harness.subscriber.messages).toHaveLength(0);
  });

  it('applies the endpoint maxResponseBytes and the dataset maxResponseBytes', async () => {
    const server = await startThermostatServer({ stepInMs: 3_600_000 });
    onTestFinished(() => server.close());
    server.faults.set('/api/thermostat/current', { bodyBytes: 10_000, chunked: true });
    server.faults.set('/api/thermostat/desired', { chunked: true });
    const harness = await startRestHarness({
      device: restDevice(server.url, { additionalConfiguration: '{"maxResponseBytes": 2000}' }),
      assets: restAsset([
        restDataset('endpoint_cap', '/api/thermostat/current'),
        restDataset('dataset_cap', '/api/thermostat/desired', {
          datasetConfiguration: '{"maxResponseBytes": 10}',
        }),
      ]),
    });
    await harness.start({ retry: { retries: 0 } });
    await eventually(
      () => {
        expect(harness.datasetError('endpoint_cap')?.message).toContain('larger than 2000 bytes');
        expect(harness.datasetError('dataset_cap')?.message).toContain('larger than 10 bytes');
      },
      { timeoutInMs: 20_000 },
    );
  });

  it('reports malformed JSON without forwarding it', async () => {
    const { server, harness } = await setup();
    server.faults.set(path, { malformedJson: true });
    await harness.start();
    await eventually(
      () => {
        const error = harness.datasetError('current');
        expect(error?.code).toBe('ERR_AIO_HTTP_INVALID_JSON');
        expect(error?.message).toMatch(
          /content type "application\/json; charset=utf-8" but a body that is not valid JSON/,
        );
      },
      { timeoutInMs: 20_000 },
    );
    expect(harness.subscriber.messages).toHaveLength(0);
    server.faults.clear();
    await harness.subscriber.waitFor(1, { timeoutInMs: 20_000 });
    expect(harness.json('current')).toEqual([{ currentTemperature: 70.25 }]);
  });

  it('retries a connection reset mid-body and forwards the complete body', async () => {
    const { server, harness } = await setup(undefined, 60_000);
    server.faults.set(path, { reset: 'mid-body', bodyBytes: 64 * 1024, times: 2 });
    await harness.start({ retry: { retries: 3, minDelayInMs: 20 } });
    await harness.subscriber.waitFor(1, { timeoutInMs: 25_000 });
    expect(harness.json('current')).toEqual([{ currentTemperature: 70.25 }]);
    expect(requestsTo(server)).toHaveLength(3);
    expect(harness.datasetError('current')).toBeUndefined();
  });

  it('reports a connection reset mid-body that persists as a network error', async () => {
    const { server, harness } = await setup();
    server.faults.set(path, { reset: 'mid-body', bodyBytes: 64 * 1024 });
    await harness.start({ retry: { retries: 1, minDelayInMs: 20 } });
    await eventually(
      () => {
        expect(harness.datasetError('current')?.code).toBe('ERR_AIO_HTTP_NETWORK');
      },
      { timeoutInMs: 20_000 },
    );
    expect(harness.subscriber.messages).toHaveLength(0);
  });

  it('keeps secret query values of the dataSource out of body errors (malformed JSON, rejected content type)', async () => {
    const server = createServer((request, response) => {
      const path = new URL(request.url ?? '/', 'http://localhost').pathname;
      if (path === '/bad-json') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{"currentTemperature": ');
      } else {
        response.writeHead(200, { 'content-type': 'text/plain' });
        response.end('72 F');
      }
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    onTestFinished(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => {
            resolve();
          });
        }),
    );
    const { port } = server.address() as AddressInfo;
    const harness = await startRestHarness({
      device: restDevice(`http://127.0.0.1:${port}`),
      assets: restAsset([
        restDataset('json', '/bad-json?api_key=SECRET-JSON-KEY&unit=F'),
        restDataset('text', '/text?token=SECRET-TEXT-TOKEN'),
      ]),
    });
    const { logger, records } = recordingLogger();
    await harness.start({ logger, nonJson: 'reject', retry: { retries: 0 } });
    await eventually(
      () => {
        expect(harness.datasetError('json')?.code).toBe('ERR_AIO_HTTP_INVALID_JSON');
        expect(harness.datasetError('text')?.code).toBe('ERR_AIO_HTTP_CONTENT_TYPE');
      },
      { timeoutInMs: 20_000 },
    );
    const json = harness.datasetError('json')!;
    const text = harness.datasetError('text')!;
    // the URL is still named, with the secret values replaced
    expect(json.message).toContain('/bad-json?api_key=%5Bredacted%5D&unit=F');
    expect(text.message).toContain('/text?token=%5Bredacted%5D');
    const reported = JSON.stringify([json, text]);
    const logged = JSON.stringify(records, (_key, value: unknown) =>
      value instanceof Error
        ? { message: value.message, ...Object.fromEntries(Object.entries(value)) }
        : value,
    );
    for (const secret of ['SECRET-JSON-KEY', 'SECRET-TEXT-TOKEN']) {
      expect(reported).not.toContain(secret);
      expect(logged).not.toContain(secret);
    }
    expect(harness.subscriber.messages).toHaveLength(0);
  });
});
