/**
 * The lifecycle of a `Sandbox`: a stop requested while it is still starting leaves nothing behind
 * (no listening port, no connector process, no temporary folder).
 */
import { existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { Sandbox, type SandboxEvent } from '@aio-connector/devkit';
import { eventually } from '@aio-connector/testing';
import { repoRoot } from './cli-support.ts';

/** Whether something accepts TCP connections on `port` of 127.0.0.1. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
  });
}

/** A port nothing listens on now. */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  return port;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A connector that runs until it is stopped. */
const idleConnector = ['node', '-e', 'setInterval(() => {}, 1000)'];

interface Ports {
  readonly broker: number;
  readonly sampleServer: number;
}

async function sandboxWithEverything(
  events: SandboxEvent[],
): Promise<{ sandbox: Sandbox; ports: Ports }> {
  const ports = { broker: await freePort(), sampleServer: await freePort() };
  const sandbox = new Sandbox({
    broker: { port: ports.broker },
    connectors: [{ name: 'idle', command: idleConnector }],
    sampleServers: [{ name: 'thermostat', kind: 'thermostat', port: ports.sampleServer }],
    stopTimeoutInMs: 2_000,
  });
  sandbox.onEvent((event) => events.push(event));
  onTestFinished(async () => {
    await sandbox.stop();
    // never leave a process behind, whatever the outcome of the test
    const pids = [
      ...sandbox.connectors.map((connector) => connector.pid),
      ...events.map((event) =>
        event.type === 'connector' && event.event.type === 'started' ? event.event.pid : undefined,
      ),
    ];
    for (const pid of pids) if (pid !== undefined && alive(pid)) process.kill(-pid, 'SIGKILL');
  });
  return { sandbox, ports };
}

async function expectNothingLeft(
  sandbox: Sandbox,
  events: SandboxEvent[],
  ports: Ports,
): Promise<void> {
  expect(await listening(ports.broker)).toBe(false);
  expect(await listening(ports.sampleServer)).toBe(false);
  const pids = events.flatMap((event) =>
    event.type === 'connector' && event.event.type === 'started' ? [event.event.pid] : [],
  );
  await eventually(() => {
    for (const pid of pids) expect(alive(pid)).toBe(false);
  });
  if (sandbox.stateDir !== undefined) expect(existsSync(sandbox.stateDir)).toBe(false);
  expect(sandbox.state).toBe('stopped');
}

describe('Sandbox lifecycle', () => {
  it('stop() right after start() leaves no broker, sample server or connector process running', async () => {
    const events: SandboxEvent[] = [];
    const { sandbox, ports } = await sandboxWithEverything(events);
    const starting = sandbox.start();
    await sandbox.stop();
    await expect(starting).rejects.toMatchObject({ code: 'ERR_AIO_CLOSED' });
    await expectNothingLeft(sandbox, events, ports);
  });

  it('stop() while the connectors are being started leaves nothing running either', async () => {
    const events: SandboxEvent[] = [];
    const { sandbox, ports } = await sandboxWithEverything(events);
    let stopping: Promise<void> | undefined;
    sandbox.onEvent((event) => {
      if (event.type === 'resources' && event.initial) stopping = sandbox.stop();
    });
    await sandbox.start().catch(() => undefined);
    expect(stopping).toBeDefined();
    await stopping;
    expect(events.some((event) => event.type === 'sample-server')).toBe(true);
    await expectNothingLeft(sandbox, events, ports);
  });

  it('a sandbox process that dies without stop() (an uncaught exception) takes its connector processes with it', async () => {
    // the program using the sandbox: starts a connector, then crashes
    const program = `
      import { Sandbox } from '@aio-connector/devkit';
      const sandbox = new Sandbox({ connectors: [{ name: 'idle', command: ${JSON.stringify(idleConnector)} }] });
      sandbox.onEvent((event) => {
        if (event.type === 'connector' && event.event.type === 'started') {
          process.stdout.write('connector pid ' + event.event.pid + '\\n');
          setTimeout(() => { throw new Error('the program crashed'); }, 100);
        }
      });
      await sandbox.start();
    `;
    const host = spawn(
      process.execPath,
      ['--conditions=aio-connector-source', '--input-type=module', '-e', program],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    host.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    host.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = once(host, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    onTestFinished(() => {
      host.kill('SIGKILL');
      // never leave the connector behind, whatever the outcome of the test
      const leftover = /connector pid (\d+)/.exec(output);
      if (leftover !== null && alive(Number(leftover[1])))
        process.kill(-Number(leftover[1]), 'SIGKILL');
    });
    const [code] = await exited;
    expect(output).toContain('the program crashed');
    expect(code).toBe(1);
    const match = /connector pid (\d+)/.exec(output);
    expect(match, output).not.toBeNull();
    const pid = Number(match![1]);
    await eventually(() => {
      expect(alive(pid)).toBe(false);
    });
  });
});
