/**
 * Device endpoint addresses and data sources for HTTP(S): which addresses an HTTP endpoint accepts,
 * how a dataset's or event's `dataSource` resolves against the address, and how URLs are shown in
 * errors and logs.
 *
 * @module
 */
import { ConfigError } from '../errors.ts';
import { redactUrl } from '../logger.ts';
import { quote } from '../runtime/mount-files.ts';

/** Options of {@link parseHttpAddress} and {@link resolveHttpDataSource}. */
export interface HttpLocationOptions {
  /**
   * What configuration errors name as their source, for example
   * `device my-thermostat endpoint my-rest-endpoint`. Default: `'HTTP endpoint'`.
   */
  readonly source?: string;
}

const defaultSource = 'HTTP endpoint';
const absoluteUrl = /^[a-z][a-z0-9+.-]*:/i;

function sourceOf(options: HttpLocationOptions): string {
  if (typeof options !== 'object' || options === null)
    throw new TypeError(`options must be an object, received ${typeof options}`);
  const { source } = options;
  if (source !== undefined && typeof source !== 'string')
    throw new TypeError(`options.source must be a string, received ${typeof source}`);
  return source === undefined || source === '' ? defaultSource : source;
}

function configError(source: string, field: string, problem: string): ConfigError {
  return new ConfigError(`${source}: field "${field}" ${problem}`, { source, field });
}

function shown(value: string): string {
  return quote(redactUrl(value));
}

/**
 * Parses and checks the `address` of a device endpoint used over HTTP: an absolute `http:` or
 * `https:` URL, without credentials (`user:password@`), query or fragment. Its path, if any, is
 * the prefix every `dataSource` path is appended to (see {@link resolveHttpDataSource}). Throws a
 * `ConfigError` naming the field `address` otherwise.
 *
 * @example
 * ```ts
 * import { parseHttpAddress } from '@aio-connector/core';
 * parseHttpAddress('http://thermostat.local:8080').origin; // 'http://thermostat.local:8080'
 * parseHttpAddress('opc.tcp://plc:4840'); // throws ConfigError (field "address")
 * ```
 */
export function parseHttpAddress(address: string, options: HttpLocationOptions = {}): URL {
  const source = sourceOf(options);
  if (typeof address !== 'string')
    throw configError(source, 'address', `must be an http: or https: URL, found ${quote(address)}`);
  const text = address.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw configError(
      source,
      'address',
      `must be an absolute http: or https: URL, found ${shown(address)}`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw configError(
      source,
      'address',
      `must be an http: or https: URL, found ${shown(address)} (scheme ${url.protocol})`,
    );
  if (url.hostname === '')
    throw configError(source, 'address', `has no host name, found ${shown(address)}`);
  if (url.username !== '' || url.password !== '')
    throw configError(
      source,
      'address',
      `must not carry credentials (${shown(address)}); use the endpoint's authentication`,
    );
  if (url.search !== '' || text.includes('?'))
    throw configError(
      source,
      'address',
      `must not have a query, found ${shown(address)}; put the query in the dataSource`,
    );
  if (url.hash !== '' || text.includes('#'))
    throw configError(source, 'address', `must not have a fragment, found ${shown(address)}`);
  return url;
}

function prefixOf(address: URL): string {
  const path = address.pathname;
  return path.endsWith('/') ? path.slice(0, -1) : path;
}

/**
 * Resolves a dataset's or event's `dataSource` against a device endpoint address, and checks it:
 *
 * - a path (`/api/x`, `api/x`, `/api/x?unit=C`, or empty for the address itself) is appended to
 *   the address path: the address path is a prefix, so `http://h:8080/base` with `/api/x` gives
 *   `http://h:8080/base/api/x` (with a root address, as in the official samples, the path is used
 *   as is);
 * - an absolute URL (`http://h:8080/api/x`) must have the same origin (scheme, host and port) as
 *   the address, so endpoint credentials never go to another server; it is used as is;
 * - a fragment (`#...`) is dropped.
 *
 * Throws a `ConfigError` naming the field (`address` or `dataSource`) otherwise.
 *
 * @example
 * ```ts
 * import { resolveHttpDataSource } from '@aio-connector/core';
 * resolveHttpDataSource('http://h:8080', '/api/sensor/env').href; // 'http://h:8080/api/sensor/env'
 * resolveHttpDataSource('http://h:8080/base', 'api/x?n=1').href; // 'http://h:8080/base/api/x?n=1'
 * resolveHttpDataSource('http://h:8080', 'http://other:8080/x'); // throws ConfigError
 * ```
 */
export function resolveHttpDataSource(
  address: string | URL,
  dataSource: string,
  options: HttpLocationOptions = {},
): URL {
  const source = sourceOf(options);
  const base =
    address instanceof URL
      ? parseHttpAddress(address.href, options)
      : parseHttpAddress(address, options);
  if (typeof dataSource !== 'string')
    throw configError(
      source,
      'dataSource',
      `must be a path or an absolute URL, found ${quote(dataSource)}`,
    );
  const text = dataSource.trim();
  if (absoluteUrl.test(text) || text.startsWith('//')) {
    let url: URL;
    try {
      url = new URL(text, base);
    } catch {
      throw configError(source, 'dataSource', `is not a valid URL, found ${shown(dataSource)}`);
    }
    if (url.username !== '' || url.password !== '')
      throw configError(
        source,
        'dataSource',
        `must not carry credentials (${shown(dataSource)}); use the endpoint's authentication`,
      );
    if (url.origin !== base.origin || (url.protocol !== 'http:' && url.protocol !== 'https:'))
      throw configError(
        source,
        'dataSource',
        `must be a path or a URL on the endpoint's origin ${base.origin}, found ${shown(dataSource)}`,
      );
    url.hash = '';
    return url;
  }
  const hashAt = text.indexOf('#');
  const withoutHash = hashAt === -1 ? text : text.slice(0, hashAt);
  const queryAt = withoutHash.indexOf('?');
  const path = queryAt === -1 ? withoutHash : withoutHash.slice(0, queryAt);
  const query = queryAt === -1 ? '' : withoutHash.slice(queryAt);
  const prefix = prefixOf(base);
  const joined = path === '' ? prefix || '/' : `${prefix}${path.startsWith('/') ? '' : '/'}${path}`;
  let url: URL;
  try {
    url = new URL(`${joined}${query}`, base.origin);
  } catch {
    throw configError(source, 'dataSource', `is not a valid path, found ${shown(dataSource)}`);
  }
  if (url.origin !== base.origin)
    throw configError(
      source,
      'dataSource',
      `must be a path or a URL on the endpoint's origin ${base.origin}, found ${shown(dataSource)}`,
    );
  return url;
}

const secretParameter = /pass(word)?|secret|token|key|sig(nature)?|auth|credential|session/i;

/**
 * A URL as shown in errors and logs: without `user:password@`, without fragment, and with the
 * values of query parameters whose names look secret (`token`, `api_key`, `sig`, ...) replaced by
 * `[redacted]`.
 *
 * @example
 * ```ts
 * import { displayUrl } from '@aio-connector/core';
 * displayUrl('https://u:p@h/x?api_key=abc&n=1'); // 'https://h/x?api_key=%5Bredacted%5D&n=1'
 * ```
 */
export function displayUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = new URL(url instanceof URL ? url.href : url);
  } catch {
    return redactUrl(String(url));
  }
  parsed.username = '';
  parsed.password = '';
  parsed.hash = '';
  if (parsed.search !== '') {
    let changed = false;
    const parameters = parsed.searchParams;
    for (const name of new Set(parameters.keys())) {
      if (!secretParameter.test(name)) continue;
      parameters.set(name, '[redacted]');
      changed = true;
    }
    if (changed) parsed.search = parameters.toString();
  }
  return parsed.href;
}
