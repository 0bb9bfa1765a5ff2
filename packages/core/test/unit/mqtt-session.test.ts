import { describe, expect, it } from 'vitest';
import { MqttSession, type MqttConnectionSettings } from '@aio-connector/core';

const settings: MqttConnectionSettings = {
  hostname: '127.0.0.1',
  port: 1883,
  clientId: 'unit',
  useTls: false,
};

describe('MqttSession options', () => {
  it.each([
    ['a numeric hostname', { hostname: 1 }, TypeError],
    ['an empty hostname', { hostname: '' }, RangeError],
    ['port 0', { port: 0 }, RangeError],
    ['a string port', { port: '1883' }, TypeError],
    ['an empty client id', { clientId: '' }, RangeError],
    ['session expiry 0', { sessionExpiryInSeconds: 0 }, RangeError],
    ['receive maximum 0', { receiveMaximum: 0 }, RangeError],
    ['a fractional keep-alive', { keepAliveInSeconds: 1.5 }, RangeError],
    ['useTls missing', { useTls: undefined }, TypeError],
    ['CA certificates that are not strings', { caCertificates: [1] }, TypeError],
  ])('refuses %s', (_name, change, type) => {
    expect(
      () => new MqttSession({ ...settings, ...change } as unknown as MqttConnectionSettings),
    ).toThrow(type);
  });

  it.each([
    ['SAT and username together', { satFile: '/x', username: 'u' }, /mutually exclusive/],
    ['a certificate without its key', { useTls: true, clientCertificate: 'PEM' }, /together/],
    ['a client certificate without TLS', { clientCertificate: 'c', clientKey: 'k' }, /useTls/],
  ])('refuses %s with a config error', (_name, change, message) => {
    expect(() => new MqttSession({ ...settings, ...change })).toThrow(
      expect.objectContaining({ code: 'ERR_AIO_CONFIG', message: expect.stringMatching(message) }),
    );
  });

  it.each([
    ['a negative reconnect delay', { reconnect: { minDelayInMs: -1 } }, RangeError],
    ['jitter above 1', { reconnect: { jitter: 2 } }, RangeError],
    ['max delay below min delay', { reconnect: { minDelayInMs: 10, maxDelayInMs: 5 } }, RangeError],
    ['a zero connect timeout', { connectTimeoutInMs: 0 }, RangeError],
    ['a numeric metric category', { metricCategory: 1 }, TypeError],
  ])('refuses %s', (_name, options, type) => {
    expect(() => new MqttSession(settings, options as never)).toThrow(type);
  });

  it('starts in state new and closes without connecting', async () => {
    const session = new MqttSession(settings);
    expect(session.state).toBe('new');
    expect(session.clientId).toBe('unit');
    expect(session.connected).toBe(false);
    expect(session.maximumPacketSize).toBeUndefined();
    await session.close();
    expect(session.state).toBe('closed');
    await expect(session.closed).resolves.toBeUndefined();
    await expect(
      session.publish({ topic: 't', payload: new Uint8Array(), qos: 1 }),
    ).rejects.toMatchObject({ code: 'ERR_AIO_CLOSED' });
    await expect(session.subscribe('t', { qos: 1 })).rejects.toMatchObject({
      code: 'ERR_AIO_CLOSED',
    });
    await expect(session.connect()).rejects.toMatchObject({ code: 'ERR_AIO_CLOSED' });
    await expect(
      session.publish({ topic: 'a/+', payload: new Uint8Array(), qos: 1 }),
    ).rejects.toBeInstanceOf(RangeError);
  });

  it('rejects connect at once for an aborted signal', async () => {
    const session = new MqttSession(settings);
    await expect(session.connect({ signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'ERR_AIO_ABORTED',
    });
    expect(session.state).toBe('new');
    session.destroy();
  });
});
