import { once } from 'node:events';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import {
  AnonymousCredentials,
  CertificateCredentials,
  UsernamePasswordCredentials,
  isAioError,
  isHttpError,
} from '@aio-connector/core';
import { startThermostatEventServer, type ThermostatEventServer } from '@aio-connector/devkit';
import type { SseMessage } from '@aio-connector/sse';
import { generateTestPki } from '@aio-connector/testing';
import { runStream } from './support/stream-harness.ts';

let servers: ThermostatEventServer[] = [];

afterEach(async () => {
  for (const server of servers) await server.close();
  servers = [];
});

async function server(options: Parameters<typeof startThermostatEventServer>[0] = {}) {
  const started = await startThermostatEventServer({ intervalInMs: 0, ...options });
  servers.push(started);
  return started;
}

const quick = { reconnect: { minDelayInMs: 10, maxDelayInMs: 200 } };

/** A plain node:http server answering every request with `listener`; closed after the test. */
async function rawServer(listener: RequestListener): Promise<{ origin: string; requests: number }> {
  const state = { origin: '', requests: 0 };
  const http = createServer((request, response) => {
    state.requests += 1;
    listener(request, response);
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => {
          resolve();
        });
      }),
  );
  state.origin = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  return state;
}

/** The delays of the first `count` reconnections of a stream. */
async function reconnectDelays(
  harness: ReturnType<typeof runStream>,
  count: number,
): Promise<number[]> {
  return harness.until(() => {
    const delays = harness.states.flatMap(({ state }) =>
      state.status === 'reconnecting' ? [state.delayInMs] : [],
    );
    expect(delays.length).toBeGreaterThanOrEqual(count);
    return delays.slice(0, count);
  });
}

describe('SseStream against a real SSE server', () => {
  it('delivers multi-line data joined with \\n, event names and ids; heartbeats keep it alive', async () => {
    const source = await server({ multilineData: true, heartbeatInMs: 40 });
    const harness = runStream(
      source.origin,
      {},
      { url: '/events', idleTimeoutInMs: 1_500, ...quick },
    );
    await source.waitForClients(1);
    source.send({ event: 'alarm', data: { code: 'OVER_TEMP', temperature: 80.5 } });
    source.send({ data: 'line one\nline two\r\nline three' });
    const [alarm, plain] = await harness.until(() => {
      const messages = harness.messages();
      expect(messages).toHaveLength(2);
      return messages;
    });
    expect(alarm).toEqual({
      kind: 'message',
      event: 'alarm',
      data: JSON.stringify({ code: 'OVER_TEMP', temperature: 80.5 }, null, 2),
      id: '1',
      lastEventId: '1',
    });
    expect(alarm!.data.split('\n').length).toBeGreaterThan(2);
    expect(plain).toMatchObject({
      event: 'message',
      data: 'line one\nline two\nline three',
      id: '2',
    });
    // heartbeats alone keep the 1.5 s idle watchdog quiet for twice its period
    await harness.until(() => {
      expect(harness.stream.stats.comments).toBeGreaterThanOrEqual(75);
    });
    expect(harness.stream.stats.connections).toBe(1);
    expect(harness.states.map((s) => s.state.status)).toEqual(['connecting', 'open']);
    const request = source.requests.at(-1)!;
    expect(request.headers['accept']).toBe('text/event-stream');
    expect(request.headers['cache-control']).toBe('no-cache');
  });

  for (const mode of ['destroy', 'end'] as const)
    it(`resumes with Last-Event-ID when the server drops every 7 events (${mode}): no gap, no duplicate`, async () => {
      const source = await server({ retryInMs: 5 });
      source.dropConnectionsEvery(7, mode);
      const harness = runStream(source.origin, {}, { url: '/events', ...quick });
      await source.waitForClients(1);
      const total = 120;
      // batches of 10 sent in one go to a connected client: each holds a 7th event, after which
      // the server drops the stream, so the rest of the batch is sent while the client
      // reconnects and comes back through the Last-Event-ID replay
      for (let i = 0; i < total; i++) {
        source.send({ event: i % 2 === 0 ? 'even' : 'odd', data: { i } });
        if (i % 10 === 9)
          await harness.until(() => {
            expect(harness.messages()).toHaveLength(i + 1);
            expect(source.clients).toBe(1);
          });
      }
      const messages = harness.messages();
      expect(messages.map((m) => Number(m.id))).toEqual(
        Array.from({ length: total }, (_, i) => i + 1),
      );
      expect(messages.map((m) => (JSON.parse(m.data) as { i: number }).i)).toEqual(
        Array.from({ length: total }, (_, i) => i),
      );
      expect(harness.stream.stats.connections).toBeGreaterThanOrEqual(total / 10 + 1);
      const resumed = source.requests
        .map((r) => r.headers['last-event-id'])
        .filter((id) => id !== undefined);
      expect(resumed.length).toBe(harness.stream.stats.connections - 1);
      // each resume asked for the events after the last one the client had fully received
      for (const id of resumed) expect(Number(id) % 7).toBe(0);
      expect(harness.stream.lastEventId).toBe(String(total));
    });

  it("waits at least the server's retry: before reconnecting, and caps it", async () => {
    const source = await server({ retryInMs: 700 });
    const harness = runStream(source.origin, {}, { url: '/events', ...quick });
    await source.waitForClients(1);
    source.send({ data: 'x' });
    await harness.until(() => {
      expect(harness.messages()).toHaveLength(1);
    });
    expect(harness.stream.stats.serverRetryInMs).toBe(700);
    const before = harness.states.length;
    source.dropConnections();
    const lost = await harness.state('reconnecting', before);
    expect(lost.delayInMs).toBeGreaterThanOrEqual(700);
    expect(lost.error.code).toMatch(/ERR_AIO_HTTP_NETWORK|ERR_AIO_SSE_STREAM_ENDED/);
    const reopened = await harness.state('open', before);
    expect(reopened.at - lost.at).toBeGreaterThanOrEqual(690);

    const capped = await server({ retryInMs: 3_600_000 });
    const fast = runStream(capped.origin, {}, { url: '/events', maxRetryInMs: 50, ...quick });
    await capped.waitForClients(1);
    capped.send({ data: 'y' });
    await fast.until(() => {
      expect(fast.messages()).toHaveLength(1);
    });
    expect(fast.stream.stats.serverRetryInMs).toBe(50);
    const mark = fast.states.length;
    capped.dropConnections('end');
    const again = await fast.state('reconnecting', mark);
    expect(again.delayInMs).toBeLessThan(1000);
    await fast.state('open', mark);
  });

  it('closes a stalled stream with the idle watchdog and reconnects', async () => {
    const source = await server();
    source.faults.set({ kind: 'stall', times: 1 });
    const harness = runStream(
      source.origin,
      {},
      { url: '/events', idleTimeoutInMs: 300, ...quick },
    );
    const idle = await harness.state('reconnecting');
    expect(idle.error.code).toBe('ERR_AIO_SSE_IDLE_TIMEOUT');
    expect(idle.error.retryable).toBe(true);
    await source.waitForClients(1);
    source.send({ data: 'after the stall' });
    await harness.until(() => {
      expect(harness.messages()).toHaveLength(1);
    });
    expect(harness.stream.stats.connections).toBeGreaterThanOrEqual(2);
  });

  it('the idle watchdog does not count the time the handler holds a message (backpressure)', async () => {
    const source = await server();
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const harness = runStream(
      source.origin,
      {},
      { url: '/events', idleTimeoutInMs: 400, ...quick },
      async (item) => {
        if (item.kind === 'message' && item.data === 'slow') await held;
      },
    );
    await source.waitForClients(1);
    source.send({ data: 'slow' });
    // the handler holds the message for four idle periods: this duration is what is tested
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    release();
    source.send({ data: 'next' });
    await harness.until(() => {
      expect(harness.messages().map((m) => m.data)).toEqual(['slow', 'next']);
    });
    expect(harness.stream.stats.connections).toBe(1);
  });

  it('stops on 204 as the spec says, then tries again on the slow schedule', async () => {
    const source = await server();
    source.faults.set({ kind: 'status', status: 204, times: 1 });
    const harness = runStream(source.origin, {}, { url: '/events', slowRetryInMs: 400, ...quick });
    const stopped = await harness.state('stopped');
    expect(stopped.error.code).toBe('ERR_AIO_SSE_NO_CONTENT');
    expect(stopped.error.retryable).toBe(false);
    expect(stopped.delayInMs).toBe(400);
    const open = await harness.state('open');
    expect(open.at - stopped.at).toBeGreaterThanOrEqual(390);
  });

  it('treats 401 and a wrong content type as non-retryable; 503 with Retry-After as retryable', async () => {
    const secured = await server({ auth: { kind: 'basic', username: 'u', password: 'p' } });
    const denied = runStream(secured.origin, {}, { url: '/events', slowRetryInMs: 0, ...quick });
    const refused = await denied.state('stopped');
    expect(isHttpError(refused.error) && refused.error.status).toBe(401);
    expect(refused.error.retryable).toBe(false);
    expect(refused.delayInMs).toBeUndefined();

    const wrongType = await server();
    wrongType.faults.set({ kind: 'content-type', contentType: 'application/json', times: 1 });
    const typed = runStream(wrongType.origin, {}, { url: '/events', ...quick });
    const notSse = await typed.state('stopped');
    expect(notSse.error.code).toBe('ERR_AIO_HTTP_CONTENT_TYPE');

    const busy = await server();
    busy.faults.set({ kind: 'status', status: 503, retryAfter: 1, times: 1 });
    const waiting = runStream(busy.origin, {}, { url: '/events', ...quick });
    const retry = await waiting.state('reconnecting');
    expect(retry.error.code).toBe('ERR_AIO_HTTP_STATUS');
    expect(retry.delayInMs).toBeGreaterThanOrEqual(1000);
    await waiting.state('open');
  });

  it('skips an event larger than maxEventBytes and goes on with the next ones', async () => {
    const source = await server();
    source.faults.set({ kind: 'oversized-event', bytes: 300_000, times: 1 });
    const harness = runStream(
      source.origin,
      {},
      { url: '/events', maxEventBytes: 64 * 1024, maxBufferedBytes: 1024 * 1024, ...quick },
    );
    await source.waitForClients(1);
    source.send({ event: 'thermostat_status_changed', data: { currentTemperature: 70 } });
    await harness.until(() => {
      expect(harness.items).toHaveLength(2);
    });
    const [skipped, next] = harness.items;
    expect(skipped).toMatchObject({ kind: 'skipped', event: 'thermostat_status_changed' });
    if (skipped?.kind !== 'skipped') throw new Error('unreachable');
    expect(skipped.bytes).toBeGreaterThan(300_000);
    expect(skipped.error.code).toBe('ERR_AIO_SSE_EVENT_TOO_LARGE');
    expect((next as SseMessage).data).toBe('{"currentTemperature":70}');
    expect(harness.stream.stats.connections).toBe(1);
  });

  it('cuts off a peer that sends no line break past maxBufferedBytes, and reconnects', async () => {
    const source = await server();
    source.faults.set({ kind: 'no-newline', bytes: 8 * 1024 * 1024, times: 1 });
    const harness = runStream(source.origin, {}, { url: '/events', ...quick }); // 1 MiB / 4 MiB
    const cut = await harness.state('reconnecting');
    expect(cut.error.code).toBe('ERR_AIO_SSE_BUFFER_OVERFLOW');
    expect(cut.error.details).toMatchObject({ maxBufferedBytes: 4 * 1024 * 1024 });
    await source.waitForClients(1);
    source.send({ data: 'fine again' });
    await harness.until(() => {
      expect(harness.messages()).toHaveLength(1);
    });
  });

  it('reads a 50 MB stream without line breaks with flat memory', async () => {
    const source = await server();
    const total = 50 * 1024 * 1024;
    source.faults.set({ kind: 'no-newline', bytes: total, times: 1 });
    global.gc?.();
    const base = process.memoryUsage();
    let peakHeap = base.heapUsed;
    let peakRss = base.rss;
    const sampler = setInterval(() => {
      const now = process.memoryUsage();
      peakHeap = Math.max(peakHeap, now.heapUsed);
      peakRss = Math.max(peakRss, now.rss);
    }, 5);
    const harness = runStream(
      source.origin,
      {},
      {
        url: '/events',
        idleTimeoutInMs: 3_000,
        maxEventBytes: 64 * 1024,
        maxBufferedBytes: 256 * 1024 * 1024,
        ...quick,
      },
    );
    try {
      // the whole 50 MB is read (then the server stalls and the watchdog reconnects)
      const idle = await harness.state('reconnecting', 0, 60_000);
      expect(idle.error.code).toBe('ERR_AIO_SSE_IDLE_TIMEOUT');
      expect(harness.stream.stats.bytes).toBeGreaterThanOrEqual(total);
    } finally {
      clearInterval(sampler);
    }
    const heapDelta = peakHeap - base.heapUsed;
    const rssDelta = peakRss - base.rss;
    console.log(
      `50 MB without a line break: peak heap +${(heapDelta / 1048576).toFixed(1)} MiB, peak RSS +${(rssDelta / 1048576).toFixed(1)} MiB`,
    );
    // buffering the line would take at least 50 MiB (more as a string); nothing close is held
    expect(heapDelta).toBeLessThan(40 * 1024 * 1024);
    await source.waitForClients(1);
    source.send({ data: 'still alive' });
    await harness.until(() => {
      expect(harness.messages()).toHaveLength(1);
    });
  });

  it('a server that answers only "retry: 0" and closes is not reconnected to in a tight loop', async () => {
    const source = await rawServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.end('retry: 0\n\n');
    });
    const harness = runStream(
      source.origin,
      {},
      { url: '/events', reconnect: { minDelayInMs: 50, maxDelayInMs: 400, jitter: 0 } },
    );
    // the first reconnection is immediate, as the server asks; failing ones then back off
    expect(await reconnectDelays(harness, 5)).toEqual([0, 50, 100, 200, 400]);
    expect(harness.stream.stats.connections).toBeGreaterThanOrEqual(5);
  });

  it('"retry: 0" does not stop the backoff from growing while reconnections fail', async () => {
    let first = true;
    const source = await rawServer((_request, response) => {
      if (first) {
        first = false;
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        response.end('retry: 0\nid: 1\ndata: x\n\n');
      } else {
        response.writeHead(503);
        response.end();
      }
    });
    const harness = runStream(
      source.origin,
      {},
      { url: '/events', reconnect: { minDelayInMs: 50, maxDelayInMs: 400, jitter: 0 } },
    );
    expect(await reconnectDelays(harness, 5)).toEqual([0, 50, 100, 200, 400]);
    expect(harness.messages().map((m) => m.data)).toEqual(['x']);
    expect(harness.stream.stats.serverRetryInMs).toBe(0);
  });
});

describe('SseStream authentication and TLS', () => {
  it('sends basic credentials from the endpoint credentials', async () => {
    const source = await server({
      auth: { kind: 'basic', username: 'thermo', password: 's3cret:ü' },
    });
    const harness = runStream(
      source.origin,
      {
        credentials: new UsernamePasswordCredentials({ username: 'thermo', password: 's3cret:ü' }),
      },
      { url: '/events', ...quick },
    );
    await source.waitForClients(1);
    source.send({ data: 'authorized' });
    await harness.until(() => {
      expect(harness.messages()).toHaveLength(1);
    });
    expect(source.requests.at(-1)!.headers['authorization']).toBe('Basic [redacted]');
  });

  it('connects with mTLS and a trust list, and refuses a server the trust list does not cover', async () => {
    const pki = await generateTestPki();
    const source = await server({
      tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca },
      auth: { kind: 'mtls' },
    });
    expect(source.origin.startsWith('https://')).toBe(true);
    const harness = runStream(
      source.origin,
      {
        credentials: new CertificateCredentials({
          certificate: pki.client.cert,
          key: pki.client.key,
          trustList: [pki.ca],
        }),
      },
      { url: '/events', ...quick },
    );
    await source.waitForClients(1);
    source.send({ data: 'over mtls' });
    await harness.until(() => {
      expect(harness.messages()).toHaveLength(1);
    });
    expect(source.requests.at(-1)!.clientCertificateSubject).toBe('aio-test-client');

    const untrusted = runStream(
      source.origin,
      { credentials: new AnonymousCredentials({ trustList: [pki.otherCa] }) },
      { url: '/events', slowRetryInMs: 0, ...quick },
    );
    const refused = await untrusted.state('stopped');
    expect(isAioError(refused.error) && refused.error.code).toBe('ERR_AIO_HTTP_TLS');
  });
});
