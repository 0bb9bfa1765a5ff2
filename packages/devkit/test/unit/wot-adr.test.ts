// Checks what the ADR client (core) and the ADR service emulator (devkit) put on the wire against
// the official Thing Models in ../shared/aio/wot (AdrBaseService, DeviceDiscoveryService): topics,
// content types, and every JSON field name, type and enum value of requests, responses, error
// bodies and telemetry. Client and emulator talk through an in-memory MQTT client, so every message
// is captured exactly as published, and neither side can drift from the contract unnoticed.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  AdrClient,
  setConfigStatus,
  setDatasetStatus,
  setDeviceEndpointStatus,
  setEventStatus,
  setManagementActionStatus,
  setStreamStatus,
  type AssetStatus,
  type DeviceStatus,
  type IncomingMessage,
  type MessageHandler,
  type MqttClient,
  type OutgoingMessage,
  type PublishResult,
  type QoS,
} from '@aio-connector/core';
import { loadResources, startAdrService, type AdrServiceEmulator } from '@aio-connector/devkit';

const wot = new URL('../../../../../shared/aio/wot/', import.meta.url);
const resources = fileURLToPath(
  new URL('../../../../../shared/aio/adr-resources/', import.meta.url),
);
const haveThingModels = existsSync(new URL('adr-base-service/AdrBaseService.TM.json', wot));
if (!haveThingModels)
  console.warn(`skipping the ADR Thing Model checks: ${wot.pathname} is not present`);

// ------------------------------------------------------------------------------------------------
// Thing Model access and a strict checker of JSON values against its schemas

interface Schema {
  readonly type?: string;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly items?: Schema;
  readonly enum?: readonly unknown[];
  readonly format?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly 'dtv:additionalProperties'?: Schema;
}

interface Form {
  readonly contentType: string;
  readonly 'dtv:topic': string;
  readonly additionalResponses?: readonly { readonly schema: string }[];
}

interface ThingModel {
  readonly schemaDefinitions?: Readonly<Record<string, Schema>>;
  readonly actions: Readonly<
    Record<
      string,
      { readonly input?: Schema; readonly output: Schema; readonly forms: readonly Form[] }
    >
  >;
  readonly events: Readonly<
    Record<string, { readonly data: Schema; readonly forms: readonly Form[] }>
  >;
}

const readModel = (path: string): ThingModel =>
  JSON.parse(readFileSync(new URL(path, wot), 'utf8')) as ThingModel;

/**
 * Every way `value` breaks `schema`: unknown fields (not in `properties` and no
 * `dtv:additionalProperties`), missing required fields, wrong types, enum values, formats, ranges.
 */
function problemsOf(schema: Schema, value: unknown, path = '$'): string[] {
  const problems: string[] = [];
  switch (schema.type) {
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        return [`${path}: expected an object, found ${JSON.stringify(value)}`];
      const record = value as Record<string, unknown>;
      for (const name of schema.required ?? [])
        if (!(name in record)) problems.push(`${path}.${name}: required field is missing`);
      for (const [name, item] of Object.entries(record)) {
        const property = schema.properties?.[name] ?? schema['dtv:additionalProperties'];
        if (property === undefined)
          problems.push(`${path}.${name}: not a field of the Thing Model`);
        else problems.push(...problemsOf(property, item, `${path}.${name}`));
      }
      return problems;
    }
    case 'array':
      if (!Array.isArray(value)) return [`${path}: expected an array`];
      return value.flatMap((item, i) =>
        schema.items ? problemsOf(schema.items, item, `${path}[${i}]`) : [],
      );
    case 'string':
      if (typeof value !== 'string')
        return [`${path}: expected a string, found ${JSON.stringify(value)}`];
      if (schema.format === 'date-time' && Number.isNaN(Date.parse(value)))
        problems.push(`${path}: ${JSON.stringify(value)} is not a date-time`);
      break;
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value))
        return [`${path}: expected an integer`];
      if (schema.minimum !== undefined && value < schema.minimum)
        problems.push(`${path}: below the minimum`);
      break;
    case 'boolean':
      if (typeof value !== 'boolean') return [`${path}: expected a boolean`];
      break;
    default:
      return [`${path}: the checker does not know the type ${String(schema.type)}`];
  }
  if (schema.enum !== undefined && !schema.enum.includes(value))
    problems.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  return problems;
}

/** The Thing Model topic with its tokens replaced. */
function topicOf(form: Form, tokens: Readonly<Record<string, string>>): string {
  return form['dtv:topic'].replace(/\{(ex:[A-Za-z]+)\}/g, (_, name: string) => {
    const value = tokens[name];
    if (value === undefined) throw new Error(`no value for the token ${name}`);
    return value;
  });
}

// ------------------------------------------------------------------------------------------------
// an in-memory broker

function matches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}

interface Captured {
  readonly from: string;
  readonly message: OutgoingMessage;
}

class MemoryBroker {
  readonly published: Captured[] = [];
  readonly #clients = new Set<MemoryClient>();

  client(clientId: string): MemoryClient {
    const client = new MemoryClient(this, clientId);
    this.#clients.add(client);
    return client;
  }

  route(from: string, message: OutgoingMessage): void {
    this.published.push({ from, message });
    for (const client of this.#clients) client.offer(message);
  }
}

class MemoryClient implements MqttClient {
  readonly clientId: string;
  readonly #broker: MemoryBroker;
  /** Every filter subscribed (and not unsubscribed), with its QoS. */
  readonly filters = new Map<string, QoS>();
  readonly #handlers = new Set<MessageHandler>();

  constructor(broker: MemoryBroker, clientId: string) {
    this.#broker = broker;
    this.clientId = clientId;
  }

  publish(message: OutgoingMessage): Promise<PublishResult> {
    this.#broker.route(this.clientId, message);
    return Promise.resolve({ reasonCode: 0 });
  }

  subscribe(filter: string, options: { readonly qos: QoS }): Promise<{ reasonCode: number }> {
    this.filters.set(filter, options.qos);
    return Promise.resolve({ reasonCode: options.qos });
  }

  unsubscribe(filter: string): Promise<{ reasonCode: number }> {
    this.filters.delete(filter);
    return Promise.resolve({ reasonCode: 0 });
  }

  onMessage(handler: MessageHandler): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  offer(message: OutgoingMessage): void {
    const qos = [...this.filters].find(([filter]) => matches(filter, message.topic))?.[1];
    if (qos === undefined) return;
    const incoming: IncomingMessage = {
      ...message,
      qos: Math.min(qos, message.qos) as QoS,
      retain: false,
    };
    setImmediate(() => {
      for (const handler of [...this.#handlers]) void handler(incoming);
    });
  }
}

// ------------------------------------------------------------------------------------------------

const decode = (message: OutgoingMessage): unknown =>
  message.payload.byteLength === 0
    ? undefined
    : JSON.parse(new TextDecoder().decode(message.payload));

const connectorId = 'wot-connector';

interface Setup {
  readonly broker: MemoryBroker;
  readonly adr: AdrClient;
  readonly connector: MemoryClient;
  readonly emulator: AdrServiceEmulator;
}

async function setup(): Promise<Setup> {
  const broker = new MemoryBroker();
  const loaded = await loadResources(resources);
  const emulator = await startAdrService(broker.client('adr-service'), loaded);
  onTestFinished(() => emulator.close());
  const connector = broker.client(connectorId);
  const adr = new AdrClient(connector, { retry: { retries: 0 } });
  onTestFinished(() => adr.close());
  await adr.start();
  return { broker, adr, connector, emulator };
}

/** The request and response of every RPC captured on the broker. */
function exchanges(
  broker: MemoryBroker,
): { request: OutgoingMessage; response: OutgoingMessage }[] {
  const requests = broker.published.filter(
    (item) => item.from === connectorId && item.message.responseTopic,
  );
  return requests.map(({ message: request }) => {
    const response = broker.published.find(
      (item) =>
        item.from === 'adr-service' &&
        item.message.topic === request.responseTopic &&
        Buffer.from(item.message.correlationData ?? []).equals(
          Buffer.from(request.correlationData ?? []),
        ),
    );
    if (response === undefined) throw new Error(`no response to ${request.topic}`);
    return { request, response: response.message };
  });
}

const deviceStatus = (): DeviceStatus =>
  setDeviceEndpointStatus(
    setConfigStatus(
      {},
      {
        version: 2,
        lastTransitionTime: '2026-01-01T00:00:00Z',
        error: {
          code: '400',
          message: 'bad',
          details: [{ code: '400.1', correlationId: 'c', info: 'i', message: 'm' }],
        },
      },
    ),
    'my-rest-endpoint',
    { error: { code: '500', message: 'refused' } },
  );

const assetStatus = (): AssetStatus => {
  const schema = { schemaName: 'abc', schemaRegistryNamespace: 'ns', schemaVersion: '1' };
  let status: AssetStatus = setConfigStatus(
    {},
    { version: 1, lastTransitionTime: '2026-01-01T00:00:00Z' },
  );
  status = setDatasetStatus(status, 'thermostat_status', { messageSchemaReference: schema });
  status = setDatasetStatus(status, 'other', { error: { code: '500', message: 'HTTP 500' } });
  status = setStreamStatus(status, 'video', { messageSchemaReference: schema });
  status = setEventStatus(status, 'alarms', 'overheat', {
    error: { message: 'x' },
    messageSchemaReference: schema,
  });
  return setManagementActionStatus(status, 'control', 'reboot', {
    error: { message: 'unsupported' },
    requestMessageSchemaReference: schema,
    responseMessageSchemaReference: schema,
  });
};

describe.skipIf(!haveThingModels)('ADR client and emulator against the Thing Models', () => {
  const base = haveThingModels ? readModel('adr-base-service/AdrBaseService.TM.json') : undefined;
  const discovery = haveThingModels
    ? readModel('device-discovery-service/DeviceDiscoveryService.TM.json')
    : undefined;
  const tokens = {
    'ex:connectorClientId': connectorId,
    'ex:deviceName': 'my-thermostat',
    'ex:inboundEndpointName': 'my-rest-endpoint',
    'ex:discoveryClientId': connectorId,
    'ex:inboundEndpointType': 'rest-thermostat',
  };

  function checkExchange(
    model: ThingModel,
    action: string,
    request: OutgoingMessage,
    response: OutgoingMessage,
  ): void {
    const definition = model.actions[action];
    if (definition === undefined) throw new Error(`the Thing Model has no action ${action}`);
    const form = definition.forms[0]!;
    expect(request.topic).toBe(topicOf(form, tokens));
    const body = decode(request);
    if (definition.input === undefined) {
      // no input: an empty payload without content type (EmptyJson)
      expect(request.payload.byteLength, action).toBe(0);
      expect(request.contentType, action).toBeUndefined();
      expect(request.payloadFormatIndicator ?? 0, action).toBe(0);
    } else {
      expect(request.contentType, action).toBe(form.contentType);
      expect(problemsOf(definition.input, body), action).toEqual([]);
    }
    expect(response.contentType, action).toBe(form.contentType);
    const answer = decode(response) as Record<string, unknown>;
    const errorField = `${action}Error`;
    if (errorField in answer) {
      const errorSchema = model.schemaDefinitions?.[form.additionalResponses?.[0]?.schema ?? ''];
      expect(errorSchema, action).toBeDefined();
      const wrapper: Schema = {
        type: 'object',
        required: [errorField],
        properties: { [errorField]: errorSchema! },
      };
      expect(problemsOf(wrapper, answer), action).toEqual([]);
    } else expect(problemsOf(definition.output, answer), action).toEqual([]);
  }

  it('uses the topics, request wrappers and response fields of every action', async () => {
    const { broker, adr, emulator } = await setup();
    await adr.getDevice('my-thermostat', 'my-rest-endpoint');
    await adr.getDeviceStatus('my-thermostat', 'my-rest-endpoint');
    await adr.updateDeviceStatus('my-thermostat', 'my-rest-endpoint', deviceStatus());
    await adr.getDeviceStatus('my-thermostat', 'my-rest-endpoint');
    await adr.getAsset('my-thermostat', 'my-rest-endpoint', 'my-rest-thermostat-asset');
    await adr.getAssetStatus('my-thermostat', 'my-rest-endpoint', 'my-rest-thermostat-asset');
    await adr.updateAssetStatus(
      'my-thermostat',
      'my-rest-endpoint',
      'my-rest-thermostat-asset',
      assetStatus(),
    );
    await adr.getAssetStatus('my-thermostat', 'my-rest-endpoint', 'my-rest-thermostat-asset');
    await adr.setDeviceUpdateNotifications('my-thermostat', 'my-rest-endpoint', 'On');
    await adr.setAssetUpdateNotifications(
      'my-thermostat',
      'my-rest-endpoint',
      'my-rest-thermostat-asset',
      'Off',
    );
    await adr.createOrUpdateDiscoveredAsset('my-thermostat', 'my-rest-endpoint', 'found', {
      deviceRef: { deviceName: 'my-thermostat', endpointName: 'my-rest-endpoint' },
      attributes: { floor: '2' },
      displayName: 'Found',
      datasets: [
        {
          name: 'd',
          dataSource: '/d',
          lastUpdatedOn: '2026-01-01T00:00:00Z',
          dataPoints: [{ name: 'p', dataSource: '/p', lastUpdatedOn: '2026-01-01T00:00:00Z' }],
          destinations: [
            { target: 'Mqtt', configuration: { topic: 't', qos: 'Qos1', retain: 'Never', ttl: 5 } },
          ],
        },
      ],
      eventGroups: [{ name: 'g', events: [{ name: 'e', lastUpdatedOn: '2026-01-01T00:00:00Z' }] }],
      streams: [{ name: 's', lastUpdatedOn: '2026-01-01T00:00:00Z' }],
      managementGroups: [
        {
          name: 'm',
          lastUpdatedOn: '2026-01-01T00:00:00Z',
          actions: [
            {
              name: 'a',
              actionType: 'Call',
              targetUri: '/a',
              lastUpdatedOn: '2026-01-01T00:00:00Z',
            },
          ],
        },
      ],
    });
    await adr.createOrUpdateDiscoveredDevice('rest-thermostat', 'found-device', {
      attributes: { a: 'b' },
      endpoints: {
        inbound: {
          main: {
            address: 'http://10.0.0.7',
            endpointType: 'rest-thermostat',
            version: '1',
            additionalConfiguration: '{}',
            supportedAuthenticationMethods: ['Anonymous'],
            lastUpdatedOn: '2026-01-01T00:00:00Z',
          },
        },
        outbound: { assigned: { cloud: { address: 'mqtts://x', endpointType: 'mqtt' } } },
      },
      externalDeviceId: 'x-1',
      manufacturer: 'Contoso',
      model: 'T',
      operatingSystem: 'Linux',
      operatingSystemVersion: '6',
    });

    const seen = exchanges(broker);
    const actions = new Set<string>();
    for (const { request, response } of seen) {
      const action = request.topic.split('/').at(-1)!;
      actions.add(action);
      checkExchange(
        action === 'createOrUpdateDiscoveredDevice' ? discovery! : base!,
        action,
        request,
        response,
      );
    }
    expect([...actions].sort()).toEqual(
      [...Object.keys(base!.actions), ...Object.keys(discovery!.actions)].sort(),
    );
    // the emulator answered from real data: statuses came back filled in
    expect(emulator.assetStatus('my-rest-thermostat-asset')?.managementGroups).toHaveLength(1);
  });

  it('answers every action with the error body of the Thing Model', async () => {
    const { broker, adr, emulator } = await setup();
    const calls: Record<string, () => Promise<unknown>> = {
      getDevice: () => adr.getDevice('my-thermostat', 'my-rest-endpoint'),
      getDeviceStatus: () => adr.getDeviceStatus('no-such-device', 'my-rest-endpoint'),
      getAsset: () => adr.getAsset('my-thermostat', 'my-rest-endpoint', 'no-such-asset'),
      getAssetStatus: () =>
        adr.getAssetStatus('my-thermostat', 'my-rest-endpoint', 'no-such-asset'),
      updateDeviceStatus: () => adr.updateDeviceStatus('my-thermostat', 'no-such-endpoint', {}),
      updateAssetStatus: () =>
        adr.updateAssetStatus('my-thermostat', 'my-rest-endpoint', 'no-such-asset', {}),
      setNotificationPreferenceForDeviceUpdates: () =>
        adr.setDeviceUpdateNotifications('no-such-device', 'my-rest-endpoint', 'On'),
      setNotificationPreferenceForAssetUpdates: () =>
        adr.setAssetUpdateNotifications('my-thermostat', 'my-rest-endpoint', 'no-such-asset', 'On'),
      createOrUpdateDiscoveredAsset: () =>
        adr.createOrUpdateDiscoveredAsset('my-thermostat', 'my-rest-endpoint', 'found', {
          deviceRef: { deviceName: 'my-thermostat', endpointName: 'my-rest-endpoint' },
        }),
      createOrUpdateDiscoveredDevice: () =>
        adr.createOrUpdateDiscoveredDevice('rest-thermostat', 'found', {}),
    };
    emulator.failNext('getDevice', 1, { code: 'Unauthorized' });
    emulator.failNext('createOrUpdateDiscoveredAsset', 1, { code: 'BadRequest' });
    emulator.failNext('createOrUpdateDiscoveredDevice', 1, { code: 'SerializationError' });
    for (const [action, call] of Object.entries(calls))
      await expect(call(), action).rejects.toMatchObject({ code: 'ERR_AIO_ADR_SERVICE', action });
    const seen = exchanges(broker);
    expect(seen).toHaveLength(Object.keys(calls).length);
    for (const { request, response } of seen) {
      const action = request.topic.split('/').at(-1)!;
      const model = action === 'createOrUpdateDiscoveredDevice' ? discovery! : base!;
      const answer = decode(response) as Record<string, unknown>;
      expect(Object.keys(answer), action).toEqual([`${action}Error`]);
      // the topic tokens of these calls differ from the defaults: check the wrappers only
      const definition = model.actions[action]!;
      if (definition.input !== undefined)
        expect(problemsOf(definition.input, decode(request)), action).toEqual([]);
      const errorSchema = model.schemaDefinitions?.['AkriServiceError'];
      expect(problemsOf(errorSchema!, answer[`${action}Error`]), action).toEqual([]);
    }
  });

  it('keeps the client-side and service-side Thing Models in line with the base one', () => {
    for (const path of [
      'adr-base-service/AdrBaseServiceClientSide.TM.json',
      'adr-base-service/AdrBaseServiceServerSide.TM.json',
    ]) {
      const side = readModel(path);
      for (const [name, action] of Object.entries(side.actions))
        expect(action.forms, `${path} ${name}`).toEqual(base!.actions[name]?.forms);
      for (const [name, event] of Object.entries(side.events))
        expect(event.forms, `${path} ${name}`).toEqual(base!.events[name]?.forms);
    }
  });

  it('uses the topics and payloads of the update and runtime health events', async () => {
    const { broker, adr, connector, emulator } = await setup();
    // start() subscribes to the update notifications addressed to this client, QoS 1
    for (const event of ['deviceUpdateEvent', 'assetUpdateEvent']) {
      const form = base!.events[event]!.forms[0]!;
      const filter = topicOf(form, {
        ...tokens,
        'ex:deviceName': '+',
        'ex:inboundEndpointName': '+',
      });
      expect(connector.filters.get(filter), filter).toBe(1);
    }
    const devices: unknown[] = [];
    const assets: unknown[] = [];
    adr.onDeviceUpdate((event) => {
      devices.push(event);
    });
    adr.onAssetUpdate((event) => {
      assets.push(event);
    });
    await adr.setDeviceUpdateNotifications('my-thermostat', 'my-rest-endpoint', 'On');
    await adr.setAssetUpdateNotifications(
      'my-thermostat',
      'my-rest-endpoint',
      'my-rest-thermostat-asset',
      'On',
    );
    await emulator.setDevice('my-thermostat', {
      ...emulator.device('my-thermostat'),
      model: 'T-2',
    });
    await emulator.setAsset('my-rest-thermostat-asset', {
      ...emulator.asset('my-rest-thermostat-asset')!,
      displayName: 'Thermostat',
    });
    adr.health.reportDeviceEndpoint(
      'my-thermostat',
      'my-rest-endpoint',
      { status: 'Unavailable', message: 'm', reasonCode: 'R' },
      2,
    );
    adr.health.reportDataset(
      'my-thermostat',
      'my-rest-endpoint',
      'a',
      'd',
      { status: 'Available' },
      1,
    );
    adr.health.reportEvent(
      'my-thermostat',
      'my-rest-endpoint',
      'a',
      'g',
      'e',
      { status: 'Available' },
      1,
    );
    adr.health.reportStream(
      'my-thermostat',
      'my-rest-endpoint',
      'a',
      's',
      { status: 'Available' },
      1,
    );
    adr.health.reportManagementAction(
      'my-thermostat',
      'my-rest-endpoint',
      'a',
      'm',
      'x',
      { status: 'Available' },
      1,
    );
    await adr.health.flush();
    await expect
      .poll(() => [devices.length, assets.length, emulator.health().length])
      .toEqual([1, 1, 5]);

    const telemetry = broker.published.filter((item) =>
      item.message.topic.startsWith('akri/connector/resources/telemetry/'),
    );
    const events = new Set<string>();
    for (const { message } of telemetry) {
      const event = message.topic.split('/').at(-1)!;
      events.add(event);
      const definition = base!.events[event];
      expect(definition, event).toBeDefined();
      const form = definition!.forms[0]!;
      expect(message.topic, event).toBe(topicOf(form, tokens));
      expect(message.contentType, event).toBe(form.contentType);
      expect(message.qos, event).toBe(1);
      // the payload is wrapped in an object keyed by the event name
      const payload = decode(message) as Record<string, unknown>;
      expect(Object.keys(payload), event).toEqual([event]);
      expect(problemsOf(definition!.data, payload[event]), event).toEqual([]);
    }
    expect([...events].sort()).toEqual(Object.keys(base!.events).sort());
  });
});
