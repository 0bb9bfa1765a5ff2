import { randomBytes } from 'node:crypto';
import { describe, expect, it, onTestFinished } from 'vitest';
import { MqttSession, type IncomingMessage } from '@aio-connector/core';
import {
  eventually,
  startRecordingProxy,
  startSubscriber,
  startTestBroker,
} from '@aio-connector/testing';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('MqttSession acknowledgements (integration)', () => {
  it('acknowledges QoS 1 messages when all handlers settle, in receive order, without stalling', async () => {
    const broker = await startTestBroker();
    onTestFinished(() => broker.close());
    const proxy = await startRecordingProxy(broker);
    onTestFinished(() => proxy.close());
    const session = new MqttSession({
      hostname: proxy.host,
      port: proxy.port,
      clientId: `acks-${randomBytes(4).toString('hex')}`,
      useTls: false,
    });
    onTestFinished(() => {
      session.destroy();
    });
    await session.connect();

    const gates = new Map<string, ReturnType<typeof deferred>>();
    const seenBySecondHandler: string[] = [];
    session.onMessage((message: IncomingMessage) => {
      const gate = deferred();
      gates.set(message.topic, gate);
      return gate.promise;
    });
    session.onMessage((message) => {
      seenBySecondHandler.push(message.topic);
    });
    await session.subscribe('acks/#', { qos: 1 });

    const publisher = await startSubscriber(broker.url, 'unused/#');
    onTestFinished(() => publisher.close());
    for (const name of ['one', 'two', 'three'])
      await publisher.client.publishAsync(`acks/${name}`, name, { qos: 1 });
    await eventually(() => {
      expect(gates.size).toBe(3);
    });
    expect(seenBySecondHandler).toEqual(['acks/one', 'acks/two', 'acks/three']);

    const delivered = proxy.packets
      .filter((p) => p.direction === 'broker-to-client' && p.packet.cmd === 'publish')
      .map((p) => (p.packet as { messageId: number }).messageId);
    const pubacks = () =>
      proxy.packets
        .filter((p) => p.direction === 'client-to-broker' && p.packet.cmd === 'puback')
        .map((p) => (p.packet as { messageId: number }).messageId);

    // a pending handler does not stall the connection: our own QoS 1 publish still completes
    await expect(
      session.publish({ topic: 'other/x', payload: new Uint8Array([1]), qos: 1 }),
    ).resolves.toMatchObject({ reasonCode: expect.any(Number) });

    gates.get('acks/three')!.resolve();
    gates.get('acks/two')!.resolve();
    // give the (wrong) acknowledgements time to show up if they were sent early
    await session.publish({ topic: 'other/y', payload: new Uint8Array([2]), qos: 1 });
    expect(pubacks()).toEqual([]);

    gates.get('acks/one')!.resolve();
    await eventually(() => {
      expect(pubacks()).toEqual(delivered);
    });
    expect(delivered).toHaveLength(3);
  });

  it('acknowledges a message whose handler throws or rejects, and one without handlers', async () => {
    const broker = await startTestBroker();
    onTestFinished(() => broker.close());
    const proxy = await startRecordingProxy(broker);
    onTestFinished(() => proxy.close());
    const session = new MqttSession({
      hostname: proxy.host,
      port: proxy.port,
      clientId: `acks-${randomBytes(4).toString('hex')}`,
      useTls: false,
    });
    onTestFinished(() => {
      session.destroy();
    });
    await session.connect();
    const remove = session.onMessage(() => {
      throw new Error('handler bug');
    });
    session.onMessage(() => Promise.reject(new Error('async handler bug')));
    await session.subscribe('fail/#', { qos: 1 });
    const publisher = await startSubscriber(broker.url, 'unused/#');
    onTestFinished(() => publisher.close());
    await publisher.client.publishAsync('fail/a', 'a', { qos: 1 });
    remove();
    await publisher.client.publishAsync('fail/b', 'b', { qos: 1 });
    await eventually(() => {
      expect(
        proxy.packets.filter(
          (p) => p.direction === 'client-to-broker' && p.packet.cmd === 'puback',
        ),
      ).toHaveLength(2);
    });
  });
});
