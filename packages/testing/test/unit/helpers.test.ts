import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually, makeTempDir } from '@aio-connector/testing';

describe('eventually', () => {
  it('returns the first result that does not throw', async () => {
    let calls = 0;
    const value = await eventually(
      () => {
        calls++;
        if (calls < 3) throw new Error('not yet');
        return calls;
      },
      { intervalInMs: 1 },
    );
    expect(value).toBe(3);
  });

  it('throws the last error once the deadline passes', async () => {
    let calls = 0;
    await expect(
      eventually(
        () => {
          calls++;
          throw new Error(`attempt ${calls}`);
        },
        { timeoutInMs: 50, intervalInMs: 5 },
      ),
    ).rejects.toThrow(/still failing after 50 ms: attempt \d+/);
    expect(calls).toBeGreaterThan(1);
  });

  it('awaits async checks and stops on abort', async () => {
    await expect(eventually(async () => 'ok')).resolves.toBe('ok');
    await expect(
      eventually(
        () => {
          throw new Error('never');
        },
        { signal: AbortSignal.abort(new Error('stop')) },
      ),
    ).rejects.toThrow('stop');
    await expect(eventually(() => 1, { timeoutInMs: -1 })).rejects.toBeInstanceOf(RangeError);
  });
});

describe('makeTempDir', () => {
  it('creates an empty folder and removes it on dispose', async () => {
    let path: string;
    {
      await using dir = await makeTempDir({ prefix: 'aio-helper-' });
      path = dir.path;
      expect(path).toMatch(/aio-helper-/);
      await writeFile(join(path, 'f'), 'x');
      expect(existsSync(join(path, 'f'))).toBe(true);
    }
    expect(existsSync(path)).toBe(false);
  });

  it('registers its removal with the given hook', async () => {
    const hooks: Array<() => Promise<void>> = [];
    const dir = await makeTempDir({ onTestFinished: (cleanup) => hooks.push(cleanup) });
    expect(existsSync(dir.path)).toBe(true);
    await hooks[0]!();
    expect(existsSync(dir.path)).toBe(false);
    await dir.remove();
  });
});
