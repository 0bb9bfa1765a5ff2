import { describe, expect, it } from 'vitest';
import { isAioError, isHttpError, parseContentType, type HttpResponse } from '@aio-connector/core';
import {
  dataPointValue,
  decodeRestBody,
  isJsonMediaType,
  type RestBody,
} from '@aio-connector/rest';

function response(body: string | Uint8Array, contentType?: string): HttpResponse {
  return {
    url: 'http://thermostat.local/api/x',
    status: 200,
    statusText: 'OK',
    headers: contentType === undefined ? {} : { 'content-type': contentType },
    contentType,
    mediaType: parseContentType(contentType)?.mediaType,
    body: typeof body === 'string' ? new TextEncoder().encode(body) : body,
    etag: undefined,
    lastModified: undefined,
    notModified: false,
  };
}

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}

describe('isJsonMediaType', () => {
  it.each([
    ['application/json', true],
    ['APPLICATION/JSON', true],
    ['application/problem+json', true],
    ['application/vnd.contoso.thermostat+json', true],
    ['text/json', false],
    ['text/plain', false],
    ['+json', false],
    [undefined, false],
  ])('%s → %s', (type, expected) => {
    expect(isJsonMediaType(type)).toBe(expected);
  });
});

describe('decodeRestBody', () => {
  it('parses a JSON body and keeps its bytes as received', () => {
    const text = '{ "currentTemperature" : 71.5 }';
    const body = decodeRestBody(
      response(text, 'application/json; charset=utf-8'),
      'GET',
      'forward',
    );
    expect(body).toMatchObject({
      kind: 'json',
      value: { currentTemperature: 71.5 },
      mediaType: 'application/json',
    });
    expect(new TextDecoder().decode((body as { bytes: Uint8Array }).bytes)).toBe(text);
  });

  it('treats an empty body as nothing to forward', () => {
    expect(decodeRestBody(response('', 'application/json'), 'GET', 'reject')).toEqual({
      kind: 'empty',
    });
  });

  it('rejects malformed JSON and JSON that is not UTF-8 with ERR_AIO_HTTP_INVALID_JSON', () => {
    const malformed = thrown(() =>
      decodeRestBody(response('{"a": 1', 'application/json'), 'GET', 'forward'),
    );
    expect(isAioError(malformed) && malformed.code).toBe('ERR_AIO_HTTP_INVALID_JSON');
    expect(isAioError(malformed) && malformed.retryable).toBe(false);
    expect((malformed as Error).message).toMatch(
      /^GET http:\/\/thermostat\.local\/api\/x answered 200 with content type "application\/json" but a body that is not valid JSON: /,
    );
    const latin1 = thrown(() =>
      decodeRestBody(
        response(new Uint8Array([0x22, 0xe9, 0x22]), 'application/json'),
        'GET',
        'forward',
      ),
    );
    expect((latin1 as Error).message).toContain('not valid UTF-8');
  });

  it('sniffs JSON when there is no content type, else takes the bytes as octet-stream', () => {
    expect(decodeRestBody(response('[1,2]'), 'GET', 'forward')).toMatchObject({
      kind: 'json',
      value: [1, 2],
      mediaType: 'application/json',
    });
    expect(decodeRestBody(response('hello'), 'GET', 'forward')).toMatchObject({
      kind: 'bytes',
      contentType: 'application/octet-stream',
    });
  });

  it('forwards other bodies with their content type, or rejects them with nonJson: reject', () => {
    expect(decodeRestBody(response('<x/>', 'application/xml'), 'GET', 'forward')).toMatchObject({
      kind: 'bytes',
      contentType: 'application/xml',
    });
    const rejected = thrown(() =>
      decodeRestBody(response('<x/>', 'application/xml'), 'POST', 'reject'),
    );
    expect(isHttpError(rejected) && rejected.code).toBe('ERR_AIO_HTTP_CONTENT_TYPE');
    expect(isHttpError(rejected) && rejected.retryable).toBe(false);
    expect((rejected as Error).message).toBe(
      'POST http://thermostat.local/api/x answered 200 with content type "application/xml"; the connector is set to accept JSON only (nonJson: reject)',
    );
  });
});

describe('dataPointValue', () => {
  const json = (value: unknown): RestBody => ({
    kind: 'json',
    value,
    bytes: new Uint8Array(),
    mediaType: 'application/json',
  });

  it('unwraps an object whose only member is named like the data point', () => {
    expect(dataPointValue('currentTemperature', json({ currentTemperature: 72 }))).toBe(72);
    expect(dataPointValue('t', json({ t: { value: 1, unit: 'C' } }))).toEqual({
      value: 1,
      unit: 'C',
    });
  });

  it('keeps any other JSON value as it is', () => {
    expect(
      dataPointValue('currentTemperature', json({ currentTemperature: 72, unit: 'F' })),
    ).toEqual({
      currentTemperature: 72,
      unit: 'F',
    });
    expect(dataPointValue('t', json({ other: 1 }))).toEqual({ other: 1 });
    expect(dataPointValue('t', json(21.5))).toBe(21.5);
    expect(dataPointValue('t', json([{ t: 1 }]))).toEqual([{ t: 1 }]);
    expect(dataPointValue('t', json(null))).toBeNull();
  });

  it('gives null for an empty body and the text of a text body', () => {
    expect(dataPointValue('t', { kind: 'empty' })).toBeNull();
    expect(
      dataPointValue('t', {
        kind: 'bytes',
        bytes: new TextEncoder().encode('21.5 °C'),
        contentType: 'text/plain; charset=utf-8',
      }),
    ).toBe('21.5 °C');
  });

  it('decodes a text body in the charset its content type names (not only UTF-8)', () => {
    const latin1 = new Uint8Array([0x32, 0x31, 0x2e, 0x35, 0x20, 0xb0, 0x43]); // "21.5 °C"
    expect(
      dataPointValue('t', {
        kind: 'bytes',
        bytes: latin1,
        contentType: 'text/plain; charset=ISO-8859-1',
      }),
    ).toBe('21.5 °C');
    // bytes that are not text in the declared (or default UTF-8) charset are still refused
    expect(
      isAioError(
        thrown(() =>
          dataPointValue('t', { kind: 'bytes', bytes: latin1, contentType: 'text/plain' }),
        ),
      ),
    ).toBe(true);
    expect(
      isAioError(
        thrown(() =>
          dataPointValue('t', {
            kind: 'bytes',
            bytes: latin1,
            contentType: 'text/plain; charset=no-such-charset',
          }),
        ),
      ),
    ).toBe(true);
  });

  it('refuses binary bodies, which cannot go into a JSON message', () => {
    const bytes: RestBody = {
      kind: 'bytes',
      bytes: new Uint8Array([1, 2]),
      contentType: 'application/octet-stream',
    };
    const error = thrown(() =>
      dataPointValue('t', bytes, response(new Uint8Array([1, 2]), 'application/octet-stream')),
    );
    expect(isHttpError(error) && error.code).toBe('ERR_AIO_HTTP_CONTENT_TYPE');
    expect((error as Error).message).toContain('data point "t" needs JSON or text');
    expect(isAioError(thrown(() => dataPointValue('t', bytes)))).toBe(true);
  });
});
