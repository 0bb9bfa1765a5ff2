import { describe, expect, it } from 'vitest';
import {
  ProtocolError,
  TopicPattern,
  isValidTopic,
  isValidTopicNamespace,
  isValidTopicPattern,
} from '@aio-connector/core';

function configError(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError);
    const e = error as ProtocolError;
    expect(e.kind).toBe('invalid configuration');
    expect(e.isShallow).toBe(true);
    expect(e.isRemote).toBe(false);
    return e;
  }
  throw new Error('expected an invalid configuration error');
}

describe('topic pattern validation (topic-structure.md)', () => {
  it('accepts literals, recognized tokens and ex: custom tokens', () => {
    for (const ok of [
      'vehicles/{executorId}/command/{commandName}',
      'sensors/{ex:dataPath}/{senderId}/telemetry',
      'akri/connector/resources/{ex:connectorClientId}/{ex:deviceName}/getDevice',
      'adr/dtmi:ms:adr:SchemaRegistry;2/put',
      'a',
    ])
      expect(isValidTopicPattern(ok), ok).toBe(true);
  });

  it('rejects empty levels, wildcards, braces inside labels, quotes, spaces and a leading $', () => {
    for (const bad of [
      '',
      '/leading',
      'trailing/',
      'double//slash',
      'mock/{in/valid}/test',
      'mock/+/test',
      'mock/#',
      'mo{ck',
      'say"hi"',
      'has space',
      '$sys/topic',
      'mock/{}/x',
      'mock/{ex:}/x',
      'mock/{ex:a1}/x',
      'mock/{9lives}/x',
      'caf\u00e9',
    ])
      expect(isValidTopicPattern(bad), bad).toBe(false);
  });

  it('validates namespaces and replacement values: / allowed inside only', () => {
    expect(isValidTopicNamespace('region/quad12')).toBe(true);
    expect(isValidTopicNamespace('dtmi:test:MyModel;1')).toBe(true);
    for (const bad of [
      '',
      '/ns',
      'ns/',
      'a//b',
      'invalid/{modelId}',
      'Invalid#Model',
      'a+b',
      'a b',
    ])
      expect(isValidTopicNamespace(bad), bad).toBe(false);
    expect(isValidTopic('clients/c1/mock/test')).toBe(true);
    expect(isValidTopic('//invalid')).toBe(false);
    expect(isValidTopic('$share/g/x')).toBe(false);
  });
});

describe('TopicPattern', () => {
  it('applies resident tokens, wildcards the others, and prepends the namespace', () => {
    const pattern = new TopicPattern('vehicles/{executorId}/command/{commandName}', {
      namespace: 'region/quad12',
      tokens: { commandName: 'reset' },
    });
    expect(pattern.filter).toBe('region/quad12/vehicles/+/command/reset');
    expect(pattern.unresolvedTokens).toEqual(['executorId']);
    expect(pattern.resolve({ executorId: 'delivery-14' })).toBe(
      'region/quad12/vehicles/delivery-14/command/reset',
    );
  });

  it('lets resident values win over transient ones', () => {
    const pattern = new TopicPattern('a/{ex:x}/{ex:y}', { tokens: { 'ex:x': 'resident' } });
    expect(pattern.resolve({ 'ex:x': 'other', 'ex:y': 'transient' })).toBe('a/resident/transient');
  });

  it('matches received topics back to token values, including multi-level replacements', () => {
    const pattern = new TopicPattern('mock/{modelId}/test/{ex:foobar}', {
      namespace: 'this/is/a/namespace',
      tokens: { modelId: 'dtmi:test:MyModel;1' },
    });
    expect(pattern.match('this/is/a/namespace/mock/dtmi:test:MyModel;1/test/MyValue')).toEqual({
      modelId: 'dtmi:test:MyModel;1',
      'ex:foobar': 'MyValue',
    });
    expect(pattern.match('mock/dtmi:test:MyModel;1/test/MyValue')).toBeUndefined();
    expect(pattern.match('this/is/a/namespace/mock/other/test/MyValue')).toBeUndefined();
    expect(pattern.match('this/is/a/namespace/mock/dtmi:test:MyModel;1/test/a/b')).toBeUndefined();

    const deep = new TopicPattern('sensors/{ex:dataPath}/{senderId}', {
      tokens: { 'ex:dataPath': 'west/building22' },
    });
    expect(deep.filter).toBe('sensors/west/building22/+');
    expect(deep.match('sensors/west/building22/sensor-1')).toEqual({
      'ex:dataPath': 'west/building22',
      senderId: 'sensor-1',
    });
  });

  it('requires a repeated token to capture the same value', () => {
    const pattern = new TopicPattern('mock/{executorId}/{executorId}/test');
    expect(pattern.filter).toBe('mock/+/+/test');
    expect(pattern.match('mock/a/a/test')).toEqual({ executorId: 'a' });
    expect(pattern.match('mock/a/b/test')).toBeUndefined();
  });

  it('names the option, the namespace or the token in configuration errors', () => {
    const empty = configError(() => new TopicPattern('', { patternName: 'requestTopicPattern' }));
    expect(empty.propertyName).toBe('requestTopicPattern');
    expect(empty.propertyValue).toBe('');

    const namespace = configError(
      () => new TopicPattern('a/b', { namespace: 'invalid/{modelId}' }),
    );
    expect(namespace.propertyName).toBe('topicNamespace');
    expect(namespace.propertyValue).toBe('invalid/{modelId}');

    const resident = configError(
      () =>
        new TopicPattern('mock/{modelId}/test', {
          tokens: { modelId: 'Invalid#Model' },
          commandName: 'c',
        }),
    );
    expect(resident.propertyName).toBe('modelId');
    expect(resident.propertyValue).toBe('Invalid#Model');
    expect(resident.commandName).toBe('c');

    const pattern = new TopicPattern('mock/{executorId}/test');
    const missing = configError(() => pattern.resolve());
    expect(missing.propertyName).toBe('executorId');
    const invalid = configError(() => pattern.resolve({ executorId: 'a/' }));
    expect(invalid.propertyName).toBe('executorId');
    expect(invalid.propertyValue).toBe('a/');
  });
});
