import { describe, expect, it } from 'vitest';
import {
  StateStoreServiceError,
  compareHlc,
  decodeResp3,
  encodeDelRequest,
  encodeGetRequest,
  encodeHlc,
  encodeKeyNotifyRequest,
  encodeResp3,
  encodeSetRequest,
  encodeVdelRequest,
  parseHlc,
  parseNotification,
  parseSetResponse,
  stateStoreServiceErrorMessages,
} from '@aio-connector/core';
import type { StateStoreServiceErrorKind, StateStoreSetRequestOptions } from '@aio-connector/core';
import { StateStoreEngine } from '@aio-connector/devkit';
import type { StateStoreEngineResponse } from '@aio-connector/devkit';

const start = 1_755_676_800_000;
const utf8 = (text: string) => new TextEncoder().encode(text);
const wire = (data: Uint8Array) => Buffer.from(data).toString('latin1');

/** An engine on a fake clock, and a client that stamps `__ts` from the same clock. */
function setup() {
  const clock = { now: start };
  const engine = new StateStoreEngine({ now: () => clock.now });
  const ts = (offsetInMs = 0) =>
    encodeHlc({ timestamp: clock.now + offsetInMs, counter: 0, nodeId: 'client' });
  const run = (
    payload: Uint8Array,
    headers: { clientId?: string; timestamp?: string; fencingToken?: string } = {},
  ) => engine.execute({ payload, clientId: headers.clientId ?? 'client-1', ...headers });
  const set = (
    key: string | Uint8Array,
    value: string | Uint8Array,
    options: StateStoreSetRequestOptions = {},
    headers: { clientId?: string; fencingToken?: string } = {},
  ) => run(encodeSetRequest(key, value, options), { timestamp: ts(), ...headers });
  return { clock, engine, ts, run, set };
}

function expectError(response: StateStoreEngineResponse, kind: StateStoreServiceErrorKind) {
  expect(wire(response.payload)).toBe(
    `-ERR ${stateStoreServiceErrorMessages[kind as keyof typeof stateStoreServiceErrorMessages]}\r\n`,
  );
  expect(response.version).toBeUndefined();
  // the SDK's own parser classifies the text the same way
  try {
    parseSetResponse(response.payload);
    expect.unreachable();
  } catch (error) {
    expect(error).toBeInstanceOf(StateStoreServiceError);
    expect((error as StateStoreServiceError).kind).toBe(kind);
  }
}

describe('StateStoreEngine: SET / GET / DEL / VDEL', () => {
  it('stores binary values and versions every write with an HLC later than the request', () => {
    const { run, set, ts } = setup();
    const key = Uint8Array.of(0, 13, 10, 255);
    const value = utf8('line1\r\nline2');
    const requestTs = ts();
    const written = run(encodeSetRequest(key, value), { timestamp: requestTs });
    expect(wire(written.payload)).toBe('+OK\r\n');
    expect(written.version).toBeDefined();
    const version = parseHlc(written.version!);
    expect(version.nodeId).toBe('StateStore');
    expect(compareHlc(version, parseHlc(requestTs))).toBeGreaterThan(0);
    expect(written.notifications).toEqual([]);

    const read = run(encodeGetRequest(key));
    expect(wire(read.payload)).toBe('$12\r\nline1\r\nline2\r\n');
    expect(read.version).toBe(written.version);

    const rewritten = set(key, 'v2');
    expect(compareHlc(parseHlc(rewritten.version!), version)).toBeGreaterThan(0);

    const deleted = run(encodeDelRequest(key));
    expect(wire(deleted.payload)).toBe(':1\r\n');
    expect(compareHlc(parseHlc(deleted.version!), parseHlc(rewritten.version!))).toBeGreaterThan(0);
    const missing = run(encodeGetRequest(key));
    expect(wire(missing.payload)).toBe('$-1\r\n');
    expect(missing.version).toBeUndefined();
    expect(wire(run(encodeDelRequest(key)).payload)).toBe(':0\r\n');
  });

  it('takes the request timestamp when it is ahead of the engine clock (within the drift)', () => {
    const { run, ts } = setup();
    const ahead = ts(30_000);
    const response = run(encodeSetRequest('k', 'v'), { timestamp: ahead });
    const version = parseHlc(response.version!);
    expect(version.timestamp).toBe(start + 30_000);
    expect(version.counter).toBe(1);
  });

  it('applies NX only when the key is absent, answering :-1 with the stored version', () => {
    const { run, set } = setup();
    const first = set('k', 'a', { condition: 'onlyIfNotSet' });
    expect(wire(first.payload)).toBe('+OK\r\n');
    const second = set('k', 'b', { condition: 'onlyIfNotSet' });
    expect(wire(second.payload)).toBe(':-1\r\n');
    expect(second.version).toBe(first.version);
    expect(parseSetResponse(second.payload)).toBe('NOT_APPLIED');
    expect(wire(run(encodeGetRequest('k')).payload)).toBe('$1\r\na\r\n');
  });

  it('applies NEX when the key is absent or holds the same value (lock renewal)', () => {
    const { clock, engine, run, set } = setup();
    const lock = { condition: 'onlyIfEqualOrNotSet', expiresInMs: 10_000 } as const;
    const acquired = set('lock', 'holder-a', lock);
    expect(wire(acquired.payload)).toBe('+OK\r\n');
    expect(engine.inspect('lock')?.expiresAt).toBe(start + 10_000);

    clock.now += 9_000;
    const renewed = set('lock', 'holder-a', lock);
    expect(wire(renewed.payload)).toBe('+OK\r\n');
    expect(compareHlc(parseHlc(renewed.version!), parseHlc(acquired.version!))).toBeGreaterThan(0);
    expect(engine.inspect('lock')?.expiresAt).toBe(start + 19_000);

    const contender = set('lock', 'holder-b', lock);
    expect(wire(contender.payload)).toBe(':-1\r\n');
    expect(contender.version).toBe(renewed.version);
    expect(wire(run(encodeGetRequest('lock')).payload)).toBe('$8\r\nholder-a\r\n');
  });

  it('VDEL deletes only a matching value: :1, :0 when absent, :-1 on mismatch', () => {
    const { engine, run, set } = setup();
    const written = set('k', 'mine');
    const mismatch = run(encodeVdelRequest('k', 'theirs'));
    expect(wire(mismatch.payload)).toBe(':-1\r\n');
    expect(mismatch.version).toBe(written.version);
    expect(engine.inspect('k')?.value).toEqual(utf8('mine'));
    expect(wire(run(encodeVdelRequest('k', 'mine')).payload)).toBe(':1\r\n');
    expect(engine.inspect('k')).toBeUndefined();
    expect(wire(run(encodeVdelRequest('k', 'mine')).payload)).toBe(':0\r\n');
  });
});

describe('StateStoreEngine: expiry', () => {
  it('expires keys lazily on access, notifying watchers with NOTIFY DELETE', () => {
    const { clock, engine, run, set } = setup();
    run(encodeKeyNotifyRequest('k'), { clientId: 'watcher' });
    set('k', 'v', { expiresInMs: 500 });
    expect(engine.nextExpiryAt()).toBe(start + 500);
    clock.now += 499;
    expect(wire(run(encodeGetRequest('k')).payload)).toBe('$1\r\nv\r\n');
    clock.now += 1;
    expect(engine.size).toBe(0);
    const read = run(encodeGetRequest('k'));
    expect(wire(read.payload)).toBe('$-1\r\n');
    expect(read.notifications).toHaveLength(1);
    expect(read.notifications[0]).toMatchObject({ clientId: 'watcher', key: utf8('k') });
    expect(wire(read.notifications[0]!.payload)).toBe('*2\r\n$6\r\nNOTIFY\r\n$6\r\nDELETE\r\n');
    expect(engine.nextExpiryAt()).toBeUndefined();
    // a NX set succeeds on the expired key
    expect(wire(set('k', 'w', { condition: 'onlyIfNotSet' }).payload)).toBe('+OK\r\n');
  });

  it('sweep() deletes every expired key and returns their DELETE notifications', () => {
    const { clock, engine, run, set } = setup();
    for (const client of ['a', 'b']) {
      run(encodeKeyNotifyRequest('short'), { clientId: client });
      run(encodeKeyNotifyRequest('long'), { clientId: client });
    }
    set('short', '1', { expiresInMs: 100 });
    set('long', '2', { expiresInMs: 1_000 });
    set('forever', '3');
    expect(engine.sweep()).toEqual([]);
    clock.now += 100;
    const first = engine.sweep();
    expect(first.map((n) => [n.clientId, wire(n.key)])).toEqual([
      ['a', 'short'],
      ['b', 'short'],
    ]);
    expect(first[0]!.version).toBe(first[1]!.version);
    expect(parseNotification(first[0]!.payload)).toEqual({ operation: 'DELETE' });
    expect(engine.size).toBe(2);
    expect(engine.nextExpiryAt()).toBe(start + 1_000);
    clock.now += 10_000;
    expect(engine.sweep().map((n) => wire(n.key))).toEqual(['long', 'long']);
    expect(engine.sweep()).toEqual([]);
    expect(engine.inspect('forever')?.value).toEqual(utf8('3'));
  });

  it('a SET without PX clears an earlier expiry', () => {
    const { clock, engine, set } = setup();
    set('k', 'v', { expiresInMs: 100 });
    set('k', 'v');
    expect(engine.inspect('k')?.expiresAt).toBeUndefined();
    clock.now += 1_000;
    expect(engine.sweep()).toEqual([]);
    expect(engine.inspect('k')).toBeDefined();
  });
});

describe('StateStoreEngine: KEYNOTIFY', () => {
  it('notifies every registered client of SET (with the value) and DELETE, with the version', () => {
    const { run, set } = setup();
    expect(wire(run(encodeKeyNotifyRequest('k'), { clientId: 'a' }).payload)).toBe('+OK\r\n');
    expect(wire(run(encodeKeyNotifyRequest('k'), { clientId: 'b' }).payload)).toBe('+OK\r\n');
    // registering twice is harmless
    expect(wire(run(encodeKeyNotifyRequest('k'), { clientId: 'b' }).payload)).toBe('+OK\r\n');
    run(encodeKeyNotifyRequest('other'), { clientId: 'c' });

    const written = set('k', Uint8Array.of(1, 13, 10), {}, { clientId: 'writer' });
    expect(written.notifications.map((n) => n.clientId)).toEqual(['a', 'b']);
    for (const notification of written.notifications) {
      expect(wire(notification.payload)).toBe(
        '*4\r\n$6\r\nNOTIFY\r\n$3\r\nSET\r\n$5\r\nVALUE\r\n$3\r\n\x01\r\n\r\n',
      );
      expect(notification.key).toEqual(utf8('k'));
      expect(notification.version).toBe(written.version);
    }

    const deleted = run(encodeDelRequest('k'));
    expect(deleted.notifications.map((n) => [n.clientId, wire(n.payload)])).toEqual([
      ['a', '*2\r\n$6\r\nNOTIFY\r\n$6\r\nDELETE\r\n'],
      ['b', '*2\r\n$6\r\nNOTIFY\r\n$6\r\nDELETE\r\n'],
    ]);
    expect(deleted.notifications[0]!.version).toBe(deleted.version);

    // a condition that fails changes nothing and notifies no one
    set('k', 'x');
    expect(set('k', 'y', { condition: 'onlyIfNotSet' }).notifications).toEqual([]);
    expect(run(encodeGetRequest('k')).notifications).toEqual([]);
  });

  it('STOP ends notifications for that client only; STOP when not registered answers :0', () => {
    const { engine, run, set } = setup();
    run(encodeKeyNotifyRequest('k'), { clientId: 'a' });
    run(encodeKeyNotifyRequest('k'), { clientId: 'b' });
    expect(wire(run(encodeKeyNotifyRequest('k', { stop: true }), { clientId: 'a' }).payload)).toBe(
      '+OK\r\n',
    );
    expect(wire(run(encodeKeyNotifyRequest('k', { stop: true }), { clientId: 'a' }).payload)).toBe(
      ':0\r\n',
    );
    expect(set('k', 'v').notifications.map((n) => n.clientId)).toEqual(['b']);
    // a disconnect drops every registration of the client
    run(encodeKeyNotifyRequest('k2'), { clientId: 'b' });
    expect(engine.removeClient('b')).toBe(2);
    expect(engine.removeClient('b')).toBe(0);
    expect(set('k', 'w').notifications).toEqual([]);
  });

  it('answers KEYNOTIFY with the version of an existing key', () => {
    const { run, set } = setup();
    const written = set('k', 'v');
    expect(run(encodeKeyNotifyRequest('k')).version).toBe(written.version);
    expect(run(encodeKeyNotifyRequest('absent')).version).toBeUndefined();
  });
});

describe('StateStoreEngine: fencing tokens', () => {
  it('protects a key written with __ft: missing or stale tokens are rejected, newer accepted', () => {
    const { engine, run, set, ts } = setup();
    // acquire a lock; its version becomes the fencing token
    const lock = set('lock', 'me', { condition: 'onlyIfEqualOrNotSet', expiresInMs: 10_000 });
    const token = lock.version!;
    const stale = encodeHlc({ ...parseHlc(token), counter: parseHlc(token).counter - 1 });

    expect(wire(set('protected', 'v1', {}, { fencingToken: token }).payload)).toBe('+OK\r\n');
    expect(engine.inspect('protected')?.fencingToken).toBe(token);

    expectError(set('protected', 'v2'), 'missing fencing token');
    expectError(set('protected', 'v2', {}, { fencingToken: stale }), 'fencing token lower version');
    expect(wire(set('protected', 'v2', {}, { fencingToken: token }).payload)).toBe('+OK\r\n');

    // a newer token is accepted and replaces the stored one
    const newer = set('lock', 'me', {
      condition: 'onlyIfEqualOrNotSet',
      expiresInMs: 10_000,
    }).version!;
    expect(wire(set('protected', 'v3', {}, { fencingToken: newer }).payload)).toBe('+OK\r\n');
    expect(engine.inspect('protected')?.fencingToken).toBe(newer);
    expectError(set('protected', 'v4', {}, { fencingToken: token }), 'fencing token lower version');
    expect(engine.inspect('protected')?.value).toEqual(utf8('v3'));

    // GET needs no token
    expect(wire(run(encodeGetRequest('protected')).payload)).toBe('$2\r\nv3\r\n');

    // DEL and VDEL need one too; a value mismatch is reported after the fencing check
    expectError(run(encodeDelRequest('protected')), 'missing fencing token');
    expectError(run(encodeVdelRequest('protected', 'v3')), 'missing fencing token');
    expectError(
      run(encodeDelRequest('protected'), { fencingToken: token }),
      'fencing token lower version',
    );
    expect(wire(run(encodeVdelRequest('protected', 'nope'), { fencingToken: newer }).payload)).toBe(
      ':-1\r\n',
    );
    expect(wire(run(encodeDelRequest('protected'), { fencingToken: newer }).payload)).toBe(
      ':1\r\n',
    );

    // the token went with the key
    expect(wire(run(encodeSetRequest('protected', 'free'), { timestamp: ts() }).payload)).toBe(
      '+OK\r\n',
    );
    expect(engine.inspect('protected')?.fencingToken).toBeUndefined();
  });

  it('a token on an unprotected key is accepted and stored; DEL of an absent key answers :0', () => {
    const { engine, run, set } = setup();
    set('k', 'v');
    const token = encodeHlc({ timestamp: start, counter: 5, nodeId: 'lock' });
    expect(wire(set('k', 'w', {}, { fencingToken: token }).payload)).toBe('+OK\r\n');
    expect(engine.inspect('k')?.fencingToken).toBe(token);
    expect(wire(run(encodeDelRequest('absent'), { fencingToken: token }).payload)).toBe(':0\r\n');
  });

  it('rejects malformed and future __ft, and ignores __ft on GET and KEYNOTIFY', () => {
    const { run, set, ts } = setup();
    expectError(set('k', 'v', {}, { fencingToken: 'not-an-hlc' }), 'malformed timestamp');
    expectError(set('k', 'v', {}, { fencingToken: ts(60_001) }), 'fencing token skew');
    expect(wire(set('k', 'v', {}, { fencingToken: ts(60_000) }).payload)).toBe('+OK\r\n');
    expect(wire(run(encodeGetRequest('k'), { fencingToken: 'junk' }).payload)).toBe('$1\r\nv\r\n');
  });
});

describe('StateStoreEngine: request validation', () => {
  it('checks __ts: required on SET, well-formed, at most a minute ahead', () => {
    const { run, ts } = setup();
    expectError(run(encodeSetRequest('k', 'v')), 'missing timestamp');
    expectError(run(encodeSetRequest('k', 'v'), { timestamp: '' }), 'malformed timestamp');
    expectError(run(encodeSetRequest('k', 'v'), { timestamp: '12:ab:c' }), 'malformed timestamp');
    expectError(run(encodeSetRequest('k', 'v'), { timestamp: ts(60_001) }), 'timestamp skew');
    expectError(run(encodeGetRequest('k'), { timestamp: ts(120_000) }), 'timestamp skew');
    // far behind is fine: the version comes from the engine clock
    const old = run(encodeSetRequest('k', 'v'), { timestamp: ts(-3_600_000) });
    expect(wire(old.payload)).toBe('+OK\r\n');
    expect(parseHlc(old.version!).timestamp).toBeGreaterThanOrEqual(start);
    // GET, DEL, VDEL and KEYNOTIFY need no __ts
    expect(wire(run(encodeDelRequest('k')).payload)).toBe(':1\r\n');
  });

  it('answers garbage payloads with -ERR syntax error', () => {
    const { run } = setup();
    for (const garbage of [
      '',
      'hello',
      '+OK\r\n',
      ':1\r\n',
      '*0\r\n',
      '*1\r\n:1\r\n',
      '*2\r\n$3\r\nGET\r\n',
      '*2\r\n$3\r\nGET\r\n$5\r\nk\r\n',
      '*2147483647\r\n$3\r\nGET\r\n',
      '*2\r\n$3\r\nGET\r\n$2147483648\r\nk\r\n',
      '*1\r\n*1\r\n$3\r\nGET\r\n',
    ]) {
      expectError(run(utf8(garbage)), 'syntax error');
    }
  });

  it('answers unknown commands, wrong argument counts and bad options like the service', () => {
    const { run, ts } = setup();
    const request = (...parts: string[]) =>
      run(
        encodeResp3({ type: 'array', value: parts.map((p) => ({ type: 'blob', value: utf8(p) })) }),
        {
          timestamp: ts(),
        },
      );
    expectError(request('FLUSHALL'), 'unknown command');
    expectError(request('set', 'k', 'v'), 'unknown command');
    expectError(request('SET', 'k'), 'wrong number of arguments');
    expectError(request('SET'), 'wrong number of arguments');
    expectError(request('GET'), 'wrong number of arguments');
    expectError(request('GET', 'a', 'b'), 'wrong number of arguments');
    expectError(request('DEL', 'a', 'b'), 'wrong number of arguments');
    expectError(request('VDEL', 'a'), 'wrong number of arguments');
    expectError(request('VDEL', 'a', 'b', 'c'), 'wrong number of arguments');
    expectError(request('KEYNOTIFY'), 'wrong number of arguments');
    expectError(request('KEYNOTIFY', 'k', 'STOP', 'x'), 'wrong number of arguments');
    expectError(request('KEYNOTIFY', 'k', 'stop'), 'syntax error');
    for (const options of [
      ['PX'],
      ['PX', '0'],
      ['PX', '-5'],
      ['PX', 'abc'],
      ['PX', '01'],
      ['PX', '1.5'],
      ['PX', '9999999999999999'],
      ['PX', '10', 'PX', '10'],
      ['NX', 'NEX'],
      ['NX', 'NX'],
      ['nx'],
      ['XX'],
      ['KEEPTTL'],
    ]) {
      expectError(request('SET', 'k', 'v', ...options), 'syntax error');
    }
    expect(wire(request('SET', 'k', 'v', 'PX', '10', 'NX').payload)).toBe('+OK\r\n');
    for (const command of [
      ['SET', '', 'v'],
      ['GET', ''],
      ['DEL', ''],
      ['VDEL', '', 'v'],
      ['KEYNOTIFY', ''],
    ]) {
      expectError(request(...command), 'key length zero');
    }
  });

  it('never throws on 3000 random requests and always answers decodable RESP3', () => {
    const { clock, engine, ts } = setup();
    let seed = 7;
    const random = (max: number) => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed % max;
    };
    const words = ['SET', 'GET', 'DEL', 'VDEL', 'KEYNOTIFY', 'NX', 'NEX', 'PX', 'STOP', '5', 'k'];
    const kinds = new Set<string>();
    for (let i = 0; i < 3000; i += 1) {
      clock.now += random(50);
      const parts: Uint8Array[] = [];
      for (let n = random(6); n > 0; n -= 1) {
        parts.push(
          random(3) === 0
            ? Uint8Array.from({ length: random(4) }, () => random(256))
            : utf8(words[random(words.length)]!),
        );
      }
      let payload = encodeResp3({
        type: 'array',
        value: parts.map((value) => ({ type: 'blob', value })),
      });
      if (random(4) === 0) payload = payload.subarray(0, random(payload.length + 1));
      const response = engine.execute({
        payload,
        clientId: `c${random(3)}`,
        ...(random(2) === 0 ? { timestamp: ts() } : {}),
        ...(random(5) === 0 ? { fencingToken: ts(-random(1000)) } : {}),
      });
      const decoded = decodeResp3(response.payload);
      kinds.add(decoded.type);
      for (const notification of response.notifications) parseNotification(notification.payload);
      for (const notification of engine.sweep()) parseNotification(notification.payload);
    }
    expect([...kinds].sort()).toEqual(['blob', 'error', 'integer', 'null', 'simple']);
  });

  it('validates its options and request objects', () => {
    expect(() => new StateStoreEngine({ now: 5 as unknown as () => number })).toThrow(TypeError);
    expect(() => new StateStoreEngine({ nodeId: 1 as unknown as string })).toThrow(TypeError);
    expect(() => new StateStoreEngine({ nodeId: '' })).toThrow(RangeError);
    expect(() => new StateStoreEngine({ maxClockDriftInMs: -1 })).toThrow(RangeError);
    expect(() => new StateStoreEngine({ maxClockDriftInMs: '1' as unknown as number })).toThrow(
      TypeError,
    );
    const engine = new StateStoreEngine({ now: () => start, maxClockDriftInMs: 0 });
    expect(() => engine.execute({ payload: 'x' as unknown as Uint8Array, clientId: 'c' })).toThrow(
      TypeError,
    );
    expect(() =>
      engine.execute({ payload: encodeGetRequest('k'), clientId: 1 as unknown as string }),
    ).toThrow(TypeError);
    // maxClockDriftInMs applies to __ts
    const response = engine.execute({
      payload: encodeSetRequest('k', 'v'),
      clientId: 'c',
      timestamp: encodeHlc({ timestamp: start + 1, counter: 0, nodeId: 'c' }),
    });
    expect(wire(response.payload)).toBe(
      `-ERR ${stateStoreServiceErrorMessages['timestamp skew']}\r\n`,
    );
  });
});
