import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  AdrClient,
  MqttSession,
  type AdrClientOptions,
  type Asset,
  type Device,
} from '@aio-connector/core';
import { startAdrService, type AdrServiceEmulator } from '@aio-connector/devkit';
import {
  eventually,
  startSubscriber,
  startTestBroker,
  type ReceivedMessage,
  type TestBroker,
} from '@aio-connector/testing';

const uniqueId = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;
const json = (message: ReceivedMessage): Record<string, unknown> =>
  JSON.parse(message.payload.toString('utf8')) as Record<string, unknown>;
const property = (message: ReceivedMessage, name: string): string | undefined =>
  message.userProperties.find(([key]) => key === name)?.[1];
const eventOf = (message: ReceivedMessage): string => message.topic.split('/').at(-1) ?? '';

const oven: Device = {
  endpoints: { inbound: { rest: { address: 'http://127.0.0.1:8080', endpointType: 'rest' } } },
  version: 2,
};
const ovenAsset: Asset = {
  deviceRef: { deviceName: 'oven', endpointName: 'rest' },
  version: 5,
  datasets: [{ name: 'temperature' }, { name: 'humidity' }],
};

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker();
});

afterAll(async () => {
  await broker.close();
});

async function connect(clientId: string): Promise<MqttSession> {
  const session = new MqttSession(
    { hostname: broker.host, port: broker.port, clientId, useTls: false },
    { reconnect: { minDelayInMs: 50, maxDelayInMs: 500 } },
  );
  onTestFinished(() => {
    session.destroy();
  });
  await session.connect({ signal: AbortSignal.timeout(10_000) });
  return session;
}

async function setup(options: AdrClientOptions = {}): Promise<{
  adr: AdrClient;
  emulator: AdrServiceEmulator;
  wire: Awaited<ReturnType<typeof startSubscriber>>;
  clientId: string;
}> {
  const emulator = await startAdrService(await connect(uniqueId('adr-service')), {
    devices: { oven },
    assets: { 'oven-asset': ovenAsset },
  });
  onTestFinished(() => emulator.close());
  const clientId = uniqueId('connector');
  const wire = await startSubscriber(
    broker.url,
    `akri/connector/resources/telemetry/${clientId}/#`,
  );
  onTestFinished(() => wire.close());
  const adr = new AdrClient(await connect(clientId), options);
  onTestFinished(() => adr.close());
  return { adr, emulator, wire, clientId };
}

describe('AdrClient runtime health (integration)', () => {
  it('sends one telemetry for a repeated health, with the Thing Model wrapper and QoS 1', async () => {
    const { adr, emulator, wire, clientId } = await setup();
    adr.health.reportDataset(
      'oven',
      'rest',
      'oven-asset',
      'temperature',
      { status: 'Available' },
      5,
    );
    adr.health.reportDataset(
      'oven',
      'rest',
      'oven-asset',
      'temperature',
      { status: 'Available' },
      5,
    );
    adr.health.reportDataset(
      'oven',
      'rest',
      'oven-asset',
      'temperature',
      { status: 'Available' },
      5,
    );
    adr.health.reportDeviceEndpoint(
      'oven',
      'rest',
      { status: 'Unavailable', message: 'refused', reasonCode: 'ConnectionRefused' },
      2,
    );
    await adr.health.flush();
    // a stream of the same asset is sent after anything queued for the asset: when it arrives,
    // every dataset message has arrived too
    adr.health.reportStream('oven', 'rest', 'oven-asset', 'video', { status: 'Available' }, 5);
    await adr.health.flush();
    await wire.waitFor((message) => eventOf(message) === 'streamRuntimeHealthEvent');
    await wire.waitFor(3);
    const received = wire.messages.filter(
      (message) => eventOf(message) !== 'streamRuntimeHealthEvent',
    );
    expect(received.map((message) => message.topic)).toEqual([
      `akri/connector/resources/telemetry/${clientId}/oven/rest/datasetRuntimeHealthEvent`,
      `akri/connector/resources/telemetry/${clientId}/oven/rest/deviceEndpointRuntimeHealthEvent`,
    ]);
    const [dataset, endpoint] = received as [ReceivedMessage, ReceivedMessage];
    expect(dataset.qos).toBe(1);
    expect(dataset.messageExpiryInterval).toBe(10);
    expect(dataset.contentType).toBe('application/json');
    expect(property(dataset, '__protVer')).toBe('1.0');
    expect(property(dataset, '__srcId')).toBe(clientId);
    const body = json(dataset)['datasetRuntimeHealthEvent'] as {
      assetName: string;
      datasets: { datasetName: string; runtimeHealth: Record<string, unknown> }[];
    };
    expect(Object.keys(json(dataset))).toEqual(['datasetRuntimeHealthEvent']);
    expect(body.assetName).toBe('oven-asset');
    expect(body.datasets).toHaveLength(1);
    expect(body.datasets[0]?.datasetName).toBe('temperature');
    expect(Object.keys(body.datasets[0]?.runtimeHealth ?? {})).toEqual([
      'version',
      'status',
      'lastUpdateTime',
    ]);
    expect(body.datasets[0]?.runtimeHealth).toMatchObject({ version: 5, status: 'Available' });
    expect(json(endpoint)).toEqual({
      deviceEndpointRuntimeHealthEvent: {
        runtimeHealth: {
          version: 2,
          status: 'Unavailable',
          lastUpdateTime: expect.stringMatching(/Z$/) as unknown,
          message: 'refused',
          reasonCode: 'ConnectionRefused',
        },
      },
    });
    // the emulator recorded the same messages
    await expect
      .poll(() =>
        emulator
          .health()
          .map((event) => [event.event, event.clientId, event.entries.length])
          .sort(),
      )
      .toEqual([
        ['datasetRuntimeHealthEvent', clientId, 1],
        ['deviceEndpointRuntimeHealthEvent', clientId, 1],
        ['streamRuntimeHealthEvent', clientId, 1],
      ]);
    expect(
      emulator.health().find((event) => event.event === 'datasetRuntimeHealthEvent')?.entries[0],
    ).toMatchObject({
      assetName: 'oven-asset',
      datasetName: 'temperature',
      version: 5,
    });
  });

  it('drops a report for an older version of the definition', async () => {
    const { adr, wire } = await setup();
    adr.health.reportDataset(
      'oven',
      'rest',
      'oven-asset',
      'temperature',
      { status: 'Available' },
      5,
    );
    adr.health.reportDataset(
      'oven',
      'rest',
      'oven-asset',
      'temperature',
      { status: 'Unavailable', message: 'stale' },
      4,
    );
    adr.health.reportDataset('oven', 'rest', 'oven-asset', 'humidity', { status: 'Available' }, 5);
    await adr.health.flush();
    const received = await wire.waitFor(2);
    expect(received).toHaveLength(2);
    expect(received.map((message) => JSON.stringify(json(message)))).not.toContain('stale');
  });

  it('re-sends the last health every interval, batched per asset, until paused', async () => {
    const { adr, emulator, wire } = await setup({ healthIntervalInMs: 1_000 });
    adr.health.reportDataset(
      'oven',
      'rest',
      'oven-asset',
      'temperature',
      { status: 'Available' },
      5,
    );
    adr.health.reportDataset(
      'oven',
      'rest',
      'oven-asset',
      'humidity',
      { status: 'Unavailable', message: 'HTTP 503' },
      5,
    );
    adr.health.reportDeviceEndpoint('oven', 'rest', { status: 'Available' }, 2);
    await adr.health.flush();
    const first = await wire.waitFor(3);
    const firstTime = Date.parse(
      (
        json(first[0]!)['datasetRuntimeHealthEvent'] as {
          datasets: { runtimeHealth: { lastUpdateTime: string } }[];
        }
      ).datasets[0]!.runtimeHealth.lastUpdateTime,
    );
    // the periodic re-send: both datasets in one message, and the device endpoint
    const batched = await wire.waitFor(
      (message) =>
        eventOf(message) === 'datasetRuntimeHealthEvent' &&
        (json(message)['datasetRuntimeHealthEvent'] as { datasets: unknown[] }).datasets.length ===
          2,
      { timeoutInMs: 10_000 },
    );
    // after a pause of the asset only the device endpoint is re-sent
    adr.health.pause('oven', 'rest', 'oven-asset');
    const pausedAt = Date.now();
    const resent = json(batched[0]!)['datasetRuntimeHealthEvent'] as {
      datasets: {
        datasetName: string;
        runtimeHealth: { lastUpdateTime: string; status: string };
      }[];
    };
    expect(
      resent.datasets.map((dataset) => [dataset.datasetName, dataset.runtimeHealth.status]),
    ).toEqual([
      ['temperature', 'Available'],
      ['humidity', 'Unavailable'],
    ]);
    expect(Date.parse(resent.datasets[0]!.runtimeHealth.lastUpdateTime)).toBeGreaterThan(firstTime);
    await expect
      .poll(() => emulator.health().some((event) => event.entries.length === 2), {
        timeout: 10_000,
      })
      .toBe(true);

    const timeOf = (message: ReceivedMessage): number => {
      const body = json(message);
      const health =
        (
          body['deviceEndpointRuntimeHealthEvent'] as
            { runtimeHealth?: { lastUpdateTime: string } } | undefined
        )?.runtimeHealth ??
        (
          body['datasetRuntimeHealthEvent'] as {
            datasets: { runtimeHealth: { lastUpdateTime: string } }[];
          }
        ).datasets[0]?.runtimeHealth;
      return Date.parse(health?.lastUpdateTime ?? '');
    };
    // two re-sends of the device endpoint built after the pause prove two intervals passed
    await eventually(
      () => {
        expect(
          wire.messages.filter(
            (message) =>
              eventOf(message) === 'deviceEndpointRuntimeHealthEvent' && timeOf(message) > pausedAt,
          ).length,
        ).toBeGreaterThanOrEqual(2);
      },
      { timeoutInMs: 15_000 },
    );
    const datasetsAfterPause = wire.messages.filter(
      (message) => eventOf(message) === 'datasetRuntimeHealthEvent' && timeOf(message) > pausedAt,
    );
    expect(datasetsAfterPause).toEqual([]);
  });

  it('measures the periodic re-send throughput', async () => {
    const { adr, wire } = await setup({ healthIntervalInMs: 1_000 });
    const arrivals: number[] = [];
    wire.client.on('message', () => arrivals.push(performance.now()));
    const assets = 500;
    const datasets = 4;
    for (let a = 0; a < assets; a++)
      for (let d = 0; d < datasets; d++)
        adr.health.reportDataset(
          'oven',
          'rest',
          `asset-${a}`,
          `dataset-${d}`,
          { status: 'Available' },
          1,
        );
    await adr.health.flush();
    await wire.waitFor(assets * datasets, { timeoutInMs: 20_000 });
    const before = wire.messages.length;
    // two intervals of periodic re-send: one message per asset each
    await wire.waitFor(before + 2 * assets, { timeoutInMs: 20_000 });
    const tick = arrivals.slice(before, before + assets);
    const burstInMs = (tick.at(-1) ?? 0) - (tick[0] ?? 0);
    console.info(
      `health re-send of ${assets} assets x ${datasets} datasets every 1 s: one tick's ${assets} messages ` +
        `(${assets * datasets} healths) arrived within ${burstInMs.toFixed(0)} ms ` +
        `(${((assets / Math.max(burstInMs, 1)) * 1000).toFixed(0)} messages/s)`,
    );
    const batch = json(wire.messages[before]!)['datasetRuntimeHealthEvent'] as {
      datasets: unknown[];
    };
    expect(batch.datasets).toHaveLength(datasets);
  });
});
