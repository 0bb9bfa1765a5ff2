/**
 * The container entry point (`aio-sse-connector`, `src/main.ts`) as a real process: the readiness
 * probe argument, a startup failure, and a run against the sandbox's Akri mount with options from
 * the additional connector configuration, ending gracefully on SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startThermostatEventServer } from '@aio-connector/devkit';
import { eventually } from '@aio-connector/testing';
import { startConnectorSandbox } from '../../../core/test/integration/support/connector-sandbox.ts';

const main = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

interface Run {
  readonly child: ChildProcess;
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
}

function runMain(args: readonly string[], env: Readonly<Record<string, string>>): Run {
  const child = spawn(process.execPath, ['--conditions=aio-connector-source', main, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      resolve(code);
    });
  });
  onTestFinished(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return { child, stderr: () => stderr, exited };
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'aio-sse-main-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('aio-sse-connector (src/main.ts)', () => {
  it('answers the readiness probe from the readiness file', async () => {
    const file = join(await tempDir(), 'ready');
    const env = { AIO_CONNECTOR_READINESS_FILE: file };
    expect(await runMain(['readiness-probe'], env).exited).toBe(1);
    await writeFile(file, '');
    expect(await runMain(['readiness-probe'], env).exited).toBe(0);
  });

  it('exits with the startup failure code when the pod contract is missing', async () => {
    const run = runMain([], { CONNECTOR_ID: '' });
    expect(await run.exited).toBe(1);
    expect(run.stderr()).toContain('CONNECTOR_ID');
  });

  it('runs the connector from the Akri mount, becomes ready, and stops gracefully on SIGTERM', async () => {
    const source = await startThermostatEventServer({ intervalInMs: 0 });
    onTestFinished(() => source.close());
    const sandbox = await startConnectorSandbox({
      devices: {
        'sse-device': {
          uuid: 'dev-1',
          endpoints: {
            inbound: {
              'sse-endpoint': { address: source.origin, endpointType: 'Microsoft.Sse' },
            },
          },
        },
      },
      assets: {
        thermostat: {
          deviceRef: { deviceName: 'sse-device', endpointName: 'sse-endpoint' },
          eventGroups: [
            {
              name: 'status',
              dataSource: '/events',
              events: [
                {
                  name: 'changed',
                  dataSource: 'thermostat_status_changed',
                  destinations: [{ target: 'Mqtt', configuration: { topic: 'plant/status' } }],
                },
              ],
            },
          ],
        },
      },
    });
    onTestFinished(() => sandbox.close());
    const subscriber = await sandbox.subscribe('plant/#');
    const configDir = sandbox.mount.env['CONNECTOR_CONFIGURATION_MOUNT_PATH']!;
    await writeFile(
      join(configDir, 'ADDITIONAL_CONNECTOR_CONFIGURATION'),
      JSON.stringify({ userAgent: 'plant-7-sse', idleTimeoutInMs: '20000' }),
    );
    const ready = join(await tempDir(), 'ready');
    const run = runMain([], { ...sandbox.mount.env, AIO_CONNECTOR_READINESS_FILE: ready });
    await source.waitForClients(1, { signal: AbortSignal.timeout(30_000) });
    source.send({ event: 'thermostat_status_changed', data: { desiredTemperature: 70 } });
    const [message] = await subscriber.waitFor(1, { timeoutInMs: 30_000 });
    expect(message!.payload.toString('utf8')).toBe('{"desiredTemperature":70}');
    expect(source.requests[0]!.headers['user-agent']).toBe('plant-7-sse');
    expect(existsSync(ready)).toBe(true);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(existsSync(ready)).toBe(false);
    await eventually(() => {
      expect(run.stderr()).toContain('"msg":"stopping"');
    });
  });
});
