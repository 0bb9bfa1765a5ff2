/**
 * Races between asset updates, deletions, leadership loss and shutdown, and the work still in
 * flight at that moment: loads being retried, samples and forwards finishing late, a broker that is
 * away.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import {
  ConnectorSettings,
  EventDrivenTelemetryConnector,
  MqttSession,
  PollingTelemetryConnector,
  StateStoreClient,
  type Asset,
  type AssetContext,
  type DatasetContext,
  type DatasetSampler,
  type Device,
} from '@aio-connector/core';
import { writeAkriMount } from '@aio-connector/devkit';
import { eventually, startRecordingProxy } from '@aio-connector/testing';
import { startConnectorSandbox, type ConnectorSandbox } from './support/connector-sandbox.ts';

const device: Device = {
  uuid: 'dev-uuid',
  version: 1,
  endpoints: { inbound: { ep: { address: 'http://127.0.0.1:9', endpointType: 'Contoso.Fake' } } },
};

const pollingAsset: Asset = {
  deviceRef: { deviceName: 'dev', endpointName: 'ep' },
  defaultDatasetsConfiguration: '{ "samplingInterval": 100 }',
  datasets: [{ name: 'd', destinations: [{ target: 'Mqtt', configuration: { topic: 'out/d' } }] }],
};

const eventAsset: Asset = {
  deviceRef: { deviceName: 'dev', endpointName: 'ep' },
  eventGroups: [
    {
      name: 'alarms',
      events: [
        {
          name: 'overTemp',
          destinations: [
            { target: 'Mqtt', configuration: { topic: 'alarms/{assetName}/{eventName}' } },
          ],
        },
      ],
    },
  ],
};

/** Samples a counter kept in memory, per asset and dataset. */
class MemoryConnector extends PollingTelemetryConnector {
  readonly counts = new Map<string, number>();
  protected override async sampleDataset(ds: DatasetContext) {
    const key = `${ds.asset.assetName}/${ds.name}`;
    const n = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, n);
    return { n };
  }
}

let sandbox: ConnectorSandbox | undefined;
const stoppables: { stop(): Promise<void> }[] = [];

afterEach(async () => {
  for (const s of stoppables.splice(0)) await s.stop();
  if (sandbox && !sandbox.broker.running) await sandbox.broker.start();
  await sandbox?.close();
  sandbox = undefined;
});

const fastOptions = {
  healthIntervalInMs: 60_000,
  mountMonitor: { debounceInMs: 50, rescanIntervalInMs: 500 },
};

/** The asset name of an ADR request, if it names one. */
function assetOf(request: { readonly payload: unknown }): string | undefined {
  const payload = request.payload as Record<string, Record<string, unknown> | undefined> | null;
  const inner = payload?.['notificationPreferenceRequest'] ?? payload;
  const name = inner?.['assetName'];
  return typeof name === 'string' ? name : undefined;
}

function assetRequests(sb: ConnectorSandbox, assetName: string) {
  return sb.adr.requests.filter((request) => assetOf(request) === assetName);
}

/** How many device endpoint health reports the ADR service received since `from`. */
function deviceHealthSince(sb: ConnectorSandbox, from: number): number {
  return sb.adr
    .health()
    .slice(from)
    .filter((event) => event.event === 'deviceEndpointRuntimeHealthEvent').length;
}

describe('connector shutdown', () => {
  it('stop() returns while the connector is still trying to reach a broker that is down', async () => {
    sandbox = await startConnectorSandbox({
      devices: { dev: device },
      assets: { machine: pollingAsset },
    });
    const settings = await sandbox.settingsFor('connector-0');
    await sandbox.broker.stop();
    const connector = new MemoryConnector({ settings, ...fastOptions });
    const started = connector.start();
    started.catch(() => undefined);
    const stopped = connector.stop().then(() => 'stopped' as const);
    const outcome = await Promise.race([
      stopped,
      new Promise<'still stopping'>((resolve) => {
        setTimeout(() => {
          resolve('still stopping');
        }, 20_000).unref();
      }),
    ]);
    expect(outcome).toBe('stopped');
    expect(connector.state).toBe('stopped');
    await expect(started).rejects.toBeInstanceOf(Error);
  });

  it('stop() of a leader returns while the broker is down', async () => {
    const asset: Asset = {
      ...pollingAsset,
      datasets: [
        ...(pollingAsset.datasets ?? []),
        {
          name: 'kept',
          destinations: [{ target: 'BrokerStateStore', configuration: { key: 'latest' } }],
        },
      ],
    };
    sandbox = await startConnectorSandbox({ devices: { dev: device }, assets: { machine: asset } });
    // the connector reaches the broker through a proxy: closing it is a broker outage for the
    // connector only (the ADR and state store emulators stay connected)
    const proxy = await startRecordingProxy(sandbox.broker);
    onTestFinished(async () => {
      await proxy.close();
    });
    const dir = await mkdtemp(join(tmpdir(), 'aio-connector-away-'));
    onTestFinished(async () => {
      await rm(dir, { recursive: true, force: true });
    });
    const mount = await writeAkriMount({
      dir,
      connectorId: 'connector-away',
      broker: { host: proxy.host, port: proxy.port, sessionExpirySeconds: 300 },
      endpoints: [{ deviceName: 'dev', endpointName: 'ep', assets: ['machine'] }],
    });
    const subscriber = await sandbox.subscribe('out/#');
    const connector = new MemoryConnector({
      settings: await ConnectorSettings.fromEnvironment(mount.env),
      leaderElection: { positionId: 'stop-while-away', termInMs: 2_000, renewalInMs: 500 },
      ...fastOptions,
      adrTimeoutInMs: 1_000,
      forwarding: { drainTimeoutInMs: 1_000 },
      stopTimeoutInMs: 8_000,
    });
    await connector.start();
    await subscriber.waitFor(2, { timeoutInMs: 20_000 });
    await eventually(() => {
      expect(sandbox!.store.engine.inspect(new TextEncoder().encode('latest'))).toBeDefined();
    });
    await proxy.close();
    const stopped = connector.stop().then(() => 'stopped' as const);
    // every step of a graceful stop waits a bounded time for the broker, and the whole stop is cut
    // short at stopTimeoutInMs (20 s by default, inside the pod's 30 s grace period; 8 s here)
    const outcome = await Promise.race([
      stopped,
      new Promise<'still stopping'>((resolve) => {
        setTimeout(() => {
          resolve('still stopping');
        }, 25_000).unref();
      }),
    ]);
    expect(outcome).toBe('stopped');
    expect(connector.state).toBe('stopped');
  }, 120_000);

  it('closes its MQTT connection when starting fails after it connected', async () => {
    sandbox = await startConnectorSandbox({ devices: { dev: device }, assets: {} });
    const proxy = await startRecordingProxy(sandbox.broker);
    onTestFinished(async () => {
      await proxy.close();
    });
    const dir = await mkdtemp(join(tmpdir(), 'aio-connector-leak-'));
    onTestFinished(async () => {
      await rm(dir, { recursive: true, force: true });
    });
    const mount = await writeAkriMount({
      dir,
      connectorId: 'failing-start',
      broker: { host: proxy.host, port: proxy.port },
      endpoints: [],
    });
    const connector = new MemoryConnector({
      settings: await ConnectorSettings.fromEnvironment(mount.env),
      // refused by the forwarder, which is created after the connection
      forwarding: { maxInflight: 0 },
      ...fastOptions,
    });
    await expect(connector.start()).rejects.toThrow(RangeError);
    await connector.stop();
    await eventually(() => {
      expect(proxy.openConnections).toBe(0);
    });
  });
});

describe('leadership', () => {
  it('stops serving when leadership is lost while the definition of another asset is still being retried', async () => {
    sandbox = await startConnectorSandbox({
      devices: { dev: device },
      assets: { machine: pollingAsset },
    });
    // the mount lists an asset the ADR service does not know (yet): its definition is retried
    await sandbox.setEndpoints([
      { deviceName: 'dev', endpointName: 'ep', assets: ['machine', 'ghost'] },
    ]);
    const subscriber = await sandbox.subscribe('out/#');
    const positionId = 'races-leader';
    const connector = new MemoryConnector({
      settings: await sandbox.settingsFor('connector-0'),
      leaderElection: { positionId, termInMs: 2_000, renewalInMs: 500 },
      ...fastOptions,
    });
    stoppables.push(connector);
    await connector.start();
    await subscriber.waitFor(2, { timeoutInMs: 20_000 });
    await eventually(() => {
      expect(assetRequests(sandbox!, 'ghost').length).toBeGreaterThan(0);
    });
    // another replica takes the position
    const other = new MqttSession({
      hostname: sandbox.broker.host,
      port: sandbox.broker.port,
      clientId: 'replica-b',
      useTls: false,
    });
    await other.connect();
    const store = new StateStoreClient(other);
    stoppables.push({
      stop: async () => {
        await store.close();
        await other.close();
      },
    });
    await store.set(positionId, 'replica-b');
    // the connector stops its assets and turns their notifications off
    await eventually(
      () => {
        expect(
          assetRequests(sandbox!, 'machine').some(
            (r) =>
              r.action === 'setNotificationPreferenceForAssetUpdates' &&
              JSON.stringify(r.payload).includes('"Off"'),
          ),
        ).toBe(true);
      },
      { timeoutInMs: 15_000 },
    );
  });
});

describe('asset deletion', () => {
  it('stops retrying the definition of an asset deleted while it was being retried', async () => {
    const closed: string[] = [];
    class Recording extends MemoryConnector {
      protected override createSampler(ds: DatasetContext): DatasetSampler {
        return {
          sample: async () => ({ n: 1 }),
          close: () => {
            closed.push(ds.asset.assetName);
          },
        };
      }
    }
    sandbox = await startConnectorSandbox({
      devices: { dev: device },
      assets: { machine: pollingAsset, spare: pollingAsset },
    });
    await sandbox.setEndpoints([
      { deviceName: 'dev', endpointName: 'ep', assets: ['machine', 'ghost', 'spare'] },
    ]);
    const connector = new Recording({
      settings: await sandbox.settingsFor('connector-0'),
      ...fastOptions,
      healthIntervalInMs: 1_000,
    });
    stoppables.push(connector);
    await connector.start();
    await eventually(() => {
      expect(assetRequests(sandbox!, 'ghost').length).toBeGreaterThan(0);
      expect(sandbox!.adr.assetStatus('spare')).toBeDefined();
    });
    // ghost and spare leave the mount together; spare's sampler closing shows the change was seen
    await sandbox.setEndpoints([{ deviceName: 'dev', endpointName: 'ep', assets: ['machine'] }]);
    await eventually(() => {
      expect(closed).toContain('spare');
    });
    const requestsAfterDelete = assetRequests(sandbox, 'ghost').length;
    // the device endpoint health is re-sent every second: a clock the test can wait on
    const healthSeen = sandbox.adr.health().length;
    await eventually(
      () => {
        expect(deviceHealthSince(sandbox!, healthSeen)).toBeGreaterThanOrEqual(12);
      },
      { timeoutInMs: 40_000 },
    );
    // at most the request that was on the wire when the asset was deleted
    expect(assetRequests(sandbox, 'ghost').length).toBeLessThanOrEqual(requestsAfterDelete + 1);
  });

  it('refuses a forward made by the asset code after its asset was deleted', async () => {
    let late: Promise<void> | undefined;
    class LateForwarder extends EventDrivenTelemetryConnector {
      protected override async whileAssetAvailable(
        ctx: AssetContext,
        { signal }: { signal: AbortSignal },
      ) {
        await new Promise((resolve) => {
          signal.addEventListener('abort', resolve, { once: true });
        });
        // a callback of the source (a socket, a timer) still fires after the asset stopped
        late = new Promise((resolve) => setTimeout(resolve, 200)).then(() =>
          ctx.forwardEvent('alarms', 'overTemp', { late: true }, { waitForAck: true }),
        );
        late.catch(() => undefined);
      }
    }
    sandbox = await startConnectorSandbox({
      devices: { dev: device },
      assets: { machine: eventAsset },
    });
    const subscriber = await sandbox.subscribe('alarms/#');
    const connector = new LateForwarder({
      settings: await sandbox.settingsFor('connector-0'),
      ...fastOptions,
    });
    stoppables.push(connector);
    await connector.start();
    await eventually(() => {
      expect(sandbox!.adr.assetStatus('machine')).toBeDefined();
    });
    sandbox.adr.deleteAsset('machine');
    await sandbox.setEndpoints([{ deviceName: 'dev', endpointName: 'ep', assets: [] }]);
    await eventually(() => {
      expect(late).toBeDefined();
    });
    await expect(late).rejects.toMatchObject({ code: 'ERR_AIO_CLOSED' });
    expect(subscriber.messages).toEqual([]);
  });

  it('reports no health for an asset deleted while one of its messages waited for the broker', async () => {
    const contexts = new Map<string, AssetContext>();
    const stopped = new Set<string>();
    class OnDemand extends EventDrivenTelemetryConnector {
      protected override async whileAssetAvailable(
        ctx: AssetContext,
        { signal }: { signal: AbortSignal },
      ) {
        contexts.set(ctx.assetName, ctx);
        await new Promise((resolve) => {
          signal.addEventListener('abort', resolve, { once: true });
        });
        stopped.add(ctx.assetName);
      }
    }
    sandbox = await startConnectorSandbox({
      devices: { dev: device },
      assets: { machine: eventAsset, other: eventAsset },
    });
    const connector = new OnDemand({
      settings: await sandbox.settingsFor('connector-0'),
      ...fastOptions,
      healthIntervalInMs: 1_000,
      schemas: { registry: false },
    });
    stoppables.push(connector);
    await connector.start();
    await eventually(() => {
      expect(contexts.has('machine')).toBe(true);
      expect(sandbox!.adr.assetStatus('machine')).toBeDefined();
    });
    await sandbox.broker.stop();
    // forwarded while the broker is away: the message waits in the queue
    await contexts.get('machine')!.forwardEvent('alarms', 'overTemp', { t: 1 });
    // the asset is deleted meanwhile
    sandbox.adr.deleteAsset('machine');
    await sandbox.setEndpoints([{ deviceName: 'dev', endpointName: 'ep', assets: ['other'] }]);
    await eventually(() => {
      expect(stopped.has('machine')).toBe(true);
    });
    const sent = connector.forwardingStats.sent;
    await sandbox.broker.start();
    // the message is delivered once the broker is back
    await eventually(
      () => {
        expect(connector.forwardingStats.sent).toBe(sent + 1);
      },
      { timeoutInMs: 30_000 },
    );
    // let what was queued for the ADR service during the outage arrive
    const afterAck = sandbox.adr.health().length;
    await eventually(
      () => {
        expect(deviceHealthSince(sandbox!, afterAck)).toBeGreaterThanOrEqual(2);
      },
      { timeoutInMs: 30_000 },
    );
    const from = sandbox.adr.health().length;
    await eventually(
      () => {
        expect(deviceHealthSince(sandbox!, from)).toBeGreaterThanOrEqual(3);
      },
      { timeoutInMs: 30_000 },
    );
    expect(
      sandbox.adr
        .health()
        .slice(from)
        .filter((event) => event.assetName === 'machine'),
    ).toEqual([]);
  });
});

describe('asset update', () => {
  it('closes the samplers of the previous definition before creating the new ones, also when one dataset cannot be scheduled', async () => {
    const log: string[] = [];
    let generation = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    class Ordered extends MemoryConnector {
      protected override async createSampler(ds: DatasetContext): Promise<DatasetSampler> {
        if (ds.name === 'bad') return { sample: async () => ({ n: 1 }), samplingIntervalInMs: 0 };
        if (ds.name === 'probe')
          return {
            // tells the test when the asset's work was told to stop
            sample: ({ signal }) => {
              log.push('probe sampling');
              return new Promise((resolve) => {
                signal.addEventListener(
                  'abort',
                  () => {
                    log.push('probe stopped');
                    resolve(undefined);
                  },
                  { once: true },
                );
              });
            },
          };
        const id = `${ds.name}#${++generation}`;
        log.push(`create ${id}`);
        // the first sampler takes a while to connect to its device
        if (generation === 1) await gate;
        return {
          sample: async () => ({ n: 1 }),
          close: () => {
            log.push(`close ${id}`);
          },
        };
      }
    }
    const destinations = (name: string) => [
      { target: 'Mqtt' as const, configuration: { topic: `out/${name}` } },
    ];
    const asset: Asset = {
      ...pollingAsset,
      datasets: ['good', 'bad', 'probe'].map((name) => ({
        name,
        destinations: destinations(name),
      })),
    };
    sandbox = await startConnectorSandbox({ devices: { dev: device }, assets: { machine: asset } });
    const connector = new Ordered({
      settings: await sandbox.settingsFor('connector-0'),
      ...fastOptions,
    });
    stoppables.push(connector);
    await connector.start();
    await eventually(() => {
      expect(log).toContain('create good#1');
      expect(log).toContain('probe sampling');
    });
    await sandbox.adr.setAsset('machine', { ...asset, description: 'second definition' });
    await eventually(() => {
      expect(log).toContain('probe stopped');
    });
    release();
    await eventually(() => {
      expect(log).toContain('create good#2');
    });
    expect(log.indexOf('close good#1')).toBeGreaterThanOrEqual(0);
    expect(log.indexOf('close good#1')).toBeLessThan(log.indexOf('create good#2'));
    // the dataset that cannot be scheduled is reported on its own status entry
    await eventually(() => {
      const bad = sandbox!.adr.assetStatus('machine')?.datasets?.find((d) => d.name === 'bad');
      expect(bad?.error?.message).toMatch(/intervalInMs/);
    });
  });
});

describe('device update', () => {
  it('gives the running asset code the updated device when its endpoint did not change', async () => {
    const contexts: AssetContext[] = [];
    class Holder extends EventDrivenTelemetryConnector {
      protected override async whileAssetAvailable(
        ctx: AssetContext,
        { signal }: { signal: AbortSignal },
      ) {
        contexts.push(ctx);
        await new Promise((resolve) => {
          signal.addEventListener('abort', resolve, { once: true });
        });
      }
    }
    sandbox = await startConnectorSandbox({
      devices: { dev: { ...device, attributes: { site: 'north' } } },
      assets: { machine: eventAsset },
    });
    const connector = new Holder({
      settings: await sandbox.settingsFor('connector-0'),
      ...fastOptions,
    });
    stoppables.push(connector);
    await connector.start();
    await eventually(() => {
      expect(contexts).toHaveLength(1);
    });
    await sandbox.adr.setDevice('dev', { ...device, attributes: { site: 'south' } });
    await eventually(() => {
      expect(contexts[0]!.device.attributes?.['site']).toBe('south');
      expect(contexts[0]!.device.version).toBe(2);
    });
    // the endpoint did not change: the asset kept running
    expect(contexts).toHaveLength(1);
  });
});
