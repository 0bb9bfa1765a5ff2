/**
 * Validation of device endpoints and datasets for REST, end to end: what ends up on the ADR
 * status (device endpoint or dataset) and health, that valid datasets of the same asset keep
 * running, that unknown configuration keys are only warned about, and that a changed endpoint
 * (new address, new credentials) restarts sampling with a new client.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { startThermostatServer } from '@aio-connector/devkit';
import { eventually } from '@aio-connector/testing';
import {
  deviceName,
  recordingLogger,
  restAsset,
  restDataset,
  restDevice,
  startRestHarness,
} from './support/rest-harness.ts';

async function thermostat() {
  const server = await startThermostatServer({
    stepInMs: 3_600_000,
    initialState: { currentTemperature: 68, desiredTemperature: 71 },
  });
  onTestFinished(() => server.close());
  return server;
}

describe('RestConnector validation', () => {
  it('reports an address that is not http(s) on the device endpoint status, and serves nothing', async () => {
    const harness = await startRestHarness({
      device: restDevice('opc.tcp://10.0.0.7:4840'),
      assets: restAsset([restDataset('current', '/api/thermostat/current')]),
    });
    await harness.start();
    await eventually(
      () => {
        const error = harness.endpointError();
        expect(error?.code).toBe('ERR_AIO_CONFIG');
        expect(error?.message).toMatch(/address/);
        expect(error?.message).toMatch(/http/);
      },
      { timeoutInMs: 20_000 },
    );
    await eventually(() => {
      const health = harness.sandbox.adr
        .health()
        .flatMap((event) => event.entries)
        .filter((entry) => entry.assetName === undefined);
      expect(health.at(-1)?.runtimeHealth).toMatchObject({
        status: 'Unavailable',
        reasonCode: 'ERR_AIO_CONFIG',
      });
    });
    expect(harness.subscriber.messages).toHaveLength(0);
  });

  it('reports Certificate authentication over http: on the device endpoint status', async () => {
    const server = await thermostat();
    const harness = await startRestHarness({
      device: restDevice(server.url, {
        authentication: {
          method: 'Certificate',
          x509Credentials: { certificateSecretName: 'c/cert', keySecretName: 'c/key' },
        },
      }),
      assets: restAsset([restDataset('current', '/api/thermostat/current')]),
    });
    await harness.start();
    await eventually(
      () => {
        expect(harness.endpointError()?.message).toMatch(
          /Certificate authentication, which needs an https: address/,
        );
      },
      { timeoutInMs: 20_000 },
    );
    expect(server.requests).toHaveLength(0);
  });

  it('reports invalid datasets on their own status while the valid ones keep running', async () => {
    const server = await thermostat();
    const harness = await startRestHarness({
      device: restDevice(server.url),
      assets: restAsset([
        restDataset('good', '/api/thermostat/current'),
        restDataset('elsewhere', 'http://example.com/api/thermostat/current'),
        restDataset('get_with_body', '/api/thermostat/desired', {
          datasetConfiguration: '{ "body": { "desiredTemperature": 60 } }',
        }),
        restDataset('put', '/api/thermostat/desired', {
          datasetConfiguration: '{ "HttpRequestMethod": "PUT" }',
        }),
        restDataset('no_source_point', '/thermostat', {
          dataPoints: [{ name: 'currentTemperature' }],
        }),
        restDataset('bad_timeout', '/api/thermostat/current', {
          datasetConfiguration: '{ "timeout": "soon" }',
        }),
      ]),
    });
    await harness.start();
    await harness.subscriber.waitFor(1, { timeoutInMs: 20_000 });
    expect(harness.json('good')[0]).toEqual({ currentTemperature: 68 });
    await eventually(() => {
      expect(harness.datasetError('elsewhere')?.message).toMatch(
        /^asset "thermostat" dataset "elsewhere": field "dataSource" must be a path or a URL on the endpoint's origin http:\/\/127\.0\.0\.1:\d+, found "http:\/\/example\.com\/api\/thermostat\/current"$/,
      );
      expect(harness.datasetError('get_with_body')?.message).toBe(
        'asset "thermostat" dataset "get_with_body" datasetConfiguration body needs "HttpRequestMethod": "POST" (the request is a GET)',
      );
      expect(harness.datasetError('put')?.message).toBe(
        'asset "thermostat" dataset "put" datasetConfiguration HttpRequestMethod must be "GET" or "POST", found "PUT"',
      );
      expect(harness.datasetError('no_source_point')?.message).toMatch(
        /data point "currentTemperature" has no dataSource/,
      );
      expect(harness.datasetError('bad_timeout')?.message).toMatch(
        /timeout must be a number of milliseconds or an ISO 8601 duration/,
      );
      for (const name of ['elsewhere', 'get_with_body', 'put', 'no_source_point', 'bad_timeout'])
        expect(harness.datasetError(name)?.code).toBe('ERR_AIO_CONFIG');
      expect(harness.datasetError('good')).toBeUndefined();
    });
    expect(server.requests.every((r) => r.path === '/api/thermostat/current')).toBe(true);
    expect(harness.subscriber.messages.every((m) => m.topic === 'rest/good')).toBe(true);
  });

  it('warns about unknown configuration keys without failing the dataset', async () => {
    const server = await thermostat();
    const { logger, records } = recordingLogger();
    const harness = await startRestHarness({
      device: restDevice(server.url, { additionalConfiguration: '{ "proxy": "http://p:3128" }' }),
      assets: restAsset([
        restDataset('current', '/api/thermostat/current', {
          datasetConfiguration: '{ "HttpRequestMetod": "GET", "samplingInterval": 150, }',
        }),
      ]),
    });
    await harness.start({ logger });
    await harness.subscriber.waitFor(1, { timeoutInMs: 20_000 });
    const warnings = records.filter((r) => r.level === 'warn').map((r) => r.message);
    expect(warnings).toContain(
      'asset "thermostat" dataset "current" datasetConfiguration: unknown key "HttpRequestMetod" ignored (the REST connector reads HttpRequestMethod, headers, body, timeoutInMs, timeout, maxResponseBytes and the sampling interval)',
    );
    expect(warnings).toContain(
      `device "${deviceName}" endpoint "rest-endpoint" additionalConfiguration: unknown key "proxy" ignored (the REST connector reads headers, tlsServerName, maxResponseBytes)`,
    );
    expect(harness.datasetError('current')).toBeUndefined();
  });

  it('moves to the new address when the device endpoint changes', async () => {
    const first = await thermostat();
    const second = await startThermostatServer({
      stepInMs: 3_600_000,
      initialState: { currentTemperature: 55.5, desiredTemperature: 60 },
      auth: { kind: 'basic', username: 'u', password: 'p' },
    });
    onTestFinished(() => second.close());
    const harness = await startRestHarness({
      device: restDevice(first.url),
      assets: restAsset([restDataset('current', '/api/thermostat/current')]),
      secrets: { 'creds/username': 'u', 'creds/password': 'p' },
    });
    await harness.start({ notModified: 'resend' });
    await harness.subscriber.waitFor(1, { timeoutInMs: 20_000 });
    expect(harness.json('current')[0]).toEqual({ currentTemperature: 68 });
    const device = harness.sandbox.adr.device(deviceName)!;
    await harness.sandbox.adr.setDevice(deviceName, {
      ...restDevice(second.url, {
        authentication: {
          method: 'UsernamePassword',
          usernamePasswordCredentials: {
            usernameSecretName: 'creds/username',
            passwordSecretName: 'creds/password',
          },
        },
      }),
      version: (device.version ?? 1) + 1,
    });
    await eventually(
      () => {
        expect(harness.json('current')).toContainEqual({ currentTemperature: 55.5 });
      },
      { timeoutInMs: 20_000 },
    );
    const requestsToFirst = first.requests.length;
    expect(second.requests.every((r) => r.headers['authorization'] === 'Basic [redacted]')).toBe(
      true,
    );
    await eventually(() => {
      expect(second.requests.length).toBeGreaterThanOrEqual(3);
    });
    expect(first.requests.length).toBe(requestsToFirst);
  });
});
