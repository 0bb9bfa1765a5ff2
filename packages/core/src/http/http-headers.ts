/**
 * Small pieces of HTTP header handling: content types, request header checks, response header
 * flattening.
 *
 * @module
 */

/** A parsed `Content-Type` value. */
export interface ParsedContentType {
  /** The media type, lower case, without parameters (`application/json`). */
  readonly mediaType: string;
  /** The parameters, names in lower case, values unquoted (`{ charset: 'utf-8' }`). */
  readonly parameters: Readonly<Record<string, string>>;
}

const token = /^[!#$%&'*+.^_`|~0-9a-z-]+$/i;

/**
 * Parses a `Content-Type` header value. Returns `undefined` when the value is absent or its media
 * type is malformed; malformed parameters are skipped.
 *
 * @example
 * ```ts
 * import { parseContentType } from '@aio-connector/core';
 * parseContentType('Application/JSON; charset="utf-8"');
 * // { mediaType: 'application/json', parameters: { charset: 'utf-8' } }
 * parseContentType('not a type'); // undefined
 * ```
 */
export function parseContentType(value: string | undefined): ParsedContentType | undefined {
  if (typeof value !== 'string') return undefined;
  const [essence = '', ...rest] = value.split(';');
  const slash = essence.indexOf('/');
  const type = essence.slice(0, slash).trim();
  const subtype = essence.slice(slash + 1).trim();
  if (slash === -1 || !token.test(type) || !token.test(subtype)) return undefined;
  const parameters: Record<string, string> = {};
  for (const part of rest) {
    const equals = part.indexOf('=');
    if (equals === -1) continue;
    const name = part.slice(0, equals).trim().toLowerCase();
    let item = part.slice(equals + 1).trim();
    if (!token.test(name) || name in parameters) continue;
    if (item.length >= 2 && item.startsWith('"') && item.endsWith('"'))
      item = item.slice(1, -1).replace(/\\(.)/g, '$1');
    parameters[name] = item;
  }
  return Object.freeze({
    mediaType: `${type}/${subtype}`.toLowerCase(),
    parameters: Object.freeze(parameters),
  });
}

const invalidValue = /[\r\n\0]/;

/**
 * Checks request headers and returns them with lower-case names. Wrong types throw `TypeError`,
 * invalid names or values (CR, LF, NUL) `RangeError`.
 *
 * @internal
 */
export function normalizeRequestHeaders(
  headers: Readonly<Record<string, string>> | undefined,
  name: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers === undefined) return out;
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers))
    throw new TypeError(`${name} must be an object of header names to strings`);
  for (const [key, value] of Object.entries(headers)) {
    if (typeof value !== 'string')
      throw new TypeError(`${name}["${key}"] must be a string, received ${typeof value}`);
    if (!token.test(key)) throw new RangeError(`${name}: "${key}" is not a valid header name`);
    if (invalidValue.test(value))
      throw new RangeError(`${name}["${key}"] must not contain CR, LF or NUL`);
    out[key.toLowerCase()] = value;
  }
  return out;
}

/**
 * Flattens undici's response headers to one string per lower-case name (repeated headers joined
 * with `, `) in a frozen object.
 *
 * @internal
 */
export function flattenHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): Readonly<Record<string, string>> {
  const entries: [string, string][] = [];
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    entries.push([key.toLowerCase(), Array.isArray(value) ? value.join(', ') : value]);
  }
  return Object.freeze(Object.fromEntries(entries));
}
