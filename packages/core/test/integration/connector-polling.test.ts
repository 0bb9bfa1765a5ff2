import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AioError,
  PollingTelemetryConnector,
  type Asset,
  type DatasetContext,
  type Device,
} from '@aio-connector/core';
import { eventually } from '@aio-connector/testing';
import { startConnectorSandbox, type ConnectorSandbox } from './support/connector-sandbox.ts';

/** A tiny source: GET /seq returns {"seq": n} with n = 1, 2, 3...; failures are scripted. */
async function startCounterServer() {
  let seq = 0;
  const script: { status: number; retryAfter?: string }[] = [];
  const requestTimes: number[] = [];
  const server: Server = createServer((req, res) => {
    requestTimes.push(performance.now());
    const step = script.shift();
    if (step) {
      res.writeHead(step.status, {
        'content-type': 'application/json',
        ...(step.retryAfter === undefined ? {} : { 'retry-after': step.retryAfter }),
      });
      res.end(JSON.stringify({ error: `scripted ${step.status}` }));
      return;
    }
    if (req.url === '/seq') {
      seq += 1;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ seq, temperature: 20 + (seq % 5) }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    get seq() {
      return seq;
    },
    requestTimes,
    fail(...steps: { status: number; retryAfter?: string }[]) {
      script.push(...steps);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

class HttpStatusError extends AioError {
  constructor(status: number, retryAfter: string | null) {
    super('ERR_AIO_HTTP_STATUS', `HTTP ${status}`, {
      retryable: status >= 500,
      ...(retryAfter === null ? {} : { retryAfterInMs: Number(retryAfter) * 1_000 }),
    });
  }
}

class CounterConnector extends PollingTelemetryConnector {
  protected override async sampleDataset(ds: DatasetContext, { signal }: { signal: AbortSignal }) {
    const response = await fetch(new URL(ds.dataset.dataSource ?? '/', ds.endpoint.address), {
      signal,
    });
    if (!response.ok)
      throw new HttpStatusError(response.status, response.headers.get('retry-after'));
    return new Uint8Array(await response.arrayBuffer());
  }
}

const device = (address: string): Device => ({
  enabled: true,
  uuid: 'dddd-1111',
  version: 3,
  endpoints: {
    inbound: {
      'rest-endpoint': { address, endpointType: 'Contoso.Counter', version: '1' },
    },
  },
});

const asset = (overrides: Partial<Asset> = {}): Asset => ({
  deviceRef: { deviceName: 'counter-device', endpointName: 'rest-endpoint' },
  uuid: 'aaaa-2222',
  version: 7,
  defaultDatasetsConfiguration: '{ "samplingInterval": 100, }',
  datasets: [
    {
      name: 'counter',
      dataSource: '/seq',
      destinations: [
        {
          target: 'Mqtt',
          configuration: { topic: 'factory/{assetName}/{datasetName}', qos: 'Qos1' },
        },
      ],
    },
  ],
  ...overrides,
});

let sandbox: ConnectorSandbox | undefined;
let connectors: PollingTelemetryConnector[] = [];
let servers: { close(): Promise<void> }[] = [];

afterEach(async () => {
  for (const c of connectors) await c.stop();
  for (const s of servers) await s.close();
  await sandbox?.close();
  sandbox = undefined;
  connectors = [];
  servers = [];
});

async function setup(assetOverrides: Partial<Asset> = {}) {
  const source = await startCounterServer();
  servers.push(source);
  sandbox = await startConnectorSandbox({
    devices: { 'counter-device': device(source.url) },
    assets: { counter: asset(assetOverrides) },
  });
  return { source, sandbox };
}

async function startConnector(box: ConnectorSandbox, id = 'connector-0', extra = {}) {
  const connector = new CounterConnector({
    settings: await box.settingsFor(id),
    healthIntervalInMs: 60_000,
    mountMonitor: { debounceInMs: 50, rescanIntervalInMs: 500 },
    ...extra,
  });
  connectors.push(connector);
  await connector.start();
  return connector;
}

describe('PollingTelemetryConnector end to end', () => {
  it('forwards samples with the exact bytes and properties, registers the inferred schema and reports status and health', async () => {
    const { sandbox: box } = await setup();
    const subscriber = await box.subscribe('factory/#');
    await startConnector(box);
    await subscriber.waitFor(3, { timeoutInMs: 20_000 });
    const message = subscriber.messages[0]!;
    const body = JSON.parse(message.payload.toString('utf8')) as {
      seq: number;
      temperature: number;
    };
    expect(message.payload.toString('utf8')).toBe(
      JSON.stringify({ seq: body.seq, temperature: 20 + (body.seq % 5) }),
    );
    expect(message.topic).toBe('factory/counter/counter');
    expect(message.qos).toBe(1);
    expect(message.retain).toBe(false);
    expect(message.contentType).toBe('application/octet-stream');
    expect(message.messageExpiryInterval).toBe(10);
    const props = new Map(message.userProperties);
    expect(props.get('__protVer')).toBe('1.0');
    expect(props.get('__srcId')).toBe('connector-0');
    expect(props.get('__ts')).toMatch(/^\d{15}:\d{5}:/);
    // the schema registry got the inferred schema; the CloudEvent references it
    const [schemaName, versions] = [...box.registry.schemas.entries()][0]!;
    const schema = versions.get('1')!;
    expect(JSON.parse(schema.schemaContent)).toEqual({
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: { seq: { type: 'integer' }, temperature: { type: 'integer' } },
      required: ['seq', 'temperature'],
    });
    expect(schemaName).toBe(
      createHash('sha256').update(schema.schemaContent).digest('hex').toUpperCase(),
    );
    expect(props.get('dataschema')).toBe(`aio-sr://${schema.namespace}/${schemaName}:1`);
    expect(props.get('specversion')).toBe('1.0');
    expect(props.get('type')).toBe('DataSet');
    expect(props.get('source')).toBe('ms-aio:counter-device/seq');
    expect(props.get('subject')).toBe('counter/counter');
    expect(props.get('aiodeviceref')).toBe('ms-aio:dddd-1111_rest-endpoint');
    expect(props.get('aioassetref')).toBe('ms-aio:aaaa-2222');
    expect(message.userProperties.map(([name]) => name)).toEqual(
      [
        '__ts',
        'specversion',
        'id',
        'type',
        'source',
        'time',
        'subject',
        'dataschema',
        'aiodeviceref',
        'aioassetref',
        'traceparent',
        '__protVer',
        '__srcId',
      ].filter((name) => props.has(name)),
    );
    // samples arrive in order, one per tick
    const seqs = subscriber.messages.map(
      (m) => (JSON.parse(m.payload.toString('utf8')) as { seq: number }).seq,
    );
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    // ADR status: the dataset references the schema, no errors
    await eventually(() => {
      const status = box.adr.assetStatus('counter');
      expect(status?.config?.error).toBeUndefined();
      expect(status?.datasets).toEqual([
        {
          name: 'counter',
          messageSchemaReference: {
            schemaName,
            schemaRegistryNamespace: schema.namespace,
            schemaVersion: '1',
          },
        },
      ]);
    });
    const deviceStatus = box.adr.deviceStatus('counter-device', 'rest-endpoint');
    expect(deviceStatus?.endpoints?.inbound?.['rest-endpoint']).toEqual({});
    // ADR health: dataset Available at the asset's version
    await eventually(() => {
      const entries = box.adr.health().flatMap((h) => h.entries);
      expect(entries).toContainEqual(
        expect.objectContaining({
          datasetName: 'counter',
          version: 7,
          runtimeHealth: expect.objectContaining({ status: 'Available' }),
        }),
      );
    });
    // notifications were turned on before the definitions were read
    const actions = box.adr.requests.map((r) => r.action);
    expect(actions.indexOf('setNotificationPreferenceForDeviceUpdates')).toBeLessThan(
      actions.indexOf('getDevice'),
    );
    expect(actions.indexOf('setNotificationPreferenceForAssetUpdates')).toBeLessThan(
      actions.indexOf('getAsset'),
    );
  });

  it('reports source failures on the dataset status and health, retries, and clears them on recovery', async () => {
    const { source, sandbox: box } = await setup();
    const subscriber = await box.subscribe('factory/#');
    // a 404 fails fast (not retryable) and is reported; the dataset keeps its schedule
    source.fail(
      { status: 404 },
      { status: 404 },
      { status: 404 },
      { status: 404 },
      { status: 404 },
    );
    await startConnector(box, 'connector-0', { retry: { retries: 0 } });
    await eventually(
      () => {
        const status = box.adr.assetStatus('counter');
        expect(status?.datasets?.[0]?.error?.message).toBe('HTTP 404');
        expect(status?.datasets?.[0]?.error?.code).toBe('ERR_AIO_HTTP_STATUS');
      },
      { timeoutInMs: 20_000 },
    );
    await eventually(() => {
      expect(
        box.adr
          .health()
          .flatMap((h) => h.entries)
          .some((e) => e.runtimeHealth.status === 'Unavailable'),
      ).toBe(true);
    });
    // it recovers by itself once the source answers again
    await subscriber.waitFor(1, { timeoutInMs: 20_000 });
    await eventually(() => {
      expect(box.adr.assetStatus('counter')?.datasets?.[0]?.error).toBeUndefined();
    });
    const health = box.adr.health().flatMap((h) => h.entries);
    expect(health.at(-1)?.runtimeHealth.status).toBe('Available');
  });

  it('retries retryable failures within a tick, honouring Retry-After', async () => {
    const { source, sandbox: box } = await setup({
      defaultDatasetsConfiguration: '{ "samplingInterval": 5000 }',
    });
    const subscriber = await box.subscribe('factory/#');
    source.fail({ status: 503, retryAfter: '1' }, { status: 500 });
    await startConnector(box, 'connector-0', { retry: { retries: 5, minDelayInMs: 50 } });
    await subscriber.waitFor(1, { timeoutInMs: 20_000 });
    // three requests in one tick: 503 (Retry-After: 1), then 500 a second later, then success
    const [first, second, third] = source.requestTimes;
    expect(second! - first!).toBeGreaterThanOrEqual(990);
    expect(third! - second!).toBeLessThan(5_000);
    expect(JSON.parse(subscriber.messages[0]!.payload.toString('utf8'))).toMatchObject({ seq: 1 });
    expect(box.adr.assetStatus('counter')?.datasets?.[0]?.error).toBeUndefined();
  });

  it('restarts an asset with its new definition on update and stops it on delete', async () => {
    const { sandbox: box } = await setup();
    const subscriber = await box.subscribe('#');
    await startConnector(box);
    await eventually(() => {
      expect(subscriber.messages.some((m) => m.topic === 'factory/counter/counter')).toBe(true);
    });
    await box.adr.setAsset(
      'counter',
      asset({
        version: 8,
        datasets: [
          {
            name: 'counter',
            dataSource: '/seq',
            destinations: [{ target: 'Mqtt', configuration: { topic: 'moved/counter' } }],
          },
        ],
      }),
    );
    await eventually(
      () => {
        expect(subscriber.messages.some((m) => m.topic === 'moved/counter')).toBe(true);
      },
      { timeoutInMs: 20_000 },
    );
    const data = subscriber.messages.filter(
      (m) => m.topic === 'moved/counter' || m.topic === 'factory/counter/counter',
    );
    const movedAt = data.findIndex((m) => m.topic === 'moved/counter');
    expect(data.slice(movedAt).every((m) => m.topic === 'moved/counter')).toBe(true);
    // delete: the asset leaves the mount; forwarding stops
    await box.setEndpoints([
      { deviceName: 'counter-device', endpointName: 'rest-endpoint', assets: [] },
    ]);
    await eventually(() => {
      expect(box.adr.requests.filter((r) => r.action === 'getAsset').length).toBeGreaterThanOrEqual(
        1,
      );
    });
    const countAtDelete = await settledCount(subscriber, 'moved/counter');
    // three more intervals pass without new messages
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(subscriber.messages.filter((m) => m.topic === 'moved/counter').length).toBe(
      countAtDelete,
    );
  });

  it('loses nothing across a broker restart: every sample taken is delivered', async () => {
    const { source, sandbox: box } = await setup();
    const subscriber = await box.subscribe('factory/#', {
      persistent: true,
      clientId: 'restart-sub',
    });
    await startConnector(box);
    await subscriber.waitFor(3, { timeoutInMs: 20_000 });
    await box.broker.stop();
    const seqAtStop = source.seq;
    // samples keep being taken while the broker is away
    await eventually(() => {
      expect(source.seq).toBeGreaterThanOrEqual(seqAtStop + 3);
    });
    await box.broker.start();
    await eventually(
      () => {
        const seqs = new Set(
          subscriber.messages.map(
            (m) => (JSON.parse(m.payload.toString('utf8')) as { seq: number }).seq,
          ),
        );
        const last = source.seq - 2;
        for (let n = 1; n <= last; n++) expect(seqs.has(n), `sample ${n}`).toBe(true);
      },
      { timeoutInMs: 30_000 },
    );
  });
});

async function settledCount(
  subscriber: { messages: readonly { topic: string }[] },
  topic: string,
): Promise<number> {
  // wait until no message arrived for 300 ms (in-flight messages of the deleted asset land first)
  let count = -1;
  for (;;) {
    const now = subscriber.messages.filter((m) => m.topic === topic).length;
    if (now === count) return now;
    count = now;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}
