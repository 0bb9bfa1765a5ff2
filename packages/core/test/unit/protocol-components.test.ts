import { describe, expect, it, onTestFinished } from 'vitest';
import {
  CommandExecutor,
  CommandInvoker,
  HybridLogicalClock,
  ProtocolError,
  TelemetryReceiver,
  TelemetrySender,
  createJsonSerializer,
  parseHlc,
  rawSerializer,
  type IncomingMessage,
  type MessageHandler,
  type MqttClient,
  type OutgoingMessage,
  type TelemetryMessage,
} from '@aio-connector/core';
import type { TimeSource } from '../../src/protocol/time-source.ts';

/** An in-memory broker: delivers each PUBLISH to every client with a matching subscription. */
class LoopbackBroker {
  readonly published: OutgoingMessage[] = [];
  readonly #clients = new Set<{ filters: Set<string>; handlers: Set<MessageHandler> }>();

  client(clientId: string): MqttClient & { readonly filters: Set<string> } {
    const state = { filters: new Set<string>(), handlers: new Set<MessageHandler>() };
    this.#clients.add(state);
    return {
      clientId,
      filters: state.filters,
      publish: async (message) => {
        this.published.push(message);
        setImmediate(() => {
          this.#deliver(message);
        });
        return { reasonCode: 0 };
      },
      subscribe: async (filter, { qos }) => {
        state.filters.add(filter);
        return { reasonCode: qos };
      },
      unsubscribe: async (filter) => {
        state.filters.delete(filter);
        return { reasonCode: 0 };
      },
      onMessage: (handler) => {
        state.handlers.add(handler);
        return () => state.handlers.delete(handler);
      },
    };
  }

  #deliver(message: OutgoingMessage): void {
    const { retain, ...rest } = message;
    const incoming: IncomingMessage = { ...rest, retain: retain ?? false };
    for (const client of this.#clients)
      if ([...client.filters].some((filter) => matches(filter, message.topic)))
        for (const handler of client.handlers) void handler(incoming);
  }
}

function matches(filter: string, topic: string): boolean {
  const f = filter.replace(/^\$share\/[^/]+\//, '').split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || (f[i] !== '+' && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}

/** A time source whose clock only moves when the test says so. */
class ManualTime implements TimeSource {
  #now = 1_755_676_800_000;
  readonly #timers = new Map<number, { due: number; callback: () => void }>();
  #id = 0;
  now(): number {
    return this.#now;
  }
  setTimeout(callback: () => void, ms: number): number {
    this.#timers.set(++this.#id, { due: this.#now + ms, callback });
    return this.#id;
  }
  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }
  advance(ms: number): void {
    this.#now += ms;
    for (const [id, timer] of [...this.#timers])
      if (timer.due <= this.#now) {
        this.#timers.delete(id);
        timer.callback();
      }
  }
  get pending(): number {
    return this.#timers.size;
  }
}

const names = (message: OutgoingMessage | undefined): string[] =>
  (message?.userProperties ?? []).map(([name]) => name);

async function eventually(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('CommandInvoker and CommandExecutor over a loopback broker', () => {
  it('round-trips a JSON command with the AIO request and response envelopes', async () => {
    const broker = new LoopbackBroker();
    const hlc = new HybridLogicalClock({ nodeId: 'node' });
    const executor = new CommandExecutor<{ a: number; b: number }, { sum: number }>(
      broker.client('calc-1'),
      'add',
      'calc/{executorId}/add',
      ({ payload, invokerClientId, userData }) => ({
        payload: { sum: payload.a + payload.b },
        userData: { echo: `${invokerClientId ?? ''}:${userData['trace'] ?? ''}` },
      }),
      { topicTokens: { executorId: 'calc-1' }, hlc },
    );
    await executor.start();
    onTestFinished(() => executor.stop());
    const invoker = new CommandInvoker<{ a: number; b: number }, { sum: number }>(
      broker.client('app'),
      'add',
      'calc/{executorId}/add',
      { hlc },
    );
    onTestFinished(() => invoker.stop());

    const response = await invoker.invoke(
      { a: 2, b: 3 },
      { topicTokens: { executorId: 'calc-1' }, timeoutInMs: 2_500, userData: { trace: 't1' } },
    );
    expect(response.payload).toEqual({ sum: 5 });
    expect(response.status).toBe(200);
    expect(response.executorId).toBe('calc-1');
    expect(response.userData['echo']).toBe('app:t1');

    const [request, reply] = broker.published;
    expect(request?.topic).toBe('calc/calc-1/add');
    expect(request?.responseTopic).toBe('clients/app/calc/calc-1/add');
    expect(request?.qos).toBe(1);
    expect(request?.messageExpiryInterval).toBe(3);
    expect(request?.correlationData?.byteLength).toBe(16);
    expect(request?.contentType).toBe('application/json');
    expect(request?.payloadFormatIndicator).toBe(1);
    expect(names(request)).toEqual([
      '__protVer',
      '$partition',
      '__srcId',
      '__invId',
      '__ts',
      'trace',
      '$high_priority',
    ]);
    expect(request?.userProperties?.slice(0, 4)).toEqual([
      ['__protVer', '1.0'],
      ['$partition', 'app'],
      ['__srcId', 'app'],
      ['__invId', 'app'],
    ]);
    expect(parseHlc(request?.userProperties?.[4]?.[1] ?? '').nodeId).toBe('node');
    expect(reply?.topic).toBe('clients/app/calc/calc-1/add');
    expect(reply?.correlationData).toEqual(request?.correlationData);
    expect(names(reply)).toEqual([
      '__stat',
      '__protVer',
      '__ts',
      '__srcId',
      'echo',
      '$high_priority',
    ]);
    expect(reply?.userProperties?.[0]).toEqual(['__stat', '200']);
    expect(new TextDecoder().decode(reply?.payload)).toBe('{"sum":5}');
  });

  it('reports an application error as a remote execution error with the handler message', async () => {
    const broker = new LoopbackBroker();
    const executor = new CommandExecutor(broker.client('svc'), 'fail', 'svc/fail', () => {
      throw new Error('disk full');
    });
    await executor.start();
    onTestFinished(() => executor.stop());
    const invoker = new CommandInvoker(broker.client('app'), 'fail', 'svc/fail');
    onTestFinished(() => invoker.stop());
    const error = await invoker.invoke({}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({
      kind: 'execution error',
      isRemote: true,
      statusCode: 500,
      message: 'disk full',
      isApplicationError: true,
    });
  });

  it('sends raw and empty payloads: no content type and PFI 0 for an empty body, bytes and content type back', async () => {
    const broker = new LoopbackBroker();
    const executor = new CommandExecutor<Uint8Array, Uint8Array>(
      broker.client('adr'),
      'getDevice',
      'akri/{ex:device}/getDevice',
      ({ payload, contentType }) => ({
        payload: new TextEncoder().encode(
          JSON.stringify({ bytes: payload.byteLength, contentType: contentType ?? null }),
        ),
      }),
      { requestSerializer: rawSerializer, responseSerializer: rawSerializer },
    );
    await executor.start();
    onTestFinished(() => executor.stop());
    const invoker = new CommandInvoker<Uint8Array, Uint8Array>(
      broker.client('connector'),
      'getDevice',
      'akri/{ex:device}/getDevice',
      {
        requestSerializer: rawSerializer,
        responseSerializer: rawSerializer,
        includeInvokerId: false,
      },
    );
    onTestFinished(() => invoker.stop());

    const empty = await invoker.invoke(new Uint8Array(), { topicTokens: { 'ex:device': 'd1' } });
    expect(broker.published[0]?.payload.byteLength).toBe(0);
    expect(broker.published[0]?.contentType).toBeUndefined();
    expect(broker.published[0]?.payloadFormatIndicator).toBeUndefined();
    expect(names(broker.published[0])).not.toContain('__invId');
    expect(JSON.parse(new TextDecoder().decode(empty.payload))).toEqual({
      bytes: 0,
      contentType: null,
    });
    expect(empty.contentType).toBe('application/octet-stream');

    const json = await invoker.invoke(new TextEncoder().encode('{"x":1}'), {
      topicTokens: { 'ex:device': 'd1' },
      contentType: 'application/json',
      payloadFormatIndicator: 1,
    });
    expect(JSON.parse(new TextDecoder().decode(json.payload))).toEqual({
      bytes: 7,
      contentType: 'application/json',
    });
  });

  it('answers an empty response with 204 and the invoker reads undefined', async () => {
    const broker = new LoopbackBroker();
    const executor = new CommandExecutor(broker.client('svc'), 'noop', 'svc/noop', () => ({
      payload: undefined,
    }));
    await executor.start();
    onTestFinished(() => executor.stop());
    const invoker = new CommandInvoker(broker.client('app'), 'noop', 'svc/noop', {
      responseTopicPrefix: 'replies',
    });
    onTestFinished(() => invoker.stop());
    const response = await invoker.invoke({ go: true });
    expect(response.status).toBe(204);
    expect(response.payload).toBeUndefined();
    expect(broker.published[0]?.responseTopic).toBe('replies/svc/noop');
  });

  it('times out on the injected clock with the rounded timeout, and cancels through the signal', async () => {
    const broker = new LoopbackBroker();
    const time = new ManualTime();
    const invoker = new CommandInvoker(broker.client('app'), 'slow', 'svc/slow', {
      timeSource: time,
    });
    onTestFinished(() => invoker.stop());

    const timedOut = invoker.invoke({}, { timeoutInMs: 2_500 }).catch((e: unknown) => e);
    await eventually(() => time.pending === 1, 'the response timer');
    expect(broker.published[0]?.messageExpiryInterval).toBe(3);
    time.advance(2_999);
    expect(time.pending).toBe(1);
    time.advance(1);
    expect(await timedOut).toMatchObject({ kind: 'timeout', isRemote: false, timeoutInMs: 3_000 });

    const controller = new AbortController();
    const cancelled = invoker.invoke({}, { signal: controller.signal }).catch((e: unknown) => e);
    await eventually(() => broker.published.length === 2, 'the second request');
    controller.abort();
    expect(await cancelled).toMatchObject({ kind: 'cancellation' });
    expect(time.pending).toBe(0);
  });

  it('rejects bad arguments before publishing anything', async () => {
    const broker = new LoopbackBroker();
    const invoker = new CommandInvoker(broker.client('app'), 'cmd', 'svc/{executorId}/cmd');
    for (const [options, property] of [
      [{ topicTokens: { executorId: 'e' }, timeoutInMs: 0 }, 'timeoutInMs'],
      [{}, 'executorId'],
      [{ topicTokens: { executorId: 'e' }, userData: { __mine: 'x' } }, 'userData'],
      [{ topicTokens: { executorId: 'e' }, cloudEvent: { source: '::::' } }, 'cloudEvent'],
    ] as const) {
      const error = await invoker.invoke({}, options).catch((e: unknown) => e);
      expect(error, property).toMatchObject({
        kind: 'invalid configuration',
        isShallow: true,
        propertyName: property,
      });
    }
    expect(broker.published).toHaveLength(0);
    expect(() => new CommandInvoker(broker.client('x'), '', 'a/b')).toThrow(
      expect.objectContaining({ propertyName: 'commandName' }),
    );
  });
});

describe('TelemetrySender and TelemetryReceiver over a loopback broker', () => {
  it('delivers payload, CloudEvent, tokens and sender id, through a shared subscription', async () => {
    const broker = new LoopbackBroker();
    const received: TelemetryMessage<{ t: number }>[] = [];
    const receiverClient = broker.client('rx');
    const receiver = new TelemetryReceiver<{ t: number }>(
      receiverClient,
      'factory/{ex:line}/{senderId}/telemetry',
      (message) => {
        received.push(message);
      },
      { shareName: 'workers' },
    );
    await receiver.start();
    onTestFinished(() => receiver.stop());
    expect([...receiverClient.filters]).toEqual(['$share/workers/factory/+/+/telemetry']);

    const sender = new TelemetrySender<{ t: number }>(
      broker.client('thermostat-1'),
      'factory/{ex:line}/{senderId}/telemetry',
      {
        topicTokens: { 'ex:line': 'line1' },
      },
    );
    await sender.send(
      { t: 21.5 },
      {
        cloudEvent: {
          source: 'ms-aio:thermostat-1',
          dataSchema: 'aio-sr://ns/temp:1',
          extensions: { aiodeviceref: 'ms-aio:u_e' },
        },
        userData: { site: 'north' },
        timeoutInMs: 4_200,
        persist: true,
      },
    );
    await eventually(() => received.length === 1, 'the telemetry');

    const sent = broker.published[0];
    expect(sent?.topic).toBe('factory/line1/thermostat-1/telemetry');
    expect(sent?.qos).toBe(1);
    expect(sent?.messageExpiryInterval).toBe(5);
    expect(names(sent)).toEqual([
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
      '__protVer',
      '__srcId',
      'aio-persistence',
    ]);
    const message = received[0];
    expect(message?.payload).toEqual({ t: 21.5 });
    expect(message?.senderId).toBe('thermostat-1');
    expect(message?.topicTokens).toEqual({ 'ex:line': 'line1', senderId: 'thermostat-1' });
    expect(message?.userData['site']).toBe('north');
    expect(message?.cloudEvent).toMatchObject({
      source: 'ms-aio:thermostat-1',
      type: 'ms.aio.telemetry',
      subject: 'factory/line1/thermostat-1/telemetry',
      dataSchema: 'aio-sr://ns/temp:1',
      dataContentType: 'application/json',
    });
  });

  it('merges the received __ts into the receiving clock and drops messages of another major version', async () => {
    const broker = new LoopbackBroker();
    const ahead = Date.now() + 30_000;
    const senderClock = new HybridLogicalClock({ nodeId: 'sender', now: () => ahead });
    const receiverClock = new HybridLogicalClock({ nodeId: 'receiver' });
    const received: unknown[] = [];
    const client = broker.client('rx');
    const receiver = new TelemetryReceiver(
      client,
      'data/{ex:x}',
      (m) => {
        received.push(m.payload);
      },
      { hlc: receiverClock },
    );
    await receiver.start();
    onTestFinished(() => receiver.stop());
    const sender = new TelemetrySender(broker.client('tx'), 'data/x', { hlc: senderClock });
    await sender.send({ n: 1 });
    await eventually(() => received.length === 1, 'the telemetry');
    expect(receiverClock.value.timestamp).toBeGreaterThanOrEqual(ahead);

    await client.publish({
      topic: 'data/x',
      payload: new TextEncoder().encode('{"n":2}'),
      qos: 1,
      userProperties: [['__protVer', '2.0']],
    });
    await client.publish({ topic: 'data/x', payload: new TextEncoder().encode('{"n":3}'), qos: 1 });
    await eventually(() => received.length === 2, 'the third message');
    expect(received).toEqual([{ n: 1 }, { n: 3 }]);
  });

  it('reports a refused PUBACK as an mqtt error', async () => {
    const client: MqttClient = {
      ...new LoopbackBroker().client('tx'),
      publish: async () => ({ reasonCode: 0x97, reasonString: 'quota exceeded' }),
    };
    const sender = new TelemetrySender(client, 'data/x', { serializer: createJsonSerializer() });
    await expect(sender.send(1)).rejects.toMatchObject({
      kind: 'mqtt error',
      isShallow: false,
      details: { reasonCode: 0x97 },
    });
  });
});
