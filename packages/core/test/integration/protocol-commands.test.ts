// Command behaviour through a real broker: invoker timeouts against a slow executor, execution
// timeouts, shared subscription groups, and the executor's duplicate-request cache driven by a raw
// MQTT client that re-sends a request with the same correlation data.
import { randomBytes } from 'node:crypto';
import { connectAsync, type IPublishPacket, type MqttClient as RawClient } from 'mqtt';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  CommandExecutor,
  CommandInvoker,
  MqttSession,
  ProtocolError,
  type CommandResponse,
} from '@aio-connector/core';
import {
  eventually,
  startSubscriber,
  startTestBroker,
  type TestBroker,
} from '@aio-connector/testing';

const uniqueId = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

async function startBroker(): Promise<TestBroker> {
  const broker = await startTestBroker();
  onTestFinished(() => broker.close());
  return broker;
}

async function connectedSession(broker: TestBroker, prefix: string): Promise<MqttSession> {
  const session = new MqttSession(
    { hostname: broker.host, port: broker.port, clientId: uniqueId(prefix), useTls: false },
    { reconnect: { minDelayInMs: 50, maxDelayInMs: 500 } },
  );
  onTestFinished(() => session.close({ timeoutInMs: 2_000, endSession: true }));
  await session.connect({ signal: AbortSignal.timeout(20_000) });
  return session;
}

async function rawClient(broker: TestBroker, prefix: string): Promise<RawClient> {
  const client = await connectAsync(broker.url, {
    protocolVersion: 5,
    clientId: uniqueId(prefix),
    reconnectPeriod: 0,
    connectTimeout: 10_000,
  });
  onTestFinished(() => client.endAsync(true));
  return client;
}

function userProperty(packet: IPublishPacket, name: string): string | undefined {
  const value = packet.properties?.userProperties?.[name];
  return Array.isArray(value) ? value[0] : value;
}

describe('commands through a real broker (integration)', () => {
  it('an invoke whose executor is slower than its timeout fails with timeout; the next invoke works', async () => {
    const broker = await startBroker();
    const executorSession = await connectedSession(broker, 'slow-executor');
    const invokerSession = await connectedSession(broker, 'invoker');
    const executorId = executorSession.clientId;
    const seen: string[] = [];
    const cancelled: string[] = [];
    const executor = new CommandExecutor<{ step: string }, { step: string }>(
      executorSession,
      'work',
      'jobs/{executorId}/work',
      async ({ payload }, { signal }) => {
        seen.push(payload.step);
        if (payload.step === 'slow')
          // longer than the invoker waits: ends only when the executor cancels it at the expiry
          await new Promise<void>((resolve) => {
            signal.addEventListener(
              'abort',
              () => {
                cancelled.push(payload.step);
                resolve();
              },
              { once: true },
            );
          });
        return { payload: { step: `${payload.step} done` } };
      },
      { topicTokens: { executorId }, executionTimeoutInMs: 60_000 },
    );
    await executor.start();
    const responses = await startSubscriber(broker.url, `clients/${invokerSession.clientId}/#`);
    onTestFinished(() => responses.close());
    const invoker = new CommandInvoker<{ step: string }, { step: string }>(
      invokerSession,
      'work',
      'jobs/{executorId}/work',
      { topicTokens: { executorId } },
    );

    const started = performance.now();
    const error = await invoker
      .invoke({ step: 'slow' }, { timeoutInMs: 1_000 })
      .catch((e: unknown) => e);
    const waited = performance.now() - started;
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({
      kind: 'timeout',
      code: 'ERR_AIO_PROTOCOL_TIMEOUT',
      isRemote: false,
      retryable: true,
      timeoutName: 'timeoutInMs',
      timeoutInMs: 1_000,
      commandName: 'work',
    });
    expect(waited).toBeGreaterThanOrEqual(950);
    expect(seen).toEqual(['slow']);
    // the executor cancels the handler when the request expires, and sends nothing for it
    await eventually(() => {
      expect(cancelled).toEqual(['slow']);
    });

    const response = await invoker.invoke({ step: 'fast' }, { timeoutInMs: 20_000 });
    expect(response).toMatchObject({ status: 200, payload: { step: 'fast done' } });
    expect(seen).toEqual(['slow', 'fast']);
    const [onWire] = await responses.waitFor(1);
    expect(responses.messages).toHaveLength(1);
    expect(onWire?.correlationData).toEqual(Buffer.from(response.correlationData));
  });

  it('a handler that outlives the execution timeout is answered 408: a remote timeout error', async () => {
    const broker = await startBroker();
    const executorSession = await connectedSession(broker, 'executor');
    const invokerSession = await connectedSession(broker, 'invoker');
    const executor = new CommandExecutor<{ n: number }, { n: number }>(
      executorSession,
      'crunch',
      'crunch/{executorId}',
      async ({ payload }, { signal }) => {
        if (payload.n > 0)
          await new Promise((resolve) => {
            signal.addEventListener('abort', resolve, { once: true });
          });
        return { payload };
      },
      { topicTokens: { executorId: executorSession.clientId }, executionTimeoutInMs: 300 },
    );
    await executor.start();
    const invoker = new CommandInvoker<{ n: number }, { n: number }>(
      invokerSession,
      'crunch',
      'crunch/{executorId}',
      { topicTokens: { executorId: executorSession.clientId }, timeoutInMs: 20_000 },
    );
    const error = await invoker.invoke({ n: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({
      kind: 'timeout',
      isRemote: true,
      statusCode: 408,
      timeoutName: 'ExecutionTimeout',
      timeoutInMs: 300,
    });
    await expect(invoker.invoke({ n: 0 })).resolves.toMatchObject({ payload: { n: 0 } });
  });

  it('two executors in a shared subscription group both receive work', async (context) => {
    const broker = await startBroker();
    if (broker.kind === 'aedes') {
      // aedes announces sharedSubscriptionAvailable = false and refuses $share filters (0x9E)
      const session = await connectedSession(broker, 'shared');
      const refused = new CommandExecutor(
        session,
        'square',
        'math/square',
        () => ({ payload: 0 }),
        {
          shareName: 'calculators',
        },
      );
      await expect(refused.start()).rejects.toMatchObject({
        kind: 'mqtt error',
        cause: { code: 'ERR_AIO_MQTT_SUBSCRIBE', details: { reasonCode: 0x9e } },
      });
      context.skip('aedes does not support MQTT 5 shared subscriptions ($share/...)');
    }
    const sessions = await Promise.all([
      connectedSession(broker, 'shared-a'),
      connectedSession(broker, 'shared-b'),
    ]);
    const executedBy: string[] = [];
    for (const session of sessions) {
      const executor = new CommandExecutor<{ i: number }, { i: number; by: string }>(
        session,
        'square',
        'math/{ex:service}/square',
        ({ payload }) => {
          executedBy.push(session.clientId);
          return { payload: { i: payload.i * payload.i, by: session.clientId } };
        },
        { shareName: 'calculators', topicTokens: { 'ex:service': 'math' } },
      );
      expect(executor.subscriptionFilter).toBe('$share/calculators/math/math/square');
      await executor.start();
    }
    const invokerSession = await connectedSession(broker, 'invoker');
    const invoker = new CommandInvoker<{ i: number }, { i: number; by: string }>(
      invokerSession,
      'square',
      'math/{ex:service}/square',
      { topicTokens: { 'ex:service': 'math' }, timeoutInMs: 20_000 },
    );
    const count = 20;
    const results: CommandResponse<{ i: number; by: string }>[] = [];
    // sequential invokes, so the broker's distribution (round robin for Mosquitto) is visible
    for (let i = 0; i < count; i++) results.push(await invoker.invoke({ i }));

    expect(results.map((r) => r.payload.i)).toEqual(Array.from({ length: count }, (_, i) => i * i));
    for (const result of results) expect(result.executorId).toBe(result.payload.by);
    // each request was executed once, by one member of the group
    expect(executedBy).toHaveLength(count);
    const perExecutor = sessions.map(
      (session) => executedBy.filter((id) => id === session.clientId).length,
    );
    expect(perExecutor[0]).toBeGreaterThan(0);
    expect(perExecutor[1]).toBeGreaterThan(0);
    expect(perExecutor[0]! + perExecutor[1]!).toBe(count);
  });

  it('executes a re-sent request (same correlation data) once and answers it twice from the cache', async () => {
    const broker = await startBroker();
    const executorSession = await connectedSession(broker, 'executor');
    let executions = 0;
    const executor = new CommandExecutor<{ a: number; b: number }, { sum: number; run: number }>(
      executorSession,
      'add',
      'dedup/{executorId}/add',
      ({ payload }) => {
        executions++;
        return { payload: { sum: payload.a + payload.b, run: executions } };
      },
      { topicTokens: { executorId: executorSession.clientId } },
    );
    await executor.start();

    const raw = await rawClient(broker, 'raw-invoker');
    const responses: IPublishPacket[] = [];
    raw.on('message', (_topic, _payload, packet) => responses.push(packet));
    const responseTopic = `dedup/responses/${raw.options.clientId ?? 'raw'}`;
    await raw.subscribeAsync(`${responseTopic}/#`, { qos: 1 });
    const correlationData = randomBytes(16);
    const send = (topic: string): Promise<unknown> =>
      raw.publishAsync(
        `dedup/${executorSession.clientId}/add`,
        Buffer.from(JSON.stringify({ a: 20, b: 22 })),
        {
          qos: 1,
          properties: {
            contentType: 'application/json',
            payloadFormatIndicator: true,
            messageExpiryInterval: 30,
            responseTopic: topic,
            correlationData,
            userProperties: { __protVer: '1.0', __srcId: raw.options.clientId ?? 'raw' },
          },
        },
      );

    await send(`${responseTopic}/a`);
    await send(`${responseTopic}/a`);
    await eventually(() => {
      expect(responses).toHaveLength(2);
    });
    expect(executions).toBe(1);
    for (const response of responses) {
      expect(response.topic).toBe(`${responseTopic}/a`);
      expect(Buffer.from(response.properties?.correlationData ?? [])).toEqual(correlationData);
      expect(userProperty(response, '__stat')).toBe('200');
      expect(userProperty(response, '__srcId')).toBe(executorSession.clientId);
      expect(JSON.parse(response.payload.toString())).toEqual({ sum: 42, run: 1 });
    }

    // the same correlation data with another response topic is another request: it runs again
    await send(`${responseTopic}/b`);
    await eventually(() => {
      expect(responses).toHaveLength(3);
    });
    expect(executions).toBe(2);
    expect(responses[2]?.topic).toBe(`${responseTopic}/b`);
    expect(JSON.parse(responses[2]!.payload.toString())).toEqual({ sum: 42, run: 2 });
  });
});
