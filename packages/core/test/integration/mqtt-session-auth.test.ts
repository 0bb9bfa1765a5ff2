import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, symlink, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { MqttSession, createJsonLogger, type MqttSessionOptions } from '@aio-connector/core';
import {
  makeTempDir,
  startRecordingProxy,
  startTestBroker,
  type RecordingProxy,
  type RecordingProxyOptions,
} from '@aio-connector/testing';

function jwt(expiresInSeconds: number, subject = 'system:serviceaccount:aio:connector'): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return [
    part({ alg: 'RS256', kid: randomBytes(4).toString('hex') }),
    part({
      aud: ['aio-internal'],
      sub: subject,
      exp: Math.floor(Date.now() / 1000) + expiresInSeconds,
      jti: randomBytes(8).toString('hex'),
    }),
    randomBytes(32).toString('base64url'),
  ].join('.');
}

/** A token mounted the way Kubernetes projects it: `token` → `..data/token`, swapped atomically. */
class ProjectedToken {
  readonly dir: string;
  readonly path: string;
  #generation = 0;

  constructor(dir: string) {
    this.dir = dir;
    this.path = join(dir, 'token');
  }

  async write(token: string): Promise<void> {
    const generation = `..${Date.now()}_${++this.#generation}`;
    await mkdir(join(this.dir, generation));
    await writeFile(join(this.dir, generation, 'token'), token);
    await symlink(generation, join(this.dir, '..data_tmp'));
    await rename(join(this.dir, '..data_tmp'), join(this.dir, '..data'));
    if (this.#generation === 1) await symlink(join('..data', 'token'), this.path);
  }
}

async function setup(
  proxyOptions: RecordingProxyOptions = {},
): Promise<{ proxy: RecordingProxy; token: ProjectedToken }> {
  const broker = await startTestBroker();
  onTestFinished(() => broker.close());
  const proxy = await startRecordingProxy(broker, proxyOptions);
  onTestFinished(() => proxy.close());
  const dir = await makeTempDir({ onTestFinished });
  return { proxy, token: new ProjectedToken(dir.path) };
}

function satSession(
  proxy: RecordingProxy,
  satFile: string,
  options: MqttSessionOptions = {},
): MqttSession {
  const session = new MqttSession(
    {
      hostname: proxy.host,
      port: proxy.port,
      clientId: `sat-${randomBytes(4).toString('hex')}`,
      useTls: false,
      satFile,
    },
    { reconnect: { minDelayInMs: 50, maxDelayInMs: 500 }, tokenWatchDebounceInMs: 100, ...options },
  );
  onTestFinished(() => {
    session.destroy();
  });
  return session;
}

describe('MqttSession K8S-SAT authentication (integration)', () => {
  it('sends K8S-SAT with the token bytes in CONNECT and re-authenticates when the file changes', async () => {
    const { proxy, token } = await setup();
    const first = jwt(3600);
    await token.write(first);
    const lines: string[] = [];
    const logger = createJsonLogger({ level: 'trace', write: (line) => lines.push(line) });
    const session = satSession(proxy, token.path, { logger });
    await session.connect();

    const [connect] = proxy.connects();
    expect(connect?.properties?.authenticationMethod).toBe('K8S-SAT');
    expect(connect?.properties?.authenticationData).toEqual(Buffer.from(first));

    const second = jwt(3600);
    await token.write(second);
    const auth = await proxy.waitFor(
      (p) => p.direction === 'client-to-broker' && p.packet.cmd === 'auth',
      { timeoutInMs: 10_000 },
    );
    expect(auth.packet).toMatchObject({
      cmd: 'auth',
      reasonCode: 0x19,
      properties: { authenticationMethod: 'K8S-SAT', authenticationData: Buffer.from(second) },
    });
    // the proxy answered AUTH 0x00 and the connection carries on
    await expect(
      session.publish({ topic: 'sat/x', payload: new Uint8Array([1]), qos: 1 }),
    ).resolves.toMatchObject({ reasonCode: expect.any(Number) });
    expect(session.connected).toBe(true);
    expect(proxy.auths()).toHaveLength(1);

    // a reconnect reads the file again
    const third = jwt(3600);
    await token.write(third);
    await proxy.waitFor(
      (p) => p.packet.cmd === 'auth' && p.connection === 1 && proxy.auths().length === 2,
    );
    proxy.dropConnections();
    const reconnect = await proxy.waitFor(
      (p) => p.direction === 'client-to-broker' && p.packet.cmd === 'connect' && p.connection > 1,
    );
    expect(reconnect.packet).toMatchObject({
      properties: { authenticationMethod: 'K8S-SAT', authenticationData: Buffer.from(third) },
    });
    // logs tell what happened, never the token
    await expect.poll(() => session.connected).toBe(true);
    expect(lines.join('')).toMatch(/re-authenticating with a new SAT/);
    for (const secret of [first, second, third])
      expect(lines.join('')).not.toContain(secret.split('.')[1]);
  });

  it('re-authenticates 5 s before the token expires', async () => {
    const { proxy, token } = await setup();
    await token.write(jwt(7));
    // a long debounce keeps the file watcher out of this test: only the expiry timer acts
    const session = satSession(proxy, token.path, { tokenWatchDebounceInMs: 60_000 });
    await session.connect();
    const connectedAt = Date.now();
    const renewed = jwt(3600);
    await token.write(renewed);
    const auth = await proxy.waitFor(
      (p) => p.direction === 'client-to-broker' && p.packet.cmd === 'auth',
      { timeoutInMs: 15_000 },
    );
    expect(auth.packet).toMatchObject({
      reasonCode: 0x19,
      properties: { authenticationData: Buffer.from(renewed) },
    });
    // due at exp - 5 s, i.e. about 2 s after connecting (exp has a 1 s resolution)
    expect(auth.time - connectedAt).toBeGreaterThanOrEqual(500);
    expect(auth.time - connectedAt).toBeLessThan(6_000);
  });

  it.each([
    ['expired', async (t: ProjectedToken) => t.write(jwt(-60)), /expired/],
    ['not a JWT', async (t: ProjectedToken) => t.write('not-a-token'), /not a JWT/],
    [
      'unreadable',
      async (t: ProjectedToken) => {
        await t.write(jwt(3600));
        await unlink(join(t.dir, '..data'));
      },
      /cannot read/,
    ],
  ])(
    'fails with ERR_AIO_MQTT_AUTH when the token is %s, without connecting',
    async (_n, prepare, message) => {
      const { proxy, token } = await setup();
      await prepare(token);
      const session = satSession(proxy, token.path);
      await expect(session.connect()).rejects.toMatchObject({
        code: 'ERR_AIO_MQTT_AUTH',
        message: expect.stringMatching(message),
      });
      await expect(session.closed).resolves.toMatchObject({ code: 'ERR_AIO_MQTT_AUTH' });
      expect(proxy.connects()).toHaveLength(0);
    },
  );

  it('does not retry when the broker refuses the token (CONNACK 0x87)', async () => {
    const { proxy, token } = await setup({ onConnectAuth: () => 0x87 });
    await token.write(jwt(3600));
    const session = satSession(proxy, token.path);
    const error = (await session.connect().catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({
      code: 'ERR_AIO_MQTT_AUTH',
      retryable: false,
      message: expect.stringMatching(/refused the credentials.*0x87/),
    });
    expect(proxy.connects()).toHaveLength(1);
    expect(error.message).not.toContain(await readFile(token.path, 'utf8'));
  });
});
