import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it, onTestFinished } from 'vitest';
import { cliExitCodes, main, packageManagerFromUserAgent } from '../../src/cli.ts';
import { templateNames } from '../../src/templates.ts';
import { generatorVersion } from '../../src/versions.ts';

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'create-aio-connector-cli-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs the CLI in-process, as if stdin were not a terminal. */
async function run(argv: string[], options: { cwd?: string; userAgent?: string } = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const stdin = Object.assign(Readable.from([]), { isTTY: false });
  const code = await main(argv, {
    stdin,
    stdout,
    stderr,
    cwd: options.cwd ?? tmpdir(),
    env: options.userAgent === undefined ? {} : { npm_config_user_agent: options.userAgent },
  });
  return { code, out, err };
}

const hasGit = spawnSync('git', ['--version']).status === 0;

describe('create-aio-connector', () => {
  it('--help lists every flag, every template and the exit codes', async () => {
    const { code, out } = await run(['--help']);
    expect(code).toBe(cliExitCodes.ok);
    for (const flag of [
      '--template',
      '--name',
      '--endpoint-type',
      '--sdk-version',
      '--package-manager',
      '--no-install',
      '--no-git',
      '--force',
      '--yes',
      '--no-interactive',
      '--help',
      '--version',
    ])
      expect(out).toContain(flag);
    for (const name of templateNames) expect(out).toContain(`  ${name} `);
    expect(out).toContain(
      'Exit codes: 0 created, 1 failed, 2 invalid arguments, 3 folder not empty',
    );
  });

  it('--version prints the version', async () => {
    expect(await run(['--version'])).toMatchObject({ code: 0, out: `${generatorVersion}\n` });
  });

  it.each([
    [['--colour'], /Unknown option '--colour'/],
    [['--template'], /argument missing/],
    [['a', 'b'], /expected at most one folder, found a, b/],
    [
      ['--template', 'modbus'],
      /unknown template "modbus": choose one of polling, event-driven, rest, sse/,
    ],
    [['--name', 'My_Connector'], /upper-case letters.*try "my-connector"/],
    [['--endpoint-type', 'thermostat'], /Vendor\.Type/],
    [['--sdk-version', '1'], /the SDK version "1" is not valid/],
    [['--package-manager', 'bun'], /unknown package manager "bun": choose one of npm, pnpm, yarn/],
  ])('exits 2 on invalid arguments: %j', async (argv, message) => {
    const cwd = await tempDir();
    const { code, out, err } = await run(['--yes', '--no-install', '--no-git', ...argv], { cwd });
    expect(code).toBe(cliExitCodes.usage);
    expect(err).toMatch(message);
    expect(err).toContain('Run create-aio-connector --help');
    expect(out).toBe('');
    expect(await readdir(cwd)).toEqual([]);
  });

  it('exits 3 on a folder that is not empty, and writes nothing', async () => {
    const cwd = await tempDir();
    await writeFile(join(cwd, 'notes.txt'), 'mine');
    const { code, err } = await run(['.', '--yes', '--no-install', '--no-git'], { cwd });
    expect(code).toBe(cliExitCodes.targetNotEmpty);
    expect(err).toMatch(/is not empty \(notes\.txt\).*--force/);
    expect(await readdir(cwd)).toEqual(['notes.txt']);
  });

  it('--force writes into a folder that is not empty', async () => {
    const cwd = await tempDir();
    await writeFile(join(cwd, 'notes.txt'), 'mine');
    const { code } = await run(['.', '--yes', '--force', '--no-install', '--no-git'], { cwd });
    expect(code).toBe(cliExitCodes.ok);
    expect((await readdir(cwd)).sort()).toContain('package.json');
    expect(await readFile(join(cwd, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('without a terminal, never prompts: defaults fill what is not given', async () => {
    const cwd = await tempDir();
    const { code, out, err } = await run(['--no-install', '--no-git'], { cwd });
    expect(err).toBe('');
    expect(code).toBe(cliExitCodes.ok);
    const manifest = JSON.parse(await readFile(join(cwd, 'my-connector', 'package.json'), 'utf8'));
    expect(manifest).toMatchObject({ name: 'my-connector', aioConnector: { template: 'polling' } });
    expect(out).toContain(`Created the polling connector "my-connector" (`);
    expect(out).toContain(` files) in ${join(cwd, 'my-connector')}\n`);
    expect(out).toMatch(/Next steps:\n {2}cd my-connector\n {2}npm install\n {2}npm run build/);
  });

  it('takes the folder from --name, and the flags as given', async () => {
    const cwd = await tempDir();
    const { code } = await run(
      [
        '--name',
        'sse-thermostat',
        '-t',
        'sse',
        '-e',
        'Contoso.Stream',
        '--sdk-version',
        '^0.1.0',
        '-y',
        '--no-install',
        '--no-git',
      ],
      { cwd },
    );
    expect(code).toBe(cliExitCodes.ok);
    const dir = join(cwd, 'sse-thermostat');
    const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
    expect(manifest.dependencies).toEqual({
      '@aio-connector/core': '^0.1.0',
      '@aio-connector/sse': '^0.1.0',
    });
    const metadata = JSON.parse(await readFile(join(dir, 'connector-metadata.json'), 'utf8'));
    expect(metadata.inboundEndpoints[0].endpointType).toBe('Contoso.Stream');
  });

  it('uses the package manager that runs it in the next steps', async () => {
    const cwd = await tempDir();
    const { out } = await run(['x', '-y', '--no-install', '--no-git'], {
      cwd,
      userAgent: 'pnpm/9.1.0 npm/? node/v24.0.0 linux x64',
    });
    expect(out).toMatch(/ {2}pnpm install\n {2}pnpm run build/);
  });

  it.skipIf(!hasGit)('creates a git repository unless told not to', async () => {
    const cwd = await tempDir();
    expect((await run(['with-git', '-y', '--no-install'], { cwd })).code).toBe(0);
    expect(existsSync(join(cwd, 'with-git', '.git'))).toBe(true);
    expect((await run(['without-git', '-y', '--no-install', '--no-git'], { cwd })).code).toBe(0);
    expect(existsSync(join(cwd, 'without-git', '.git'))).toBe(false);
  });
});

describe('packageManagerFromUserAgent', () => {
  it.each([
    ['npm/11.1.0 node/v24.0.0 linux x64 workspaces/false', 'npm'],
    ['pnpm/9.1.0 npm/? node/v24.0.0 linux x64', 'pnpm'],
    ['yarn/1.22.22 npm/? node/v24.0.0 linux x64', 'yarn'],
    ['bun/1.1.0 npm/? node/v24.0.0 linux x64', undefined],
    [undefined, undefined],
  ])('%s → %s', (userAgent, pm) => {
    expect(packageManagerFromUserAgent(userAgent)).toBe(pm);
  });
});
