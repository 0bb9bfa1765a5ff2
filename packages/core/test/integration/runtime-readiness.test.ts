import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createJsonLogger,
  defaultReadinessFile,
  markNotReady,
  markReady,
  readinessFilePath,
  runReadinessProbe,
} from '@aio-connector/core';

let temp: string[] = [];
afterEach(async () => {
  for (const dir of temp) await rm(dir, { recursive: true, force: true });
  temp = [];
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'aio-readiness-'));
  temp.push(dir);
  return dir;
}

const readinessModule = new URL('../../src/runtime/readiness.ts', import.meta.url).href;
const canRunTypeScript = (process.features as { typescript?: string }).typescript !== undefined;
if (!canRunTypeScript)
  console.warn(
    `skipping the probe process tests: ${process.version} cannot run TypeScript sources`,
  );

/** Runs a connector entry point the way the kubelet's exec probe does; resolves with its exit code and output. */
async function runEntryPoint(
  script: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string }> {
  const child = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0 && code !== 1) throw new Error(`entry point failed (${code}): ${stderr}`);
  return { code, stdout };
}

describe.skipIf(!canRunTypeScript)('readiness probe process', () => {
  it('exits 0 when ready and 1 when not, before any startup work', async () => {
    const dir = await tempDir();
    const file = join(dir, 'connector-ready');
    const script = join(dir, 'main.mjs');
    await writeFile(
      script,
      [
        `import { readinessProbeMain } from ${JSON.stringify(readinessModule)};`,
        'readinessProbeMain();',
        "process.stdout.write('connector started\\n');",
      ].join('\n'),
    );
    const env = { AIO_CONNECTOR_READINESS_FILE: file };

    expect(await runEntryPoint(script, ['readiness-probe'], env)).toEqual({ code: 1, stdout: '' });

    expect(await markReady({ file })).toBe(true);
    expect(await runEntryPoint(script, ['readiness-probe'], env)).toEqual({ code: 0, stdout: '' });

    expect(await markNotReady({ file })).toBe(true);
    expect(await runEntryPoint(script, ['readiness-probe'], env)).toEqual({ code: 1, stdout: '' });

    // without the argument, the entry point starts the connector
    expect(await runEntryPoint(script, [], env)).toEqual({
      code: 0,
      stdout: 'connector started\n',
    });
  });
});

describe('readiness file', () => {
  it('resolves the path from the option, then the environment, then the default', () => {
    expect(readinessFilePath({ env: {} })).toBe('/tmp/connector-ready');
    expect(defaultReadinessFile).toBe('/tmp/connector-ready');
    expect(readinessFilePath({ env: { AIO_CONNECTOR_READINESS_FILE: '/run/ready' } })).toBe(
      '/run/ready',
    );
    expect(readinessFilePath({ env: { AIO_CONNECTOR_READINESS_FILE: '' } })).toBe(
      '/tmp/connector-ready',
    );
    expect(
      readinessFilePath({ file: '/x/ready', env: { AIO_CONNECTOR_READINESS_FILE: '/run/ready' } }),
    ).toBe('/x/ready');
    expect(() => readinessFilePath({ file: '' })).toThrow(RangeError);
    expect(() => readinessFilePath({ file: 1 as unknown as string })).toThrow(TypeError);
  });

  it('markReady creates the file (and its folder); markNotReady removes it and tolerates absence', async () => {
    const dir = await tempDir();
    const file = join(dir, 'nested', 'ready');
    const env = { AIO_CONNECTOR_READINESS_FILE: file };
    expect(await markReady({ env })).toBe(true);
    expect(await readFile(file, 'utf8')).toMatch(/^ready \d{4}-\d\d-\d\dT.+ pid \d+\n$/);
    expect(runReadinessProbe(['readiness-probe'], { env })).toBe(0);
    expect(await markNotReady({ env })).toBe(true);
    expect(existsSync(file)).toBe(false);
    expect(runReadinessProbe(['readiness-probe'], { env })).toBe(1);
    expect(await markNotReady({ env })).toBe(true);
  });

  it('runReadinessProbe returns undefined when the probe is not requested', async () => {
    const dir = await tempDir();
    const file = join(dir, 'ready');
    expect(runReadinessProbe(['--port', '80'], { file })).toBeUndefined();
    expect(runReadinessProbe(['check'], { file, argument: 'check' })).toBe(1);
    await markReady({ file });
    expect(runReadinessProbe(['check'], { file, argument: 'check' })).toBe(0);
  });

  it('logs and returns false instead of throwing when the file cannot be written', async () => {
    const dir = await tempDir();
    const blocker = join(dir, 'a-file');
    await writeFile(blocker, '');
    const lines: string[] = [];
    const logger = createJsonLogger({ level: 'warn', write: (line) => lines.push(line) });
    expect(await markReady({ file: join(blocker, 'ready'), logger })).toBe(false);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 'warn',
      msg: 'cannot write the readiness file',
      file: join(blocker, 'ready'),
    });
  });
});
