/**
 * `SseDecoder`: turns the bytes of a `text/event-stream` body into messages, with bounded memory.
 * Framing is eventsource-parser's (WHATWG rules: `event`, multi-line `data` joined with `\n`, `id`,
 * `retry`, comments, BOM, CR/LF/CRLF); the decoder adds byte caps around it:
 *
 * - an event larger than `maxEventBytes` is skipped: from the moment it crosses the cap its bytes
 *   are discarded as they arrive (nothing is buffered), and one `skipped` item reports it when its
 *   blank line arrives;
 * - more than `maxBufferedBytes` without a line break (a peer that never sends a newline) ends the
 *   stream with an `ERR_AIO_SSE_BUFFER_OVERFLOW` item.
 *
 * @module
 */
import { ConfigError } from '@aio-connector/core';
import { createParser, type EventSourceParser } from 'eventsource-parser';
import { SseStreamError } from './sse-stream-error.ts';

const LF = 10;
const CR = 13;
const letterE = 101;
const letterI = 105;
/** `event:` and `id:` lines up to this many bytes are read while an event is skipped. */
const captureLimit = 1024;

/** Options of {@link SseDecoder}. Every field is optional. */
export interface SseDecoderOptions {
  /**
   * The largest event accepted, in bytes: all its lines (field names and line breaks included)
   * up to the blank line that ends it. Larger events are skipped. Default: 1 MiB.
   */
  readonly maxEventBytes?: number | undefined;
  /**
   * The most bytes accepted without a line break; more fails the stream with
   * `ERR_AIO_SSE_BUFFER_OVERFLOW`. At least `maxEventBytes`. Default: 4 × `maxEventBytes`.
   */
  readonly maxBufferedBytes?: number | undefined;
  /** The last event id the stream resumes from. Default: `''` (none). */
  readonly lastEventId?: string | undefined;
}

/** A message of the stream (an event block with at least one `data` field). */
export interface SseMessage {
  readonly kind: 'message';
  /** The event name (`event:` field); `'message'` when the block has none. */
  readonly event: string;
  /** The `data` fields, joined with `\n`. */
  readonly data: string;
  /** The `id` field of this block, if it has one. */
  readonly id: string | undefined;
  /** The stream's last event id once this message is dispatched (`''` = none). */
  readonly lastEventId: string;
}

/** An event larger than `maxEventBytes`, skipped. */
export interface SseSkipped {
  readonly kind: 'skipped';
  /** Its event name, when an `event:` line of it could be read; else `'message'`. */
  readonly event: string;
  /** Its `id`, when an `id:` line of it could be read. */
  readonly id: string | undefined;
  /** Its size, in bytes, line breaks included. */
  readonly bytes: number;
  /** The stream's last event id once it is skipped (its own id, when it has one). */
  readonly lastEventId: string;
  /** An `ERR_AIO_SSE_EVENT_TOO_LARGE` error describing it. */
  readonly error: SseStreamError;
}

/** What {@link SseDecoder.push} returns, in stream order. */
export type SseDecoded =
  | SseMessage
  /** A block with an `id` but no `data`: it only moves the last event id. */
  | { readonly kind: 'id'; readonly lastEventId: string }
  /** A `retry:` field: the reconnection time the server asks for, in ms. */
  | { readonly kind: 'retry'; readonly retryInMs: number }
  | SseSkipped
  /**
   * The stream cannot go on (`ERR_AIO_SSE_BUFFER_OVERFLOW`): always the last item; the decoder
   * refuses more bytes until {@link SseDecoder.reset}.
   */
  | { readonly kind: 'error'; readonly error: SseStreamError; readonly lastEventId: string };

/** Counters of an {@link SseDecoder}, since it was made. */
export interface SseDecoderStats {
  /** Bytes pushed. */
  readonly bytes: number;
  /** Messages decoded. */
  readonly messages: number;
  /** Comment lines (heartbeats). */
  readonly comments: number;
  /** Events skipped for their size. */
  readonly skipped: number;
  /** Lines ignored: unknown fields and invalid `retry` values. */
  readonly ignoredLines: number;
}

/**
 * The defaults of {@link SseDecoderOptions}.
 *
 * @example
 * ```ts
 * import { defaultSseDecoderOptions } from '@aio-connector/sse';
 * console.log(defaultSseDecoderOptions.maxEventBytes); // 1048576
 * ```
 */
export const defaultSseDecoderOptions = Object.freeze({
  maxEventBytes: 1024 * 1024,
  /** `maxBufferedBytes` is this many times `maxEventBytes` by default. */
  bufferedBytesFactor: 4,
});

function checkSize(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || Number.isNaN(value))
    throw new TypeError(`${name} must be a number, received ${typeof value}`);
  if (!Number.isSafeInteger(value) || value < 1)
    throw new RangeError(`${name} must be a positive integer, received ${value}`);
  return value;
}

/** Resolves and checks the size caps of a decoder. */
export function resolveDecoderCaps(options: SseDecoderOptions): {
  readonly maxEventBytes: number;
  readonly maxBufferedBytes: number;
} {
  const maxEventBytes =
    checkSize('maxEventBytes', options.maxEventBytes) ?? defaultSseDecoderOptions.maxEventBytes;
  const maxBufferedBytes =
    checkSize('maxBufferedBytes', options.maxBufferedBytes) ??
    Math.min(Number.MAX_SAFE_INTEGER, maxEventBytes * defaultSseDecoderOptions.bufferedBytesFactor);
  if (maxBufferedBytes < maxEventBytes)
    throw new ConfigError(
      `maxBufferedBytes (${maxBufferedBytes}) must be at least maxEventBytes (${maxEventBytes}): a single-line event up to maxEventBytes must fit`,
      { source: 'options', field: 'maxBufferedBytes' },
    );
  return { maxEventBytes, maxBufferedBytes };
}

const eventPrefix = new TextEncoder().encode('event:');
const idPrefix = new TextEncoder().encode('id:');

function startsWith(line: Uint8Array, prefix: Uint8Array): boolean {
  if (line.byteLength < prefix.byteLength) return false;
  for (let i = 0; i < prefix.byteLength; i++) if (line[i] !== prefix[i]) return false;
  return true;
}

function fieldValue(line: string, prefixLength: number): string {
  return line.charCodeAt(prefixLength) === 32
    ? line.slice(prefixLength + 1)
    : line.slice(prefixLength);
}

/**
 * A streaming, size-capped decoder of `text/event-stream` bytes. Push each chunk as it arrives;
 * each call returns what the chunk completed, in order. Call `reset()` when the stream reconnects.
 *
 * @example
 * ```ts
 * import { SseDecoder } from '@aio-connector/sse';
 * const decoder = new SseDecoder({ maxEventBytes: 64 * 1024 });
 * const bytes = new TextEncoder().encode('id: 7\nevent: alarm\ndata: {"code":\ndata: 1}\n\n');
 * for (const item of decoder.push(bytes))
 *   if (item.kind === 'message') console.log(item.event, item.data, item.lastEventId); // alarm {"code":\n1} 7
 * ```
 */
export class SseDecoder {
  /** The largest event accepted, in bytes. */
  readonly maxEventBytes: number;
  /** The most bytes accepted without a line break. */
  readonly maxBufferedBytes: number;
  readonly #parser: EventSourceParser;
  #text = new TextDecoder('utf-8');
  #items: SseDecoded[] = [];
  #lastEventId: string;
  /** Content bytes of the current line (line breaks excluded). */
  #lineBytes = 0;
  /** Bytes of the current event block, line breaks included. */
  #blockBytes = 0;
  /** The previous byte was a CR: a LF right after it belongs to the same line break. */
  #afterCr = false;
  #skipping = false;
  #failed = false;
  /** The `event:` / `id:` line being captured while its block may still be skipped. */
  #capture = new Uint8Array(captureLimit);
  #captureLength = 0;
  #capturing = false;
  #captureOverflow = false;
  /** The last `event:` and `id:` lines of the current block (length -1: none). */
  readonly #eventLine = new Uint8Array(captureLimit);
  #eventLineLength = -1;
  readonly #idLine = new Uint8Array(captureLimit);
  #idLineLength = -1;
  readonly #lineText = new TextDecoder('utf-8');
  #bytes = 0;
  #messages = 0;
  #comments = 0;
  #skipped = 0;
  #ignoredLines = 0;

  constructor(options: SseDecoderOptions = {}) {
    if (typeof options !== 'object' || options === null)
      throw new TypeError(`options must be an object, received ${typeof options}`);
    const caps = resolveDecoderCaps(options);
    this.maxEventBytes = caps.maxEventBytes;
    this.maxBufferedBytes = caps.maxBufferedBytes;
    if (options.lastEventId !== undefined && typeof options.lastEventId !== 'string')
      throw new TypeError(`lastEventId must be a string, received ${typeof options.lastEventId}`);
    this.#lastEventId = options.lastEventId ?? '';
    this.#parser = createParser({
      onId: (id) => {
        this.#lastEventId = id;
        this.#items.push({ kind: 'id', lastEventId: id });
      },
      onEvent: (message) => {
        this.#messages += 1;
        const item: SseMessage = {
          kind: 'message',
          event: message.event ?? 'message',
          data: message.data,
          id: message.id,
          lastEventId: this.#lastEventId,
        };
        // onId comes first for a block with an id: the message carries it instead
        const previous = this.#items.at(-1);
        if (
          message.id !== undefined &&
          previous?.kind === 'id' &&
          previous.lastEventId === message.id
        )
          this.#items[this.#items.length - 1] = item;
        else this.#items.push(item);
      },
      onRetry: (retryInMs) => {
        this.#items.push({ kind: 'retry', retryInMs });
      },
      onComment: () => {
        this.#comments += 1;
      },
      onError: () => {
        this.#ignoredLines += 1;
      },
    });
  }

  /** The last event id decoded so far (`''` = none). */
  get lastEventId(): string {
    return this.#lastEventId;
  }

  /** Counters since the decoder was made. */
  get stats(): SseDecoderStats {
    return {
      bytes: this.#bytes,
      messages: this.#messages,
      comments: this.#comments,
      skipped: this.#skipped,
      ignoredLines: this.#ignoredLines,
    };
  }

  /**
   * Starts a new stream (after a reconnect): drops any partial line or event, keeps the last
   * event id unless `lastEventId` is given.
   */
  reset(options: { readonly lastEventId?: string | undefined } = {}): void {
    if (options.lastEventId !== undefined) {
      if (typeof options.lastEventId !== 'string')
        throw new TypeError(`lastEventId must be a string, received ${typeof options.lastEventId}`);
      this.#lastEventId = options.lastEventId;
    }
    this.#parser.reset();
    this.#text = new TextDecoder('utf-8');
    this.#items = [];
    this.#lineBytes = 0;
    this.#blockBytes = 0;
    this.#afterCr = false;
    this.#skipping = false;
    this.#failed = false;
    this.#endCapture();
    this.#eventLineLength = -1;
    this.#idLineLength = -1;
  }

  /**
   * Decodes the next chunk of the body. Returns what it completed, in order. After an `error`
   * item, throws until {@link SseDecoder.reset}.
   */
  push(chunk: Uint8Array): SseDecoded[] {
    if (!(chunk instanceof Uint8Array)) throw new TypeError('chunk must be a Uint8Array');
    if (this.#failed)
      throw new SseStreamError(
        'ERR_AIO_SSE_BUFFER_OVERFLOW',
        'the decoder failed on an earlier chunk; reset it before pushing more',
      );
    this.#bytes += chunk.byteLength;
    this.#items = [];
    const length = chunk.byteLength;
    /** Where the bytes not yet handed to the parser start. */
    let fed = 0;
    /** Where the current block starts in this chunk; -1 when it started in an earlier chunk. */
    let blockStart = this.#blockBytes === 0 && this.#lineBytes === 0 ? 0 : -1;
    let pos = 0;
    let nextLf = chunk.indexOf(LF, 0);
    let nextCr = chunk.indexOf(CR, 0);
    while (pos < length) {
      if (nextLf !== -1 && nextLf < pos) nextLf = chunk.indexOf(LF, pos);
      if (nextCr !== -1 && nextCr < pos) nextCr = chunk.indexOf(CR, pos);
      const end =
        nextLf === -1 ? nextCr : nextCr === -1 ? nextLf : nextLf < nextCr ? nextLf : nextCr;
      const contentEnd = end === -1 ? length : end;
      if (contentEnd > pos) {
        this.#content(chunk, pos, contentEnd);
        if (!this.#skipping && this.#blockBytes > this.maxEventBytes) {
          // the block in progress is too large: hand the complete events before it to the
          // parser, drop what the parser holds of it, and discard the rest as it arrives
          if (blockStart >= fed) this.#feed(chunk, fed, blockStart, false);
          this.#parser.reset();
          this.#skipping = true;
        }
        if (this.#lineBytes > this.maxBufferedBytes) {
          if (!this.#skipping && blockStart >= fed) this.#feed(chunk, fed, blockStart, false);
          return this.#fail();
        }
      }
      if (end === -1) break;
      pos = end + 1;
      this.#blockBytes += 1;
      if (chunk[end] === LF && this.#afterCr && this.#lineBytes === 0) {
        // the LF of a CRLF
        this.#afterCr = false;
        continue;
      }
      this.#afterCr = chunk[end] === CR;
      if (this.#lineBytes > 0) {
        this.#endLine();
        continue;
      }
      // a blank line: the block ends
      if (this.#skipping) {
        this.#endSkip();
        fed = pos;
      }
      this.#blockBytes = 0;
      this.#eventLineLength = -1;
      this.#idLineLength = -1;
      blockStart = pos;
    }
    if (!this.#skipping && fed < length) this.#feed(chunk, fed, length, true);
    const items = this.#items;
    this.#items = [];
    return items;
  }

  #content(chunk: Uint8Array, from: number, to: number): void {
    if (this.#lineBytes === 0) {
      const first = chunk[from];
      this.#capturing = first === letterE || first === letterI;
      this.#captureLength = 0;
      this.#captureOverflow = false;
    }
    this.#afterCr = false;
    const size = to - from;
    this.#lineBytes += size;
    this.#blockBytes += size;
    if (this.#capturing && !this.#captureOverflow) {
      if (this.#captureLength + size > captureLimit) this.#captureOverflow = true;
      else {
        this.#capture.set(chunk.subarray(from, to), this.#captureLength);
        this.#captureLength += size;
      }
    }
  }

  /**
   * A line with content ended: keep the block's last `event:` and `id:` lines (as bytes; they are
   * decoded only if the block is skipped).
   */
  #endLine(): void {
    if (this.#capturing && !this.#captureOverflow) {
      const line = this.#capture.subarray(0, this.#captureLength);
      if (startsWith(line, eventPrefix)) {
        this.#eventLine.set(line);
        this.#eventLineLength = line.byteLength;
      } else if (startsWith(line, idPrefix)) {
        this.#idLine.set(line);
        this.#idLineLength = line.byteLength;
      }
    }
    this.#endCapture();
    this.#lineBytes = 0;
  }

  /** The `event` of the current block, from its last `event:` line, if it could be read. */
  #blockEvent(): string | undefined {
    if (this.#eventLineLength < 0) return undefined;
    const line = this.#lineText.decode(this.#eventLine.subarray(0, this.#eventLineLength));
    return fieldValue(line, eventPrefix.length) || undefined;
  }

  /** The `id` of the current block, from its last `id:` line, if it could be read. */
  #blockId(): string | undefined {
    if (this.#idLineLength < 0) return undefined;
    const id = fieldValue(
      this.#lineText.decode(this.#idLine.subarray(0, this.#idLineLength)),
      idPrefix.length,
    );
    return id.includes('\0') ? undefined : id;
  }

  #endCapture(): void {
    this.#capturing = false;
    this.#captureLength = 0;
    this.#captureOverflow = false;
  }

  #endSkip(): void {
    this.#skipping = false;
    this.#skipped += 1;
    const id = this.#blockId();
    if (id !== undefined) this.#lastEventId = id;
    const event = this.#blockEvent() ?? 'message';
    const bytes = this.#blockBytes;
    this.#items.push({
      kind: 'skipped',
      event,
      id,
      bytes,
      lastEventId: this.#lastEventId,
      error: new SseStreamError(
        'ERR_AIO_SSE_EVENT_TOO_LARGE',
        `a "${event}" event of ${bytes} bytes is larger than maxEventBytes (${this.maxEventBytes}); it was skipped`,
        {
          lastEventId: this.#lastEventId,
          details: { eventType: event, id, bytes, maxEventBytes: this.maxEventBytes },
        },
      ),
    });
    // the parser was reset when the skip began; the text after the blank line starts afresh
    this.#text = new TextDecoder('utf-8');
  }

  #fail(): SseDecoded[] {
    this.#failed = true;
    // the event being discarded is given up for good: resume after it when its id is known
    const id = this.#skipping ? this.#blockId() : undefined;
    if (id !== undefined) this.#lastEventId = id;
    this.#parser.reset();
    const items = this.#items;
    this.#items = [];
    items.push({
      kind: 'error',
      lastEventId: this.#lastEventId,
      error: new SseStreamError(
        'ERR_AIO_SSE_BUFFER_OVERFLOW',
        `the stream sent more than maxBufferedBytes (${this.maxBufferedBytes}) without a line break; it was closed`,
        { details: { maxBufferedBytes: this.maxBufferedBytes } },
      ),
    });
    return items;
  }

  #feed(chunk: Uint8Array, from: number, to: number, stream: boolean): void {
    if (to <= from && stream) return;
    const text = this.#text.decode(chunk.subarray(from, to), { stream });
    if (text !== '') this.#parser.feed(text);
  }
}
