import { describe, expect, it } from 'vitest';
import type { MqttClient } from '@aio-connector/core';
import { unsubscribeOrThrow } from '../../src/protocol/protocol-support.ts';

function client(unsubscribe: MqttClient['unsubscribe']): MqttClient {
  return {
    clientId: 'c',
    publish: async () => ({ reasonCode: 0 }),
    subscribe: async () => ({ reasonCode: 0 }),
    unsubscribe,
    onMessage: () => () => undefined,
  };
}

describe('unsubscribeOrThrow', () => {
  it('gives up after its timeout when the broker never answers (a stop must not hang)', async () => {
    const never = client(() => new Promise(() => undefined));
    const error: unknown = await unsubscribeOrThrow(never, 'a/b', 'cmd', 50).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({
      code: 'ERR_AIO_PROTOCOL_MQTT',
      message: "the broker did not answer the UNSUBSCRIBE from 'a/b' within 50 ms",
    });
  });

  it('reports a refused UNSUBSCRIBE and resolves an accepted one', async () => {
    await expect(
      unsubscribeOrThrow(
        client(async () => ({ reasonCode: 0 })),
        'a/b',
        undefined,
      ),
    ).resolves.toBeUndefined();
    await expect(
      unsubscribeOrThrow(
        client(async () => ({ reasonCode: 0x87 })),
        'a/b',
        undefined,
      ),
    ).rejects.toMatchObject({
      code: 'ERR_AIO_PROTOCOL_MQTT',
      message: expect.stringContaining('0x87'),
    });
  });
});
