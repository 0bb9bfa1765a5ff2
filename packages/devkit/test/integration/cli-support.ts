/**
 * Runs the `aio-connector` command line as a user would: a separate Node.js process on the
 * TypeScript sources, with its output collected line by line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';

export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
export const cliPath = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
export const memoryConnectorMain = fileURLToPath(
  new URL('../../../../examples/memory-connector/src/main.ts', import.meta.url),
);
export const memoryResources = fileURLToPath(
  new URL('../../../../examples/memory-connector/resources/', import.meta.url),
);

export interface CliRun {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves with the first match of `pattern` in stdout (or stderr), waiting up to `timeoutInMs`. */
  waitFor(
    pattern: RegExp,
    options?: { timeoutInMs?: number; from?: number },
  ): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or the signal name). */
  readonly exited: Promise<number | string>;
  /** The length of stdout now (to wait for lines printed after this point). */
  mark(): number;
}

/** Starts `aio-connector <args>`; the process is killed when the test ends, if still running. */
export function runCli(
  args: readonly string[],
  options: { readonly env?: Record<string, string>; readonly cwd?: string } = {},
): CliRun {
  const child = spawn(process.execPath, ['--conditions=aio-connector-source', cliPath, ...args], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    for (const listener of listeners) listener();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
    for (const listener of listeners) listener();
  });
  const exited = new Promise<number | string>((resolve) => {
    child.once('close', (code, signal) => {
      resolve(code ?? signal ?? 'unknown');
      for (const listener of listeners) listener();
    });
  });
  let done = false;
  void exited.then(() => {
    done = true;
  });
  onTestFinished(async () => {
    if (!done) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    mark: () => out.length,
    exited,
    waitFor: (pattern, { timeoutInMs = 30_000, from = 0 } = {}) =>
      new Promise<RegExpMatchArray>((resolve, reject) => {
        const check = (): boolean => {
          const match = out.slice(from).match(pattern) ?? err.match(pattern);
          if (match !== null) {
            finish();
            resolve(match);
            return true;
          }
          if (done) {
            finish();
            reject(
              new Error(
                `the CLI exited before printing ${String(pattern)}\nstdout:\n${out}\nstderr:\n${err}`,
              ),
            );
            return true;
          }
          return false;
        };
        const timer = setTimeout(() => {
          finish();
          reject(
            new Error(
              `no ${String(pattern)} within ${timeoutInMs} ms\nstdout:\n${out.slice(-4000)}\nstderr:\n${err.slice(-4000)}`,
            ),
          );
        }, timeoutInMs);
        const finish = (): void => {
          clearTimeout(timer);
          listeners.delete(listener);
        };
        const listener = (): void => {
          check();
        };
        if (!check()) listeners.add(listener);
      }),
  };
}

/** Whether a process with this id exists. */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Resolves with whether a TCP connection to 127.0.0.1:port is accepted. */
export function portAccepts(port: number): Promise<boolean> {
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
