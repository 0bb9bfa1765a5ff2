import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { httpGet } from '../src/http-sampler.ts';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/** The device under test: a real HTTP server on a free port. */
let server: Server;
let handler: Handler;
let base: URL;

beforeEach(async () => {
  handler = (_request, response) => response.writeHead(500).end();
  server = createServer((request, response) => handler(request, response));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});

afterEach(async () => {
  server.closeAllConnections();
  server.close();
  await once(server, 'close');
});

describe('httpGet', () => {
  it('returns the body and content type, and sends the headers given', async () => {
    let authorization: string | undefined;
    handler = (request, response) => {
      authorization = request.headers.authorization;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ currentTemperature: 21.5 }));
    };
    const result = await httpGet(new URL('/api/thermostat/status', base), {
      signal: new AbortController().signal,
      headers: { authorization: 'Basic dTpw' },
    });
    expect(result.status).toBe(200);
    expect(result.contentType).toBe('application/json');
    expect(JSON.parse(new TextDecoder().decode(result.body))).toEqual({ currentTemperature: 21.5 });
    expect(authorization).toBe('Basic dTpw');
  });

  it('makes 503 retryable and passes on Retry-After', async () => {
    handler = (_request, response) => response.writeHead(503, { 'retry-after': '2' }).end('busy');
    await expect(httpGet(base, { signal: new AbortController().signal })).rejects.toMatchObject({
      code: 'ERR_AIO_HTTP_STATUS',
      status: 503,
      retryable: true,
      retryAfterInMs: 2_000,
      bodyExcerpt: 'busy',
    });
  });

  it('makes 404 not retryable: the dataSource is wrong', async () => {
    handler = (_request, response) => response.writeHead(404).end();
    await expect(httpGet(base, { signal: new AbortController().signal })).rejects.toMatchObject({
      code: 'ERR_AIO_HTTP_STATUS',
      status: 404,
      retryable: false,
    });
  });

  it('makes a refused connection a retryable network error', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const { port } = closed.address() as AddressInfo;
    closed.close();
    await once(closed, 'close');
    await expect(
      httpGet(new URL(`http://127.0.0.1:${port}/`), { signal: new AbortController().signal }),
    ).rejects.toMatchObject({ code: 'ERR_AIO_HTTP_NETWORK', retryable: true });
  });

  it('times out a server that does not answer', async () => {
    handler = () => undefined; // never answers
    await expect(
      httpGet(base, { signal: new AbortController().signal, timeoutInMs: 200 }),
    ).rejects.toMatchObject({ code: 'ERR_AIO_HTTP_TIMEOUT', retryable: true });
  });

  it('stops when the signal aborts', async () => {
    const controller = new AbortController();
    handler = () => controller.abort(); // the dataset stops while the request is open
    await expect(httpGet(base, { signal: controller.signal })).rejects.toMatchObject({
      name: 'AbortError',
    });
  });
});
