import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { isAioError } from '@aio-connector/core';
import {
  ThermostatSimulator,
  startThermostatServer,
  type ThermostatServer,
  type ThermostatServerOptions,
} from '@aio-connector/devkit';
import { generateTestPki } from '@aio-connector/testing';

interface CallOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
}

interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  readonly bytes: number;
}

/** One request on a fresh connection (no keep-alive), the whole body read. */
function call(url: string, options: CallOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      target,
      {
        method: options.method ?? 'GET',
        headers: {
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
          ...options.headers,
        },
        agent: false,
        ...(options.ca === undefined ? {} : { ca: options.ca }),
        ...(options.cert === undefined ? {} : { cert: options.cert }),
        ...(options.key === undefined ? {} : { key: options.key }),
        timeout: 20_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: body.toString('utf8'),
            bytes: body.length,
          });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(options.body);
  });
}

async function json(url: string, options: CallOptions = {}): Promise<unknown> {
  const reply = await call(url, options);
  expect(reply.status).toBe(200);
  expect(reply.headers['content-type']).toBe('application/json; charset=utf-8');
  return JSON.parse(reply.text);
}

async function start(options: ThermostatServerOptions = {}): Promise<ThermostatServer> {
  const server = await startThermostatServer(options);
  onTestFinished(() => server.close());
  return server;
}

/** A seeded random source (mulberry32). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('thermostat REST server: the official sample API', () => {
  it('answers every GET endpoint with the JSON shapes and ranges of the sample', async () => {
    const clock = new Date('2026-01-15T08:30:00.000Z');
    const server = await start({ random: seeded(1), now: () => clock });
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.port).toBeGreaterThan(0);

    const current = (await json(`${server.url}/api/thermostat/current`)) as Record<string, number>;
    expect(Object.keys(current)).toEqual(['currentTemperature']);
    expect(current.currentTemperature).toBeGreaterThanOrEqual(68);
    expect(current.currentTemperature).toBeLessThanOrEqual(77);

    const desired = (await json(`${server.url}/api/thermostat/desired`)) as Record<string, number>;
    expect(Object.keys(desired)).toEqual(['desiredTemperature']);
    expect(typeof desired.desiredTemperature).toBe('number');

    const status = (await json(`${server.url}/api/thermostat/status`)) as Record<string, unknown>;
    expect(status).toEqual({
      status: desired.desiredTemperature! > current.currentTemperature! ? 'heating' : 'cooling',
      currentTemperature: current.currentTemperature,
      desiredTemperature: desired.desiredTemperature,
    });

    const env = (await json(`${server.url}/api/sensor/env`)) as Record<string, unknown>;
    expect(env).toEqual({
      temperature: current.currentTemperature,
      humidity: expect.any(Number),
      unit: { temperature: 'Fahrenheit', humidity: 'Percentage' },
      currentTemperature: current.currentTemperature,
      desiredTemperature: desired.desiredTemperature,
    });
    expect(env.humidity).toBeGreaterThanOrEqual(30);
    expect(env.humidity).toBeLessThanOrEqual(70);

    const location = (await json(`${server.url}/api/factory/location`)) as Record<string, unknown>;
    expect(location).toEqual({
      floorNumber: expect.any(Number),
      factoryId: expect.stringMatching(/^factory-\d{3}$/),
      timestamp: '2026-01-15T08:30:00.000Z',
    });
    expect(Number.isInteger(location.floorNumber)).toBe(true);

    // the dataset-level path of the sample assets answers both data points at once
    expect(await json(`${server.url}/thermostat`)).toEqual({
      currentTemperature: current.currentTemperature,
      desiredTemperature: desired.desiredTemperature,
    });
    expect(await json(`${server.url}/api/thermostat/power`)).toEqual({ power: 'on' });
  });

  it('sets the desired temperature and validates the body like the sample', async () => {
    const server = await start({ random: seeded(2) });
    const url = `${server.url}/api/thermostat/desired`;

    const ok = await call(url, { method: 'POST', body: '{"desiredTemperature": 74.5}' });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.text)).toEqual({ message: 'Desired temperature set successfully' });
    expect(await json(url)).toEqual({ desiredTemperature: 74.5 });
    expect(server.state.desiredTemperature).toBe(74.5);

    for (const body of ['{}', '{"desiredTemperature":"hot"}', 'not json', '', '[72]']) {
      const bad = await call(url, { method: 'POST', body });
      expect(bad.status, body).toBe(400);
      expect(JSON.parse(bad.text)).toEqual({ message: 'Desired temperature is required' });
    }
    const outOfRange = await call(url, { method: 'POST', body: '{"desiredTemperature": 200}' });
    expect(outOfRange.status).toBe(400);
    expect(JSON.parse(outOfRange.text)).toEqual({
      message: 'Desired temperature must be between 50 and 90',
    });
    expect(server.state.desiredTemperature).toBe(74.5);

    const posted = server.requests.filter((r) => r.method === 'POST').map((r) => r.body);
    expect(posted[0]).toBe('{"desiredTemperature": 74.5}');
    expect(posted).toHaveLength(7);
  });

  it('turns the power off and on; off shows in the status', async () => {
    const server = await start({
      initialState: { desiredTemperature: 75, currentTemperature: 70 },
    });
    const url = `${server.url}/api/thermostat/power`;

    const off = await call(url, { method: 'POST', body: '{"power":"off"}' });
    expect(off.status).toBe(200);
    expect(JSON.parse(off.text)).toEqual({ message: 'Thermostat power turned off' });
    expect(await json(`${server.url}/api/thermostat/status`)).toMatchObject({ status: 'off' });
    expect(await json(url)).toEqual({ power: 'off' });

    const bad = await call(url, { method: 'POST', body: '{"power":"standby"}' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toEqual({ message: "Power state must be 'on' or 'off'" });

    const on = await call(url, { method: 'POST', body: '{"power":"on"}' });
    expect(JSON.parse(on.text)).toEqual({ message: 'Thermostat power turned on' });
    expect(await json(`${server.url}/api/thermostat/status`)).toMatchObject({ status: 'heating' });
  });

  it('moves the current temperature towards the desired one as the clock advances', async () => {
    let time = Date.parse('2026-01-01T00:00:00Z');
    const server = await start({
      random: () => 0.5,
      now: () => new Date(time),
      stepInMs: 1000,
      initialState: { desiredTemperature: 76, currentTemperature: 68 },
    });
    const read = async () =>
      ((await json(`${server.url}/api/thermostat/current`)) as { currentTemperature: number })
        .currentTemperature;
    expect(await read()).toBe(68);
    expect(await read()).toBe(68); // same step, same value
    time += 1000;
    expect(await read()).toBe(69.6);
    time += 30_000;
    expect(await read()).toBeCloseTo(76, 1);
  });

  it('is deterministic with an injected random source and clock', async () => {
    const clock = () => new Date('2026-02-01T00:00:00Z');
    const a = await start({ random: seeded(99), now: clock });
    const b = await start({ random: seeded(99), now: clock });
    for (const path of ['/api/thermostat/status', '/api/sensor/env', '/api/factory/location'])
      expect(await json(`${a.url}${path}`)).toEqual(await json(`${b.url}${path}`));
  });

  it('serves a ThermostatSimulator shared with other servers', async () => {
    const state = new ThermostatSimulator({ desiredTemperature: 71, currentTemperature: 71 });
    const a = await start({ state });
    const b = await start({ state });
    expect(a.state).toBe(state);
    await call(`${a.url}/api/thermostat/desired`, {
      method: 'POST',
      body: '{"desiredTemperature":73}',
    });
    expect(await json(`${b.url}/api/thermostat/desired`)).toEqual({ desiredTemperature: 73 });
  });

  it('answers unknown paths with 404 JSON, wrong methods with 405 and Allow, HEAD like GET', async () => {
    const server = await start();
    const missing = await call(`${server.url}/api/thermostat/humidity`);
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(missing.text)).toEqual({
      error: 'Not Found',
      message: 'No resource at /api/thermostat/humidity',
    });

    const wrong = await call(`${server.url}/api/thermostat/current`, { method: 'DELETE' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe('GET, HEAD');
    expect(JSON.parse(wrong.text)).toMatchObject({ error: 'Method Not Allowed' });
    const wrongPost = await call(`${server.url}/api/thermostat/status`, {
      method: 'POST',
      body: '{}',
    });
    expect(wrongPost.status).toBe(405);
    const desiredPut = await call(`${server.url}/api/thermostat/desired`, { method: 'PUT' });
    expect(desiredPut.headers.allow).toBe('GET, POST, HEAD');

    const head = await call(`${server.url}/api/thermostat/current`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.bytes).toBe(0);
    expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
  });

  it('refuses request bodies over 64 KiB with 413', async () => {
    const server = await start({ initialState: { desiredTemperature: 72 } });
    const reply = await call(`${server.url}/api/thermostat/desired`, {
      method: 'POST',
      body: JSON.stringify({ desiredTemperature: 70, note: 'x'.repeat(70_000) }),
    });
    expect(reply.status).toBe(413);
    expect(server.state.desiredTemperature).toBe(72);
    expect(server.requests[0]!.body).toHaveLength(64 * 1024);
  });
});

describe('thermostat REST server: authentication and TLS', () => {
  it('requires Basic credentials, compares them, and never logs them', async () => {
    const server = await start({
      auth: { kind: 'basic', username: 'username', password: 's3cret:pw' },
    });
    const url = `${server.url}/api/sensor/env`;

    const none = await call(url);
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Basic realm="thermostat", charset="UTF-8"');
    expect(JSON.parse(none.text)).toEqual({
      error: 'Unauthorized',
      message: 'Authentication required',
    });

    for (const authorization of [
      basic('username', 'wrong'),
      basic('user', 's3cret:pw'),
      basic('username', 's3cret:pw').replace('Basic', 'Bearer'),
      'Basic !!!',
    ]) {
      const reply = await call(url, { headers: { authorization } });
      expect(reply.status, authorization).toBe(401);
    }

    const ok = await call(url, { headers: { authorization: basic('username', 's3cret:pw') } });
    expect(ok.status).toBe(200);
    // lower-case scheme is accepted too
    const lower = await call(url, {
      headers: { authorization: basic('username', 's3cret:pw').replace('Basic', 'basic') },
    });
    expect(lower.status).toBe(200);

    const logged = server.requests;
    expect(logged).toHaveLength(7);
    expect(logged[0]!.headers.authorization).toBeUndefined();
    expect(logged[1]!.headers.authorization).toBe('Basic [redacted]');
    expect(logged[3]!.headers.authorization).toBe('Bearer [redacted]');
    const everything = JSON.stringify(logged);
    expect(everything).not.toContain(Buffer.from('username:s3cret:pw').toString('base64'));
    expect(everything).not.toContain('s3cret');
  });

  it('serves HTTPS with a certificate from the test CA', async () => {
    const pki = await generateTestPki();
    const server = await start({ tls: { cert: pki.server.cert, key: pki.server.key } });
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(await json(`${server.url}/api/thermostat/desired`, { ca: pki.ca })).toEqual({
      desiredTemperature: server.state.desiredTemperature,
    });
    // a client that does not trust the CA refuses the server
    await expect(call(`${server.url}/api/thermostat/desired`)).rejects.toThrow(/certificate/i);
    await expect(
      call(`${server.url}/api/thermostat/desired`, { ca: pki.otherCa }),
    ).rejects.toThrow();
    // a TLS connection cannot be reset with RST; it is cut instead
    server.faults.set('*', { reset: 'before-response', times: 1 });
    await expect(call(`${server.url}/api/thermostat/desired`, { ca: pki.ca })).rejects.toThrow(
      /socket hang up|ECONNRESET/,
    );
  });

  it('HTTPS with Basic authentication', async () => {
    const pki = await generateTestPki();
    const server = await start({
      tls: { cert: pki.server.cert, key: pki.server.key },
      auth: { kind: 'basic', username: 'u', password: 'p' },
    });
    const url = `${server.url}/api/thermostat/current`;
    expect((await call(url, { ca: pki.ca })).status).toBe(401);
    expect(
      (await call(url, { ca: pki.ca, headers: { authorization: basic('u', 'p') } })).status,
    ).toBe(200);
  });

  it('mTLS accepts a client certificate from the CA and refuses none or a foreign one', async () => {
    const pki = await generateTestPki();
    const server = await start({
      tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca },
      auth: { kind: 'mtls' },
    });
    const url = `${server.url}/api/thermostat/status`;

    const ok = await call(url, { ca: pki.ca, cert: pki.client.cert, key: pki.client.key });
    expect(ok.status).toBe(200);
    expect(server.requests.at(-1)!.clientCertificateSubject).toBe('aio-test-client');

    // a client certificate issued by an intermediate, sent with its chain
    const chained = await call(url, {
      ca: pki.ca,
      cert: pki.intermediateClient.cert + pki.intermediateCa,
      key: pki.intermediateClient.key,
    });
    expect(chained.status).toBe(200);
    expect(server.requests.at(-1)!.clientCertificateSubject).toBe('aio-test-intermediate-client');

    await expect(call(url, { ca: pki.ca })).rejects.toThrow();
    await expect(
      call(url, { ca: pki.ca, cert: pki.wrongClient.cert, key: pki.wrongClient.key }),
    ).rejects.toThrow();
    // refused handshakes never reached the API
    expect(server.requests).toHaveLength(2);
  });

  it('mTLS with allowedSubjects answers 403 to other trusted certificates', async () => {
    const pki = await generateTestPki();
    const server = await start({
      tls: { cert: pki.server.cert, key: pki.server.key },
      auth: { kind: 'mtls', ca: pki.ca, allowedSubjects: ['aio-test-intermediate-client'] },
    });
    const url = `${server.url}/api/thermostat/status`;
    const refused = await call(url, { ca: pki.ca, cert: pki.client.cert, key: pki.client.key });
    expect(refused.status).toBe(403);
    const allowed = await call(url, {
      ca: pki.ca,
      cert: pki.intermediateClient.cert + pki.intermediateCa,
      key: pki.intermediateClient.key,
    });
    expect(allowed.status).toBe(200);
  });

  it('tls.requestCert records an optional client certificate without requiring it', async () => {
    const pki = await generateTestPki();
    const server = await start({
      tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca, requestCert: true },
    });
    const url = `${server.url}/api/thermostat/current`;
    expect((await call(url, { ca: pki.ca })).status).toBe(200);
    expect(server.requests.at(-1)!.clientCertificateSubject).toBeUndefined();
    expect(
      (await call(url, { ca: pki.ca, cert: pki.client.cert, key: pki.client.key })).status,
    ).toBe(200);
    expect(server.requests.at(-1)!.clientCertificateSubject).toBe('aio-test-client');
  });
});

describe('thermostat REST server: conditional GET', () => {
  it('answers If-None-Match with 304 while the content is unchanged', async () => {
    let time = Date.parse('2026-03-01T00:00:00Z');
    const server = await start({ random: seeded(5), now: () => new Date(time) });
    const desired = `${server.url}/api/thermostat/desired`;
    const first = await call(desired);
    const etag = first.headers.etag!;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);

    const again = await call(desired, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.bytes).toBe(0);
    expect(again.headers.etag).toBe(etag);
    // weak comparison and lists are honoured
    const weak = await call(desired, { headers: { 'if-none-match': `"other", W/${etag}` } });
    expect(weak.status).toBe(304);

    await call(desired, { method: 'POST', body: '{"desiredTemperature":66}' });
    const changed = await call(desired, { headers: { 'if-none-match': etag } });
    expect(changed.status).toBe(200);
    expect(JSON.parse(changed.text)).toEqual({ desiredTemperature: 66 });
    expect(changed.headers.etag).not.toBe(etag);

    // the current temperature keeps its ETag within a simulation step, not across steps
    const current = `${server.url}/api/thermostat/current`;
    const c1 = await call(current);
    const c2 = await call(current, { headers: { 'if-none-match': c1.headers.etag! } });
    expect(c2.status).toBe(304);
    time += 5000;
    const c3 = await call(current, { headers: { 'if-none-match': c1.headers.etag! } });
    expect(c3.status).toBe(200);
    expect(c3.text).not.toBe(c1.text);
  });
});

describe('thermostat REST server: fault injection', () => {
  it('answers a status with Retry-After for `times` requests, then normally', async () => {
    const server = await start();
    const url = `${server.url}/api/thermostat/current`;
    server.faults.set('/api/thermostat/current', { status: 503, retryAfter: 2, times: 2 });
    expect(server.faults.get('/api/thermostat/current')).toMatchObject({ status: 503, times: 2 });

    const first = await call(url);
    expect(first.status).toBe(503);
    expect(first.headers['retry-after']).toBe('2');
    expect(JSON.parse(first.text)).toEqual({
      error: 'Service Unavailable',
      message: 'Injected fault: HTTP 503',
    });
    expect(server.faults.get('/api/thermostat/current')?.times).toBe(1);
    expect((await call(url)).status).toBe(503);
    expect(server.faults.size).toBe(0);
    expect((await call(url)).status).toBe(200);
    // other paths were never affected
    server.faults.set('/api/thermostat/current', { status: 429 });
    expect((await call(`${server.url}/api/thermostat/desired`)).status).toBe(200);
    expect((await call(url)).status).toBe(429);
    expect((await call(url)).status).toBe(429);
    expect(server.faults.delete('/api/thermostat/current')).toBe(true);
    expect((await call(url)).status).toBe(200);
  });

  it('a "*" fault applies to every path; a path fault wins over it', async () => {
    const server = await start();
    server.faults.set('*', { status: 500 });
    server.faults.set('/api/thermostat/desired', { status: 401 });
    expect((await call(`${server.url}/api/thermostat/current`)).status).toBe(500);
    expect((await call(`${server.url}/nowhere`)).status).toBe(500);
    const unauthorized = await call(`${server.url}/api/thermostat/desired`);
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers['www-authenticate']).toMatch(/^Basic /);
    server.faults.clear();
    expect((await call(`${server.url}/api/thermostat/current`)).status).toBe(200);
  });

  it('delays the answer by delayInMs', async () => {
    const server = await start();
    server.faults.set('/api/thermostat/status', { delayInMs: 300 });
    const started = performance.now();
    const reply = await call(`${server.url}/api/thermostat/status`);
    expect(reply.status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('pads the body to bodyBytes, as valid JSON, with or without Content-Length', async () => {
    const server = await start();
    server.faults.set('/api/thermostat/current', { bodyBytes: 3_000_000, times: 1 });
    const big = await call(`${server.url}/api/thermostat/current`);
    expect(big.status).toBe(200);
    expect(big.bytes).toBe(3_000_000);
    expect(Number(big.headers['content-length'])).toBe(3_000_000);
    const parsed = JSON.parse(big.text) as { currentTemperature: number; padding: string };
    expect(parsed.currentTemperature).toBe(server.state.currentTemperature);
    expect(parsed.padding).toMatch(/^x+$/);
    expect(big.headers.etag).toBeUndefined();

    server.faults.set('/api/thermostat/current', { bodyBytes: 100_000, chunked: true, times: 1 });
    const chunked = await call(`${server.url}/api/thermostat/current`);
    expect(chunked.headers['content-length']).toBeUndefined();
    expect(chunked.headers['transfer-encoding']).toBe('chunked');
    expect(chunked.bytes).toBe(100_000);
  });

  it('sends malformed JSON', async () => {
    const server = await start();
    server.faults.set('/api/thermostat/desired', { malformedJson: true });
    const reply = await call(`${server.url}/api/thermostat/desired`);
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(reply.text).toBe(`{"desiredTemperature":${server.state.desiredTemperature}`);
    expect(() => JSON.parse(reply.text) as unknown).toThrow(SyntaxError);
  });

  it('resets the connection mid-body, after the headers and half the body', async () => {
    const server = await start();
    server.faults.set('/api/thermostat/current', { bodyBytes: 200_000, reset: 'mid-body' });
    const outcome = await new Promise<{
      status: number;
      length: number;
      received: number;
      error: Error;
    }>((resolve, reject) => {
      const req = httpRequest(`${server.url}/api/thermostat/current`, { agent: false }, (res) => {
        let received = 0;
        res.on('data', (chunk: Buffer) => (received += chunk.length));
        res.on('end', () => {
          reject(new Error('the body ended normally'));
        });
        res.on('error', (error) => {
          resolve({
            status: res.statusCode ?? 0,
            length: Number(res.headers['content-length']),
            received,
            error,
          });
        });
      });
      req.on('error', reject);
      req.end();
    });
    expect(outcome.status).toBe(200);
    expect(outcome.length).toBe(200_000);
    expect(outcome.received).toBeGreaterThan(0);
    expect(outcome.received).toBeLessThanOrEqual(100_000);
    expect(outcome.error.message).toMatch(/aborted/i);
  });

  it('resets the connection before answering', async () => {
    const server = await start();
    server.faults.set('/api/thermostat/current', { reset: 'before-response', times: 1 });
    await expect(call(`${server.url}/api/thermostat/current`)).rejects.toMatchObject({
      code: expect.stringMatching(/ECONNRESET|EPIPE/),
    });
    expect((await call(`${server.url}/api/thermostat/current`)).status).toBe(200);
  });

  it('takes faults from the query string, unless disabled', async () => {
    const server = await start();
    const base = `${server.url}/api/thermostat/current`;
    const unavailable = await call(`${base}?fault=503&retryAfter=1`);
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers['retry-after']).toBe('1');
    expect((await call(`${base}?fault=status&status=502`)).status).toBe(502);
    const malformed = await call(`${base}?fault=malformed,oversized&bodyBytes=5000`);
    expect(malformed.bytes).toBe(4999);
    expect(() => JSON.parse(malformed.text) as unknown).toThrow(SyntaxError);
    const started = performance.now();
    expect((await call(`${base}?fault=delay&delayInMs=200`)).status).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    await expect(call(`${base}?fault=reset-before-response`)).rejects.toThrow();
    const unknown = await call(`${base}?fault=explode`);
    expect(unknown.status).toBe(400);
    expect(JSON.parse(unknown.text)).toMatchObject({ message: 'unknown fault "explode"' });

    const strict = await start({ queryFaults: false });
    expect((await call(`${strict.url}/api/thermostat/current?fault=503`)).status).toBe(200);
  });

  it('validates faults', async () => {
    {
      const server = await start();
      expect(() => {
        server.faults.set('/x', { status: 99 });
      }).toThrow(RangeError);
      expect(() => {
        server.faults.set('/x', { times: 0 });
      }).toThrow(RangeError);
      expect(() => {
        server.faults.set('/x', { bodyBytes: -1 });
      }).toThrow(RangeError);
      expect(() => {
        server.faults.set('/x', { reset: 'sometimes' as 'mid-body' });
      }).toThrow(TypeError);
      expect(() => {
        server.faults.set('', { status: 500 });
      }).toThrow(TypeError);
      expect(server.faults.size).toBe(0);
    }
  });
});

describe('thermostat REST server: lifecycle and options', () => {
  it('close() ends open keep-alive connections and pending answers, and is idempotent', async () => {
    const server = await startThermostatServer();
    server.faults.set('/slow', { delayInMs: 60_000 });
    // a raw keep-alive connection that stays open
    const socket = connect(server.port, '127.0.0.1');
    onTestFinished(() => {
      socket.destroy();
    });
    const closed = new Promise<void>((resolve) => {
      socket.once('close', () => {
        resolve();
      });
    });
    socket.write('GET /api/thermostat/current HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((resolve) => socket.once('data', resolve));
    const pending = call(`${server.url}/slow`).then(
      () => new Error('answered'),
      (error: unknown) => error,
    );
    await expect.poll(() => server.requests.length, { timeout: 10_000 }).toBe(2);
    expect(server.connections).toBe(2);

    const first = server.close();
    const second = server.close();
    expect(second).toBe(first);
    await first;
    await closed;
    expect(await pending).toMatchObject({ code: expect.stringMatching(/ECONNRESET|EPIPE/) });
    expect(server.connections).toBe(0);
    await expect(call(`${server.url}/api/thermostat/current`)).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
    await server[Symbol.asyncDispose]();
  });

  it('supports await using', async () => {
    let url: string;
    {
      await using server = await startThermostatServer();
      url = server.url;
      expect((await call(`${url}/api/thermostat/current`)).status).toBe(200);
    }
    await expect(call(`${url}/api/thermostat/current`)).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });

  it('an aborted signal stops the start, and aborting later closes the server', async () => {
    await expect(startThermostatServer({ signal: AbortSignal.abort() })).rejects.toSatisfy(
      (error: unknown) => isAioError(error) && error.code === 'ERR_AIO_ABORTED',
    );
    const controller = new AbortController();
    const server = await startThermostatServer({ signal: controller.signal });
    onTestFinished(() => server.close());
    expect((await call(`${server.url}/api/thermostat/current`)).status).toBe(200);
    controller.abort();
    await server.close();
    await expect(call(`${server.url}/api/thermostat/current`)).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });

  it('rejects invalid options', async () => {
    await expect(startThermostatServer({ port: 70_000 })).rejects.toThrow(RangeError);
    await expect(startThermostatServer({ port: 1.5 })).rejects.toThrow(RangeError);
    await expect(startThermostatServer({ host: '' })).rejects.toThrow(TypeError);
    await expect(
      startThermostatServer({ auth: { kind: 'token' } as unknown as { kind: 'anonymous' } }),
    ).rejects.toThrow(TypeError);
    await expect(
      startThermostatServer({ auth: { kind: 'basic', username: 'a:b', password: 'c' } }),
    ).rejects.toThrow(RangeError);
    await expect(startThermostatServer({ auth: { kind: 'mtls' } })).rejects.toSatisfy(
      (error: unknown) =>
        isAioError(error) && error.code === 'ERR_AIO_CONFIG' && /"tls"/.test(error.message),
    );
    await expect(
      startThermostatServer({
        state: new ThermostatSimulator(),
        initialState: { desiredTemperature: 70 },
      }),
    ).rejects.toSatisfy(
      (error: unknown) => isAioError(error) && /"state".*"initialState"/.test(error.message),
    );
    await expect(startThermostatServer({ stepInMs: 0 })).rejects.toThrow(RangeError);
  });

  it('keeps at most maxRecordedRequests and reports each to onRequest', async () => {
    const seen: string[] = [];
    const server = await start({
      maxRecordedRequests: 2,
      onRequest: (r) => seen.push(`${r.method} ${r.path}${r.search}`),
    });
    await call(`${server.url}/api/thermostat/current`);
    await call(`${server.url}/api/thermostat/desired?x=1`);
    await call(`${server.url}/api/thermostat/status`);
    expect(seen).toEqual([
      'GET /api/thermostat/current',
      'GET /api/thermostat/desired?x=1',
      'GET /api/thermostat/status',
    ]);
    expect(server.requests.map((r) => r.path)).toEqual([
      '/api/thermostat/desired',
      '/api/thermostat/status',
    ]);
    expect(server.requests[0]!.search).toBe('?x=1');
    expect(server.requests[0]!.headers.host).toBe(`127.0.0.1:${server.port}`);
  });
});
