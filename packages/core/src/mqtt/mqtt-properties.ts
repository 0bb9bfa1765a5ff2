/**
 * Mapping between the SDK's message types and mqtt.js packets, with the checks that keep a bad
 * value from reaching the wire (mqtt-packet destroys the connection on an invalid property).
 *
 * @module
 */
import type { IClientPublishOptions, IPublishPacket } from 'mqtt';
import type { IncomingMessage, OutgoingMessage, UserProperty } from './mqtt-client.ts';

const maxUint32 = 0xffff_ffff;
const maxUtf8Bytes = 0xffff;

/** Throws TypeError / RangeError when `message` cannot be sent. */
export function checkOutgoingMessage(message: OutgoingMessage): void {
  if (typeof message !== 'object' || message === null)
    throw new TypeError('message must be an object');
  const { topic, payload, qos } = message;
  if (typeof topic !== 'string') throw new TypeError('message.topic must be a string');
  if (topic === '' || topic.includes('+') || topic.includes('#') || topic.includes('\u0000'))
    throw new RangeError(
      `message.topic must be a non-empty topic name without wildcards: ${topic}`,
    );
  if (Buffer.byteLength(topic) > maxUtf8Bytes) throw new RangeError('message.topic is too long');
  if (!(payload instanceof Uint8Array)) throw new TypeError('message.payload must be a Uint8Array');
  if (qos !== 0 && qos !== 1)
    throw new RangeError(`message.qos must be 0 or 1, received ${String(qos)}`);
  if (message.retain !== undefined && typeof message.retain !== 'boolean')
    throw new TypeError('message.retain must be a boolean');
  checkString('contentType', message.contentType);
  checkString('responseTopic', message.responseTopic);
  const pfi = message.payloadFormatIndicator;
  if (pfi !== undefined && pfi !== 0 && pfi !== 1)
    throw new RangeError(`message.payloadFormatIndicator must be 0 or 1, received ${String(pfi)}`);
  const expiry = message.messageExpiryInterval;
  if (expiry !== undefined) {
    if (typeof expiry !== 'number')
      throw new TypeError('message.messageExpiryInterval must be a number');
    if (!Number.isInteger(expiry) || expiry < 0 || expiry > maxUint32)
      throw new RangeError(
        `message.messageExpiryInterval must be an integer in [0, ${maxUint32}] seconds, received ${expiry}`,
      );
  }
  if (message.correlationData !== undefined && !(message.correlationData instanceof Uint8Array))
    throw new TypeError('message.correlationData must be a Uint8Array');
  if (message.userProperties !== undefined) {
    if (!Array.isArray(message.userProperties))
      throw new TypeError('message.userProperties must be an array of [name, value] pairs');
    for (const pair of message.userProperties) {
      if (
        !Array.isArray(pair) ||
        pair.length !== 2 ||
        typeof pair[0] !== 'string' ||
        typeof pair[1] !== 'string'
      )
        throw new TypeError(
          'message.userProperties must be an array of [name, value] string pairs',
        );
    }
  }
}

function checkString(name: string, value: unknown): void {
  if (value === undefined) return;
  if (typeof value !== 'string') throw new TypeError(`message.${name} must be a string`);
  if (Buffer.byteLength(value) > maxUtf8Bytes) throw new RangeError(`message.${name} is too long`);
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * User properties as mqtt.js takes them: an object of name → value or values. Values of a repeated
 * name are grouped (their relative order is kept); names keep the order of their first appearance,
 * except that JavaScript puts integer-like names first.
 */
export function toUserPropertiesObject(
  pairs: readonly UserProperty[],
): Record<string, string | string[]> {
  const result = Object.create(null) as Record<string, string | string[]>;
  for (const [name, value] of pairs) {
    const existing = result[name];
    if (existing === undefined) result[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else result[name] = [existing, value];
  }
  return result;
}

/** The reverse of {@link toUserPropertiesObject}. */
export function fromUserPropertiesObject(
  object: Readonly<Record<string, string | string[]>> | undefined,
): UserProperty[] {
  const pairs: UserProperty[] = [];
  if (object === undefined) return pairs;
  for (const name of Object.getOwnPropertyNames(object)) {
    const value = object[name];
    if (Array.isArray(value)) for (const item of value) pairs.push([name, item]);
    else if (value !== undefined) pairs.push([name, value]);
  }
  return pairs;
}

/** The mqtt.js publish options of a message (checked with {@link checkOutgoingMessage} first). */
export function toPublishOptions(message: OutgoingMessage): IClientPublishOptions {
  const properties: NonNullable<IClientPublishOptions['properties']> = {};
  if (message.payloadFormatIndicator !== undefined)
    properties.payloadFormatIndicator = message.payloadFormatIndicator === 1;
  if (message.messageExpiryInterval !== undefined)
    properties.messageExpiryInterval = message.messageExpiryInterval;
  if (message.contentType !== undefined) properties.contentType = message.contentType;
  if (message.responseTopic !== undefined) properties.responseTopic = message.responseTopic;
  if (message.correlationData !== undefined)
    properties.correlationData = asBuffer(message.correlationData);
  if (message.userProperties !== undefined && message.userProperties.length > 0)
    properties.userProperties = toUserPropertiesObject(message.userProperties);
  return {
    qos: message.qos,
    retain: message.retain ?? false,
    ...(Object.keys(properties).length > 0 ? { properties } : {}),
  };
}

/** The payload as mqtt.js takes it (a Buffer view, no copy). */
export function toPayload(message: OutgoingMessage): Buffer {
  return asBuffer(message.payload);
}

/** A received mqtt.js PUBLISH as an {@link IncomingMessage}. */
export function fromPublishPacket(packet: IPublishPacket): IncomingMessage {
  const p = packet.properties ?? {};
  const payload =
    typeof packet.payload === 'string' ? Buffer.from(packet.payload, 'utf8') : packet.payload;
  return {
    topic: packet.topic,
    payload,
    qos: packet.qos === 0 ? 0 : 1,
    retain: packet.retain,
    ...(p.contentType === undefined ? {} : { contentType: p.contentType }),
    ...(p.payloadFormatIndicator === undefined
      ? {}
      : { payloadFormatIndicator: p.payloadFormatIndicator ? 1 : 0 }),
    ...(p.messageExpiryInterval === undefined
      ? {}
      : { messageExpiryInterval: p.messageExpiryInterval }),
    ...(p.responseTopic === undefined ? {} : { responseTopic: p.responseTopic }),
    ...(p.correlationData === undefined ? {} : { correlationData: p.correlationData }),
    ...(p.userProperties === undefined
      ? {}
      : { userProperties: fromUserPropertiesObject(p.userProperties) }),
  };
}

function varIntSize(value: number): number {
  if (value < 128) return 1;
  if (value < 16_384) return 2;
  if (value < 2_097_152) return 3;
  return 4;
}

/**
 * The size in bytes of the MQTT 5 PUBLISH packet that carries `message` (fixed header included),
 * to compare with the broker's Maximum Packet Size.
 */
export function publishPacketSize(message: OutgoingMessage): number {
  const utf8 = (text: string): number => 2 + Buffer.byteLength(text);
  let properties = 0;
  if (message.payloadFormatIndicator !== undefined) properties += 2;
  if (message.messageExpiryInterval !== undefined) properties += 5;
  if (message.contentType !== undefined) properties += 1 + utf8(message.contentType);
  if (message.responseTopic !== undefined) properties += 1 + utf8(message.responseTopic);
  if (message.correlationData !== undefined) properties += 3 + message.correlationData.byteLength;
  for (const [name, value] of message.userProperties ?? [])
    properties += 1 + utf8(name) + utf8(value);
  const remaining =
    utf8(message.topic) +
    (message.qos > 0 ? 2 : 0) +
    varIntSize(properties) +
    properties +
    message.payload.byteLength;
  return 1 + varIntSize(remaining) + remaining;
}
