import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  MqttSession,
  ProtocolError,
  StateStoreClient,
  StateStoreServiceError,
  compareHlc,
  encodeGetRequest,
  encodeKeyNotifyRequest,
  encodeSetRequest,
  parseHlc,
  stateStoreNotificationTopic,
  stateStoreTopics,
  type IncomingMessage,
  type StateStoreClientOptions,
  type StateStoreKeyNotification,
} from '@aio-connector/core';
import { startStateStoreService } from '@aio-connector/devkit';
import {
  eventually,
  startSubscriber,
  startTestBroker,
  type TestBroker,
} from '@aio-connector/testing';

const text = (bytes: Uint8Array | undefined): string | undefined =>
  bytes === undefined ? undefined : new TextDecoder().decode(bytes);
const hex = (value: string): string => Buffer.from(value, 'utf8').toString('hex').toUpperCase();
const uniqueId = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;
const newer = (a: string, b: string): boolean => compareHlc(parseHlc(a), parseHlc(b)) > 0;
const property = (
  properties: ReadonlyArray<readonly [string, string]>,
  name: string,
): string | undefined => properties.find(([key]) => key === name)?.[1];

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker();
});

afterAll(async () => {
  await broker.close();
});

async function connect(clientId = uniqueId('ss')): Promise<MqttSession> {
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

async function service(): Promise<void> {
  const running = await startStateStoreService(await connect(uniqueId('statestore-service')));
  onTestFinished(() => running.close());
}

async function store(
  session?: MqttSession,
  options: StateStoreClientOptions = {},
): Promise<StateStoreClient> {
  const client = new StateStoreClient(session ?? (await connect()), options);
  onTestFinished(() => client.close());
  return client;
}

function collect(client: StateStoreClient): StateStoreKeyNotification[] {
  const received: StateStoreKeyNotification[] = [];
  client.onNotification((notification) => received.push(notification));
  return received;
}

/** A fake state store answering every request with the given response. */
async function fakeService(answer: {
  readonly payload: string;
  readonly contentType?: string;
  readonly timestamp?: boolean;
}): Promise<void> {
  const session = await connect(uniqueId('fake-statestore'));
  session.onMessage(async (message: IncomingMessage) => {
    if (message.topic !== stateStoreTopics.request || message.responseTopic === undefined) return;
    await session.publish({
      topic: message.responseTopic,
      payload: new TextEncoder().encode(answer.payload),
      qos: 1,
      ...(message.correlationData === undefined
        ? {}
        : { correlationData: message.correlationData }),
      ...(answer.contentType === undefined ? {} : { contentType: answer.contentType }),
      userProperties: [
        ['__stat', '200'],
        ['__protVer', '1.0'],
        ...(answer.timestamp === false
          ? []
          : ([['__ts', `${String(Date.now()).padStart(15, '0')}:00000:fake`]] as const)),
      ],
    });
  });
  await session.subscribe(stateStoreTopics.request, { qos: 1 });
}

describe('StateStoreClient against the state store emulator', () => {
  it('sends SET as an octet-stream RESP3 request and reads GET, DEL and VDEL answers', async () => {
    await service();
    const requests = await startSubscriber(broker.url, stateStoreTopics.request);
    onTestFinished(() => requests.close());
    const client = await store();
    const key = uniqueId('key');

    const first = await client.set(key, 'v1');
    expect(first.applied).toBe(true);
    const [request] = await requests.waitFor(1);
    expect(Buffer.from(request!.payload)).toEqual(Buffer.from(encodeSetRequest(key, 'v1')));
    expect(request!.contentType).toBe('application/octet-stream');
    expect(request!.payloadFormatIndicator).toBe(0);
    expect(request!.qos).toBe(1);
    expect(property(request!.userProperties, '__srcId')).toBe(client.clientId);
    expect(property(request!.userProperties, '__ft')).toBeUndefined();

    const read = await client.get(key);
    expect(text(read.value)).toBe('v1');
    expect(read.version).toBe(first.version);

    const second = await client.set(key, 'v2');
    expect(newer(second.version, first.version)).toBe(true);

    expect(await client.vdel(key, 'not-the-value')).toBe(-1);
    expect(await client.vdel(key, 'v2')).toBe(1);
    expect(await client.vdel(key, 'v2')).toBe(0);
    expect(await client.get(key)).toEqual({ value: undefined, version: undefined });

    await client.set(key, new Uint8Array([0, 1, 2, 255]));
    expect((await client.get(key)).value).toEqual(new Uint8Array([0, 1, 2, 255]));
    expect(await client.del(key)).toBe(1);
    expect(await client.del(key)).toBe(0);
  });

  it('applies NX only to a missing key and NEX only to a missing or equal key', async () => {
    await service();
    const client = await store();
    const key = uniqueId('cond');

    const created = await client.set(key, 'a', { condition: 'onlyIfNotSet' });
    expect(created.applied).toBe(true);
    const refused = await client.set(key, 'b', { condition: 'onlyIfNotSet' });
    expect(refused).toEqual({ applied: false, version: created.version });
    expect(text((await client.get(key)).value)).toBe('a');

    const renewed = await client.set(key, 'a', { condition: 'onlyIfEqualOrNotSet' });
    expect(renewed.applied).toBe(true);
    expect(newer(renewed.version, created.version)).toBe(true);
    const other = await client.set(key, 'b', { condition: 'onlyIfEqualOrNotSet' });
    expect(other.applied).toBe(false);
    expect(text((await client.get(key)).value)).toBe('a');
  });

  it('expires a key written with PX and notifies its watchers with DELETE', async () => {
    await service();
    const client = await store();
    const received = collect(client);
    const key = uniqueId('px');
    await client.observe(key);

    const written = await client.set(key, 'short-lived', { expiresInMs: 1_500 });
    expect(text((await client.get(key)).value)).toBe('short-lived');
    await eventually(
      async () => {
        expect((await client.get(key)).value).toBeUndefined();
      },
      {
        timeoutInMs: 10_000,
        intervalInMs: 100,
      },
    );
    await eventually(() => {
      expect(received.map((n) => n.operation)).toEqual(['SET', 'DELETE']);
    });
    expect(newer(received[1]!.version, written.version)).toBe(true);
  });

  it('delivers KEYNOTIFY notifications to two clients on their own topics', async () => {
    await service();
    const raw = await startSubscriber(broker.url, `${stateStoreTopics.notificationPrefix}/#`);
    onTestFinished(() => raw.close());
    // client ids with lower-case letters, to see the upper-case hex in the topic
    const alice = await store(await connect(uniqueId('alice')));
    const bob = await store(await connect(uniqueId('bob')));
    const aliceSeen = collect(alice);
    const bobSeen = collect(bob);
    const key = uniqueId('watched');
    await alice.observe(key);
    await bob.observe(key);

    const set = await alice.set(key, 'hello');
    await eventually(() => {
      expect(aliceSeen).toHaveLength(1);
      expect(bobSeen).toHaveLength(1);
    });
    for (const seen of [aliceSeen[0]!, bobSeen[0]!]) {
      expect(seen.operation).toBe('SET');
      expect(seen.keyText).toBe(key);
      expect(text(seen.value)).toBe('hello');
      expect(seen.version).toBe(set.version);
    }

    const topics = (await raw.waitFor(2)).map((m) => m.topic).sort();
    const expected = [alice.clientId, bob.clientId]
      .map(
        (id) =>
          `clients/statestore/v1/FA9AE35F-2F64-47CD-9BFF-08E2B32A0FE8/${hex(id)}/command/notify/${hex(key)}`,
      )
      .sort();
    expect(topics).toEqual(expected);
    expect(expected).toContain(stateStoreNotificationTopic(alice.clientId, key));
    expect(expected).toContain(stateStoreNotificationTopic(bob.clientId, key));
    expect(alice.notificationFilter).toBe(
      `clients/statestore/v1/FA9AE35F-2F64-47CD-9BFF-08E2B32A0FE8/${hex(alice.clientId)}/command/notify/+`,
    );
    const setMessage = raw.messages[0]!;
    expect(Buffer.from(setMessage.payload).toString('latin1')).toBe(
      '*4\r\n$6\r\nNOTIFY\r\n$3\r\nSET\r\n$5\r\nVALUE\r\n$5\r\nhello\r\n',
    );
    expect(property(setMessage.userProperties, '__ts')).toBe(set.version);

    expect(await bob.del(key)).toBe(1);
    await eventually(() => {
      expect(aliceSeen.map((n) => n.operation)).toEqual(['SET', 'DELETE']);
      expect(bobSeen.map((n) => n.operation)).toEqual(['SET', 'DELETE']);
    });
    expect(aliceSeen[1]!.value).toBeUndefined();
    expect(newer(aliceSeen[1]!.version, set.version)).toBe(true);
    const deletes = await raw.waitFor(
      (m) => m.payload.toString('latin1') === '*2\r\n$6\r\nNOTIFY\r\n$6\r\nDELETE\r\n',
    );
    await eventually(() => {
      expect(raw.messages).toHaveLength(4);
    });
    expect(deletes.length).toBeGreaterThan(0);

    // after alice stops observing, only bob hears about the key
    await alice.unobserve(key);
    await alice.set(key, 'again');
    await eventually(() => {
      expect(bobSeen).toHaveLength(3);
    });
    await eventually(() => {
      expect(raw.messages).toHaveLength(5);
    });
    expect(raw.messages[4]!.topic).toContain(`/${hex(bob.clientId)}/`);
    expect(aliceSeen).toHaveLength(2);
  });

  it('rejects a write fenced with an older token and accepts a newer one', async () => {
    await service();
    const requests = await startSubscriber(broker.url, stateStoreTopics.request);
    onTestFinished(() => requests.close());
    const client = await store();
    const lock = uniqueId('lock');
    const resource = uniqueId('resource');
    const older = (await client.set(lock, 'first')).version;
    const current = (await client.set(lock, 'second')).version;

    expect((await client.set(resource, 'by-current', { fencingToken: current })).applied).toBe(
      true,
    );
    const fenced = await requests.waitFor((m) => property(m.userProperties, '__ft') !== undefined);
    expect(property(fenced[0]!.userProperties, '__ft')).toBe(current);

    const stale = client.set(resource, 'by-older', { fencingToken: older });
    await expect(stale).rejects.toBeInstanceOf(StateStoreServiceError);
    await expect(stale).rejects.toMatchObject({
      code: 'ERR_AIO_STATE_STORE_SERVICE',
      kind: 'fencing token lower version',
    });
    await expect(client.del(resource, { fencingToken: older })).rejects.toMatchObject({
      kind: 'fencing token lower version',
    });
    await expect(client.set(resource, 'unfenced')).rejects.toMatchObject({
      kind: 'missing fencing token',
    });
    expect(text((await client.get(resource)).value)).toBe('by-current');

    const newest = (await client.set(lock, 'third')).version;
    expect((await client.set(resource, 'by-newest', { fencingToken: newest })).applied).toBe(true);
    expect(text((await client.get(resource)).value)).toBe('by-newest');
    await expect(
      client.vdel(resource, 'by-newest', { fencingToken: current }),
    ).rejects.toMatchObject({ kind: 'fencing token lower version' });
    expect(await client.vdel(resource, 'by-newest', { fencingToken: newest })).toBe(1);
  });

  it('sends aio-persistence only when asked', async () => {
    await service();
    const requests = await startSubscriber(broker.url, stateStoreTopics.request);
    onTestFinished(() => requests.close());
    const client = await store();
    await client.set(uniqueId('p'), 'kept', { persist: true });
    await client.set(uniqueId('p'), 'not kept');
    const [persisted, plain] = await requests.waitFor(2);
    expect(property(persisted!.userProperties, 'aio-persistence')).toBe('true');
    expect(property(plain!.userProperties, 'aio-persistence')).toBeUndefined();
  });

  it('registers observations again after a reconnect and reports the current value', async () => {
    const own = await startTestBroker();
    onTestFinished(() => own.close());
    const connectTo = async (clientId: string): Promise<MqttSession> => {
      const session = new MqttSession(
        { hostname: own.host, port: own.port, clientId, useTls: false },
        { reconnect: { minDelayInMs: 50, maxDelayInMs: 300 } },
      );
      onTestFinished(() => {
        session.destroy();
      });
      await session.connect({ signal: AbortSignal.timeout(10_000) });
      return session;
    };
    const running = await startStateStoreService(await connectTo(uniqueId('statestore-service')));
    onTestFinished(() => running.close());
    const requests = await startSubscriber(own.url, stateStoreTopics.request, { persistent: true });
    onTestFinished(() => requests.close());
    const client = await store(await connectTo(uniqueId('observer')));
    const received = collect(client);
    const key = uniqueId('survivor');
    const written = await client.set(key, 'before');
    await client.observe(key);
    const before = (await requests.waitFor(2)).length;

    await own.restart();
    await eventually(
      () => {
        const replayed = received.find((n) => n.operation === 'SET');
        expect(replayed).toMatchObject({ keyText: key, version: written.version });
        expect(text(replayed?.value)).toBe('before');
      },
      { timeoutInMs: 20_000 },
    );
    const again = await requests.waitFor(
      (m) =>
        Buffer.from(m.payload).equals(Buffer.from(encodeKeyNotifyRequest(key))) &&
        requests.messages.indexOf(m) >= before,
      { timeoutInMs: 20_000 },
    );
    expect(again.length).toBeGreaterThan(0);
    await requests.waitFor(
      (m) => Buffer.from(m.payload).equals(Buffer.from(encodeGetRequest(key))),
      { timeoutInMs: 20_000 },
    );
  });
});

describe('StateStoreClient against a misbehaving service', () => {
  it('rejects a response that is not application/octet-stream', async () => {
    await fakeService({ payload: '+OK\r\n', contentType: 'text/plain' });
    const client = await store();
    const outcome = client.set(uniqueId('k'), 'v');
    await expect(outcome).rejects.toBeInstanceOf(ProtocolError);
    await expect(outcome).rejects.toMatchObject({
      kind: 'invalid header',
      headerName: 'Content Type',
      headerValue: 'text/plain',
    });
  });

  it('accepts a response without content type', async () => {
    await fakeService({ payload: '+OK\r\n' });
    const client = await store();
    await expect(client.set(uniqueId('k'), 'v')).resolves.toMatchObject({ applied: true });
  });

  it('requires __ts on a SET response', async () => {
    await fakeService({
      payload: '+OK\r\n',
      contentType: 'application/octet-stream',
      timestamp: false,
    });
    const client = await store();
    await expect(client.set(uniqueId('k'), 'v')).rejects.toMatchObject({
      kind: 'missing header',
      headerName: '__ts',
    });
  });

  it('turns -ERR into a StateStoreServiceError and garbage into a parse error', async () => {
    await fakeService({ payload: '-ERR the quota has been exceeded\r\n' });
    const client = await store();
    await expect(client.get(uniqueId('k'))).rejects.toMatchObject({
      code: 'ERR_AIO_STATE_STORE_SERVICE',
      kind: 'quota exceeded',
      retryable: false,
    });
  });

  it('times out with a retryable error when no service answers', async () => {
    const client = await store(undefined, { timeoutInMs: 1_000 });
    const outcome = client.get(uniqueId('k'));
    await expect(outcome).rejects.toMatchObject({
      code: 'ERR_AIO_PROTOCOL_TIMEOUT',
      kind: 'timeout',
      retryable: true,
    });
  });

  it('validates arguments before sending anything', async () => {
    const session = await connect();
    const client = await store(session);
    await expect(client.set('', 'v')).rejects.toBeInstanceOf(RangeError);
    await expect(client.set(42 as unknown as string, 'v')).rejects.toBeInstanceOf(TypeError);
    await expect(client.set('k', 'v', { fencingToken: 'not-a-clock' })).rejects.toBeInstanceOf(
      RangeError,
    );
    await expect(client.set('k', 'v', { expiresInMs: 0 })).rejects.toBeInstanceOf(RangeError);
    await expect(
      client.set('k', 'v', { persist: 'yes' as unknown as boolean }),
    ).rejects.toBeInstanceOf(TypeError);
    expect(() => new StateStoreClient(session, { timeoutInMs: -1 })).toThrow(RangeError);
    expect(() => new StateStoreClient(session, { timeoutInMs: '1' as unknown as number })).toThrow(
      TypeError,
    );
    await client.close();
    await expect(client.get('k')).rejects.toMatchObject({ code: 'ERR_AIO_CLOSED' });
  });
});
