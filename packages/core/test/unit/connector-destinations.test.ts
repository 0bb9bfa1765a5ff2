import { describe, expect, it } from 'vitest';
import { resolveDestinations } from '../../src/connector/destinations.ts';

const tokens = {
  assetName: 'oven',
  datasetName: 'temp',
  deviceName: 'd1',
  inboundEndpointName: 'ep',
};

describe('resolveDestinations', () => {
  it('applies defaults: QoS 1, no retain, 10 s expiry; maps Qos0/Keep/ttl', () => {
    expect(
      resolveDestinations(
        [
          { target: 'Mqtt', configuration: { topic: 'factory/{assetName}/{datasetName}' } },
          { target: 'Mqtt', configuration: { topic: 'x', qos: 'Qos0', retain: 'Keep', ttl: 90 } },
          { target: 'Mqtt', configuration: { topic: '/mqtt/machine/status', ttl: 0 } },
          { target: 'BrokerStateStore', configuration: { key: '{assetName}-latest' } },
        ],
        tokens,
        'asset "oven" dataset "temp"',
      ),
    ).toEqual([
      {
        target: 'Mqtt',
        topic: 'factory/oven/temp',
        qos: 1,
        retain: false,
        messageExpiryInSeconds: 10,
      },
      { target: 'Mqtt', topic: 'x', qos: 0, retain: true, messageExpiryInSeconds: 90 },
      {
        target: 'Mqtt',
        topic: '/mqtt/machine/status',
        qos: 1,
        retain: false,
        messageExpiryInSeconds: 10,
      },
      { target: 'BrokerStateStore', key: 'oven-latest' },
    ]);
  });

  it('uses the QoS default given (the .NET default is 0)', () => {
    const [d] = resolveDestinations([{ target: 'Mqtt', configuration: { topic: 't' } }], {}, 's', {
      qos: 0,
    });
    expect(d).toMatchObject({ qos: 0 });
  });

  it('reports bad destinations as ConfigError naming the source and field', () => {
    const cases: [unknown, RegExp][] = [
      [
        { target: 'Mqtt', configuration: {} },
        /destinations\[0\]\.configuration\.topic is required/,
      ],
      [
        { target: 'BrokerStateStore', configuration: {} },
        /destinations\[0\]\.configuration\.key is required/,
      ],
      [
        { target: 'Storage', configuration: { path: '/x' } },
        /Storage destinations are not supported/,
      ],
      [
        { target: 'Mqtt', configuration: { topic: 'a/+/b' } },
        /asset "oven" dataset "temp" destinations\[0\]\.configuration\.topic/,
      ],
      [{ target: 'Mqtt', configuration: { topic: 'a/{unknownToken}' } }, /unknownToken/],
    ];
    for (const [destination, message] of cases) {
      expect(() =>
        resolveDestinations([destination as never], tokens, 'asset "oven" dataset "temp"'),
      ).toThrow(
        expect.objectContaining({
          code: 'ERR_AIO_CONFIG',
          message: expect.stringMatching(message),
        }),
      );
    }
  });
});
