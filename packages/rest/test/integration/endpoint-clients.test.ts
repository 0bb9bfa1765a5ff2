/**
 * The shared HTTP clients of the REST connector: one per device endpoint definition, made on first
 * use with the credentials read then, replaced after an authentication failure, closed when the
 * last dataset leaves — checked with real requests to a local server.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  AnonymousCredentials,
  ConfigError,
  HttpError,
  UsernamePasswordCredentials,
  silentLogger,
  type AssetContext,
  type EndpointCredentials,
  type InboundEndpoint,
} from '@aio-connector/core';
import { startThermostatServer } from '@aio-connector/devkit';
import { EndpointClients } from '../../src/endpoint-clients.ts';

function assetOn(
  endpoint: InboundEndpoint,
  read: () => Promise<EndpointCredentials>,
): AssetContext {
  return {
    deviceName: 'dev',
    endpointName: 'ep',
    endpoint,
    readCredentials: read,
  } as unknown as AssetContext;
}

function counter(credentials: () => EndpointCredentials = () => new AnonymousCredentials()) {
  let reads = 0;
  return {
    read: () => {
      reads += 1;
      return Promise.resolve(credentials());
    },
    get reads() {
      return reads;
    },
  };
}

const signal = new AbortController().signal;

describe('EndpointClients', () => {
  it('shares one client between the datasets of an endpoint and closes it when the last one leaves', async () => {
    const server = await startThermostatServer();
    onTestFinished(() => server.close());
    const credentials = counter();
    const endpoint = { address: server.url, endpointType: 'Microsoft.Rest' };
    const clients = new EndpointClients();
    const spec = { asset: assetOn(endpoint, credentials.read), options: {}, logger: silentLogger };
    const first = clients.register(spec);
    const second = clients.register(spec);
    const [a, b] = await Promise.all([first.lease(signal), second.lease(signal)]);
    expect(a.client).toBe(b.client);
    expect(credentials.reads).toBe(1);
    const response = await a.client.request({ url: '/api/thermostat/current' });
    expect(response.status).toBe(200);
    a.release();
    b.release();
    await first.unregister();
    expect(a.client.closed).toBe(false);
    await second.unregister();
    expect(a.client.closed).toBe(true);
  });

  it('makes a separate client for a changed endpoint definition', async () => {
    const server = await startThermostatServer();
    onTestFinished(() => server.close());
    const credentials = counter();
    const clients = new EndpointClients();
    const old = clients.register({
      asset: assetOn({ address: server.url, endpointType: 'Microsoft.Rest' }, credentials.read),
      options: {},
      logger: silentLogger,
    });
    const changed = clients.register({
      asset: assetOn(
        { address: `${server.url}/`, endpointType: 'Microsoft.Rest', version: '2' },
        credentials.read,
      ),
      options: {},
      logger: silentLogger,
    });
    const [a, b] = await Promise.all([old.lease(signal), changed.lease(signal)]);
    expect(a.client).not.toBe(b.client);
    expect(credentials.reads).toBe(2);
    a.release();
    b.release();
    await old.unregister();
    await changed.unregister();
    expect(b.client.closed).toBe(true);
  });

  it('reads the credentials again after a 401, and closes the old client once it is released', async () => {
    const server = await startThermostatServer({
      auth: { kind: 'basic', username: 'u', password: 'new' },
    });
    onTestFinished(() => server.close());
    let password = 'old';
    const credentials = counter(() => new UsernamePasswordCredentials({ username: 'u', password }));
    const clients = new EndpointClients();
    const registration = clients.register({
      asset: assetOn({ address: server.url, endpointType: 'Microsoft.Rest' }, credentials.read),
      options: {},
      logger: silentLogger,
    });
    onTestFinished(() => registration.unregister());
    const first = await registration.lease(signal);
    const failure = await first.client
      .request({ url: '/api/thermostat/current' })
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(HttpError);
    expect((failure as HttpError).status).toBe(401);
    first.observe(failure);
    // a failure that says nothing about credentials keeps the client
    first.observe(new ConfigError('unrelated'));
    password = 'new';
    const second = await registration.lease(signal);
    expect(second.client).not.toBe(first.client);
    expect(credentials.reads).toBe(2);
    expect(first.client.closed).toBe(false);
    first.release();
    expect(first.client.closed).toBe(true);
    expect((await second.client.request({ url: '/api/thermostat/current' })).status).toBe(200);
    second.release();
  });

  it('tries reading the credentials again on the next lease after a failure', async () => {
    let fail = true;
    const clients = new EndpointClients();
    const registration = clients.register({
      asset: assetOn({ address: 'http://127.0.0.1:9', endpointType: 'Microsoft.Rest' }, () =>
        fail
          ? Promise.reject(new ConfigError('the secret rest/password is missing'))
          : Promise.resolve(new AnonymousCredentials()),
      ),
      options: {},
      logger: silentLogger,
    });
    await expect(registration.lease(signal)).rejects.toThrow('the secret rest/password is missing');
    fail = false;
    const lease = await registration.lease(signal);
    expect(lease.client.origin).toBe('http://127.0.0.1:9');
    lease.release();
    await registration.unregister();
    expect(lease.client.closed).toBe(true);
  });

  it('stops waiting for the credentials when the signal aborts', async () => {
    const clients = new EndpointClients();
    const registration = clients.register({
      asset: assetOn(
        { address: 'http://127.0.0.1:9', endpointType: 'Microsoft.Rest' },
        (options?: { signal?: AbortSignal }) =>
          new Promise<EndpointCredentials>((_resolve, reject) => {
            options?.signal?.addEventListener('abort', () => {
              reject(new Error('unregistered'));
            });
          }),
      ),
      options: {},
      logger: silentLogger,
    });
    const controller = new AbortController();
    const lease = registration.lease(controller.signal);
    controller.abort();
    await expect(lease).rejects.toMatchObject({ code: 'ERR_AIO_ABORTED' });
    await registration.unregister();
  });
});
