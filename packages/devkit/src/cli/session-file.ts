/**
 * The note a running `aio-connector dev` leaves in the temporary folder so that `aio-connector
 * sub` finds its broker without `--broker`.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What the note holds. */
export interface DevSession {
  readonly pid: number;
  readonly brokerUrl: string;
}

/** The note's path (one per user). */
export function sessionFilePath(): string {
  const user = typeof process.getuid === 'function' ? String(process.getuid()) : 'user';
  return join(tmpdir(), `aio-connector-dev-${user}.json`);
}

/** Leaves the note. */
export async function writeDevSession(session: DevSession): Promise<void> {
  await writeFile(sessionFilePath(), JSON.stringify(session));
}

/** Removes the note, when it is this process's. */
export async function removeDevSession(): Promise<void> {
  if (readDevSession()?.pid === process.pid) await rm(sessionFilePath(), { force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The note of a `dev` that is still running, if any. */
export function readDevSession(): DevSession | undefined {
  try {
    const value = JSON.parse(readFileSync(sessionFilePath(), 'utf8')) as unknown;
    if (typeof value !== 'object' || value === null) return undefined;
    const { pid, brokerUrl } = value as Record<string, unknown>;
    if (typeof pid !== 'number' || typeof brokerUrl !== 'string' || !alive(pid)) return undefined;
    return { pid, brokerUrl };
  } catch {
    return undefined;
  }
}
