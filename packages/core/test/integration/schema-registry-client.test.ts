import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  MqttSession,
  SchemaRegistryClient,
  SchemaRegistryError,
  schemaRegistryTarget,
  schemaRegistryTopics,
  type IncomingMessage,
} from '@aio-connector/core';
import { startSchemaRegistryService, type SchemaRegistryService } from '@aio-connector/devkit';
import { startSubscriber, startTestBroker, type TestBroker } from '@aio-connector/testing';
import { SchemaManager, type SchemaRegistryTarget } from '../../src/connector/schema-manager.ts';

const uniqueId = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;
const sha256 = (text: string): string =>
  createHash('sha256').update(text, 'utf8').digest('hex').toUpperCase();
const schemaOf = (properties: Record<string, unknown>): string =>
  JSON.stringify({
    $schema: 'http://json-schema.org/draft-07/schema#',
    type: 'object',
    properties,
  });

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker();
});

afterAll(async () => {
  await broker.close();
});

async function connect(clientId = uniqueId('sr')): Promise<MqttSession> {
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

async function service(): Promise<SchemaRegistryService> {
  const running = await startSchemaRegistryService(await connect(uniqueId('schema-registry')));
  onTestFinished(() => running.close());
  return running;
}

async function registry(timeoutInMs?: number): Promise<SchemaRegistryClient> {
  const client = new SchemaRegistryClient(
    await connect(),
    timeoutInMs === undefined ? {} : { timeoutInMs },
  );
  onTestFinished(() => client.close());
  return client;
}

/** A fake registry answering every `get` with the given payload. */
async function fakeGet(payload: string): Promise<void> {
  const session = await connect(uniqueId('fake-registry'));
  session.onMessage(async (message: IncomingMessage) => {
    if (message.topic !== schemaRegistryTopics.get || message.responseTopic === undefined) return;
    await session.publish({
      topic: message.responseTopic,
      payload: new TextEncoder().encode(payload),
      qos: 1,
      ...(message.correlationData === undefined
        ? {}
        : { correlationData: message.correlationData }),
      contentType: 'application/json',
      payloadFormatIndicator: 1,
      userProperties: [
        ['__stat', '200'],
        ['__protVer', '1.0'],
      ],
    });
  });
  await session.subscribe(schemaRegistryTopics.get, { qos: 1 });
}

describe('SchemaRegistryClient against the schema registry emulator', () => {
  it('puts the exact JSON request and returns the name and namespace the service assigned', async () => {
    const running = await service();
    const requests = await startSubscriber(broker.url, schemaRegistryTopics.put);
    onTestFinished(() => requests.close());
    const client = await registry();
    const content = schemaOf({ temperature: { type: 'number' } });

    const schema = await client.put({ schemaContent: content, format: 'JsonSchema/draft-07' });
    expect(schema).toEqual({
      name: sha256(content),
      namespace: 'DefaultSRNamespace',
      format: 'JsonSchema/draft-07',
      schemaType: 'MessageSchema',
      version: '1',
      schemaContent: content,
      hash: sha256(content),
    });
    expect(schema.name).toMatch(/^[0-9A-F]{64}$/);

    const [request] = await requests.waitFor(1);
    expect(request!.payload.toString('utf8')).toBe(
      JSON.stringify({
        format: 'JsonSchema/draft-07',
        schemaType: 'MessageSchema',
        schemaContent: content,
        version: '1',
      }),
    );
    expect(request!.contentType).toBe('application/json');
    expect(request!.payloadFormatIndicator).toBe(1);
    expect(request!.responseTopic).toBe(
      `clients/${running.requests[0]!.invokerClientId}/${schemaRegistryTopics.put}`,
    );
    expect(running.requests).toHaveLength(1);
  });

  it('is idempotent for identical content and version', async () => {
    const running = await service();
    const client = await registry();
    const content = schemaOf({ humidity: { type: 'integer' } });
    const request = {
      schemaContent: content,
      format: 'JsonSchema/draft-07' as const,
      version: '2',
      tags: { site: 'north' },
      displayName: 'humidity',
      description: 'relative humidity',
    };
    const first = await client.put(request);
    const second = await client.put(request);
    expect(second).toEqual(first);
    expect(first).toMatchObject({
      version: '2',
      tags: { site: 'north' },
      displayName: 'humidity',
      description: 'relative humidity',
    });
    expect(running.schemas.size).toBe(1);
    expect([...running.schemas.get(first.name)!.keys()]).toEqual(['2']);
    const other = await client.put({
      ...request,
      schemaContent: schemaOf({ x: { type: 'string' } }),
    });
    expect(other.name).not.toBe(first.name);
  });

  it('gets a registered schema and answers undefined for one that is not there', async () => {
    await service();
    const client = await registry();
    const content = schemaOf({ pressure: { type: 'number' } });
    const put = await client.put({ schemaContent: content, format: 'JsonSchema/draft-07' });
    expect(await client.get({ name: put.name })).toEqual(put);
    expect(await client.get({ name: put.name, version: '7' })).toBeUndefined();
    expect(await client.get({ name: sha256('nothing') })).toBeUndefined();
  });

  it('turns an error body into a SchemaRegistryError', async () => {
    await service();
    const client = await registry();
    const outcome = client.put({
      schemaContent: schemaOf({}),
      format: 'JsonSchema/draft-07',
      version: 'v1',
    });
    await expect(outcome).rejects.toBeInstanceOf(SchemaRegistryError);
    await expect(outcome).rejects.toMatchObject({
      code: 'ERR_AIO_SCHEMA_REGISTRY',
      errorCode: 400,
      target: 'Version',
      operation: 'put',
      retryable: false,
    });
    await expect(
      client.put({ schemaContent: 'not json', format: 'JsonSchema/draft-07' }),
    ).rejects.toMatchObject({ errorCode: 400, target: 'SchemaContent' });
    await expect(client.get({ name: 'x', version: 'one' })).rejects.toMatchObject({
      errorCode: 400,
      operation: 'get',
    });
  });

  it('registers through the adapter the connector schema manager uses', async () => {
    const running = await service();
    const client = await registry();
    const target: SchemaRegistryTarget = schemaRegistryTarget(client);
    const schemas = new SchemaManager({ registry: target });
    const decision = await schemas.prepare(
      'device_endpoint_asset_dataset',
      new TextEncoder().encode(JSON.stringify({ temperature: 21.5 })),
    );
    expect(decision.changed).toBe(true);
    expect(decision.problem).toBeUndefined();
    const [registered] = [...running.schemas.values()].map((versions) => versions.get('1')!);
    expect(registered).toBeDefined();
    expect(decision.schema).toEqual({
      namespace: 'DefaultSRNamespace',
      name: sha256(registered!.schemaContent),
      version: '1',
    });
    expect(JSON.parse(registered!.schemaContent)).toMatchObject({
      properties: { temperature: { type: 'number' } },
    });
  });
});

describe('SchemaRegistryClient against other services', () => {
  it('reads the empty payload of older services as not found', async () => {
    await fakeGet('');
    const client = await registry();
    expect(await client.get({ name: 'ABC' })).toBeUndefined();
  });

  it('reads a 200 response without schema as not found', async () => {
    await fakeGet('{}');
    const client = await registry();
    expect(await client.get({ name: 'ABC' })).toBeUndefined();
  });

  it('refuses a schema without its required fields', async () => {
    await fakeGet(JSON.stringify({ schema: { name: 'ABC', namespace: 'ns' } }));
    const client = await registry();
    await expect(client.get({ name: 'ABC' })).rejects.toMatchObject({
      code: 'ERR_AIO_PROTOCOL_INVALID_PAYLOAD',
    });
  });

  it('times out with a retryable error when no registry answers', async () => {
    const client = await registry(1_000);
    await expect(
      client.put({ schemaContent: schemaOf({}), format: 'Delta/1.0' }),
    ).rejects.toMatchObject({ kind: 'timeout', retryable: true });
  });
});
