/**
 * Reading the files the Akri operator mounts into a connector pod: the mount read retry policy
 * (the pod can start before its mounts are ready), Kubernetes projection artifacts (`..data`,
 * `..<timestamp>`), PEM certificates, and secret names that must stay inside their mount.
 *
 * Internal to `runtime/`; the public surface is `ConnectorSettings` and `EndpointCredentialsReader`.
 *
 * @module
 */
import { X509Certificate } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { ConfigError, type AioErrorOptions } from '../errors.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { retry } from '../retry.ts';

/**
 * Attempts made to read a mount before giving up (the .NET SDK's `FromFileMount` policy).
 *
 * @example
 * ```ts
 * import { ConnectorSettings, defaultMountReadAttempts } from '@aio-connector/core';
 * await ConnectorSettings.fromEnvironment(process.env, { attempts: defaultMountReadAttempts * 3 });
 * ```
 */
export const defaultMountReadAttempts = 10;

/**
 * Delay between two attempts to read a mount, in ms.
 *
 * @example
 * ```ts
 * import { defaultMountReadIntervalInMs } from '@aio-connector/core';
 * defaultMountReadIntervalInMs; // 100
 * ```
 */
export const defaultMountReadIntervalInMs = 100;

/** Options of the functions that read mounted files. Every field is optional. */
export interface MountReadOptions {
  /** Attempts before a missing or unreadable file is reported. Default: 10. */
  readonly attempts?: number;
  /** Delay between attempts, in ms. Default: 100. */
  readonly intervalInMs?: number;
  /** Aborts the reads and the waits between attempts. */
  readonly signal?: AbortSignal;
  /** Where retries are logged (debug). Default: silent. */
  readonly logger?: Logger;
}

/** {@link MountReadOptions} with the defaults applied and the values checked. */
export interface ResolvedMountReadOptions {
  readonly attempts: number;
  readonly intervalInMs: number;
  readonly signal: AbortSignal | undefined;
  readonly logger: Logger;
}

/**
 * Checks and completes {@link MountReadOptions}. Wrong types throw a `TypeError`, values out of
 * range a `RangeError`.
 */
export function resolveMountReadOptions(options: MountReadOptions = {}): ResolvedMountReadOptions {
  if (typeof options !== 'object' || options === null)
    throw new TypeError(`options must be an object, received ${typeof options}`);
  const attempts = options.attempts ?? defaultMountReadAttempts;
  const intervalInMs = options.intervalInMs ?? defaultMountReadIntervalInMs;
  if (typeof attempts !== 'number' || Number.isNaN(attempts))
    throw new TypeError(`attempts must be a number, received ${typeof attempts}`);
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > 1_000)
    throw new RangeError(`attempts must be an integer between 1 and 1000, received ${attempts}`);
  if (typeof intervalInMs !== 'number' || Number.isNaN(intervalInMs))
    throw new TypeError(`intervalInMs must be a number, received ${typeof intervalInMs}`);
  if (intervalInMs < 0 || intervalInMs > 60_000)
    throw new RangeError(`intervalInMs must be between 0 and 60000, received ${intervalInMs}`);
  const { signal } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal))
    throw new TypeError('signal must be an AbortSignal');
  const logger = options.logger ?? silentLogger;
  return Object.freeze({ attempts, intervalInMs, signal, logger });
}

// Errors that a later attempt may not raise: the file or folder is not there yet, or the file
// system hiccupped. Kept out of the error objects so that callers only see a plain ConfigError.
const transientErrors = new WeakSet<object>();

/** A `ConfigError` that the mount read retry policy retries (a missing or unreadable file). */
export function transientConfigError(
  message: string,
  options: AioErrorOptions & { readonly source?: string; readonly field?: string },
): ConfigError {
  const error = new ConfigError(message, options);
  transientErrors.add(error);
  return error;
}

/** Whether `error` was raised by {@link transientConfigError}. */
export function isTransientConfigError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && transientErrors.has(error);
}

/**
 * Runs `operation` under the mount read retry policy: transient errors (see
 * {@link transientConfigError}) are retried `attempts - 1` times, `intervalInMs` apart; any other
 * error is thrown at once. Aborting `signal` rejects with an `ERR_AIO_ABORTED` error.
 */
export async function withMountRetry<T>(
  operation: string,
  run: (attempt: number) => Promise<T>,
  options: ResolvedMountReadOptions,
): Promise<T> {
  return retry(run, {
    retries: options.attempts - 1,
    minDelayInMs: options.intervalInMs,
    maxDelayInMs: options.intervalInMs,
    factor: 1,
    jitter: 0,
    shouldRetry: (error) => isTransientConfigError(error),
    logger: options.logger,
    operation,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
}

/** Where a value came from, for error messages. */
export interface Where {
  /** The variable, file or definition. */
  readonly source: string;
  /** The field inside it, as a dotted path. */
  readonly field?: string;
}

function whereOptions(where: Where): { source: string; field?: string } {
  return where.field === undefined
    ? { source: where.source }
    : { source: where.source, field: where.field };
}

function prefix(where: Where): string {
  return where.field === undefined ? where.source : `${where.source}: field "${where.field}"`;
}

function errnoOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

// Error codes of a path that is not (yet) there or a file system that may recover.
const transientErrnos = new Set([
  'ENOENT',
  'ENOTDIR',
  'EAGAIN',
  'EBUSY',
  'EIO',
  'EMFILE',
  'ENFILE',
]);

function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

function readFailure(path: string, error: unknown, where: Where): ConfigError {
  const code = errnoOf(error) ?? 'error';
  const reason =
    code === 'ENOENT' || code === 'ENOTDIR'
      ? 'does not exist'
      : code === 'EACCES' || code === 'EPERM'
        ? 'is not readable (permission denied)'
        : code === 'EISDIR'
          ? 'is a folder, not a file'
          : `cannot be read (${code})`;
  const message = `${prefix(where)}: "${path}" ${reason}`;
  const options = { ...whereOptions(where), cause: error, details: { path, errno: code } };
  return transientErrnos.has(code)
    ? transientConfigError(message, options)
    : new ConfigError(message, options);
}

/**
 * Reads a mounted file as bytes. A missing file or an I/O error throws a `ConfigError` naming
 * `where` and the path (transient where a retry may help). The content never appears in errors.
 */
export async function readMountBytes(
  path: string,
  where: Where,
  signal?: AbortSignal,
): Promise<Buffer> {
  try {
    return await readFile(path, signal === undefined ? {} : { signal });
  } catch (error) {
    if (isAbort(error)) throw error;
    throw readFailure(path, error, where);
  }
}

/** Reads a mounted file as UTF-8 text; see {@link readMountBytes}. */
export async function readMountText(
  path: string,
  where: Where,
  signal?: AbortSignal,
): Promise<string> {
  return (await readMountBytes(path, where, signal)).toString('utf8');
}

/** Reads a mounted file as UTF-8 text, or returns `undefined` when it does not exist. */
export async function readOptionalMountText(
  path: string,
  where: Where,
  signal?: AbortSignal,
): Promise<string | undefined> {
  try {
    return await readFile(path, { encoding: 'utf8', ...(signal === undefined ? {} : { signal }) });
  } catch (error) {
    if (isAbort(error)) throw error;
    if (errnoOf(error) === 'ENOENT') return undefined;
    throw readFailure(path, error, where);
  }
}

/** What a path is, following symlinks; `undefined` when it does not exist. */
export async function pathKind(path: string): Promise<'file' | 'folder' | 'other' | undefined> {
  try {
    const info = await stat(path);
    return info.isFile() ? 'file' : info.isDirectory() ? 'folder' : 'other';
  } catch (error) {
    const code = errnoOf(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/**
 * Whether a directory entry is a Kubernetes projection artifact (`..data`, `..2025_01_01_...`) or
 * another hidden `..` entry, which every reader of a mount must skip.
 */
export function isProjectionArtifact(name: string): boolean {
  return name.startsWith('..');
}

/**
 * The regular files (following symlinks) of a mounted folder, by name, sorted, without
 * projection artifacts and sub-folders.
 */
export async function listMountFiles(folder: string, where: Where): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(folder);
  } catch (error) {
    throw readFailure(folder, error, where);
  }
  const files: string[] = [];
  for (const name of names.sort()) {
    if (isProjectionArtifact(name)) continue;
    const path = join(folder, name);
    const kind = await pathKind(path);
    // a dangling symlink: the projection is being swapped, or the volume is broken
    if (kind === undefined)
      throw transientConfigError(`${prefix(where)}: "${path}" does not exist`, {
        ...whereOptions(where),
        details: { path },
      });
    if (kind === 'file') files.push(name);
  }
  return files;
}

const pemCertificate = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g;

/**
 * Every PEM `CERTIFICATE` block of `text`, re-wrapped with `\n` line endings. Text around the
 * blocks (OpenSSL "Bag Attributes", subject lines, comments) is ignored. Each block must be a valid
 * X.509 certificate, else a `ConfigError` naming `where` is thrown.
 */
export function extractPemCertificates(text: string, where: Where): string[] {
  const certificates: string[] = [];
  for (const match of text.matchAll(pemCertificate)) {
    const body = (match[1] ?? '').replace(/\s+/g, '');
    const lines = body.match(/.{1,64}/g) ?? [];
    const pem = `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
    try {
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) throw new Error('the body is not base64');
      new X509Certificate(pem);
    } catch (error) {
      throw new ConfigError(
        `${prefix(where)}: certificate ${certificates.length + 1} is not a valid X.509 certificate`,
        { ...whereOptions(where), cause: error },
      );
    }
    certificates.push(pem);
  }
  return certificates;
}

const pemPrivateKey = /-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY)-----[\s\S]+?-----END \1-----\r?\n?/;

/** The first PEM private key block of `text` (any `... PRIVATE KEY` label), if any. */
export function extractPemPrivateKey(text: string): string | undefined {
  const match = pemPrivateKey.exec(text);
  if (match === null) return undefined;
  const block = match[0].replace(/\r\n/g, '\n');
  return block.endsWith('\n') ? block : `${block}\n`;
}

/**
 * Reads every PEM certificate of a file, or of every file of a folder (skipping projection
 * artifacts). Each file must hold at least one certificate; the whole set must not be empty.
 */
export async function readPemBundle(
  path: string,
  where: Where,
  signal?: AbortSignal,
): Promise<string[]> {
  const kind = await pathKind(path);
  if (kind === undefined)
    throw transientConfigError(`${prefix(where)}: "${path}" does not exist`, {
      ...whereOptions(where),
      details: { path },
    });
  const files =
    kind === 'folder' ? (await listMountFiles(path, where)).map((n) => join(path, n)) : [path];
  if (files.length === 0)
    throw transientConfigError(`${prefix(where)}: the folder "${path}" holds no certificate file`, {
      ...whereOptions(where),
      details: { path },
    });
  const certificates: string[] = [];
  for (const file of files) {
    const text = await readMountText(file, where, signal);
    const found = extractPemCertificates(text, where);
    if (found.length === 0) {
      const message = `${prefix(where)}: "${file}" holds no PEM certificate`;
      const options = { ...whereOptions(where), details: { path: file } };
      // an empty file may still be being written
      throw text.trim() === ''
        ? transientConfigError(message, options)
        : new ConfigError(message, options);
    }
    certificates.push(...found);
  }
  return certificates;
}

/**
 * Checks that `name` is a relative path made only of normal components (no absolute path, no
 * `.` or `..` component, no empty component, no backslash, no NUL) and returns its components. A
 * `ConfigError` names `where` and the problem; the name itself is not a secret and is quoted.
 */
export function validateRelativeSecretPath(name: unknown, where: Where): string[] {
  const fail = (problem: string): never => {
    throw new ConfigError(`${prefix(where)} ${problem}, found ${quote(name)}`, {
      ...whereOptions(where),
    });
  };
  if (typeof name !== 'string') return fail('must be a string');
  if (name === '') return fail('must not be empty');
  if (name.includes('\\')) return fail('must not contain a backslash');
  if (name.includes('\0')) return fail('must not contain a NUL character');
  if (name.startsWith('/')) return fail('must be a relative path, not an absolute one');
  const components = name.split('/');
  for (const component of components) {
    if (component === '') return fail('must not contain an empty path component');
    if (component === '..') return fail('must not contain a ".." path component');
    if (component === '.') return fail('must not contain a "." path component');
  }
  return components;
}

/**
 * Joins a validated relative secret path to its mount; the result is always inside the mount.
 */
export function joinInsideMount(mount: string, name: unknown, where: Where): string {
  const components = validateRelativeSecretPath(name, where);
  const base = resolve(mount);
  const full = resolve(base, ...components);
  // lexical containment; the mount itself (and its symlinks) is trusted
  if (!full.startsWith(`${base}${sep}`) && full !== base)
    throw new ConfigError(`${prefix(where)} points outside its mount, found ${quote(name)}`, {
      ...whereOptions(where),
    });
  return full;
}

/** A value as it appears in an error message: strings quoted and cut at 120 characters. */
export function quote(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') {
    const text = value.length > 120 ? `${value.slice(0, 117)}...` : value;
    return JSON.stringify(text);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  return typeof value;
}
