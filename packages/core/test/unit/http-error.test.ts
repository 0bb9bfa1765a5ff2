import { describe, expect, it } from 'vitest';
import {
  AnonymousCredentials,
  HttpEndpointClient,
  HttpError,
  UsernamePasswordCredentials,
  classifyHttpStatus,
  isAioError,
  isHttpError,
  parseContentType,
  parseRetryAfter,
} from '@aio-connector/core';
import { httpErrorFromFailure, type HttpFailureContext } from '../../src/http/http-error.ts';

describe('classifyHttpStatus', () => {
  it.each([
    [101, 'informational', false],
    [200, 'success', false],
    [204, 'success', false],
    [304, 'not-modified', false],
    [302, 'redirect', false],
    [400, 'client-error', false],
    [401, 'client-error', false],
    [403, 'client-error', false],
    [404, 'client-error', false],
    [408, 'client-error', true],
    [425, 'client-error', true],
    [429, 'client-error', true],
    [500, 'server-error', true],
    [501, 'server-error', false],
    [502, 'server-error', true],
    [503, 'server-error', true],
    [504, 'server-error', true],
    [505, 'server-error', false],
    [507, 'server-error', true],
  ])('%i is %s, retryable %s', (status, kind, retryable) => {
    expect(classifyHttpStatus(status)).toEqual({ kind, retryable });
  });

  it('refuses numbers that are not statuses', () => {
    expect(() => classifyHttpStatus(99)).toThrow(RangeError);
    expect(() => classifyHttpStatus(600)).toThrow(RangeError);
    expect(() => classifyHttpStatus(200.5)).toThrow(RangeError);
    expect(() => classifyHttpStatus('200' as unknown as number)).toThrow(TypeError);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');

  it('reads delta-seconds and HTTP-dates', () => {
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter(' 0 ', now)).toBe(0);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Wednesday, 01-Jan-25 00:01:00 GMT', now)).toBe(60_000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', now)).toBe(0);
  });

  it('ignores absent and invalid values', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('1.5', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});

describe('parseContentType', () => {
  it('parses media types and parameters', () => {
    expect(parseContentType('Text/Event-Stream')).toEqual({
      mediaType: 'text/event-stream',
      parameters: {},
    });
    expect(parseContentType('application/json; charset="utf-8"; q=1')).toEqual({
      mediaType: 'application/json',
      parameters: { charset: 'utf-8', q: '1' },
    });
    expect(parseContentType('text/plain; broken; charset=ascii')).toEqual({
      mediaType: 'text/plain',
      parameters: { charset: 'ascii' },
    });
  });

  it('returns undefined for absent or malformed values', () => {
    expect(parseContentType(undefined)).toBeUndefined();
    expect(parseContentType('')).toBeUndefined();
    expect(parseContentType(';;;garbage')).toBeUndefined();
    expect(parseContentType('json')).toBeUndefined();
    expect(parseContentType('text/ plain words')).toBeUndefined();
  });
});

describe('HttpError', () => {
  it('carries the request and response, redacting secrets', () => {
    const error = new HttpError('ERR_AIO_HTTP_STATUS', 'GET answered 401', {
      method: 'GET',
      url: 'https://user:pw@h/x?token=abc&n=1',
      status: 401,
      statusText: 'Unauthorized',
      headers: { 'set-cookie': 'session=1', 'www-authenticate': 'Basic' },
      bodyExcerpt: 'no',
      retryable: false,
    });
    expect(isAioError(error)).toBe(true);
    expect(isHttpError(error)).toBe(true);
    expect(isHttpError(new Error('x'))).toBe(false);
    expect(error.url).toBe('https://h/x?token=%5Bredacted%5D&n=1');
    expect(error.headers).toEqual({ 'set-cookie': '[redacted]', 'www-authenticate': 'Basic' });
    expect(error.details).toMatchObject({ method: 'GET', status: 401, url: error.url });
    expect(JSON.stringify(error.details)).not.toContain('pw');
  });
});

describe('httpErrorFromFailure', () => {
  const context: HttpFailureContext = {
    method: 'GET',
    url: new URL('https://device.local:8443/api'),
    phase: 'headers',
    connectTimeoutInMs: 10_000,
    headersTimeoutInMs: 30_000,
    bodyTimeoutInMs: 30_000,
  };
  const coded = (code: string, message = code, extra: object = {}): Error =>
    Object.assign(new Error(message), { code }, extra);

  it.each([
    ['UND_ERR_CONNECT_TIMEOUT', 'ERR_AIO_HTTP_TIMEOUT', true, 'longer than 10000 ms'],
    ['UND_ERR_HEADERS_TIMEOUT', 'ERR_AIO_HTTP_TIMEOUT', true, 'within 30000 ms'],
    ['UND_ERR_BODY_TIMEOUT', 'ERR_AIO_HTTP_TIMEOUT', true, 'for 30000 ms'],
    ['ECONNREFUSED', 'ERR_AIO_HTTP_NETWORK', true, 'connection refused'],
    ['ECONNRESET', 'ERR_AIO_HTTP_NETWORK', true, 'reset'],
    ['ENOTFOUND', 'ERR_AIO_HTTP_NETWORK', true, 'DNS'],
    ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'ERR_AIO_HTTP_TLS', false, "endpoint's trust list"],
    ['SELF_SIGNED_CERT_IN_CHAIN', 'ERR_AIO_HTTP_TLS', false, "endpoint's trust list"],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'ERR_AIO_HTTP_TLS', false, 'self-signed'],
    ['CERT_HAS_EXPIRED', 'ERR_AIO_HTTP_TLS', false, 'expired'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'ERR_AIO_HTTP_TLS', false, 'device.local'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'ERR_AIO_HTTP_TLS', false, 'http: instead of https:'],
    ['ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED', 'ERR_AIO_HTTP_TLS', false, 'requires a client'],
    ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'ERR_AIO_HTTP_TLS', false, 'refused the client certificate'],
    ['ERR_SSL_SSL/TLS_ALERT_BAD_CERTIFICATE', 'ERR_AIO_HTTP_TLS', false, 'refused the client'],
    ['ERR_SSL_SSL/TLS_ALERT_HANDSHAKE_FAILURE', 'ERR_AIO_HTTP_TLS', false, 'handshake failed'],
    ['ERR_OSSL_X509_KEY_VALUES_MISMATCH', 'ERR_AIO_HTTP_TLS', false, 'TLS failed'],
    ['UND_ERR_HEADERS_OVERFLOW', 'ERR_AIO_HTTP_NETWORK', false, 'headers are larger'],
  ])('maps %s to %s (retryable %s)', (code, expected, retryable, text) => {
    const cause = coded(code);
    const error = httpErrorFromFailure(cause, context);
    expect([error.code, error.retryable]).toEqual([expected, retryable]);
    expect(error.message).toContain(text);
    expect(error.message).toContain('GET https://device.local:8443/api failed');
    expect(error.cause).toBe(cause);
  });

  it('maps a parser error to a non-retryable network error hinting at the scheme', () => {
    const parser = Object.assign(new Error('Response does not match the HTTP/1.1 protocol'), {
      name: 'HTTPParserError',
    });
    const error = httpErrorFromFailure(parser, context);
    expect([error.code, error.retryable]).toEqual(['ERR_AIO_HTTP_NETWORK', false]);
    expect(error.message).toContain('not valid HTTP/1.1');
  });

  it('uses a TLS alert seen on the connection to explain a closed socket', () => {
    const closed = coded('UND_ERR_SOCKET', 'other side closed', {
      socket: { localPort: 50_000, bytesRead: 0 },
    });
    const plain = httpErrorFromFailure(closed, context);
    expect([plain.code, plain.retryable]).toEqual(['ERR_AIO_HTTP_NETWORK', true]);
    expect(plain.message).toContain('client certificate');
    const withAlert = httpErrorFromFailure(closed, {
      ...context,
      tlsAlert: coded('ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED'),
    });
    expect([withAlert.code, withAlert.retryable]).toEqual(['ERR_AIO_HTTP_TLS', false]);
  });

  it('looks inside an AggregateError (several addresses tried)', () => {
    const error = httpErrorFromFailure(
      new AggregateError([coded('ECONNREFUSED'), coded('ECONNREFUSED')], 'all failed'),
      context,
    );
    expect(error.message).toContain('connection refused');
  });
});

describe('HttpEndpointClient options', () => {
  const address = 'http://127.0.0.1:8080';

  it('rejects wrong types with TypeError and out-of-range values with RangeError', () => {
    expect(
      () => new HttpEndpointClient(address, { connectTimeoutInMs: '5' as unknown as number }),
    ).toThrow(TypeError);
    expect(() => new HttpEndpointClient(address, { headersTimeoutInMs: -1 })).toThrow(RangeError);
    expect(() => new HttpEndpointClient(address, { maxResponseBytes: 1.5 })).toThrow(RangeError);
    expect(() => new HttpEndpointClient(address, { keepAliveTimeoutInMs: 0 })).toThrow(RangeError);
    expect(() => new HttpEndpointClient(address, { connections: 0 })).toThrow(RangeError);
    expect(() => new HttpEndpointClient(address, { maxRedirects: -1 })).toThrow(RangeError);
    expect(() => new HttpEndpointClient(address, { userAgent: 'a\r\nb' })).toThrow(RangeError);
    expect(() => new HttpEndpointClient(address, { tlsServerName: '' })).toThrow(RangeError);
    expect(
      () => new HttpEndpointClient(address, { credentials: { method: 'Other' } as never }),
    ).toThrow(TypeError);
    expect(() => new HttpEndpointClient(address, null as never)).toThrow(TypeError);
  });

  it('reports a bad address or username as a ConfigError', () => {
    expect(() => new HttpEndpointClient('ftp://h')).toThrow(
      expect.objectContaining({ code: 'ERR_AIO_CONFIG', field: 'address' }),
    );
    expect(
      () =>
        new HttpEndpointClient(address, {
          credentials: new UsernamePasswordCredentials({ username: 'a:b', password: 'p' }),
        }),
    ).toThrow(expect.objectContaining({ code: 'ERR_AIO_CONFIG' }));
  });

  it('checks request options before sending anything', async () => {
    const client = new HttpEndpointClient(address, { credentials: new AnonymousCredentials() });
    try {
      await expect(client.request({ method: 'GET POST' })).rejects.toThrow(RangeError);
      await expect(client.request({ method: 'CONNECT' })).rejects.toThrow(RangeError);
      await expect(client.request({ body: 42 as never })).rejects.toThrow(TypeError);
      await expect(client.request({ headers: { 'x-a': 1 as never } })).rejects.toThrow(TypeError);
      await expect(client.request({ headers: { 'bad name': 'x' } })).rejects.toThrow(RangeError);
      await expect(client.request({ headers: { 'x-a': 'a\nb' } })).rejects.toThrow(RangeError);
      await expect(client.request({ timeoutInMs: -5 })).rejects.toThrow(RangeError);
      await expect(client.request({ signal: {} as never })).rejects.toThrow(TypeError);
      await expect(client.request({ conditional: { etag: 5 as never } })).rejects.toThrow(
        TypeError,
      );
      await expect(client.request({ url: 'http://elsewhere/x' })).rejects.toMatchObject({
        code: 'ERR_AIO_CONFIG',
        field: 'dataSource',
      });
      await expect(client.stream({ expectContentType: 'events' })).rejects.toThrow(RangeError);
      await expect(client.stream({ highWaterMark: 0 })).rejects.toThrow(RangeError);
      expect(client.resolveUrl('/api').href).toBe('http://127.0.0.1:8080/api');
      expect([client.origin, client.address, client.authenticationMethod]).toEqual([
        'http://127.0.0.1:8080',
        'http://127.0.0.1:8080/',
        'Anonymous',
      ]);
    } finally {
      await client.close();
    }
    await expect(client.request()).rejects.toMatchObject({ code: 'ERR_AIO_CLOSED' });
  });
});
