/**
 * The container entry point (`aio-rest-connector`, `src/main.ts`) as a real process: the readiness
 * probe argument, a run against the sandbox's Akri mount with options from the additional
 * connector configuration, the readiness file, and a graceful exit on SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startThermostatServer } from '@aio-connector/devkit';
import { eventually } from '@aio-connector/testing';
import { restAsset, restDataset, restDevice, startRestHarness } from './support/rest-harness.ts';

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
  const dir = await mkdtemp(join(tmpdir(), 'aio-rest-main-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('aio-rest-connector (src/main.ts)', () => {
  it('answers the readiness probe from the readiness file', async () => {
    const dir = await tempDir();
    const file = join(dir, 'ready');
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
    const server = await startThermostatServer({
      stepInMs: 3_600_000,
      initialState: { currentTemperature: 66.5, desiredTemperature: 70 },
    });
    onTestFinished(() => server.close());
    const harness = await startRestHarness({
      device: restDevice(server.url),
      assets: restAsset([restDataset('current', '/api/thermostat/current')]),
    });
    const configDir = harness.sandbox.mount.env['CONNECTOR_CONFIGURATION_MOUNT_PATH']!;
    // the connector template's additional configuration (values are strings there)
    await writeFile(
      join(configDir, 'ADDITIONAL_CONNECTOR_CONFIGURATION'),
      JSON.stringify({
        notModified: 'resend',
        userAgent: 'plant-7-rest',
        requestTimeoutInMs: '5000',
      }),
    );
    const ready = join(await tempDir(), 'ready');
    const run = runMain([], { ...harness.sandbox.mount.env, AIO_CONNECTOR_READINESS_FILE: ready });
    await harness.subscriber.waitFor(2, { timeoutInMs: 30_000 });
    expect(harness.json('current').slice(0, 2)).toEqual([
      { currentTemperature: 66.5 },
      { currentTemperature: 66.5 },
    ]);
    expect(server.requests[0]!.headers['user-agent']).toBe('plant-7-rest');
    expect(existsSync(ready)).toBe(true);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(existsSync(ready)).toBe(false);
    await eventually(() => {
      expect(run.stderr()).toContain('"msg":"stopping"');
    });
  });
});
