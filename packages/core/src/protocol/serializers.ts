/**
 * Payload serializers: how the protocol components turn values into MQTT payloads (with a content
 * type and a payload format indicator) and back.
 *
 * @module
 */
import { ProtocolError } from '../errors.ts';

/** A serialized payload with the MQTT properties that describe it. */
export interface SerializedPayload {
  readonly payload: Uint8Array;
  /** MQTT Content Type. Omitted for an empty payload. */
  readonly contentType?: string | undefined;
  /** 1 = UTF-8 character data, 0 = unspecified bytes. */
  readonly payloadFormatIndicator: 0 | 1;
}

/**
 * Serializes values of type `T`. `deserialize` must report problems as a `ProtocolError`: kind
 * `invalid header` with `headerName` `'Content Type'` or `'Payload Format Indicator'` when the
 * message is not in a format it accepts, kind `invalid payload` when the bytes cannot be decoded.
 * Any other error thrown is treated as `invalid payload`.
 *
 * @example
 * ```ts
 * import type { PayloadSerializer } from '@aio-connector/core';
 * const text: PayloadSerializer<string> = {
 *   serialize: (value) => ({
 *     payload: new TextEncoder().encode(value),
 *     contentType: 'text/plain',
 *     payloadFormatIndicator: 1,
 *   }),
 *   deserialize: (payload) => new TextDecoder().decode(payload),
 * };
 * ```
 */
export interface PayloadSerializer<T> {
  serialize(value: T): SerializedPayload;
  deserialize(
    payload: Uint8Array,
    contentType: string | undefined,
    payloadFormatIndicator: 0 | 1 | undefined,
  ): T;
}

const emptyPayload = new Uint8Array(0);

/**
 * A `ProtocolError` for a content type the serializer does not accept.
 *
 * @example
 * ```ts
 * import { unsupportedContentType } from '@aio-connector/core';
 * throw unsupportedContentType('application/protobuf');
 * ```
 */
export function unsupportedContentType(contentType: string): ProtocolError {
  return new ProtocolError('invalid header', `content type '${contentType}' is not supported`, {
    headerName: 'Content Type',
    headerValue: contentType,
  });
}

function isJsonContentType(contentType: string | undefined): boolean {
  if (contentType === undefined || contentType === '') return true;
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

/** Options of {@link createJsonSerializer}. */
export interface JsonSerializerOptions {
  /** The content type of outgoing payloads. Default: `'application/json'`. */
  readonly contentType?: string;
}

/**
 * The JSON serializer (the default of every component): `application/json`, payload format
 * indicator 1. `undefined` is sent as an empty payload without content type, and an empty payload
 * reads back as `undefined`, which is what services expect for requests without a body. Incoming
 * messages must have no content type, `application/json` or an `application/*+json` type.
 *
 * @example
 * ```ts
 * import { createJsonSerializer } from '@aio-connector/core';
 * const json = createJsonSerializer<{ temperature: number }>();
 * const { payload } = json.serialize({ temperature: 21.5 });
 * json.deserialize(payload, 'application/json', 1).temperature; // 21.5
 * ```
 */
export function createJsonSerializer<T = unknown>(
  options: JsonSerializerOptions = {},
): PayloadSerializer<T> {
  const contentType = options.contentType ?? 'application/json';
  if (typeof contentType !== 'string') throw new TypeError('contentType must be a string');
  return Object.freeze({
    serialize(value: T): SerializedPayload {
      if (value === undefined) return { payload: emptyPayload, payloadFormatIndicator: 0 };
      let text: string | undefined;
      try {
        text = JSON.stringify(value);
      } catch (error) {
        throw new ProtocolError('invalid payload', 'the value cannot be serialized as JSON', {
          isShallow: true,
          cause: error,
        });
      }
      if (text === undefined)
        throw new ProtocolError('invalid payload', 'the value cannot be serialized as JSON', {
          isShallow: true,
        });
      return {
        payload: new TextEncoder().encode(text),
        contentType,
        payloadFormatIndicator: 1,
      };
    },
    deserialize(payload: Uint8Array, messageContentType: string | undefined): T {
      if (!isJsonContentType(messageContentType))
        throw unsupportedContentType(messageContentType ?? '');
      if (payload.byteLength === 0) return undefined as T;
      try {
        return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload)) as T;
      } catch (error) {
        throw new ProtocolError('invalid payload', 'the payload is not valid JSON', {
          cause: error,
        });
      }
    },
  });
}

/**
 * The raw bytes serializer: payloads pass through unchanged, sent as `application/octet-stream`
 * with payload format indicator 0 (a per-call `contentType` option overrides it); any incoming
 * content type is accepted. An empty payload is sent without content type.
 *
 * @example
 * ```ts
 * import { CommandInvoker, rawSerializer } from '@aio-connector/core';
 * declare const client: import('@aio-connector/core').MqttClient;
 * const invoker = new CommandInvoker(client, 'getDevice', 'akri/connector/resources/{ex:id}/getDevice', {
 *   requestSerializer: rawSerializer,
 *   responseSerializer: rawSerializer,
 * });
 * ```
 */
export const rawSerializer: PayloadSerializer<Uint8Array> = Object.freeze({
  serialize(value: Uint8Array): SerializedPayload {
    if (!(value instanceof Uint8Array))
      throw new ProtocolError('invalid payload', 'the raw serializer needs a Uint8Array', {
        isShallow: true,
      });
    return value.byteLength === 0
      ? { payload: emptyPayload, payloadFormatIndicator: 0 }
      : { payload: value, contentType: 'application/octet-stream', payloadFormatIndicator: 0 };
  },
  deserialize(payload: Uint8Array): Uint8Array {
    return payload;
  },
});

/**
 * Runs a serializer's `deserialize`, turning anything that is not a `ProtocolError` into one of
 * kind `invalid payload`.
 *
 * @internal
 */
export function deserializeWith<T>(
  serializer: PayloadSerializer<T>,
  payload: Uint8Array,
  contentType: string | undefined,
  payloadFormatIndicator: 0 | 1 | undefined,
): T {
  try {
    return serializer.deserialize(payload, contentType, payloadFormatIndicator);
  } catch (error) {
    if (error instanceof ProtocolError) throw error;
    throw new ProtocolError('invalid payload', 'the payload could not be deserialized', {
      cause: error,
    });
  }
}

/**
 * Runs a serializer's `serialize`, turning anything that is not a `ProtocolError` into a shallow
 * one of kind `invalid payload`.
 *
 * @internal
 */
export function serializeWith<T>(serializer: PayloadSerializer<T>, value: T): SerializedPayload {
  try {
    return serializer.serialize(value);
  } catch (error) {
    if (error instanceof ProtocolError) throw error;
    throw new ProtocolError('invalid payload', 'the value could not be serialized', {
      isShallow: true,
      cause: error,
    });
  }
}
