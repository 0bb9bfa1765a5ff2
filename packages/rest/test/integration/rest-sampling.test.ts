/**
 * The REST connector end to end against the thermostat sample server over plain HTTP: what the
 * MQTT subscriber receives (bytes, content type, CloudEvent), the schema registered, the ADR
 * status and health; data point merging, POST, conditional GET, forward-only-on-change and
 * non-JSON bodies.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startThermostatServer, type ThermostatServer } from '@aio-connector/devkit';
import { eventually } from '@aio-connector/testing';
import { restAsset, restDataset, restDevice, startRestHarness } from './support/rest-harness.ts';

/** A thermostat whose readings do not change unless the test changes them. */
async function steadyThermostat(): Promise<ThermostatServer> {
  const server = await startThermostatServer({
    stepInMs: 3_600_000,
    initialState: { currentTemperature: 71.5, desiredTemperature: 72 },
  });
  onTestFinished(() => server.close());
  return server;
}

describe('RestConnector sampling', () => {
  it('forwards the body of GET address + dataSource as received, with its schema, status and health', async () => {
    const server = await steadyThermostat();
    const harness = await startRestHarness({
      device: restDevice(server.url),
      assets: restAsset([restDataset('status', '/api/thermostat/status')]),
    });
    await harness.start();
    await harness.subscriber.waitFor(1, { timeoutInMs: 20_000 });
    const message = harness.subscriber.messages[0]!;
    expect(message.topic).toBe('rest/status');
    expect(message.contentType).toBe('application/json');
    expect(message.payload.toString('utf8')).toBe(
      JSON.stringify({ status: 'heating', currentTemperature: 71.5, desiredTemperature: 72 }),
    );
    const request = server.requests.find((r) => r.path === '/api/thermostat/status')!;
    expect(request.method).toBe('GET');
    expect(request.headers['user-agent']).toBe('aio-connector-sdk');
    // the inferred schema is registered and referenced by the CloudEvent and the status
    const props = new Map(message.userProperties);
    expect(props.get('source')).toBe('ms-aio:thermostat-device/api/thermostat/status');
    const [schemaName, versions] = [...harness.sandbox.registry.schemas.entries()][0]!;
    const schema = versions.get('1')!;
    expect(JSON.parse(schema.schemaContent)).toMatchObject({
      type: 'object',
      properties: {
        status: { type: 'string' },
        currentTemperature: { type: 'number' },
        desiredTemperature: { type: 'integer' },
      },
    });
    expect(props.get('dataschema')).toBe(`aio-sr://${schema.namespace}/${schemaName}:1`);
    await eventually(() => {
      expect(harness.sandbox.adr.assetStatus('thermostat')?.datasets).toEqual([
        {
          name: 'status',
          messageSchemaReference: {
            schemaName,
            schemaRegistryNamespace: schema.namespace,
            schemaVersion: '1',
          },
        },
      ]);
      expect(harness.datasetHealth('status').at(-1)?.status).toBe('Available');
    });
    expect(harness.endpointError()).toBeUndefined();
  });

  it('merges data points into one message keyed by data point name (the official thermostat asset)', async () => {
    const server = await steadyThermostat();
    const harness = await startRestHarness({
      device: restDevice(server.url),
      assets: restAsset([
        restDataset('thermostat_status', '/thermostat', {
          dataPoints: [
            {
              name: 'currentTemperature',
              dataSource: '/api/thermostat/current',
              dataPointConfiguration: '{ "HttpRequestMethod": "GET", }',
            },
            {
              name: 'desiredTemperature',
              dataSource: '/api/thermostat/desired',
              dataPointConfiguration: '{ "HttpRequestMethod": "GET", }',
            },
            // a data point whose body is not wrapped in an object named after it
            { name: 'power', dataSource: '/api/thermostat/status' },
          ],
        }),
      ]),
    });
    await harness.start();
    await harness.subscriber.waitFor(1, { timeoutInMs: 20_000 });
    expect(harness.json('thermostat_status')[0]).toEqual({
      currentTemperature: 71.5,
      desiredTemperature: 72,
      power: { status: 'heating', currentTemperature: 71.5, desiredTemperature: 72 },
    });
    expect(harness.subscriber.messages[0]!.contentType).toBe('application/json');
    // the dataset's own dataSource is the CloudEvent source, not a request
    expect(new Map(harness.subscriber.messages[0]!.userProperties).get('source')).toBe(
      'ms-aio:thermostat-device/thermostat',
    );
    expect(server.requests.some((r) => r.path === '/thermostat')).toBe(false);
  });

  it('fails the whole sample when one data point fails, naming the data point, and recovers', async () => {
    const server = await steadyThermostat();
    server.faults.set('/api/thermostat/desired', { status: 404 });
    const harness = await startRestHarness({
      device: restDevice(server.url),
      assets: restAsset([
        restDataset('thermostat_status', '/thermostat', {
          dataPoints: [
            { name: 'currentTemperature', dataSource: '/api/thermostat/current' },
            { name: 'desiredTemperature', dataSource: '/api/thermostat/desired' },
          ],
        }),
      ]),
    });
    await harness.start();
    await eventually(
      () => {
        const error = harness.datasetError('thermostat_status');
        expect(error?.code).toBe('ERR_AIO_HTTP_STATUS');
        expect(error?.message).toMatch(
          /^data point "desiredTemperature": GET .*\/api\/thermostat\/desired answered 404/,
        );
      },
      { timeoutInMs: 20_000 },
    );
    expect(harness.subscriber.messages).toHaveLength(0);
    expect(harness.datasetHealth('thermostat_status').at(-1)?.status).toBe('Unavailable');
    server.faults.clear();
    await harness.subscriber.waitFor(1, { timeoutInMs: 20_000 });
    expect(harness.json('thermostat_status')[0]).toEqual({
      currentTemperature: 71.5,
      desiredTemperature: 72,
    });
    await eventually(() => {
      expect(harness.datasetError('thermostat_status')).toBeUndefined();
    });
  });

  it('sends a POST with the configured body and headers', async () => {
    const server = await steadyThermostat();
    const harness = await startRestHarness({
      device: restDevice(server.url, {
        additionalConfiguration: '{ "headers": { "X-Site": "plant-7" } }',
      }),
      assets: restAsset([
        restDataset('set_point', '/api/thermostat/desired', {
          datasetConfiguration:
            '{ "HttpRequestMethod": "POST", "body": { "desiredTemperature": 65 }, "headers": { "X-Request": "sample" }, }',
        }),
      ]),
    });
    await harness.start();
    await harness.subscriber.waitFor(1, { timeoutInMs: 20_000 });
    expect(harness.json('set_point')[0]).toEqual({
      message: 'Desired temperature set successfully',
    });
    const post = server.requests.find((r) => r.method === 'POST')!;
    expect(post.path).toBe('/api/thermostat/desired');
    expect(JSON.parse(post.body)).toEqual({ desiredTemperature: 65 });
    expect(post.headers['content-type']).toBe('application/json');
    expect(post.headers['x-site']).toBe('plant-7');
    expect(post.headers['x-request']).toBe('sample');
    expect(post.headers['if-none-match']).toBeUndefined();
    expect(server.state.desiredTemperature).toBe(65);
  });

  it('skips unchanged data on 304 Not Modified, and forwards again when the resource changes', async () => {
    const server = await steadyThermostat();
    const harness = await startRestHarness({
      device: restDevice(server.url),
      assets: restAsset([restDataset('desired', '/api/thermostat/desired')]),
    });
    await harness.start();
    await harness.subscriber.waitFor(1, { timeoutInMs: 20_000 });
    // later requests carry the ETag and get 304: nothing is forwarded
    await eventually(
      () => {
        const conditional = server.requests.filter((r) => r.headers['if-none-match'] !== undefined);
        expect(conditional.length).toBeGreaterThanOrEqual(3);
      },
      { timeoutInMs: 20_000 },
    );
    expect(harness.json('desired')).toEqual([{ desiredTemperature: 72 }]);
    expect(harness.datasetError('desired')).toBeUndefined();
    server.state.setDesiredTemperature(68);
    await harness.subscriber.waitFor(2, { timeoutInMs: 20_000 });
    expect(harness.json('desired')).toEqual([
      { desiredTemperature: 72 },
      { desiredTemperature: 68 },
    ]);
  });

  it('re-sends the last data on 304 with notModified: resend', async () => {
    const server = await steadyThermostat();
    const harness = await startRestHarness({
      device: restDevice(server.url),
      assets: restAsset([restDataset('desired', '/api/thermostat/desired')]),
    });
    await harness.start({ notModified: 'resend' });
    await harness.subscriber.waitFor(3, { timeoutInMs: 20_000 });
    expect(
      server.requests.filter((r) => r.headers['if-none-match'] !== undefined).length,
    ).toBeGreaterThanOrEqual(2);
    for (const message of harness.subscriber.messages.slice(0, 3))
      expect(message.payload.toString('utf8')).toBe('{"desiredTemperature":72}');
  });

  it('forwards only changes with forwardOnlyOnChange (without conditional GET)', async () => {
    const server = await steadyThermostat();
    const harness = await startRestHarness({
      device: restDevice(server.url),
      assets: restAsset([restDataset('desired', '/api/thermostat/desired')]),
    });
    await harness.start({ forwardOnlyOnChange: true, conditionalGet: false });
    await harness.subscriber.waitFor(1, { timeoutInMs: 20_000 });
    await eventually(
      () => {
        expect(server.requests.length).toBeGreaterThanOrEqual(4);
      },
      { timeoutInMs: 20_000 },
    );
    expect(server.requests.every((r) => r.headers['if-none-match'] === undefined)).toBe(true);
    expect(harness.subscriber.messages).toHaveLength(1);
    server.state.setDesiredTemperature(80);
    await harness.subscriber.waitFor(2, { timeoutInMs: 20_000 });
    expect(harness.json('desired')).toEqual([
      { desiredTemperature: 72 },
      { desiredTemperature: 80 },
    ]);
  });

  it('forwards non-JSON bodies as bytes with their content type, without a schema', async () => {
    const csv = 'time,temperature\n10:00,21.5\n';
    const server = createServer((request, response) => {
      if (request.url === '/report.csv') {
        response.writeHead(200, { 'content-type': 'text/csv; charset=utf-8' });
        response.end(csv);
      } else if (request.url === '/raw') {
        response.writeHead(200);
        response.end(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
      } else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => {
            resolve();
          });
        }),
    );
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const harness = await startRestHarness({
      device: restDevice(url),
      assets: restAsset([restDataset('report', '/report.csv'), restDataset('raw', '/raw')]),
    });
    await harness.start();
    await eventually(
      () => {
        const topics = new Set(harness.subscriber.messages.map((m) => m.topic));
        expect(topics).toEqual(new Set(['rest/report', 'rest/raw']));
      },
      { timeoutInMs: 20_000 },
    );
    const report = harness.subscriber.messages.find((m) => m.topic === 'rest/report')!;
    expect(report.payload.toString('utf8')).toBe(csv);
    expect(report.contentType).toBe('text/csv; charset=utf-8');
    const raw = harness.subscriber.messages.find((m) => m.topic === 'rest/raw')!;
    expect([...raw.payload]).toEqual([0xde, 0xad, 0xbe, 0xef]);
    expect(raw.contentType).toBe('application/octet-stream');
    // no schema for data that is not JSON
    expect(harness.sandbox.registry.schemas.size).toBe(0);
  });

  it('rejects non-JSON bodies with nonJson: reject', async () => {
    const server = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('21.5');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(
      () =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => {
            resolve();
          });
        }),
    );
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const harness = await startRestHarness({
      device: restDevice(url),
      assets: restAsset([restDataset('temperature', '/temperature')]),
    });
    await harness.start({ nonJson: 'reject' });
    await eventually(
      () => {
        const error = harness.datasetError('temperature');
        expect(error?.code).toBe('ERR_AIO_HTTP_CONTENT_TYPE');
        expect(error?.message).toContain('"text/plain"');
      },
      { timeoutInMs: 20_000 },
    );
    expect(harness.subscriber.messages).toHaveLength(0);
  });
});
