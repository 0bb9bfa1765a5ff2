import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { isAioError } from '@aio-connector/core';
import { loadSandboxConfig, parseConnectorArgument, splitCommandLine } from '@aio-connector/devkit';

async function configFile(text: string, extra: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sandbox-config-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  for (const [name, contents] of Object.entries(extra)) await writeFile(join(dir, name), contents);
  const file = join(dir, 'sandbox.yaml');
  await writeFile(file, text);
  return file;
}

async function failure(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isAioError(error) && error.code).toBe('ERR_AIO_CONFIG');
  return (error as Error).message;
}

describe('splitCommandLine', () => {
  it('splits like a shell, without one', () => {
    expect(splitCommandLine('node --conditions=aio-connector-source "my dir/main.ts"')).toEqual([
      'node',
      '--conditions=aio-connector-source',
      'my dir/main.ts',
    ]);
    expect(splitCommandLine(`a 'b "c" \\d' "e \\"f\\" \\\\ g" h\\ i  ''`)).toEqual([
      'a',
      'b "c" \\d',
      'e "f" \\ g',
      'h i',
      '',
    ]);
    expect(splitCommandLine('  ')).toEqual([]);
  });

  it('rejects an unterminated quote', () => {
    expect(() => splitCommandLine('node "main.ts')).toThrow(RangeError);
  });
});

describe('parseConnectorArgument', () => {
  it('reads NAME=COMMAND and NAME:TYPES=COMMAND', () => {
    expect(parseConnectorArgument('memory=node --conditions=aio-connector-source main.ts')).toEqual(
      {
        name: 'memory',
        command: ['node', '--conditions=aio-connector-source', 'main.ts'],
      },
    );
    expect(parseConnectorArgument('rest:Microsoft.Rest, Contoso.Http=node dist/main.js')).toEqual({
      name: 'rest',
      endpointTypes: ['Microsoft.Rest', 'Contoso.Http'],
      command: ['node', 'dist/main.js'],
    });
  });

  it('rejects a missing name or command', () => {
    expect(() => parseConnectorArgument('node main.ts')).toThrow(/NAME=COMMAND/);
    expect(() => parseConnectorArgument('=node')).toThrow(RangeError);
    expect(() => parseConnectorArgument('rest=  ')).toThrow(/empty command/);
  });
});

describe('loadSandboxConfig', () => {
  it('resolves paths against the file and reads every section', async () => {
    const file = await configFile(
      `resources: [resources, more.yaml]
secrets: secrets
broker: { port: 0 }
connectors:
  - name: rest
    command: node --conditions=aio-connector-source packages/rest/src/main.ts
    cwd: ../..
    endpointTypes: [Microsoft.Rest]
    additionalConfiguration: { userAgent: demo }
    logLevel: debug
    env: { EXTRA: '1' }
  - name: other
    command: [node, main.js]
sampleServers:
  - name: thermostat
    kind: thermostat
    address: http://thermostat.demo.svc.cluster.local
    auth: { kind: basic, username: demo, password: pw }
  - { name: events, kind: thermostat-events, shareStateWith: thermostat, intervalInMs: 500 }
`,
    );
    const dir = join(file, '..');
    const { options } = await loadSandboxConfig(file);
    expect(options).toEqual({
      resources: [join(dir, 'resources'), join(dir, 'more.yaml')],
      secrets: join(dir, 'secrets'),
      broker: { port: 0 },
      connectors: [
        {
          name: 'rest',
          command: ['node', '--conditions=aio-connector-source', 'packages/rest/src/main.ts'],
          cwd: join(dir, '../..'),
          endpointTypes: ['Microsoft.Rest'],
          additionalConfiguration: '{"userAgent":"demo"}',
          logLevel: 'debug',
          env: { EXTRA: '1' },
        },
        { name: 'other', command: ['node', 'main.js'] },
      ],
      sampleServers: [
        {
          name: 'thermostat',
          kind: 'thermostat',
          address: 'http://thermostat.demo.svc.cluster.local',
          auth: { kind: 'basic', username: 'demo', password: 'pw' },
        },
        {
          name: 'events',
          kind: 'thermostat-events',
          shareStateWith: 'thermostat',
          intervalInMs: 500,
        },
      ],
    });
  });

  it('reports every mistake with file, line and field', async () => {
    const file = await configFile(
      `resources: resources
conectors: []
broker:
  port: 99999
sampleServers:
  - name: thermostat
    kind: toaster
connectors:
  - name: rest
`,
    );
    const message = await failure(loadSandboxConfig(file));
    expect(message).toContain(`4 problems in ${file}:`);
    expect(message).toContain(
      `${file}:2: conectors: unknown field (expected one of resources, secrets, broker, connectors, sampleServers)`,
    );
    expect(message).toContain(
      `${file}:4: broker.port: expected a whole number from 0 to 65535, found number 99999`,
    );
    expect(message).toContain(
      `${file}:7: sampleServers[0].kind: expected "thermostat" or "thermostat-events", found string "toaster"`,
    );
    expect(message).toContain(`${file}:9: connectors[0].command: a command is required`);
  });

  it('reports YAML syntax errors and unreadable files', async () => {
    const file = await configFile('resources: [a\nsecrets: b\n');
    expect(await failure(loadSandboxConfig(file))).toMatch(/sandbox\.yaml:\d+: YAML syntax error/);
    expect(await failure(loadSandboxConfig(join(file, '..', 'missing.yaml')))).toMatch(
      /cannot read the sandbox configuration .*missing\.yaml/,
    );
  });
});
