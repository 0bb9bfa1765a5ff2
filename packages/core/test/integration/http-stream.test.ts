import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  HttpEndpointClient,
  isAioError,
  type HttpEndpointClientOptions,
  type HttpError,
  type HttpStream,
} from '@aio-connector/core';
import { eventually } from '@aio-connector/testing';
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
  throw new Error('expected the operation to fail');
}

async function drain(stream: HttpStream): Promise<string> {
  const decoder = new TextDecoder();
  let out = '';
  for await (const chunk of stream.body) out += decoder.decode(chunk, { stream: true });
  return out + decoder.decode();
}

const eventStream = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };

describe('HttpEndpointClient.stream', () => {
  it('delivers chunks as the server writes them', async () => {
    let response: ServerResponse | undefined;
    const accepts: (string | undefined)[] = [];
    const server = await startServer((request, res) => {
      accepts.push(request.headers.accept);
      res.writeHead(200, eventStream);
      res.write('data: one\n\n');
      response = res;
    });
    const http = client(server.url);
    const stream = await http.stream({ url: '/events', expectContentType: 'text/event-stream' });
    expect([stream.status, stream.mediaType, stream.headers['cache-control']]).toEqual([
      200,
      'text/event-stream',
      'no-cache',
    ]);
    expect(accepts).toEqual(['text/event-stream']);
    const iterator = stream.body[Symbol.asyncIterator]();
    const decode = (value: Uint8Array | undefined): string => new TextDecoder().decode(value);
    expect(decode((await iterator.next()).value)).toBe('data: one\n\n');
    // the server writes the next event only after the first was received
    response!.write('data: two\n\n');
    expect(decode((await iterator.next()).value)).toBe('data: two\n\n');
    response!.end('data: three\n\n');
    expect(decode((await iterator.next()).value)).toBe('data: three\n\n');
    expect((await iterator.next()).done).toBe(true);
  });

  it('stops reading the socket while the consumer does not pull (bounded memory)', async () => {
    const total = 64 * 1024 * 1024;
    const progress = { written: 0, blocked: false };
    const server = await startServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      void writeMany(response, total, 64 * 1024, progress);
    });
    const sockets = recordClientSockets(server.port);
    const http = client(server.url);
    const stream = await http.stream({ url: '/firehose' });
    const iterator = stream.body[Symbol.asyncIterator]();
    let consumed = ((await iterator.next()).value as Uint8Array).length;

    // the slow consumer: wait until the server is blocked by TCP flow control
    let last = -1;
    await eventually(
      () => {
        const now = progress.written;
        const stalled = progress.blocked && now === last;
        last = now;
        if (!stalled) throw new Error(`server still writing (${now} bytes)`);
      },
      { timeoutInMs: 20_000, intervalInMs: 100 },
    );
    expect(progress.written).toBeLessThan(total);
    expect(sockets).toHaveLength(1);
    const readAhead = sockets[0]!.bytesRead - consumed;
    expect(readAhead).toBeLessThan(1024 * 1024); // what the client holds that was not pulled

    // pulling again resumes the flow until the end, with nothing lost
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) break;
      consumed += next.value.length;
    }
    expect(consumed).toBe(total);
  });

  it('rejects a status that is not 2xx with the body excerpt, and frees the connection', async () => {
    const server = await startServer((request, response) => {
      if (request.url === '/missing') response.writeHead(404).end('no such stream');
      else response.writeHead(503, { 'retry-after': '3' }).end('overloaded');
    });
    const http = client(server.url, { connections: 1 });
    const missing = await failure(http.stream({ url: '/missing' }));
    expect([missing.code, missing.status, missing.retryable, missing.bodyExcerpt]).toEqual([
      'ERR_AIO_HTTP_STATUS',
      404,
      false,
      'no such stream',
    ]);
    const busy = await failure(http.stream({ url: '/busy' }));
    expect([busy.status, busy.retryable, busy.retryAfterInMs]).toEqual([503, true, 3000]);
  });

  it('rejects a response that is not of the expected content type, not retryable', async () => {
    let closed: Promise<unknown> = Promise.resolve();
    const server = await startServer((request, response) => {
      closed = once(response, 'close');
      if (request.url === '/json') response.writeHead(200, { 'content-type': 'application/json' });
      else response.writeHead(200);
      response.write('{"not":"events"}'); // and never ends
    });
    const http = client(server.url);
    for (const url of ['/json', '/none']) {
      const error = await failure(http.stream({ url, expectContentType: 'text/event-stream' }));
      expect([error.code, error.retryable, error.status]).toEqual([
        'ERR_AIO_HTTP_CONTENT_TYPE',
        false,
        200,
      ]);
      await closed; // the never-ending body was cancelled: its connection closed
    }
  });

  it('returns a 204 as an empty stream whatever its content type', async () => {
    const server = await startServer((_request, response) => response.writeHead(204).end());
    const http = client(server.url);
    const stream = await http.stream({ expectContentType: 'text/event-stream' });
    expect(stream.status).toBe(204);
    expect(await drain(stream)).toBe('');
  });

  it('applies the headers timeout, and a body idle timeout only when asked', async () => {
    const server = await startServer((request, response) => {
      if (request.url === '/silent') return;
      response.writeHead(200, eventStream);
      response.write(': hello\n\n');
    });
    const http = client(server.url, { headersTimeoutInMs: 300 });
    const silent = await failure(http.stream({ url: '/silent' }));
    expect([silent.code, silent.details['phase'], silent.retryable]).toEqual([
      'ERR_AIO_HTTP_TIMEOUT',
      'headers',
      true,
    ]);
    const stream = await http.stream({ url: '/idle', bodyTimeoutInMs: 300 });
    const error = await failure(drain(stream));
    expect([error.code, error.details['phase'], error.retryable]).toEqual([
      'ERR_AIO_HTTP_TIMEOUT',
      'body',
      true,
    ]);
  });

  it('cancel() and leaving the loop end the stream and close its connection', async () => {
    const responses: ServerResponse[] = [];
    const server = await startServer((_request, response) => {
      response.writeHead(200, eventStream);
      response.write('data: first\n\n');
      responses.push(response);
    });
    const http = client(server.url);

    const stream = await http.stream();
    const iterator = stream.body[Symbol.asyncIterator]();
    await iterator.next();
    const pending = iterator.next(); // waits for data that never comes
    const closed = once(responses[0]!, 'close');
    stream.cancel();
    stream.cancel(); // idempotent
    expect((await pending).done).toBe(true);
    await closed;

    const second = await http.stream();
    for await (const chunk of second.body) {
      expect(new TextDecoder().decode(chunk)).toBe('data: first\n\n');
      break;
    }
    await once(responses[1]!, 'close');

    {
      await using third = await http.stream();
      expect(third.status).toBe(200);
    }
    await once(responses[2]!, 'close');
  });

  it('fails the iteration on abort, reset and destroy with the right codes', async () => {
    const responses: ServerResponse[] = [];
    const server = await startServer((_request, response) => {
      response.writeHead(200, eventStream);
      response.write('data: first\n\n');
      responses.push(response);
    });
    const http = client(server.url);

    const controller = new AbortController();
    const aborted = await http.stream({ signal: controller.signal });
    const pendingAbort = drain(aborted);
    await eventually(() => {
      expect(responses).toHaveLength(1);
    });
    controller.abort();
    const abortError = await failure(pendingAbort);
    expect(isAioError(abortError) && abortError.code).toBe('ERR_AIO_ABORTED');

    const reset = await http.stream();
    const pendingReset = drain(reset);
    responses[1]!.socket?.resetAndDestroy();
    const resetError = await failure(pendingReset);
    expect([resetError.code, resetError.retryable]).toEqual(['ERR_AIO_HTTP_NETWORK', true]);

    const interrupted = await http.stream();
    const pendingDestroy = drain(interrupted);
    await http.destroy();
    const destroyError = await failure(pendingDestroy);
    expect(destroyError.code).toBe('ERR_AIO_CLOSED');
  });
});
