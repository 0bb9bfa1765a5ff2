import { describe, expect, it } from 'vitest';
import {
  isAioError,
  resolveDestinationKey,
  resolveDestinationTopic,
  type ConfigError,
} from '@aio-connector/core';

function problem(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(isAioError(error) && error.code).toBe('ERR_AIO_CONFIG');
    return (error as ConfigError).message;
  }
  throw new Error('expected an error');
}

const tokens = {
  deviceName: 'oven',
  inboundEndpointName: 'rest_api',
  assetName: 'oven-1',
  datasetName: 'temperature',
  kubernetesNamespace: 'azure-iot-operations',
};

describe('resolveDestinationTopic', () => {
  it('uses a topic without tokens verbatim', () => {
    expect(resolveDestinationTopic('mqtt/machine/asset1/status')).toBe(
      'mqtt/machine/asset1/status',
    );
  });

  it('replaces every known token, whole levels or inside a level, values may span levels', () => {
    expect(
      resolveDestinationTopic(
        '{kubernetesNamespace}/{deviceName}_{inboundEndpointName}/{assetName}/{datasetName}',
        tokens,
      ),
    ).toBe('azure-iot-operations/oven_rest_api/oven-1/temperature');
    expect(resolveDestinationTopic('site/{assetName}', { assetName: 'hall/oven' })).toBe(
      'site/hall/oven',
    );
  });

  it('rejects a leading slash by default, as the .NET and Rust SDKs do, and keeps it when allowed', () => {
    expect(problem(() => resolveDestinationTopic('/mqtt/machine/status'))).toBe(
      'destination configuration.topic "/mqtt/machine/status": starts with "/" (an empty first level; set allowLeadingSlash to accept it)',
    );
    expect(resolveDestinationTopic('/mqtt/machine/status', {}, { allowLeadingSlash: true })).toBe(
      '/mqtt/machine/status',
    );
    expect(problem(() => resolveDestinationTopic('/', {}, { allowLeadingSlash: true }))).toContain(
      'no level after "/"',
    );
    expect(
      problem(() => resolveDestinationTopic('//a', {}, { allowLeadingSlash: true })),
    ).toContain('contains an empty level');
  });

  it('rejects what a topic name cannot be', () => {
    const cases: [string, string][] = [
      ['', 'the topic is empty'],
      ['  ', 'the topic is empty'],
      ['$SYS/x', 'must not start with "$"'],
      ['a/b/', 'contains an empty level'],
      ['a//b', 'contains an empty level'],
      ['a/+/b', 'level "+" contains the wildcard "+"'],
      ['a/#', 'level "#" contains the wildcard "#"'],
      ['a/b c', 'level "b c" contains the character U+0020'],
      ['a/température', 'level "température" contains "é"'],
      ['a/{b', 'level "{b" contains "{"'],
    ];
    for (const [topic, expected] of cases)
      expect(
        problem(() => resolveDestinationTopic(topic, tokens)),
        topic,
      ).toContain(expected);
  });

  it('rejects unknown tokens, tokens without a value here, and values that break the topic', () => {
    expect(problem(() => resolveDestinationTopic('a/{site}', tokens))).toContain(
      'unknown token "{site}" (known: {deviceName}, {inboundEndpointName}',
    );
    expect(problem(() => resolveDestinationTopic('a/{eventName}', tokens))).toContain(
      'token "{eventName}" has no value here',
    );
    expect(problem(() => resolveDestinationTopic('a/{}', tokens))).toContain('empty token "{}"');
    expect(problem(() => resolveDestinationTopic('a/{assetName}', { assetName: 'x y' }))).toContain(
      'token "{assetName}" value "x y" contains the character U+0020',
    );
    expect(problem(() => resolveDestinationTopic('a/{assetName}', { assetName: 'x/' }))).toContain(
      'would make an empty level',
    );
    expect(problem(() => resolveDestinationTopic('{assetName}/x', { assetName: '$x' }))).toContain(
      'the resolved topic "$x/x" starts with "$"',
    );
  });

  it('names the source and field it is given', () => {
    expect(
      problem(() =>
        resolveDestinationTopic('a/#', tokens, {
          source: 'asset "oven-1" dataset "temperature"',
          field: 'destinations[0].configuration.topic',
        }),
      ),
    ).toBe(
      'asset "oven-1" dataset "temperature" destinations[0].configuration.topic "a/#": level "#" contains the wildcard "#"',
    );
  });

  it('checks its arguments', () => {
    expect(() => resolveDestinationTopic('a', { assetName: 1 as unknown as string })).toThrow(
      TypeError,
    );
    expect(() =>
      resolveDestinationTopic('a', {}, { allowLeadingSlash: 'yes' as unknown as boolean }),
    ).toThrow(TypeError);
  });
});

describe('resolveDestinationKey', () => {
  it('replaces tokens and allows any character', () => {
    expect(resolveDestinationKey('{assetName}:{datasetName} latest', tokens)).toBe(
      'oven-1:temperature latest',
    );
    expect(resolveDestinationKey('RestThermostatKey')).toBe('RestThermostatKey');
  });

  it('rejects an empty key and unresolved tokens', () => {
    expect(problem(() => resolveDestinationKey(''))).toBe(
      'destination configuration.key "": the key is empty',
    );
    expect(problem(() => resolveDestinationKey('{streamName}', tokens))).toContain(
      'token "{streamName}" has no value here',
    );
    expect(problem(() => resolveDestinationKey('{assetName}', { assetName: '' }))).toContain(
      'token "{assetName}" is empty',
    );
  });
});
