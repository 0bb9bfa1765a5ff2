import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  AdrClient,
  CommandInvoker,
  MqttSession,
  ProtocolError,
  TelemetrySender,
  rawSerializer,
  type Asset,
  type DeviceUpdateEvent,
  type AssetUpdateEvent,
  type Device,
} from '@aio-connector/core';
import {
  loadResources,
  startAdrService,
  type AdrServiceEmulator,
  type AdrServiceOptions,
} from '@aio-connector/devkit';
import { eventually, startTestBroker, type TestBroker } from '@aio-connector/testing';

const uniqueId = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;
const fixtures = fileURLToPath(
  new URL('../../../../../shared/aio/adr-resources/', import.meta.url),
);
const haveFixtures = existsSync(fixtures);
if (!haveFixtures) console.warn(`skipping the ADR fixture tests: ${fixtures} is absent`);

const pump: Device = {
  endpoints: {
    inbound: {
      modbus: { address: 'tcp://10.0.0.1:502', endpointType: 'modbus' },
      opc: { address: 'opc.tcp://10.0.0.1:4840', endpointType: 'opcua' },
    },
  },
};
const pumpAsset: Asset = {
  deviceRef: { deviceName: 'pump', endpointName: 'modbus' },
  datasets: [{ name: 'pressure', dataSource: '40001' }],
};

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker();
});

afterAll(async () => {
  await broker.close();
});

async function connect(clientId = uniqueId('client')): Promise<MqttSession> {
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

async function service(options: AdrServiceOptions = {}): Promise<AdrServiceEmulator> {
  const emulator = await startAdrService(await connect(uniqueId('adr-service')), {
    devices: { pump },
    assets: { 'pump-asset': pumpAsset },
    ...options,
  });
  onTestFinished(() => emulator.close());
  return emulator;
}

async function client(session?: MqttSession): Promise<AdrClient> {
  const adr = new AdrClient(session ?? (await connect(uniqueId('connector'))), {
    retry: { retries: 0 },
  });
  onTestFinished(() => adr.close());
  return adr;
}

/** A raw invoker of one action, to send bodies the client never sends. */
async function rawInvoker(
  action: string,
  session?: MqttSession,
): Promise<CommandInvoker<Uint8Array, Uint8Array>> {
  const connected = session ?? (await connect(uniqueId('raw')));
  const invoker = new CommandInvoker<Uint8Array, Uint8Array>(
    connected,
    action,
    `akri/connector/resources/{ex:connectorClientId}/{ex:deviceName}/{ex:inboundEndpointName}/${action}`,
    {
      requestSerializer: rawSerializer,
      responseSerializer: rawSerializer,
      topicTokens: { 'ex:connectorClientId': connected.clientId },
      timeoutInMs: 5_000,
    },
  );
  onTestFinished(() => invoker.stop());
  return invoker;
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const parse = (payload: Uint8Array): unknown => JSON.parse(new TextDecoder().decode(payload));
const onPump = { 'ex:deviceName': 'pump', 'ex:inboundEndpointName': 'modbus' };

describe('ADR service emulator (integration)', () => {
  it.skipIf(!haveFixtures)('serves the Device and Asset resources of loadResources', async () => {
    const loaded = await loadResources(fixtures);
    const emulator = await startAdrService(await connect(uniqueId('adr-service')), loaded);
    onTestFinished(() => emulator.close());
    const adr = await client();
    const device = await adr.getDevice('my-thermostat', 'my-coap-endpoint');
    expect(device.version).toBe(2);
    expect(device.uuid).toBe('1234-5678-9012-3456');
    expect(device.endpoints?.inbound).toEqual({
      'my-coap-endpoint':
        loaded.devices.get('my-thermostat')?.device.endpoints?.inbound?.['my-coap-endpoint'],
    });
    const [assetName, loadedAsset] = [...loaded.assets][0]!;
    const { deviceName, endpointName } = loadedAsset.asset.deviceRef;
    const asset = await adr.getAsset(deviceName, endpointName, assetName);
    expect(asset).toEqual({ ...loadedAsset.asset, version: loadedAsset.asset.version ?? 1 });
  });

  it('answers unknown resources and bad bodies with the error body and __stat 200', async () => {
    const emulator = await service();
    const getDevice = await rawInvoker('getDevice');
    const unknown = await getDevice.invoke(new Uint8Array(), {
      topicTokens: { 'ex:deviceName': 'boiler', 'ex:inboundEndpointName': 'modbus' },
    });
    expect(unknown.status).toBe(200);
    expect(unknown.contentType).toBe('application/json');
    expect(parse(unknown.payload)).toEqual({
      getDeviceError: {
        code: 'KubeError',
        message: 'devices.namespaces.deviceregistry.microsoft.com "boiler" not found',
        timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/) as unknown,
      },
    });
    const noEndpoint = await getDevice.invoke(new Uint8Array(), {
      topicTokens: { 'ex:deviceName': 'pump', 'ex:inboundEndpointName': 'http' },
    });
    expect(parse(noEndpoint.payload)).toMatchObject({ getDeviceError: { code: 'KubeError' } });

    const getAsset = await rawInvoker('getAsset');
    const missingName = await getAsset.invoke(bytes('{}'), {
      topicTokens: onPump,
      contentType: 'application/json',
    });
    expect(missingName.status).toBe(200);
    expect(parse(missingName.payload)).toMatchObject({
      getAssetError: { code: 'BadRequest', message: 'assetName must be a non-empty string' },
    });
    // not JSON: the protocol layer answers 400; not a JSON content type: 415
    const notJson = await getAsset
      .invoke(bytes('{"assetName":'), { topicTokens: onPump, contentType: 'application/json' })
      .catch((error: unknown) => error);
    expect(notJson).toBeInstanceOf(ProtocolError);
    expect(notJson).toMatchObject({ statusCode: 400, isRemote: true });
    const wrongType = await getAsset
      .invoke(bytes('assetName=pump-asset'), { topicTokens: onPump, contentType: 'text/plain' })
      .catch((error: unknown) => error);
    expect(wrongType).toMatchObject({ statusCode: 415 });

    const update = await rawInvoker('updateAssetStatus');
    const badStatus = await update.invoke(
      bytes(
        '{"assetStatusUpdate":{"assetName":"pump-asset","assetStatus":{"datasets":[{"error":{}}]}}}',
      ),
      { topicTokens: onPump, contentType: 'application/json' },
    );
    expect(parse(badStatus.payload)).toMatchObject({
      updateAssetStatusError: { code: 'SerializationError' },
    });
    expect(emulator.assetStatus('pump-asset')).toBeUndefined();
    // every request is logged with the response it got
    expect(
      emulator.requests.map((request) => [request.action, Object.keys(request.response as object)]),
    ).toEqual([
      ['getDevice', ['getDeviceError']],
      ['getDevice', ['getDeviceError']],
      ['getAsset', ['getAssetError']],
      ['updateAssetStatus', ['updateAssetStatusError']],
    ]);
    expect(emulator.requests[0]?.userProperties.find(([name]) => name === '__srcId')?.[1]).toBe(
      emulator.requests[0]?.clientId,
    );
  });

  it('merges device endpoint statuses and replaces asset statuses', async () => {
    const emulator = await service();
    const adr = await client();
    await adr.updateDeviceStatus('pump', 'modbus', {
      config: { version: 1, error: { message: 'old' } },
      endpoints: { inbound: { modbus: { error: { message: 'timeout' } } } },
    });
    const updated = await adr.updateDeviceStatus('pump', 'opc', {
      config: { version: 1 },
      endpoints: { inbound: { opc: {} } },
    });
    // the answer holds the endpoint of the topic only
    expect(updated).toEqual({ config: { version: 1 }, endpoints: { inbound: { opc: {} } } });
    expect(emulator.deviceStatus('pump')).toEqual({
      config: { version: 1 },
      endpoints: { inbound: { modbus: { error: { message: 'timeout' } }, opc: {} } },
    });
    expect(await adr.getDeviceStatus('pump', 'modbus')).toEqual({
      config: { version: 1 },
      endpoints: { inbound: { modbus: { error: { message: 'timeout' } } } },
    });

    await adr.updateAssetStatus('pump', 'modbus', 'pump-asset', {
      config: { version: 1 },
      datasets: [{ name: 'pressure', error: { message: 'no answer' } }],
      streams: [{ name: 'video' }],
    });
    await adr.updateAssetStatus('pump', 'modbus', 'pump-asset', {
      datasets: [{ name: 'pressure' }],
    });
    expect(emulator.assetStatus('pump-asset')).toEqual({ datasets: [{ name: 'pressure' }] });
    expect(await adr.getAssetStatus('pump', 'modbus', 'pump-asset')).toEqual({
      datasets: [{ name: 'pressure' }],
    });
  });

  it('versions definitions and notifies per client, device endpoint and asset', async () => {
    const now = Date.parse('2026-03-01T12:00:00Z');
    const emulator = await service({ now: () => now });
    const idA = uniqueId('connector-a');
    const idB = uniqueId('connector-b');
    const a = await client(await connect(idA));
    const b = await client(await connect(idB));
    await Promise.all([a.start(), b.start()]);
    const devicesA: DeviceUpdateEvent[] = [];
    const devicesB: DeviceUpdateEvent[] = [];
    const assetsB: AssetUpdateEvent[] = [];
    a.onDeviceUpdate((event) => {
      devicesA.push(event);
    });
    b.onDeviceUpdate((event) => {
      devicesB.push(event);
    });
    b.onAssetUpdate((event) => {
      assetsB.push(event);
    });
    await a.setDeviceUpdateNotifications('pump', 'modbus', 'On');
    await b.setDeviceUpdateNotifications('pump', 'opc', 'On');
    await b.setAssetUpdateNotifications('pump', 'modbus', 'pump-asset', 'On');

    expect(emulator.device('pump')?.version).toBe(1);
    await emulator.setDevice('pump', { ...pump, model: 'P-2' });
    expect(emulator.device('pump')).toMatchObject({
      version: 2,
      lastTransitionTime: '2026-03-01T12:00:00.000Z',
    });
    await eventually(() => {
      expect(devicesA).toHaveLength(1);
      expect(devicesB).toHaveLength(1);
    });
    expect(devicesA[0]).toMatchObject({
      deviceName: 'pump',
      endpointName: 'modbus',
      device: { model: 'P-2' },
    });
    expect(Object.keys(devicesA[0]?.device.endpoints?.inbound ?? {})).toEqual(['modbus']);
    expect(Object.keys(devicesB[0]?.device.endpoints?.inbound ?? {})).toEqual(['opc']);
    expect(emulator.notifications.map((sent) => [sent.event, sent.topic]).sort()).toEqual(
      [
        [
          'deviceUpdateEvent',
          `akri/connector/resources/telemetry/${idA}/pump/modbus/deviceUpdateEvent`,
        ],
        [
          'deviceUpdateEvent',
          `akri/connector/resources/telemetry/${idB}/pump/opc/deviceUpdateEvent`,
        ],
      ].sort(),
    );
    expect(emulator.notifications.map((sent) => sent.clientId).sort()).toEqual([idA, idB].sort());

    await emulator.setAsset('pump-asset', { ...pumpAsset, displayName: 'Pump' });
    await eventually(() => {
      expect(assetsB).toHaveLength(1);
    });
    expect(assetsB[0]).toMatchObject({
      assetName: 'pump-asset',
      asset: { displayName: 'Pump', version: 2 },
    });

    // a deleted device forgets who listened; recreated, nothing is sent until notifications are on again
    expect(emulator.deleteDevice('pump')).toBe(true);
    await expect(a.getDevice('pump', 'modbus')).rejects.toMatchObject({ serviceCode: 'KubeError' });
    await emulator.setDevice('pump', pump);
    await emulator.setDevice('pump', { ...pump, model: 'P-3' });
    expect(emulator.device('pump')?.version).toBe(2);
    expect(emulator.notifications).toHaveLength(3);
    // deleting an asset forgets its listeners too
    expect(emulator.deleteAsset('pump-asset')).toBe(true);
    expect(emulator.deleteAsset('pump-asset')).toBe(false);
    await emulator.setAsset('pump-asset', pumpAsset);
    await emulator.setAsset('pump-asset', { ...pumpAsset, displayName: 'again' });
    expect(emulator.notifications).toHaveLength(3);
  });

  it('can notify after status updates, as the real service does', async () => {
    const emulator = await service({ notifyOnStatusUpdate: true });
    const adr = await client();
    await adr.start();
    const assets: AssetUpdateEvent[] = [];
    adr.onAssetUpdate((event) => {
      assets.push(event);
    });
    await adr.setAssetUpdateNotifications('pump', 'modbus', 'pump-asset', 'On');
    await adr.updateAssetStatus('pump', 'modbus', 'pump-asset', { config: { version: 1 } });
    await eventually(() => {
      expect(assets).toHaveLength(1);
    });
    expect(emulator.notifications.map((sent) => sent.event)).toEqual(['assetUpdateEvent']);
  });

  it('records runtime health telemetry and discovered resources', async () => {
    const emulator = await service();
    const session = await connect(uniqueId('connector'));
    const sender = new TelemetrySender<unknown>(
      session,
      'akri/connector/resources/telemetry/{ex:connectorClientId}/{ex:deviceName}/{ex:inboundEndpointName}/eventRuntimeHealthEvent',
      { topicTokens: { 'ex:connectorClientId': session.clientId, ...onPump } },
    );
    const runtimeHealth = {
      version: 3,
      status: 'Unavailable',
      lastUpdateTime: '2026-01-01T00:00:00Z',
      message: 'm',
    };
    await sender.send({
      eventRuntimeHealthEvent: {
        assetName: 'pump-asset',
        events: [
          { eventGroupName: 'alarms', eventName: 'overpressure', runtimeHealth },
          {
            eventGroupName: 'alarms',
            eventName: 'leak',
            runtimeHealth: { ...runtimeHealth, version: 4 },
          },
        ],
      },
    });
    await sender.send({ somethingElse: true });
    await eventually(() => {
      expect(emulator.health()).toHaveLength(2);
    });
    expect(emulator.health()[0]).toMatchObject({
      event: 'eventRuntimeHealthEvent',
      clientId: session.clientId,
      deviceName: 'pump',
      endpointName: 'modbus',
      assetName: 'pump-asset',
      contentType: 'application/json',
      entries: [
        {
          assetName: 'pump-asset',
          eventGroupName: 'alarms',
          eventName: 'overpressure',
          version: 3,
          runtimeHealth,
        },
        { assetName: 'pump-asset', eventGroupName: 'alarms', eventName: 'leak', version: 4 },
      ],
    });
    expect(emulator.health()[1]?.entries).toEqual([]);

    const adr = await client(session);
    await expect(
      adr.createOrUpdateDiscoveredAsset('boiler', 'modbus', 'found', {
        deviceRef: { deviceName: 'boiler', endpointName: 'modbus' },
      }),
    ).rejects.toMatchObject({ serviceCode: 'KubeError' });
    const first = await adr.createOrUpdateDiscoveredAsset('pump', 'modbus', 'found', {
      deviceRef: { deviceName: 'pump', endpointName: 'modbus' },
    });
    const same = await adr.createOrUpdateDiscoveredAsset('pump', 'modbus', 'found', {
      deviceRef: { deviceName: 'pump', endpointName: 'modbus' },
    });
    expect(same).toEqual(first);
    expect(emulator.discovered.assets.get('found')).toMatchObject({
      clientId: session.clientId,
      deviceName: 'pump',
      endpointName: 'modbus',
      version: 1,
    });
    const device = await adr.createOrUpdateDiscoveredDevice('modbus', 'pump-2', { model: 'P' });
    expect(emulator.discovered.devices.get('pump-2')).toMatchObject({
      inboundEndpointType: 'modbus',
      discoveryId: device.discoveryId,
    });
  });

  it('retries through injected transient failures and stops answering once closed', async () => {
    const emulator = await service();
    const adr = new AdrClient(await connect(uniqueId('connector')), {
      retry: { minDelayInMs: 10, maxDelayInMs: 20 },
      timeoutInMs: 1_000,
    });
    onTestFinished(() => adr.close());
    emulator.failNext('getAsset', 2, { code: 'KubeError', message: 'etcd leader changed' });
    await expect(adr.getAsset('pump', 'modbus', 'pump-asset')).resolves.toMatchObject({
      version: 1,
    });
    expect(emulator.requests.map((request) => request.response)).toMatchObject([
      { getAssetError: { code: 'KubeError', message: 'etcd leader changed' } },
      { getAssetError: { code: 'KubeError' } },
      { asset: {} },
    ]);
    await emulator.close();
    await emulator.close();
    const noRetry = new AdrClient(await connect(uniqueId('connector')), {
      retry: { retries: 0 },
      timeoutInMs: 1_000,
    });
    onTestFinished(() => noRetry.close());
    await expect(noRetry.getDevice('pump', 'modbus')).rejects.toMatchObject({ kind: 'timeout' });
  });
});
