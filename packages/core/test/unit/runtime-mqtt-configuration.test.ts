import { describe, expect, it } from 'vitest';
import { isAioError, type ConfigError } from '@aio-connector/core';
import {
  parseAioMetadata,
  parseBrokerHost,
  parseDiagnostics,
  parseMqttConnectionConfiguration,
  parsePersistentVolumes,
  toLogLevel,
  unknownMqttConfigurationFields,
} from '../../src/runtime/mqtt-configuration.ts';

const valid = {
  host: 'aio-broker:18883',
  keepAliveSeconds: 10,
  maxInflightMessages: 10,
  protocol: 'mqtt',
  sessionExpirySeconds: 20,
  authentication: { method: 'sat', serviceAccountTokenSettings: { audience: 'aio-internal' } },
  tls: { mode: 'Enabled' },
};

function withField(field: string, value: unknown): string {
  const copy: [string, unknown][] = Object.entries(valid).filter(([name]) => name !== field);
  if (value !== undefined) copy.push([field, value]);
  return JSON.stringify(Object.fromEntries(copy));
}

function configErrorOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(isAioError(error) && error.code).toBe('ERR_AIO_CONFIG');
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('parseBrokerHost', () => {
  it('splits "<hostname>:<port>" and bracketed IPv6', () => {
    expect(parseBrokerHost('aio-broker:18883')).toEqual({ hostname: 'aio-broker', port: 18883 });
    expect(parseBrokerHost('10.0.0.1:1883')).toEqual({ hostname: '10.0.0.1', port: 1883 });
    expect(parseBrokerHost('[::1]:1883')).toEqual({ hostname: '::1', port: 1883 });
    expect(parseBrokerHost('[fe80::1%eth0]:8883')).toEqual({
      hostname: 'fe80::1%eth0',
      port: 8883,
    });
  });

  it('names the file, the field and the value for a host without a port', () => {
    const error = configErrorOf(() => parseBrokerHost('aio-broker'));
    expect(error.message).toBe(
      'MQTT_CONNECTION_CONFIGURATION: field "host" must be "<hostname>:<port>", found "aio-broker"',
    );
    expect(error.source).toBe('MQTT_CONNECTION_CONFIGURATION');
    expect(error.field).toBe('host');
  });

  it('rejects ports that are not numbers from 1 to 65535', () => {
    for (const host of [
      'aio-broker:abc',
      'aio-broker:',
      'aio-broker:0',
      'aio-broker:65536',
      'a:1.5',
    ]) {
      const error = configErrorOf(() => parseBrokerHost(host));
      expect(error.message).toBe(
        `MQTT_CONNECTION_CONFIGURATION: field "host" must end with a port number from 1 to 65535, found ${JSON.stringify(host)}`,
      );
      expect(error.field).toBe('host');
    }
  });

  it('rejects unbracketed IPv6, empty host names and non-strings', () => {
    expect(configErrorOf(() => parseBrokerHost('::1:1883')).message).toContain('found "::1:1883"');
    expect(configErrorOf(() => parseBrokerHost(':1883')).message).toContain('found ":1883"');
    expect(configErrorOf(() => parseBrokerHost('[::1]1883')).message).toContain(
      'or "[<IPv6>]:<port>"',
    );
    expect(configErrorOf(() => parseBrokerHost(1883)).message).toContain('found 1883');
  });
});

describe('parseMqttConnectionConfiguration', () => {
  it('reads every field of the contract', () => {
    expect(parseMqttConnectionConfiguration(JSON.stringify(valid))).toEqual({
      hostname: 'aio-broker',
      port: 18883,
      keepAliveSeconds: 10,
      maxInflightMessages: 10,
      sessionExpirySeconds: 20,
      protocol: 'mqtt',
      tlsMode: 'Enabled',
      authentication: valid.authentication,
    });
  });

  it('accepts protocol and tls.mode in any case, and a missing tls block as Disabled', () => {
    const config = parseMqttConnectionConfiguration(
      JSON.stringify({ ...valid, protocol: 'MQTT', tls: { mode: 'disabled' } }),
    );
    expect(config.protocol).toBe('mqtt');
    expect(config.tlsMode).toBe('Disabled');
    expect(parseMqttConnectionConfiguration(withField('tls', { mode: 'ENABLED' })).tlsMode).toBe(
      'Enabled',
    );
    expect(parseMqttConnectionConfiguration(withField('tls', undefined)).tlsMode).toBe('Disabled');
  });

  it('leaves absent optional numbers undefined', () => {
    const config = parseMqttConnectionConfiguration('{"host":"h:1"}');
    expect(config.keepAliveSeconds).toBeUndefined();
    expect(config.maxInflightMessages).toBeUndefined();
    expect(config.sessionExpirySeconds).toBeUndefined();
    expect(config.protocol).toBeUndefined();
  });

  it.each([
    ['tls', { mode: 'maybe' }, 'tls.mode', 'must be "Enabled" or "Disabled", found "maybe"'],
    ['tls', 'Enabled', 'tls', 'must be an object, found "Enabled"'],
    ['keepAliveSeconds', -1, 'keepAliveSeconds', 'must be an integer from 0 to 65535, found -1'],
    [
      'keepAliveSeconds',
      '10',
      'keepAliveSeconds',
      'must be an integer from 0 to 65535, found "10"',
    ],
    [
      'sessionExpirySeconds',
      0,
      'sessionExpirySeconds',
      'must be an integer from 1 to 4294967295, found 0',
    ],
    [
      'maxInflightMessages',
      0,
      'maxInflightMessages',
      'must be an integer from 1 to 65535, found 0',
    ],
    [
      'maxInflightMessages',
      1.5,
      'maxInflightMessages',
      'must be an integer from 1 to 65535, found 1.5',
    ],
    ['protocol', 'amqp', 'protocol', 'must be "mqtt", found "amqp"'],
    ['authentication', [], 'authentication', 'must be an object, found an array'],
  ])('rejects %s = %j naming the field', (field, value, errorField, text) => {
    const error = configErrorOf(() => parseMqttConnectionConfiguration(withField(field, value)));
    expect(error.message).toBe(`MQTT_CONNECTION_CONFIGURATION: field "${errorField}" ${text}`);
    expect(error.source).toBe('MQTT_CONNECTION_CONFIGURATION');
    expect(error.field).toBe(errorField);
  });

  it('rejects a missing host, bad JSON, an empty file and non-objects', () => {
    const missing = configErrorOf(() =>
      parseMqttConnectionConfiguration(withField('host', undefined)),
    );
    expect(missing.message).toBe(
      'MQTT_CONNECTION_CONFIGURATION: field "host" is missing; it must be "<hostname>:<port>"',
    );
    expect(missing.field).toBe('host');
    const bad = configErrorOf(() => parseMqttConnectionConfiguration('{"host": '));
    expect(bad.message).toMatch(/^MQTT_CONNECTION_CONFIGURATION is not valid JSON: /);
    expect(bad.source).toBe('MQTT_CONNECTION_CONFIGURATION');
    expect(configErrorOf(() => parseMqttConnectionConfiguration('  \n')).message).toBe(
      'MQTT_CONNECTION_CONFIGURATION is empty',
    );
    expect(configErrorOf(() => parseMqttConnectionConfiguration('[1]')).message).toBe(
      'MQTT_CONNECTION_CONFIGURATION must hold a JSON object, found an array',
    );
  });

  it('ignores unknown fields and reports them for debug logging', () => {
    const text = JSON.stringify({ ...valid, futureField: 1, another: {} });
    expect(parseMqttConnectionConfiguration(text).hostname).toBe('aio-broker');
    expect(unknownMqttConfigurationFields(text)).toEqual(['futureField', 'another']);
  });
});

describe('DIAGNOSTICS, AIO_METADATA, PERSISTENT_VOLUME_MOUNT_PATH', () => {
  it('maps log levels, including the .NET spellings', () => {
    expect(parseDiagnostics('{"logs":{"level":"trace"}}').logLevel).toBe('trace');
    expect(toLogLevel('Information')).toBe('info');
    expect(toLogLevel('WARNING')).toBe('warn');
    expect(toLogLevel('critical')).toBe('fatal');
    expect(toLogLevel('None')).toBe('silent');
    expect(parseDiagnostics('{}').logLevel).toBeUndefined();
    expect(parseDiagnostics('{"logs":{}}').logLevel).toBeUndefined();
  });

  it('rejects an unknown log level naming the file and field', () => {
    const error = configErrorOf(() => parseDiagnostics('{"logs":{"level":"loud"}}'));
    expect(error.message).toBe(
      'DIAGNOSTICS: field "logs.level" must be one of trace, debug, info, warn, error, fatal, silent, found "loud"',
    );
    expect(error.source).toBe('DIAGNOSTICS');
    expect(error.field).toBe('logs.level');
    expect(configErrorOf(() => parseDiagnostics('{"logs":"trace"}')).field).toBe('logs');
  });

  it('reads AIO_METADATA versions as strings', () => {
    expect(parseAioMetadata('{"aioMinVersion":"1.0","aioMaxVersion":"2.0"}')).toEqual({
      aioMinVersion: '1.0',
      aioMaxVersion: '2.0',
    });
    expect(configErrorOf(() => parseAioMetadata('{"aioMinVersion":1}')).message).toBe(
      'AIO_METADATA: field "aioMinVersion" must be a string, found 1',
    );
  });

  it('splits persistent volume paths on newlines', () => {
    expect(parsePersistentVolumes('/mnt/a\r\n\n  /mnt/b  \n')).toEqual(['/mnt/a', '/mnt/b']);
    expect(parsePersistentVolumes('')).toEqual([]);
  });
});
