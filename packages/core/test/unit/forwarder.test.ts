import { describe, expect, it, onTestFinished, vi } from 'vitest';
import type { MqttClient, OutgoingMessage, PublishResult } from '@aio-connector/core';
import { AioError, HybridLogicalClock } from '@aio-connector/core';
import {
  Forwarder,
  publishPacketSize,
  type ResolvedDestination,
} from '../../src/connector/forwarder.ts';

/** A fake MQTT client whose PUBACKs the test controls. */
function fakeClient(options: { maximumPacketSize?: number } = {}) {
  const published: OutgoingMessage[] = [];
  const pending: {
    message: OutgoingMessage;
    resolve: (r: PublishResult) => void;
    reject: (e: Error) => void;
  }[] = [];
  let auto: ((m: OutgoingMessage) => PublishResult | Error) | undefined = () => ({ reasonCode: 0 });
  const client: MqttClient = {
    clientId: 'connector-1',
    maximumPacketSize: options.maximumPacketSize,
    publish: (message) =>
      new Promise<PublishResult>((resolve, reject) => {
        published.push(message);
        const answer = auto?.(message);
        if (answer instanceof Error) reject(answer);
        else if (answer) resolve(answer);
        else pending.push({ message, resolve, reject });
      }),
    subscribe: async () => ({ reasonCode: 0 }),
    unsubscribe: async () => ({ reasonCode: 0 }),
    onMessage: () => () => undefined,
  };
  return {
    client,
    published,
    pending,
    answer(fn: ((m: OutgoingMessage) => PublishResult | Error) | undefined) {
      auto = fn;
    },
  };
}

const mqtt = (topic: string, extra: Partial<ResolvedDestination> = {}): ResolvedDestination =>
  ({
    target: 'Mqtt',
    topic,
    qos: 1,
    retain: false,
    messageExpiryInSeconds: 10,
    ...extra,
  }) as ResolvedDestination;

const bytes = (text: string) => new TextEncoder().encode(text);
const fast = { retry: { minDelayInMs: 1, maxDelayInMs: 5 } };

describe('Forwarder', () => {
  it('publishes to every destination with the exact properties and user property order', async () => {
    const fake = fakeClient();
    const clock = new HybridLogicalClock({ nodeId: 'n1', now: () => 1_000 });
    const forwarder = new Forwarder(fake.client, clock, fast);
    const { acknowledged } = await forwarder.submit({
      destinations: [
        mqtt('a/b'),
        mqtt('c/d', { qos: 0, retain: true, messageExpiryInSeconds: 60 }),
      ],
      payload: bytes('{"t":1}'),
      cloudEvent: [
        ['specversion', '1.0'],
        ['id', 'x'],
      ],
      traceContext: [['traceparent', '00-1-2-01']],
      userProperties: [['custom', 'v']],
    });
    await acknowledged;
    expect(fake.published).toHaveLength(2);
    expect(fake.published[0]).toEqual({
      topic: 'a/b',
      payload: bytes('{"t":1}'),
      qos: 1,
      retain: false,
      contentType: 'application/octet-stream',
      payloadFormatIndicator: 0,
      messageExpiryInterval: 10,
      userProperties: [
        ['__ts', '000000000001000:00001:n1'],
        ['specversion', '1.0'],
        ['id', 'x'],
        ['traceparent', '00-1-2-01'],
        ['custom', 'v'],
        ['__protVer', '1.0'],
        ['__srcId', 'connector-1'],
      ],
    });
    expect(fake.published[1]).toMatchObject({
      topic: 'c/d',
      qos: 0,
      retain: true,
      messageExpiryInterval: 60,
    });
    expect(forwarder.stats()).toEqual({ queued: 0, dropped: 0, sent: 2, failed: 0 });
    await forwarder.close();
  });

  it('writes BrokerStateStore destinations through the state store', async () => {
    const fake = fakeClient();
    const writes: [string, string][] = [];
    const forwarder = new Forwarder(fake.client, new HybridLogicalClock(), {
      ...fast,
      stateStore: {
        set: async (key, value) => writes.push([key, new TextDecoder().decode(value)]),
      },
    });
    const { acknowledged } = await forwarder.submit({
      destinations: [{ target: 'BrokerStateStore', key: 'RestThermostatKey' }],
      payload: bytes('{"t":2}'),
    });
    await acknowledged;
    expect(writes).toEqual([['RestThermostatKey', '{"t":2}']]);
    expect(fake.published).toHaveLength(0);
    await forwarder.close();
  });

  it('retries transient failures (quota exceeded, dropped connection) until acknowledged', async () => {
    const fake = fakeClient();
    let calls = 0;
    fake.answer(() => {
      calls++;
      if (calls === 1) return { reasonCode: 0x97 };
      if (calls === 2) return new Error('connection closed');
      return { reasonCode: 0 };
    });
    const forwarder = new Forwarder(fake.client, new HybridLogicalClock(), {
      ...fast,
      maxInflight: 1,
    });
    const { acknowledged } = await forwarder.submit({
      destinations: [mqtt('t')],
      payload: bytes('x'),
    });
    await acknowledged;
    expect(calls).toBe(3);
    await forwarder.close();
  });

  it('fails for good on a permanent PUBACK reason code and reports it', async () => {
    const fake = fakeClient();
    fake.answer(() => ({ reasonCode: 0x87, reasonString: 'nope' }));
    const forwarder = new Forwarder(fake.client, new HybridLogicalClock(), fast);
    const failures: string[] = [];
    const { acknowledged } = await forwarder.submit({
      destinations: [mqtt('secret/topic')],
      payload: bytes('x'),
      onFailure: (error) => failures.push(error.code),
    });
    await expect(acknowledged).rejects.toMatchObject({
      code: 'ERR_AIO_MQTT_PUBLISH',
      retryable: false,
      message: expect.stringContaining('0x87 not authorized (nope)'),
    });
    expect(failures).toEqual(['ERR_AIO_MQTT_PUBLISH']);
    expect(fake.published).toHaveLength(1);
    expect(forwarder.stats().failed).toBe(1);
    await forwarder.close();
  });

  it('refuses a message over the broker maximum packet size before sending anything', async () => {
    const fake = fakeClient({ maximumPacketSize: 200 });
    const forwarder = new Forwarder(fake.client, new HybridLogicalClock(), fast);
    await expect(
      forwarder.submit({ destinations: [mqtt('ok'), mqtt('t')], payload: new Uint8Array(300) }),
    ).rejects.toMatchObject({ code: 'ERR_AIO_PAYLOAD_TOO_LARGE' });
    expect(fake.published).toHaveLength(0);
    const small = await forwarder.submit({
      destinations: [mqtt('t')],
      payload: new Uint8Array(10),
    });
    await small.acknowledged;
    await forwarder.close();
  });

  it('computes the exact PUBLISH size', () => {
    // fixed header 1 + len 1; topic 2+1; packet id 2; props: len 1 + ct (1+2+24) + pfi 2 + exp 5 + up (1+2+4+2+25)
    const props = 27 + 2 + 5 + 34;
    const remaining = 3 + 2 + 1 + props + 10;
    expect(
      publishPacketSize('t', 10, 1, 'application/octet-stream', 10, [['__ts', 'x'.repeat(25)]]),
    ).toBe(1 + 1 + remaining);
  });

  it('drops the oldest queued message when full, and delivers the rest after the broker comes back', async () => {
    const fake = fakeClient();
    fake.answer(undefined); // the broker holds every PUBACK
    const forwarder = new Forwarder(fake.client, new HybridLogicalClock(), {
      ...fast,
      maxQueueSize: 3,
      maxInflight: 1,
    });
    const deliveries = [];
    for (let i = 0; i < 5; i++)
      deliveries.push(
        (await forwarder.submit({ destinations: [mqtt('t')], payload: bytes(String(i)) }))
          .acknowledged,
      );
    // message 0 is in flight; 1 and 2 were dropped to make room for 3 and 4
    const outcomes = await Promise.allSettled(deliveries.slice(1, 3));
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(forwarder.stats().dropped).toBe(2);
    fake.answer(() => ({ reasonCode: 0 }));
    fake.pending.shift()!.resolve({ reasonCode: 0 });
    await Promise.all([deliveries[0], deliveries[3], deliveries[4]]);
    expect(fake.published.map((m) => new TextDecoder().decode(m.payload))).toEqual(['0', '3', '4']);
    await forwarder.close();
  });

  it('close() drains what is queued, then refuses new messages', async () => {
    const fake = fakeClient();
    const forwarder = new Forwarder(fake.client, new HybridLogicalClock(), fast);
    const d = await forwarder.submit({ destinations: [mqtt('t')], payload: bytes('x') });
    await Promise.all([forwarder.close(), forwarder.close()]);
    await d.acknowledged;
    await expect(
      forwarder.submit({ destinations: [mqtt('t')], payload: bytes('y') }),
    ).rejects.toMatchObject({
      code: 'ERR_AIO_CLOSED',
    });
  });

  it('destroy() settles undelivered messages with ERR_AIO_CLOSED', async () => {
    const fake = fakeClient();
    fake.answer(() => new Error('offline'));
    const forwarder = new Forwarder(fake.client, new HybridLogicalClock(), {
      retry: { minDelayInMs: 60_000 },
    });
    const d = await forwarder.submit({ destinations: [mqtt('t')], payload: bytes('x') });
    forwarder.destroy();
    await expect(d.acknowledged).rejects.toMatchObject({ code: 'ERR_AIO_CLOSED' });
  });
});

/** A client like `MqttSession` with the broker away: QoS 1 publishes wait for a PUBACK until aborted. */
function brokerAwayClient() {
  const published: OutgoingMessage[] = [];
  const client: MqttClient = {
    clientId: 'connector-1',
    publish: (message, options = {}) =>
      new Promise<PublishResult>((_resolve, reject) => {
        published.push(message);
        const { signal } = options;
        if (signal?.aborted) {
          reject(new AioError('ERR_AIO_ABORTED', 'publish was aborted'));
          return;
        }
        signal?.addEventListener(
          'abort',
          () => {
            reject(new AioError('ERR_AIO_ABORTED', 'publish was aborted'));
          },
          { once: true },
        );
      }),
    subscribe: async () => ({ reasonCode: 0 }),
    unsubscribe: async () => ({ reasonCode: 0 }),
    onMessage: () => () => undefined,
  };
  return { client, published };
}

describe('Forwarder shutdown', () => {
  it('close() returns after the drain timeout while a publish waits for a broker that is away', async () => {
    const away = brokerAwayClient();
    const forwarder = new Forwarder(away.client, new HybridLogicalClock(), {
      ...fast,
      drainTimeoutInMs: 50,
    });
    const { acknowledged } = await forwarder.submit({
      destinations: [mqtt('t')],
      payload: bytes('x'),
    });
    await vi.waitFor(() => {
      expect(away.published).toHaveLength(1);
    });
    const closed = forwarder.close().then(() => 'closed' as const);
    const outcome = await Promise.race([
      closed,
      new Promise<'hung'>((resolve) => {
        setTimeout(() => {
          resolve('hung');
        }, 10_000).unref();
      }),
    ]);
    expect(outcome).toBe('closed');
    // the message was not delivered: its delivery settles as dropped at close
    await expect(acknowledged).rejects.toMatchObject({ code: 'ERR_AIO_CLOSED' });
    expect(forwarder.stats()).toMatchObject({ queued: 0, sent: 0, failed: 0, dropped: 1 });
  });

  it('destroy() settles a message whose publish waits for a broker that is away', async () => {
    const away = brokerAwayClient();
    const forwarder = new Forwarder(away.client, new HybridLogicalClock(), fast);
    const { acknowledged } = await forwarder.submit({
      destinations: [mqtt('t')],
      payload: bytes('x'),
    });
    await vi.waitFor(() => {
      expect(away.published).toHaveLength(1);
    });
    forwarder.destroy();
    await expect(acknowledged).rejects.toMatchObject({ code: 'ERR_AIO_CLOSED' });
  });

  it('a submit aborted while waiting for room does not leave an unhandled rejection for the destinations already queued', async () => {
    const away = brokerAwayClient();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    onTestFinished(() => {
      process.off('unhandledRejection', onUnhandled);
    });
    const forwarder = new Forwarder(away.client, new HybridLogicalClock(), {
      ...fast,
      maxQueueSize: 2,
      maxInflight: 1,
      overflow: 'block',
      drainTimeoutInMs: 0,
    });
    // one message in flight (held by the broker), the queue then has room for one more
    await forwarder.submit({ destinations: [mqtt('first')], payload: bytes('1') });
    const controller = new AbortController();
    // two destinations: the first fits, the second waits for room
    const submitted = forwarder.submit(
      { destinations: [mqtt('a'), mqtt('b')], payload: bytes('2') },
      { signal: controller.signal },
    );
    await vi.waitFor(() => {
      expect(forwarder.stats().queued).toBe(2);
    });
    controller.abort();
    await expect(submitted).rejects.toMatchObject({ code: 'ERR_AIO_ABORTED' });
    // closing drops what is queued, which settles the delivery of destination "a" as failed
    await forwarder.close();
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    expect(unhandled).toEqual([]);
  });
});
