/**
 * Device endpoint authentication and TLS, end to end: Basic (and password rotation without a
 * restart), mutual TLS with a client certificate (with and without intermediates; a wrong
 * certificate is refused), and a private CA trusted through the endpoint's trust list.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { startThermostatServer, type ThermostatServerOptions } from '@aio-connector/devkit';
import { eventually, generateTestPki } from '@aio-connector/testing';
import { restAsset, restDataset, restDevice, startRestHarness } from './support/rest-harness.ts';

async function thermostat(options: ThermostatServerOptions) {
  const server = await startThermostatServer({
    stepInMs: 3_600_000,
    initialState: { currentTemperature: 69.5, desiredTemperature: 70 },
    ...options,
  });
  onTestFinished(() => server.close());
  return server;
}

const dataset = restDataset('current', '/api/thermostat/current');

describe('RestConnector authentication and TLS', () => {
  it('authenticates with Basic credentials from the endpoint secrets, and picks up a rotated password', async () => {
    const server = await thermostat({
      auth: { kind: 'basic', username: 'operator', password: 'rotated-secret' },
    });
    const harness = await startRestHarness({
      device: restDevice(server.url, {
        authentication: {
          method: 'UsernamePassword',
          usernamePasswordCredentials: {
            usernameSecretName: 'rest-creds/username',
            passwordSecretName: 'rest-creds/password',
          },
        },
      }),
      assets: restAsset([dataset]),
      secrets: { 'rest-creds/username': 'operator', 'rest-creds/password': 'old-secret' },
    });
    await harness.start({ retry: { retries: 0 } });
    // the old password is refused: a 401 is a configuration problem, reported at once
    await eventually(
      () => {
        const error = harness.datasetError('current');
        expect(error?.code).toBe('ERR_AIO_HTTP_STATUS');
        expect(error?.message).toMatch(/answered 401 Unauthorized/);
      },
      { timeoutInMs: 20_000 },
    );
    expect(server.requests[0]!.headers['authorization']).toBe('Basic [redacted]');
    expect(harness.subscriber.messages).toHaveLength(0);
    // the secret rotates in the mount: the next sample reads it, without a restart
    await harness.sandbox.mount.writeSecret('rest-creds/password', 'rotated-secret');
    await harness.subscriber.waitFor(1, { timeoutInMs: 20_000 });
    expect(harness.json('current')).toEqual([{ currentTemperature: 69.5 }]);
    await eventually(() => {
      expect(harness.datasetError('current')).toBeUndefined();
    });
  });

  it('authenticates with a client certificate (mTLS) and trusts the server through the trust list', async () => {
    const pki = await generateTestPki();
    const server = await thermostat({
      tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca },
      auth: { kind: 'mtls' },
    });
    const harness = await startRestHarness({
      device: restDevice(server.url.replace('http:', 'https:'), {
        authentication: {
          method: 'Certificate',
          x509Credentials: { certificateSecretName: 'client/cert', keySecretName: 'client/key' },
        },
        trustSettings: { trustList: 'device-ca' },
      }),
      assets: restAsset([dataset]),
      secrets: { 'client/cert': pki.client.cert, 'client/key': pki.client.key },
      trustLists: { 'device-ca': pki.ca },
    });
    await harness.start();
    await harness.subscriber.waitFor(1, { timeoutInMs: 20_000 });
    expect(harness.json('current')).toEqual([{ currentTemperature: 69.5 }]);
    expect(server.requests[0]!.clientCertificateSubject).toBe('aio-test-client');
    expect(harness.datasetError('current')).toBeUndefined();
  });

  it('sends the intermediate certificates with the client certificate', async () => {
    const pki = await generateTestPki();
    const server = await thermostat({
      tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca },
      auth: { kind: 'mtls' },
    });
    const harness = await startRestHarness({
      device: restDevice(server.url.replace('http:', 'https:'), {
        authentication: {
          method: 'Certificate',
          x509Credentials: {
            certificateSecretName: 'client/cert',
            intermediateCertificatesSecretName: 'client/intermediates',
            keySecretName: 'client/key',
          },
        },
        trustSettings: { trustList: 'device-ca' },
      }),
      assets: restAsset([dataset]),
      secrets: {
        'client/cert': pki.intermediateClient.cert,
        'client/intermediates': pki.intermediateCa,
        'client/key': pki.intermediateClient.key,
      },
      trustLists: { 'device-ca': pki.ca },
    });
    await harness.start();
    await harness.subscriber.waitFor(1, { timeoutInMs: 20_000 });
    expect(harness.json('current')).toEqual([{ currentTemperature: 69.5 }]);
    expect(server.requests).not.toHaveLength(0);
  });

  it('reports a client certificate the server refuses, and forwards nothing', async () => {
    const pki = await generateTestPki();
    const server = await thermostat({
      tls: { cert: pki.server.cert, key: pki.server.key, ca: pki.ca },
      auth: { kind: 'mtls' },
    });
    const harness = await startRestHarness({
      device: restDevice(server.url.replace('http:', 'https:'), {
        authentication: {
          method: 'Certificate',
          x509Credentials: { certificateSecretName: 'client/cert', keySecretName: 'client/key' },
        },
        trustSettings: { trustList: 'device-ca' },
      }),
      assets: restAsset([dataset]),
      secrets: { 'client/cert': pki.wrongClient.cert, 'client/key': pki.wrongClient.key },
      trustLists: { 'device-ca': pki.ca },
    });
    await harness.start({ retry: { retries: 0 } });
    await eventually(
      () => {
        const error = harness.datasetError('current');
        expect(['ERR_AIO_HTTP_TLS', 'ERR_AIO_HTTP_NETWORK']).toContain(error?.code);
        expect(error?.message).toMatch(/client certificate/);
        expect(harness.datasetHealth('current').at(-1)?.status).toBe('Unavailable');
      },
      { timeoutInMs: 20_000 },
    );
    expect(server.requests).toHaveLength(0);
    expect(harness.subscriber.messages).toHaveLength(0);
  });

  it('trusts a private CA only through the trust list; without it the server is refused', async () => {
    const pki = await generateTestPki();
    const server = await thermostat({ tls: { cert: pki.server.cert, key: pki.server.key } });
    const address = server.url.replace('http:', 'https:');
    const trusted = await startRestHarness({
      device: restDevice(address, { trustSettings: { trustList: 'device-ca' } }),
      assets: restAsset([dataset]),
      trustLists: { 'device-ca': pki.ca },
    });
    await trusted.start();
    await trusted.subscriber.waitFor(1, { timeoutInMs: 20_000 });
    expect(trusted.json('current')).toEqual([{ currentTemperature: 69.5 }]);

    const untrusted = await startRestHarness({
      device: restDevice(address),
      assets: restAsset([dataset]),
    });
    await untrusted.start();
    await eventually(
      () => {
        const error = untrusted.datasetError('current');
        expect(error?.code).toBe('ERR_AIO_HTTP_TLS');
        expect(error?.message).toMatch(/unknown CA/);
      },
      { timeoutInMs: 20_000 },
    );
    expect(untrusted.subscriber.messages).toHaveLength(0);
  });
});
