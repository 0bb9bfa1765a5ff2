/**
 * What the REST connector makes of a response body: JSON (by content type, or sniffed when there
 * is none), other bytes (forwarded with their content type or rejected), and the value a data
 * point contributes to its dataset's merged message.
 *
 * @module
 */
import {
  AioError,
  HttpError,
  displayUrl,
  parseContentType,
  type HttpResponse,
} from '@aio-connector/core';

/** What to do with a response that is not JSON. */
export type RestNonJsonPolicy = 'forward' | 'reject';

/** A response body, decoded. */
export type RestBody =
  /** No body (204, or an empty 200): nothing to forward. */
  | { readonly kind: 'empty' }
  /** A JSON body: the parsed value, the bytes as received and their media type. */
  | {
      readonly kind: 'json';
      readonly value: unknown;
      readonly bytes: Uint8Array;
      readonly mediaType: string;
    }
  /** Another body, with the content type to forward it with. */
  | { readonly kind: 'bytes'; readonly bytes: Uint8Array; readonly contentType: string };

/**
 * Whether a media type is JSON: `application/json` or a structured `+json` type such as
 * `application/problem+json`.
 *
 * @example
 * ```ts
 * import { isJsonMediaType } from '@aio-connector/rest';
 * isJsonMediaType('application/vnd.api+json'); // true
 * isJsonMediaType('text/plain'); // false
 * ```
 */
export function isJsonMediaType(mediaType: string | undefined): boolean {
  if (mediaType === undefined) return false;
  const type = mediaType.toLowerCase();
  return type === 'application/json' || (type.includes('/') && type.endsWith('+json'));
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function parseJson(
  bytes: Uint8Array,
): { ok: true; value: unknown } | { ok: false; reason: string } {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return { ok: false, reason: 'the body is not valid UTF-8' };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
}

function contentTypeError(response: HttpResponse, method: string, what: string): HttpError {
  return new HttpError(
    'ERR_AIO_HTTP_CONTENT_TYPE',
    `${method} ${displayUrl(response.url)} answered ${response.status} with content type ${response.contentType === undefined ? '(none)' : JSON.stringify(response.contentType)}; ${what}`,
    {
      method,
      url: response.url,
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
      retryable: false,
      details: { expected: 'application/json', received: response.contentType },
    },
  );
}

/**
 * Decodes a response body. A body whose media type is JSON must parse (else
 * `ERR_AIO_HTTP_INVALID_JSON`, not retryable); a body without a content type is JSON when it
 * parses, bytes otherwise; any other body is bytes, forwarded with its content type, or rejected
 * with `ERR_AIO_HTTP_CONTENT_TYPE` when `nonJson` is `'reject'`. An empty body is `empty`.
 *
 * @example
 * ```ts
 * import { decodeRestBody } from '@aio-connector/rest';
 * const body = decodeRestBody(response, 'GET', 'forward');
 * if (body.kind === 'json') console.log(body.value);
 * ```
 */
export function decodeRestBody(
  response: HttpResponse,
  method: string,
  nonJson: RestNonJsonPolicy,
): RestBody {
  const bytes = response.body;
  if (bytes.byteLength === 0) return { kind: 'empty' };
  const mediaType = response.mediaType;
  if (isJsonMediaType(mediaType)) {
    const parsed = parseJson(bytes);
    if (!parsed.ok) {
      const url = displayUrl(response.url);
      throw new AioError(
        'ERR_AIO_HTTP_INVALID_JSON',
        `${method} ${url} answered ${response.status} with content type ${JSON.stringify(response.contentType)} but a body that is not valid JSON: ${parsed.reason}`,
        {
          retryable: false,
          details: {
            method,
            url,
            status: response.status,
            contentType: response.contentType,
            reason: parsed.reason,
            bytes: bytes.byteLength,
          },
        },
      );
    }
    return { kind: 'json', value: parsed.value, bytes, mediaType: mediaType as string };
  }
  if (response.contentType === undefined) {
    const parsed = parseJson(bytes);
    if (parsed.ok)
      return { kind: 'json', value: parsed.value, bytes, mediaType: 'application/json' };
  }
  if (nonJson === 'reject')
    throw contentTypeError(
      response,
      method,
      'the connector is set to accept JSON only (nonJson: reject)',
    );
  return {
    kind: 'bytes',
    bytes,
    contentType: response.contentType ?? 'application/octet-stream',
  };
}

/**
 * The value a data point contributes to its dataset's message, from its decoded body:
 *
 * - a JSON object with exactly one member, named like the data point, gives that member's value
 *   (the official thermostat sample answers `{"currentTemperature": 72}` for the data point
 *   `currentTemperature`, and the message gets `"currentTemperature": 72`, not a nested object);
 * - any other JSON value is used as it is;
 * - a `text/*` body gives its text, decoded in its `charset` (UTF-8 by default; with
 *   `nonJson: 'forward'`); an empty body gives `null`;
 * - other bytes cannot go into a JSON message: `ERR_AIO_HTTP_CONTENT_TYPE`.
 *
 * @example
 * ```ts
 * import { dataPointValue } from '@aio-connector/rest';
 * dataPointValue('currentTemperature', { kind: 'json', value: { currentTemperature: 72 },
 *   bytes: new Uint8Array(), mediaType: 'application/json' }); // 72
 * ```
 */
export function dataPointValue(
  name: string,
  body: RestBody,
  response?: HttpResponse,
  method = 'GET',
): unknown {
  switch (body.kind) {
    case 'empty':
      return null;
    case 'json': {
      const value = body.value;
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        const keys = Object.keys(value);
        if (keys.length === 1 && keys[0] === name) return (value as Record<string, unknown>)[name];
      }
      return value;
    }
    case 'bytes': {
      if (/^text\//i.test(body.contentType)) {
        const charset = parseContentType(body.contentType)?.parameters['charset'] ?? 'utf-8';
        try {
          return new TextDecoder(charset, { fatal: true }).decode(body.bytes);
        } catch {
          // not text in that charset after all, or a charset that is not known
        }
      }
      if (response !== undefined)
        throw contentTypeError(
          response,
          method,
          `data point "${name}" needs JSON or text to merge into its dataset's message`,
        );
      throw new AioError(
        'ERR_AIO_HTTP_CONTENT_TYPE',
        `data point "${name}" answered ${body.contentType}, which cannot be merged into a JSON message`,
        { retryable: false },
      );
    }
  }
}
