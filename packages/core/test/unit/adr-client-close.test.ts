import { describe, expect, it } from 'vitest';
import {
  AdrClient,
  type MqttClient,
  type OutgoingMessage,
  type PublishResult,
} from '@aio-connector/core';

/** A client whose broker went away after the subscriptions were made: UNSUBSCRIBE waits for it. */
function brokerAwayAfterStart() {
  const unsubscribes: string[] = [];
  const client: MqttClient = {
    clientId: 'connector-1',
    publish: (_message: OutgoingMessage) => new Promise<PublishResult>(() => undefined),
    subscribe: async () => ({ reasonCode: 1 }),
    unsubscribe: (filter) => {
      unsubscribes.push(filter);
      return new Promise(() => undefined);
    },
    onMessage: () => () => undefined,
  };
  return { client, unsubscribes };
}

describe('AdrClient close', () => {
  it('close() returns within its timeout when the broker does not answer the unsubscribes', async () => {
    const away = brokerAwayAfterStart();
    const adr = new AdrClient(away.client, { timeoutInMs: 1_000 });
    await adr.start();
    const closed = adr.close().then(() => 'closed' as const);
    const outcome = await Promise.race([
      closed,
      new Promise<'still closing'>((resolve) => {
        setTimeout(() => {
          resolve('still closing');
        }, 10_000).unref();
      }),
    ]);
    expect(outcome).toBe('closed');
    // it did try to remove its notification subscriptions
    expect(away.unsubscribes).toEqual(
      expect.arrayContaining([
        'akri/connector/resources/telemetry/connector-1/+/+/deviceUpdateEvent',
        'akri/connector/resources/telemetry/connector-1/+/+/assetUpdateEvent',
      ]),
    );
  });
});
