import { describe, expect, it } from 'vitest';
import {
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
} from '@aio-connector/core';
import type { Resp3DecodeStats, Resp3Value, StateStoreSetCondition } from '@aio-connector/core';

/** mulberry32: a small deterministic PRNG, so every run sees the same inputs. */
function createRandom(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const int = (max: number) => Math.floor(next() * max);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const bytes = (maxLength: number) => {
    const out = new Uint8Array(int(maxLength + 1));
    for (let i = 0; i < out.length; i += 1) {
      // bias towards the bytes that matter to the framing
      out[i] = next() < 0.3 ? pick([13, 10, 0x24, 0x2a, 0x3a, 0x2b, 0x2d, 0x30, 0x31]) : int(256);
    }
    return out;
  };
  return { next, int, pick, bytes };
}
type Random = ReturnType<typeof createRandom>;

const lineChars: readonly string[] = [
  'a',
  'b',
  'c',
  'X',
  'Y',
  'Z',
  ' ',
  '0',
  '1',
  '9',
  ':',
  '-',
  '+',
  '$',
  '*',
  '_',
  'é',
  '€',
  '😀',
  '\t',
  '\0',
];

function randomValue(random: Random, depth = 0): Resp3Value {
  const kind = random.int(depth >= 3 ? 5 : 6);
  switch (kind) {
    case 0:
    case 1: {
      let value = '';
      for (let i = random.int(12); i > 0; i -= 1) value += random.pick(lineChars);
      return kind === 0 ? { type: 'simple', value } : { type: 'error', value: `ERR ${value}` };
    }
    case 2: {
      const value = random.pick([
        0,
        1,
        -1,
        Number.MAX_SAFE_INTEGER,
        -Number.MAX_SAFE_INTEGER,
        Math.floor((random.next() - 0.5) * 2 ** 40),
      ]);
      return { type: 'integer', value };
    }
    case 3:
      return { type: 'blob', value: random.bytes(40) };
    case 4:
      return { type: 'null' };
    default: {
      const value: Resp3Value[] = [];
      for (let i = random.int(5); i > 0; i -= 1) value.push(randomValue(random, depth + 1));
      return { type: 'array', value };
    }
  }
}

const parseCode = 'ERR_AIO_STATE_STORE_PARSE';

/**
 * Decodes `input` and checks the outcome is one of the two allowed ones: a value that re-encodes to
 * exactly `input` (the decoder is canonical), or the coded parse error. Also checks the work done
 * stays linear in the input size. Returns whether it parsed.
 */
function decodeOrCodedError(input: Uint8Array, totals: { steps: number; bytes: number }) {
  const stats: Resp3DecodeStats = { steps: 0 };
  let parsed: Resp3Value | undefined;
  try {
    parsed = decodeResp3(input, { stats });
  } catch (error) {
    if (!isAioError(error) || error.code !== parseCode) throw error;
  }
  expect(stats.steps).toBeLessThanOrEqual(2 * input.length + 4);
  totals.steps += stats.steps;
  totals.bytes += input.length;
  if (parsed === undefined) return false;
  expect(Buffer.from(encodeResp3(parsed)).equals(Buffer.from(input))).toBe(true);
  return true;
}

/** Every typed parser either returns or throws one of the two coded state store errors. */
function typedParsersNeverCrash(input: Uint8Array) {
  for (const parse of [
    parseSetResponse,
    parseGetResponse,
    parseDelResponse,
    parseVdelResponse,
    parseKeyNotifyResponse,
    parseNotification,
    parseRequest,
  ]) {
    try {
      parse(input);
    } catch (error) {
      if (
        !isAioError(error) ||
        (error.code !== parseCode && error.code !== 'ERR_AIO_STATE_STORE_SERVICE')
      )
        throw error;
    }
  }
}

function validEncodings(random: Random, count: number): Uint8Array[] {
  const out: Uint8Array[] = [
    encodeSetRequest('key', Uint8Array.of(13, 10, 0), {
      condition: 'onlyIfEqualOrNotSet',
      expiresInMs: 10_000,
    }),
    encodeGetRequest('key'),
    encodeDelRequest('key'),
    encodeVdelRequest('key', 'value'),
    encodeKeyNotifyRequest('key', { stop: true }),
    encodeSetNotification('value'),
    encodeDeleteNotification(),
    new TextEncoder().encode('+OK\r\n'),
    new TextEncoder().encode(':-1\r\n'),
    new TextEncoder().encode('$-1\r\n'),
    new TextEncoder().encode('-ERR syntax error\r\n'),
  ];
  while (out.length < count) out.push(encodeResp3(randomValue(random)));
  return out;
}

describe('state store RESP3 decoder under fuzzing', () => {
  it('round-trips 3000 random values', () => {
    const random = createRandom(1);
    const totals = { steps: 0, bytes: 0 };
    for (let i = 0; i < 3000; i += 1) {
      const value = randomValue(random);
      const encoded = encodeResp3(value);
      expect(decodeResp3(encoded)).toEqual(value);
      expect(decodeOrCodedError(encoded, totals)).toBe(true);
    }
    expect(totals.steps).toBeLessThanOrEqual(2 * totals.bytes + 4 * 3000);
  });

  it('rejects every strict prefix of valid encodings with the coded error', () => {
    const random = createRandom(2);
    let prefixes = 0;
    const totals = { steps: 0, bytes: 0 };
    for (const encoded of validEncodings(random, 300)) {
      for (let length = 0; length < encoded.length; length += 1) {
        const prefix = encoded.subarray(0, length);
        expect(decodeOrCodedError(prefix, totals), `prefix ${length} of ${encoded.length}`).toBe(
          false,
        );
        typedParsersNeverCrash(prefix);
        prefixes += 1;
      }
    }
    expect(prefixes).toBeGreaterThan(5000);
  });

  it('survives 5000 random byte flips, insertions and deletions of valid encodings', () => {
    const random = createRandom(3);
    const encodings = validEncodings(random, 200);
    const totals = { steps: 0, bytes: 0 };
    let parsed = 0;
    let rejected = 0;
    for (let i = 0; i < 5000; i += 1) {
      const original = random.pick(encodings);
      let mutated: Uint8Array = Uint8Array.from(original);
      for (let edits = 1 + random.int(3); edits > 0; edits -= 1) {
        const at = random.int(mutated.length + 1);
        const operation = random.int(3);
        if (operation === 0 && at < mutated.length) {
          mutated[at] =
            random.next() < 0.5 ? random.int(256) : (mutated[at] ?? 0) ^ (1 << random.int(8));
        } else if (operation === 1) {
          mutated = Uint8Array.from([
            ...mutated.subarray(0, at),
            random.int(256),
            ...mutated.subarray(at),
          ]);
        } else {
          mutated = Uint8Array.from([...mutated.subarray(0, at), ...mutated.subarray(at + 1)]);
        }
      }
      if (decodeOrCodedError(mutated, totals)) parsed += 1;
      else rejected += 1;
      typedParsersNeverCrash(mutated);
    }
    // every input was accounted for, and the mutations exercised both outcomes
    expect(parsed + rejected).toBe(5000);
    expect(parsed).toBeGreaterThan(100);
    expect(rejected).toBeGreaterThan(1000);
    expect(totals.steps).toBeLessThanOrEqual(2 * totals.bytes + 4 * 5000);
  });

  it('survives 10000 random byte strings', () => {
    const random = createRandom(4);
    const totals = { steps: 0, bytes: 0 };
    let outcomes = 0;
    for (let i = 0; i < 10_000; i += 1) {
      const input = random.bytes(64);
      // half of them start with a valid type marker so the decoder gets past the first byte
      if (input.length > 0 && i % 2 === 0) input[0] = random.pick([0x2a, 0x24, 0x3a, 0x2b, 0x2d]);
      decodeOrCodedError(input, totals);
      typedParsersNeverCrash(input);
      outcomes += 1;
    }
    expect(outcomes).toBe(10_000);
    expect(totals.steps).toBeLessThanOrEqual(2 * totals.bytes + 4 * 10_000);
  });

  it('rejects huge declared lengths and counts without allocating for them', () => {
    const totals = { steps: 0, bytes: 0 };
    for (const wire of [
      '$2147483648\r\nab\r\n',
      '$2147483647\r\n',
      '$4294967296\r\nx\r\n',
      '$9007199254740991\r\n\r\n',
      '$99999999999999999999\r\n',
      '*2147483647\r\n:1\r\n',
      '*9007199254740991\r\n',
      '*1000000\r\n:1\r\n:1\r\n',
      '*4\r\n$6\r\nNOTIFY\r\n$3\r\nSET\r\n$5\r\nVALUE\r\n$2147483648\r\nabc\r\n',
    ]) {
      const input = Buffer.from(wire, 'latin1');
      const stats: Resp3DecodeStats = { steps: 0 };
      let code = 'no error';
      try {
        decodeResp3(input, { stats });
      } catch (error) {
        code = isAioError(error) ? error.code : String(error);
      }
      expect(code, wire).toBe(parseCode);
      expect(stats.steps, wire).toBeLessThanOrEqual(2 * input.length);
      expect(decodeOrCodedError(input, totals)).toBe(false);
      typedParsersNeverCrash(input);
    }
  });

  it('rejects deep nesting without recursing past maxDepth', () => {
    const depth = 100_000;
    const input = Buffer.from(`${'*1\r\n'.repeat(depth)}:1\r\n`, 'latin1');
    const stats: Resp3DecodeStats = { steps: 0 };
    expect(() => decodeResp3(input, { stats })).toThrow(
      expect.objectContaining({ code: parseCode }),
    );
    // it stopped at the 9th array header instead of walking the whole input
    expect(stats.steps).toBeLessThan(100);
    typedParsersNeverCrash(input);
  });
});

describe('state store request round trip', () => {
  it('parseRequest returns the command and arguments of 3000 random binary requests', () => {
    const random = createRandom(5);
    const ascii = (text: string) => new TextEncoder().encode(text);
    for (let i = 0; i < 3000; i += 1) {
      const key = random.bytes(24);
      const value = random.bytes(48);
      const operation = random.int(6);
      let encoded: Uint8Array;
      let expected: { command: string; args: Uint8Array[] };
      if (operation === 0) {
        const condition = random.pick<StateStoreSetCondition>([
          'always',
          'onlyIfNotSet',
          'onlyIfEqualOrNotSet',
        ]);
        const expiresInMs = random.next() < 0.5 ? undefined : 1 + random.int(2 ** 31);
        encoded = encodeSetRequest(key, value, {
          condition,
          ...(expiresInMs === undefined ? {} : { expiresInMs }),
        });
        const args = [key, value];
        if (condition === 'onlyIfNotSet') args.push(ascii('NX'));
        if (condition === 'onlyIfEqualOrNotSet') args.push(ascii('NEX'));
        if (expiresInMs !== undefined) args.push(ascii('PX'), ascii(String(expiresInMs)));
        expected = { command: 'SET', args };
      } else if (operation === 1) {
        encoded = encodeGetRequest(key);
        expected = { command: 'GET', args: [key] };
      } else if (operation === 2) {
        encoded = encodeDelRequest(key);
        expected = { command: 'DEL', args: [key] };
      } else if (operation === 3) {
        encoded = encodeVdelRequest(key, value);
        expected = { command: 'VDEL', args: [key, value] };
      } else {
        const stop = operation === 5;
        encoded = encodeKeyNotifyRequest(key, { stop });
        expected = { command: 'KEYNOTIFY', args: stop ? [key, ascii('STOP')] : [key] };
      }
      const request = parseRequest(encoded);
      expect(request.command).toBe(expected.command);
      expect(request.args).toEqual(expected.args);
      // the declared element count matches what follows
      expect(decodeResp3(encoded)).toMatchObject({ type: 'array' });
    }
  });

  it('string keys and values travel as UTF-8', () => {
    const random = createRandom(6);
    for (let i = 0; i < 500; i += 1) {
      let key = '';
      let value = '';
      for (let n = 1 + random.int(10); n > 0; n -= 1)
        key += random.pick([...lineChars, '\r', '\n']);
      for (let n = random.int(20); n > 0; n -= 1) value += random.pick([...lineChars, '\r\n']);
      const request = parseRequest(encodeSetRequest(key, value));
      const decoder = new TextDecoder();
      expect(request.args.map((part) => decoder.decode(part))).toEqual([key, value]);
      expect(parseNotification(encodeSetNotification(value))).toEqual({
        operation: 'SET',
        value: new TextEncoder().encode(value),
      });
    }
  });
});
