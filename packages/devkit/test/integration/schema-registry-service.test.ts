import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { MqttSession, schemaRegistryTopics } from '@aio-connector/core';
import {
  schemaNameOf,
  startSchemaRegistryService,
  type SchemaRegistryService,
} from '@aio-connector/devkit';
import {
  startSubscriber,
  startTestBroker,
  type ReceivedMessage,
  type TestBroker,
} from '@aio-connector/testing';

const uniqueId = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;
const sha256 = (text: string): string =>
  createHash('sha256').update(text, 'utf8').digest('hex').toUpperCase();
const property = (message: ReceivedMessage, name: string): string | undefined =>
  message.userProperties.find(([key]) => key === name)?.[1];

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker();
});

afterAll(async () => {
  await broker.close();
});

async function connect(clientId = uniqueId('raw')): Promise<MqttSession> {
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

async function harness(): Promise<{
  service: SchemaRegistryService;
  call: (
    operation: 'put' | 'get',
    body: unknown,
  ) => Promise<{ status: string | undefined; body: unknown; message: ReceivedMessage }>;
}> {
  const service = await startSchemaRegistryService(await connect(uniqueId('schema-registry')));
  onTestFinished(() => service.close());
  const requester = await connect();
  const responseTopic = `clients/${requester.clientId}/sr-responses`;
  const responses = await startSubscriber(broker.url, responseTopic);
  onTestFinished(() => responses.close());
  return {
    service,
    call: async (operation, body) => {
      const correlationData = new Uint8Array(randomBytes(16));
      await requester.publish({
        topic: schemaRegistryTopics[operation],
        payload: new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body)),
        qos: 1,
        responseTopic,
        correlationData,
        messageExpiryInterval: 10,
        contentType: 'application/json',
        payloadFormatIndicator: 1,
        userProperties: [
          ['__protVer', '1.0'],
          ['__srcId', requester.clientId],
        ],
      });
      const [message] = await responses.waitFor(
        (m) =>
          m.correlationData !== undefined && Buffer.from(correlationData).equals(m.correlationData),
      );
      const text = message!.payload.toString('utf8');
      return {
        status: property(message!, '__stat'),
        body: text === '' ? undefined : JSON.parse(text),
        message: message!,
      };
    },
  };
}

const content = JSON.stringify({
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  properties: { temperature: { type: 'number' } },
});
const valid = {
  format: 'JsonSchema/draft-07',
  schemaType: 'MessageSchema',
  schemaContent: content,
  version: '1',
};

describe('startSchemaRegistryService', () => {
  it('assigns the SHA-256 of the content as name and DefaultSRNamespace as namespace', async () => {
    const { call, service } = await harness();
    const response = await call('put', {
      ...valid,
      tags: { line: '4' },
      displayName: 'Temperature',
    });
    expect(response.status).toBe('200');
    expect(response.message.contentType).toBe('application/json');
    expect(response.body).toEqual({
      schema: {
        name: sha256(content),
        namespace: 'DefaultSRNamespace',
        format: 'JsonSchema/draft-07',
        schemaType: 'MessageSchema',
        version: '1',
        schemaContent: content,
        hash: sha256(content),
        displayName: 'Temperature',
        tags: { line: '4' },
      },
    });
    expect(schemaNameOf(content)).toBe(sha256(content));
    expect(service.schemas.get(sha256(content))?.get('1')).toEqual(
      (response.body as { schema: unknown }).schema,
    );
    expect(service.requests).toEqual([
      expect.objectContaining({
        operation: 'put',
        payload: expect.objectContaining({ version: '1' }),
      }),
    ]);
  });

  it('returns the stored schema for identical content and version, and keeps versions apart', async () => {
    const { call, service } = await harness();
    const first = await call('put', { ...valid, description: 'first' });
    const again = await call('put', { ...valid, description: 'second' });
    expect(again.body).toEqual(first.body);
    const v2 = await call('put', { ...valid, version: '2' });
    expect((v2.body as { schema: { name: string; version: string } }).schema).toMatchObject({
      name: sha256(content),
      version: '2',
    });
    expect([...service.schemas.get(sha256(content))!.keys()]).toEqual(['1', '2']);
    const dotted = await call('put', { ...valid, version: '1.0' });
    expect(dotted.body).toMatchObject({ schema: { version: '1.0' } });
  });

  it('answers invalid put requests with the service error body', async () => {
    const { call, service } = await harness();
    const cases: [unknown, string | undefined][] = [
      [{ ...valid, format: 'Avro/1.11' }, 'Format'],
      [{ ...valid, format: undefined }, 'Format'],
      [{ ...valid, schemaType: 'Other' }, 'SchemaType'],
      [{ ...valid, schemaContent: '   ' }, 'SchemaContent'],
      [{ ...valid, schemaContent: 'not json' }, 'SchemaContent'],
      [{ ...valid, version: 'one' }, 'Version'],
      [{ ...valid, version: '' }, 'Version'],
      [{ ...valid, version: 1 }, 'Version'],
      [{ ...valid, tags: { a: 1 } }, 'Tags'],
      [{ ...valid, displayName: 5 }, 'DisplayName'],
      [[valid], undefined],
    ];
    for (const [body, target] of cases) {
      const response = await call('put', body);
      expect(response.status).toBe('200');
      expect(response.body).toEqual({
        error: {
          code: 400,
          message: expect.any(String),
          ...(target === undefined ? {} : { target }),
        },
      });
    }
    expect(service.schemas.size).toBe(0);
    const delta = await call('put', {
      ...valid,
      format: 'Delta/1.0',
      schemaContent: 'not json is fine for delta',
    });
    expect(delta.body).toMatchObject({ schema: { format: 'Delta/1.0' } });
  });

  it('answers get with the schema or a not-found error body', async () => {
    const { call } = await harness();
    const put = await call('put', valid);
    const found = await call('get', { name: sha256(content), version: '1' });
    expect(found.body).toEqual(put.body);
    expect((await call('get', { name: sha256(content), version: '3' })).body).toEqual({
      error: {
        code: 404,
        message: `Schema '${sha256(content)}' version '3' not found`,
        target: 'Version',
      },
    });
    expect((await call('get', { name: 'ABC', version: '1' })).body).toEqual({
      error: { code: 404, message: "Schema 'ABC' not found", target: 'SchemaArmResource' },
    });
    expect((await call('get', { name: '', version: '1' })).body).toMatchObject({
      error: { code: 400, target: 'Name' },
    });
    expect((await call('get', { name: 'ABC' })).body).toMatchObject({
      error: { code: 400, target: 'Version' },
    });
  });

  it('answers a request that is not JSON with a 400 status', async () => {
    const { call } = await harness();
    const response = await call('put', '{not json');
    expect(response.status).toBe('400');
    expect(response.body).toBeUndefined();
  });
});
