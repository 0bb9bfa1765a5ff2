import { describe, expect, it } from 'vitest';
import type { OutgoingMessage } from '@aio-connector/core';
import {
  checkOutgoingMessage,
  fromPublishPacket,
  fromUserPropertiesObject,
  publishPacketSize,
  toPublishOptions,
  toUserPropertiesObject,
} from '../../src/mqtt/mqtt-properties.ts';

const base: OutgoingMessage = { topic: 'a/b', payload: new Uint8Array([1, 2, 3]), qos: 1 };

describe('mqtt properties mapping', () => {
  it('maps every publish property to mqtt.js options', () => {
    const correlation = new Uint8Array([9, 8, 7, 6]);
    const options = toPublishOptions({
      ...base,
      retain: true,
      contentType: 'application/json',
      payloadFormatIndicator: 1,
      messageExpiryInterval: 10,
      responseTopic: 'reply/to',
      correlationData: correlation,
      userProperties: [
        ['__ts', '1'],
        ['x', 'a'],
        ['x', 'b'],
      ],
    });
    expect(options).toEqual({
      qos: 1,
      retain: true,
      properties: {
        contentType: 'application/json',
        payloadFormatIndicator: true,
        messageExpiryInterval: 10,
        responseTopic: 'reply/to',
        correlationData: Buffer.from(correlation),
        userProperties: Object.assign(Object.create(null), { __ts: '1', x: ['a', 'b'] }),
      },
    });
    expect(Buffer.isBuffer(options.properties?.correlationData)).toBe(true);
  });

  it('sends PFI 0 explicitly and omits absent properties', () => {
    expect(toPublishOptions({ ...base, qos: 0, payloadFormatIndicator: 0 })).toEqual({
      qos: 0,
      retain: false,
      properties: { payloadFormatIndicator: false },
    });
    expect(toPublishOptions(base)).toEqual({ qos: 1, retain: false });
  });

  it('groups repeated user property names and keeps first-appearance order', () => {
    const object = toUserPropertiesObject([
      ['b', '1'],
      ['a', '2'],
      ['b', '3'],
      ['__proto__', 'safe'],
    ]);
    expect(Object.getOwnPropertyNames(object)).toEqual(['b', 'a', '__proto__']);
    expect(fromUserPropertiesObject(object)).toEqual([
      ['b', '1'],
      ['b', '3'],
      ['a', '2'],
      ['__proto__', 'safe'],
    ]);
  });

  it('maps a received packet back, PFI and user properties included', () => {
    const message = fromPublishPacket({
      cmd: 'publish',
      topic: 't',
      payload: Buffer.from('hi'),
      qos: 1,
      retain: true,
      dup: false,
      messageId: 3,
      properties: {
        payloadFormatIndicator: false,
        contentType: 'text/plain',
        messageExpiryInterval: 7,
        responseTopic: 'r',
        correlationData: Buffer.from([1]),
        userProperties: { a: ['1', '2'], b: '3' },
      },
    });
    expect(message).toEqual({
      topic: 't',
      payload: Buffer.from('hi'),
      qos: 1,
      retain: true,
      payloadFormatIndicator: 0,
      contentType: 'text/plain',
      messageExpiryInterval: 7,
      responseTopic: 'r',
      correlationData: Buffer.from([1]),
      userProperties: [
        ['a', '1'],
        ['a', '2'],
        ['b', '3'],
      ],
    });
  });

  it.each([
    ['a wildcard topic', { ...base, topic: 'a/#' }, RangeError],
    ['an empty topic', { ...base, topic: '' }, RangeError],
    ['a string payload', { ...base, payload: 'x' }, TypeError],
    ['QoS 2', { ...base, qos: 2 }, RangeError],
    ['PFI 2', { ...base, payloadFormatIndicator: 2 }, RangeError],
    ['a fractional expiry', { ...base, messageExpiryInterval: 1.5 }, RangeError],
    ['a numeric user property', { ...base, userProperties: [['a', 1]] }, TypeError],
    ['string correlation data', { ...base, correlationData: 'x' }, TypeError],
  ])('refuses %s', (_name, message, type) => {
    expect(() => {
      checkOutgoingMessage(message as unknown as OutgoingMessage);
    }).toThrow(type);
  });

  it('computes the PUBLISH packet size', () => {
    // fixed header 2 + topic 2+3 + packet id 2 + properties length 1 + payload 3
    expect(publishPacketSize(base)).toBe(13);
    expect(publishPacketSize({ ...base, qos: 0 })).toBe(11);
    // 200-byte payload: the remaining length takes two bytes
    expect(publishPacketSize({ ...base, payload: new Uint8Array(200) })).toBe(3 + 5 + 2 + 1 + 200);
  });
});
