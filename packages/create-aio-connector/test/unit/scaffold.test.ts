import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { TargetNotEmptyError, defaultConnectorName, scaffold } from '../../src/scaffold.ts';
import { renamedFiles, templateNames, templates, templatesRoot } from '../../src/templates.ts';
import { generatorVersion, toolVersions } from '../../src/versions.ts';

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'create-aio-connector-unit-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Every file under `dir`, relative, with `/` separators, sorted. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join('/'))
    .sort();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON, checked by the assertions
type Json = any;
const json = async (path: string): Promise<Json> => JSON.parse(await readFile(path, 'utf8'));

describe('scaffold', () => {
  it.each(templateNames)(
    'copies every file of the %s template, with _gitignore and _dockerignore renamed',
    async (template) => {
      const dir = join(await tempDir(), 'project');
      const result = await scaffold({ dir, template });
      const source = join(templatesRoot(), template);
      const expected = (await listFiles(source))
        .map((path) => {
          const parts = path.split('/');
          const last = parts.pop() ?? '';
          return [...parts, renamedFiles[last] ?? last].join('/');
        })
        .sort();
      expect(await listFiles(dir)).toEqual(expected);
      expect(result.files).toEqual(expected);
      expect(expected).toContain('.gitignore');
      expect(expected).toContain('.dockerignore');
      expect(expected.some((path) => path.split('/').some((part) => part.startsWith('_')))).toBe(
        false,
      );
      expect(await readFile(join(dir, '.gitignore'), 'utf8')).toBe(
        await readFile(join(source, '_gitignore'), 'utf8'),
      );
    },
  );

  it('fills the placeholders in package.json, the metadata and the resources', async () => {
    const dir = join(await tempDir(), 'thermostat');
    await scaffold({
      dir,
      template: 'rest',
      name: 'rest-thermostat',
      endpointType: 'Contoso.Thermostat',
      sdkVersion: '1.2.3',
    });
    const manifest = await json(join(dir, 'package.json'));
    expect(manifest.name).toBe('rest-thermostat');
    expect(manifest.dependencies).toEqual({
      '@aio-connector/core': '1.2.3',
      '@aio-connector/rest': '1.2.3',
    });
    expect(manifest.devDependencies).toEqual({
      '@aio-connector/devkit': '1.2.3',
      '@types/node': toolVersions['@types/node'],
      typescript: toolVersions.typescript,
      vitest: toolVersions.vitest,
    });
    expect(manifest.aioConnector).toEqual({ template: 'rest', generatorVersion });
    const metadata = await json(join(dir, 'connector-metadata.json'));
    expect(metadata.name).toBe('rest-thermostat');
    expect(metadata.imageConfigurationSettings.imageName).toBe('rest-thermostat');
    expect(metadata.inboundEndpoints[0].endpointType).toBe('Contoso.Thermostat');
    expect(await readFile(join(dir, 'resources', 'device.yaml'), 'utf8')).toContain(
      "endpointType: 'Contoso.Thermostat'",
    );
    for (const file of await listFiles(dir))
      expect(await readFile(join(dir, file), 'utf8'), file).not.toMatch(/\{\{|\}\}/);
  });

  it('copies files without placeholders byte for byte', async () => {
    const dir = join(await tempDir(), 'project');
    await scaffold({ dir, template: 'event-driven' });
    const source = join(templatesRoot(), 'event-driven');
    for (const file of ['Dockerfile', 'src/line-reader.ts', 'tsconfig.json'])
      expect(await readFile(join(dir, file)), file).toEqual(await readFile(join(source, file)));
  });

  it('uses the defaults: name from the folder, polling, the endpoint type of the template', async () => {
    const dir = join(await tempDir(), 'My Thermostat');
    const result = await scaffold({ dir });
    expect(result).toMatchObject({
      dir,
      template: 'polling',
      name: 'my-thermostat',
      endpointType: templates.polling.defaultEndpointType,
      sdkVersion: generatorVersion,
    });
    expect((await json(join(dir, 'package.json'))).name).toBe('my-thermostat');
  });

  it('refuses a folder that is not empty, and writes nothing', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'notes.txt'), 'mine');
    const attempt = scaffold({ dir });
    await expect(attempt).rejects.toBeInstanceOf(TargetNotEmptyError);
    await expect(attempt).rejects.toMatchObject({
      code: 'ERR_TARGET_NOT_EMPTY',
      dir,
      entries: ['notes.txt'],
      message: expect.stringMatching(/is not empty \(notes\.txt\).*--force/),
    });
    expect(await listFiles(dir)).toEqual(['notes.txt']);
  });

  it('counts a folder holding only .git as empty', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, '.git'));
    await writeFile(join(dir, '.git', 'HEAD'), 'ref: refs/heads/main\n');
    const result = await scaffold({ dir, name: 'thermostat' });
    expect(result.files).toContain('package.json');
    expect(await readFile(join(dir, '.git', 'HEAD'), 'utf8')).toBe('ref: refs/heads/main\n');
  });

  it('with force, writes into a folder that is not empty and keeps the other files', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'notes.txt'), 'mine');
    await writeFile(join(dir, 'package.json'), '{}');
    await scaffold({ dir, name: 'thermostat', force: true });
    expect(await readFile(join(dir, 'notes.txt'), 'utf8')).toBe('mine');
    expect((await json(join(dir, 'package.json'))).name).toBe('thermostat');
  });

  it('refuses a target that is a file', async () => {
    const file = join(await tempDir(), 'file');
    await writeFile(file, '');
    await expect(scaffold({ dir: file })).rejects.toThrow(/exists and is not a folder/);
  });

  it.each([
    [{ name: 'Thermostat' }, RangeError, /upper-case/],
    [{ endpointType: 'thermostat' }, RangeError, /Vendor\.Type/],
    [
      { template: 'modbus' },
      RangeError,
      /template must be one of polling, event-driven, rest, sse/,
    ],
    [{ sdkVersion: '0.1' }, RangeError, /SDK version "0\.1"/],
    [{ force: 'yes' }, TypeError, /force must be a boolean/],
  ] as const)('rejects %o before writing anything', async (options, type, message) => {
    const dir = join(await tempDir(), 'project');
    const attempt = scaffold({ dir, ...(options as object) });
    await expect(attempt).rejects.toBeInstanceOf(type);
    await expect(attempt).rejects.toThrow(message);
    await expect(readdir(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('rejects a missing or empty dir', async () => {
    await expect(scaffold({} as never)).rejects.toThrow(TypeError);
    await expect(scaffold({ dir: '' })).rejects.toThrow(RangeError);
  });

  it('stops when the signal is aborted', async () => {
    const dir = join(await tempDir(), 'project');
    await expect(scaffold({ dir, signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
    });
    await expect(readdir(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('defaultConnectorName', () => {
  it('makes the folder name valid, or falls back to my-connector', () => {
    expect(defaultConnectorName('/tmp/Thermostat Connector')).toBe('thermostat-connector');
    expect(defaultConnectorName('/tmp/***')).toBe('my-connector');
  });
});

describe('versions', () => {
  it('gives generated projects the tool versions the SDK is built with', async () => {
    const root = await json(new URL('../../../../package.json', import.meta.url).pathname);
    for (const [name, version] of Object.entries(toolVersions))
      expect(version, name).toBe(root.devDependencies[name]);
  });

  it('is the version of the package, which the SDK packages share', async () => {
    const own = await json(new URL('../../package.json', import.meta.url).pathname);
    const core = await json(new URL('../../../core/package.json', import.meta.url).pathname);
    expect(generatorVersion).toBe(own.version);
    expect(generatorVersion).toBe(core.version);
  });
});

describe('the rest and sse templates', () => {
  it.each(['rest', 'sse'] as const)(
    'ship the connector metadata of @aio-connector/%s, with their own name and image',
    async (template) => {
      const dir = join(await tempDir(), 'project');
      await scaffold({ dir, template, name: 'my-connector', endpointType: 'Contoso.Device' });
      const generated = await json(join(dir, 'connector-metadata.json'));
      const packaged = await json(
        new URL(`../../../${template}/connector-metadata.json`, import.meta.url).pathname,
      );
      expect(generated.name).toBe('my-connector');
      expect(generated.imageConfigurationSettings.readinessProbe.exec.command).toEqual([
        'node',
        'dist/main.js',
        'readiness-probe',
      ]);
      expect(generated.inboundEndpoints[0].endpointType).toBe('Contoso.Device');
      // everything else, the configuration keys and schemas above all, is the package's
      const own = (metadata: Json): Json => {
        const copy = structuredClone(metadata);
        delete copy.name;
        delete copy.version;
        delete copy.sourceCode;
        delete copy.imageConfigurationSettings.imageName;
        delete copy.imageConfigurationSettings.tag;
        delete copy.imageConfigurationSettings.readinessProbe.exec;
        delete copy.inboundEndpoints[0].endpointType;
        return copy;
      };
      expect(own(generated)).toEqual(own(packaged));
    },
  );
});
