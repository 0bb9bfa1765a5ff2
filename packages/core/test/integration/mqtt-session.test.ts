import { randomBytes } from 'node:crypto';
import { connect as mqttConnect, type IConnackPacket } from 'mqtt';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  MqttSession,
  type ConnectionEvent,
  type IncomingMessage,
  type MqttConnectionSettings,
  type MqttSessionOptions,
} from '@aio-connector/core';
import {
  eventually,
  generateTestPki,
  startRecordingProxy,
  startSubscriber,
  startTestBroker,
  type TestBroker,
} from '@aio-connector/testing';
import { publishPacketSize } from '../../src/mqtt/mqtt-properties.ts';

const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
const uniqueId = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

async function broker(options: Parameters<typeof startTestBroker>[0] = {}): Promise<TestBroker> {
  const started = await startTestBroker(options);
  onTestFinished(() => started.close());
  return started;
}

function session(
  target: { readonly host: string; readonly port: number },
  settings: Partial<MqttConnectionSettings> = {},
  options: MqttSessionOptions = {},
): MqttSession {
  const created = new MqttSession(
    {
      hostname: target.host,
      port: target.port,
      clientId: uniqueId('session'),
      useTls: false,
      ...settings,
    },
    { reconnect: { minDelayInMs: 50, maxDelayInMs: 500 }, ...options },
  );
  onTestFinished(() => {
    created.destroy();
  });
  return created;
}

function record(target: MqttSession): ConnectionEvent[] {
  const events: ConnectionEvent[] = [];
  target.onConnectionChange((event) => events.push(event));
  return events;
}

/** Connects a raw mqtt.js client and returns its CONNACK. */
async function rawConnack(url: string, clientId: string): Promise<IConnackPacket> {
  const client = mqttConnect(url, {
    protocolVersion: 5,
    clientId,
    clean: false,
    reconnectPeriod: 0,
    properties: { sessionExpiryInterval: 60 },
  });
  onTestFinished(() => client.endAsync(true));
  return new Promise((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
}

describe('MqttSession (integration)', () => {
  it('connects with the AIO CONNECT options and round-trips messages with every property', async () => {
    const b = await broker();
    const proxy = await startRecordingProxy(b);
    onTestFinished(() => proxy.close());
    const s = session(proxy, {
      clientId: 'aio-connector-1',
      keepAliveInSeconds: 30,
      sessionExpiryInSeconds: 120,
      receiveMaximum: 20,
    });
    const events = record(s);
    await s.connect();
    expect(s.state).toBe('connected');
    expect(events).toEqual([{ type: 'connected', sessionPresent: false }]);

    const [connect] = proxy.connects();
    expect(connect).toMatchObject({
      protocolVersion: 5,
      clientId: 'aio-connector-1',
      clean: false,
      keepalive: 30,
      properties: {
        sessionExpiryInterval: 120,
        receiveMaximum: 20,
        userProperties: { metriccategory: 'aiosdk-typescript' },
      },
    });
    expect(connect?.properties?.authenticationMethod).toBeUndefined();

    const subscriber = await startSubscriber(b.url, 'roundtrip/#');
    onTestFinished(() => subscriber.close());
    const message = {
      topic: 'roundtrip/out',
      payload: new Uint8Array([0, 1, 2, 250, 255]),
      qos: 1 as const,
      contentType: 'application/octet-stream',
      payloadFormatIndicator: 0 as const,
      messageExpiryInterval: 10,
      responseTopic: 'clients/aio-connector-1/reply',
      correlationData: new Uint8Array(randomBytes(16)),
      userProperties: [
        ['__ts', '000000000000001:00000:aio-connector-1'],
        ['__protVer', '1.0'],
        ['__srcId', 'aio-connector-1'],
      ] as const,
    };
    await expect(s.publish(message)).resolves.toEqual({ reasonCode: 0 });
    const [received] = await subscriber.waitFor(1);
    expect(received).toMatchObject({
      topic: 'roundtrip/out',
      payload: Buffer.from(message.payload),
      qos: 1,
      retain: false,
      contentType: 'application/octet-stream',
      payloadFormatIndicator: 0,
      responseTopic: 'clients/aio-connector-1/reply',
      correlationData: Buffer.from(message.correlationData),
      userProperties: message.userProperties,
    });
    expect(received?.messageExpiryInterval).toBeGreaterThanOrEqual(9);
    // the size the session computes for the maximum-packet-size check is the size on the wire
    const published = proxy.packets.find(
      (p) => p.direction === 'client-to-broker' && p.packet.cmd === 'publish',
    );
    const remaining = published?.packet.length ?? 0;
    expect(publishPacketSize(message)).toBe(1 + (remaining < 128 ? 1 : 2) + remaining);

    // incoming: the session's handlers see the raw client's message with its properties
    const incoming: IncomingMessage[] = [];
    s.onMessage((m) => {
      incoming.push(m);
    });
    await expect(s.subscribe('inbound/#', { qos: 1 })).resolves.toEqual({ reasonCode: 1 });
    await subscriber.client.publishAsync('inbound/x', Buffer.from('hello'), {
      qos: 1,
      retain: false,
      properties: {
        contentType: 'text/plain',
        payloadFormatIndicator: true,
        responseTopic: 'r/t',
        correlationData: Buffer.from([7, 7]),
        messageExpiryInterval: 30,
        userProperties: { a: '1', b: ['2', '3'] },
      },
    });
    await eventually(() => {
      expect(incoming).toHaveLength(1);
    });
    expect(incoming[0]).toMatchObject({
      topic: 'inbound/x',
      qos: 1,
      retain: false,
      contentType: 'text/plain',
      payloadFormatIndicator: 1,
      responseTopic: 'r/t',
      correlationData: Buffer.from([7, 7]),
      userProperties: [
        ['a', '1'],
        ['b', '2'],
        ['b', '3'],
      ],
    });
    expect(Buffer.from(incoming[0]!.payload).toString()).toBe('hello');
    expect(incoming[0]!.payload).toBeInstanceOf(Uint8Array);

    await expect(s.unsubscribe('inbound/#')).resolves.toEqual({ reasonCode: 0 });
    await expect(s.unsubscribe('never/subscribed')).resolves.toEqual({ reasonCode: 0x11 });
  });

  it('publishes QoS 0 once written and refuses it while disconnected', async () => {
    const b = await broker();
    const subscriber = await startSubscriber(b.url, 'qos0/#', { qos: 0 });
    onTestFinished(() => subscriber.close());
    const s = session(b);
    await s.connect();
    await expect(s.publish({ topic: 'qos0/a', payload: encode('x'), qos: 0 })).resolves.toEqual({
      reasonCode: 0,
    });
    await subscriber.waitFor(1);
    await b.stop();
    await eventually(() => {
      expect(s.state).toBe('reconnecting');
    });
    await expect(
      s.publish({ topic: 'qos0/b', payload: encode('y'), qos: 0 }),
    ).rejects.toMatchObject({ code: 'ERR_AIO_MQTT_PUBLISH', retryable: true });
  });

  it('connects over TLS and mutual TLS, and refuses untrusted certificates with a clear error', async () => {
    const pki = await generateTestPki();
    const tlsBroker = await broker({ tls: true });
    const tls = session(tlsBroker, { useTls: true, caCertificates: [pki.ca] });
    await tls.connect();
    expect(tls.connected).toBe(true);

    const untrusted = session(tlsBroker, { useTls: true, caCertificates: [pki.otherCa] });
    const untrustedError = await untrusted.connect().catch((e: unknown) => e as Error);
    expect(untrustedError).toMatchObject({
      code: 'ERR_AIO_MQTT_CONNECT',
      retryable: false,
      message: expect.stringMatching(/not trusted/),
    });
    await expect(untrusted.closed).resolves.toBe(untrustedError);

    const mtlsBroker = await broker({ clientAuth: true });
    const mtls = session(mtlsBroker, {
      useTls: true,
      caCertificates: [pki.ca],
      clientCertificate: pki.client.cert,
      clientKey: pki.client.key,
    });
    await mtls.connect();
    await expect(
      mtls.publish({ topic: 'mtls/x', payload: encode('ok'), qos: 1 }),
    ).resolves.toMatchObject({ reasonCode: expect.toBeOneOf([0, 0x10]) });

    const wrong = session(mtlsBroker, {
      useTls: true,
      caCertificates: [pki.ca],
      clientCertificate: pki.wrongClient.cert,
      clientKey: pki.wrongClient.key,
    });
    const wrongError = await wrong
      .connect({ signal: AbortSignal.timeout(mtlsBroker.kind === 'mosquitto' ? 15_000 : 3_000) })
      .catch((e: unknown) => e as Error);
    if (mtlsBroker.kind === 'mosquitto')
      expect(wrongError).toMatchObject({
        code: 'ERR_AIO_MQTT_CONNECT',
        message: expect.stringMatching(/rejected the TLS client certificate/),
      });
    // aedes' TLS server sometimes closes without an alert: then the attempts go on until aborted
    else expect(wrongError).toMatchObject({ code: expect.stringMatching(/MQTT_CONNECT|ABORTED/) });
  });

  it('loses no QoS 1 message across a broker restart mid-stream (persistent sessions on both sides)', async () => {
    const b = await broker();
    const subscriber = await startSubscriber(b.url, 'stream/#', {
      persistent: true,
      clientId: uniqueId('stream-sub'),
    });
    onTestFinished(() => subscriber.close());
    const s = session(b);
    const events = record(s);
    await s.connect();

    const count = 60;
    const results: Promise<unknown>[] = [];
    for (let i = 0; i < count; i++) {
      results.push(s.publish({ topic: `stream/${i}`, payload: encode(String(i)), qos: 1 }));
      if (i === 20) await b.stop();
      if (i === 40) await b.start();
    }
    const settled = await Promise.all(results);
    expect(settled).toHaveLength(count);
    for (const result of settled) expect(result).toMatchObject({ reasonCode: expect.any(Number) });
    expect(settled.every((r) => (r as { reasonCode: number }).reasonCode < 0x80)).toBe(true);

    await subscriber.waitFor(
      () => new Set(subscriber.messages.map((m) => m.payload.toString())).size === count,
      { timeoutInMs: 20_000 },
    );
    const payloads = new Set(subscriber.messages.map((m) => m.payload.toString()));
    expect([...payloads].sort((x, y) => Number(x) - Number(y))).toEqual(
      Array.from({ length: count }, (_, i) => String(i)),
    );
    expect(events.map((e) => e.type)).toContain('disconnected');
    expect(events.at(-1)).toMatchObject({ type: 'connected' });
  });

  it('retries the first connection until the broker starts, with growing delays', async () => {
    const b = await broker();
    await b.stop();
    const s = session(b, {}, { reconnect: { minDelayInMs: 100, maxDelayInMs: 800, jitter: 0 } });
    const times: number[] = [];
    s.onConnectionChange((event) => {
      if (event.type === 'disconnected') times.push(performance.now());
    });
    const connecting = s.connect();
    await eventually(
      () => {
        expect(times.length).toBeGreaterThanOrEqual(6);
      },
      {
        timeoutInMs: 15_000,
      },
    );
    const gaps = times.slice(1, 6).map((t, i) => t - times[i]!);
    // delays 100, 200, 400, 800, 800 ms (no jitter), plus the time of each failed attempt
    const expected = [100, 200, 400, 800, 800];
    gaps.forEach((gap, i) => {
      expect(gap).toBeGreaterThanOrEqual(expected[i]! - 20);
    });
    expect(gaps[3]! + gaps[4]!).toBeGreaterThan(gaps[0]! + gaps[1]! + gaps[2]!);
    expect(s.state).toBe('connecting');
    await b.start();
    await connecting;
    expect(s.state).toBe('connected');
  });

  it('reports a lost session as fatal: closed resolves with ERR_AIO_MQTT_SESSION_LOST', async () => {
    const b = await broker();
    const s = session(b);
    const events = record(s);
    await s.connect();
    await s.subscribe('lost/#', { qos: 1 });
    await b.stop();
    await eventually(() => {
      expect(s.state).toBe('reconnecting');
    });
    // settle the publish at once: its rejection may come before the test looks at it
    const pending = s.publish({ topic: 'lost/x', payload: encode('x'), qos: 1 }).then(
      () => undefined,
      (error: unknown) => error,
    );
    await b.restart({ clearSessions: true });
    const error = await s.closed;
    expect(error).toMatchObject({ code: 'ERR_AIO_MQTT_SESSION_LOST', retryable: false });
    expect(await pending).toBe(error);
    expect(s.state).toBe('closed');
    expect(events.at(-1)).toEqual({ type: 'closed', error });
    expect(events.filter((e) => e.type === 'connected')).toHaveLength(1);
    await expect(
      s.publish({ topic: 'lost/y', payload: encode('y'), qos: 1 }),
    ).rejects.toMatchObject({ code: 'ERR_AIO_CLOSED' });
  });

  it('closes gracefully: idempotent, waits for QoS 1, DISCONNECT keeps or ends the session', async () => {
    const b = await broker();
    const clientId = uniqueId('close');
    const s = session(b, { clientId });
    const events = record(s);
    await s.connect();
    await s.subscribe('close/#', { qos: 1 });
    const publish = s.publish({ topic: 'close/a', payload: encode('a'), qos: 1 });
    const first = s.close();
    const second = s.close();
    expect(second).toBe(first);
    await first;
    await expect(publish).resolves.toEqual({ reasonCode: 0 });
    await expect(s.closed).resolves.toBeUndefined();
    expect(events.at(-1)).toEqual({ type: 'closed' });
    await expect(s.connect()).rejects.toMatchObject({ code: 'ERR_AIO_CLOSED' });
    // the session was kept by the broker
    expect((await rawConnack(b.url, clientId)).sessionPresent).toBe(true);

    const otherId = uniqueId('end');
    const ending = session(b, { clientId: otherId });
    await ending.connect();
    await ending.subscribe('end/#', { qos: 1 });
    await ending.close({ endSession: true });
    expect((await rawConnack(b.url, otherId)).sessionPresent).toBe(false);
  });

  it('close() abandons unacknowledged publishes after its timeout; destroy() rejects at once', async () => {
    const b = await broker();
    const s = session(b);
    await s.connect();
    await b.stop();
    await eventually(() => {
      expect(s.state).toBe('reconnecting');
    });
    const pending = s.publish({ topic: 'abandon/x', payload: encode('x'), qos: 1 }).then(
      () => undefined,
      (error: unknown) => error,
    );
    const started = performance.now();
    await s.close({ timeoutInMs: 300 });
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    expect(await pending).toMatchObject({ code: 'ERR_AIO_CLOSED' });

    await b.start();
    const d = session(b);
    await d.connect();
    const subscribe = d.subscribe('x/#', { qos: 1 }).then(
      () => undefined,
      (error: unknown) => error,
    );
    d.destroy();
    expect(await subscribe).toMatchObject({ code: 'ERR_AIO_CLOSED' });
    await expect(d.closed).resolves.toBeUndefined();
  });

  it('gives up connecting when the connect signal aborts', async () => {
    const b = await broker();
    await b.stop();
    const s = session(b);
    const controller = new AbortController();
    const connecting = s.connect({ signal: controller.signal });
    await eventually(() => {
      expect(s.state).toBe('connecting');
    });
    controller.abort(new Error('shutting down'));
    await expect(connecting).rejects.toMatchObject({ code: 'ERR_AIO_ABORTED' });
    await expect(s.closed).resolves.toBeUndefined();
    expect(s.state).toBe('closed');
  });

  it('sends a SUBSCRIBE cut off by a disconnection again after the reconnect', async () => {
    const b = await broker();
    const proxy = await startRecordingProxy(b);
    onTestFinished(() => proxy.close());
    const s = session(proxy);
    await s.connect();
    const subscribed = s.subscribe('again/#', { qos: 1 });
    proxy.dropConnections();
    await expect(subscribed).resolves.toEqual({ reasonCode: 1 });
    const subscribes = proxy.packets.filter(
      (p) => p.direction === 'client-to-broker' && p.packet.cmd === 'subscribe',
    );
    expect(subscribes.length).toBeGreaterThanOrEqual(1);
    expect(subscribes.at(-1)?.connection).toBeGreaterThan(1);
  });

  it('accepts a new session on reconnect when the old one had no subscriptions', async () => {
    const b = await broker();
    const s = session(b);
    const events = record(s);
    await s.connect();
    await b.restart({ clearSessions: true });
    await eventually(() => {
      expect(events.filter((e) => e.type === 'connected')).toHaveLength(2);
    });
    expect(events.at(-1)).toEqual({ type: 'connected', sessionPresent: false });
    expect(s.state).toBe('connected');
  });

  it("refuses a message larger than the broker's maximum packet size without dropping the connection", async () => {
    const b = await broker({ maximumPacketSize: 1024 });
    const s = session(b);
    const events = record(s);
    await s.connect();
    expect(s.maximumPacketSize).toBe(1024);
    await expect(
      s.publish({ topic: 'big/x', payload: new Uint8Array(2_000), qos: 1 }),
    ).rejects.toMatchObject({
      code: 'ERR_AIO_MQTT_PUBLISH',
      retryable: false,
      message: expect.stringMatching(/maximum packet size \(1024 bytes\)/),
    });
    await expect(
      s.publish({ topic: 'big/y', payload: new Uint8Array(500), qos: 1 }),
    ).resolves.toMatchObject({ reasonCode: expect.toBeOneOf([0, 0x10]) });
    expect(events.map((e) => e.type)).toEqual(['connected']);
  });
});
