import { X509Certificate } from 'node:crypto';
import { connect, type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  generateTestPki,
  startRecordingProxy,
  startSubscriber,
  startTestBroker,
  type TestBroker,
  type TestBrokerKind,
} from '@aio-connector/testing';

const kinds: TestBrokerKind[] = ['aedes'];
if (
  await startTestBroker({ kind: 'mosquitto' }).then(
    async (broker) => {
      await broker.close();
      return true;
    },
    () => false,
  )
)
  kinds.unshift('mosquitto');
else console.warn('mosquitto is not installed: its test-broker tests are skipped');

async function broker(options: Parameters<typeof startTestBroker>[0]): Promise<TestBroker> {
  const started = await startTestBroker(options);
  onTestFinished(() => started.close());
  return started;
}

/** Connects with mqtt.js; resolves with the client on CONNACK, rejects with the first error. */
function connectClient(
  url: string,
  options: IClientOptions = {},
): Promise<MqttClient & { connack: IConnackPacket }> {
  return new Promise((resolve, reject) => {
    const client = connect(url, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      ...options,
    });
    onTestFinished(() => client.endAsync(true));
    client.once('connect', (connack) => {
      resolve(Object.assign(client, { connack }));
    });
    client.once('error', reject);
    client.once('close', () => {
      reject(new Error('connection closed before CONNACK'));
    });
  });
}

describe.each(kinds)('startTestBroker (%s)', (kind) => {
  it('accepts MQTT 5 connections and routes messages with their properties', async () => {
    const b = await broker({ kind });
    expect(b.kind).toBe(kind);
    expect(b.url).toBe(`mqtt://127.0.0.1:${b.port}`);
    const subscriber = await startSubscriber(b.url, 'props/#');
    onTestFinished(() => subscriber.close());
    const publisher = await connectClient(b.url);
    await publisher.publishAsync('props/a', Buffer.from([0, 1, 2, 255]), {
      qos: 1,
      properties: {
        contentType: 'application/octet-stream',
        payloadFormatIndicator: false,
        messageExpiryInterval: 30,
        responseTopic: 'reply/here',
        correlationData: Buffer.from([9, 8, 7]),
        userProperties: { __ts: '1', multi: ['x', 'y'] },
      },
    });
    const [message] = await subscriber.waitFor(1);
    expect(message).toMatchObject({
      topic: 'props/a',
      payload: Buffer.from([0, 1, 2, 255]),
      qos: 1,
      contentType: 'application/octet-stream',
      payloadFormatIndicator: 0,
      responseTopic: 'reply/here',
      correlationData: Buffer.from([9, 8, 7]),
      userProperties: [
        ['__ts', '1'],
        ['multi', 'x'],
        ['multi', 'y'],
      ],
    });
    expect(message?.messageExpiryInterval).toBeGreaterThan(25);
  });

  it('keeps a persistent session and its queued QoS 1 message across a restart', async () => {
    const b = await broker({ kind });
    const port = b.port;
    const subscriber = await startSubscriber(b.url, 'queued/#', {
      persistent: true,
      clientId: `queued-${kind}`,
    });
    await subscriber.close();
    const publisher = await connectClient(b.url);
    await publisher.publishAsync('queued/1', 'kept', { qos: 1 });
    await publisher.endAsync();

    await b.restart();
    expect(b.port).toBe(port);
    expect(b.running).toBe(true);

    const again = await startSubscriber(b.url, 'queued/#', {
      persistent: true,
      clientId: `queued-${kind}`,
    });
    onTestFinished(() => again.close());
    const [message] = await again.waitFor(1);
    expect(message?.topic).toBe('queued/1');
    expect(message?.payload.toString()).toBe('kept');
  });

  it('forgets sessions when restarted with clearSessions', async () => {
    const b = await broker({ kind });
    const first = await connectClient(b.url, {
      clientId: `forget-${kind}`,
      clean: false,
      properties: { sessionExpiryInterval: 300 },
    });
    await first.subscribeAsync('forget/#', { qos: 1 });
    await first.endAsync();
    const resumed = await connectClient(b.url, {
      clientId: `forget-${kind}`,
      clean: false,
      properties: { sessionExpiryInterval: 300 },
    });
    expect(resumed.connack.sessionPresent).toBe(true);
    await resumed.endAsync();

    await b.restart({ clearSessions: true });
    const fresh = await connectClient(b.url, {
      clientId: `forget-${kind}`,
      clean: false,
      properties: { sessionExpiryInterval: 300 },
    });
    expect(fresh.connack.sessionPresent).toBe(false);
  });

  it('refuses connections while stopped and accepts them again after start', async () => {
    const b = await broker({ kind });
    await b.stop();
    expect(b.running).toBe(false);
    await expect(connectClient(b.url)).rejects.toThrow(/ECONNREFUSED|closed/);
    await b.start();
    const client = await connectClient(b.url);
    expect(client.connected).toBe(true);
  });

  it('serves TLS with a certificate for 127.0.0.1 signed by the test CA', async () => {
    const b = await broker({ kind, tls: true });
    expect(b.url).toBe(`mqtts://127.0.0.1:${b.port}`);
    const client = await connectClient(b.url, { ca: b.ca! });
    expect(client.connected).toBe(true);
    await expect(connectClient(b.url, { ca: (await generateTestPki()).otherCa })).rejects.toThrow(
      /self.signed|unable to verify|certificate/i,
    );
  });

  it('requires a client certificate from the test CA with clientAuth', async () => {
    const b = await broker({ kind, clientAuth: true });
    const client = await connectClient(b.url, {
      ca: b.ca!,
      cert: b.clientCert!,
      key: b.clientKey!,
    });
    expect(client.connected).toBe(true);
    await expect(
      connectClient(b.url, { ca: b.ca!, cert: b.wrongClientCert!, key: b.wrongClientKey! }),
    ).rejects.toThrow();
    await expect(connectClient(b.url, { ca: b.ca! })).rejects.toThrow();
  });
});

describe('generateTestPki', () => {
  it('makes a CA, a server certificate with loopback SANs and client certificates', async () => {
    const pki = await generateTestPki();
    expect(await generateTestPki()).toBe(pki);
    const ca = new X509Certificate(pki.ca);
    const server = new X509Certificate(pki.server.cert);
    const client = new X509Certificate(pki.client.cert);
    const wrong = new X509Certificate(pki.wrongClient.cert);
    expect(ca.ca).toBe(true);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(server.subjectAltName).toContain('DNS:localhost');
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(client.verify(ca.publicKey)).toBe(true);
    expect(wrong.verify(ca.publicKey)).toBe(false);
    expect(wrong.verify(new X509Certificate(pki.otherCa).publicKey)).toBe(true);
    expect(pki.server.key).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });
});

describe('startRecordingProxy', () => {
  it('records CONNECT authentication, strips it for the broker and answers re-authentication', async () => {
    const b = await broker({ kind: kinds[0]! });
    const proxy = await startRecordingProxy(b);
    onTestFinished(() => proxy.close());
    const token = Buffer.from('header.payload.signature');
    const client = await connectClient(proxy.url, {
      clientId: 'sat-client',
      properties: { authenticationMethod: 'K8S-SAT', authenticationData: token },
    });
    expect(client.connected).toBe(true);
    const [connectPacket] = proxy.connects();
    expect(connectPacket?.clientId).toBe('sat-client');
    expect(connectPacket?.properties?.authenticationMethod).toBe('K8S-SAT');
    expect(connectPacket?.properties?.authenticationData).toEqual(token);

    const received: number[] = [];
    client.handleAuth = (packet, callback) => {
      received.push(packet.reasonCode ?? -1);
      callback();
    };
    // mqtt.js has no public API for AUTH; write it the way the SDK does.
    (client as unknown as { _sendPacket(p: object): void })._sendPacket({
      cmd: 'auth',
      reasonCode: 0x19,
      properties: { authenticationMethod: 'K8S-SAT', authenticationData: Buffer.from('new') },
    });
    const answer = await proxy.waitFor(
      (p) => p.direction === 'broker-to-client' && p.packet.cmd === 'auth',
    );
    expect(answer.synthetic).toBe(true);
    expect(answer.packet).toMatchObject({ cmd: 'auth', reasonCode: 0 });
    expect(proxy.auths()[0]?.properties?.authenticationData).toEqual(Buffer.from('new'));
    await expect.poll(() => received).toEqual([0]);
    // the broker still serves the client normally
    await client.subscribeAsync('x', { qos: 1 });
    await client.publishAsync('x', 'y', { qos: 1 });
  });

  it('refuses a CONNECT when told to, and drops connections on demand', async () => {
    const b = await broker({ kind: kinds[0]! });
    const proxy = await startRecordingProxy(b, { onConnectAuth: () => 0x87 });
    onTestFinished(() => proxy.close());
    await expect(
      connectClient(proxy.url, {
        properties: { authenticationMethod: 'K8S-SAT', authenticationData: Buffer.from('t') },
      }),
    ).rejects.toMatchObject({ code: 0x87 });

    const open = await startRecordingProxy(b);
    onTestFinished(() => open.close());
    const client = await connectClient(open.url);
    const closed = new Promise<void>((resolve) =>
      client.once('close', () => {
        resolve();
      }),
    );
    expect(open.openConnections).toBe(1);
    open.dropConnections();
    await closed;
  });
});
