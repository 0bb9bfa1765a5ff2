/**
 * The exec readiness probe of a connector pod: the running connector creates a marker file when it
 * is ready and removes it when it is not; the kubelet runs the connector's own entry point with
 * the argument `readiness-probe`, which exits 0 when the file exists and 1 otherwise. This is the
 * pattern of the Rust SDK (`/tmp/connector-ready`) and pairs with the `readinessProbe` of
 * connector metadata 11.0:
 *
 * ```json
 * "readinessProbe": { "exec": { "command": ["node", "dist/main.js", "readiness-probe"] },
 *                     "periodSeconds": 10, "failureThreshold": 3 }
 * ```
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { abortError } from '../errors.ts';
import { silentLogger, type Logger } from '../logger.ts';

/**
 * Where the readiness marker file is written by default (the Rust SDK's path).
 *
 * @example
 * ```ts
 * import { defaultReadinessFile } from '@aio-connector/core';
 * defaultReadinessFile; // '/tmp/connector-ready'
 * ```
 */
export const defaultReadinessFile = '/tmp/connector-ready';

/**
 * The environment variable that overrides the readiness marker file path.
 *
 * @example
 * ```ts
 * import { readinessFileEnvironmentVariable } from '@aio-connector/core';
 * process.env[readinessFileEnvironmentVariable] = '/run/connector/ready';
 * ```
 */
export const readinessFileEnvironmentVariable = 'AIO_CONNECTOR_READINESS_FILE';

/**
 * The command-line argument that turns the connector's entry point into the probe.
 *
 * @example
 * ```ts
 * import { readinessProbeArgument } from '@aio-connector/core';
 * const command = ['node', 'dist/main.js', readinessProbeArgument];
 * ```
 */
export const readinessProbeArgument = 'readiness-probe';

/** Options shared by the readiness functions. Every field is optional. */
export interface ReadinessOptions {
  /**
   * The marker file. Default: `$AIO_CONNECTOR_READINESS_FILE` when set and not empty, else
   * `/tmp/connector-ready`.
   */
  readonly file?: string;
  /** The environment to read `AIO_CONNECTOR_READINESS_FILE` from. Default: `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Options of {@link markReady} and {@link markNotReady}. Every field is optional. */
export interface MarkReadinessOptions extends ReadinessOptions {
  /** Where a failure to write or remove the file is logged (warn). Default: silent. */
  readonly logger?: Logger;
  /** Aborts the write. */
  readonly signal?: AbortSignal;
}

/** Options of {@link runReadinessProbe} and {@link readinessProbeMain}. Every field is optional. */
export interface ReadinessProbeOptions extends ReadinessOptions {
  /** The argument that requests the probe. Default: `readiness-probe`. */
  readonly argument?: string;
}

/**
 * The readiness marker file path: `options.file`, else `$AIO_CONNECTOR_READINESS_FILE`, else
 * `/tmp/connector-ready`.
 *
 * @example
 * ```ts
 * import { readinessFilePath } from '@aio-connector/core';
 * readinessFilePath({ env: {} }); // '/tmp/connector-ready'
 * ```
 */
export function readinessFilePath(options: ReadinessOptions = {}): string {
  if (typeof options !== 'object' || options === null)
    throw new TypeError(`options must be an object, received ${typeof options}`);
  if (options.file !== undefined) {
    if (typeof options.file !== 'string') throw new TypeError('file must be a string');
    if (options.file === '') throw new RangeError('file must not be empty');
    return options.file;
  }
  const fromEnv = (options.env ?? process.env)[readinessFileEnvironmentVariable];
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : defaultReadinessFile;
}

/**
 * Marks the connector ready by writing the marker file (creating its folder if needed). Never
 * throws on I/O failure: a probe that cannot be written must not stop the connector; the failure
 * is logged at warn and `false` is returned. Rejects with `ERR_AIO_ABORTED` if `signal` aborts.
 *
 * @example
 * ```ts
 * import { markReady } from '@aio-connector/core';
 * await markReady(); // after the MQTT session is up
 * ```
 */
export async function markReady(options: MarkReadinessOptions = {}): Promise<boolean> {
  const file = readinessFilePath(options);
  const logger = options.logger ?? silentLogger;
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, `ready ${new Date().toISOString()} pid ${process.pid}\n`, {
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    return true;
  } catch (error) {
    if (options.signal?.aborted) throw abortError(options.signal, 'markReady');
    logger.warn({ err: error, file }, 'cannot write the readiness file');
    return false;
  }
}

/**
 * Marks the connector not ready by removing the marker file (a missing file is fine). Never throws
 * on I/O failure; the failure is logged at warn and `false` is returned. Rejects with
 * `ERR_AIO_ABORTED` if `signal` is already aborted.
 *
 * @example
 * ```ts
 * import { markNotReady } from '@aio-connector/core';
 * await markNotReady(); // the MQTT session is gone
 * ```
 */
export async function markNotReady(options: MarkReadinessOptions = {}): Promise<boolean> {
  const file = readinessFilePath(options);
  const logger = options.logger ?? silentLogger;
  if (options.signal?.aborted) throw abortError(options.signal, 'markNotReady');
  try {
    await rm(file, { force: true });
    return true;
  } catch (error) {
    logger.warn({ err: error, file }, 'cannot remove the readiness file');
    return false;
  }
}

/**
 * The readiness probe check. When `argv` contains the probe argument (`readiness-probe`), returns
 * the exit code of the probe: 0 when the marker file exists, 1 otherwise. Returns `undefined` when
 * the probe was not requested. Synchronous and cheap, so it can run before any startup work.
 *
 * @example
 * ```ts
 * import { runReadinessProbe } from '@aio-connector/core';
 * const code = runReadinessProbe(process.argv.slice(2));
 * if (code !== undefined) process.exit(code);
 * ```
 */
export function runReadinessProbe(
  argv: readonly string[] = process.argv.slice(2),
  options: ReadinessProbeOptions = {},
): 0 | 1 | undefined {
  if (!Array.isArray(argv)) throw new TypeError('argv must be an array of strings');
  const argument = options.argument ?? readinessProbeArgument;
  if (typeof argument !== 'string' || argument === '')
    throw new TypeError('argument must be a non-empty string');
  if (!argv.includes(argument)) return undefined;
  return existsSync(readinessFilePath(options)) ? 0 : 1;
}

/**
 * The first line of a connector's `main`: when the process was started as the readiness probe
 * (`node dist/main.js readiness-probe`), exits at once with the probe's code (0 ready, 1 not
 * ready); otherwise returns and startup continues.
 *
 * @example
 * ```ts
 * import { readinessProbeMain } from '@aio-connector/core';
 * readinessProbeMain();
 * await new MyConnector().run();
 * ```
 */
export function readinessProbeMain(
  argv: readonly string[] = process.argv.slice(2),
  options: ReadinessProbeOptions = {},
): void {
  const code = runReadinessProbe(argv, options);
  if (code !== undefined) process.exit(code);
}
