import { describe, expect, it } from 'vitest';
import { isAioError } from '@aio-connector/core';
import { SseDecoder, type SseDecoded } from '@aio-connector/sse';

const utf8 = new TextEncoder();

function decodeAll(decoder: SseDecoder, chunks: readonly (string | Uint8Array)[]): SseDecoded[] {
  const items: SseDecoded[] = [];
  for (const chunk of chunks)
    items.push(...decoder.push(typeof chunk === 'string' ? utf8.encode(chunk) : chunk));
  return items;
}

/** Splits bytes at the given offsets. */
function splitAt(bytes: Uint8Array, offsets: readonly number[]): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let start = 0;
  for (const offset of [...offsets].sort((a, b) => a - b)) {
    parts.push(bytes.subarray(start, offset));
    start = offset;
  }
  parts.push(bytes.subarray(start));
  return parts;
}

/** A deterministic pseudo-random source (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('SseDecoder framing', () => {
  it('decodes event names, multi-line data joined with \\n, ids and the default event name', () => {
    const decoder = new SseDecoder();
    const items = decodeAll(decoder, [
      'id: 1\nevent: alarm\ndata: {"code":\ndata:  "OVER"}\n\n',
      'data: plain\n\n',
      'event: status\ndata:\ndata:\n\n',
    ]);
    expect(items).toEqual([
      { kind: 'message', event: 'alarm', data: '{"code":\n "OVER"}', id: '1', lastEventId: '1' },
      { kind: 'message', event: 'message', data: 'plain', id: undefined, lastEventId: '1' },
      { kind: 'message', event: 'status', data: '\n', id: undefined, lastEventId: '1' },
    ]);
    expect(decoder.lastEventId).toBe('1');
    expect(decoder.stats.messages).toBe(3);
  });

  it('handles CRLF and CR line breaks, a leading BOM, comments and unknown fields', () => {
    const decoder = new SseDecoder();
    const bytes = new Uint8Array([
      0xef,
      0xbb,
      0xbf,
      ...utf8.encode(': heartbeat\r\nid: 7\r\nevent: a\r\ndata: x\r\ndata: y\r\n\r\n'),
      ...utf8.encode('foo: bar\rdata: z\r\r'),
    ]);
    const items = decodeAll(decoder, [bytes]);
    expect(items).toEqual([
      { kind: 'message', event: 'a', data: 'x\ny', id: '7', lastEventId: '7' },
      { kind: 'message', event: 'message', data: 'z', id: undefined, lastEventId: '7' },
    ]);
    expect(decoder.stats.comments).toBe(1);
    expect(decoder.stats.ignoredLines).toBe(1);
  });

  it('reports retry, id-only blocks and an empty id that clears the last event id', () => {
    const decoder = new SseDecoder({ lastEventId: '40' });
    const items = decodeAll(decoder, [
      'retry: 2500\n\n',
      'id: 41\n\n',
      'retry: soon\n\n',
      'id\ndata: after reset\n\n',
    ]);
    expect(items).toEqual([
      { kind: 'retry', retryInMs: 2500 },
      { kind: 'id', lastEventId: '41' },
      { kind: 'message', event: 'message', data: 'after reset', id: '', lastEventId: '' },
    ]);
    expect(decoder.lastEventId).toBe('');
  });

  it('gives the same items whatever the chunk boundaries (CR, CRLF and UTF-8 split anywhere)', () => {
    const text =
      '\uFEFFid: α1\r\nevent: ünïcode\r\ndata: 温度 😀\r\ndata: two\r\n\r\n: ping\n\n' +
      'event: b\rdata: 1\r\rretry: 10\n\nid: 3\n\ndata: {"k":"v"}\n\n';
    const bytes = utf8.encode(text);
    const expected = decodeAll(new SseDecoder(), [bytes]);
    expect(expected.map((i) => i.kind)).toEqual(['message', 'message', 'retry', 'id', 'message']);
    expect(expected[0]).toMatchObject({
      event: 'ünïcode',
      data: '温度 😀\ntwo',
      lastEventId: 'α1',
    });
    // every single split point
    for (let at = 0; at <= bytes.byteLength; at++)
      expect(decodeAll(new SseDecoder(), splitAt(bytes, [at]))).toEqual(expected);
    // many random multi-way splits
    const next = random(42);
    for (let round = 0; round < 300; round++) {
      const cuts = Array.from({ length: 1 + Math.floor(next() * 12) }, () =>
        Math.floor(next() * bytes.byteLength),
      );
      expect(decodeAll(new SseDecoder(), splitAt(bytes, cuts))).toEqual(expected);
    }
    // byte by byte
    expect(decodeAll(new SseDecoder(), splitAt(bytes, [...bytes.keys()]))).toEqual(expected);
  });

  it('starts afresh after reset: a partial event is dropped, the last event id is kept', () => {
    const decoder = new SseDecoder();
    expect(decodeAll(decoder, ['id: 5\ndata: done\n\nid: 6\ndata: half'])).toHaveLength(1);
    decoder.reset();
    expect(decodeAll(decoder, ['data: fresh\n\n'])).toEqual([
      { kind: 'message', event: 'message', data: 'fresh', id: undefined, lastEventId: '5' },
    ]);
    decoder.reset({ lastEventId: '99' });
    expect(decoder.lastEventId).toBe('99');
  });
});

describe('SseDecoder caps', () => {
  it('skips an event larger than maxEventBytes and keeps the events around it', () => {
    const decoder = new SseDecoder({ maxEventBytes: 100, maxBufferedBytes: 1_000_000 });
    const big = 'x'.repeat(500);
    const items = decodeAll(decoder, [
      `id: 1\ndata: small\n\nid: 2\nevent: big\ndata: ${big}\n\nid: 3\ndata: after\n\n`,
    ]);
    expect(items.map((i) => i.kind)).toEqual(['message', 'skipped', 'message']);
    const skipped = items[1] as Extract<SseDecoded, { kind: 'skipped' }>;
    expect(skipped).toMatchObject({ event: 'big', id: '2', lastEventId: '2' });
    expect(skipped.bytes).toBe(utf8.encode(`id: 2\nevent: big\ndata: ${big}\n\n`).byteLength);
    expect(skipped.error.code).toBe('ERR_AIO_SSE_EVENT_TOO_LARGE');
    expect(skipped.error.retryable).toBe(false);
    expect(skipped.error.details).toMatchObject({ eventType: 'big', maxEventBytes: 100 });
    expect(items[2]).toMatchObject({ data: 'after', lastEventId: '3' });
    expect(decoder.stats.skipped).toBe(1);
  });

  it('skips a large event that arrives in many chunks, reading its name and id that come late', () => {
    const decoder = new SseDecoder({ maxEventBytes: 1024, maxBufferedBytes: 1_000_000 });
    const chunks = ['data: first\n\ndata: ', ...Array.from({ length: 200 }, () => 'y'.repeat(100))];
    chunks.push('\nevent: late\nid: 77\n\ndata: next\n\n');
    const items = decodeAll(decoder, chunks);
    expect(items.map((i) => i.kind)).toEqual(['message', 'skipped', 'message']);
    expect(items[1]).toMatchObject({ event: 'late', id: '77' });
    expect(items[2]).toMatchObject({ data: 'next', lastEventId: '77' });
  });

  it('skips the same events whatever the chunk boundaries', () => {
    const text =
      'id: 1\ndata: small\n\n' +
      `id: 2\r\nevent: big\r\ndata: ${'b'.repeat(300)}\r\ndata: more\r\n\r\n` +
      'data: between\r\r' +
      `event: huge\ndata: ${'h'.repeat(150)}\nid: 3\n\n` +
      'id: 4\nevent: last\ndata: end\n\n';
    const bytes = utf8.encode(text);
    const options = { maxEventBytes: 120, maxBufferedBytes: 10_000 };
    const expected = decodeAll(new SseDecoder(options), [bytes]);
    expect(
      expected.map((i) => [
        i.kind,
        'event' in i ? i.event : '',
        i.kind === 'retry' ? '' : i.lastEventId,
      ]),
    ).toEqual([
      ['message', 'message', '1'],
      ['skipped', 'big', '2'],
      ['message', 'message', '2'],
      ['skipped', 'huge', '3'],
      ['message', 'last', '4'],
    ]);
    const next = random(7);
    for (let round = 0; round < 300; round++) {
      const cuts = Array.from({ length: 1 + Math.floor(next() * 20) }, () =>
        Math.floor(next() * bytes.byteLength),
      );
      expect(decodeAll(new SseDecoder(options), splitAt(bytes, cuts))).toEqual(expected);
    }
    expect(decodeAll(new SseDecoder(options), splitAt(bytes, [...bytes.keys()]))).toEqual(expected);
  });

  it('fails the stream after maxBufferedBytes without a line break, delivering what came before', () => {
    const decoder = new SseDecoder({ maxEventBytes: 1000, maxBufferedBytes: 5000 });
    const items = decodeAll(decoder, ['id: 9\ndata: ok\n\n', 'x'.repeat(3000)]);
    expect(items.map((i) => i.kind)).toEqual(['message']);
    const more = decoder.push(utf8.encode('x'.repeat(3000)));
    expect(more).toHaveLength(1);
    const failure = more[0] as Extract<SseDecoded, { kind: 'error' }>;
    expect(failure.kind).toBe('error');
    expect(failure.error.code).toBe('ERR_AIO_SSE_BUFFER_OVERFLOW');
    expect(failure.error.retryable).toBe(true);
    expect(failure.lastEventId).toBe('9');
    expect(() => decoder.push(utf8.encode('data: x\n\n'))).toThrow(/reset/);
    decoder.reset();
    expect(decodeAll(decoder, ['data: again\n\n'])).toMatchObject([{ data: 'again' }]);
  });

  it('gives up an oversized event whose id it read when the line never ends: resume skips it', () => {
    const decoder = new SseDecoder({ maxEventBytes: 100, maxBufferedBytes: 1000 });
    const items = decodeAll(decoder, ['id: 12\nevent: huge\ndata: ', 'z'.repeat(2000)]);
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ kind: 'error', lastEventId: '12' });
  });

  it('holds at most a bounded amount while a peer sends megabytes without a line break', () => {
    const decoder = new SseDecoder({
      maxEventBytes: 64 * 1024,
      maxBufferedBytes: 64 * 1024 * 1024,
    });
    const chunk = utf8.encode('q'.repeat(64 * 1024));
    for (let i = 0; i < 200; i++) expect(decoder.push(chunk)).toEqual([]);
    // 12.5 MiB went through; nothing is retained but counters
    expect(decoder.stats.bytes).toBe(200 * 64 * 1024);
    expect(decodeAll(decoder, ['\n\ndata: alive\n\n']).map((i) => i.kind)).toEqual([
      'skipped',
      'message',
    ]);
  });

  it('checks its options', () => {
    expect(() => new SseDecoder({ maxEventBytes: '1' as never })).toThrow(TypeError);
    expect(() => new SseDecoder({ maxEventBytes: 0 })).toThrow(RangeError);
    expect(() => new SseDecoder({ maxEventBytes: 1.5 })).toThrow(RangeError);
    let error: unknown;
    try {
      new SseDecoder({ maxEventBytes: 1000, maxBufferedBytes: 10 });
    } catch (caught) {
      error = caught;
    }
    expect(isAioError(error) && error.code).toBe('ERR_AIO_CONFIG');
    expect(new SseDecoder({ maxEventBytes: 10 }).maxBufferedBytes).toBe(40);
    expect(() => new SseDecoder({ lastEventId: 5 as never })).toThrow(TypeError);
  });
});
