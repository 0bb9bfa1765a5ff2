import { afterEach, describe, expect, it } from 'vitest';
import {
  EventDrivenTelemetryConnector,
  PollingTelemetryConnector,
  sample,
  type Asset,
  type AssetContext,
  type DatasetContext,
  type Device,
} from '@aio-connector/core';
import { eventually } from '@aio-connector/testing';
import { startConnectorSandbox, type ConnectorSandbox } from './support/connector-sandbox.ts';

const device: Device = {
  uuid: 'dev-uuid',
  version: 1,
  endpoints: { inbound: { ep: { address: 'http://127.0.0.1:9', endpointType: 'Contoso.Fake' } } },
};

/** Samples a counter kept in memory (no network source needed). */
class MemoryConnector extends PollingTelemetryConnector {
  readonly counts = new Map<string, number>();
  protected override async sampleDataset(ds: DatasetContext) {
    const n = (this.counts.get(ds.name) ?? 0) + 1;
    this.counts.set(ds.name, n);
    return sample({ dataset: ds.name, n }, { userProperties: { origin: 'memory' } });
  }
}

let sandbox: ConnectorSandbox | undefined;
const stoppables: { stop(): Promise<void> }[] = [];

afterEach(async () => {
  for (const s of stoppables.splice(0)) await s.stop();
  await sandbox?.close();
  sandbox = undefined;
});

const fastOptions = {
  healthIntervalInMs: 60_000,
  mountMonitor: { debounceInMs: 50, rescanIntervalInMs: 500 },
};

describe('connector lifecycle', () => {
  it('keeps healthy datasets flowing when one dataset of the asset is invalid, and writes to the state store', async () => {
    const asset: Asset = {
      deviceRef: { deviceName: 'dev', endpointName: 'ep' },
      version: 2,
      defaultDatasetsConfiguration: '{ "samplingIntervalInMilliseconds": 100 }',
      datasets: [
        { name: 'good', destinations: [{ target: 'Mqtt', configuration: { topic: 'out/good' } }] },
        {
          name: 'bad-topic',
          destinations: [{ target: 'Mqtt', configuration: { topic: 'out/+/wild' } }],
        },
        {
          name: 'bad-interval',
          datasetConfiguration: '{ "samplingInterval": "often" }',
          destinations: [{ target: 'Mqtt', configuration: { topic: 'out/x' } }],
        },
        {
          name: 'kept',
          destinations: [
            { target: 'BrokerStateStore', configuration: { key: '{assetName}-latest' } },
          ],
        },
      ],
    };
    sandbox = await startConnectorSandbox({ devices: { dev: device }, assets: { machine: asset } });
    const subscriber = await sandbox.subscribe('out/#');
    const connector = new MemoryConnector({
      settings: await sandbox.settingsFor('connector-0'),
      ...fastOptions,
    });
    stoppables.push(connector);
    await connector.start();
    await subscriber.waitFor(2, { timeoutInMs: 20_000 });
    expect(new Set(subscriber.messages.map((m) => m.topic))).toEqual(new Set(['out/good']));
    expect(new Map(subscriber.messages[0]!.userProperties).get('origin')).toBe('memory');
    await eventually(() => {
      const status = sandbox!.adr.assetStatus('machine');
      const byName = new Map(status?.datasets?.map((d) => [d.name, d]));
      expect(byName.get('good')?.error).toBeUndefined();
      expect(byName.get('kept')?.error).toBeUndefined();
      expect(byName.get('bad-topic')?.error?.message).toMatch(
        /destinations\[0\]\.configuration\.topic/,
      );
      expect(byName.get('bad-interval')?.error?.message).toMatch(/samplingInterval/);
      expect(status?.config?.error).toBeUndefined();
    });
    // the state store destination got the latest sample under the resolved key
    await eventually(() => {
      const stored = sandbox!.store.engine.inspect(new TextEncoder().encode('machine-latest'));
      expect(stored).toBeDefined();
      expect(JSON.parse(new TextDecoder().decode(stored!.value))).toMatchObject({
        dataset: 'kept',
      });
    });
    expect(connector.counts.has('bad-topic')).toBe(false);
  });

  it('does not serve a disabled asset, and serves it once it is enabled', async () => {
    const asset: Asset = {
      deviceRef: { deviceName: 'dev', endpointName: 'ep' },
      enabled: false,
      defaultDatasetsConfiguration: '{ "samplingInterval": 100 }',
      datasets: [
        { name: 'd', destinations: [{ target: 'Mqtt', configuration: { topic: 'out/d' } }] },
      ],
    };
    sandbox = await startConnectorSandbox({ devices: { dev: device }, assets: { machine: asset } });
    const subscriber = await sandbox.subscribe('out/#');
    const connector = new MemoryConnector({
      settings: await sandbox.settingsFor('connector-0'),
      ...fastOptions,
    });
    stoppables.push(connector);
    await connector.start();
    await eventually(() => {
      expect(sandbox!.adr.requests.some((r) => r.action === 'getAsset')).toBe(true);
    });
    expect(connector.counts.size).toBe(0);
    await sandbox.adr.setAsset('machine', { ...asset, enabled: true });
    await subscriber.waitFor(1, { timeoutInMs: 20_000 });
    expect(connector.counts.get('d')).toBeGreaterThanOrEqual(1);
  });

  it('reports an unusable device endpoint on the device status and serves its assets once fixed', async () => {
    class RestOnly extends MemoryConnector {
      protected override validateEndpoint(endpoint: { endpoint: { address: string } }) {
        if (!endpoint.endpoint.address.startsWith('http'))
          throw new Error(`address must be http(s), found "${endpoint.endpoint.address}"`);
      }
    }
    const badDevice: Device = {
      version: 1,
      endpoints: {
        inbound: { ep: { address: 'opc.tcp://plc:4840', endpointType: 'Contoso.Fake' } },
      },
    };
    const asset: Asset = {
      deviceRef: { deviceName: 'dev', endpointName: 'ep' },
      defaultDatasetsConfiguration: '{ "samplingInterval": 100 }',
      datasets: [
        { name: 'd', destinations: [{ target: 'Mqtt', configuration: { topic: 'out/d' } }] },
      ],
    };
    sandbox = await startConnectorSandbox({
      devices: { dev: badDevice },
      assets: { machine: asset },
    });
    const subscriber = await sandbox.subscribe('out/#');
    const connector = new RestOnly({
      settings: await sandbox.settingsFor('connector-0'),
      ...fastOptions,
    });
    stoppables.push(connector);
    await connector.start();
    await eventually(() => {
      expect(
        sandbox!.adr.deviceStatus('dev', 'ep')?.endpoints?.inbound?.['ep']?.error?.message,
      ).toBe('address must be http(s), found "opc.tcp://plc:4840"');
      expect(sandbox!.adr.assetStatus('machine')?.config?.error?.code).toBe(
        'DeviceEndpointUnavailable',
      );
    });
    expect(connector.counts.size).toBe(0);
    await sandbox.adr.setDevice('dev', { ...device, version: 2 });
    await subscriber.waitFor(1, { timeoutInMs: 20_000 });
    await eventually(() => {
      expect(
        sandbox!.adr.deviceStatus('dev', 'ep')?.endpoints?.inbound?.['ep']?.error,
      ).toBeUndefined();
      expect(sandbox!.adr.assetStatus('machine')?.config?.error).toBeUndefined();
    });
  });

  it('hands leadership over: only the leader samples, and the other one takes over when it dies', async () => {
    const asset: Asset = {
      deviceRef: { deviceName: 'dev', endpointName: 'ep' },
      defaultDatasetsConfiguration: '{ "samplingInterval": 100 }',
      datasets: [
        { name: 'd', destinations: [{ target: 'Mqtt', configuration: { topic: 'out/d' } }] },
      ],
    };
    sandbox = await startConnectorSandbox({ devices: { dev: device }, assets: { machine: asset } });
    const subscriber = await sandbox.subscribe('out/#');
    const leaderElection = {
      positionId: 'memory-connector-leader',
      termInMs: 2_000,
      renewalInMs: 500,
    };
    const a = new MemoryConnector({
      settings: await sandbox.settingsFor('replica-a'),
      leaderElection,
      ...fastOptions,
    });
    const b = new MemoryConnector({
      settings: await sandbox.settingsFor('replica-b'),
      leaderElection,
      ...fastOptions,
    });
    stoppables.push(b);
    await a.start();
    await subscriber.waitFor(2, { timeoutInMs: 20_000 });
    await b.start();
    const senders = () =>
      new Set(subscriber.messages.map((m) => new Map(m.userProperties).get('__srcId')));
    // b campaigns but does not sample while a leads
    await subscriber.waitFor(subscriber.messages.length + 5, { timeoutInMs: 20_000 });
    expect(senders()).toEqual(new Set(['replica-a']));
    expect(b.counts.size).toBe(0);
    // a dies without resigning: b takes over within one term
    a.destroy();
    const killedAt = performance.now();
    await eventually(
      () => {
        expect(senders().has('replica-b')).toBe(true);
      },
      { timeoutInMs: 20_000 },
    );
    expect(performance.now() - killedAt).toBeLessThan(2_000 + 5_000);
  });
});

describe('data that is not valid for its destination', () => {
  it('reports a payload over the broker maximum packet size on that dataset only', async () => {
    class Sizes extends PollingTelemetryConnector {
      protected override async sampleDataset(ds: DatasetContext) {
        return ds.name === 'huge' ? new Uint8Array(64 * 1024) : { small: true };
      }
    }
    const asset: Asset = {
      deviceRef: { deviceName: 'dev', endpointName: 'ep' },
      defaultDatasetsConfiguration: '{ "samplingInterval": 100 }',
      defaultDatasetsDestinations: [
        { target: 'Mqtt', configuration: { topic: 'out/{datasetName}' } },
      ],
      datasets: [{ name: 'huge' }, { name: 'small' }],
    };
    sandbox = await startConnectorSandbox({
      devices: { dev: device },
      assets: { machine: asset },
      maximumPacketSize: 16 * 1024,
    });
    const subscriber = await sandbox.subscribe('out/#');
    const connector = new Sizes({
      settings: await sandbox.settingsFor('connector-0'),
      ...fastOptions,
    });
    stoppables.push(connector);
    await connector.start();
    await subscriber.waitFor(3, { timeoutInMs: 20_000 });
    expect(new Set(subscriber.messages.map((m) => m.topic))).toEqual(new Set(['out/small']));
    await eventually(() => {
      const byName = new Map(
        sandbox!.adr.assetStatus('machine')?.datasets?.map((d) => [d.name, d]),
      );
      expect(byName.get('huge')?.error?.code).toBe('ERR_AIO_PAYLOAD_TOO_LARGE');
      expect(byName.get('huge')?.error?.message).toMatch(/maximum packet size of 16384 bytes/);
      expect(byName.get('small')?.error).toBeUndefined();
    });
  });

  it('drops and reports messages when the queue overflows while the broker is away', async () => {
    const asset: Asset = {
      deviceRef: { deviceName: 'dev', endpointName: 'ep' },
      defaultDatasetsConfiguration: '{ "samplingInterval": 50 }',
      datasets: [
        { name: 'd', destinations: [{ target: 'Mqtt', configuration: { topic: 'out/d' } }] },
      ],
    };
    sandbox = await startConnectorSandbox({ devices: { dev: device }, assets: { machine: asset } });
    const connector = new MemoryConnector({
      settings: await sandbox.settingsFor('connector-0'),
      forwarding: { maxQueueSize: 5 },
      ...fastOptions,
    });
    stoppables.push(connector);
    await connector.start();
    await eventually(() => {
      expect(connector.counts.get('d')).toBeGreaterThanOrEqual(1);
    });
    await sandbox.broker.stop();
    await eventually(
      () => {
        expect(connector.forwardingStats.dropped).toBeGreaterThanOrEqual(3);
      },
      { timeoutInMs: 20_000 },
    );
    expect(connector.forwardingStats.queued).toBeLessThanOrEqual(5);
    await sandbox.broker.start();
    // the drop is reported on the dataset's status once ADR is reachable again
    await eventually(
      () => {
        const health = sandbox!.adr.health().flatMap((h) => h.entries);
        expect(health.some((e) => e.runtimeHealth.reasonCode === 'ERR_AIO_QUEUE_OVERFLOW')).toBe(
          true,
        );
      },
      { timeoutInMs: 20_000 },
    );
  });
});

describe('EventDrivenTelemetryConnector', () => {
  it('forwards stream data to the stream destinations (or the asset default) and reports stream status', async () => {
    const asset: Asset = {
      deviceRef: { deviceName: 'dev', endpointName: 'ep' },
      uuid: 'asset-uuid',
      defaultStreamsDestinations: [
        { target: 'Mqtt', configuration: { topic: 'streams/{streamName}' } },
      ],
      streams: [
        { name: 'vibration', typeRef: 'dtmi:x:vibration;1' },
        {
          name: 'camera',
          destinations: [{ target: 'Mqtt', configuration: { topic: 'video/{assetName}' } }],
        },
        { name: 'broken', destinations: [{ target: 'Mqtt', configuration: { topic: 'bad/#' } }] },
      ],
    };
    class Streams extends EventDrivenTelemetryConnector {
      protected override async whileAssetAvailable(
        ctx: AssetContext,
        { signal }: { signal: AbortSignal },
      ) {
        expect(ctx.streams.map((s) => s.name)).toEqual(['vibration', 'camera']);
        await ctx.forwardStream('vibration', { rms: 0.42 });
        await ctx
          .stream('camera')
          .forward(new Uint8Array([0xff, 0xd8, 0xff]), { contentType: 'image/jpeg' });
        await new Promise((resolve) => {
          signal.addEventListener('abort', resolve, { once: true });
        });
      }
    }
    sandbox = await startConnectorSandbox({ devices: { dev: device }, assets: { machine: asset } });
    const subscriber = await sandbox.subscribe('#');
    const connector = new Streams({
      settings: await sandbox.settingsFor('connector-0'),
      ...fastOptions,
    });
    stoppables.push(connector);
    await connector.start();
    await eventually(() => {
      expect(
        subscriber.messages.filter(
          (m) => m.topic === 'streams/vibration' || m.topic === 'video/machine',
        ),
      ).toHaveLength(2);
    });
    const vibration = subscriber.messages.find((m) => m.topic === 'streams/vibration')!;
    const props = new Map(vibration.userProperties);
    expect(props.get('type')).toBe('Stream/dtmi:x:vibration;1');
    expect(props.get('subject')).toBe('machine/vibration');
    const camera = subscriber.messages.find((m) => m.topic === 'video/machine')!;
    expect([...camera.payload]).toEqual([0xff, 0xd8, 0xff]);
    expect(camera.contentType).toBe('image/jpeg');
    await eventually(() => {
      const streams = new Map(
        sandbox!.adr.assetStatus('machine')?.streams?.map((s) => [s.name, s]),
      );
      expect(streams.get('vibration')?.messageSchemaReference).toBeDefined();
      expect(streams.get('camera')?.error).toBeUndefined();
      expect(streams.get('broken')?.error?.message).toMatch(
        /destinations\[0\]\.configuration\.topic/,
      );
    });
    await eventually(() => {
      const health = sandbox!.adr.health().flatMap((h) => h.entries);
      expect(
        health.some((e) => e.streamName === 'vibration' && e.runtimeHealth.status === 'Available'),
      ).toBe(true);
    });
  });

  it('restarts whileAssetAvailable with backoff when it throws, and reports it as health', async () => {
    const asset: Asset = {
      deviceRef: { deviceName: 'dev', endpointName: 'ep' },
      version: 4,
      eventGroups: [
        {
          name: 'alarms',
          events: [
            {
              name: 'overTemp',
              dataSource: 'over',
              destinations: [{ target: 'Mqtt', configuration: { topic: 'alarms/{eventName}' } }],
            },
          ],
        },
      ],
    };
    let calls = 0;
    class Flaky extends EventDrivenTelemetryConnector {
      protected override async whileAssetAvailable(
        ctx: AssetContext,
        { signal }: { signal: AbortSignal },
      ) {
        calls += 1;
        if (calls <= 2) throw new Error(`socket closed (${calls})`);
        await ctx.forwardEvent('alarms', 'overTemp', { temperature: 99, call: calls });
        await new Promise((resolve) => {
          signal.addEventListener('abort', resolve, { once: true });
        });
      }
    }
    sandbox = await startConnectorSandbox({ devices: { dev: device }, assets: { machine: asset } });
    const subscriber = await sandbox.subscribe('alarms/#');
    const connector = new Flaky({
      settings: await sandbox.settingsFor('connector-0'),
      retry: { minDelayInMs: 50, maxDelayInMs: 200 },
      ...fastOptions,
    });
    stoppables.push(connector);
    await connector.start();
    await subscriber.waitFor(1, { timeoutInMs: 20_000 });
    expect(calls).toBe(3);
    const message = subscriber.messages[0]!;
    expect(message.topic).toBe('alarms/overTemp');
    expect(JSON.parse(message.payload.toString('utf8'))).toEqual({ temperature: 99, call: 3 });
    const props = new Map(message.userProperties);
    expect(props.get('type')).toBe('Event');
    expect(props.get('subject')).toBe('machine/alarms/overTemp');
    expect(props.get('source')).toBe('ms-aio:dev/over');
    await eventually(() => {
      const events = sandbox!.adr
        .health()
        .flatMap((h) => h.entries)
        .filter((e) => e.eventName === 'overTemp');
      expect(
        events.some(
          (e) =>
            e.runtimeHealth.status === 'Unavailable' &&
            /socket closed/.test(e.runtimeHealth.message ?? ''),
        ),
      ).toBe(true);
      expect(events.at(-1)?.runtimeHealth.status).toBe('Available');
    });
    // stop aborts the hook and waits for it
    await connector.stop();
    expect(connector.state).toBe('stopped');
  });
});
