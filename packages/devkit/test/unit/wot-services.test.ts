// Checks the topics, content types and JSON field names that the state store and schema registry
// clients (core) and emulators (devkit) put on the wire against the official Thing Models in
// ../shared/aio/wot. Client and emulator talk through an in-memory MQTT client, so every message is
// captured exactly as published.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  SchemaRegistryClient,
  StateStoreClient,
  schemaRegistryErrorCodes,
  schemaRegistryFormats,
  schemaRegistryTopics,
  stateStoreNotificationTopic,
  stateStoreTopics,
  type IncomingMessage,
  type MessageHandler,
  type MqttClient,
  type OutgoingMessage,
} from '@aio-connector/core';
import { startSchemaRegistryService, startStateStoreService } from '@aio-connector/devkit';

const wot = new URL('../../../../../shared/aio/wot/', import.meta.url);
const haveThingModels = existsSync(new URL('statestore/StateStore.TM.json', wot));
if (!haveThingModels)
  console.warn(`skipping the Thing Model checks: ${wot.pathname} is not present`);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;
const readJson = (path: string): Json => JSON.parse(readFileSync(new URL(path, wot), 'utf8'));

/** Whether an MQTT topic filter matches a topic. */
function matches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i += 1) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** An in-memory broker: every PUBLISH is recorded and delivered to the matching subscribers. */
class MemoryBroker {
  readonly published: { readonly from: string; readonly message: OutgoingMessage }[] = [];
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
  readonly #filters = new Set<string>();
  readonly #handlers = new Set<MessageHandler>();

  constructor(broker: MemoryBroker, clientId: string) {
    this.#broker = broker;
    this.clientId = clientId;
  }

  async publish(message: OutgoingMessage) {
    this.#broker.route(this.clientId, message);
    return { reasonCode: 0 };
  }

  async subscribe(filter: string) {
    this.#filters.add(filter);
    return { reasonCode: 1 };
  }

  async unsubscribe(filter: string) {
    this.#filters.delete(filter);
    return { reasonCode: 0 };
  }

  onMessage(handler: MessageHandler): () => void {
    this.#handlers.add(handler);
    return () => {
      this.#handlers.delete(handler);
    };
  }

  offer(message: OutgoingMessage): void {
    if (![...this.#filters].some((filter) => matches(filter, message.topic))) return;
    const incoming: IncomingMessage = { ...message, retain: false };
    setImmediate(() => {
      for (const handler of this.#handlers) void handler(incoming);
    });
  }
}

describe.skipIf(!haveThingModels)('state store against StateStore.TM.json', () => {
  it('uses the topic and content type of the invoke action, in requests and responses', async () => {
    const tm = readJson('statestore/StateStore.TM.json');
    const [form] = tm.actions.invoke.forms;
    expect(Object.keys(tm.actions)).toEqual(['invoke']);
    expect(stateStoreTopics.request).toBe(form['dtv:topic']);

    const broker = new MemoryBroker();
    const service = await startStateStoreService(broker.client('statestore'));
    const store = new StateStoreClient(broker.client('client-1'));
    await store.observe('k');
    await store.set('k', 'v');
    await store.get('k');

    const requests = broker.published.filter((p) => p.from === 'client-1');
    const responses = broker.published.filter(
      (p) => p.from === 'statestore' && p.message.correlationData !== undefined,
    );
    expect(requests.length).toBe(3);
    expect(responses.length).toBe(3);
    for (const { message } of requests) {
      expect(message.topic).toBe(form['dtv:topic']);
      expect(message.contentType).toBe(form.contentType);
      expect(message.payloadFormatIndicator).toBe(0);
    }
    for (const { message } of responses) expect(message.contentType).toBe(form.contentType);

    // notifications live under the same service id as the invoke topic
    const serviceId = form['dtv:topic'].split('/').slice(0, 3).join('/');
    expect(stateStoreTopics.notificationPrefix).toBe(`clients/${serviceId}`);
    const notification = broker.published.find((p) => p.message.topic.includes('/command/notify/'));
    expect(notification?.message.topic).toBe(stateStoreNotificationTopic('client-1', 'k'));
    expect(notification?.message.contentType).toBe(form.contentType);
    await store.close();
    await service.close();
  });
});

describe.skipIf(!haveThingModels)('schema registry against SchemaRegistry.TM.json', () => {
  const names = (): Json => readJson('schemaregistry/SchemaNames.json');
  const tm = (): Json => readJson('schemaregistry/SchemaRegistry.TM.json');
  const keysOf = (message: OutgoingMessage): string[] =>
    Object.keys(JSON.parse(new TextDecoder().decode(message.payload)) as object);

  it('uses the topics and content type of the put and get actions', () => {
    const model = tm();
    expect(Object.keys(model.actions).sort()).toEqual(['get', 'put']);
    for (const action of ['put', 'get'] as const) {
      const [form] = model.actions[action].forms;
      expect(schemaRegistryTopics[action]).toBe(form['dtv:topic']);
      expect(form.contentType).toBe('application/json');
    }
  });

  it('knows exactly the formats and error codes of the model', () => {
    const model = tm();
    expect([...schemaRegistryFormats].sort()).toEqual(
      Object.values(model.schemaDefinitions.Format.const as Record<string, string>).sort(),
    );
    const codes = model.schemaDefinitions.SchemaRegistryErrorCode.const as Record<string, number>;
    expect(schemaRegistryErrorCodes).toEqual({
      badRequest: codes['BadRequest'],
      notFound: codes['NotFound'],
      internalError: codes['InternalError'],
    });
  });

  it('sends and answers only the fields of the model', async () => {
    const model = tm();
    const errorField: string = names().actionRespErrorField.out;
    const broker = new MemoryBroker();
    const service = await startSchemaRegistryService(broker.client('schema-registry'));
    const registry = new SchemaRegistryClient(broker.client('client-1'));

    const schema = await registry.put({
      schemaContent: '{"type":"object"}',
      format: 'JsonSchema/draft-07',
      version: '1',
      tags: { a: 'b' },
      description: 'd',
      displayName: 'n',
    });
    await registry.get({ name: schema.name, version: '1' });
    await registry.get({ name: 'missing', version: '1' });

    const sent = (topic: string) =>
      broker.published.filter((p) => p.from === 'client-1' && p.message.topic === topic);
    const [put] = sent(schemaRegistryTopics.put);
    const putInput = model.actions.put.input;
    expect(keysOf(put!.message).sort()).toEqual(Object.keys(putInput.properties).sort());
    expect(keysOf(put!.message)).toEqual(expect.arrayContaining(putInput.required));
    expect(putInput.properties.schemaType.enum).toContain(
      JSON.parse(new TextDecoder().decode(put!.message.payload)).schemaType,
    );
    for (const { message } of sent(schemaRegistryTopics.get)) {
      const getInput = model.actions.get.input;
      expect(keysOf(message).sort()).toEqual(Object.keys(getInput.properties).sort());
    }

    const answers = broker.published
      .filter((p) => p.from === 'schema-registry')
      .map((p) => JSON.parse(new TextDecoder().decode(p.message.payload)) as Record<string, Json>);
    expect(answers).toHaveLength(3);
    for (const action of ['put', 'get'] as const) {
      const output = model.actions[action].output;
      expect(output.required).toEqual(['schema']);
      const schemaModel = output.properties.schema;
      const answer = action === 'put' ? answers[0]! : answers[1]!;
      expect(Object.keys(answer)).toEqual(['schema']);
      expect(Object.keys(schemaModel.properties)).toEqual(
        expect.arrayContaining(Object.keys(answer['schema'])),
      );
      expect(Object.keys(answer['schema'])).toEqual(expect.arrayContaining(schemaModel.required));
      expect(schemaModel.properties.schemaType.enum).toContain(answer['schema'].schemaType);
    }
    expect(Object.keys(answers[2]!)).toEqual([errorField]);
    await registry.close();
    await service.close();
  });

  it('answers errors with the error schema, codes and targets of the model', async () => {
    const model = tm();
    const errorField: string = names().actionRespErrorField.out;
    const errorModel = model.schemaDefinitions.SchemaRegistryError;
    const codes = Object.values(
      model.schemaDefinitions.SchemaRegistryErrorCode.const as Record<string, number>,
    );
    const targets = Object.values(
      model.schemaDefinitions.SchemaRegistryErrorTarget.const as Record<string, string>,
    );
    const broker = new MemoryBroker();
    const service = await startSchemaRegistryService(broker.client('schema-registry'));
    const requester = broker.client('raw');
    await requester.subscribe('replies/#');
    const bodies: Record<string, Json>[] = [];
    requester.onMessage((message) => {
      bodies.push(JSON.parse(new TextDecoder().decode(message.payload)) as Record<string, Json>);
    });
    const valid = {
      format: 'JsonSchema/draft-07',
      schemaType: 'MessageSchema',
      schemaContent: '{}',
      version: '1',
    };
    const requests: ['put' | 'get', unknown][] = [
      ['put', { ...valid, format: 'x' }],
      ['put', { ...valid, schemaType: 'x' }],
      ['put', { ...valid, schemaContent: '' }],
      ['put', { ...valid, version: 'x' }],
      ['put', { ...valid, tags: [] }],
      ['put', { ...valid, description: 1 }],
      ['put', { ...valid, displayName: 1 }],
      ['get', { name: '', version: '1' }],
      ['get', { name: 'n', version: '1' }],
      ['put', valid],
      ['get', { name: 'n', version: 'x' }],
    ];
    for (const [index, [operation, body]] of requests.entries())
      await requester.publish({
        topic: schemaRegistryTopics[operation],
        payload: new TextEncoder().encode(JSON.stringify(body)),
        qos: 1,
        responseTopic: `replies/${index}`,
        correlationData: new Uint8Array(16).fill(index + 1),
        messageExpiryInterval: 10,
        contentType: 'application/json',
        payloadFormatIndicator: 1,
        userProperties: [['__srcId', 'raw']],
      });
    await expect.poll(() => bodies.length).toBe(requests.length);
    const errors = bodies.filter((body) => errorField in body).map((body) => body[errorField]);
    expect(errors).toHaveLength(requests.length - 1);
    const seenTargets = new Set<string>();
    for (const error of errors) {
      expect(Object.keys(errorModel.properties)).toEqual(
        expect.arrayContaining(Object.keys(error)),
      );
      expect(Object.keys(error)).toEqual(expect.arrayContaining(errorModel.required));
      expect(codes).toContain(error.code);
      expect(typeof error.message).toBe('string');
      if (error.target !== undefined) {
        expect(targets).toContain(error.target);
        seenTargets.add(error.target as string);
      }
    }
    expect([...seenTargets].sort()).toEqual([
      'Description',
      'DisplayName',
      'Format',
      'Name',
      'SchemaArmResource',
      'SchemaContent',
      'SchemaType',
      'Tags',
      'Version',
    ]);
    await service.close();
  });
});
