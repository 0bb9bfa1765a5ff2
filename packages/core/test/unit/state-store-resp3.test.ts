import { describe, expect, it } from 'vitest';
import {
  StateStoreServiceError,
  decodeResp3,
  encodeDelRequest,
  encodeDeleteNotification,
  encodeGetRequest,
  encodeKeyNotifyRequest,
  encodeResp3,
  encodeSetNotification,
  encodeSetRequest,
  encodeVdelRequest,
  isAioError,
  parseDelResponse,
  parseGetResponse,
  parseKeyNotifyResponse,
  parseNotification,
  parseRequest,
  parseSetResponse,
  parseVdelResponse,
  stateStoreServiceErrorKindOf,
  stateStoreServiceErrorMessages,
} from '@aio-connector/core';

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (data: Uint8Array) => Buffer.from(data).toString('latin1');

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return isAioError(error) ? error.code : `not an AioError: ${String(error)}`;
  }
  return 'no error';
}

describe('state store RESP3 request encoders', () => {
  it('encodes SET with the element count including NX / NEX / PX', () => {
    expect(text(encodeSetRequest('testkey', 'testvalue'))).toBe(
      '*3\r\n$3\r\nSET\r\n$7\r\ntestkey\r\n$9\r\ntestvalue\r\n',
    );
    expect(text(encodeSetRequest('testkey', 'testvalue', { condition: 'onlyIfNotSet' }))).toBe(
      '*4\r\n$3\r\nSET\r\n$7\r\ntestkey\r\n$9\r\ntestvalue\r\n$2\r\nNX\r\n',
    );
    expect(
      text(encodeSetRequest('testkey', 'testvalue', { condition: 'onlyIfEqualOrNotSet' })),
    ).toBe('*4\r\n$3\r\nSET\r\n$7\r\ntestkey\r\n$9\r\ntestvalue\r\n$3\r\nNEX\r\n');
    expect(text(encodeSetRequest('testkey', 'testvalue', { expiresInMs: 10 }))).toBe(
      '*5\r\n$3\r\nSET\r\n$7\r\ntestkey\r\n$9\r\ntestvalue\r\n$2\r\nPX\r\n$2\r\n10\r\n',
    );
    expect(
      text(encodeSetRequest('key', 'value', { condition: 'onlyIfNotSet', expiresInMs: 1000 })),
    ).toBe('*6\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n$2\r\nNX\r\n$2\r\nPX\r\n$4\r\n1000\r\n');
    expect(text(encodeSetRequest('key', 'value', { condition: 'always', expiresInMs: 1000 }))).toBe(
      '*5\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n$2\r\nPX\r\n$4\r\n1000\r\n',
    );
    expect(text(encodeSetRequest('', ''))).toBe('*3\r\n$3\r\nSET\r\n$0\r\n\r\n$0\r\n\r\n');
  });

  it('encodes GET, DEL, VDEL and KEYNOTIFY [STOP]', () => {
    expect(text(encodeGetRequest('testkey'))).toBe('*2\r\n$3\r\nGET\r\n$7\r\ntestkey\r\n');
    expect(text(encodeDelRequest('testkey'))).toBe('*2\r\n$3\r\nDEL\r\n$7\r\ntestkey\r\n');
    expect(text(encodeVdelRequest('testkey', 'testvalue'))).toBe(
      '*3\r\n$4\r\nVDEL\r\n$7\r\ntestkey\r\n$9\r\ntestvalue\r\n',
    );
    expect(text(encodeKeyNotifyRequest('SOMEKEY'))).toBe(
      '*2\r\n$9\r\nKEYNOTIFY\r\n$7\r\nSOMEKEY\r\n',
    );
    expect(text(encodeKeyNotifyRequest('SOMEKEY', { stop: true }))).toBe(
      '*3\r\n$9\r\nKEYNOTIFY\r\n$7\r\nSOMEKEY\r\n$4\r\nSTOP\r\n',
    );
    expect(text(encodeKeyNotifyRequest('SOMEKEY', { stop: false }))).toBe(
      '*2\r\n$9\r\nKEYNOTIFY\r\n$7\r\nSOMEKEY\r\n',
    );
  });

  it('sends strings as UTF-8 and bytes untouched, CRLF inside values included', () => {
    expect([...encodeGetRequest('é')].slice(-4)).toEqual([0xc3, 0xa9, 13, 10]);
    const value = Uint8Array.of(0, 13, 10, 255, 13, 10);
    const encoded = encodeSetRequest(Uint8Array.of(1, 2), value);
    expect(text(encoded)).toBe('*3\r\n$3\r\nSET\r\n$2\r\n\x01\x02\r\n$6\r\n\x00\r\n\xff\r\n\r\n');
    expect(parseRequest(encoded).args[1]).toEqual(value);
  });

  it('validates arguments with TypeError / RangeError', () => {
    expect(() => encodeGetRequest(42 as unknown as string)).toThrow(TypeError);
    expect(() => encodeSetRequest('k', null as unknown as string)).toThrow(TypeError);
    expect(() =>
      encodeSetRequest('k', 'v', { condition: 'NX' as unknown as 'onlyIfNotSet' }),
    ).toThrow(TypeError);
    expect(() => encodeSetRequest('k', 'v', { expiresInMs: '10' as unknown as number })).toThrow(
      TypeError,
    );
    for (const expiresInMs of [0, -5, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) {
      expect(() => encodeSetRequest('k', 'v', { expiresInMs })).toThrow(RangeError);
    }
    expect(() => encodeKeyNotifyRequest('k', { stop: 1 as unknown as boolean })).toThrow(TypeError);
  });
});

describe('state store RESP3 notifications', () => {
  it('encodes and parses SET and DELETE notifications', () => {
    expect(text(encodeSetNotification('abc'))).toBe(
      '*4\r\n$6\r\nNOTIFY\r\n$3\r\nSET\r\n$5\r\nVALUE\r\n$3\r\nabc\r\n',
    );
    expect(text(encodeDeleteNotification())).toBe('*2\r\n$6\r\nNOTIFY\r\n$6\r\nDELETE\r\n');
    expect(
      parseNotification(bytes('*4\r\n$6\r\nNOTIFY\r\n$3\r\nSET\r\n$5\r\nVALUE\r\n$3\r\nabc\r\n')),
    ).toEqual({
      operation: 'SET',
      value: bytes('abc'),
    });
    expect(parseNotification(bytes('*2\r\n$6\r\nNOTIFY\r\n$6\r\nDELETE\r\n'))).toEqual({
      operation: 'DELETE',
    });
    const binary = Uint8Array.of(13, 10, 0, 42);
    expect(parseNotification(encodeSetNotification(binary))).toEqual({
      operation: 'SET',
      value: binary,
    });
  });

  it('rejects notifications of the wrong shape with a parse error', () => {
    for (const bad of [
      '*1\r\n$6\r\nNOTIFY\r\n',
      '*2\r\n$9\r\nNotNOTIFY\r\n$6\r\nDELETE\r\n',
      '*2\r\n$6\r\nNOTIFY\r\n$7\r\nUNKNOWN\r\n',
      '*3\r\n$6\r\nNOTIFY\r\n$6\r\nDELETE\r\n$10\r\nExtraStuff\r\n',
      '*5\r\n$6\r\nNOTIFY\r\n$3\r\nSET\r\n$5\r\nVALUE\r\n$1\r\nv\r\n$10\r\nExtraStuff\r\n',
      '*3\r\n$6\r\nNOTIFY\r\n$3\r\nSET\r\n$5\r\nVALUE\r\n',
      '*2\r\n$6\r\nNOTIFY\r\n:1\r\n',
      '+OK\r\n',
      '*0\r\n',
    ]) {
      expect(
        codeOf(() => parseNotification(bytes(bad))),
        JSON.stringify(bad),
      ).toBe('ERR_AIO_STATE_STORE_PARSE');
    }
  });
});

describe('state store RESP3 responses', () => {
  it('parses SET responses', () => {
    expect(parseSetResponse(bytes('+OK\r\n'))).toBe('OK');
    expect(parseSetResponse(bytes(':-1\r\n'))).toBe('NOT_APPLIED');
    expect(parseSetResponse(bytes('$-1\r\n'))).toBe('NOT_APPLIED');
    for (const bad of ['+not OK\r\n', ':0\r\n', ':1\r\n', '$2\r\nOK\r\n', 'OK\r\n', '+OK', '+']) {
      expect(
        codeOf(() => parseSetResponse(bytes(bad))),
        JSON.stringify(bad),
      ).toBe('ERR_AIO_STATE_STORE_PARSE');
    }
  });

  it('parses GET responses, including empty and binary values', () => {
    expect(parseGetResponse(bytes('$4\r\n1234\r\n'))).toEqual(bytes('1234'));
    expect(parseGetResponse(bytes('$0\r\n\r\n'))).toEqual(new Uint8Array(0));
    expect(parseGetResponse(bytes('$-1\r\n'))).toBeUndefined();
    expect(parseGetResponse(bytes('$12\r\nhello\r\nworld\r\n'))).toEqual(bytes('hello\r\nworld'));
    for (const bad of [
      '11\r\nhello world\r\n',
      '$11hello world\r\n',
      '$11\r\nhello world',
      '$not an integer\r\nhello world',
      '$11\r\nthis string is longer than 11 characters\r\n',
      ':1\r\n',
      '+OK\r\n',
    ]) {
      expect(
        codeOf(() => parseGetResponse(bytes(bad))),
        JSON.stringify(bad),
      ).toBe('ERR_AIO_STATE_STORE_PARSE');
    }
  });

  it('parses DEL, VDEL and KEYNOTIFY responses', () => {
    expect(parseDelResponse(bytes(':1\r\n'))).toBe(1);
    expect(parseDelResponse(bytes(':0\r\n'))).toBe(0);
    expect(parseVdelResponse(bytes(':1\r\n'))).toBe(1);
    expect(parseVdelResponse(bytes(':0\r\n'))).toBe(0);
    expect(parseVdelResponse(bytes(':-1\r\n'))).toBe(-1);
    expect(parseKeyNotifyResponse(bytes('+OK\r\n'))).toBe(true);
    expect(parseKeyNotifyResponse(bytes(':0\r\n'))).toBe(false);
    for (const [parse, bad] of [
      [parseDelResponse, ':-1\r\n'],
      [parseDelResponse, ':'],
      [parseDelResponse, '1234\r\n'],
      [parseDelResponse, ':1234'],
      [parseDelResponse, ':not an integer\r\n'],
      [parseVdelResponse, ':2\r\n'],
      [parseVdelResponse, '+OK\r\n'],
      [parseKeyNotifyResponse, ':1\r\n'],
      [parseKeyNotifyResponse, '$-1\r\n'],
    ] as const) {
      expect(
        codeOf(() => parse(bytes(bad))),
        `${parse.name} ${JSON.stringify(bad)}`,
      ).toBe('ERR_AIO_STATE_STORE_PARSE');
    }
  });

  it('turns -ERR responses into StateStoreServiceError with the kind of the description', () => {
    const cases: [string, string][] = [
      ['-ERR syntax error\r\n', 'syntax error'],
      [
        '-ERR the request fencing token is a lower version than the fencing token protecting the resource\r\n',
        'fencing token lower version',
      ],
      ['-ERR a fencing token is required for this request\r\n', 'missing fencing token'],
      ['-ERR wrong number of arguments\r\n', 'wrong number of arguments'],
      ['-ERR: unknown command\r\n', 'unknown command'],
      ['-ERR something new\r\n', 'unknown'],
      ['-ERR \r\n', 'unknown'],
    ];
    for (const parse of [
      parseSetResponse,
      parseGetResponse,
      parseDelResponse,
      parseVdelResponse,
      parseKeyNotifyResponse,
    ]) {
      for (const [payload, kind] of cases) {
        try {
          parse(bytes(payload));
          expect.unreachable(payload);
        } catch (error) {
          expect(error).toBeInstanceOf(StateStoreServiceError);
          const serviceError = error as StateStoreServiceError;
          expect(serviceError.code).toBe('ERR_AIO_STATE_STORE_SERVICE');
          expect(serviceError.kind).toBe(kind);
          expect(serviceError.retryable).toBe(false);
          expect(isAioError(serviceError)).toBe(true);
        }
      }
    }
    const error = new StateStoreServiceError('ERR the quota has been exceeded');
    expect(error.serviceMessage).toBe('the quota has been exceeded');
    expect(error.details).toMatchObject({ kind: 'quota exceeded' });
  });

  it('maps every known description back to its kind', () => {
    for (const [kind, message] of Object.entries(stateStoreServiceErrorMessages)) {
      expect(stateStoreServiceErrorKindOf(message)).toBe(kind);
      expect(stateStoreServiceErrorKindOf(`ERR ${message}`)).toBe(kind);
    }
    expect(stateStoreServiceErrorKindOf('ERR')).toBe('unknown');
  });
});

describe('state store RESP3 generic codec', () => {
  it('decodes every response type and re-encodes it to the same bytes', () => {
    const cases: [string, unknown][] = [
      ['+OK\r\n', { type: 'simple', value: 'OK' }],
      ['-ERR syntax error\r\n', { type: 'error', value: 'ERR syntax error' }],
      [':1\r\n', { type: 'integer', value: 1 }],
      [':0\r\n', { type: 'integer', value: 0 }],
      [':-1\r\n', { type: 'integer', value: -1 }],
      [':9007199254740991\r\n', { type: 'integer', value: Number.MAX_SAFE_INTEGER }],
      ['$-1\r\n', { type: 'null' }],
      ['$3\r\n\r\n\x00\r\n', { type: 'blob', value: Uint8Array.of(13, 10, 0) }],
      ['*0\r\n', { type: 'array', value: [] }],
      [
        '*2\r\n:1\r\n*1\r\n+x\r\n',
        {
          type: 'array',
          value: [
            { type: 'integer', value: 1 },
            { type: 'array', value: [{ type: 'simple', value: 'x' }] },
          ],
        },
      ],
    ];
    for (const [wire, value] of cases) {
      const data = Buffer.from(wire, 'latin1');
      const decoded = decodeResp3(data);
      expect(decoded, JSON.stringify(wire)).toEqual(value);
      expect(text(encodeResp3(decoded))).toBe(wire);
    }
  });

  it('rejects non-canonical and malformed forms with ERR_AIO_STATE_STORE_PARSE', () => {
    for (const bad of [
      '',
      ':01\r\n',
      ':-0\r\n',
      ':+1\r\n',
      ':\r\n',
      ':1\n',
      ':1\r',
      ':12345678901234567\r\n',
      ':9007199254740992\r\n',
      '$-2\r\n',
      '$01\r\nx\r\n',
      '$1\r\nxy\r\n',
      '$1\r\nx\n\n',
      '*-1\r\n',
      '+a\nb\r\n',
      '+a\rb\r\n',
      '+\xff\r\n',
      '_\r\n',
      '+OK\r\n+OK\r\n',
      '+OK\r\n\r\n',
      '*1\r\n',
      '?\r\n',
    ]) {
      expect(
        codeOf(() => decodeResp3(Buffer.from(bad, 'latin1'))),
        JSON.stringify(bad),
      ).toBe('ERR_AIO_STATE_STORE_PARSE');
    }
  });

  it('caps nesting with maxDepth', () => {
    const nested = bytes('*1\r\n*1\r\n*1\r\n:1\r\n');
    expect(decodeResp3(nested, { maxDepth: 3 }).type).toBe('array');
    expect(codeOf(() => decodeResp3(nested, { maxDepth: 2 }))).toBe('ERR_AIO_STATE_STORE_PARSE');
    expect(() => decodeResp3(nested, { maxDepth: 0 })).toThrow(RangeError);
    expect(() => decodeResp3(nested, { maxDepth: 65 })).toThrow(RangeError);
    expect(() => decodeResp3(nested, { maxDepth: '2' as unknown as number })).toThrow(TypeError);
    expect(() => decodeResp3('+OK\r\n' as unknown as Uint8Array)).toThrow(TypeError);
  });

  it('refuses to encode values that cannot be represented', () => {
    expect(() => encodeResp3({ type: 'simple', value: 'a\r\nb' })).toThrow(RangeError);
    expect(() => encodeResp3({ type: 'error', value: 'a\nb' })).toThrow(RangeError);
    expect(() => encodeResp3({ type: 'integer', value: 1.5 })).toThrow(RangeError);
    expect(() => encodeResp3({ type: 'integer', value: 2 ** 53 })).toThrow(RangeError);
    expect(() => encodeResp3({ type: 'blob', value: 'x' as unknown as Uint8Array })).toThrow(
      TypeError,
    );
    expect(() => encodeResp3({ type: 'set' } as unknown as { type: 'null' })).toThrow(TypeError);
  });

  it('parseRequest returns the command and its arguments', () => {
    expect(
      parseRequest(encodeSetRequest('k', 'v', { condition: 'onlyIfNotSet', expiresInMs: 5 })),
    ).toEqual({
      command: 'SET',
      args: [bytes('k'), bytes('v'), bytes('NX'), bytes('PX'), bytes('5')],
    });
    expect(parseRequest(encodeKeyNotifyRequest('k', { stop: true }))).toEqual({
      command: 'KEYNOTIFY',
      args: [bytes('k'), bytes('STOP')],
    });
    for (const bad of ['*0\r\n', '*1\r\n:1\r\n', '+SET\r\n', '*2\r\n$3\r\nGET\r\n*0\r\n']) {
      expect(
        codeOf(() => parseRequest(bytes(bad))),
        JSON.stringify(bad),
      ).toBe('ERR_AIO_STATE_STORE_PARSE');
    }
  });
});
