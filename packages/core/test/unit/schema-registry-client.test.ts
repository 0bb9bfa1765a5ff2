import { describe, expect, it } from 'vitest';
import {
  SchemaRegistryClient,
  SchemaRegistryError,
  errorCodes,
  schemaRegistryTarget,
  schemaRegistryTopics,
  type IncomingMessage,
  type MessageHandler,
  type MqttClient,
  type OutgoingMessage,
  type Schema,
  type UserProperty,
} from '@aio-connector/core';

interface Reply {
  readonly status?: number;
  readonly body?: unknown;
  readonly raw?: string;
  readonly userProperties?: readonly UserProperty[];
}

/** An MqttClient whose "service" answers each request with `reply(request)`. */
class ScriptedClient implements MqttClient {
  readonly clientId = 'unit-client';
  readonly requests: OutgoingMessage[] = [];
  readonly #handlers = new Set<MessageHandler>();
  readonly #reply: (request: OutgoingMessage) => Reply;

  constructor(reply: (request: OutgoingMessage) => Reply) {
    this.#reply = reply;
  }

  async publish(message: OutgoingMessage) {
    this.requests.push(message);
    const reply = this.#reply(message);
    const payload =
      reply.raw !== undefined
        ? new TextEncoder().encode(reply.raw)
        : new TextEncoder().encode(JSON.stringify(reply.body));
    const response: IncomingMessage = {
      topic: message.responseTopic!,
      payload,
      qos: 1,
      retain: false,
      correlationData: message.correlationData!,
      contentType: 'application/json',
      payloadFormatIndicator: 1,
      userProperties: [
        ['__stat', String(reply.status ?? 200)],
        ['__protVer', '1.0'],
        ...(reply.userProperties ?? []),
      ],
    };
    setImmediate(() => {
      for (const handler of this.#handlers) void handler(response);
    });
    return { reasonCode: 0 };
  }

  async subscribe() {
    return { reasonCode: 1 };
  }

  async unsubscribe() {
    return { reasonCode: 0 };
  }

  onMessage(handler: MessageHandler): () => void {
    this.#handlers.add(handler);
    return () => {
      this.#handlers.delete(handler);
    };
  }
}

const stored: Schema = {
  name: 'A'.repeat(64),
  namespace: 'ns',
  format: 'JsonSchema/draft-07',
  schemaType: 'MessageSchema',
  version: '1',
  schemaContent: '{"type":"object"}',
};

const bodyOf = (message: OutgoingMessage): unknown =>
  JSON.parse(new TextDecoder().decode(message.payload));

describe('SchemaRegistryClient', () => {
  it('sends the put request fields in the service order and returns the stored schema', async () => {
    const client = new ScriptedClient(() => ({
      body: { schema: { ...stored, tags: { a: 'b' } } },
    }));
    const registry = new SchemaRegistryClient(client);
    const schema = await registry.put({
      schemaContent: '{"type":"object"}',
      format: 'JsonSchema/draft-07',
      version: '3',
      description: 'd',
      displayName: 'n',
      tags: { a: 'b' },
    });
    expect(schema).toEqual({ ...stored, tags: { a: 'b' } });
    const [request] = client.requests;
    expect(request!.topic).toBe(schemaRegistryTopics.put);
    expect(new TextDecoder().decode(request!.payload)).toBe(
      '{"format":"JsonSchema/draft-07","schemaType":"MessageSchema","schemaContent":"{\\"type\\":\\"object\\"}","version":"3","description":"d","displayName":"n","tags":{"a":"b"}}',
    );
    expect(request!.contentType).toBe('application/json');
    expect(request!.payloadFormatIndicator).toBe(1);
    expect(request!.qos).toBe(1);
    expect(request!.messageExpiryInterval).toBe(10);
    await registry.close();
  });

  it('sends get with the default version 1', async () => {
    const client = new ScriptedClient(() => ({ body: { schema: stored } }));
    const registry = new SchemaRegistryClient(client, { timeoutInMs: 3_000 });
    expect(await registry.get({ name: stored.name })).toEqual(stored);
    expect(client.requests[0]!.topic).toBe(schemaRegistryTopics.get);
    expect(bodyOf(client.requests[0]!)).toEqual({ name: stored.name, version: '1' });
    expect(client.requests[0]!.messageExpiryInterval).toBe(3);
  });

  it('maps error bodies to SchemaRegistryError, not found on get to undefined', async () => {
    const errorBody = (code: number) => ({
      error: {
        code,
        message: `failed with ${code}`,
        target: 'Version',
        details: { code: '400.1', message: 'more', correlationId: 'c-1' },
        innerError: { code: 'inner' },
      },
    });
    let code = 404;
    const registry = new SchemaRegistryClient(
      new ScriptedClient(() => ({ body: errorBody(code) })),
    );
    expect(await registry.get({ name: 'x' })).toBeUndefined();
    const notFoundOnPut = registry.put({ schemaContent: '{}', format: 'Delta/1.0' });
    await expect(notFoundOnPut).rejects.toBeInstanceOf(SchemaRegistryError);
    await expect(notFoundOnPut).rejects.toMatchObject({ errorCode: 404, operation: 'put' });

    code = 400;
    const bad = await registry
      .put({ schemaContent: '{}', format: 'Delta/1.0' })
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(SchemaRegistryError);
    expect(bad).toMatchObject({
      code: 'ERR_AIO_SCHEMA_REGISTRY',
      errorCode: 400,
      target: 'Version',
      serviceDetails: { code: '400.1', message: 'more', correlationId: 'c-1' },
      innerError: { code: 'inner' },
      retryable: false,
    });
    expect((bad as Error).message).toContain('failed with 400');
    await expect(registry.get({ name: 'x' })).rejects.toMatchObject({ errorCode: 400 });

    code = 500;
    await expect(registry.get({ name: 'x' })).rejects.toMatchObject({
      errorCode: 500,
      retryable: true,
    });
    expect(errorCodes.ERR_AIO_SCHEMA_REGISTRY).toBeDefined();
  });

  it('maps the legacy 422 status to a bad request', async () => {
    const registry = new SchemaRegistryClient(
      new ScriptedClient(() => ({
        status: 422,
        raw: '',
        userProperties: [
          ['__stMsg', 'invalid'],
          ['__propName', 'schemaContent'],
        ],
      })),
    );
    await expect(registry.put({ schemaContent: '{}', format: 'Delta/1.0' })).rejects.toMatchObject({
      errorCode: 400,
      code: 'ERR_AIO_SCHEMA_REGISTRY',
      target: 'schemaContent',
    });
  });

  it('refuses answers that are not a schema', async () => {
    const replies: Reply[] = [
      { body: {} },
      { body: [] },
      { body: { schema: { ...stored, version: 1 } } },
      { body: { schema: { ...stored, tags: { a: 1 } } } },
      { body: { error: { message: 'no code' } } },
      { raw: 'not json' },
    ];
    const registry = new SchemaRegistryClient(new ScriptedClient(() => replies.shift()!));
    for (let i = 0; i < 6; i += 1)
      await expect(
        registry.put({ schemaContent: '{}', format: 'Delta/1.0' }),
      ).rejects.toMatchObject({
        code: 'ERR_AIO_PROTOCOL_INVALID_PAYLOAD',
      });
  });

  it('accepts null optional fields', async () => {
    const registry = new SchemaRegistryClient(
      new ScriptedClient(() => ({
        body: { schema: { ...stored, description: null, tags: null, hash: null }, error: null },
      })),
    );
    expect(await registry.get({ name: stored.name })).toEqual(stored);
  });

  it('validates arguments before sending anything', async () => {
    const client = new ScriptedClient(() => ({ body: { schema: stored } }));
    const registry = new SchemaRegistryClient(client);
    await expect(registry.put({ schemaContent: ' ', format: 'Delta/1.0' })).rejects.toBeInstanceOf(
      RangeError,
    );
    await expect(
      registry.put({ schemaContent: '{}', format: 'Avro' as never }),
    ).rejects.toBeInstanceOf(RangeError);
    await expect(
      registry.put({ schemaContent: '{}', format: 'Delta/1.0', schemaType: 'Other' as never }),
    ).rejects.toBeInstanceOf(RangeError);
    await expect(
      registry.put({ schemaContent: '{}', format: 'Delta/1.0', tags: { a: 1 } as never }),
    ).rejects.toBeInstanceOf(TypeError);
    await expect(
      registry.put({ schemaContent: '{}', format: 'Delta/1.0', version: '' }),
    ).rejects.toBeInstanceOf(RangeError);
    await expect(registry.get({ name: '' })).rejects.toBeInstanceOf(RangeError);
    await expect(registry.get({ name: 1 as never })).rejects.toBeInstanceOf(TypeError);
    expect(() => new SchemaRegistryClient(client, { timeoutInMs: 0 })).toThrow(RangeError);
    expect(client.requests).toHaveLength(0);
    await registry.close();
    await expect(registry.get({ name: 'x' })).rejects.toMatchObject({ code: 'ERR_AIO_CLOSED' });
  });
});

describe('schemaRegistryTarget', () => {
  it('puts the schema and returns the identity the service assigned', async () => {
    const client = new ScriptedClient((request) => {
      const body = bodyOf(request) as { schemaContent: string; version: string };
      return {
        body: {
          schema: {
            ...stored,
            schemaContent: body.schemaContent,
            version: body.version,
            name: 'SERVICE-NAME',
          },
        },
      };
    });
    const target = schemaRegistryTarget(new SchemaRegistryClient(client));
    const reference = await target.register({
      content: '{"type":"number"}',
      format: 'JsonSchema/draft-07',
      version: '4',
      tags: { t: 'v' },
      displayName: 'dn',
      description: 'ds',
    });
    expect(reference).toEqual({ namespace: 'ns', name: 'SERVICE-NAME', version: '4' });
    expect(bodyOf(client.requests[0]!)).toEqual({
      format: 'JsonSchema/draft-07',
      schemaType: 'MessageSchema',
      schemaContent: '{"type":"number"}',
      version: '4',
      tags: { t: 'v' },
      displayName: 'dn',
      description: 'ds',
    });
    expect(() => schemaRegistryTarget({} as never)).toThrow(TypeError);
  });
});
