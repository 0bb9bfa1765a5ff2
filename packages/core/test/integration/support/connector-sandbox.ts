/**
 * A complete local AIO environment for connector integration tests: a private broker, the devkit
 * ADR / schema registry / state store emulators on their own session, and a real Akri mount
 * folder the connector reads its settings from.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConnectorSettings, MqttSession, type Asset, type Device } from '@aio-connector/core';
import {
  startAdrService,
  startSchemaRegistryService,
  startStateStoreService,
  writeAkriMount,
  type AdrServiceEmulator,
  type AkriMount,
  type AkriMountEndpoint,
  type SchemaRegistryService,
  type StateStoreService,
} from '@aio-connector/devkit';
import {
  startSubscriber,
  startTestBroker,
  type Subscriber,
  type SubscriberOptions,
  type TestBroker,
} from '@aio-connector/testing';

export interface ConnectorSandbox {
  readonly broker: TestBroker;
  readonly services: MqttSession;
  readonly adr: AdrServiceEmulator;
  readonly registry: SchemaRegistryService;
  readonly store: StateStoreService;
  readonly mount: AkriMount;
  /** Settings for a connector with the given client id, read from its own mount folder. */
  settingsFor(connectorId: string): Promise<ConnectorSettings>;
  /** Rewrites the ADR resource names of every connector mount made so far. */
  setEndpoints(endpoints: readonly AkriMountEndpoint[]): Promise<void>;
  subscribe(filter: string, options?: SubscriberOptions): Promise<Subscriber>;
  close(): Promise<void>;
}

export function endpointsOf(assets: Readonly<Record<string, Asset>>): AkriMountEndpoint[] {
  const byDevice = new Map<string, AkriMountEndpoint & { assets: string[] }>();
  for (const [name, asset] of Object.entries(assets)) {
    const key = `${asset.deviceRef.deviceName}_${asset.deviceRef.endpointName}`;
    if (!byDevice.has(key))
      byDevice.set(key, {
        deviceName: asset.deviceRef.deviceName,
        endpointName: asset.deviceRef.endpointName,
        assets: [],
      });
    byDevice.get(key)!.assets.push(name);
  }
  return [...byDevice.values()];
}

export async function startConnectorSandbox(options: {
  readonly devices: Readonly<Record<string, Device>>;
  readonly assets: Readonly<Record<string, Asset>>;
  readonly secrets?: Readonly<Record<string, string>>;
  /** The broker's Maximum Packet Size (announced in CONNACK). */
  readonly maximumPacketSize?: number;
}): Promise<ConnectorSandbox> {
  const broker = await startTestBroker(
    options.maximumPacketSize === undefined ? {} : { maximumPacketSize: options.maximumPacketSize },
  );
  const services = new MqttSession({
    hostname: broker.host,
    port: broker.port,
    clientId: `aio-services-${Math.random().toString(36).slice(2)}`,
    useTls: false,
  });
  await services.connect();
  const adr = await startAdrService(services, { devices: options.devices, assets: options.assets });
  const registry = await startSchemaRegistryService(services);
  const store = await startStateStoreService(services);
  const root = await mkdtemp(join(tmpdir(), 'aio-connector-test-'));
  const mounts: AkriMount[] = [];
  let endpoints = endpointsOf(options.assets);
  const makeMount = async (connectorId: string): Promise<AkriMount> => {
    const mount = await writeAkriMount({
      dir: join(root, connectorId),
      connectorId,
      broker: { host: broker.host, port: broker.port, sessionExpirySeconds: 300 },
      endpoints,
      ...(options.secrets === undefined ? {} : { secrets: options.secrets }),
    });
    mounts.push(mount);
    return mount;
  };
  const mount = await makeMount('connector-0');
  const subscribers: Subscriber[] = [];
  return {
    broker,
    services,
    adr,
    registry,
    store,
    mount,
    settingsFor: async (connectorId) => {
      const own = connectorId === 'connector-0' ? mount : await makeMount(connectorId);
      return ConnectorSettings.fromEnvironment(own.env);
    },
    setEndpoints: async (next) => {
      endpoints = [...next];
      for (const m of mounts) await m.setEndpoints(next);
    },
    subscribe: async (filter, subscriberOptions) => {
      const subscriber = await startSubscriber(broker.url, filter, subscriberOptions);
      subscribers.push(subscriber);
      return subscriber;
    },
    close: async () => {
      for (const s of subscribers) await s.close();
      await store.close();
      await registry.close();
      await adr.close();
      await services.close();
      await broker.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
