import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { processExists, runCli } from './cli-support.ts';

async function tempDir(files: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'aio-dev-errors-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

const device = `apiVersion: namespaces.deviceregistry.microsoft.com/v1
kind: Device
metadata:
  name: locked-thermostat
spec:
  endpoints:
    inbound:
      rest:
        address: http://127.0.0.1:1
        endpointType: Microsoft.Rest
        authentication:
          method: UsernamePassword
          usernamePasswordCredentials:
            usernameSecretName: thermostat-auth/username
            passwordSecretName: thermostat-auth/password
`;

describe('aio-connector dev: error paths', () => {
  it('exits 1 naming the port when the broker port is in use', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(
      () =>
        new Promise<void>((resolve) =>
          server.close(() => {
            resolve();
          }),
        ),
    );
    const { port } = server.address() as { port: number };
    const cli = runCli(['dev', '--port', String(port)]);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toContain(
      `the broker port ${port} on 127.0.0.1 is in use by another program`,
    );
  });

  it('exits 1 with the file and line of a YAML problem', async () => {
    const dir = await tempDir({
      'bad.yaml': `${device}---\napiVersion: namespaces.deviceregistry.microsoft.com/v1\nkind: Asset\nmetadata:\n  name: a1\nspec:\n  deviceRef: { deviceName: locked-thermostat, endpointName: rest }\n  datasetz: []\n`,
    });
    const cli = runCli(['dev', '--resources', dir]);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toMatch(/bad\.yaml:23: asset "a1" spec\.datasetz: /);
  });

  it('exits 1 naming the device and the file of a missing secret', async () => {
    const dir = await tempDir({
      'resources/device.yaml': device,
      'secrets/thermostat-auth/username': 'user',
    });
    const cli = runCli([
      'dev',
      '--resources',
      join(dir, 'resources'),
      '--secrets',
      join(dir, 'secrets'),
      '--',
      'node',
      '-e',
      'setInterval(() => {}, 1000)',
    ]);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toContain(
      `device "locked-thermostat" endpoint "rest" needs the secret "thermostat-auth/password": the file ${join(dir, 'secrets', 'thermostat-auth', 'password')} does not exist`,
    );
  });

  it('restarts a crashing connector with growing delays, reports it, and stops cleanly', async () => {
    const cli = runCli(['dev', '--name', 'crashy', '--', 'node', '-e', 'process.exit(3)']);
    const first = await cli.waitFor(
      /connector crashy \(pid (\d+)\) exited with code 3; restarting in ([\d.]+) (ms|s)/,
    );
    const second = await cli.waitFor(
      /connector crashy \(pid (\d+)\) exited with code 3; restarting in ([\d.]+) (ms|s)/,
      { from: cli.stdout().indexOf(first[0]) + first[0].length },
    );
    const inMs = (match: RegExpMatchArray): number =>
      Number(match[2]) * (match[3] === 's' ? 1000 : 1);
    expect(inMs(second)).toBeGreaterThan(inMs(first));
    expect(second[1]).not.toBe(first[1]);
    cli.child.kill('SIGINT');
    expect(await cli.exited).toBe(0);
    expect(processExists(Number(second[1]))).toBe(false);
  });

  it('stops a connector that ignores SIGTERM with SIGKILL after the stop timeout', async () => {
    const cli = runCli([
      'dev',
      '--stop-timeout',
      '1',
      '--name',
      'stubborn',
      '--',
      'node',
      '-e',
      "process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000)",
    ]);
    const [, pid] = await cli.waitFor(/connector stubborn started \(pid (\d+)\)/);
    await cli.waitFor(/stubborn +ready/);
    cli.child.kill('SIGINT');
    expect(await cli.exited).toBe(0);
    expect(cli.stdout()).toMatch(/connector stubborn stopped on SIGKILL/);
    expect(processExists(Number(pid))).toBe(false);
  });

  it('exits 2 with a suggestion for a mistyped option', async () => {
    const cli = runCli(['dev', '--resource', 'x']);
    expect(await cli.exited).toBe(2);
    expect(cli.stderr()).toContain(
      'unknown option --resource for "dev" (did you mean --resources?)',
    );
    expect(cli.stderr()).toContain('See: aio-connector dev --help');
  });
});
