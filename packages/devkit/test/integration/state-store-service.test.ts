import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  MqttSession,
  compareHlc,
  encodeDelRequest,
  encodeGetRequest,
  encodeHlc,
  encodeKeyNotifyRequest,
  encodeSetRequest,
  parseHlc,
  stateStoreTopics,
  type UserProperty,
} from '@aio-connector/core';
import { startStateStoreService, type StateStoreService } from '@aio-connector/devkit';
import {
  startSubscriber,
  startTestBroker,
  type ReceivedMessage,
  type Subscriber,
  type TestBroker,
} from '@aio-connector/testing';

const uniqueId = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;
const hex = (value: string): string => Buffer.from(value, 'utf8').toString('hex').toUpperCase();
const latin1 = (message: ReceivedMessage): string => message.payload.toString('latin1');
const property = (message: ReceivedMessage, name: string): string | undefined =>
  message.userProperties.find(([key]) => key === name)?.[1];
const now = (counter = 0): string => encodeHlc({ timestamp: Date.now(), counter, nodeId: 'raw' });

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

interface Harness {
  readonly service: StateStoreService;
  readonly serviceClientId: string;
  readonly requester: MqttSession;
  readonly responses: Subscriber;
  readonly responseTopic: string;
  /** Sends a raw request and resolves with its response. */
  readonly send: (
    payload: Uint8Array,
    options?: {
      readonly userProperties?: readonly UserProperty[];
      readonly correlationData?: Uint8Array;
      readonly responseTopic?: string;
    },
  ) => Promise<ReceivedMessage>;
}

async function harness(): Promise<Harness> {
  const serviceClientId = uniqueId('statestore-service');
  const service = await startStateStoreService(await connect(serviceClientId));
  onTestFinished(() => service.close());
  const requester = await connect();
  const responseTopic = `clients/${requester.clientId}/responses`;
  const responses = await startSubscriber(broker.url, responseTopic);
  onTestFinished(() => responses.close());
  const send: Harness['send'] = async (payload, options = {}) => {
    const correlationData = options.correlationData ?? new Uint8Array(randomBytes(16));
    await requester.publish({
      topic: stateStoreTopics.request,
      payload,
      qos: 1,
      responseTopic: options.responseTopic ?? responseTopic,
      correlationData,
      messageExpiryInterval: 10,
      contentType: 'application/octet-stream',
      payloadFormatIndicator: 0,
      userProperties: options.userProperties ?? [
        ['__protVer', '1.0'],
        ['__srcId', requester.clientId],
        ['__ts', now()],
      ],
    });
    const [response] = await responses.waitFor(
      (m) =>
        m.correlationData !== undefined && Buffer.from(correlationData).equals(m.correlationData),
    );
    return response!;
  };
  return { service, serviceClientId, requester, responses, responseTopic, send };
}

describe('startStateStoreService', () => {
  it('answers a SET with +OK, the key version in __ts and the request correlation data', async () => {
    const { send, service, serviceClientId, responseTopic } = await harness();
    const correlationData = new Uint8Array(randomBytes(16));
    const response = await send(encodeSetRequest('k1', 'v1'), { correlationData });
    expect(response.topic).toBe(responseTopic);
    expect(latin1(response)).toBe('+OK\r\n');
    expect(response.contentType).toBe('application/octet-stream');
    expect(response.payloadFormatIndicator).toBe(0);
    expect(Buffer.from(response.correlationData!)).toEqual(Buffer.from(correlationData));
    expect(property(response, '__stat')).toBe('200');
    expect(property(response, '__protVer')).toBe('1.0');
    expect(property(response, '__srcId')).toBe(serviceClientId);
    expect(property(response, '$high_priority')).toBe('');
    const version = property(response, '__ts')!;
    expect(service.engine.inspect('k1')?.version).toBe(version);

    const read = await send(encodeGetRequest('k1'));
    expect(latin1(read)).toBe('$2\r\nv1\r\n');
    expect(property(read, '__ts')).toBe(version);

    const missing = await send(encodeGetRequest('absent'));
    expect(latin1(missing)).toBe('$-1\r\n');
    expect(property(missing, '__ts')).toBeUndefined();

    const second = await send(encodeSetRequest('k1', 'v2'));
    expect(compareHlc(parseHlc(property(second, '__ts')!), parseHlc(version))).toBeGreaterThan(0);
    expect(latin1(await send(encodeDelRequest('k1')))).toBe(':1\r\n');
    expect(latin1(await send(encodeDelRequest('k1')))).toBe(':0\r\n');
  });

  it('answers malformed state store requests with the service -ERR texts', async () => {
    const { send, requester } = await harness();
    const withoutTimestamp = await send(encodeSetRequest('k', 'v'), {
      userProperties: [
        ['__protVer', '1.0'],
        ['__srcId', requester.clientId],
      ],
    });
    expect(latin1(withoutTimestamp)).toBe('-ERR missing timestamp\r\n');
    expect(property(withoutTimestamp, '__stat')).toBe('200');
    const unknown = await send(new TextEncoder().encode('*2\r\n$4\r\nPING\r\n$1\r\nk\r\n'));
    expect(latin1(unknown)).toBe('-ERR unknown command\r\n');
    const garbage = await send(new TextEncoder().encode('hello'));
    expect(latin1(garbage)).toBe('-ERR syntax error\r\n');
  });

  it('stores the fencing token of __ft and refuses older ones', async () => {
    const { send, requester } = await harness();
    const props = (ft: string): UserProperty[] => [
      ['__protVer', '1.0'],
      ['__srcId', requester.clientId],
      ['__ts', now()],
      ['__ft', ft],
    ];
    const older = encodeHlc({ timestamp: Date.now() - 1_000, counter: 0, nodeId: 'lock' });
    const newer = encodeHlc({ timestamp: Date.now(), counter: 0, nodeId: 'lock' });
    expect(
      latin1(await send(encodeSetRequest('fenced', 'a'), { userProperties: props(newer) })),
    ).toBe('+OK\r\n');
    expect(
      latin1(await send(encodeSetRequest('fenced', 'b'), { userProperties: props(older) })),
    ).toBe(
      '-ERR the request fencing token is a lower version than the fencing token protecting the resource\r\n',
    );
  });

  it('publishes KEYNOTIFY notifications to the upper-case hex client id and hex key', async () => {
    const { send } = await harness();
    const watcherId = 'Watcher.one-ü';
    const notifications = await startSubscriber(
      broker.url,
      `clients/statestore/v1/FA9AE35F-2F64-47CD-9BFF-08E2B32A0FE8/${hex(watcherId)}/command/notify/+`,
    );
    onTestFinished(() => notifications.close());
    const asWatcher: UserProperty[] = [
      ['__protVer', '1.0'],
      ['__srcId', watcherId],
      ['__ts', now()],
    ];
    expect(
      latin1(await send(encodeKeyNotifyRequest('watched key'), { userProperties: asWatcher })),
    ).toBe('+OK\r\n');
    const set = await send(encodeSetRequest('watched key', 'value'));
    const [notification] = await notifications.waitFor(1);
    expect(notification!.topic).toBe(
      `clients/statestore/v1/FA9AE35F-2F64-47CD-9BFF-08E2B32A0FE8/${hex(watcherId)}/command/notify/${hex('watched key')}`,
    );
    expect(latin1(notification!)).toBe(
      '*4\r\n$6\r\nNOTIFY\r\n$3\r\nSET\r\n$5\r\nVALUE\r\n$5\r\nvalue\r\n',
    );
    expect(property(notification!, '__ts')).toBe(property(set, '__ts'));
    expect(notification!.qos).toBe(1);

    await send(encodeDelRequest('watched key'));
    const [, deleted] = await notifications.waitFor(2);
    expect(latin1(deleted!)).toBe('*2\r\n$6\r\nNOTIFY\r\n$6\r\nDELETE\r\n');

    expect(
      latin1(
        await send(encodeKeyNotifyRequest('watched key', { stop: true }), {
          userProperties: asWatcher,
        }),
      ),
    ).toBe('+OK\r\n');
    await send(encodeSetRequest('watched key', 'unwatched'));
    await send(encodeGetRequest('watched key'));
    expect(notifications.messages).toHaveLength(2);
  });

  it('expires keys on a timer and notifies their watchers', async () => {
    const { send, requester, service } = await harness();
    const notifications = await startSubscriber(
      broker.url,
      `clients/statestore/v1/FA9AE35F-2F64-47CD-9BFF-08E2B32A0FE8/${hex(requester.clientId)}/command/notify/+`,
    );
    onTestFinished(() => notifications.close());
    await send(encodeKeyNotifyRequest('ttl'));
    await send(encodeSetRequest('ttl', 'soon gone', { expiresInMs: 250 }));
    const [, expired] = await notifications.waitFor(2, { timeoutInMs: 10_000 });
    expect(latin1(expired!)).toBe('*2\r\n$6\r\nNOTIFY\r\n$6\r\nDELETE\r\n');
    expect(service.engine.inspect('ttl')).toBeUndefined();
  });

  it('answers protocol problems like an executor and drops requests without a response topic', async () => {
    const { send, requester, responses, responseTopic } = await harness();
    const versioned = await send(encodeGetRequest('k'), {
      userProperties: [
        ['__protVer', '2.0'],
        ['__srcId', requester.clientId],
      ],
    });
    expect(property(versioned, '__stat')).toBe('505');
    expect(property(versioned, '__supProtMajVer')).toBe('1');
    expect(property(versioned, '__requestProtVer')).toBe('2.0');

    const anonymous = await send(encodeGetRequest('k'), { userProperties: [['__protVer', '1.0']] });
    expect(property(anonymous, '__stat')).toBe('400');
    expect(property(anonymous, '__propName')).toBe('__srcId');

    await requester.publish({
      topic: stateStoreTopics.request,
      payload: encodeGetRequest('k'),
      qos: 1,
      responseTopic,
      correlationData: new Uint8Array(4),
      userProperties: [['__srcId', requester.clientId]],
    });
    const [shortCorrelation] = await responses.waitFor((m) => m.correlationData?.length === 4);
    expect(property(shortCorrelation!, '__stat')).toBe('400');

    const before = responses.messages.length;
    await requester.publish({
      topic: stateStoreTopics.request,
      payload: encodeGetRequest('k'),
      qos: 1,
      correlationData: new Uint8Array(randomBytes(16)),
      userProperties: [['__srcId', requester.clientId]],
    });
    // a later request is answered, the one without a response topic never is
    await send(encodeGetRequest('k'));
    expect(responses.messages).toHaveLength(before + 1);
  });

  it('stops answering once closed', async () => {
    const { send, service, requester, responses, responseTopic } = await harness();
    await send(encodeGetRequest('k'));
    await service.close();
    await service.close();
    const unanswered = new Uint8Array(randomBytes(16));
    await requester.publish({
      topic: stateStoreTopics.request,
      payload: encodeGetRequest('k'),
      qos: 1,
      responseTopic,
      correlationData: unanswered,
      messageExpiryInterval: 10,
      userProperties: [['__srcId', requester.clientId]],
    });
    // a new emulator answers the next request; the closed one never answered the previous
    const replacement = await startStateStoreService(await connect(uniqueId('statestore-service')));
    onTestFinished(() => replacement.close());
    await send(encodeGetRequest('k'));
    expect(responses.messages).toHaveLength(2);
    expect(
      responses.messages.some(
        (m) => m.correlationData !== undefined && Buffer.from(unanswered).equals(m.correlationData),
      ),
    ).toBe(false);
  });
});
