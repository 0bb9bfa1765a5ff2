// Telemetry and command round trips between the protocol components over real MqttSessions and a
// real broker, on plain TCP, TLS and mutual TLS: what the receiving component reports, and what a
// raw MQTT subscriber sees on the wire.
import { randomBytes } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  CommandExecutor,
  CommandInvoker,
  HybridLogicalClock,
  MqttSession,
  ProtocolError,
  TelemetryReceiver,
  TelemetrySender,
  compareHlc,
  encodeHlc,
  rawSerializer,
  type CommandRequest,
  type MqttConnectionSettings,
  type TelemetryMessage,
} from '@aio-connector/core';
import {
  eventually,
  generateTestPki,
  startSubscriber,
  startTestBroker,
  type ReceivedMessage,
  type SubscriberOptions,
  type TestBroker,
  type TestPki,
} from '@aio-connector/testing';

interface Transport {
  readonly name: string;
  readonly tls: boolean;
  readonly clientAuth: boolean;
}

const transports: readonly Transport[] = [
  { name: 'plain TCP', tls: false, clientAuth: false },
  { name: 'TLS', tls: true, clientAuth: false },
  { name: 'mutual TLS', tls: true, clientAuth: true },
];

const uniqueId = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const secondPrecisionTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

async function startBroker(transport: Transport): Promise<TestBroker> {
  const broker = await startTestBroker({ tls: transport.tls, clientAuth: transport.clientAuth });
  onTestFinished(() => broker.close());
  return broker;
}

/** The MqttSession settings of a transport: trust the test CA, and present a client certificate for mTLS. */
function tlsSettings(
  transport: Transport,
  pki: TestPki,
  client = pki.client,
): Partial<MqttConnectionSettings> {
  if (!transport.tls) return {};
  return {
    useTls: true,
    caCertificates: [pki.ca],
    ...(transport.clientAuth ? { clientCertificate: client.cert, clientKey: client.key } : {}),
  };
}

function newSession(
  broker: TestBroker,
  settings: Partial<MqttConnectionSettings>,
  prefix: string,
): MqttSession {
  const session = new MqttSession(
    {
      hostname: broker.host,
      port: broker.port,
      clientId: uniqueId(prefix),
      useTls: false,
      ...settings,
    },
    { reconnect: { minDelayInMs: 50, maxDelayInMs: 500 } },
  );
  onTestFinished(() => session.close({ timeoutInMs: 2_000, endSession: true }));
  return session;
}

async function connectedSession(
  broker: TestBroker,
  transport: Transport,
  pki: TestPki,
  prefix: string,
): Promise<MqttSession> {
  const session = newSession(broker, tlsSettings(transport, pki), prefix);
  await session.connect({ signal: AbortSignal.timeout(20_000) });
  return session;
}

async function rawSubscriber(
  broker: TestBroker,
  transport: Transport,
  pki: TestPki,
  filter: string,
): Promise<Awaited<ReturnType<typeof startSubscriber>>> {
  const options: SubscriberOptions = transport.tls
    ? {
        ca: pki.ca,
        ...(transport.clientAuth ? { cert: pki.client.cert, key: pki.client.key } : {}),
      }
    : {};
  const subscriber = await startSubscriber(broker.url, filter, options);
  onTestFinished(() => subscriber.close());
  return subscriber;
}

function property(message: ReceivedMessage, name: string): string | undefined {
  return message.userProperties.find(([key]) => key === name)?.[1];
}

interface Reading {
  readonly temperature: number;
  readonly unit: string;
  readonly tags: readonly string[];
}

describe.each(transports)('protocol round trips over $name (integration)', (transport) => {
  it('TelemetrySender → TelemetryReceiver: payload, content type, CloudEvent, user data, topic tokens, __ts', async () => {
    const pki = await generateTestPki();
    const broker = await startBroker(transport);
    const senderSession = await connectedSession(broker, transport, pki, 'sender');
    const receiverSession = await connectedSession(broker, transport, pki, 'receiver');
    const senderClock = new HybridLogicalClock();
    const receiverClock = new HybridLogicalClock();
    const pattern = 'factory/{ex:line}/{senderId}/telemetry';

    const received: TelemetryMessage<Reading>[] = [];
    const receiver = new TelemetryReceiver<Reading>(
      receiverSession,
      pattern,
      (message) => {
        received.push(message);
      },
      { hlc: receiverClock },
    );
    await receiver.start();
    const rawReceived: TelemetryMessage<Uint8Array>[] = [];
    const rawReceiver = new TelemetryReceiver<Uint8Array>(
      receiverSession,
      'factory/{ex:line}/{senderId}/image',
      (message) => {
        rawReceived.push(message);
      },
      { hlc: receiverClock, serializer: rawSerializer },
    );
    await rawReceiver.start();
    const wire = await rawSubscriber(broker, transport, pki, 'factory/#');

    const sender = new TelemetrySender<Reading>(senderSession, pattern, {
      topicTokens: { 'ex:line': 'line-1' },
      hlc: senderClock,
    });
    const value: Reading = { temperature: 21.5, unit: '°C', tags: ['north', 'zone "b"'] };
    await sender.send(value, {
      cloudEvent: {
        source: 'ms-aio:thermostat-1',
        dataSchema: 'aio-sr://namespace/reading:1.0',
        extensions: { aiodeviceref: 'thermostat-1' },
      },
      userData: { site: 'berlin', batch: '7' },
      timeoutInMs: 45_000,
    });
    const topic = `factory/line-1/${senderSession.clientId}/telemetry`;

    await eventually(() => {
      expect(received).toHaveLength(1);
    });
    const message = received[0]!;
    expect(message).toMatchObject({
      payload: value,
      topic,
      topicTokens: { 'ex:line': 'line-1', senderId: senderSession.clientId },
      contentType: 'application/json',
      payloadFormatIndicator: 1,
      qos: 1,
      retain: false,
      senderId: senderSession.clientId,
      cloudEvent: {
        specVersion: '1.0',
        type: 'ms.aio.telemetry',
        source: 'ms-aio:thermostat-1',
        subject: topic,
        dataSchema: 'aio-sr://namespace/reading:1.0',
        dataContentType: 'application/json',
        id: expect.stringMatching(uuid),
        time: expect.stringMatching(secondPrecisionTime),
      },
    });
    expect(message.userData).toMatchObject({
      site: 'berlin',
      batch: '7',
      aiodeviceref: 'thermostat-1',
    });
    expect(Object.keys(message.userData).filter((name) => name.startsWith('__'))).toEqual([]);
    expect(message.messageExpiryInterval).toBeGreaterThan(30);
    expect(message.messageExpiryInterval).toBeLessThanOrEqual(45);
    // __ts is the sender's clock, and the receiver's clock moved past it
    const timestamp = message.timestamp!;
    expect(timestamp.nodeId).toBe(senderClock.nodeId);
    expect(compareHlc(timestamp, senderClock.value)).toBe(0);
    expect(compareHlc(receiverClock.value, timestamp)).toBeGreaterThan(0);

    const [onWire] = await wire.waitFor((m) => m.topic === topic, { timeoutInMs: 15_000 });
    expect(onWire).toMatchObject({
      topic,
      payload: Buffer.from(JSON.stringify(value)),
      qos: 1,
      retain: false,
      contentType: 'application/json',
      payloadFormatIndicator: 1,
    });
    expect(onWire!.messageExpiryInterval).toBeGreaterThan(30);
    expect(onWire!.messageExpiryInterval).toBeLessThanOrEqual(45);
    expect(onWire!.userProperties.map(([name]) => name)).toEqual([
      '__ts',
      'specversion',
      'id',
      'type',
      'source',
      'time',
      'subject',
      'dataschema',
      'aiodeviceref',
      'site',
      'batch',
      '__protVer',
      '__srcId',
    ]);
    expect(property(onWire!, '__protVer')).toBe('1.0');
    expect(property(onWire!, '__srcId')).toBe(senderSession.clientId);
    expect(property(onWire!, '__ts')).toBe(encodeHlc(timestamp));
    expect(property(onWire!, 'id')).toBe(message.cloudEvent?.id);
    expect(message.userProperties).toEqual(onWire!.userProperties);

    // raw bytes with a content type of the caller's choice pass through untouched
    const imageSender = new TelemetrySender<Uint8Array>(
      senderSession,
      'factory/{ex:line}/{senderId}/image',
      { serializer: rawSerializer, hlc: senderClock },
    );
    const bytes = new Uint8Array(randomBytes(300));
    bytes[0] = 0;
    bytes[1] = 0xff;
    await imageSender.send(bytes, {
      topicTokens: { 'ex:line': 'line-2' },
      contentType: 'image/png',
    });
    await eventually(() => {
      expect(rawReceived).toHaveLength(1);
    });
    expect(rawReceived[0]).toMatchObject({
      topic: `factory/line-2/${senderSession.clientId}/image`,
      topicTokens: { 'ex:line': 'line-2', senderId: senderSession.clientId },
      contentType: 'image/png',
      payloadFormatIndicator: 0,
      cloudEvent: undefined,
      senderId: senderSession.clientId,
    });
    expect(Buffer.from(rawReceived[0]!.payload)).toEqual(Buffer.from(bytes));
    expect(compareHlc(rawReceived[0]!.timestamp!, timestamp)).toBeGreaterThan(0);
    // the JSON receiver did not see the image (different topic), and vice versa
    expect(received).toHaveLength(1);
    const [imageOnWire] = await wire.waitFor((m) => m.topic.endsWith('/image'));
    expect(imageOnWire).toMatchObject({
      payload: Buffer.from(bytes),
      contentType: 'image/png',
      payloadFormatIndicator: 0,
      qos: 1,
      messageExpiryInterval: expect.any(Number),
    });
    expect(imageOnWire!.messageExpiryInterval).toBeLessThanOrEqual(10);
  });

  it('CommandInvoker → CommandExecutor: JSON and raw payloads, status, user data both ways, remote errors', async () => {
    const pki = await generateTestPki();
    const broker = await startBroker(transport);
    const executorSession = await connectedSession(broker, transport, pki, 'executor');
    const invokerSession = await connectedSession(broker, transport, pki, 'invoker');
    const executorClock = new HybridLogicalClock();
    const invokerClock = new HybridLogicalClock();
    const executorId = executorSession.clientId;

    const requests: CommandRequest<{ a: number; b: number }>[] = [];
    const add = new CommandExecutor<{ a: number; b: number }, { sum: number }>(
      executorSession,
      'add',
      'calculator/{executorId}/add',
      (request) => {
        requests.push(request);
        return {
          payload: { sum: request.payload.a + request.payload.b },
          userData: { 'echo-tag': request.userData['tag'] ?? '', served: 'yes' },
          cloudEvent: { source: 'ms-aio:calculator' },
        };
      },
      { topicTokens: { executorId }, hlc: executorClock },
    );
    await add.start();
    const rawRequests: CommandRequest<Uint8Array>[] = [];
    const reverse = new CommandExecutor<Uint8Array, Uint8Array>(
      executorSession,
      'reverse',
      'calculator/{executorId}/reverse',
      (request) => {
        rawRequests.push(request);
        return { payload: Uint8Array.from(request.payload).reverse() };
      },
      {
        topicTokens: { executorId },
        requestSerializer: rawSerializer,
        responseSerializer: rawSerializer,
        hlc: executorClock,
      },
    );
    await reverse.start();
    const fail = new CommandExecutor<{ a: number }, { never: true }>(
      executorSession,
      'fail',
      'calculator/{executorId}/fail',
      () => {
        throw new Error('the calculator is on fire');
      },
      { topicTokens: { executorId }, hlc: executorClock },
    );
    await fail.start();
    const responses = await rawSubscriber(broker, transport, pki, 'clients/#');

    const invoker = new CommandInvoker<{ a: number; b: number }, { sum: number }>(
      invokerSession,
      'add',
      'calculator/{executorId}/add',
      { hlc: invokerClock },
    );
    const response = await invoker.invoke(
      { a: 2, b: 40 },
      {
        topicTokens: { executorId },
        userData: { tag: 'req-1' },
        cloudEvent: { source: 'ms-aio:invoker' },
        timeoutInMs: 20_000,
      },
    );
    expect(response).toMatchObject({
      payload: { sum: 42 },
      status: 200,
      topic: `clients/${invokerSession.clientId}/calculator/${executorId}/add`,
      executorId,
      contentType: 'application/json',
      payloadFormatIndicator: 1,
      cloudEvent: {
        type: 'ms.aio.rpc.response',
        source: 'ms-aio:calculator',
        dataContentType: 'application/json',
      },
    });
    expect(response.userData).toMatchObject({ 'echo-tag': 'req-1', served: 'yes' });
    expect(response.correlationData.byteLength).toBe(16);
    expect(response.timestamp?.nodeId).toBe(executorClock.nodeId);
    expect(compareHlc(invokerClock.value, response.timestamp!)).toBeGreaterThan(0);

    expect(requests).toHaveLength(1);
    const request = requests[0]!;
    expect(request).toMatchObject({
      payload: { a: 2, b: 40 },
      topic: `calculator/${executorId}/add`,
      topicTokens: { executorId },
      invokerClientId: invokerSession.clientId,
      contentType: 'application/json',
      payloadFormatIndicator: 1,
      responseTopic: response.topic,
      cloudEvent: { type: 'ms.aio.rpc.request', source: 'ms-aio:invoker' },
    });
    expect(request.userData).toMatchObject({ tag: 'req-1' });
    expect(Buffer.from(request.correlationData)).toEqual(Buffer.from(response.correlationData));
    expect(request.messageExpiryInterval).toBeGreaterThan(10);
    expect(request.messageExpiryInterval).toBeLessThanOrEqual(20);
    expect(request.timestamp?.nodeId).toBe(invokerClock.nodeId);

    // the response as the broker carried it
    const [onWire] = await responses.waitFor((m) => m.topic === response.topic);
    expect(onWire).toMatchObject({
      qos: 1,
      correlationData: Buffer.from(response.correlationData),
      payload: Buffer.from(JSON.stringify({ sum: 42 })),
      contentType: 'application/json',
      payloadFormatIndicator: 1,
    });
    expect(property(onWire!, '__stat')).toBe('200');
    expect(property(onWire!, '__protVer')).toBe('1.0');
    expect(property(onWire!, '__srcId')).toBe(executorId);
    expect(property(onWire!, '__ts')).toBe(encodeHlc(response.timestamp!));
    expect(onWire!.messageExpiryInterval).toBeLessThanOrEqual(request.messageExpiryInterval);

    // raw bytes with a custom content type; an empty body is answered with 204
    const rawInvoker = new CommandInvoker<Uint8Array, Uint8Array>(
      invokerSession,
      'reverse',
      'calculator/{executorId}/reverse',
      {
        requestSerializer: rawSerializer,
        responseSerializer: rawSerializer,
        topicTokens: { executorId },
        hlc: invokerClock,
        timeoutInMs: 20_000,
      },
    );
    const rawResponse = await rawInvoker.invoke(new Uint8Array([0, 1, 2, 0xfe, 0xff]), {
      contentType: 'application/x-aio-test',
      userData: { tag: 'raw' },
    });
    expect(rawResponse).toMatchObject({
      status: 200,
      contentType: 'application/octet-stream',
      payloadFormatIndicator: 0,
      executorId,
    });
    expect(Buffer.from(rawResponse.payload)).toEqual(Buffer.from([0xff, 0xfe, 2, 1, 0]));
    expect(rawRequests[0]).toMatchObject({
      contentType: 'application/x-aio-test',
      payloadFormatIndicator: 0,
      userData: expect.objectContaining({ tag: 'raw' }),
    });
    const empty = await rawInvoker.invoke(new Uint8Array());
    expect(empty.status).toBe(204);
    expect(empty.payload.byteLength).toBe(0);
    expect(empty.contentType).toBeUndefined();
    expect(rawRequests[1]?.contentType).toBeUndefined();
    expect(rawRequests[1]?.payload.byteLength).toBe(0);

    // a handler that throws: a remote execution error carrying the handler's message
    const failing = new CommandInvoker<{ a: number }, { never: true }>(
      invokerSession,
      'fail',
      'calculator/{executorId}/fail',
      { topicTokens: { executorId }, hlc: invokerClock, timeoutInMs: 20_000 },
    );
    const error = await failing.invoke({ a: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({
      kind: 'execution error',
      code: 'ERR_AIO_PROTOCOL_EXECUTION',
      isRemote: true,
      statusCode: 500,
      isApplicationError: true,
      commandName: 'fail',
      message: 'the calculator is on fire',
    });
  });

  if (transport.clientAuth)
    it('refuses a session with a client certificate from another CA; its components fail with mqtt error', async () => {
      const pki = await generateTestPki();
      const broker = await startBroker(transport);
      const wrong = newSession(broker, tlsSettings(transport, pki, pki.wrongClient), 'wrong-cert');
      const refused = await wrong
        .connect({ signal: AbortSignal.timeout(broker.kind === 'mosquitto' ? 20_000 : 3_000) })
        .catch((e: unknown) => e);
      if (broker.kind === 'mosquitto')
        expect(refused).toMatchObject({
          code: 'ERR_AIO_MQTT_CONNECT',
          retryable: false,
          message: expect.stringMatching(/rejected the TLS client certificate/),
        });
      // aedes' TLS server may close without a TLS alert: the session keeps retrying until aborted
      else expect(refused).toMatchObject({ code: expect.stringMatching(/MQTT_CONNECT|ABORTED/) });
      expect(wrong.state).toBe('closed');

      const sendError = await new TelemetrySender(wrong, 'refused/telemetry')
        .send({ x: 1 })
        .catch((e: unknown) => e);
      expect(sendError).toBeInstanceOf(ProtocolError);
      expect(sendError).toMatchObject({ kind: 'mqtt error', cause: { code: 'ERR_AIO_CLOSED' } });

      // the right certificate still works on the same broker
      const good = await connectedSession(broker, transport, pki, 'good-cert');
      const wire = await rawSubscriber(broker, transport, pki, 'accepted/#');
      await new TelemetrySender(good, 'accepted/telemetry').send({ x: 2 });
      const [accepted] = await wire.waitFor(1);
      expect(accepted?.payload.toString()).toBe('{"x":2}');
    });
});
