/**
 * The wire format of the AIO state store: a subset of RESP3.
 *
 * Requests are arrays of blob strings (`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n`). Responses are a
 * simple string (`+OK`), an error (`-ERR <description>`), an integer (`:1`, `:0`, `:-1`), a blob
 * string (`$<n>\r\n<bytes>\r\n`) or the null blob (`$-1`). Key notifications are arrays of blob
 * strings (`*4 NOTIFY SET VALUE <value>`, `*2 NOTIFY DELETE`).
 *
 * The decoder is strict and canonical: it accepts exactly the bytes {@link encodeResp3} produces
 * (no leading zeros, no `-0`, no bare `\n` in a line, UTF-8 lines, nothing after the value), so a
 * decoded value re-encodes to the same bytes. Malformed, truncated or hostile input raises an
 * `AioError` with code `ERR_AIO_STATE_STORE_PARSE`; work is linear in the input size, declared
 * lengths are checked against the bytes actually present before anything is allocated, and array
 * nesting is capped.
 *
 * @module
 */
import { AioError } from '../../errors.ts';
import { StateStoreServiceError } from './state-store-errors.ts';

/**
 * One RESP3 value of the subset the state store uses.
 *
 * - `simple`: a simple string (`+OK`); `value` holds no CR or LF.
 * - `error`: a simple error (`-ERR syntax error`); `value` is the whole line after `-`.
 * - `integer`: a signed integer within `Number.MAX_SAFE_INTEGER`.
 * - `blob`: a blob string of arbitrary bytes.
 * - `null`: the null blob string `$-1`.
 * - `array`: an array of values.
 */
export type Resp3Value =
  | { readonly type: 'simple'; readonly value: string }
  | { readonly type: 'error'; readonly value: string }
  | { readonly type: 'integer'; readonly value: number }
  | { readonly type: 'blob'; readonly value: Uint8Array }
  | { readonly type: 'null' }
  | { readonly type: 'array'; readonly value: readonly Resp3Value[] };

/** Counters filled in by {@link decodeResp3} when passed as `stats`. */
export interface Resp3DecodeStats {
  /**
   * Decoding steps taken: header bytes scanned, blob bytes copied and values built. Always at most
   * about twice the input length.
   */
  steps: number;
}

/** Options of {@link decodeResp3}. */
export interface Resp3DecodeOptions {
  /** Maximum number of nested array levels (1 = a flat array). Integer 1–64. Default: 8. */
  readonly maxDepth?: number;
  /** An object whose `steps` field is set to the work done, for diagnostics. Default: none. */
  readonly stats?: Resp3DecodeStats;
}

/** A key or value: raw bytes, or a string sent as UTF-8. */
export type StateStoreBytes = Uint8Array | string;

/**
 * The condition of a `SET`: `always` (unconditional), `onlyIfNotSet` (`NX`: only if the key does
 * not exist) or `onlyIfEqualOrNotSet` (`NEX`: only if the key does not exist or already holds the
 * same value — how a lock holder renews its lock).
 */
export type StateStoreSetCondition = 'always' | 'onlyIfNotSet' | 'onlyIfEqualOrNotSet';

/** Options of {@link encodeSetRequest}. */
export interface StateStoreSetRequestOptions {
  /** When to apply the `SET`. Default: `'always'`. */
  readonly condition?: StateStoreSetCondition;
  /** Expire the key this many milliseconds after the write (`PX`). Integer ≥ 1. Default: never. */
  readonly expiresInMs?: number;
}

/** Options of {@link encodeKeyNotifyRequest}. */
export interface StateStoreKeyNotifyRequestOptions {
  /** Stop notifications for the key instead of starting them. Default: `false`. */
  readonly stop?: boolean;
}

/** The outcome of a `SET`: applied (`+OK`), or skipped because its condition failed (`:-1`). */
export type StateStoreSetResult = 'OK' | 'NOT_APPLIED';

/** The outcome of a `VDEL`: 1 deleted, 0 key not found, -1 the value did not match. */
export type StateStoreVdelResult = 1 | 0 | -1;

/** A key notification: the key was set (with its new value) or deleted. */
export type StateStoreNotificationPayload =
  { readonly operation: 'SET'; readonly value: Uint8Array } | { readonly operation: 'DELETE' };

/** A request as the service reads it: the command name and the remaining arguments. */
export interface StateStoreRequestPayload {
  /** The first element, decoded as UTF-8 (`'SET'`, `'GET'`, …). */
  readonly command: string;
  /** The remaining elements, as bytes. */
  readonly args: readonly Uint8Array[];
}

const cr = 0x0d;
const lf = 0x0a;
const defaultMaxDepth = 8;
const maxMaxDepth = 64;
/** The smallest encoded element (`+\r\n`), used to bound a declared array length. */
const minElementSize = 3;
/** Digits allowed in an integer or length: enough for Number.MAX_SAFE_INTEGER. */
const maxDigits = 16;

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
const lenientUtf8 = new TextDecoder('utf-8');
const crlf = Uint8Array.of(cr, lf);

// ---------------------------------------------------------------- errors

function parseError(reason: string, offset: number): AioError {
  return new AioError(
    'ERR_AIO_STATE_STORE_PARSE',
    `invalid state store payload: ${reason} (at byte ${offset})`,
    { details: { reason, offset } },
  );
}

function describe(value: Resp3Value): string {
  switch (value.type) {
    case 'simple':
      return `simple string "${value.value}"`;
    case 'error':
      return `error "${value.value}"`;
    case 'integer':
      return `integer ${value.value}`;
    case 'blob':
      return `blob string of ${value.value.length} bytes`;
    case 'null':
      return 'null';
    case 'array':
      return `array of ${value.value.length} elements`;
  }
}

function unexpected(operation: string, value: Resp3Value): AioError {
  const reason = `unexpected response to ${operation}: ${describe(value)}`;
  return new AioError('ERR_AIO_STATE_STORE_PARSE', `invalid state store payload: ${reason}`, {
    details: { reason, operation },
  });
}

// ---------------------------------------------------------------- encoding

function ascii(text: string): Uint8Array {
  return utf8.encode(text);
}

function concat(chunks: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

function writeValue(value: Resp3Value, out: Uint8Array[], depth: number): void {
  if (depth > maxMaxDepth) throw new RangeError(`RESP3 arrays nest deeper than ${maxMaxDepth}`);
  if (typeof value !== 'object' || value === null) throw new TypeError('not a RESP3 value');
  switch (value.type) {
    case 'simple':
    case 'error': {
      if (typeof value.value !== 'string')
        throw new TypeError(`a RESP3 ${value.type} value must be a string`);
      if (/[\r\n]/.test(value.value))
        throw new RangeError(`a RESP3 ${value.type} value cannot contain CR or LF`);
      out.push(ascii(value.type === 'simple' ? '+' : '-'), utf8.encode(value.value), crlf);
      return;
    }
    case 'integer': {
      if (typeof value.value !== 'number') throw new TypeError('a RESP3 integer must be a number');
      if (!Number.isSafeInteger(value.value))
        throw new RangeError(`a RESP3 integer must be a safe integer, received ${value.value}`);
      out.push(ascii(`:${value.value}\r\n`));
      return;
    }
    case 'blob': {
      if (!(value.value instanceof Uint8Array))
        throw new TypeError('a RESP3 blob string must be a Uint8Array');
      out.push(ascii(`$${value.value.length}\r\n`), value.value, crlf);
      return;
    }
    case 'null':
      out.push(ascii('$-1\r\n'));
      return;
    case 'array': {
      const items: unknown = value.value;
      if (!Array.isArray(items)) throw new TypeError('a RESP3 array must hold an array');
      out.push(ascii(`*${value.value.length}\r\n`));
      for (const item of value.value) writeValue(item, out, depth + 1);
      return;
    }
    default:
      throw new TypeError(`unknown RESP3 value type ${String((value as { type: unknown }).type)}`);
  }
}

/**
 * Encodes one RESP3 value. Throws `TypeError` for a malformed value and `RangeError` for a simple
 * string or error holding CR/LF or an integer beyond `Number.MAX_SAFE_INTEGER`.
 *
 * @example
 * ```ts
 * import { encodeResp3 } from '@aio-connector/core';
 * encodeResp3({ type: 'simple', value: 'OK' }); // bytes of '+OK\r\n'
 * encodeResp3({ type: 'error', value: 'ERR syntax error' }); // '-ERR syntax error\r\n'
 * ```
 */
export function encodeResp3(value: Resp3Value): Uint8Array {
  const out: Uint8Array[] = [];
  writeValue(value, out, 0);
  return concat(out);
}

function toBytes(input: StateStoreBytes, name: string): Uint8Array {
  if (typeof input === 'string') return utf8.encode(input);
  if (input instanceof Uint8Array) return input;
  throw new TypeError(`${name} must be a Uint8Array or a string`);
}

function encodeBlobArray(parts: readonly Uint8Array[]): Uint8Array {
  const out: Uint8Array[] = [ascii(`*${parts.length}\r\n`)];
  for (const part of parts) out.push(ascii(`$${part.length}\r\n`), part, crlf);
  return concat(out);
}

const setConditions: Readonly<Record<StateStoreSetCondition, string | undefined>> = {
  always: undefined,
  onlyIfNotSet: 'NX',
  onlyIfEqualOrNotSet: 'NEX',
};

/**
 * Encodes `SET key value [NX|NEX] [PX ms]`; the array count includes the options.
 *
 * @example
 * ```ts
 * import { encodeSetRequest } from '@aio-connector/core';
 * // *6 SET lock me NEX PX 10000
 * const payload = encodeSetRequest('lock', 'me', {
 *   condition: 'onlyIfEqualOrNotSet',
 *   expiresInMs: 10_000,
 * });
 * ```
 */
export function encodeSetRequest(
  key: StateStoreBytes,
  value: StateStoreBytes,
  options: StateStoreSetRequestOptions = {},
): Uint8Array {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('options must be an object');
  const condition: unknown = options.condition ?? 'always';
  if (typeof condition !== 'string' || !Object.hasOwn(setConditions, condition))
    throw new TypeError(
      `condition must be 'always', 'onlyIfNotSet' or 'onlyIfEqualOrNotSet', received ${String(condition)}`,
    );
  const parts = [ascii('SET'), toBytes(key, 'key'), toBytes(value, 'value')];
  const flag = setConditions[condition as StateStoreSetCondition];
  if (flag !== undefined) parts.push(ascii(flag));
  const expires = options.expiresInMs;
  if (expires !== undefined) {
    if (typeof expires !== 'number') throw new TypeError('expiresInMs must be a number');
    if (!Number.isSafeInteger(expires) || expires < 1)
      throw new RangeError(`expiresInMs must be an integer >= 1, received ${expires}`);
    parts.push(ascii('PX'), ascii(String(expires)));
  }
  return encodeBlobArray(parts);
}

/**
 * Encodes `GET key`.
 *
 * @example
 * ```ts
 * import { encodeGetRequest } from '@aio-connector/core';
 * encodeGetRequest('k'); // '*2\r\n$3\r\nGET\r\n$1\r\nk\r\n'
 * ```
 */
export function encodeGetRequest(key: StateStoreBytes): Uint8Array {
  return encodeBlobArray([ascii('GET'), toBytes(key, 'key')]);
}

/**
 * Encodes `DEL key`.
 *
 * @example
 * ```ts
 * import { encodeDelRequest } from '@aio-connector/core';
 * encodeDelRequest('k'); // '*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n'
 * ```
 */
export function encodeDelRequest(key: StateStoreBytes): Uint8Array {
  return encodeBlobArray([ascii('DEL'), toBytes(key, 'key')]);
}

/**
 * Encodes `VDEL key value`: delete the key only if it holds `value`.
 *
 * @example
 * ```ts
 * import { encodeVdelRequest } from '@aio-connector/core';
 * encodeVdelRequest('lock', 'me'); // '*3\r\n$4\r\nVDEL\r\n$4\r\nlock\r\n$2\r\nme\r\n'
 * ```
 */
export function encodeVdelRequest(key: StateStoreBytes, value: StateStoreBytes): Uint8Array {
  return encodeBlobArray([ascii('VDEL'), toBytes(key, 'key'), toBytes(value, 'value')]);
}

/**
 * Encodes `KEYNOTIFY key` (start notifications) or `KEYNOTIFY key STOP`.
 *
 * @example
 * ```ts
 * import { encodeKeyNotifyRequest } from '@aio-connector/core';
 * encodeKeyNotifyRequest('k'); // '*2\r\n$9\r\nKEYNOTIFY\r\n$1\r\nk\r\n'
 * encodeKeyNotifyRequest('k', { stop: true }); // '*3 … $4\r\nSTOP\r\n'
 * ```
 */
export function encodeKeyNotifyRequest(
  key: StateStoreBytes,
  options: StateStoreKeyNotifyRequestOptions = {},
): Uint8Array {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('options must be an object');
  const stop = options.stop ?? false;
  if (typeof stop !== 'boolean') throw new TypeError('stop must be a boolean');
  const parts = [ascii('KEYNOTIFY'), toBytes(key, 'key')];
  if (stop) parts.push(ascii('STOP'));
  return encodeBlobArray(parts);
}

/**
 * Encodes the notification sent when a watched key is set: `*4 NOTIFY SET VALUE <value>`.
 *
 * @example
 * ```ts
 * import { encodeSetNotification } from '@aio-connector/core';
 * encodeSetNotification('abc'); // '*4\r\n$6\r\nNOTIFY\r\n$3\r\nSET\r\n$5\r\nVALUE\r\n$3\r\nabc\r\n'
 * ```
 */
export function encodeSetNotification(value: StateStoreBytes): Uint8Array {
  return encodeBlobArray([ascii('NOTIFY'), ascii('SET'), ascii('VALUE'), toBytes(value, 'value')]);
}

/**
 * Encodes the notification sent when a watched key is deleted or expires: `*2 NOTIFY DELETE`.
 *
 * @example
 * ```ts
 * import { encodeDeleteNotification } from '@aio-connector/core';
 * encodeDeleteNotification(); // '*2\r\n$6\r\nNOTIFY\r\n$6\r\nDELETE\r\n'
 * ```
 */
export function encodeDeleteNotification(): Uint8Array {
  return encodeBlobArray([ascii('NOTIFY'), ascii('DELETE')]);
}

// ---------------------------------------------------------------- decoding

function isDigit(byte: number | undefined): byte is number {
  return byte !== undefined && byte >= 0x30 && byte <= 0x39;
}

class Resp3Reader {
  readonly #input: Uint8Array;
  readonly #maxDepth: number;
  #pos = 0;
  steps = 0;

  constructor(input: Uint8Array, maxDepth: number) {
    this.#input = input;
    this.#maxDepth = maxDepth;
  }

  readDocument(): Resp3Value {
    const value = this.#value(0);
    if (this.#pos !== this.#input.length)
      throw parseError(
        `${this.#input.length - this.#pos} unexpected bytes after the value`,
        this.#pos,
      );
    return value;
  }

  #value(depth: number): Resp3Value {
    const input = this.#input;
    const marker = input[this.#pos];
    if (marker === undefined) throw parseError('unexpected end of input', this.#pos);
    this.#pos += 1;
    this.steps += 1;
    switch (marker) {
      case 0x2b: // +
        return { type: 'simple', value: this.#line() };
      case 0x2d: // -
        return { type: 'error', value: this.#line() };
      case 0x3a: // :
        return { type: 'integer', value: this.#integer() };
      case 0x24: {
        // $
        const start = this.#pos;
        const length = this.#integer();
        if (length === -1) return { type: 'null' };
        if (length < 0) throw parseError(`invalid blob string length ${length}`, start);
        const remaining = input.length - this.#pos;
        if (length > remaining - 2)
          throw parseError(
            length > remaining
              ? `blob string declares ${length} bytes but only ${remaining} remain`
              : 'unexpected end of input',
            start,
          );
        // a plain copy: `slice` on a Node.js Buffer would return a view of the input
        const value = new Uint8Array(input.subarray(this.#pos, this.#pos + length));
        this.#pos += length;
        this.steps += length;
        this.#crlf();
        return { type: 'blob', value };
      }
      case 0x2a: {
        // *
        const start = this.#pos;
        const count = this.#integer();
        if (count < 0) throw parseError(`invalid array length ${count}`, start);
        if (depth >= this.#maxDepth)
          throw parseError(`arrays nest deeper than ${this.#maxDepth} levels`, start - 1);
        const remaining = input.length - this.#pos;
        if (count > Math.floor(remaining / minElementSize))
          throw parseError(
            `array declares ${count} elements but only ${remaining} bytes remain`,
            start,
          );
        const items: Resp3Value[] = [];
        for (let i = 0; i < count; i += 1) items.push(this.#value(depth + 1));
        return { type: 'array', value: items };
      }
      default:
        throw parseError(
          `unknown type marker 0x${marker.toString(16).padStart(2, '0')}`,
          this.#pos - 1,
        );
    }
  }

  /** A line up to CRLF, strict UTF-8, no bare LF. */
  #line(): string {
    const input = this.#input;
    const start = this.#pos;
    let pos = start;
    for (;;) {
      const byte = input[pos];
      if (byte === undefined) throw parseError('unexpected end of input', pos);
      this.steps += 1;
      if (byte === cr) break;
      if (byte === lf) throw parseError('line feed without carriage return', pos);
      pos += 1;
    }
    const bytes = input.subarray(start, pos);
    this.#pos = pos;
    this.#crlf();
    try {
      return strictUtf8.decode(bytes);
    } catch {
      throw parseError('line is not valid UTF-8', start);
    }
  }

  /** `-?[0-9]+\r\n`, canonical (no leading zeros, no -0), within the safe integer range. */
  #integer(): number {
    const input = this.#input;
    const start = this.#pos;
    let pos = start;
    const negative = input[pos] === 0x2d;
    if (negative) pos += 1;
    const digitsStart = pos;
    let value = 0;
    for (let byte = input[pos]; isDigit(byte); byte = input[pos]) {
      if (pos - digitsStart >= maxDigits) throw parseError('integer has too many digits', start);
      value = value * 10 + (byte - 0x30);
      pos += 1;
      this.steps += 1;
    }
    const digits = pos - digitsStart;
    if (digits === 0)
      throw parseError(
        input[pos] === undefined ? 'unexpected end of input' : 'expected a digit',
        pos,
      );
    if (digits > 1 && input[digitsStart] === 0x30) throw parseError('leading zero', start);
    if (negative && value === 0) throw parseError('negative zero', start);
    this.#pos = pos;
    this.#crlf();
    const result = negative ? -value : value;
    if (!Number.isSafeInteger(result)) throw parseError('integer out of range', start);
    return result;
  }

  #crlf(): void {
    const input = this.#input;
    const pos = this.#pos;
    this.steps += 2;
    if (input[pos] === cr && input[pos + 1] === lf) {
      this.#pos = pos + 2;
      return;
    }
    if (pos >= input.length || (input[pos] === cr && pos + 1 >= input.length))
      throw parseError('unexpected end of input', input.length);
    throw parseError('expected CRLF', pos);
  }
}

/**
 * Decodes one RESP3 value that must span the whole input. Throws an `AioError` with code
 * `ERR_AIO_STATE_STORE_PARSE` for anything malformed, truncated, non-canonical or nested deeper
 * than `maxDepth`; `TypeError`/`RangeError` for bad arguments.
 *
 * @example
 * ```ts
 * import { decodeResp3 } from '@aio-connector/core';
 * decodeResp3(new TextEncoder().encode(':1\r\n')); // { type: 'integer', value: 1 }
 * ```
 */
export function decodeResp3(input: Uint8Array, options: Resp3DecodeOptions = {}): Resp3Value {
  if (!(input instanceof Uint8Array)) throw new TypeError('input must be a Uint8Array');
  if (typeof options !== 'object' || options === null)
    throw new TypeError('options must be an object');
  const maxDepth = options.maxDepth ?? defaultMaxDepth;
  if (typeof maxDepth !== 'number') throw new TypeError('maxDepth must be a number');
  if (!Number.isInteger(maxDepth) || maxDepth < 1 || maxDepth > maxMaxDepth)
    throw new RangeError(
      `maxDepth must be an integer from 1 to ${maxMaxDepth}, received ${maxDepth}`,
    );
  const reader = new Resp3Reader(input, maxDepth);
  try {
    return reader.readDocument();
  } finally {
    if (options.stats !== undefined) options.stats.steps = reader.steps;
  }
}

function decodeResponse(payload: Uint8Array): Resp3Value {
  const value = decodeResp3(payload, { maxDepth: 1 });
  if (value.type === 'error') throw new StateStoreServiceError(value.value);
  return value;
}

/**
 * Reads the response to a `SET`: `'OK'` when applied, `'NOT_APPLIED'` when its `NX`/`NEX`
 * condition failed (`:-1`; the null blob is read the same way). Throws `StateStoreServiceError`
 * (`ERR_AIO_STATE_STORE_SERVICE`) for `-ERR …` and `ERR_AIO_STATE_STORE_PARSE` for anything else.
 *
 * @example
 * ```ts
 * import { parseSetResponse } from '@aio-connector/core';
 * parseSetResponse(new TextEncoder().encode('+OK\r\n')); // 'OK'
 * parseSetResponse(new TextEncoder().encode(':-1\r\n')); // 'NOT_APPLIED'
 * ```
 */
export function parseSetResponse(payload: Uint8Array): StateStoreSetResult {
  const value = decodeResponse(payload);
  if (value.type === 'simple' && value.value === 'OK') return 'OK';
  if ((value.type === 'integer' && value.value === -1) || value.type === 'null')
    return 'NOT_APPLIED';
  throw unexpected('SET', value);
}

/**
 * Reads the response to a `GET`: the value's bytes, or `undefined` when the key does not exist
 * (`$-1`). Throws like {@link parseSetResponse}.
 *
 * @example
 * ```ts
 * import { parseGetResponse } from '@aio-connector/core';
 * parseGetResponse(new TextEncoder().encode('$4\r\n1234\r\n')); // bytes of '1234'
 * parseGetResponse(new TextEncoder().encode('$-1\r\n')); // undefined
 * ```
 */
export function parseGetResponse(payload: Uint8Array): Uint8Array | undefined {
  const value = decodeResponse(payload);
  if (value.type === 'blob') return value.value;
  if (value.type === 'null') return undefined;
  throw unexpected('GET', value);
}

/**
 * Reads the response to a `DEL`: the number of keys deleted (1, or 0 when the key did not exist).
 * Throws like {@link parseSetResponse}.
 *
 * @example
 * ```ts
 * import { parseDelResponse } from '@aio-connector/core';
 * parseDelResponse(new TextEncoder().encode(':1\r\n')); // 1
 * ```
 */
export function parseDelResponse(payload: Uint8Array): number {
  const value = decodeResponse(payload);
  if (value.type === 'integer' && value.value >= 0) return value.value;
  throw unexpected('DEL', value);
}

/**
 * Reads the response to a `VDEL`: 1 deleted, 0 the key did not exist, -1 it holds another value.
 * Throws like {@link parseSetResponse}.
 *
 * @example
 * ```ts
 * import { parseVdelResponse } from '@aio-connector/core';
 * parseVdelResponse(new TextEncoder().encode(':-1\r\n')); // -1
 * ```
 */
export function parseVdelResponse(payload: Uint8Array): StateStoreVdelResult {
  const value = decodeResponse(payload);
  if (value.type === 'integer' && (value.value === 1 || value.value === 0 || value.value === -1))
    return value.value;
  throw unexpected('VDEL', value);
}

/**
 * Reads the response to a `KEYNOTIFY`: `true` for `+OK`, `false` for `:0` (a `STOP` for a key that
 * was not watched). Throws like {@link parseSetResponse}.
 *
 * @example
 * ```ts
 * import { parseKeyNotifyResponse } from '@aio-connector/core';
 * parseKeyNotifyResponse(new TextEncoder().encode('+OK\r\n')); // true
 * ```
 */
export function parseKeyNotifyResponse(payload: Uint8Array): boolean {
  const value = decodeResponse(payload);
  if (value.type === 'simple' && value.value === 'OK') return true;
  if (value.type === 'integer' && value.value === 0) return false;
  throw unexpected('KEYNOTIFY', value);
}

function blobArray(payload: Uint8Array, what: string): Uint8Array[] {
  const value = decodeResp3(payload, { maxDepth: 1 });
  if (value.type !== 'array') throw unexpected(what, value);
  const parts: Uint8Array[] = [];
  for (const item of value.value) {
    if (item.type !== 'blob') throw unexpected(what, item);
    parts.push(item.value);
  }
  return parts;
}

function equalsAscii(bytes: Uint8Array | undefined, text: string): boolean {
  if (bytes?.length !== text.length) return false;
  for (let i = 0; i < text.length; i += 1) if (bytes[i] !== text.charCodeAt(i)) return false;
  return true;
}

/**
 * Reads a key notification payload: `*4 NOTIFY SET VALUE <value>` or `*2 NOTIFY DELETE`. Throws
 * `ERR_AIO_STATE_STORE_PARSE` for anything else.
 *
 * @example
 * ```ts
 * import { encodeSetNotification, parseNotification } from '@aio-connector/core';
 * parseNotification(encodeSetNotification('v')); // { operation: 'SET', value: bytes of 'v' }
 * ```
 */
export function parseNotification(payload: Uint8Array): StateStoreNotificationPayload {
  const parts = blobArray(payload, 'a key notification');
  if (!equalsAscii(parts[0], 'NOTIFY'))
    throw parseError('a key notification must start with NOTIFY', 0);
  if (parts.length === 4 && equalsAscii(parts[1], 'SET') && equalsAscii(parts[2], 'VALUE'))
    return { operation: 'SET', value: parts[3] as Uint8Array };
  if (parts.length === 2 && equalsAscii(parts[1], 'DELETE')) return { operation: 'DELETE' };
  throw parseError('a key notification must be NOTIFY SET VALUE <value> or NOTIFY DELETE', 0);
}

/**
 * Reads a request as the state store service does: a non-empty array of blob strings whose first
 * element names the command. Throws `ERR_AIO_STATE_STORE_PARSE` for anything else.
 *
 * @example
 * ```ts
 * import { encodeGetRequest, parseRequest } from '@aio-connector/core';
 * const { command, args } = parseRequest(encodeGetRequest('k')); // 'GET', [bytes of 'k']
 * ```
 */
export function parseRequest(payload: Uint8Array): StateStoreRequestPayload {
  const parts = blobArray(payload, 'a request');
  const [first, ...args] = parts;
  if (first === undefined) throw parseError('a request needs at least a command', 0);
  return { command: lenientUtf8.decode(first), args };
}
