import { describe, expect, it } from 'vitest';
import {
  ProtocolError,
  cloudEventToUserProperties,
  formatCloudEventTime,
  isCloudEventContentType,
  isRfc3339,
  isUriReference,
  parseCloudEvent,
} from '@aio-connector/core';

const context = {
  defaultType: 'ms.aio.telemetry',
  topic: 'factory/line1',
  contentType: 'application/json',
  now: Date.UTC(2026, 7, 20, 10, 11, 12, 987),
};

describe('CloudEvent attribute syntax', () => {
  it('checks URI-references per RFC 3986', () => {
    for (const ok of [
      'ms-aio:device/api/env',
      'aio://cluster/oven',
      'myEventSource',
      'a/b?c#d',
      'dtmi:test:x;1',
      '//host/p',
      'http://[::1]:80/x',
      'a%20b',
    ])
      expect(isUriReference(ok), ok).toBe(true);
    for (const bad of [
      '::::',
      'a b',
      'x#y#z',
      'a:b/c'.replace('a:', ':a:'),
      '%zz',
      'http://h/[x]',
      'caf\u00e9',
    ])
      expect(isUriReference(bad), bad).toBe(false);
    expect(isUriReference('note/absence/of/scheme', { absolute: true })).toBe(false);
    expect(isUriReference('aio-sr://ns/name:1.0', { absolute: true })).toBe(true);
  });

  it('checks RFC 3339 times, including calendar ranges', () => {
    for (const ok of [
      '1955-11-12T22:04:00Z',
      '2024-02-29T23:59:60Z',
      '2026-08-20T10:11:12.5+02:00',
      '2026-08-20t10:11:12z',
    ])
      expect(isRfc3339(ok), ok).toBe(true);
    for (const bad of [
      '11/12/1955 22:04:00 UTC',
      '2023-02-29T00:00:00Z',
      '2026-13-01T00:00:00Z',
      '2026-08-20T24:00:00Z',
      '2026-08-20 10:11:12Z',
      '2026-08-20T10:11:12',
    ])
      expect(isRfc3339(bad), bad).toBe(false);
    expect(formatCloudEventTime(new Date('2026-08-20T10:11:12.987Z'))).toBe('2026-08-20T10:11:12Z');
  });

  it('checks media types', () => {
    expect(isCloudEventContentType('application/json')).toBe(true);
    expect(isCloudEventContentType('application/cloudevents+json; charset=utf-8')).toBe(true);
    expect(isCloudEventContentType('non.conforming')).toBe(false);
    expect(isCloudEventContentType('Application/JSON')).toBe(false);
  });
});

describe('cloudEventToUserProperties', () => {
  it('fills the defaults and keeps the wire order', () => {
    const properties = cloudEventToUserProperties({ source: 'ms-aio:thermostat' }, context);
    expect(properties.map(([name]) => name)).toEqual([
      'specversion',
      'id',
      'type',
      'source',
      'time',
      'subject',
    ]);
    const map = Object.fromEntries(properties);
    expect(map).toMatchObject({
      specversion: '1.0',
      type: 'ms.aio.telemetry',
      source: 'ms-aio:thermostat',
      time: '2026-08-20T10:11:12Z',
      subject: 'factory/line1',
    });
    expect(map['id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('sends given attributes as they are, a Date at second precision, and extensions last', () => {
    const properties = cloudEventToUserProperties(
      {
        source: 'ms-aio:dev_ep/api',
        type: 'DataSet/thermostat',
        id: 'fixed',
        time: new Date('2026-08-20T10:11:12.999Z'),
        subject: 'asset/dataset',
        dataSchema: 'aio-sr://DefaultSRNamespace/8695A113:1.0',
        extensions: { aiodeviceref: 'ms-aio:uuid_ep', aioassetref: 'ms-aio:asset-uuid' },
      },
      context,
    );
    expect(properties).toEqual([
      ['specversion', '1.0'],
      ['id', 'fixed'],
      ['type', 'DataSet/thermostat'],
      ['source', 'ms-aio:dev_ep/api'],
      ['time', '2026-08-20T10:11:12Z'],
      ['subject', 'asset/dataset'],
      ['dataschema', 'aio-sr://DefaultSRNamespace/8695A113:1.0'],
      ['aiodeviceref', 'ms-aio:uuid_ep'],
      ['aioassetref', 'ms-aio:asset-uuid'],
    ]);
  });

  it('rejects invalid attributes as invalid configuration of cloudEvent', () => {
    const cases: [Record<string, unknown>, string | undefined][] = [
      [{ source: '::::' }, undefined],
      [{ source: '' }, undefined],
      [{ source: 's', type: '' }, undefined],
      [{ source: 's', id: '' }, undefined],
      [{ source: 's', specVersion: '' }, undefined],
      [{ source: 's', subject: '' }, undefined],
      [{ source: 's', dataSchema: '' }, undefined],
      [{ source: 's', dataSchema: 'relative/path' }, undefined],
      [{ source: 's', time: '11/12/1955 22:04:00 UTC' }, undefined],
      [{ source: 's', time: new Date('nope') }, undefined],
      [{ source: 's', extensions: { 'Bad-Name': 'x' } }, undefined],
      [{ source: 's', extensions: { source: 'x' } }, undefined],
      [{ source: 's' }, 'non.conforming'],
    ];
    for (const [init, contentType] of cases) {
      const run = () =>
        cloudEventToUserProperties(init as never, {
          ...context,
          contentType: contentType ?? context.contentType,
        });
      expect(run, JSON.stringify(init)).toThrow(ProtocolError);
      try {
        run();
      } catch (error) {
        expect((error as ProtocolError).kind).toBe('invalid configuration');
        expect((error as ProtocolError).propertyName).toBe('cloudEvent');
        expect((error as ProtocolError).isShallow).toBe(true);
      }
    }
  });
});

describe('parseCloudEvent', () => {
  const valid: [string, string][] = [
    ['specversion', '1.0'],
    ['id', 'id-1'],
    ['type', 'DataSet'],
    ['source', 'ms-aio:dev'],
    ['time', '1955-11-12T22:04:00Z'],
    ['subject', 'asset/ds'],
    ['dataschema', 'aio-sr://ns/name:1'],
  ];

  it('round-trips what cloudEventToUserProperties writes', () => {
    const written = cloudEventToUserProperties(
      { source: 'ms-aio:dev', dataSchema: 'aio-sr://ns/n:1' },
      context,
    );
    const event = parseCloudEvent(written, 'application/json');
    expect(event).toMatchObject({
      specVersion: '1.0',
      source: 'ms-aio:dev',
      type: 'ms.aio.telemetry',
      dataSchema: 'aio-sr://ns/n:1',
      subject: 'factory/line1',
      dataContentType: 'application/json',
    });
  });

  it('returns undefined without CloudEvent properties', () => {
    expect(parseCloudEvent([['custom', 'x']], 'application/json')).toBeUndefined();
    expect(parseCloudEvent(undefined, undefined)).toBeUndefined();
  });

  it('rejects invalid events naming the attribute', () => {
    const replace = (name: string, value: string | undefined): [string, string][] =>
      value === undefined
        ? valid.filter(([n]) => n !== name)
        : valid.map(([n, v]) => [n, n === name ? value : v]);
    const cases: [[string, string][], string | undefined, string][] = [
      [replace('specversion', '0.707'), 'application/json', 'specversion'],
      [replace('specversion', undefined), 'application/json', 'specversion'],
      [replace('id', ''), 'application/json', 'id'],
      [replace('type', undefined), 'application/json', 'type'],
      [replace('source', '::::'), 'application/json', 'source'],
      [replace('time', 'yesterday'), 'application/json', 'time'],
      [replace('subject', ''), 'application/json', 'subject'],
      [replace('dataschema', 'note/absence/of/scheme'), 'application/json', 'dataschema'],
      [valid, 'non.conforming', 'datacontenttype'],
    ];
    for (const [properties, contentType, header] of cases) {
      try {
        parseCloudEvent(properties, contentType);
        throw new Error(`accepted an invalid ${header}`);
      } catch (error) {
        expect((error as ProtocolError).kind, header).toBe('invalid header');
        expect((error as ProtocolError).headerName).toBe(header);
      }
    }
  });
});
