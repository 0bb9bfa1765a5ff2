import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  AdrClient,
  AdrServiceError,
  CommandExecutor,
  ConfigError,
  MqttSession,
  ProtocolError,
  rawSerializer,
  setConfigStatus,
  setDatasetStatus,
  setDeviceEndpointStatus,
  type AdrClientOptions,
  type Asset,
  type AssetUpdateEvent,
  type Device,
  type DeviceUpdateEvent,
} from '@aio-connector/core';
import {
  startAdrService,
  type AdrServiceEmulator,
  type AdrServiceOptions,
} from '@aio-connector/devkit';
import {
  eventually,
  startSubscriber,
  startTestBroker,
  type ReceivedMessage,
  type TestBroker,
} from '@aio-connector/testing';

const uniqueId = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;
const fastRetry = { minDelayInMs: 10, maxDelayInMs: 50 } as const;
const json = (message: ReceivedMessage): unknown => JSON.parse(message.payload.toString('utf8'));
const property = (message: ReceivedMessage, name: string): string | undefined =>
  message.userProperties.find(([key]) => key === name)?.[1];

const oven: Device = {
  attributes: { deviceType: 'oven' },
  enabled: true,
  endpoints: {
    inbound: {
      rest: {
        address: 'http://127.0.0.1:8080',
        endpointType: 'rest-thermostat',
        additionalConfiguration: '{"pollingTimeout": 2000,}',
        authentication: {
          method: 'UsernamePassword',
          usernamePasswordCredentials: {
            usernameSecretName: 'oven-creds/username',
            passwordSecretName: 'oven-creds/password',
          },
        },
      },
      coap: { address: 'coap://127.0.0.1/temp', endpointType: 'coap' },
    },
  },
  uuid: 'd5b7d3c6-6a6d-4c5a-9a3e-1b2c3d4e5f60',
  version: 3,
};

const ovenAsset: Asset = {
  deviceRef: { deviceName: 'oven', endpointName: 'rest' },
  uuid: '0c5a9ed3-3b57-4a1b-8b1e-7c9f2a0e4d11',
  version: 1,
  defaultDatasetsConfiguration: '{"samplingInterval": 1000}',
  datasets: [
    {
      name: 'temperature',
      dataSource: '/api/temperature',
      destinations: [
        { target: 'Mqtt', configuration: { topic: 'factory/oven/temperature', qos: 'Qos1' } },
      ],
    },
    { name: 'humidity', dataSource: '/api/humidity' },
  ],
};

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker();
});

afterAll(async () => {
  await broker.close();
});

async function connect(clientId = uniqueId('adr')): Promise<MqttSession> {
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
    devices: { oven },
    assets: { 'oven-asset': ovenAsset },
    ...options,
  });
  onTestFinished(() => emulator.close());
  return emulator;
}

async function client(
  options: AdrClientOptions = {},
  clientId = uniqueId('connector'),
): Promise<AdrClient> {
  const adr = new AdrClient(await connect(clientId), { retry: fastRetry, ...options });
  onTestFinished(() => adr.close());
  return adr;
}

describe('AdrClient against the ADR service emulator (integration)', () => {
  it('round-trips every RPC of the catalogue with the Thing Model payload wrappers', async () => {
    const emulator = await service();
    const clientId = uniqueId('connector');
    const adr = await client({}, clientId);

    const device = await adr.getDevice('oven', 'rest');
    expect(Object.keys(device.endpoints?.inbound ?? {})).toEqual(['rest']);
    expect(device.endpoints?.inbound?.['rest']?.address).toBe('http://127.0.0.1:8080');
    expect(device.version).toBe(3);

    expect(await adr.getDeviceStatus('oven', 'rest')).toEqual({});
    const deviceStatus = setDeviceEndpointStatus(
      setConfigStatus({}, { version: 3, lastTransitionTime: '2026-01-01T00:00:00.000Z' }),
      'rest',
      { error: { code: '500', message: 'connection refused' } },
    );
    const updatedDevice = await adr.updateDeviceStatus('oven', 'rest', deviceStatus);
    expect(updatedDevice).toEqual(deviceStatus);

    const asset = await adr.getAsset('oven', 'rest', 'oven-asset');
    expect(asset.datasets?.map((dataset) => dataset.name)).toEqual(['temperature', 'humidity']);
    expect(await adr.getAssetStatus('oven', 'rest', 'oven-asset')).toEqual({});
    const assetStatus = setDatasetStatus(setConfigStatus({}, { version: 1 }), 'temperature', {
      messageSchemaReference: {
        schemaName: 's1',
        schemaRegistryNamespace: 'ns',
        schemaVersion: '1',
      },
    });
    expect(await adr.updateAssetStatus('oven', 'rest', 'oven-asset', assetStatus)).toEqual(
      assetStatus,
    );

    await adr.setDeviceUpdateNotifications('oven', 'rest', 'On');
    await adr.setAssetUpdateNotifications('oven', 'rest', 'oven-asset', 'Off');
    const discoveredAsset = await adr.createOrUpdateDiscoveredAsset('oven', 'rest', 'found-1', {
      deviceRef: { deviceName: 'oven', endpointName: 'rest' },
      datasets: [
        { name: 'pressure', dataSource: '/api/pressure', lastUpdatedOn: '2026-01-01T00:00:00Z' },
      ],
    });
    const discoveredDevice = await adr.createOrUpdateDiscoveredDevice(
      'rest-thermostat',
      'found-device',
      {
        endpoints: {
          inbound: {
            main: {
              address: 'http://10.0.0.7',
              endpointType: 'rest-thermostat',
              supportedAuthenticationMethods: ['Anonymous'],
            },
          },
        },
        manufacturer: 'Contoso',
      },
    );

    expect(emulator.requests.map((request) => [request.action, request.payload])).toEqual([
      ['getDevice', undefined],
      ['getDeviceStatus', undefined],
      ['updateDeviceStatus', { deviceStatusUpdate: deviceStatus }],
      ['getAsset', { assetName: 'oven-asset' }],
      ['getAssetStatus', { assetName: 'oven-asset' }],
      ['updateAssetStatus', { assetStatusUpdate: { assetName: 'oven-asset', assetStatus } }],
      ['setNotificationPreferenceForDeviceUpdates', { notificationPreferenceRequest: 'On' }],
      [
        'setNotificationPreferenceForAssetUpdates',
        {
          notificationPreferenceRequest: { assetName: 'oven-asset', notificationPreference: 'Off' },
        },
      ],
      [
        'createOrUpdateDiscoveredAsset',
        {
          discoveredAssetRequest: {
            discoveredAssetName: 'found-1',
            discoveredAsset: {
              deviceRef: { deviceName: 'oven', endpointName: 'rest' },
              datasets: [
                {
                  name: 'pressure',
                  dataSource: '/api/pressure',
                  lastUpdatedOn: '2026-01-01T00:00:00Z',
                },
              ],
            },
          },
        },
      ],
      [
        'createOrUpdateDiscoveredDevice',
        {
          discoveredDeviceRequest: {
            discoveredDeviceName: 'found-device',
            discoveredDevice: {
              endpoints: {
                inbound: {
                  main: {
                    address: 'http://10.0.0.7',
                    endpointType: 'rest-thermostat',
                    supportedAuthenticationMethods: ['Anonymous'],
                  },
                },
              },
              manufacturer: 'Contoso',
            },
          },
        },
      ],
    ]);
    // the device and endpoint of every base-service request come from the topic
    for (const request of emulator.requests) {
      expect(request.clientId).toBe(clientId);
      if (request.action === 'createOrUpdateDiscoveredDevice') {
        expect(request.inboundEndpointType).toBe('rest-thermostat');
        expect(request.topic).toBe(
          `akri/discovery/resources/${clientId}/rest-thermostat/createOrUpdateDiscoveredDevice`,
        );
      } else {
        expect([request.deviceName, request.endpointName]).toEqual(['oven', 'rest']);
        expect(request.topic).toBe(
          `akri/connector/resources/${clientId}/oven/rest/${request.action}`,
        );
      }
    }
    // the emulator kept what the connector reported
    expect(emulator.deviceStatus('oven', 'rest')).toEqual(deviceStatus);
    expect(emulator.assetStatus('oven-asset')).toEqual(assetStatus);
    expect(discoveredAsset).toEqual({
      discoveryId: emulator.discovered.assets.get('found-1')?.discoveryId,
      version: 1,
    });
    expect(discoveredDevice.version).toBe(1);
    expect(emulator.discovered.devices.get('found-device')?.discoveredDevice.manufacturer).toBe(
      'Contoso',
    );
    // a repeated discovery keeps the id; a changed one bumps the version
    const again = await adr.createOrUpdateDiscoveredDevice('rest-thermostat', 'found-device', {
      manufacturer: 'Contoso',
      model: 'T-1000',
    });
    expect(again).toEqual({ discoveryId: discoveredDevice.discoveryId, version: 2 });
  });

  it('sends the RPC envelope of CONTRACT §5.2, and empty requests without content type', async () => {
    await service();
    const clientId = uniqueId('connector');
    const raw = await startSubscriber(broker.url, `akri/connector/resources/${clientId}/#`);
    onTestFinished(() => raw.close());
    const responses = await startSubscriber(broker.url, `clients/${clientId}/#`);
    onTestFinished(() => responses.close());
    const adr = await client({}, clientId);

    await adr.getDevice('oven', 'rest');
    await adr.getDeviceStatus('oven', 'rest');
    await adr.getAsset('oven', 'rest', 'oven-asset');
    const [getDevice, getDeviceStatus, getAsset] = await raw.waitFor(3);

    for (const request of [getDevice, getDeviceStatus]) {
      expect(request?.payload.byteLength).toBe(0);
      expect(request?.contentType).toBeUndefined();
      expect(request?.payloadFormatIndicator ?? 0).toBe(0);
    }
    expect(getDevice?.topic).toBe(`akri/connector/resources/${clientId}/oven/rest/getDevice`);
    expect(getAsset?.contentType).toBe('application/json');
    expect(getAsset?.payloadFormatIndicator).toBe(1);
    expect(json(getAsset!)).toEqual({ assetName: 'oven-asset' });
    for (const request of [getDevice!, getDeviceStatus!, getAsset!]) {
      expect(request.qos).toBe(1);
      expect(request.responseTopic).toBe(`clients/${clientId}/${request.topic}`);
      expect(request.correlationData?.byteLength).toBe(16);
      expect(request.messageExpiryInterval).toBe(10);
      expect(property(request, '__protVer')).toBe('1.0');
      expect(property(request, '__srcId')).toBe(clientId);
      expect(property(request, '__invId')).toBe(clientId);
      expect(property(request, '$partition')).toBe(clientId);
      expect(property(request, '$high_priority')).toBe('');
      expect(property(request, '__ts')).toMatch(/^\d{15}:\d{5}:.+$/);
    }
    // the service answered each with __stat 200 and the wrapped result
    const answered = await responses.waitFor(3);
    expect(answered.map((response) => property(response, '__stat'))).toEqual(['200', '200', '200']);
    expect(Object.keys(json(answered[0]!) as object)).toEqual(['device']);
    expect(Object.keys(json(answered[1]!) as object)).toEqual(['deviceStatus']);
    expect(Object.keys(json(answered[2]!) as object)).toEqual(['asset']);
  });

  it('turns an error body into an AdrServiceError: BadRequest fails at once, InternalError is retried', async () => {
    const emulator = await service();
    const adr = await client();

    emulator.failNext('getAsset', 5, { code: 'BadRequest', message: 'assetName is required' });
    const bad = await adr.getAsset('oven', 'rest', 'oven-asset').catch((error: unknown) => error);
    expect(bad).toBeInstanceOf(AdrServiceError);
    expect(bad).toMatchObject({
      code: 'ERR_AIO_ADR_SERVICE',
      action: 'getAsset',
      serviceCode: 'BadRequest',
      serviceMessage: 'assetName is required',
      retryable: false,
    });
    expect((bad as AdrServiceError).serviceTimestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(emulator.requests.filter((request) => request.action === 'getAsset')).toHaveLength(1);

    emulator.failNext('getDevice', 2, { code: 'InternalError' });
    const device = await adr.getDevice('oven', 'rest');
    expect(device.uuid).toBe(oven.uuid);
    const attempts = emulator.requests.filter((request) => request.action === 'getDevice');
    expect(attempts).toHaveLength(3);
    expect(attempts.map((request) => Object.keys(request.response as object)[0])).toEqual([
      'getDeviceError',
      'getDeviceError',
      'device',
    ]);

    emulator.failNext('getDeviceStatus', 3, { code: 'KubeError' });
    const exhausted = await client({ retry: { ...fastRetry, retries: 2 } });
    await expect(exhausted.getDeviceStatus('oven', 'rest')).rejects.toMatchObject({
      serviceCode: 'KubeError',
      retryable: true,
    });
    expect(
      emulator.requests.filter((request) => request.action === 'getDeviceStatus'),
    ).toHaveLength(3);

    // an unknown asset is a KubeError, as the real service reports it
    const noRetry = await client({ retry: { retries: 0 } });
    await expect(noRetry.getAssetStatus('oven', 'rest', 'missing')).rejects.toMatchObject({
      serviceCode: 'KubeError',
      serviceMessage: expect.stringContaining('"missing" not found') as unknown,
    });
    // an Unauthorized error is not retried either
    emulator.failNext('updateAssetStatus', 3, { code: 'Unauthorized' });
    await expect(adr.updateAssetStatus('oven', 'rest', 'oven-asset', {})).rejects.toMatchObject({
      serviceCode: 'Unauthorized',
    });
    expect(
      emulator.requests.filter((request) => request.action === 'updateAssetStatus'),
    ).toHaveLength(1);
  });

  it('rejects malformed responses and refused notification preferences', async () => {
    const session = await connect(uniqueId('fake-adr'));
    const answers: Record<string, string> = {
      getDevice: 'not json',
      getDeviceStatus: '{"somethingElse":{}}',
      getAsset: '["asset"]',
      setNotificationPreferenceForDeviceUpdates: '{"responsePayload":"Rejected"}',
      setNotificationPreferenceForAssetUpdates: '{"responsePayload":"accepted"}',
    };
    for (const [action, answer] of Object.entries(answers)) {
      const executor = new CommandExecutor<Uint8Array, Uint8Array>(
        session,
        action,
        `akri/connector/resources/{ex:connectorClientId}/{ex:deviceName}/{ex:inboundEndpointName}/${action}`,
        () => ({ payload: new TextEncoder().encode(answer) }),
        { requestSerializer: rawSerializer, responseSerializer: rawSerializer },
      );
      await executor.start();
      onTestFinished(() => executor.stop());
    }
    const adr = await client();
    for (const call of [
      adr.getDevice('oven', 'rest'),
      adr.getDeviceStatus('oven', 'rest'),
      adr.getAsset('oven', 'rest', 'oven-asset'),
    ]) {
      const error = await call.catch((reason: unknown) => reason);
      expect(error).toBeInstanceOf(ProtocolError);
      expect(error).toMatchObject({ kind: 'invalid payload', retryable: false });
    }
    await expect(adr.setDeviceUpdateNotifications('oven', 'rest', 'On')).rejects.toMatchObject({
      code: 'ERR_AIO_ADR_SERVICE',
      serviceCode: undefined,
      details: expect.objectContaining({ responsePayload: 'Rejected' }) as unknown,
    });
    // "Accepted" is compared without case, as the .NET SDK does
    await adr.setAssetUpdateNotifications('oven', 'rest', 'oven-asset', 'On');
  });

  it('reports a definition that breaks the Thing Model as a ConfigError', async () => {
    await service({
      devices: {
        oven: { ...oven, endpoints: { inbound: { rest: { address: 42 } } } } as unknown as Device,
      },
    });
    const adr = await client();
    const error = await adr.getDevice('oven', 'rest').catch((reason: unknown) => reason);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('endpoints.inbound.rest');
  });

  it('delivers assetUpdateEvent only to the client that turned notifications On, and stops on Off', async () => {
    const emulator = await service();
    const idA = uniqueId('connector-a');
    const idB = uniqueId('connector-b');
    const wire = await startSubscriber(broker.url, 'akri/connector/resources/telemetry/#');
    onTestFinished(() => wire.close());
    const a = await client({}, idA);
    const b = await client({}, idB);
    await Promise.all([a.start(), b.start()]);
    const seenA: AssetUpdateEvent[] = [];
    const seenB: AssetUpdateEvent[] = [];
    a.onAssetUpdate((event) => {
      seenA.push(event);
    });
    b.onAssetUpdate((event) => {
      seenB.push(event);
    });
    const devicesA: DeviceUpdateEvent[] = [];
    a.onDeviceUpdate((event) => {
      devicesA.push(event);
    });

    await a.setAssetUpdateNotifications('oven', 'rest', 'oven-asset', 'On');
    await emulator.setAsset('oven-asset', { ...ovenAsset, displayName: 'Oven 1' });
    await eventually(() => {
      expect(seenA).toHaveLength(1);
    });
    expect(seenA[0]).toMatchObject({
      deviceName: 'oven',
      endpointName: 'rest',
      assetName: 'oven-asset',
      asset: { displayName: 'Oven 1', version: 2 },
      issues: [],
    });
    const [notification] = await wire.waitFor(1);
    expect(notification?.topic).toBe(
      `akri/connector/resources/telemetry/${idA}/oven/rest/assetUpdateEvent`,
    );
    expect(json(notification!)).toEqual({
      assetUpdateEvent: { assetName: 'oven-asset', asset: emulator.asset('oven-asset') },
    });

    // Off: the next change is not sent; a device update sent after it proves the order
    await a.setAssetUpdateNotifications('oven', 'rest', 'oven-asset', 'Off');
    await emulator.setAsset('oven-asset', { ...ovenAsset, displayName: 'Oven 2' });
    await a.setDeviceUpdateNotifications('oven', 'rest', 'On');
    await emulator.setDevice('oven', { ...oven, manufacturer: 'Contoso' });
    await eventually(() => {
      expect(devicesA).toHaveLength(1);
    });
    // the raw subscriber gets its copies independently of client A: wait for both
    await wire.waitFor(2);
    expect(wire.messages.map((message) => message.topic)).toEqual([
      `akri/connector/resources/telemetry/${idA}/oven/rest/assetUpdateEvent`,
      `akri/connector/resources/telemetry/${idA}/oven/rest/deviceUpdateEvent`,
    ]);
    expect(seenA).toHaveLength(1);
    expect(seenB).toHaveLength(0);
    expect(devicesA[0]).toMatchObject({
      deviceName: 'oven',
      endpointName: 'rest',
      device: { manufacturer: 'Contoso', version: 4 },
      issues: [],
    });
    // only the endpoint of the notification is in the device
    expect(Object.keys(devicesA[0]?.device.endpoints?.inbound ?? {})).toEqual(['rest']);
    expect(json(wire.messages[1]!)).toMatchObject({ deviceUpdateEvent: { deviceName: 'oven' } });
    // an unchanged definition sends nothing and keeps the version
    await emulator.setDevice('oven', { ...oven, manufacturer: 'Contoso' });
    expect(emulator.device('oven')?.version).toBe(4);
    expect(emulator.notifications).toHaveLength(2);
  });

  it('writes an error then clears it (absent on the wire) with updateAssetStatusWith', async () => {
    const emulator = await service();
    const adr = await client();
    await adr.updateAssetStatusWith('oven', 'rest', 'oven-asset', (current) =>
      setDatasetStatus(setConfigStatus(current, { version: 1 }), 'temperature', {
        error: { code: '503', message: 'HTTP 503 from /api/temperature' },
      }),
    );
    expect(emulator.assetStatus('oven-asset')?.datasets).toEqual([
      { name: 'temperature', error: { code: '503', message: 'HTTP 503 from /api/temperature' } },
    ]);
    const cleared = await adr.updateAssetStatusWith('oven', 'rest', 'oven-asset', (current) =>
      setDatasetStatus(current, 'temperature', { error: null }),
    );
    expect(cleared.datasets).toEqual([{ name: 'temperature' }]);
    expect(emulator.assetStatus('oven-asset')).toEqual({
      config: { version: 1 },
      datasets: [{ name: 'temperature' }],
    });
    const updates = emulator.requests.filter((request) => request.action === 'updateAssetStatus');
    expect(updates).toHaveLength(2);
    expect(JSON.stringify(updates[1]?.payload)).not.toContain('error');
    // the status is read once, before the first write; later cycles start from the last write
    expect(emulator.requests.filter((request) => request.action === 'getAssetStatus')).toHaveLength(
      1,
    );
    // a status holding null is sent without the field
    await adr.updateAssetStatus('oven', 'rest', 'oven-asset', {
      config: { version: 1, error: null },
    } as unknown as Parameters<AdrClient['updateAssetStatus']>[3]);
    expect(emulator.requests.at(-1)?.payload).toEqual({
      assetStatusUpdate: { assetName: 'oven-asset', assetStatus: { config: { version: 1 } } },
    });
  });

  it('skips an identical write with onlyIfChanged and serializes concurrent cycles', async () => {
    const emulator = await service();
    const adr = await client();
    const healthy = (version: number) => (current: object) =>
      setDatasetStatus(
        setConfigStatus(current, {
          error: null,
          version,
          lastTransitionTime: new Date().toISOString(),
        }),
        'temperature',
        { error: null },
      );
    await adr.updateAssetStatusWith('oven', 'rest', 'oven-asset', healthy(1));
    const unchanged = await adr.updateAssetStatusWith('oven', 'rest', 'oven-asset', healthy(1));
    expect(unchanged.datasets).toEqual([{ name: 'temperature' }]);
    expect(
      emulator.requests.filter((request) => request.action === 'updateAssetStatus'),
    ).toHaveLength(1);
    // forced write
    await adr.updateAssetStatusWith('oven', 'rest', 'oven-asset', healthy(1), {
      onlyIfChanged: false,
    });
    expect(
      emulator.requests.filter((request) => request.action === 'updateAssetStatus'),
    ).toHaveLength(2);
    // undefined = no change
    await adr.updateAssetStatusWith('oven', 'rest', 'oven-asset', () => undefined);
    expect(
      emulator.requests.filter((request) => request.action === 'updateAssetStatus'),
    ).toHaveLength(2);

    // concurrent cycles each see the result of the previous one: nothing is lost
    await Promise.all(
      ['a', 'b', 'c', 'd'].map((name) =>
        adr.updateAssetStatusWith('oven', 'rest', 'oven-asset', (current) =>
          setDatasetStatus(current, name, { error: { message: name } }),
        ),
      ),
    );
    expect(emulator.assetStatus('oven-asset')?.datasets?.map((dataset) => dataset.name)).toEqual([
      'temperature',
      'a',
      'b',
      'c',
      'd',
    ]);

    // a forgotten (deleted) asset starts again from getAssetStatus
    expect(emulator.requests.filter((request) => request.action === 'getAssetStatus')).toHaveLength(
      1,
    );
    adr.forgetAsset('oven', 'rest', 'oven-asset');
    await adr.updateAssetStatusWith('oven', 'rest', 'oven-asset', (current) =>
      setDatasetStatus(current, 'e', { error: { message: 'e' } }),
    );
    expect(emulator.requests.filter((request) => request.action === 'getAssetStatus')).toHaveLength(
      2,
    );

    // devices: getDeviceStatus before every cycle; the endpoint map is merged per endpoint
    const endpointOk = (current: object) =>
      setDeviceEndpointStatus(setConfigStatus(current, { version: 3 }), 'rest', { error: null });
    await adr.updateDeviceStatusWith('oven', 'rest', endpointOk);
    await adr.updateDeviceStatusWith('oven', 'rest', endpointOk);
    expect(
      emulator.requests.filter((request) => request.action === 'getDeviceStatus'),
    ).toHaveLength(2);
    expect(
      emulator.requests.filter((request) => request.action === 'updateDeviceStatus'),
    ).toHaveLength(1);
    const other = await client();
    await other.updateDeviceStatus('oven', 'coap', {
      config: { version: 3 },
      endpoints: { inbound: { coap: { error: { message: 'unreachable' } } } },
    });
    expect(emulator.deviceStatus('oven')?.endpoints?.inbound).toEqual({
      rest: {},
      coap: { error: { message: 'unreachable' } },
    });
    expect(await adr.getDeviceStatus('oven', 'rest')).toEqual({
      config: { version: 3 },
      endpoints: { inbound: { rest: {} } },
    });
  });

  it('rejects calls in progress with ERR_AIO_CLOSED when closed, and aborts with the signal', async () => {
    const emulator = await service();
    emulator.failNext('getDevice', 100, { code: 'InternalError' });
    const adr = await client({ retry: { minDelayInMs: 200, maxDelayInMs: 200 } });
    const pending = adr.getDevice('oven', 'rest').catch((error: unknown) => error);
    await eventually(() => {
      expect(emulator.requests.length).toBeGreaterThan(0);
    });
    await adr.close();
    expect(await pending).toMatchObject({ code: 'ERR_AIO_CLOSED' });
    await expect(adr.getDevice('oven', 'rest')).rejects.toMatchObject({ code: 'ERR_AIO_CLOSED' });

    const other = await client({ retry: { minDelayInMs: 200, maxDelayInMs: 200 } });
    const controller = new AbortController();
    const aborted = other
      .getDevice('oven', 'rest', { signal: controller.signal })
      .catch((e: unknown) => e);
    controller.abort();
    expect(await aborted).toMatchObject({ code: 'ERR_AIO_ABORTED' });
  });
});
