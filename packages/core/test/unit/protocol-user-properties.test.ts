import { describe, expect, it } from 'vitest';
import type { ProtocolError } from '@aio-connector/core';
import {
  createJsonSerializer,
  getUserProperty,
  isSupportedProtocolVersion,
  parseProtocolVersion,
  protocolVersion,
  rawSerializer,
  reservedProperties,
  supportedMajorProtocolVersions,
  userDataOf,
} from '@aio-connector/core';

describe('reserved user properties and protocol versions', () => {
  it('names the reserved properties as the AIO SDKs do', () => {
    expect(reservedProperties).toMatchObject({
      timestamp: '__ts',
      status: '__stat',
      statusMessage: '__stMsg',
      isApplicationError: '__apErr',
      invalidPropertyName: '__propName',
      invalidPropertyValue: '__propVal',
      protocolVersion: '__protVer',
      supportedMajorProtocolVersions: '__supProtMajVer',
      requestProtocolVersion: '__requestProtVer',
      sourceId: '__srcId',
      invokerClientId: '__invId',
      partition: '$partition',
      highPriority: '$high_priority',
    });
    expect(Object.isFrozen(reservedProperties)).toBe(true);
    expect(protocolVersion).toBe('1.0');
    expect(supportedMajorProtocolVersions).toEqual([1]);
  });

  it('reads a missing version as 1.0 and rejects unparsable or unsupported ones', () => {
    expect(parseProtocolVersion(undefined)).toEqual({ major: 1, minor: 0 });
    expect(parseProtocolVersion('1.7')).toEqual({ major: 1, minor: 7 });
    expect(parseProtocolVersion('this is not a valid protocol version')).toBeUndefined();
    expect(parseProtocolVersion('1')).toBeUndefined();
    expect(parseProtocolVersion('1.0.0')).toBeUndefined();
    expect(isSupportedProtocolVersion(undefined)).toBe(true);
    expect(isSupportedProtocolVersion('1.9')).toBe(true);
    expect(isSupportedProtocolVersion('123456.0')).toBe(false);
    expect(isSupportedProtocolVersion('x')).toBe(false);
  });

  it('reads the first occurrence of a property and separates user data from reserved names', () => {
    const properties: [string, string][] = [
      ['__ts', '001755676800123:00000:n'],
      ['site', 'north'],
      ['site', 'south'],
      ['__srcId', 'c1'],
      ['$partition', 'c1'],
    ];
    expect(getUserProperty(properties, 'site')).toBe('north');
    expect(getUserProperty(properties, 'missing')).toBeUndefined();
    expect(userDataOf(properties)).toEqual({ site: 'north', $partition: 'c1' });
  });
});

describe('serializers', () => {
  const json = createJsonSerializer<{ t: number } | undefined>();

  it('JSON: application/json with PFI 1, and undefined as an empty payload without content type', () => {
    const out = json.serialize({ t: 21.5 });
    expect(new TextDecoder().decode(out.payload)).toBe('{"t":21.5}');
    expect(out.contentType).toBe('application/json');
    expect(out.payloadFormatIndicator).toBe(1);
    const empty = json.serialize(undefined);
    expect(empty.payload.byteLength).toBe(0);
    expect(empty.contentType).toBeUndefined();
    expect(empty.payloadFormatIndicator).toBe(0);
    expect(json.deserialize(new Uint8Array(0), undefined, undefined)).toBeUndefined();
  });

  it('JSON: accepts json content types and refuses others as an invalid Content Type header', () => {
    const bytes = new TextEncoder().encode('{"t":1}');
    for (const type of [
      undefined,
      '',
      'application/json',
      'application/json; charset=utf-8',
      'application/cloudevents+json',
    ])
      expect(json.deserialize(bytes, type, 1)).toEqual({ t: 1 });
    try {
      json.deserialize(bytes, 'application/protobuf', 0);
      throw new Error('accepted protobuf');
    } catch (error) {
      expect((error as ProtocolError).kind).toBe('invalid header');
      expect((error as ProtocolError).headerName).toBe('Content Type');
      expect((error as ProtocolError).headerValue).toBe('application/protobuf');
    }
    expect(() =>
      json.deserialize(new TextEncoder().encode('{nope'), 'application/json', 1),
    ).toThrow(expect.objectContaining({ kind: 'invalid payload' }));
  });

  it('raw: bytes pass through as application/octet-stream with PFI 0; empty has no content type', () => {
    const bytes = new Uint8Array([1, 2, 3]);
    expect(rawSerializer.serialize(bytes)).toEqual({
      payload: bytes,
      contentType: 'application/octet-stream',
      payloadFormatIndicator: 0,
    });
    expect(rawSerializer.serialize(new Uint8Array(0)).contentType).toBeUndefined();
    expect(rawSerializer.deserialize(bytes, 'anything/at-all', 1)).toBe(bytes);
    expect(() => rawSerializer.serialize('text' as never)).toThrow(
      expect.objectContaining({ kind: 'invalid payload' }),
    );
  });
});
