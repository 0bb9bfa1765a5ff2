// The protocol components across a broker restart: QoS 1 telemetry and commands in flight while
// the broker stops and starts again, with persistent sessions on both sides.
import { randomBytes } from 'node:crypto';
import type { IPublishPacket } from 'mqtt';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  CommandExecutor,
  CommandInvoker,
  MqttSession,
  ProtocolError,
  TelemetryReceiver,
  TelemetrySender,
  type ConnectionEvent,
} from '@aio-connector/core';
import {
  eventually,
  startRecordingProxy,
  startTestBroker,
  type RecordingProxy,
  type TestBroker,
} from '@aio-connector/testing';

const uniqueId = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

async function startBroker(): Promise<TestBroker> {
  const broker = await startTestBroker();
  onTestFinished(() => broker.close());
  return broker;
}

async function startProxy(broker: TestBroker): Promise<RecordingProxy> {
  const proxy = await startRecordingProxy(broker);
  onTestFinished(() => proxy.close());
  return proxy;
}

interface TrackedSession {
  readonly session: MqttSession;
  readonly events: ConnectionEvent[];
}

/** A persistent session (CleanStart false, session expiry 3600 s, the MqttSession defaults). */
async function connectedSession(
  target: { readonly host: string; readonly port: number },
  prefix: string,
): Promise<TrackedSession> {
  const session = new MqttSession(
    { hostname: target.host, port: target.port, clientId: uniqueId(prefix), useTls: false },
    { reconnect: { minDelayInMs: 50, maxDelayInMs: 400 } },
  );
  onTestFinished(() => session.close({ timeoutInMs: 2_000, endSession: true }));
  const events: ConnectionEvent[] = [];
  session.onConnectionChange((event) => events.push(event));
  await session.connect({ signal: AbortSignal.timeout(20_000) });
  return { session, events };
}

/** Resolves once the session noticed the outage and failed at least one reconnect attempt. */
async function retryingAgainstDownBroker(tracked: TrackedSession): Promise<void> {
  await eventually(
    () => {
      expect(tracked.events.filter((e) => e.type === 'disconnected').length).toBeGreaterThan(1);
    },
    { timeoutInMs: 20_000 },
  );
}

function brokerPublishes(proxy: RecordingProxy, topicPrefix: string): IPublishPacket[] {
  return proxy.packets
    .filter((p) => p.direction === 'broker-to-client' && p.packet.cmd === 'publish')
    .map((p) => p.packet as IPublishPacket)
    .filter((packet) => packet.topic.startsWith(topicPrefix));
}

describe('protocol components across a broker restart (integration)', () => {
  it('delivers every QoS 1 telemetry message sent before, during and after a restart', async () => {
    const broker = await startBroker();
    // the receiver goes through a recording proxy, to see which deliveries were redeliveries
    const proxy = await startProxy(broker);
    const sender = await connectedSession(broker, 'restart-sender');
    const receiver = await connectedSession(proxy, 'restart-receiver');

    const count = 60;
    const received: number[] = [];
    // Messages 10..19 are held unacknowledged until the broker is down, so the broker must
    // deliver them again after the restart.
    let releaseHeld!: () => void;
    const held = new Promise<void>((resolve) => {
      releaseHeld = resolve;
    });
    const telemetryReceiver = new TelemetryReceiver<{ i: number }>(
      receiver.session,
      'restart/{senderId}/telemetry',
      async ({ payload }) => {
        received.push(payload.i);
        if (payload.i >= 10 && payload.i < 20) await held;
      },
    );
    await telemetryReceiver.start();
    const telemetrySender = new TelemetrySender<{ i: number }>(
      sender.session,
      'restart/{senderId}/telemetry',
      // the message expiry outlasts the outage, so the broker does not discard queued messages
      { timeoutInMs: 120_000 },
    );

    const sends: Promise<void>[] = [];
    const send = (from: number, to: number): void => {
      for (let i = from; i < to; i++) sends.push(telemetrySender.send({ i }));
    };
    send(0, 20);
    await eventually(
      () => {
        expect(received).toContain(19);
      },
      { timeoutInMs: 20_000 },
    );

    await broker.stop();
    send(20, 40); // while the broker is down: queued by the sender's session
    releaseHeld(); // the receiver is done with 10..19, but cannot acknowledge them any more
    await Promise.all([retryingAgainstDownBroker(sender), retryingAgainstDownBroker(receiver)]);
    await broker.start();
    send(40, count); // while the sessions reconnect

    await expect(Promise.all(sends)).resolves.toHaveLength(count);
    await eventually(
      () => {
        expect(new Set(received).size).toBe(count);
      },
      { timeoutInMs: 30_000 },
    );
    expect([...new Set(received)].sort((a, b) => a - b)).toEqual(
      Array.from({ length: count }, (_, i) => i),
    );
    // Duplicates only come from QoS 1 redeliveries: every handler call is a PUBLISH the broker sent.
    const deliveries = brokerPublishes(proxy, 'restart/');
    expect(received).toHaveLength(deliveries.length);
    const duplicates = received.length - count;
    if (broker.kind === 'mosquitto') {
      // Mosquitto marks redeliveries with DUP: 10..19 (held unacknowledged) are among them, and
      // every duplicate the receiver saw is one of them. (aedes redelivers without the DUP flag.)
      const redelivered = deliveries.filter((packet) => packet.dup);
      const redeliveredValues = new Set(
        redelivered.map((packet) => (JSON.parse(packet.payload.toString()) as { i: number }).i),
      );
      for (let i = 10; i < 20; i++) expect(redeliveredValues).toContain(i);
      expect(duplicates).toBeLessThanOrEqual(redelivered.length);
      for (const value of new Set(received))
        if (received.filter((r) => r === value).length > 1)
          expect(redeliveredValues).toContain(value);
    } else expect(duplicates).toBeGreaterThanOrEqual(10);
    // persistent sessions: CleanStart false with a session expiry, on every (re)connection
    expect(proxy.connects().length).toBeGreaterThanOrEqual(2);
    for (const connect of proxy.connects()) {
      expect(connect.clean).toBe(false);
      expect(connect.properties?.sessionExpiryInterval).toBe(3600);
    }
    // the receiver's session (and its subscription) survived the restart
    expect(receiver.events.at(-1)).toEqual({ type: 'connected', sessionPresent: true });
    expect(sender.events.at(-1)).toMatchObject({ type: 'connected' });
    expect(receiver.session.state).toBe('connected');
  });

  it('completes a command in flight across a restart, executing it once (the redelivered request is answered from the cache)', async () => {
    const broker = await startBroker();
    const proxy = await startProxy(broker);
    const executor = await connectedSession(proxy, 'restart-executor');
    const invoker = await connectedSession(broker, 'restart-invoker');
    const executorId = executor.session.clientId;

    let executions = 0;
    let started!: () => void;
    const handlerStarted = new Promise<void>((resolve) => {
      started = resolve;
    });
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const commandExecutor = new CommandExecutor<{ order: string }, { order: string; ok: true }>(
      executor.session,
      'ship',
      'orders/{executorId}/ship',
      async ({ payload }) => {
        executions++;
        started();
        await released;
        return { payload: { order: payload.order, ok: true } };
      },
      { topicTokens: { executorId }, executionTimeoutInMs: 120_000 },
    );
    await commandExecutor.start();
    const commandInvoker = new CommandInvoker<{ order: string }, { order: string; ok: true }>(
      invoker.session,
      'ship',
      'orders/{executorId}/ship',
      { topicTokens: { executorId } },
    );

    // The timeout (and so the request's message expiry) outlasts the outage: the invoke completes.
    const invocation = commandInvoker.invoke({ order: 'o-1' }, { timeoutInMs: 120_000 });
    await handlerStarted;
    await broker.stop();
    release(); // the response is published while the broker is down: the session keeps it
    await Promise.all([retryingAgainstDownBroker(executor), retryingAgainstDownBroker(invoker)]);
    await broker.start();

    const response = await invocation;
    expect(response).toMatchObject({ status: 200, payload: { order: 'o-1', ok: true } });
    const correlation = Buffer.from(response.correlationData);
    // the broker delivers the unacknowledged request again; the executor answers it from its
    // cache without running the handler a second time
    await eventually(
      () => {
        const requests = brokerPublishes(proxy, 'orders/').filter((packet) =>
          correlation.equals(packet.properties?.correlationData ?? Buffer.alloc(0)),
        );
        expect(requests).toHaveLength(2);
        // (aedes redelivers without the DUP flag)
        if (broker.kind === 'mosquitto') expect(requests[1]?.dup).toBe(true);
        const answers = proxy.packets.filter(
          (p) =>
            p.direction === 'client-to-broker' &&
            p.packet.cmd === 'publish' &&
            p.packet.topic === response.topic &&
            correlation.equals(p.packet.properties?.correlationData ?? Buffer.alloc(0)),
        );
        expect(answers.length).toBeGreaterThanOrEqual(2);
      },
      { timeoutInMs: 20_000 },
    );
    expect(executions).toBe(1);

    // and the pair keeps working after the restart
    await expect(
      commandInvoker.invoke({ order: 'o-2' }, { timeoutInMs: 20_000 }),
    ).resolves.toMatchObject({ payload: { order: 'o-2', ok: true } });
  });

  it('fails an invoke whose timeout ends during the outage with a retryable timeout; a retry after the restart succeeds', async () => {
    const broker = await startBroker();
    const executor = await connectedSession(broker, 'restart-executor');
    const invoker = await connectedSession(broker, 'restart-invoker');
    const executorId = executor.session.clientId;
    const executed: string[] = [];
    const commandExecutor = new CommandExecutor<{ order: string }, { order: string }>(
      executor.session,
      'ship',
      'orders/{executorId}/ship',
      ({ payload }) => {
        executed.push(payload.order);
        return { payload };
      },
      { topicTokens: { executorId } },
    );
    await commandExecutor.start();
    const commandInvoker = new CommandInvoker<{ order: string }, { order: string }>(
      invoker.session,
      'ship',
      'orders/{executorId}/ship',
      { topicTokens: { executorId } },
    );
    await commandInvoker.start();

    // The invoker does not wait past its own timeout for a broker that is down: the caller gets a
    // retryable `timeout` and decides whether to retry. (The request itself stays queued in the
    // session and may still be delivered after the reconnect: commands must tolerate that.)
    await broker.stop();
    const error = await commandInvoker
      .invoke({ order: 'late' }, { timeoutInMs: 1_500 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({
      kind: 'timeout',
      isRemote: false,
      retryable: true,
      timeoutName: 'timeoutInMs',
      timeoutInMs: 2_000,
    });
    await broker.start();

    const retried = await commandInvoker.invoke({ order: 'retry' }, { timeoutInMs: 20_000 });
    expect(retried).toMatchObject({ status: 200, payload: { order: 'retry' } });
    expect(executed).toContain('retry');
    expect(executed.filter((order) => order !== 'late')).toEqual(['retry']);
  });
});
