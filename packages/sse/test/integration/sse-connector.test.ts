import { afterEach, describe, expect, it } from 'vitest';
import {
  MqttSession,
  StateStoreClient,
  type Asset,
  type AssetEventGroup,
  type Device,
} from '@aio-connector/core';
import { startThermostatEventServer } from '@aio-connector/devkit';
import { SseConnector, type SseConnectorOptions } from '@aio-connector/sse';
import { eventually, type ReceivedMessage } from '@aio-connector/testing';
import {
  startConnectorSandbox,
  type ConnectorSandbox,
} from '../../../core/test/integration/support/connector-sandbox.ts';

const deviceName = 'sse-thermostat';
const endpointName = 'sse-endpoint';

const device = (address: string): Device => ({
  enabled: true,
  uuid: 'dddd-5555',
  version: 2,
  endpoints: {
    inbound: { [endpointName]: { address, endpointType: 'Microsoft.Sse', version: '1' } },
  },
});

const statusGroup: AssetEventGroup = {
  name: 'status',
  dataSource: '/events',
  events: [
    {
      name: 'thermostat_status_changed',
      dataSource: 'thermostat_status_changed',
      destinations: [
        { target: 'Mqtt', configuration: { topic: 'sse/{assetName}/status', qos: 'Qos1' } },
      ],
    },
  ],
};

const alarmGroup: AssetEventGroup = {
  name: 'alarms',
  dataSource: 'events',
  defaultDestinations: [
    { target: 'Mqtt', configuration: { topic: 'sse/{assetName}/{eventGroupName}/{eventName}' } },
  ],
  events: [{ name: 'alarm', dataSource: 'alarm' }],
};

const asset = (overrides: Partial<Asset> = {}): Asset => ({
  deviceRef: { deviceName, endpointName },
  uuid: 'aaaa-6666',
  version: 3,
  eventGroups: [statusGroup, alarmGroup],
  ...overrides,
});

let sandbox: ConnectorSandbox | undefined;
let connectors: SseConnector[] = [];
let cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const connector of connectors) await connector.stop();
  for (const cleanup of cleanups.reverse()) await cleanup();
  await sandbox?.close();
  sandbox = undefined;
  connectors = [];
  cleanups = [];
});

async function setup(
  assetOverrides: Partial<Asset> = {},
  serverOptions: Parameters<typeof startThermostatEventServer>[0] = {},
) {
  const source = await startThermostatEventServer({
    intervalInMs: 0,
    path: ['/events', '/mirror'],
    ...serverOptions,
  });
  cleanups.push(() => source.close());
  sandbox = await startConnectorSandbox({
    devices: { [deviceName]: device(source.origin) },
    assets: { thermostat: asset(assetOverrides) },
  });
  return { source, box: sandbox };
}

async function startConnector(box: ConnectorSandbox, options: SseConnectorOptions = {}) {
  const connector = new SseConnector({
    settings: await box.settingsFor('connector-0'),
    healthIntervalInMs: 60_000,
    mountMonitor: { debounceInMs: 50, rescanIntervalInMs: 500 },
    reconnect: { minDelayInMs: 20, maxDelayInMs: 500 },
    ...options,
  });
  connectors.push(connector);
  await connector.start();
  return connector;
}

const text = (message: ReceivedMessage): string => message.payload.toString('utf8');
const property = (message: ReceivedMessage, name: string): string | undefined =>
  message.userProperties.find(([key]) => key === name)?.[1];

function eventStatus(box: ConnectorSandbox, group: string, event: string) {
  return box.adr
    .assetStatus('thermostat')
    ?.eventGroups?.find((g) => g.name === group)
    ?.events?.find((e) => e.name === event);
}

describe('SseConnector end to end', () => {
  it('routes messages by event name to two event groups over one shared stream, and datasets over their own', async () => {
    const { source, box } = await setup({
      datasets: [
        {
          name: 'everything',
          dataSource: '/mirror',
          destinations: [{ target: 'Mqtt', configuration: { topic: 'sse/{assetName}/all' } }],
        },
      ],
    });
    const subscriber = await box.subscribe('sse/#');
    const connector = await startConnector(box);
    await source.waitForClients(2);
    source.send({ event: 'thermostat_status_changed', data: { desired: 72, current: 70.5 } });
    source.send({ event: 'alarm', data: { code: 'OVER_TEMP', temperature: 80 } });
    source.send({ event: 'noise', data: 'not for anyone on /events' });
    source.send({ data: 'plain text, default event name' });
    source.send({ event: 'thermostat_status_changed', data: { desired: 72, current: 71 } });
    await subscriber.waitFor(7, { timeoutInMs: 20_000 });
    const byTopic = (topic: string) => subscriber.messages.filter((m) => m.topic === topic);
    const status = byTopic('sse/thermostat/status');
    const alarms = byTopic('sse/thermostat/alarms/alarm');
    const all = byTopic('sse/thermostat/all');
    expect(status.map(text)).toEqual([
      '{"desired":72,"current":70.5}',
      '{"desired":72,"current":71}',
    ]);
    expect(status.map((m) => property(m, 'sse-id'))).toEqual(['1', '5']);
    expect(status[0]!.qos).toBe(1);
    expect(status[0]!.contentType).toBe('application/json');
    expect(property(status[0]!, 'sse-event')).toBe('thermostat_status_changed');
    expect(alarms.map(text)).toEqual(['{"code":"OVER_TEMP","temperature":80}']);
    expect(property(alarms[0]!, 'sse-id')).toBe('2');
    // the dataset takes every message of its stream, JSON or not
    expect(all.map((m) => property(m, 'sse-id'))).toEqual(['1', '2', '3', '4', '5']);
    expect(all[2]!.contentType).toBe('text/plain; charset=utf-8');
    expect(text(all[3]!)).toBe('plain text, default event name');
    expect(property(all[3]!, 'sse-event')).toBe('message');
    // one request per distinct stream path: both event groups share /events
    expect(source.requests.filter((r) => r.path === '/events')).toHaveLength(1);
    expect(source.requests.filter((r) => r.path === '/mirror')).toHaveLength(1);
    const streams = connector.streams;
    expect(streams.map((s) => s.url).sort()).toEqual([
      `${source.origin}/events`,
      `${source.origin}/mirror`,
    ]);
    const events = streams.find((s) => s.url.endsWith('/events'))!;
    expect(events).toMatchObject({ connected: true, messages: 5, unmatched: 2, forwarded: 3 });
    // the inferred schema is registered and referenced in the CloudEvent and the status
    const statusSchema = property(status[0]!, 'dataschema');
    expect(statusSchema).toMatch(/^aio-sr:\/\//);
    expect(property(status[0]!, 'type')).toBe('Event');
    await eventually(() => {
      expect(eventStatus(box, 'status', 'thermostat_status_changed')).toMatchObject({
        name: 'thermostat_status_changed',
        messageSchemaReference: { schemaVersion: '1' },
      });
      expect(eventStatus(box, 'alarms', 'alarm')?.error).toBeUndefined();
    });
    // health: the events are Available while their stream delivers
    await eventually(() => {
      const entries = box.adr.health().flatMap((h) => h.entries);
      expect(entries).toContainEqual(
        expect.objectContaining({
          eventName: 'alarm',
          runtimeHealth: expect.objectContaining({ status: 'Available' }),
        }),
      );
    });
  });

  it("sends the messages no other event takes to a catch-all event ('*')", async () => {
    const { source, box } = await setup({
      eventGroups: [
        statusGroup,
        {
          name: 'rest',
          dataSource: '/events',
          events: [
            {
              name: 'everything-else',
              dataSource: '*',
              destinations: [{ target: 'Mqtt', configuration: { topic: 'sse/other' } }],
            },
          ],
        },
      ],
    });
    const subscriber = await box.subscribe('sse/#');
    const connector = await startConnector(box);
    await source.waitForClients(1);
    source.send({ event: 'thermostat_status_changed', data: { desired: 1, current: 1 } });
    source.send({ event: 'noise', data: 'n' });
    source.send({ data: { unnamed: true } });
    await subscriber.waitFor(3);
    const other = subscriber.messages.filter((m) => m.topic === 'sse/other');
    expect(other.map((m) => [property(m, 'sse-event'), text(m)])).toEqual([
      ['noise', 'n'],
      ['message', '{"unnamed":true}'],
    ]);
    expect(subscriber.messages.filter((m) => m.topic === 'sse/thermostat/status')).toHaveLength(1);
    expect(connector.streams[0]).toMatchObject({ messages: 3, unmatched: 0, forwarded: 3 });
  });

  it('reports non-retryable failures and skipped events on the status, and clears them on recovery', async () => {
    const { source, box } = await setup();
    source.faults.set({ kind: 'status', status: 401, times: 1 });
    await startConnector(box, { slowRetryInMs: 1_500, maxEventBytes: 4096 });
    await eventually(
      () => {
        const error = eventStatus(box, 'status', 'thermostat_status_changed')?.error;
        expect(error?.code).toBe('ERR_AIO_HTTP_STATUS');
        expect(error?.message).toMatch(/401.*tried again in 2 s/);
      },
      { timeoutInMs: 20_000 },
    );
    expect(eventStatus(box, 'alarms', 'alarm')?.error?.code).toBe('ERR_AIO_HTTP_STATUS');
    // the slow retry succeeds: the errors go away
    await source.waitForClients(1, { signal: AbortSignal.timeout(20_000) });
    await eventually(() => {
      expect(eventStatus(box, 'status', 'thermostat_status_changed')?.error).toBeUndefined();
      expect(eventStatus(box, 'alarms', 'alarm')?.error).toBeUndefined();
    });
    // an event larger than maxEventBytes is skipped and shown on its event only
    const subscriber = await box.subscribe('sse/#');
    source.send({ event: 'thermostat_status_changed', data: { padding: 'p'.repeat(10_000) } });
    source.send({ event: 'alarm', data: { code: 'UNDER_TEMP' } });
    await subscriber.waitFor(1);
    await eventually(() => {
      expect(eventStatus(box, 'status', 'thermostat_status_changed')?.error?.code).toBe(
        'ERR_AIO_SSE_EVENT_TOO_LARGE',
      );
    });
    expect(eventStatus(box, 'alarms', 'alarm')?.error).toBeUndefined();
    expect(subscriber.messages.map((m) => m.topic)).toEqual(['sse/thermostat/alarms/alarm']);
    // the next event of that kind goes through and clears it
    source.send({ event: 'thermostat_status_changed', data: { desired: 70, current: 70 } });
    await subscriber.waitFor(2);
    await eventually(() => {
      expect(eventStatus(box, 'status', 'thermostat_status_changed')?.error).toBeUndefined();
    });
  });

  it('reports an event whose group has no stream path as a configuration error and serves the others', async () => {
    const { source, box } = await setup({
      eventGroups: [
        statusGroup,
        {
          name: 'pathless',
          events: [{ name: 'lost', dataSource: 'alarm' }],
          defaultDestinations: alarmGroup.defaultDestinations!,
        },
      ],
    });
    const subscriber = await box.subscribe('sse/#');
    await startConnector(box);
    await eventually(
      () => {
        const error = eventStatus(box, 'pathless', 'lost')?.error;
        expect(error?.code).toBe('ERR_AIO_CONFIG');
        expect(error?.message).toMatch(/no dataSource/);
      },
      { timeoutInMs: 20_000 },
    );
    await source.waitForClients(1);
    source.send({ event: 'thermostat_status_changed', data: { desired: 1, current: 2 } });
    await subscriber.waitFor(1);
    expect(subscriber.messages[0]!.topic).toBe('sse/thermostat/status');
  });

  it("resumes after a connector restart from the last event id saved in the state store (resume: 'state-store')", async () => {
    const { source, box } = await setup();
    const session = new MqttSession({
      hostname: box.broker.host,
      port: box.broker.port,
      clientId: 'sse-resume-store',
      useTls: false,
    });
    await session.connect();
    cleanups.push(() => session.close());
    const storeClient = new StateStoreClient(session);
    cleanups.push(() => storeClient.close());
    const subscriber = await box.subscribe('sse/#');
    const first = await startConnector(box, { resume: 'state-store', resumeSaveIntervalInMs: 50 });
    await source.waitForClients(1);
    for (let i = 1; i <= 10; i++) source.send({ event: 'alarm', data: { n: i } });
    await subscriber.waitFor(10);
    await first.stop();
    const key = `aio-sse-last-event-id/${deviceName}/${endpointName}/thermostat/${source.origin}/events`;
    expect(new TextDecoder().decode((await storeClient.get(key)).value)).toBe('10');
    // events sent while no connector runs
    for (let i = 11; i <= 15; i++) source.send({ event: 'alarm', data: { n: i } });
    const second = await startConnector(box, { resume: 'state-store', resumeSaveIntervalInMs: 50 });
    await subscriber.waitFor(15, { timeoutInMs: 20_000 });
    for (let i = 16; i <= 20; i++) source.send({ event: 'alarm', data: { n: i } });
    await subscriber.waitFor(20, { timeoutInMs: 20_000 });
    const resumedRequest = source.requests.filter((r) => r.path === '/events').at(-1)!;
    expect(resumedRequest.headers['last-event-id']).toBe('10');
    expect(subscriber.messages.map((m) => property(m, 'sse-id'))).toEqual(
      Array.from({ length: 20 }, (_, i) => String(i + 1)),
    );
    expect(subscriber.messages.map((m) => (JSON.parse(text(m)) as { n: number }).n)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    await eventually(async () => {
      expect(new TextDecoder().decode((await storeClient.get(key)).value)).toBe('20');
    });
    await second.stop();
  });

  it("with resume 'none' a restarted connector starts from now", async () => {
    const { source, box } = await setup();
    const subscriber = await box.subscribe('sse/#');
    const first = await startConnector(box, { resume: 'none' });
    await source.waitForClients(1);
    source.send({ event: 'alarm', data: { n: 1 } });
    await subscriber.waitFor(1);
    await first.stop();
    source.send({ event: 'alarm', data: { n: 2 } });
    await startConnector(box, { resume: 'none' });
    await source.waitForClients(1);
    source.send({ event: 'alarm', data: { n: 3 } });
    await subscriber.waitFor(2);
    expect(subscriber.messages.map(text)).toEqual(['{"n":1}', '{"n":3}']);
    const requests = source.requests.filter((r) => r.path === '/events');
    expect(requests.map((r) => r.headers['last-event-id'])).toEqual([undefined, undefined]);
  });

  it('a saved last event id that cannot travel in a header (a line break) is dropped: the stream starts from now instead of stopping', async () => {
    const { source, box } = await setup({ eventGroups: [alarmGroup] });
    const saved: string[] = [];
    const subscriber = await box.subscribe('sse/#');
    await startConnector(box, {
      resume: {
        load: () => Promise.resolve('41\r\nX-Injected: yes'),
        save: (_key, id) => {
          saved.push(id);
          return Promise.resolve();
        },
      },
      resumeSaveIntervalInMs: 20,
      slowRetryInMs: 300_000,
    });
    await source.waitForClients(1);
    source.send({ event: 'alarm', data: { n: 1 } });
    await subscriber.waitFor(1);
    expect(subscriber.messages.map(text)).toEqual(['{"n":1}']);
    const requests = source.requests.filter((r) => r.path === '/events');
    expect(requests.map((r) => r.headers['last-event-id'])).toEqual([undefined]);
    expect(requests[0]!.headers['x-injected']).toBeUndefined();
    await eventually(() => {
      expect(saved.at(-1)).toBe('1');
    });
    expect(eventStatus(box, 'alarms', 'alarm')?.error).toBeUndefined();
  });

  it('resumes from memory when an asset update restarts its streams', async () => {
    const { source, box } = await setup({ eventGroups: [alarmGroup] });
    const subscriber = await box.subscribe('sse/#');
    await startConnector(box);
    await source.waitForClients(1);
    for (let i = 1; i <= 3; i++) source.send({ event: 'alarm', data: { n: i } });
    await subscriber.waitFor(3);
    // a changed definition (ADR ignores a bare version bump) restarts the asset's work
    await box.adr.setAsset(
      'thermostat',
      asset({ description: 'updated', eventGroups: [alarmGroup] }),
    );
    await eventually(
      () => {
        expect(source.requests.filter((r) => r.path === '/events')).toHaveLength(2);
      },
      { timeoutInMs: 20_000 },
    );
    expect(source.requests.at(-1)!.headers['last-event-id']).toBe('3');
    for (let i = 4; i <= 6; i++) source.send({ event: 'alarm', data: { n: i } });
    await subscriber.waitFor(6);
    expect(subscriber.messages.map(text)).toEqual(
      Array.from({ length: 6 }, (_, i) => `{"n":${i + 1}}`),
    );
  });

  it('reads the credentials again after a 401, so a rotated password is picked up', async () => {
    const source = await startThermostatEventServer({
      intervalInMs: 0,
      auth: { kind: 'basic', username: 'thermo', password: 'new-password' },
    });
    cleanups.push(() => source.close());
    const box = await startConnectorSandbox({
      devices: {
        [deviceName]: {
          ...device(source.origin),
          endpoints: {
            inbound: {
              [endpointName]: {
                address: source.origin,
                endpointType: 'Microsoft.Sse',
                authentication: {
                  method: 'UsernamePassword',
                  usernamePasswordCredentials: {
                    usernameSecretName: 'sse-secrets/username',
                    passwordSecretName: 'sse-secrets/password',
                  },
                },
              },
            },
          },
        },
      },
      assets: { thermostat: asset({ eventGroups: [alarmGroup] }) },
      secrets: { 'sse-secrets/username': 'thermo', 'sse-secrets/password': 'old-password' },
    });
    sandbox = box;
    const subscriber = await box.subscribe('sse/#');
    await startConnector(box, { slowRetryInMs: 300 });
    await eventually(
      () => {
        expect(eventStatus(box, 'alarms', 'alarm')?.error?.message).toMatch(/401/);
      },
      { timeoutInMs: 20_000 },
    );
    await box.mount.writeSecret('sse-secrets/password', 'new-password');
    await source.waitForClients(1, { signal: AbortSignal.timeout(20_000) });
    source.send({ event: 'alarm', data: { code: 'OVER_TEMP' } });
    await subscriber.waitFor(1);
    await eventually(() => {
      expect(eventStatus(box, 'alarms', 'alarm')?.error).toBeUndefined();
    });
    expect(source.requests.at(-1)!.headers['authorization']).toBe('Basic [redacted]');
  });

  it('stops reading the stream while the forwarding queue is full, and loses nothing', async () => {
    const { source, box } = await setup({ eventGroups: [alarmGroup] });
    // a persistent session: the broker keeps what arrives while the subscriber reconnects
    const subscriber = await box.subscribe('sse/#', { persistent: true });
    const connector = await startConnector(box, {
      forwarding: { maxQueueSize: 20, drainTimeoutInMs: 20_000 },
    });
    await source.waitForClients(1);
    source.send({ event: 'alarm', data: { n: 0 } });
    await subscriber.waitFor(1);
    await box.broker.stop();
    const total = 2000;
    for (let i = 1; i <= total; i++) source.send({ event: 'alarm', data: { n: i } });
    // reading stops once the queue holds its 20 messages: the rest waits in the socket
    await eventually(() => {
      expect(connector.forwardingStats.queued).toBe(20);
    });
    const held = connector.streams[0]!.messages;
    expect(held).toBeLessThanOrEqual(1 + 20 + 1);
    expect(source.clients).toBe(1);
    await box.broker.start();
    await subscriber.waitFor(total + 1, { timeoutInMs: 25_000 });
    const numbers = subscriber.messages.map((m) => (JSON.parse(text(m)) as { n: number }).n);
    expect(numbers).toEqual(Array.from({ length: total + 1 }, (_, i) => i));
    expect(connector.forwardingStats.dropped).toBe(0);
  });

  it('measures events per second through the connector to a subscriber', async () => {
    const { source, box } = await setup({ eventGroups: [alarmGroup] });
    const subscriber = await box.subscribe('sse/#');
    await startConnector(box);
    await source.waitForClients(1);
    const total = 5000;
    const started = performance.now();
    for (let i = 1; i <= total; i++) {
      source.send({ event: 'alarm', data: { n: i, temperature: 70 + (i % 7) } });
      if (i % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await subscriber.waitFor(total, { timeoutInMs: 120_000 });
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `SSE → MQTT: ${total} events in ${seconds.toFixed(2)} s = ${Math.round(total / seconds)} events/s`,
    );
    const numbers = subscriber.messages.map((m) => (JSON.parse(text(m)) as { n: number }).n);
    expect(numbers).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  });
});
