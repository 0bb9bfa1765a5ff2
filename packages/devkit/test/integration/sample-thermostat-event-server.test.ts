import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { describe, expect, it, onTestFinished } from 'vitest';
import { isAioError } from '@aio-connector/core';
import {
  ThermostatSimulator,
  startThermostatEventServer,
  type ThermostatEventServer,
  type ThermostatEventServerOptions,
} from '@aio-connector/devkit';
import { generateTestPki } from '@aio-connector/testing';

/** What the test parser reads from a stream. */
type Item =
  | { readonly type: 'event'; readonly id: string; readonly event: string; readonly data: string }
  | { readonly type: 'comment'; readonly text: string }
  | { readonly type: 'retry'; readonly value: number };

/**
 * A minimal `text/event-stream` parser following the HTML specification: lines end with CRLF, LF
 * or CR; `:` starts a comment; `field: value` with one optional space; a blank line dispatches
 * the event when it has data; `id` persists as the last event id.
 */
class StreamParser {
  readonly items: Item[] = [];
  raw = '';
  #pending = '';
  #data: string[] = [];
  #event = '';
  #lastId = '';
  #waiters: { check: () => boolean; resolve: () => void }[] = [];

  get events() {
    return this.items.filter((i): i is Extract<Item, { type: 'event' }> => i.type === 'event');
  }

  get lastEventId(): string {
    return this.#lastId;
  }

  feed(text: string): void {
    this.raw += text;
    this.#pending += text;
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.#pending);
      if (match === null) break;
      // a lone CR at the very end may be the first half of CRLF
      if (match[0] === '\r' && match.index === this.#pending.length - 1) break;
      const line = this.#pending.slice(0, match.index);
      this.#pending = this.#pending.slice(match.index + match[0].length);
      this.#line(line);
    }
    this.#wake();
  }

  /** Resolves when `check` holds, or rejects after the deadline. */
  until(check: () => boolean, timeoutInMs = 15_000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = {
        check,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(
          new Error(
            `stream condition not met within ${timeoutInMs} ms; got ${this.raw.slice(0, 500)}`,
          ),
        );
      }, timeoutInMs);
      this.#waiters.push(waiter);
    });
  }

  #wake(): void {
    const ready = this.#waiters.filter((w) => w.check());
    this.#waiters = this.#waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve();
  }

  #line(line: string): void {
    if (line === '') {
      if (this.#data.length > 0)
        this.items.push({
          type: 'event',
          id: this.#lastId,
          event: this.#event === '' ? 'message' : this.#event,
          data: this.#data.join('\n'),
        });
      this.#data = [];
      this.#event = '';
      return;
    }
    if (line.startsWith(':')) {
      this.items.push({ type: 'comment', text: line.slice(1).trimStart() });
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.#data.push(value);
    else if (field === 'event') this.#event = value;
    else if (field === 'id' && !value.includes('\0')) this.#lastId = value;
    else if (field === 'retry' && /^\d+$/.test(value))
      this.items.push({ type: 'retry', value: Number(value) });
  }
}

interface Stream {
  readonly response: IncomingMessage;
  readonly parser: StreamParser;
  /** Resolves when the response ends or fails, with the error if any. */
  readonly finished: Promise<Error | undefined>;
  close(): void;
}

interface OpenOptions {
  readonly headers?: Record<string, string>;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

/** Opens a stream with node:http(s) and parses it as it arrives. */
function open(url: string, options: OpenOptions = {}): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      target,
      {
        headers: { accept: 'text/event-stream', ...options.headers },
        agent: false,
        ...(options.ca === undefined ? {} : { ca: options.ca }),
        ...(options.cert === undefined ? {} : { cert: options.cert }),
        ...(options.key === undefined ? {} : { key: options.key }),
      },
      (response) => {
        const parser = new StreamParser();
        response.setEncoding('utf8');
        response.on('data', (text: string) => {
          parser.feed(text);
        });
        const finished = new Promise<Error | undefined>((done) => {
          response.once('end', () => {
            done(undefined);
          });
          response.once('error', (error) => {
            done(error);
          });
          response.once('close', () => {
            done(response.complete ? undefined : new Error('aborted'));
          });
        });
        resolve({
          response,
          parser,
          finished,
          close: () => {
            req.destroy();
          },
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function openStream(url: string, options: OpenOptions = {}): Promise<Stream> {
  const stream = await open(url, options);
  onTestFinished(() => {
    stream.close();
  });
  return stream;
}

async function start(options: ThermostatEventServerOptions = {}): Promise<ThermostatEventServer> {
  const server = await startThermostatEventServer({ intervalInMs: 0, ...options });
  onTestFinished(() => server.close());
  return server;
}

const ids = (stream: Stream) => stream.parser.events.map((e) => Number(e.id));

describe('thermostat event server: the stream', () => {
  it('serves text/event-stream with retry, increasing ids and thermostat events', async () => {
    const server = await start({
      intervalInMs: 50,
      retryInMs: 1500,
      random: () => 0.5,
      initialState: { desiredTemperature: 72, currentTemperature: 71 },
      alarmThreshold: 10,
    });
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/events`);
    expect(server.origin).toBe(`http://127.0.0.1:${server.port}`);
    const stream = await openStream(server.url);
    expect(stream.response.statusCode).toBe(200);
    expect(stream.response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(stream.response.headers['cache-control']).toBe('no-cache, no-transform');

    await stream.parser.until(() => stream.parser.events.length >= 5);
    expect(stream.parser.items[0]).toEqual({ type: 'retry', value: 1500 });
    expect(stream.parser.raw.startsWith('retry: 1500\n\n')).toBe(true);
    const events = stream.parser.events.slice(0, 5);
    const first = Number(events[0]!.id);
    expect(events.map((e) => Number(e.id))).toEqual([0, 1, 2, 3, 4].map((n) => first + n));
    for (const event of events) {
      expect(event.event).toBe('thermostat_status_changed');
      const data = JSON.parse(event.data) as Record<string, number>;
      expect(Object.keys(data)).toEqual(['desiredTemperature', 'currentTemperature']);
      expect(data.desiredTemperature).toBe(72);
      expect(data.currentTemperature).toBeGreaterThan(71);
      expect(data.currentTemperature).toBeLessThanOrEqual(72);
    }
    // with no noise the temperature rises monotonically towards 72
    const temperatures = events.map(
      (e) => (JSON.parse(e.data) as Record<string, number>).currentTemperature!,
    );
    expect([...temperatures].sort((a, b) => a - b)).toEqual(temperatures);
    expect(server.lastEventId).toBeGreaterThanOrEqual(first + 4);
  });

  it('sends an alarm when the temperature is out of band, deterministically', async () => {
    const over = await start({
      random: () => 0.5,
      now: () => new Date('2026-05-01T12:00:00Z'),
      initialState: { desiredTemperature: 70, currentTemperature: 77 },
    });
    const stream = await openStream(over.url);
    await over.waitForClients(1);
    const sent = over.tick();
    expect(sent.map((e) => e.event)).toEqual(['thermostat_status_changed', 'alarm']);
    await stream.parser.until(() => stream.parser.events.length === 2);
    const [status, alarm] = stream.parser.events;
    expect(status).toEqual({
      type: 'event',
      id: '1',
      event: 'thermostat_status_changed',
      data: '{"desiredTemperature":70,"currentTemperature":75.6}',
    });
    expect(alarm!.id).toBe('2');
    expect(alarm!.event).toBe('alarm');
    expect(JSON.parse(alarm!.data)).toEqual({
      code: 'OVER_TEMP',
      temperature: 75.6,
      desiredTemperature: 70,
      timestamp: '2026-05-01T12:00:00.000Z',
    });
    // 75.6 → 74.48 → 73.58 → 72.86: the alarm stops once within 3 °F
    expect(over.tick().map((e) => e.event)).toEqual(['thermostat_status_changed', 'alarm']);
    expect(over.tick().map((e) => e.event)).toEqual(['thermostat_status_changed', 'alarm']);
    const [calm, ...rest] = over.tick();
    expect(JSON.parse(calm!.data)).toEqual({ desiredTemperature: 70, currentTemperature: 72.86 });
    expect(rest).toEqual([]);

    const under = await start({
      random: () => 0.5,
      initialState: { desiredTemperature: 77, currentTemperature: 68 },
    });
    const [, underAlarm] = under.tick();
    expect(JSON.parse(underAlarm!.data)).toMatchObject({ code: 'UNDER_TEMP', temperature: 69.8 });
  });

  it('sends comment heartbeats every heartbeatInMs', async () => {
    const server = await start({ heartbeatInMs: 40 });
    const stream = await openStream(server.url);
    await stream.parser.until(
      () => stream.parser.items.filter((i) => i.type === 'comment').length >= 3,
    );
    expect(stream.parser.items.filter((i) => i.type === 'comment')[0]).toEqual({
      type: 'comment',
      text: 'ping',
    });
    expect(stream.parser.raw).toContain(': ping\n\n');
    expect(stream.parser.events).toHaveLength(0);
  });

  it('splits pretty-printed JSON over several data lines with multilineData', async () => {
    const server = await start({ multilineData: true, random: () => 0.5 });
    const stream = await openStream(server.url);
    await server.waitForClients(1);
    server.tick();
    server.send({ event: 'note', data: 'first line\nsecond line\r\nthird line' });
    await stream.parser.until(() => stream.parser.events.length >= 2);
    const [status, note] = stream.parser.events;
    expect(status!.data.split('\n').length).toBe(4);
    expect(JSON.parse(status!.data)).toEqual({
      desiredTemperature: server.state.desiredTemperature,
      currentTemperature: server.state.currentTemperature,
    });
    expect(stream.parser.raw).toContain('data: {\ndata:   "desiredTemperature": ');
    expect(note!.data).toBe('first line\nsecond line\nthird line');
    expect(stream.parser.raw).toContain(
      'event: note\ndata: first line\ndata: second line\ndata: third line\n\n',
    );
  });

  it('send() pushes events now; without an event name clients see "message"', async () => {
    const server = await start();
    const a = await openStream(server.url);
    const b = await openStream(server.url);
    await server.waitForClients(2);
    expect(server.clients).toBe(2);
    const sent = server.send({ data: { hello: 'world' } });
    expect(sent).toMatchObject({ id: 1, event: undefined, data: '{"hello":"world"}' });
    for (const stream of [a, b]) {
      await stream.parser.until(() => stream.parser.events.length === 1);
      expect(stream.parser.events[0]).toEqual({
        type: 'event',
        id: '1',
        event: 'message',
        data: '{"hello":"world"}',
      });
    }
    expect(() => server.send({ event: 'a\nb', data: 1 })).toThrow(TypeError);
    expect(() => server.send({ data: undefined })).toThrow(TypeError);
    expect(server.lastEventId).toBe(1);
  });

  it('serves every configured path and answers others with 404 and other methods with 405', async () => {
    const server = await start({ path: ['/events', '/api/thermostat/events'] });
    expect(server.paths).toEqual(['/events', '/api/thermostat/events']);
    const second = await openStream(`${server.origin}/api/thermostat/events`);
    expect(second.response.statusCode).toBe(200);
    await server.waitForClients(1);
    server.send({ event: 'x', data: 'y' });
    await second.parser.until(() => second.parser.events.length === 1);

    const missing = await openStream(`${server.origin}/stream`);
    expect(missing.response.statusCode).toBe(404);
    expect(missing.response.headers['content-type']).toBe('application/json; charset=utf-8');

    const post = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest(server.url, { method: 'POST', agent: false }, (res) => {
        res.resume();
        resolve(res);
      });
      req.on('error', reject);
      req.end();
    });
    expect(post.statusCode).toBe(405);
    expect(post.headers.allow).toBe('GET');
  });
});

describe('thermostat event server: resuming with Last-Event-ID', () => {
  it('replays the events after Last-Event-ID: no gap, no duplicate', async () => {
    const server = await start();
    const first = await openStream(server.url);
    await server.waitForClients(1);
    for (let i = 0; i < 5; i++) server.send({ event: 'thermostat_status_changed', data: { i } });
    await first.parser.until(() => first.parser.events.length === 5);
    first.close();
    await expect.poll(() => server.clients, { timeout: 10_000 }).toBe(0);
    for (let i = 5; i < 8; i++) server.send({ event: 'thermostat_status_changed', data: { i } });

    const resumed = await openStream(server.url, {
      headers: { 'last-event-id': first.parser.lastEventId },
    });
    await server.waitForClients(1);
    server.send({ event: 'thermostat_status_changed', data: { i: 8 } });
    await resumed.parser.until(() => resumed.parser.events.length === 4);
    expect(ids(first)).toEqual([1, 2, 3, 4, 5]);
    expect(ids(resumed)).toEqual([6, 7, 8, 9]);
    expect(resumed.parser.events.map((e) => JSON.parse(e.data) as unknown)).toEqual([
      { i: 5 },
      { i: 6 },
      { i: 7 },
      { i: 8 },
    ]);
    expect(server.requests.at(-1)!.headers['last-event-id']).toBe('5');
  });

  it('a reconnecting client dropped every 3 events receives every event exactly once', async () => {
    const server = await start({ retryInMs: 10 });
    server.dropConnectionsEvery(3);
    const received: number[] = [];
    let lastId: string | undefined;
    const total = 20;
    let connects = 0;
    while (received.length < total && connects < 100) {
      const stream = await openStream(server.url, {
        headers: lastId === undefined ? {} : { 'last-event-id': lastId },
      });
      connects++;
      await server.waitForClients(1);
      // the sender keeps sending while this client is connected; every third event drops it
      while (server.clients > 0 && server.lastEventId < total)
        server.send({ event: 'thermostat_status_changed', data: { n: server.lastEventId + 1 } });
      if (server.clients > 0) {
        // everything was sent and this client is still connected: take the rest, then leave
        await stream.parser.until(() => stream.parser.lastEventId === String(total));
        stream.close();
      }
      await stream.finished;
      received.push(...ids(stream));
      if (stream.parser.lastEventId !== '') lastId = stream.parser.lastEventId;
    }
    expect(received).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(connects).toBeGreaterThanOrEqual(Math.ceil(total / 3));
  });

  it('the replay buffer is bounded; ?lastEventId= works like the header', async () => {
    const server = await start({ replayBufferSize: 5 });
    for (let i = 0; i < 10; i++) server.send({ data: String(i) });
    expect(server.events.map((e) => e.id)).toEqual([6, 7, 8, 9, 10]);
    const all = await openStream(server.url, { headers: { 'last-event-id': '0' } });
    await all.parser.until(() => all.parser.events.length === 5);
    expect(ids(all)).toEqual([6, 7, 8, 9, 10]);
    const query = await openStream(`${server.url}?lastEventId=8`);
    await query.parser.until(() => query.parser.events.length === 2);
    expect(ids(query)).toEqual([9, 10]);
    // a non-numeric id or none replays nothing
    const garbage = await openStream(server.url, { headers: { 'last-event-id': 'abc' } });
    await server.waitForClients(3);
    server.send({ data: 'live' });
    await garbage.parser.until(() => garbage.parser.events.length === 1);
    expect(ids(garbage)).toEqual([11]);
  });
});

describe('thermostat event server: test hooks', () => {
  it('dropConnections() cuts every stream; mode "end" ends them cleanly', async () => {
    const server = await start();
    const a = await openStream(server.url);
    const b = await openStream(server.url);
    await server.waitForClients(2);
    expect(server.dropConnections()).toBe(2);
    expect(server.clients).toBe(0);
    expect(await a.finished).toBeInstanceOf(Error);
    expect(await b.finished).toBeInstanceOf(Error);

    const c = await openStream(server.url);
    await server.waitForClients(1);
    server.send({ data: 'bye' });
    expect(server.dropConnections('end')).toBe(1);
    expect(await c.finished).toBeUndefined();
    expect(c.parser.events.map((e) => e.data)).toEqual(['bye']);
    expect(() => server.dropConnections('explode' as 'end')).toThrow(TypeError);
  });

  it('faults: 204, 401 and a wrong content type, for `times` requests', async () => {
    const server = await start();
    server.faults.set({ kind: 'status', status: 204, times: 1 });
    const noContent = await openStream(server.url);
    expect(noContent.response.statusCode).toBe(204);
    expect(await noContent.finished).toBeUndefined();
    expect(noContent.parser.raw).toBe('');
    expect(server.faults.current).toBeUndefined();

    server.faults.set({ kind: 'status', status: 401 });
    const unauthorized = await openStream(server.url);
    expect(unauthorized.response.statusCode).toBe(401);
    expect(unauthorized.response.headers['www-authenticate']).toMatch(/^Basic /);
    expect((await openStream(server.url)).response.statusCode).toBe(401);
    expect(server.faults.current).toMatchObject({ kind: 'status', status: 401, times: Infinity });

    server.faults.set({ kind: 'status', status: 503, retryAfter: 3, times: 1 });
    const unavailable = await openStream(server.url);
    expect(unavailable.response.statusCode).toBe(503);
    expect(unavailable.response.headers['retry-after']).toBe('3');

    server.faults.set({ kind: 'content-type', times: 1 });
    const json = await openStream(server.url);
    expect(json.response.statusCode).toBe(200);
    expect(json.response.headers['content-type']).toBe('application/json');
    await json.finished;
    expect(JSON.parse(json.parser.raw)).toEqual({ message: 'This is not an event stream' });

    server.faults.clear();
    const normal = await openStream(server.url);
    expect(normal.response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(server.clients).toBe(1);
    expect(() => {
      server.faults.set({ kind: 'status', status: 100 });
    }).toThrow(RangeError);
    expect(() => {
      server.faults.set({ kind: 'explode' } as unknown as { kind: 'stall' });
    }).toThrow(TypeError);
  });

  it('fault "stall" sends headers and then nothing, not even heartbeats', async () => {
    const server = await start({ heartbeatInMs: 20 });
    server.faults.set({ kind: 'stall', times: 1 });
    const stalled = await openStream(server.url);
    expect(stalled.response.statusCode).toBe(200);
    expect(stalled.response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const live = await openStream(server.url);
    await server.waitForClients(1);
    expect(server.clients).toBe(1);
    server.send({ data: 'one' });
    server.send({ data: 'two' });
    await live.parser.until(
      () =>
        live.parser.events.length === 2 &&
        live.parser.items.filter((i) => i.type === 'comment').length >= 2,
    );
    expect(stalled.parser.raw).toBe('');
    // a stalled stream still counts as a connection and is dropped with the others
    expect(server.dropConnections()).toBe(2);
    expect(await stalled.finished).toBeInstanceOf(Error);
  });

  it('fault "oversized-event" starts the stream with one huge event, then goes on', async () => {
    const server = await start();
    server.faults.set({ kind: 'oversized-event', bytes: 2_000_000, times: 1 });
    const stream = await openStream(server.url);
    await server.waitForClients(1);
    server.send({ event: 'thermostat_status_changed', data: { ok: true } });
    await stream.parser.until(() => stream.parser.events.length === 2);
    const [huge, next] = stream.parser.events;
    expect(huge!.event).toBe('thermostat_status_changed');
    expect(huge!.id).toBe('');
    expect(huge!.data.length).toBe(2_000_000);
    expect(JSON.parse(huge!.data)).toEqual({ padding: 'x'.repeat(2_000_000 - 14) });
    expect(next).toEqual({
      type: 'event',
      id: '1',
      event: 'thermostat_status_changed',
      data: '{"ok":true}',
    });
  });

  it('fault "no-newline" streams bytes without a line break', async () => {
    const server = await start();
    server.faults.set({ kind: 'no-newline', bytes: 300_000 });
    const stream = await openStream(server.url);
    await stream.parser.until(() => stream.parser.raw.length >= 300_000);
    expect(stream.parser.raw).toHaveLength(300_000);
    expect(stream.parser.raw).not.toMatch(/[\r\n]/);
    expect(server.clients).toBe(0);
  });

  it('faults from the query string, unless disabled', async () => {
    const server = await start();
    expect((await openStream(`${server.url}?fault=204`)).response.statusCode).toBe(204);
    const unauthorized = await openStream(`${server.url}?fault=401`);
    expect(unauthorized.response.statusCode).toBe(401);
    const wrongType = await openStream(`${server.url}?fault=content-type&contentType=text/plain`);
    expect(wrongType.response.headers['content-type']).toBe('text/plain');
    const noNewline = await openStream(`${server.url}?fault=no-newline&bytes=1000`);
    await noNewline.parser.until(() => noNewline.parser.raw.length === 1000);
    expect((await openStream(`${server.url}?fault=nonsense`)).response.statusCode).toBe(400);

    const strict = await start({ queryFaults: false });
    expect((await openStream(`${strict.url}?fault=204`)).response.statusCode).toBe(200);
  });

  it('destroys a stream whose client stopped reading once maxBufferedBytes is exceeded', async () => {
    const server = await start({ maxBufferedBytes: 64 * 1024 });
    const stream = await openStream(server.url);
    await server.waitForClients(1);
    stream.response.pause();
    const chunk = 'x'.repeat(32 * 1024);
    for (let i = 0; i < 1000 && server.clients > 0; i++) server.send({ data: chunk });
    expect(server.clients).toBe(0);
    stream.response.resume();
    expect(await stream.finished).toBeInstanceOf(Error);
  });
});

describe('thermostat event server: authentication, TLS and lifecycle', () => {
  it('Basic authentication', async () => {
    const server = await start({ auth: { kind: 'basic', username: 'user', password: 'pw' } });
    const refused = await openStream(server.url);
    expect(refused.response.statusCode).toBe(401);
    expect(refused.response.headers['www-authenticate']).toMatch(/^Basic realm=/);
    const ok = await openStream(server.url, {
      headers: { authorization: `Basic ${Buffer.from('user:pw').toString('base64')}` },
    });
    expect(ok.response.statusCode).toBe(200);
    expect(server.requests.at(-1)!.headers.authorization).toBe('Basic [redacted]');
  });

  it('mTLS streams to a trusted client certificate and refuses none', async () => {
    const pki = await generateTestPki();
    const server = await start({
      tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca },
      auth: { kind: 'mtls' },
    });
    expect(server.url).toMatch(/^https:/);
    const stream = await openStream(server.url, {
      ca: pki.ca,
      cert: pki.client.cert,
      key: pki.client.key,
    });
    await server.waitForClients(1);
    server.send({ event: 'alarm', data: { code: 'OVER_TEMP', temperature: 80 } });
    await stream.parser.until(() => stream.parser.events.length === 1);
    expect(stream.parser.events[0]!.event).toBe('alarm');
    await expect(open(server.url, { ca: pki.ca })).rejects.toThrow();
    await expect(
      open(server.url, { ca: pki.ca, cert: pki.wrongClient.cert, key: pki.wrongClient.key }),
    ).rejects.toThrow();
  });

  it('close() ends every stream, rejects waiters, stops the timers, and is idempotent', async () => {
    const server = await startThermostatEventServer({ intervalInMs: 20, heartbeatInMs: 20 });
    const stream = await open(server.url);
    onTestFinished(() => {
      stream.close();
    });
    await server.waitForClients(1);
    const waiting = server.waitForClients(5).then(
      () => undefined,
      (error: unknown) => error,
    );
    const first = server.close();
    expect(server.close()).toBe(first);
    await first;
    expect(await stream.finished).toBeInstanceOf(Error);
    expect(await waiting).toSatisfy(
      (error: unknown) => isAioError(error) && error.code === 'ERR_AIO_CLOSED',
    );
    expect(server.connections).toBe(0);
    await expect(open(server.url)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('waitForClients honours its signal', async () => {
    const server = await start();
    const controller = new AbortController();
    const waiting = server.waitForClients(1, { signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toSatisfy(
      (error: unknown) => isAioError(error) && error.code === 'ERR_AIO_ABORTED',
    );
  });

  it('shares a ThermostatSimulator and rejects invalid options', async () => {
    const state = new ThermostatSimulator({ desiredTemperature: 70, currentTemperature: 70 });
    const server = await start({ state });
    expect(server.state).toBe(state);
    state.setDesiredTemperature(74);
    const [event] = server.tick();
    expect(JSON.parse(event!.data)).toMatchObject({ desiredTemperature: 74 });

    await expect(startThermostatEventServer({ intervalInMs: -1 })).rejects.toThrow(RangeError);
    await expect(startThermostatEventServer({ path: 'events' })).rejects.toThrow(RangeError);
    await expect(startThermostatEventServer({ path: [] })).rejects.toThrow(TypeError);
    await expect(startThermostatEventServer({ retryInMs: 1.5 })).rejects.toThrow(RangeError);
    await expect(
      startThermostatEventServer({ multilineData: 'yes' as unknown as boolean }),
    ).rejects.toThrow(TypeError);
    await expect(
      startThermostatEventServer({ state, initialState: { power: 'off' } }),
    ).rejects.toSatisfy((error: unknown) => isAioError(error) && error.code === 'ERR_AIO_CONFIG');
    expect(() => {
      server.dropConnectionsEvery(0);
    }).toThrow(RangeError);
  });
});
