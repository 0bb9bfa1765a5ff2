import { TLSSocket } from 'node:tls';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  AnonymousCredentials,
  CertificateCredentials,
  HttpEndpointClient,
  UsernamePasswordCredentials,
  type HttpEndpointClientOptions,
  type HttpError,
} from '@aio-connector/core';
import { generateTestPki } from '@aio-connector/testing';
import { startServer } from './http-test-server.ts';

function client(address: string, options: HttpEndpointClientOptions = {}): HttpEndpointClient {
  const instance = new HttpEndpointClient(address, options);
  onTestFinished(() => instance.destroy());
  return instance;
}

async function failure(promise: Promise<unknown>): Promise<HttpError> {
  try {
    await promise;
  } catch (error) {
    return error as HttpError;
  }
  throw new Error('expected the request to fail');
}

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

describe('HttpEndpointClient over TLS', () => {
  it('trusts a private CA through the trust list, and refuses the server without it', async () => {
    const pki = await generateTestPki();
    const server = await startServer((_request, response) => response.end('secure'), {
      cert: pki.server.cert,
      key: pki.server.key,
    });
    const trusted = client(server.url, {
      credentials: new AnonymousCredentials({ trustList: [pki.ca] }),
    });
    expect(text((await trusted.request({ url: '/api' })).body)).toBe('secure');

    for (const credentials of [
      new AnonymousCredentials(),
      new AnonymousCredentials({ trustList: [pki.otherCa] }),
    ]) {
      const error = await failure(client(server.url, { credentials }).request({ url: '/api' }));
      expect([error.code, error.retryable]).toEqual(['ERR_AIO_HTTP_TLS', false]);
      expect(error.message).toContain('unknown CA');
      expect(error.message).toContain("endpoint's trust list");
    }
  });

  it('verifies the server name, also when tlsServerName is set', async () => {
    const pki = await generateTestPki();
    const server = await startServer((_request, response) => response.end('named'), {
      cert: pki.server.cert,
      key: pki.server.key,
    });
    const credentials = new AnonymousCredentials({ trustList: [pki.ca] });
    const named = client(server.url, { credentials, tlsServerName: 'localhost' });
    expect(text((await named.request()).body)).toBe('named');
    const wrong = client(server.url, { credentials, tlsServerName: 'device.example.com' });
    const error = await failure(wrong.request());
    expect([error.code, error.retryable]).toEqual(['ERR_AIO_HTTP_TLS', false]);
    expect(error.message).toContain('does not name the host');
  });

  it('says so when an https: address points at a plain-HTTP port', async () => {
    const server = await startServer((_request, response) => response.end('plain'));
    const error = await failure(client(server.url.replace('http:', 'https:')).request());
    expect([error.code, error.retryable]).toEqual(['ERR_AIO_HTTP_TLS', false]);
    expect(error.message).toContain('does not speak TLS');
  });

  it('authenticates with a client certificate and its intermediate (mTLS)', async () => {
    const pki = await generateTestPki();
    const server = await startServer(
      (request, response) => {
        const { socket } = request;
        const certificate = socket instanceof TLSSocket ? socket.getPeerCertificate() : undefined;
        const subject = certificate?.subject as { CN?: string } | undefined;
        response.end(`hello ${subject?.CN ?? '?'}`);
      },
      {
        cert: pki.server.cert,
        key: pki.server.key,
        ca: pki.ca,
        requestCert: true,
        rejectUnauthorized: true,
      },
    );
    const chained = client(server.url, {
      credentials: new CertificateCredentials({
        certificate: pki.intermediateClient.cert,
        intermediateCertificates: pki.intermediateCa,
        key: pki.intermediateClient.key,
        trustList: [pki.ca],
      }),
    });
    expect(text((await chained.request()).body)).toBe('hello aio-test-intermediate-client');
    const direct = client(server.url, {
      credentials: new CertificateCredentials({
        certificate: pki.client.cert,
        key: pki.client.key,
        trustList: [pki.ca],
      }),
    });
    expect(text((await direct.request()).body)).toBe('hello aio-test-client');
  });

  it('explains a missing client certificate and a certificate from the wrong CA', async () => {
    const pki = await generateTestPki();
    const server = await startServer((_request, response) => response.end('never'), {
      cert: pki.server.cert,
      key: pki.server.key,
      ca: pki.ca,
      requestCert: true,
      rejectUnauthorized: true,
    });
    const missing = await failure(
      client(server.url, {
        credentials: new UsernamePasswordCredentials({
          username: 'u',
          password: 'p',
          trustList: [pki.ca],
        }),
      }).request(),
    );
    expect([missing.code, missing.retryable]).toEqual(['ERR_AIO_HTTP_TLS', false]);
    expect(missing.message).toContain('requires a client certificate');

    // a Node.js server closes the connection without a TLS alert when it rejects a certificate,
    // which looks like any other closed connection: the error says what to check
    const wrong = await failure(
      client(server.url, {
        credentials: new CertificateCredentials({
          certificate: pki.wrongClient.cert,
          key: pki.wrongClient.key,
          trustList: [pki.ca],
        }),
      }).request(),
    );
    expect(['ERR_AIO_HTTP_TLS', 'ERR_AIO_HTTP_NETWORK']).toContain(wrong.code);
    expect(wrong.message).toContain('client certificate');
  });

  it('refuses unusable certificate material when the client is made', async () => {
    const pki = await generateTestPki();
    const address = 'https://127.0.0.1:8443';
    const mismatched = (): HttpEndpointClient =>
      new HttpEndpointClient(address, {
        credentials: new CertificateCredentials({
          certificate: pki.client.cert,
          key: pki.server.key,
        }),
      });
    expect(mismatched).toThrow(
      expect.objectContaining({ code: 'ERR_AIO_CONFIG', field: 'authentication.x509Credentials' }),
    );
    const keyless = (): HttpEndpointClient =>
      new HttpEndpointClient(address, {
        credentials: new CertificateCredentials({ certificate: pki.client.cert }),
      });
    expect(keyless).toThrow(
      expect.objectContaining({ field: 'authentication.x509Credentials.keySecretName' }),
    );
    const plain = (): HttpEndpointClient =>
      new HttpEndpointClient('http://127.0.0.1:8080', {
        credentials: new CertificateCredentials({
          certificate: pki.client.cert,
          key: pki.client.key,
        }),
      });
    expect(plain).toThrow(expect.objectContaining({ code: 'ERR_AIO_CONFIG', field: 'address' }));
    const badTrust = (): HttpEndpointClient =>
      new HttpEndpointClient(address, {
        credentials: new AnonymousCredentials({
          trustList: ['-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'],
        }),
      });
    expect(badTrust).toThrow(expect.objectContaining({ field: 'trustSettings.trustList' }));
  });
});
