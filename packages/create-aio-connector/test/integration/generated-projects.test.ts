/**
 * End to end: spawns the real CLI for every template into a temporary folder outside the
 * repository, then checks that each generated project works against the SDK in this workspace,
 * without the network: its `@aio-connector/*` dependencies are symlinks to the workspace packages
 * (resolved through their `source` condition), the tools are symlinks to the repository's.
 *
 * - every project typechecks with its own tsconfig (one `tsc` program for the four, so the SDK
 *   sources are checked once), and the polling project builds with `tsconfig.build.json`;
 * - the tests each project ships pass (one vitest run for the four);
 * - every entry point loads and answers the readiness probe;
 * - every `connector-metadata.json` is valid for the devkit validator (no warnings either) and for
 *   the official 11.0-preview schema (read from `../shared/aio/`, skipped when absent).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateConnectorMetadataFile } from '@aio-connector/devkit';
import { renamedFiles, templates, templatesRoot, type TemplateName } from '../../src/templates.ts';
import { generatorVersion } from '../../src/versions.ts';

const repo = fileURLToPath(new URL('../../../../', import.meta.url));
const cli = join(repo, 'packages', 'create-aio-connector', 'src', 'index.ts');
const officialSchemaFile = fileURLToPath(
  new URL('../../../../../shared/aio/connector-metadata-11.0-preview.schema.json', import.meta.url),
);
const haveOfficialSchema = existsSync(officialSchemaFile);
if (!haveOfficialSchema)
  console.warn(`skipping the official schema checks: ${officialSchemaFile} is absent`);

interface Case {
  readonly template: TemplateName;
  readonly name: string;
  /** Given with --endpoint-type; else the template's default is expected. */
  readonly endpointType?: string;
}

const cases: readonly Case[] = [
  { template: 'polling', name: 'http-thermostat', endpointType: 'Contoso.Thermostat' },
  { template: 'event-driven', name: 'tcp-thermostat' },
  { template: 'rest', name: 'rest-thermostat', endpointType: 'Contoso.RestThermostat' },
  { template: 'sse', name: 'sse-thermostat' },
];

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment of child processes, without what the test runner sets for its workers. */
const childEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !/^(?:VITEST|TINYPOOL|NODE_OPTIONS$)/u.test(key)),
);

function exec(
  args: readonly string[],
  options: { readonly cwd?: string; readonly env?: NodeJS.ProcessEnv } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: options.cwd ?? repo,
      env: { ...childEnv, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      resolve({ code, stdout, stderr });
    });
  });
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile() && !entry.parentPath.includes(`${sep}node_modules`))
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort();
}

async function link(target: string, path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await symlink(target, path, 'junction');
}

/** Points every dependency of a generated project at the workspace, as an install would. */
async function linkDependencies(project: string): Promise<void> {
  const manifest = JSON.parse(await readFile(join(project, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  for (const name of Object.keys({ ...manifest.dependencies, ...manifest.devDependencies })) {
    const target = name.startsWith('@aio-connector/')
      ? join(repo, 'packages', name.slice('@aio-connector/'.length))
      : join(repo, 'node_modules', ...name.split('/'));
    await link(target, join(project, 'node_modules', ...name.split('/')));
  }
}

let root: string;
const runs = new Map<TemplateName, Run>();
const projectOf = (template: TemplateName) => join(root, template);
const workspaceSources = () => pathToFileURL(join(root, 'workspace-sources.mjs')).href;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'create-aio-connector-e2e-'));
  await Promise.all(
    cases.map(async ({ template, name, endpointType }) => {
      const run = await exec([
        '--conditions=aio-connector-source',
        cli,
        projectOf(template),
        '--template',
        template,
        '--name',
        name,
        ...(endpointType === undefined ? [] : ['--endpoint-type', endpointType]),
        '--yes',
        '--no-install',
        '--no-git',
      ]);
      runs.set(template, run);
      if (run.code === 0) await linkDependencies(projectOf(template));
    }),
  );
  // one program checks the four projects with their own compiler options (identical, see below)
  await writeFile(
    join(root, 'tsconfig.json'),
    JSON.stringify({
      extends: './polling/tsconfig.json',
      compilerOptions: { customConditions: ['aio-connector-source'] },
      include: ['*/src', '*/test', '*/tools'],
    }),
  );
  await link(
    join(repo, 'node_modules', '@types', 'node'),
    join(root, 'node_modules', '@types', 'node'),
  );
  await writeFile(
    join(root, 'vitest.config.mjs'),
    `export default {
  resolve: { conditions: ['aio-connector-source'] },
  ssr: { resolve: { conditions: ['aio-connector-source'] } },
  test: { include: ['*/test/**/*.test.ts'], testTimeout: 30000 },
};\n`,
  );
  await writeFile(join(root, 'ready'), '');
  // At run time, the workspace packages resolve to their TypeScript sources (the
  // aio-connector-source condition, applied to them only).
  await writeFile(
    join(root, 'workspace-sources.mjs'),
    `import { registerHooks } from 'node:module';
registerHooks({
  resolve(specifier, context, next) {
    if (!specifier.startsWith('@aio-connector/')) return next(specifier, context);
    return next(specifier, { ...context, conditions: ['aio-connector-source', ...context.conditions] });
  },
});\n`,
  );
}, 120_000);

afterAll(async () => {
  if (root !== undefined) await rm(root, { recursive: true, force: true });
});

describe.each(cases)('the $template template', ({ template, name, endpointType }) => {
  const project = () => projectOf(template);
  const expectedEndpointType = endpointType ?? templates[template].defaultEndpointType;

  it('is created by the CLI with every template file', async () => {
    const run = runs.get(template);
    expect(run?.stderr).toBe('');
    expect(run?.code).toBe(0);
    expect(run?.stdout).toContain(`Created the ${template} connector "${name}"`);
    expect(run?.stdout).toContain('Next steps:');
    const expected = (await listFiles(join(templatesRoot(), template)))
      .map((path) => {
        const parts = path.split('/');
        const last = parts.pop() ?? '';
        return [...parts, renamedFiles[last] ?? last].join('/');
      })
      .sort();
    expect(await listFiles(project())).toEqual(expected);
    const manifest = JSON.parse(await readFile(join(project(), 'package.json'), 'utf8'));
    expect(manifest.name).toBe(name);
    for (const pkg of templates[template].packages)
      expect(manifest.dependencies[pkg], pkg).toBe(generatorVersion);
    expect(await readFile(join(project(), 'tsconfig.json'), 'utf8')).toBe(
      await readFile(join(projectOf('polling'), 'tsconfig.json'), 'utf8'),
    );
  });

  it('answers the readiness probe from its entry point', async () => {
    const probe = (file: string) =>
      exec(['--import', workspaceSources(), join(project(), 'src', 'main.ts'), 'readiness-probe'], {
        cwd: project(),
        env: { AIO_CONNECTOR_READINESS_FILE: file },
      });
    const ready = await probe(join(root, 'ready'));
    expect(ready.stderr).toBe('');
    expect(ready.code).toBe(0);
    expect((await probe(join(root, 'not-ready'))).code).toBe(1);
  });

  it('has connector metadata the devkit validator accepts without a warning', async () => {
    const file = join(project(), 'connector-metadata.json');
    const result = await validateConnectorMetadataFile(file);
    expect(result.problems).toEqual([]);
    expect(result.valid).toBe(true);
    const metadata = result.metadata as {
      name: string;
      imageConfigurationSettings: { readinessProbe: { exec: { command: string[] } } };
      inboundEndpoints: { endpointType: string }[];
    };
    expect(metadata.name).toBe(name);
    expect(metadata.inboundEndpoints.map((e) => e.endpointType)).toEqual([expectedEndpointType]);
    expect(metadata.imageConfigurationSettings.readinessProbe.exec.command).toEqual([
      'node',
      'dist/main.js',
      'readiness-probe',
    ]);
  });

  it.skipIf(!haveOfficialSchema)('has connector metadata valid against the official schema', () => {
    const validate = new Ajv({ allErrors: true }).compile(
      JSON.parse(readFileSync(officialSchemaFile, 'utf8')) as object,
    );
    const metadata: unknown = JSON.parse(
      readFileSync(join(project(), 'connector-metadata.json'), 'utf8'),
    );
    const valid = validate(metadata);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });
});

describe('the generated projects', () => {
  it('typecheck against the workspace SDK', async () => {
    const run = await exec([join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', root]);
    expect(run.stdout + run.stderr).toBe('');
    expect(run.code).toBe(0);
  }, 120_000);

  it('pass the tests they ship', async () => {
    const report = join(root, 'vitest-report.json');
    const run = await exec(
      [
        join(repo, 'node_modules', 'vitest', 'vitest.mjs'),
        'run',
        '--root',
        root,
        '--config',
        join(root, 'vitest.config.mjs'),
        '--reporter=json',
        `--outputFile=${report}`,
      ],
      { cwd: root },
    );
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const results = JSON.parse(await readFile(report, 'utf8')) as {
      numFailedTests: number;
      numPassedTests: number;
      testResults: { name: string; status: string }[];
    };
    expect(results.numFailedTests).toBe(0);
    const files = results.testResults
      .map((r) => relative(root, r.name).split(sep).join('/'))
      .sort();
    expect(files).toEqual([
      'event-driven/test/line-reader.test.ts',
      'event-driven/test/project.test.ts',
      'polling/test/http-sampler.test.ts',
      'polling/test/project.test.ts',
      'rest/test/project.test.ts',
      'sse/test/project.test.ts',
    ]);
    expect(results.testResults.every((r) => r.status === 'passed')).toBe(true);
    expect(results.numPassedTests).toBeGreaterThanOrEqual(18);
  }, 120_000);

  it('build: the polling project compiles to dist/ and dist/main.js answers the probe', async () => {
    const project = projectOf('polling');
    // the sources were type-checked above: this checks the build configuration and its output
    const build = await exec([
      join(repo, 'node_modules', 'typescript', 'bin', 'tsc'),
      '-p',
      join(project, 'tsconfig.build.json'),
      '--customConditions',
      'aio-connector-source',
      '--noCheck',
    ]);
    expect(build.stdout + build.stderr).toBe('');
    expect(build.code).toBe(0);
    expect((await listFiles(join(project, 'dist'))).filter((f) => f.endsWith('.js'))).toEqual([
      'http-polling-connector.js',
      'http-sampler.js',
      'main.js',
    ]);
    const probe = await exec(['--import', workspaceSources(), 'dist/main.js', 'readiness-probe'], {
      cwd: project,
      env: { AIO_CONNECTOR_READINESS_FILE: join(root, 'ready') },
    });
    expect(probe.code).toBe(0);
  }, 120_000);
});
