/**
 * Watches the ADR resources mount (`ADR_RESOURCES_NAME_MOUNT_PATH`): one file per device inbound
 * endpoint, named `{deviceName}_{inboundEndpointName}`, listing the names of its assets one per
 * line. Kubernetes updates the mount by atomic symlink swaps (a new `..<timestamp>` folder, then
 * `..data` re-pointed, then the old folder removed), so the monitor watches the directory, and on
 * any change re-reads all of it and reports the difference with what the consumer has already
 * seen. The mount lists names only: definitions come from the ADR service.
 *
 * @module
 */
import { watch, type FSWatcher } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { AioError, ConfigError } from '../../errors.ts';
import { silentLogger, type Logger } from '../../logger.ts';
import { retry, sleep } from '../../retry.ts';

/** A change of the ADR resources mount. */
export type AdrMountEvent =
  | { readonly type: 'deviceCreated'; readonly deviceName: string; readonly endpointName: string }
  | { readonly type: 'deviceDeleted'; readonly deviceName: string; readonly endpointName: string }
  | {
      readonly type: 'assetCreated';
      readonly deviceName: string;
      readonly endpointName: string;
      readonly assetName: string;
    }
  | {
      readonly type: 'assetDeleted';
      readonly deviceName: string;
      readonly endpointName: string;
      readonly assetName: string;
    };

/** One device inbound endpoint of the mount and its asset names. */
export interface AdrMountEntry {
  readonly deviceName: string;
  readonly endpointName: string;
  readonly assetNames: readonly string[];
}

/** Options of {@link AdrMountMonitor}. Every field is optional. */
export interface AdrMountMonitorOptions {
  /**
   * How long to wait after a change of the directory before re-reading it, so the steps of one
   * Kubernetes update are read together, in ms. Default: 500.
   */
  readonly debounceInMs?: number;
  /**
   * Re-read the directory this often even without a change notification (a safety net for file
   * systems whose notifications are unreliable), in ms; `0` disables. Default: 10 000.
   */
  readonly rescanIntervalInMs?: number;
  /**
   * Use file system notifications (`fs.watch`). With `false` only the periodic re-read applies.
   * Default: `true`.
   */
  readonly watch?: boolean;
  /** Where the monitor logs. Default: silent. */
  readonly logger?: Logger;
}

interface ResolvedOptions {
  readonly debounceInMs: number;
  readonly rescanIntervalInMs: number;
  readonly watch: boolean;
  readonly logger: Logger;
}

interface DeviceEntry {
  readonly deviceName: string;
  readonly endpointName: string;
  readonly assets: string[];
}

type State = 'new' | 'running' | 'stopped';

const maxTimerInMs = 2_147_483_647;
const readAttempts = 10;
const readRetryDelayInMs = 100;
const minEmptyConfirmDelayInMs = 100;
const transientReadErrors = new Set(['EAGAIN', 'EBUSY', 'EINTR', 'EMFILE', 'ENFILE', 'EIO']);

function checkMs(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value))
    throw new TypeError(`${name} must be a number, received ${typeof value}`);
  if (value < 0 || value > maxTimerInMs)
    throw new RangeError(`${name} must be between 0 and ${maxTimerInMs}, received ${value}`);
  return value;
}

function resolveOptions(options: AdrMountMonitorOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('options must be an object');
  const { watch: useWatch = true, logger = silentLogger } = options;
  if (typeof useWatch !== 'boolean')
    throw new TypeError(`watch must be a boolean, received ${typeof useWatch}`);
  if (typeof logger !== 'object' || logger === null || typeof logger.child !== 'function')
    throw new TypeError('logger must be a pino-compatible logger');
  return Object.freeze({
    debounceInMs: checkMs('debounceInMs', options.debounceInMs, 500),
    rescanIntervalInMs: checkMs('rescanIntervalInMs', options.rescanIntervalInMs, 10_000),
    watch: useWatch,
    logger: logger.child({ component: 'AdrMountMonitor' }),
  });
}

function codeOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error
    ? String(error.code)
    : undefined;
}

/**
 * Splits a mount file name on its first `_` (a device name is a Kubernetes name and has none; the
 * endpoint name may). Returns `undefined` for names that are not device files.
 */
function splitFileName(
  fileName: string,
): { readonly deviceName: string; readonly endpointName: string } | undefined {
  // `..data`, `..2026_01_01...`: Kubernetes projection artefacts; other dot files are not
  // device files either (Kubernetes names start with an alphanumeric character)
  if (fileName.startsWith('.')) return undefined;
  const index = fileName.indexOf('_');
  if (index <= 0 || index === fileName.length - 1) return undefined;
  return { deviceName: fileName.slice(0, index), endpointName: fileName.slice(index + 1) };
}

/** Asset names, one per line: trimmed, blank lines ignored, duplicates dropped, order kept. */
function parseAssetNames(text: string): string[] {
  const names = new Set<string>();
  for (const line of text.replace(/^\uFEFF/, '').split('\n')) {
    const assetName = line.trim();
    if (assetName !== '') names.add(assetName);
  }
  return [...names];
}

function keyOf(deviceName: string, endpointName: string): string {
  return `${deviceName}_${endpointName}`;
}

/** The events that turn `from` into `to`: deletions first (assets before their device). */
function diff(
  from: ReadonlyMap<string, DeviceEntry>,
  to: ReadonlyMap<string, DeviceEntry>,
): AdrMountEvent[] {
  const events: AdrMountEvent[] = [];
  for (const [key, old] of from) {
    const { deviceName, endpointName } = old;
    const now = to.get(key);
    const keep = new Set(now?.assets);
    for (const assetName of old.assets) {
      if (!keep.has(assetName))
        events.push({ type: 'assetDeleted', deviceName, endpointName, assetName });
    }
    if (now === undefined) events.push({ type: 'deviceDeleted', deviceName, endpointName });
  }
  for (const [key, now] of to) {
    const { deviceName, endpointName } = now;
    const old = from.get(key);
    if (old === undefined) events.push({ type: 'deviceCreated', deviceName, endpointName });
    const had = new Set(old?.assets);
    for (const assetName of now.assets) {
      if (!had.has(assetName))
        events.push({ type: 'assetCreated', deviceName, endpointName, assetName });
    }
  }
  return events;
}

function apply(state: Map<string, DeviceEntry>, event: AdrMountEvent): void {
  const key = keyOf(event.deviceName, event.endpointName);
  switch (event.type) {
    case 'deviceCreated':
      state.set(key, {
        deviceName: event.deviceName,
        endpointName: event.endpointName,
        assets: [],
      });
      break;
    case 'deviceDeleted':
      state.delete(key);
      break;
    case 'assetCreated':
      state.get(key)?.assets.push(event.assetName);
      break;
    case 'assetDeleted': {
      const assets = state.get(key)?.assets;
      const index = assets?.indexOf(event.assetName) ?? -1;
      if (assets !== undefined && index !== -1) assets.splice(index, 1);
      break;
    }
  }
}

/**
 * Watches the ADR resources mount and reports devices and assets as they appear and disappear.
 *
 * `start()` returns an async iterator of {@link AdrMountEvent}s: first what the mount holds
 * (each device, then its assets), then every change. Events are the difference between what the
 * consumer has already received and the latest read of the directory, computed when the consumer
 * asks for the next one, so:
 * - nothing is reported twice (a change notification racing the first read cannot duplicate a
 *   `deviceCreated`), and an asset removed and re-added before the consumer looked is no event;
 * - an asset is created only after its device, and the assets of a deleted device are deleted
 *   before it;
 * - memory stays bounded by the size of the mount, however slow the consumer.
 *
 * Reading: entries starting with `.` (`..data`, `..<timestamp>`) and names without `_` are
 * skipped; names are split on the first `_`. Reads are retried on transient errors. A file that
 * reads empty while it listed assets is only believed when a second read, at least `debounceInMs`
 * (and 100 ms) later, is empty too, so a writer that truncates before writing does not delete and
 * re-create every asset. A file that cannot be read keeps its last known content (logged at warn).
 *
 * Ending: aborting the `signal` given to `start()`, calling `stop()`, or leaving the `for await`
 * loop ends the iteration without an error. The first `next()` rejects with a `ConfigError` when
 * the directory does not exist after about one second of retries (the mount may lag the pod).
 *
 * @example
 * ```ts
 * import { AdrMountMonitor } from '@aio-connector/core';
 * const monitor = new AdrMountMonitor(process.env.ADR_RESOURCES_NAME_MOUNT_PATH!, {
 *   debounceInMs: 500,
 * });
 * for await (const event of monitor.start({ signal: AbortSignal.timeout(60_000) })) {
 *   if (event.type === 'assetCreated') console.log('asset', event.assetName, 'of', event.deviceName);
 * }
 * ```
 */
export class AdrMountMonitor {
  readonly #dir: string;
  readonly #options: ResolvedOptions;
  readonly #logger: Logger;
  #state: State = 'new';
  /** The latest read of the directory, by file name. */
  #current = new Map<string, DeviceEntry>();
  /** What the consumer has received. */
  readonly #delivered = new Map<string, DeviceEntry>();
  /** `diff(#delivered, #current)`, consumed from `#queueIndex`. */
  #queue: AdrMountEvent[] = [];
  #queueIndex = 0;
  /** Files that read empty while they listed assets, with the time of the first empty read. */
  readonly #emptyPending = new Map<string, number>();
  #waiters: (() => void)[] = [];
  #watcher: FSWatcher | undefined;
  #debounceTimer: NodeJS.Timeout | undefined;
  #rescanTimer: NodeJS.Timeout | undefined;
  #scanning: Promise<void> | undefined;
  #dirty = false;
  #initial: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  readonly #abort = new AbortController();
  #signal: AbortSignal | undefined;
  readonly #onAbort = (): void => void this.stop();

  /**
   * @param dir The mount directory (`ADR_RESOURCES_NAME_MOUNT_PATH`).
   * @param options See {@link AdrMountMonitorOptions}.
   */
  constructor(dir: string, options: AdrMountMonitorOptions = {}) {
    if (typeof dir !== 'string' || dir === '')
      throw new TypeError(`dir must be a non-empty string, received ${typeof dir}`);
    this.#dir = dir;
    this.#options = resolveOptions(options);
    this.#logger = this.#options.logger.child({ dir });
  }

  get #emptyConfirmDelayInMs(): number {
    return Math.max(this.#options.debounceInMs, minEmptyConfirmDelayInMs);
  }

  /** The directory watched. */
  get dir(): string {
    return this.#dir;
  }

  /**
   * Starts watching and returns the events. Can be called once per monitor.
   *
   * @example
   * ```ts
   * import { AdrMountMonitor } from '@aio-connector/core';
   * const controller = new AbortController();
   * const events = new AdrMountMonitor('/etc/akri/config/adr_resources_names').start({
   *   signal: controller.signal,
   * });
   * const first = await events.next();
   * ```
   */
  start(
    options: { readonly signal?: AbortSignal } = {},
  ): AsyncIterableIterator<AdrMountEvent, undefined> {
    const { signal } = options;
    if (signal !== undefined && !(signal instanceof AbortSignal))
      throw new TypeError('signal must be an AbortSignal');
    if (this.#state !== 'new')
      throw new AioError(
        'ERR_AIO_CLOSED',
        'AdrMountMonitor.start() can be called only once; create a new monitor',
      );
    this.#state = 'running';
    const iterator: AsyncIterableIterator<AdrMountEvent, undefined> = {
      next: () => this.#next(),
      return: async () => {
        await this.stop();
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return this;
      },
    };
    if (signal?.aborted === true) {
      void this.stop();
      return iterator;
    }
    this.#signal = signal;
    signal?.addEventListener('abort', this.#onAbort, { once: true });
    this.#initial = this.#firstScan();
    this.#initial.catch(() => undefined);
    if (this.#options.rescanIntervalInMs > 0) {
      this.#rescanTimer = setInterval(() => {
        this.#watchDirectory();
        void this.#runScan();
      }, this.#options.rescanIntervalInMs);
      this.#rescanTimer.unref();
    }
    return iterator;
  }

  /**
   * The latest read of the directory: each device inbound endpoint and its asset names, sorted by
   * file name. It may be ahead of the events the consumer has received.
   *
   * @example
   * ```ts
   * for (const { deviceName, endpointName, assetNames } of monitor.snapshot())
   *   console.log(deviceName, endpointName, assetNames.length);
   * ```
   */
  snapshot(): readonly AdrMountEntry[] {
    return [...this.#current.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, entry]) =>
        Object.freeze({
          deviceName: entry.deviceName,
          endpointName: entry.endpointName,
          assetNames: Object.freeze([...entry.assets]),
        }),
      );
  }

  /**
   * Stops watching and ends the iteration. Idempotent: concurrent and later calls share one
   * promise, which resolves once no read of the directory is in progress.
   *
   * @example
   * ```ts
   * await monitor.stop();
   * ```
   */
  stop(): Promise<void> {
    if (this.#stopping !== undefined) return this.#stopping;
    this.#state = 'stopped';
    this.#abort.abort(new AioError('ERR_AIO_CLOSED', 'the ADR mount monitor was stopped'));
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#watcher?.close();
    this.#watcher = undefined;
    clearTimeout(this.#debounceTimer);
    clearInterval(this.#rescanTimer);
    this.#wake();
    const pending = [this.#scanning, this.#initial]
      .filter((p) => p !== undefined)
      .map((p) => p.catch(() => undefined));
    this.#stopping = Promise.all(pending).then(() => undefined);
    return this.#stopping;
  }

  /** Same as {@link AdrMountMonitor.stop}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  async #next(): Promise<IteratorResult<AdrMountEvent, undefined>> {
    for (;;) {
      if (this.#isStopped()) return { done: true, value: undefined };
      if (this.#initial !== undefined) await this.#initial;
      if (this.#isStopped()) return { done: true, value: undefined };
      const event = this.#queue[this.#queueIndex];
      if (event !== undefined) {
        this.#queueIndex++;
        apply(this.#delivered, event);
        return { done: false, value: event };
      }
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  #isStopped(): boolean {
    return this.#state === 'stopped';
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }

  async #firstScan(): Promise<void> {
    try {
      await retry(
        async () => {
          this.#watchDirectory(true);
          await this.#scanOnce();
        },
        {
          retries: readAttempts,
          minDelayInMs: readRetryDelayInMs,
          factor: 1,
          jitter: 0,
          signal: this.#abort.signal,
          shouldRetry: (error) => codeOf(error) === 'ENOENT',
          logger: this.#logger,
          operation: 'read the ADR resources mount',
        },
      );
    } catch (error) {
      if (this.#state === 'stopped') return;
      void this.stop();
      throw new ConfigError(
        `the ADR resources mount ${this.#dir} cannot be read: ${error instanceof Error ? error.message : String(error)}`,
        { source: this.#dir, cause: error },
      );
    }
  }

  /**
   * Watches the directory when it can. With `throwIfMissing` (the first read, which retries until
   * the mount appears) a missing directory throws; any other failure (ENOSPC: the node ran out of
   * inotify watches) only leaves the periodic re-read.
   */
  #watchDirectory(throwIfMissing = false): void {
    if (!this.#options.watch || this.#watcher !== undefined || this.#state !== 'running') return;
    let watcher: FSWatcher;
    try {
      watcher = watch(this.#dir, { persistent: false }, () => {
        this.#onChange();
      });
    } catch (error) {
      if (throwIfMissing && codeOf(error) === 'ENOENT') throw error;
      this.#logger.warn({ err: error }, 'cannot watch the directory; re-reading periodically');
      return;
    }
    watcher.on('error', (error) => {
      this.#logger.warn({ err: error }, 'watching the directory failed; re-reading periodically');
      watcher.close();
      if (this.#watcher === watcher) this.#watcher = undefined;
    });
    this.#watcher = watcher;
  }

  #onChange(): void {
    this.#scheduleScan(this.#options.debounceInMs);
  }

  #scheduleScan(delayInMs: number): void {
    if (this.#state !== 'running' || this.#debounceTimer !== undefined) return;
    this.#debounceTimer = setTimeout(() => {
      this.#debounceTimer = undefined;
      void this.#runScan();
    }, delayInMs);
    this.#debounceTimer.unref();
  }

  /** Reads the directory, one read at a time; a request during a read causes one more. */
  #runScan(): Promise<void> {
    if (this.#state !== 'running' || this.#initial === undefined) return Promise.resolve();
    if (this.#scanning !== undefined) {
      this.#dirty = true;
      return this.#scanning;
    }
    this.#scanning = (async () => {
      // the first read runs on its own, with retries; later reads wait for it
      await this.#initial?.catch(() => undefined);
      do {
        this.#dirty = false;
        try {
          await this.#scanOnce();
        } catch (error) {
          if (this.#state !== 'running') return;
          this.#logger.warn({ err: error }, 'cannot read the directory; keeping the last state');
        }
      } while (this.#dirty && this.#state === 'running');
    })().finally(() => {
      this.#scanning = undefined;
    });
    return this.#scanning;
  }

  async #scanOnce(): Promise<void> {
    const fileNames = (await readdir(this.#dir)).sort();
    if (this.#state !== 'running') return;
    const next = new Map<string, DeviceEntry>();
    let confirmEmpty = false;
    for (const fileName of fileNames) {
      const split = splitFileName(fileName);
      if (split === undefined) continue;
      const previous = this.#current.get(fileName);
      let text: string | undefined;
      try {
        text = await this.#readFile(fileName);
      } catch (error) {
        if (this.#state !== 'running') return;
        this.#logger.warn(
          { err: error, file: fileName },
          'cannot read a device file; keeping it as it was',
        );
        if (previous !== undefined) next.set(fileName, previous);
        continue;
      }
      if (text === undefined) continue; // gone since the listing, or not a file
      const assets = parseAssetNames(text);
      if (assets.length === 0 && previous !== undefined && previous.assets.length > 0) {
        const firstEmptyAt = this.#emptyPending.get(fileName);
        const now = performance.now();
        if (firstEmptyAt === undefined || now - firstEmptyAt < this.#emptyConfirmDelayInMs) {
          if (firstEmptyAt === undefined) this.#emptyPending.set(fileName, now);
          confirmEmpty = true;
          next.set(fileName, previous);
          this.#logger.debug(
            { file: fileName },
            'device file read empty; reading it again to confirm',
          );
          continue;
        }
      }
      this.#emptyPending.delete(fileName);
      next.set(fileName, { ...split, assets });
    }
    if (this.#state !== 'running') return;
    for (const fileName of this.#emptyPending.keys())
      if (!next.has(fileName)) this.#emptyPending.delete(fileName);
    this.#current = next;
    this.#queue = diff(this.#delivered, next);
    this.#queueIndex = 0;
    if (this.#queue.length > 0) {
      this.#logger.debug({ changes: this.#queue.length }, 'ADR resources mount changed');
      this.#wake();
    }
    if (confirmEmpty) this.#scheduleScan(this.#emptyConfirmDelayInMs);
  }

  /** The file's text; `undefined` when it vanished or is not a file. Retries transient errors. */
  async #readFile(fileName: string): Promise<string | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await readFile(join(this.#dir, fileName), {
          encoding: 'utf8',
          signal: this.#abort.signal,
        });
      } catch (error) {
        const code = codeOf(error);
        if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return undefined;
        if (!transientReadErrors.has(code ?? '') || attempt >= readAttempts) throw error;
        await sleep(readRetryDelayInMs, this.#abort.signal);
      }
    }
  }
}
