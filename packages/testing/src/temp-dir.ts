/**
 * Temporary folders for tests.
 *
 * @module
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A temporary folder; removing it twice is harmless. */
export interface TempDir {
  /** Absolute path of the folder. */
  readonly path: string;
  /** Removes the folder and everything in it. */
  remove(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Creates an empty temporary folder. Remove it with `await using`, `remove()`, or pass the test's
 * `onTestFinished` to have it removed when the test ends.
 *
 * @example
 * ```ts
 * import { onTestFinished, test } from 'vitest';
 * import { makeTempDir } from '@aio-connector/testing';
 * test('writes a file', async () => {
 *   const dir = await makeTempDir({ onTestFinished });
 *   console.log(dir.path);
 * });
 * ```
 */
export async function makeTempDir(
  options: {
    /** Prefix of the folder name. Default: `aio-test-`. */
    readonly prefix?: string;
    /** Registers the removal (vitest's `onTestFinished`). */
    readonly onTestFinished?: (cleanup: () => Promise<void>) => void;
  } = {},
): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), options.prefix ?? 'aio-test-'));
  const remove = (): Promise<void> => rm(path, { recursive: true, force: true });
  options.onTestFinished?.(remove);
  return { path, remove, [Symbol.asyncDispose]: remove };
}
