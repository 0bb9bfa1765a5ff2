import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  AnonymousCredentials,
  HttpEndpointClient,
  UsernamePasswordCredentials,
  isAioError,
  isHttpError,
  retry,
  type HttpEndpointClientOptions,
  type HttpError,
  type Logger,
} from '@aio-connector/core';
import { recordClientSockets, startServer, writeMany } from './http-test-server.ts';

function client(address: string, options: HttpEndpointClientOptions = {}): HttpEndpointClient {
  const instance = new HttpEndpointClient(address, options);
  onTestFinished(() => instance.destroy());
  return instance;
}

async function failure(promise: Promise<unknown>): Promise<HttpError> {
  try {
    await promise;
  } catch (error) {
    return error as HttpError;
  }
  throw new Error('expected the request to fail');
}

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

describe('HttpEndpointClient requests', () => {
  it('GETs anonymously and returns status, headers and the whole body', async () => {
    const seen: Record<string, string | undefined>[] = [];
    const server = await startServer((request, response) => {
      seen.push({
        url: request.url,
        agent: request.headers['user-agent'],
        authorization: request.headers.authorization,
      });
      response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'x-n': '1' });
      response.end('{"currentTemperature":21.5}');
    });
    const http = client(server.url);
    const response = await http.request({ url: '/api/thermostat/current?unit=C' });
    expect(response.status).toBe(200);
    expect(text(response.body)).toBe('{"currentTemperature":21.5}');
    expect(response.contentType).toBe('application/json; charset=utf-8');
    expect(response.mediaType).toBe('application/json');
    expect(response.headers['x-n']).toBe('1');
    expect(response.notModified).toBe(false);
    expect(response.url).toBe(`${server.url}/api/thermostat/current?unit=C`);
    expect(seen).toEqual([
      {
        url: '/api/thermostat/current?unit=C',
        agent: 'aio-connector-sdk',
        authorization: undefined,
      },
    ]);
  });

  it('POSTs a string or byte body with the headers given', async () => {
    const received: {
      method: string;
      type: string | undefined;
      custom: string | undefined;
      body: string;
    }[] = [];
    const server = await startServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        received.push({
          method: request.method ?? '',
          type: request.headers['content-type'],
          custom: request.headers['x-custom'] as string | undefined,
          body: Buffer.concat(chunks).toString(),
        });
        response.writeHead(201).end('created');
      });
    });
    const http = client(server.url, { userAgent: 'my-connector/1.0' });
    const first = await http.request({
      method: 'POST',
      url: '/api/thermostat/desired',
      headers: { 'Content-Type': 'application/json', 'X-Custom': 'yes' },
      body: '{"desiredTemperature":22}',
    });
    const second = await http.request({
      method: 'PUT',
      url: 'api/raw',
      body: new TextEncoder().encode('bytes'),
    });
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(text(first.body)).toBe('created');
    expect(received).toEqual([
      {
        method: 'POST',
        type: 'application/json',
        custom: 'yes',
        body: '{"desiredTemperature":22}',
      },
      { method: 'PUT', type: undefined, custom: undefined, body: 'bytes' },
    ]);
  });

  it('sends basic authentication; a wrong password is a non-retryable 401 that leaks nothing', async () => {
    const password = 'pa:ss wörd';
    const expected = `Basic ${Buffer.from(`operator:${password}`).toString('base64')}`;
    const server = await startServer((request, response) => {
      if (request.headers.authorization === expected) response.end('welcome');
      else
        response.writeHead(401, { 'www-authenticate': 'Basic realm="x"' }).end('bad credentials');
    });
    const good = client(server.url, {
      credentials: new UsernamePasswordCredentials({ username: 'operator', password }),
    });
    // the endpoint's credentials win over an Authorization header given by the caller
    const ok = await good.request({ url: '/', headers: { authorization: 'Bearer other' } });
    expect(text(ok.body)).toBe('welcome');

    const wrongPassword = 'not-the-password';
    const bad = client(server.url, {
      credentials: new UsernamePasswordCredentials({
        username: 'operator',
        password: wrongPassword,
      }),
    });
    const error = await failure(bad.request({ url: '/api/x' }));
    expect(isHttpError(error)).toBe(true);
    expect(error.code).toBe('ERR_AIO_HTTP_STATUS');
    expect(error.status).toBe(401);
    expect(error.retryable).toBe(false);
    expect(error.bodyExcerpt).toBe('bad credentials');
    expect(error.headers?.['www-authenticate']).toBe('Basic realm="x"');
    expect(error.message).toContain('401');
    const everything = `${error.message} ${JSON.stringify(error)} ${JSON.stringify(error.details)}`;
    expect(everything).not.toContain(wrongPassword);
    expect(everything).not.toContain(Buffer.from(`operator:${wrongPassword}`).toString('base64'));
  });

  it('makes conditional GETs with ETag and Last-Modified; 304 means no new data', async () => {
    let version = 1;
    const lastModified = 'Wed, 21 Oct 2015 07:28:00 GMT';
    const server = await startServer((request, response) => {
      const etag = `"v${version}"`;
      if (request.url === '/etag') {
        if (request.headers['if-none-match'] === etag) response.writeHead(304, { etag }).end();
        else response.writeHead(200, { etag }).end(`version ${version}`);
        return;
      }
      // Last-Modified only, and a 304 that does not repeat it
      if (request.headers['if-modified-since'] === lastModified) response.writeHead(304).end();
      else response.writeHead(200, { 'last-modified': lastModified }).end('dated');
    });
    const http = client(server.url);
    const first = await http.request({ url: '/etag' });
    expect([first.status, first.etag, first.notModified]).toEqual([200, '"v1"', false]);
    const same = await http.request({ url: '/etag', conditional: { etag: first.etag } });
    expect([same.status, same.notModified, same.body.length, same.etag]).toEqual([
      304,
      true,
      0,
      '"v1"',
    ]);
    version = 2;
    const changed = await http.request({ url: '/etag', conditional: { etag: first.etag } });
    expect([changed.status, changed.notModified, text(changed.body), changed.etag]).toEqual([
      200,
      false,
      'version 2',
      '"v2"',
    ]);

    const dated = await http.request({ url: '/dated' });
    expect(dated.lastModified).toBe(lastModified);
    const unchanged = await http.request({
      url: '/dated',
      conditional: { lastModified: dated.lastModified },
    });
    expect([unchanged.notModified, unchanged.lastModified]).toEqual([true, lastModified]);
  });

  it('reads Retry-After (seconds and HTTP-date) from 429 and 503, and retry() waits as asked', async () => {
    let calls = 0;
    const date = new Date(Date.now() + 60_000).toUTCString();
    const server = await startServer((request, response) => {
      if (request.url === '/seconds') response.writeHead(429, { 'retry-after': '2' }).end();
      else if (request.url === '/date') response.writeHead(503, { 'retry-after': date }).end();
      else if (++calls === 1) response.writeHead(503, { 'retry-after': '1' }).end('busy');
      else response.end('done');
    });
    const http = client(server.url);
    const seconds = await failure(http.request({ url: '/seconds' }));
    expect([seconds.code, seconds.status, seconds.retryable, seconds.retryAfterInMs]).toEqual([
      'ERR_AIO_HTTP_STATUS',
      429,
      true,
      2000,
    ]);
    const dated = await failure(http.request({ url: '/date' }));
    expect(dated.retryable).toBe(true);
    expect(dated.retryAfterInMs).toBeGreaterThan(50_000);
    expect(dated.retryAfterInMs).toBeLessThanOrEqual(60_000);

    const delays: number[] = [];
    const response = await retry(() => http.request({ url: '/eventually' }), {
      retries: 2,
      minDelayInMs: 1,
      onFailedAttempt: ({ delayInMs }) => delays.push(delayInMs),
    });
    expect(text(response.body)).toBe('done');
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeGreaterThanOrEqual(1000);
  });

  it('classifies statuses: 500 retryable, 404 and 501 not', async () => {
    const server = await startServer((request, response) => {
      response.writeHead(Number(request.url?.slice(1))).end(`status ${request.url}`);
    });
    const http = client(server.url);
    const results = await Promise.all(
      ['/500', '/502', '/404', '/501', '/400'].map(async (url) => {
        const error = await failure(http.request({ url }));
        return [error.status, error.retryable];
      }),
    );
    expect(results).toEqual([
      [500, true],
      [502, true],
      [404, false],
      [501, false],
      [400, false],
    ]);
    const notFound = await failure(http.request({ url: '/404' }));
    expect(notFound.message).toContain('check the dataSource');
    expect(notFound.bodyExcerpt).toBe('status /404');
  });

  it('times out waiting for headers, for body data, and for the whole request', async () => {
    const timers: NodeJS.Timeout[] = [];
    onTestFinished(() => {
      timers.forEach((timer) => {
        clearInterval(timer);
      });
    });
    const server = await startServer((request, response) => {
      if (request.url === '/no-headers') return;
      response.writeHead(200);
      response.write('start');
      if (request.url === '/trickle')
        timers.push(setInterval(() => !response.destroyed && response.write('.'), 50));
    });
    const http = client(server.url, { headersTimeoutInMs: 300, bodyTimeoutInMs: 300 });
    const headers = await failure(http.request({ url: '/no-headers' }));
    expect([headers.code, headers.retryable, headers.details['phase']]).toEqual([
      'ERR_AIO_HTTP_TIMEOUT',
      true,
      'headers',
    ]);
    const body = await failure(http.request({ url: '/stall' }));
    expect([body.code, body.retryable, body.details['phase']]).toEqual([
      'ERR_AIO_HTTP_TIMEOUT',
      true,
      'body',
    ]);
    // a body that keeps coming (no idle timeout) but takes longer than the request may
    const patient = client(server.url, { bodyTimeoutInMs: 20_000 });
    const whole = await failure(patient.request({ url: '/trickle', timeoutInMs: 500 }));
    expect([whole.code, whole.retryable, whole.details['phase']]).toEqual([
      'ERR_AIO_HTTP_TIMEOUT',
      true,
      'request',
    ]);
  });

  it('aborts an oversized body at the cap, closes the connection, and reads little past it', async () => {
    const cap = 1024 * 1024;
    const total = 50 * 1024 * 1024;
    const progress = { written: 0, blocked: false };
    let serverClosed: Promise<unknown> = Promise.resolve();
    let finished: boolean | undefined;
    const server = await startServer((request, response) => {
      serverClosed = once(response, 'close').then(() => {
        finished = response.writableFinished;
      });
      if (request.url === '/declared') {
        response.writeHead(200, { 'content-length': String(total) });
        response.write('x');
        return;
      }
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      void writeMany(response, total, 64 * 1024, progress);
    });
    const sockets = recordClientSockets(server.port);
    const http = client(server.url, { maxResponseBytes: cap });

    const error = await failure(http.request({ url: '/chunked' }));
    expect(error.code).toBe('ERR_AIO_HTTP_BODY_TOO_LARGE');
    expect(error.retryable).toBe(false);
    expect(error.details['receivedBytes']).toBeLessThanOrEqual(cap);
    await serverClosed;
    expect(finished).toBe(false); // the connection was closed before the server could finish
    expect(sockets).toHaveLength(1);
    const socket = sockets[0]!;
    expect(socket.destroyed).toBe(true);
    // bytes the client read from the socket: the cap plus at most a few read-ahead chunks
    expect(socket.bytesRead).toBeGreaterThan(cap);
    expect(socket.bytesRead).toBeLessThan(cap + 1024 * 1024);
    expect(progress.written).toBeLessThan(total);

    const declared = await failure(http.request({ url: '/declared', maxResponseBytes: 1000 }));
    expect(declared.code).toBe('ERR_AIO_HTTP_BODY_TOO_LARGE');
    expect(declared.details).toMatchObject({ receivedBytes: 0, declaredBytes: total });
    await serverClosed;
    expect(finished).toBe(false);
  });

  it('refuses complete bodies whose declared length is over the cap without an uncaught error, request after request', async () => {
    const server = await startServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': '10000' });
      response.end('x'.repeat(10_000));
    });
    const http = client(server.url, { maxResponseBytes: 2_000 });
    for (let i = 0; i < 3; i++) {
      const error = await failure(http.request({ url: '/big' }));
      expect(error.code).toBe('ERR_AIO_HTTP_BODY_TOO_LARGE');
      expect(error.details).toMatchObject({ declaredBytes: 10_000 });
    }
    // give a stray abort error of a destroyed body the chance to surface as uncaught
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setTimeout(resolve, 50));
  });

  it('handles absent and malformed content types', async () => {
    const server = await startServer((request, response) => {
      if (request.url === '/malformed') response.setHeader('content-type', ';;;garbage');
      response.end('payload');
    });
    const http = client(server.url);
    const absent = await http.request({ url: '/absent' });
    expect([absent.contentType, absent.mediaType, text(absent.body)]).toEqual([
      undefined,
      undefined,
      'payload',
    ]);
    const malformed = await http.request({ url: '/malformed' });
    expect([malformed.contentType, malformed.mediaType, text(malformed.body)]).toEqual([
      ';;;garbage',
      undefined,
      'payload',
    ]);
  });

  it('reports a connection reset mid-body and a refused connection as retryable network errors', async () => {
    const server = await startServer((request, response) => {
      if (request.url === '/short') {
        response.writeHead(200, { 'content-length': '1000' });
        response.write('only ten b', () => request.socket.destroy());
        return;
      }
      response.writeHead(200);
      response.write('some bytes', () => request.socket.resetAndDestroy());
    });
    const http = client(server.url);
    for (const url of ['/short', '/reset']) {
      const error = await failure(http.request({ url }));
      expect([error.code, error.retryable]).toEqual(['ERR_AIO_HTTP_NETWORK', true]);
    }

    const spare = createServer();
    await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', resolve));
    const { port } = spare.address() as AddressInfo;
    await new Promise<void>((resolve) =>
      spare.close(() => {
        resolve();
      }),
    );
    const refused = await failure(client(`http://127.0.0.1:${port}`).request());
    expect([refused.code, refused.retryable, refused.details['reason']]).toEqual([
      'ERR_AIO_HTTP_NETWORK',
      true,
      'ECONNREFUSED',
    ]);
    expect(refused.message).toContain('connection refused');
  });

  it('follows same-origin redirects, never cross-origin ones, and stops after maxRedirects', async () => {
    const other = await startServer((_request, response) => response.end('other origin'));
    const server = await startServer((request, response) => {
      switch (request.url) {
        case '/old':
          response.writeHead(302, { location: '/new?x=1' }).end('moved');
          return;
        case '/form':
          response.writeHead(303, { location: '/result' }).end();
          return;
        case '/away':
          response.writeHead(307, { location: `${other.url}/steal` }).end();
          return;
        case '/loop':
          response.writeHead(301, { location: '/loop' }).end();
          return;
        default:
          response.end(`${request.method ?? ''} ${request.url ?? ''}`);
      }
    });
    const http = client(server.url, {
      credentials: new UsernamePasswordCredentials({ username: 'u', password: 'p' }),
    });
    const moved = await http.request({ url: '/old' });
    expect([moved.status, text(moved.body), moved.url]).toEqual([
      200,
      'GET /new?x=1',
      `${server.url}/new?x=1`,
    ]);
    const posted = await http.request({ method: 'POST', url: '/form', body: 'a=1' });
    expect(text(posted.body)).toBe('GET /result');

    const away = await failure(http.request({ url: '/away' }));
    expect([away.code, away.retryable, away.status]).toEqual(['ERR_AIO_HTTP_REDIRECT', false, 307]);
    expect(away.message).toContain('another origin');
    expect(other.requests).toHaveLength(0); // the credentials never left the endpoint's origin

    const loop = await failure(http.request({ url: '/loop' }));
    expect([loop.code, loop.retryable]).toEqual(['ERR_AIO_HTTP_REDIRECT', false]);
    expect(loop.message).toContain('more than 5 redirects');

    const strict = client(server.url, { maxRedirects: 0 });
    const notFollowed = await failure(strict.request({ url: '/old' }));
    expect(notFollowed.code).toBe('ERR_AIO_HTTP_REDIRECT');
  });

  it('reuses one keep-alive connection for sequential requests', async () => {
    const server = await startServer((_request, response) => response.end('ok'));
    const http = client(server.url);
    // undici hands a connection back to the pool one event loop turn after a response ends (so a
    // server that closes despite keep-alive is noticed): requests in the same turn would open a
    // second connection, requests a turn apart (any polling) share one
    const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    await http.request({ url: '/a' });
    await nextTurn();
    await http.request({ url: '/b' });
    await nextTurn();
    await http.request({ url: '/c' });
    expect(server.sockets).toHaveLength(1);
    const ports = new Set(server.requests.map((request) => request.remotePort));
    expect(ports.size).toBe(1);
  });

  it('never leaks a pooled connection: errors, oversize and aborts all free it', async () => {
    let release: (() => void) | undefined;
    const server = await startServer((request, response) => {
      switch (request.url) {
        case '/big-404':
          response.writeHead(404);
          response.end(Buffer.alloc(1024 * 1024, 0x62));
          return;
        case '/big':
          response.end(Buffer.alloc(256 * 1024, 0x63));
          return;
        case '/500':
          response.writeHead(500).end('oops');
          return;
        case '/slow':
          release = () => response.end('late');
          return;
        default:
          response.end('fine');
      }
    });
    const http = client(server.url, { connections: 1, headersTimeoutInMs: 10_000 });
    expect((await failure(http.request({ url: '/big-404' }))).status).toBe(404);
    expect((await failure(http.request({ url: '/big', maxResponseBytes: 1000 }))).code).toBe(
      'ERR_AIO_HTTP_BODY_TOO_LARGE',
    );
    expect((await failure(http.request({ url: '/500' }))).status).toBe(500);
    const controller = new AbortController();
    const slow = http.request({ url: '/slow', signal: controller.signal });
    while (release === undefined) await new Promise((resolve) => setImmediate(resolve));
    controller.abort();
    const aborted = await failure(slow);
    expect([aborted.code, aborted.retryable]).toEqual(['ERR_AIO_ABORTED', false]);
    const response = await http.request({ url: '/ok' });
    expect(text(response.body)).toBe('fine');
  });

  it('rejects at once when the signal is already aborted, without contacting the server', async () => {
    const server = await startServer((_request, response) => response.end('ok'));
    const http = client(server.url);
    const error = await failure(http.request({ url: '/', signal: AbortSignal.abort() }));
    expect(isAioError(error) && error.code).toBe('ERR_AIO_ABORTED');
    expect(server.requests).toHaveLength(0);
  });

  it('picks up rotated credentials through a new client instance', async () => {
    let current = 'first-secret';
    const server = await startServer((request, response) => {
      const expected = `Basic ${Buffer.from(`user:${current}`).toString('base64')}`;
      response.writeHead(request.headers.authorization === expected ? 200 : 401).end();
    });
    const credentialsOf = (password: string) =>
      new UsernamePasswordCredentials({ username: 'user', password });
    const before = client(server.url, { credentials: credentialsOf('first-secret') });
    expect((await before.request()).status).toBe(200);
    current = 'second-secret'; // the secret rotates; the endpoint restarts
    expect((await failure(before.request())).status).toBe(401);
    await before.close();
    const after = client(server.url, { credentials: credentialsOf('second-secret') });
    expect((await after.request()).status).toBe(200);
  });

  it('close() lets requests in flight finish and refuses new ones; destroy() interrupts', async () => {
    const releases: (() => void)[] = [];
    const server = await startServer((_request, response) => {
      releases.push(() => response.end('finished'));
    });
    const http = client(server.url);
    const inFlight = http.request({ url: '/slow' });
    while (releases.length < 1) await new Promise((resolve) => setImmediate(resolve));
    const closing = http.close();
    expect(http.close()).toBe(closing);
    expect(http.closed).toBe(true);
    const refused = await failure(http.request({ url: '/late' }));
    expect(refused.code).toBe('ERR_AIO_CLOSED');
    releases[0]!();
    expect(text((await inFlight).body)).toBe('finished');
    await closing;

    const other = client(server.url);
    const interrupted = other.request({ url: '/slow' });
    while (releases.length < 2) await new Promise((resolve) => setImmediate(resolve));
    await other.destroy();
    const error = await failure(interrupted);
    expect(error.code).toBe('ERR_AIO_CLOSED');
    expect(other.destroyed).toBe(true);
    await other.destroy(); // idempotent
    await other.close();

    {
      await using disposable = new HttpEndpointClient(server.url);
      expect(disposable.closed).toBe(false);
    }
  });

  it('close({ signal }) destroys the client when the signal aborts first', async () => {
    let started = false;
    const server = await startServer(() => {
      started = true; // never answers
    });
    const http = client(server.url);
    const inFlight = failure(http.request({ url: '/forever' }));
    while (!started) await new Promise((resolve) => setImmediate(resolve));
    const controller = new AbortController();
    const closing = http.close({ signal: controller.signal });
    controller.abort();
    await closing;
    expect(http.destroyed).toBe(true);
    expect((await inFlight).code).toBe('ERR_AIO_CLOSED');
  });

  it('logs requests and failures without credentials', async () => {
    const records: unknown[] = [];
    const record =
      (level: string) =>
      (first: unknown, message?: string): void => {
        records.push({ level, first, message });
      };
    const logger: Logger = {
      trace: record('trace'),
      debug: record('debug'),
      info: record('info'),
      warn: record('warn'),
      error: record('error'),
      fatal: record('fatal'),
      child: () => logger,
    };
    const password = 'very-secret-password';
    const server = await startServer((request, response) => {
      response.writeHead(request.url === '/fail' ? 403 : 200).end('x');
    });
    const http = client(server.url, {
      logger,
      credentials: new UsernamePasswordCredentials({ username: 'u', password }),
    });
    await http.request({ url: '/ok?token=abc' });
    await failure(http.request({ url: '/fail' }));
    const levels = records.map((item) => (item as { level: string }).level);
    expect(levels).toEqual(['warn', 'trace', 'debug']); // basic auth over http:, success, failure
    const serialized = JSON.stringify(records, (_key, value: unknown) =>
      isAioError(value) ? { message: value.message, details: value.details } : value,
    );
    expect(serialized).not.toContain(password);
    expect(serialized).not.toContain(Buffer.from(`u:${password}`).toString('base64'));
    expect(serialized).not.toContain('token=abc');
  });

  it('ignores the trust list of an http: address', async () => {
    const server = await startServer((_request, response) => response.end('plain'));
    const http = client(server.url, {
      credentials: new AnonymousCredentials({ trustList: ['ignored for http:'] }),
    });
    expect(text((await http.request()).body)).toBe('plain');
  });
});
