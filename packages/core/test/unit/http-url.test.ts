import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  displayUrl,
  parseHttpAddress,
  resolveHttpDataSource,
} from '@aio-connector/core';

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError && error.code === 'ERR_AIO_CONFIG') return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('parseHttpAddress', () => {
  it('accepts http: and https: URLs', () => {
    expect(parseHttpAddress('http://thermostat:8080').origin).toBe('http://thermostat:8080');
    expect(parseHttpAddress(' https://10.0.0.5/base/ ').href).toBe('https://10.0.0.5/base/');
    expect(parseHttpAddress('https://[::1]:8443').hostname).toBe('[::1]');
  });

  it.each([
    ['opc.tcp://plc:4840', 'http: or https:'],
    ['tcp-service.azure-iot-operations.svc.cluster.local:80', 'http: or https:'],
    ['not a url', 'absolute http: or https: URL'],
    ['', 'absolute http: or https: URL'],
    ['http://h/?x=1', 'must not have a query'],
    ['http://h/#top', 'must not have a fragment'],
  ])('refuses %j with a ConfigError naming the field', (address, problem) => {
    const error = configError(() => parseHttpAddress(address, { source: 'device d endpoint e' }));
    expect(error.field).toBe('address');
    expect(error.source).toBe('device d endpoint e');
    expect(error.message).toContain(problem);
  });

  it('refuses credentials in the address without repeating them', () => {
    const error = configError(() => parseHttpAddress('https://admin:hunter2@h:8443'));
    expect(error.field).toBe('address');
    expect(error.message).not.toContain('hunter2');
    expect(error.message).toContain("endpoint's authentication");
  });

  it('names a value of the wrong type', () => {
    const error = configError(() => parseHttpAddress(42 as unknown as string));
    expect(error.message).toContain('found 42');
  });
});

describe('resolveHttpDataSource', () => {
  it.each([
    ['http://h:8080', '/api/sensor/env', 'http://h:8080/api/sensor/env'],
    ['http://h:8080', 'api/sensor/env', 'http://h:8080/api/sensor/env'],
    ['http://h:8080/', '/api/x?unit=C&n=1', 'http://h:8080/api/x?unit=C&n=1'],
    ['http://h:8080', '', 'http://h:8080/'],
    ['http://h:8080', '?q=1', 'http://h:8080/?q=1'],
    ['http://h:8080', '/api/x#section', 'http://h:8080/api/x'],
    ['http://h:8080/base', '/api/x', 'http://h:8080/base/api/x'],
    ['http://h:8080/base/', 'api/x', 'http://h:8080/base/api/x'],
    ['http://h:8080/base', '', 'http://h:8080/base'],
    ['http://h:8080/base', '?q=1', 'http://h:8080/base?q=1'],
    ['http://h:8080/base', 'http://h:8080/other', 'http://h:8080/other'],
    ['https://h', 'https://h:443/x#f', 'https://h/x'],
    ['http://h:8080', '/a b', 'http://h:8080/a%20b'],
  ])('%s + %j = %s', (address, dataSource, expected) => {
    expect(resolveHttpDataSource(address, dataSource).href).toBe(expected);
  });

  it('accepts a URL object as the address', () => {
    expect(resolveHttpDataSource(new URL('http://h:1/p'), 'q').href).toBe('http://h:1/p/q');
  });

  it.each([
    ['http://other:8080/api', "endpoint's origin http://h:8080"],
    ['https://h:8080/api', "endpoint's origin"],
    ['http://h:8081/api', "endpoint's origin"],
    ['//other/api', "endpoint's origin"],
    ['ftp://h:8080/file', "endpoint's origin"],
    ['http://u:secret@h:8080/api', 'must not carry credentials'],
  ])('refuses %j with a ConfigError on field dataSource', (dataSource, problem) => {
    const error = configError(() => resolveHttpDataSource('http://h:8080', dataSource));
    expect(error.field).toBe('dataSource');
    expect(error.message).toContain(problem);
    expect(error.message).not.toContain('secret');
  });

  it('refuses a dataSource that is not a string', () => {
    const error = configError(() => resolveHttpDataSource('http://h', null as unknown as string));
    expect(error.field).toBe('dataSource');
  });

  it('checks the address too', () => {
    expect(configError(() => resolveHttpDataSource('mqtt://h', '/x')).field).toBe('address');
  });
});

describe('displayUrl', () => {
  it('strips credentials and fragments and redacts secret-looking query values', () => {
    expect(displayUrl('https://u:p@h/x?api_key=abc&n=1#frag')).toBe(
      'https://h/x?api_key=%5Bredacted%5D&n=1',
    );
    expect(displayUrl(new URL('http://h/x?access_token=t&sig=s&page=2'))).toBe(
      'http://h/x?access_token=%5Bredacted%5D&sig=%5Bredacted%5D&page=2',
    );
    expect(displayUrl('http://h/plain?unit=C')).toBe('http://h/plain?unit=C');
    expect(displayUrl('not a url with https://u:p@h')).toBe('not a url with https://[redacted]@h');
  });
});
