/**
 * Runs one connector process as the Akri operator runs a connector pod: with the pod contract's
 * environment variables, restarted with exponential backoff whenever it exits (a crash loop backs
 * off up to a cap), and stopped with SIGTERM, then SIGKILL after a grace period.
 *
 * The process is the leader of its own process group, so a stop reaches every process it started
 * (a wrapper such as `npm run` and the connector under it), and a Ctrl-C in the terminal reaches
 * only the sandbox, which then stops its connectors in order.
 *
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { computeBackoff } from '@aio-connector/core';

/** The state of a {@link ConnectorProcess}. */
export type ConnectorProcessState = 'idle' | 'running' | 'backoff' | 'stopping' | 'stopped';

/** What a {@link ConnectorProcess} reports. */
export type ConnectorProcessEvent =
  | { readonly type: 'started'; readonly name: string; readonly pid: number; readonly run: number }
  | {
      readonly type: 'exited';
      readonly name: string;
      readonly pid: number;
      /** The exit code, or `null` when a signal ended it. */
      readonly code: number | null;
      readonly signal: NodeJS.Signals | null;
      /** Whether the sandbox stopped it (not a crash). */
      readonly expected: boolean;
      /** When it exited unexpectedly: the delay before the restart, in ms. */
      readonly restartInMs: number | undefined;
    }
  | {
      readonly type: 'spawn-error';
      readonly name: string;
      readonly error: Error;
      readonly restartInMs: number | undefined;
    }
  | {
      readonly type: 'output';
      readonly name: string;
      readonly stream: 'stdout' | 'stderr';
      readonly line: string;
    };

/** Restart policy of a {@link ConnectorProcess}. Every field is optional. */
export interface ConnectorRestartOptions {
  /** The first restart delay, in ms. Default: 1 000. */
  readonly minDelayInMs?: number;
  /** The largest restart delay, in ms. Default: 30 000. */
  readonly maxDelayInMs?: number;
  /** A process that ran this long before exiting restarts after `minDelayInMs` again. Default: 30 000. */
  readonly resetAfterInMs?: number;
}

/** Options of {@link ConnectorProcess}. */
export interface ConnectorProcessOptions {
  /** A name for events and logs. Required. */
  readonly name: string;
  /** The program and its arguments. Required, not empty. `node` runs the current Node.js binary. */
  readonly command: readonly string[];
  /** The environment of the process. Default: `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The working directory. Default: `process.cwd()`. */
  readonly cwd?: string;
  /** Restart after an exit, or `false` for never. Default: `{}` (the defaults above). */
  readonly restart?: ConnectorRestartOptions | false;
  /** How long `stop()` waits after SIGTERM before SIGKILL, in ms. Default: 10 000. */
  readonly stopTimeoutInMs?: number;
  /** Called with every event, output lines included. Default: none. */
  readonly onEvent?: (event: ConnectorProcessEvent) => void;
}

/**
 * The process groups of the connector processes running now. Each is detached (its own group), so
 * nothing ends it with this process: when this process exits without stopping them (an uncaught
 * exception, `process.exit()`), they are killed on the way out rather than left running.
 */
const runningGroups = new Set<number>();
let exitHookInstalled = false;

function killRunningGroups(): void {
  for (const pid of runningGroups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  runningGroups.clear();
}

function trackGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  runningGroups.add(pid);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', killRunningGroups);
  }
}

function checkDelay(name: string, value: unknown, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number`);
  if (!Number.isFinite(value) || value < min)
    throw new RangeError(`${name} must be a finite number >= ${min}, received ${value}`);
  return value;
}

/**
 * One supervised connector process.
 *
 * @example
 * ```ts
 * import { ConnectorProcess } from '@aio-connector/devkit';
 * const connector = new ConnectorProcess({
 *   name: 'rest',
 *   command: ['node', 'dist/main.js'],
 *   env: { ...process.env, CONNECTOR_ID: 'rest-0' },
 *   onEvent: (event) => {
 *     if (event.type === 'output') console.log(`[rest] ${event.line}`);
 *   },
 * });
 * connector.start();
 * // ...
 * await connector.stop();
 * ```
 */
export class ConnectorProcess {
  readonly name: string;
  readonly #command: readonly string[];
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #cwd: string | undefined;
  readonly #restart:
    { minDelayInMs: number; maxDelayInMs: number; resetAfterInMs: number } | undefined;
  readonly #stopTimeoutInMs: number;
  readonly #onEvent: (event: ConnectorProcessEvent) => void;
  #state: ConnectorProcessState = 'idle';
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;
  #runs = 0;
  #failures = 0;
  #restarts = 0;
  #stopping: Promise<void> | undefined;
  #lastExit: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  constructor(options: ConnectorProcessOptions) {
    if (typeof options !== 'object' || options === null)
      throw new TypeError('options must be an object');
    const { name, command, env, cwd, restart = {}, stopTimeoutInMs, onEvent } = options;
    if (typeof name !== 'string' || name === '') throw new TypeError('name must be a string');
    if (
      !Array.isArray(command) ||
      command.length === 0 ||
      command.some((part) => typeof part !== 'string')
    )
      throw new TypeError('command must be a non-empty array of strings');
    if (command[0] === '') throw new RangeError('command[0] must name a program');
    if (env !== undefined && (typeof env !== 'object' || env === null))
      throw new TypeError('env must be an object');
    if (cwd !== undefined && typeof cwd !== 'string') throw new TypeError('cwd must be a string');
    if (onEvent !== undefined && typeof onEvent !== 'function')
      throw new TypeError('onEvent must be a function');
    if (restart !== false && (typeof restart !== 'object' || restart === null))
      throw new TypeError('restart must be an object or false');
    this.name = name;
    this.#command = [...(command as readonly string[])];
    this.#env = env ?? process.env;
    this.#cwd = cwd;
    this.#restart =
      restart === false
        ? undefined
        : {
            minDelayInMs: checkDelay('restart.minDelayInMs', restart.minDelayInMs, 0) ?? 1_000,
            maxDelayInMs: checkDelay('restart.maxDelayInMs', restart.maxDelayInMs, 0) ?? 30_000,
            resetAfterInMs:
              checkDelay('restart.resetAfterInMs', restart.resetAfterInMs, 0) ?? 30_000,
          };
    this.#stopTimeoutInMs = checkDelay('stopTimeoutInMs', stopTimeoutInMs, 0) ?? 10_000;
    this.#onEvent = onEvent ?? (() => undefined);
  }

  /** The current state. */
  get state(): ConnectorProcessState {
    return this.#state;
  }

  /** The process id of the running process, if any. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** How many times the process was restarted after exiting on its own. */
  get restarts(): number {
    return this.#restarts;
  }

  /** How the last run ended, if one did. */
  get lastExit():
    { readonly code: number | null; readonly signal: NodeJS.Signals | null } | undefined {
    return this.#lastExit;
  }

  /** Starts the process. Calling it again while it runs does nothing. */
  start(): void {
    if (this.#state !== 'idle') return;
    this.#spawn();
  }

  /**
   * Stops the process: SIGTERM to its process group, SIGKILL after `stopTimeoutInMs`; resolves
   * once it has exited. No restart follows. Safe to call twice.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const previous = this.#state;
      this.#state = 'stopping';
      clearTimeout(this.#timer);
      const child = this.#child;
      if (previous === 'running' && child !== undefined) {
        this.#signal(child, 'SIGTERM');
        const timer = setTimeout(() => {
          this.#signal(child, 'SIGKILL');
        }, this.#stopTimeoutInMs);
        timer.unref();
        try {
          await this.#exited;
        } finally {
          clearTimeout(timer);
        }
      }
      this.#state = 'stopped';
    })();
    return this.#stopping;
  }

  #signal(child: ChildProcess, signal: NodeJS.Signals): void {
    const pid = child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, signal); // the whole group
    } catch {
      try {
        child.kill(signal);
      } catch {
        // already gone
      }
    }
  }

  #spawn(): void {
    const [program, ...args] = this.#command as [string, ...string[]];
    const file = program === 'node' ? process.execPath : program;
    const run = ++this.#runs;
    const startedAt = performance.now();
    let child: ChildProcess;
    try {
      child = spawn(file, args, {
        cwd: this.#cwd,
        env: this.#env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
    } catch (error) {
      this.#afterFailure(error instanceof Error ? error : new Error(String(error)), startedAt);
      return;
    }
    this.#child = child;
    trackGroup(child.pid);
    this.#state = 'running';
    let resolveExited!: () => void;
    this.#exited = new Promise<void>((resolve) => {
      resolveExited = resolve;
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      const source = child[stream];
      if (source === null) continue;
      createInterface({ input: source, crlfDelay: Infinity }).on('line', (line) => {
        this.#onEvent({ type: 'output', name: this.name, stream, line });
      });
    }
    let spawned = false;
    child.once('spawn', () => {
      spawned = true;
      this.#onEvent({ type: 'started', name: this.name, pid: child.pid ?? 0, run });
    });
    child.once('error', (error) => {
      if (spawned) return; // a kill that failed; 'close' still follows
      if (child.pid !== undefined) runningGroups.delete(child.pid);
      this.#child = undefined;
      resolveExited();
      this.#afterFailure(error, startedAt);
    });
    child.once('close', (code, signal) => {
      if (!spawned) return;
      if (child.pid !== undefined) runningGroups.delete(child.pid);
      this.#child = undefined;
      this.#lastExit = { code, signal };
      const expected = this.#state === 'stopping' || this.#state === 'stopped';
      const restartInMs = expected ? undefined : this.#scheduleRestart(startedAt);
      this.#onEvent({
        type: 'exited',
        name: this.name,
        pid: child.pid ?? 0,
        code,
        signal,
        expected,
        restartInMs,
      });
      resolveExited();
    });
  }

  #afterFailure(error: Error, startedAt: number): void {
    const restartInMs =
      this.#state === 'stopping' || this.#state === 'stopped'
        ? undefined
        : this.#scheduleRestart(startedAt);
    this.#onEvent({ type: 'spawn-error', name: this.name, error, restartInMs });
  }

  /** Schedules the next run; returns its delay, or `undefined` when there is none. */
  #scheduleRestart(startedAt: number): number | undefined {
    const policy = this.#restart;
    if (policy === undefined) {
      this.#state = 'stopped';
      return undefined;
    }
    if (performance.now() - startedAt >= policy.resetAfterInMs) this.#failures = 0;
    this.#failures += 1;
    const delay = computeBackoff(this.#failures, {
      minDelayInMs: policy.minDelayInMs,
      maxDelayInMs: policy.maxDelayInMs,
      factor: 2,
      jitter: 0.1,
    });
    this.#state = 'backoff';
    this.#timer = setTimeout(() => {
      if (this.#state !== 'backoff') return;
      this.#restarts += 1;
      this.#spawn();
    }, delay);
    this.#timer.unref();
    return delay;
  }
}
