/**
 * The sandbox configuration file (`aio-connector dev --config sandbox.yaml`): the resources,
 * secrets, broker, connectors and sample servers of a {@link Sandbox} in one YAML (or JSON) file,
 * with paths relative to the file. Every mistake is reported with the file, line and field.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigError } from '@aio-connector/core';
import { LineCounter, isMap, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import type { SampleServerAuth } from '../sample-servers/sample-http.ts';
import type { SandboxConnector, SandboxOptions, SandboxSampleServer } from './sandbox.ts';

/**
 * Splits a command line into arguments as a POSIX shell would, without running a shell: words are
 * separated by white space, `'…'` keeps everything literally, `"…"` keeps everything but `\"` and
 * `\\`, and a backslash outside quotes escapes the next character. No variables, globs or pipes.
 *
 * @example
 * ```ts
 * import { splitCommandLine } from '@aio-connector/devkit';
 * splitCommandLine(`node --conditions=aio-connector-source "my dir/main.ts"`);
 * // ['node', '--conditions=aio-connector-source', 'my dir/main.ts']
 * ```
 */
export function splitCommandLine(line: string): string[] {
  if (typeof line !== 'string') throw new TypeError('line must be a string');
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const char = line[i] as string;
    if (quote === "'") {
      if (char === "'") quote = undefined;
      else word += char;
      continue;
    }
    if (quote === '"') {
      if (char === '"') quote = undefined;
      else if (char === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\'))
        word += line[++i] as string;
      else word += char;
      continue;
    }
    if (char === "'" || char === '"') {
      quote = char;
      inWord = true;
    } else if (char === '\\' && i + 1 < line.length) {
      word += line[++i] as string;
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += char;
      inWord = true;
    }
  }
  if (quote !== undefined) throw new RangeError(`unterminated ${quote} quote in: ${line}`);
  if (inWord) words.push(word);
  return words;
}

/**
 * Reads a `--connector` argument: `NAME=COMMAND` or `NAME:TYPE[,TYPE…]=COMMAND`, where the types
 * are the device endpoint types the connector serves and the command is split as a shell would.
 *
 * @example
 * ```ts
 * import { parseConnectorArgument } from '@aio-connector/devkit';
 * parseConnectorArgument('rest:Microsoft.Rest=node dist/main.js');
 * // { name: 'rest', endpointTypes: ['Microsoft.Rest'], command: ['node', 'dist/main.js'] }
 * ```
 */
export function parseConnectorArgument(argument: string): SandboxConnector {
  if (typeof argument !== 'string') throw new TypeError('argument must be a string');
  const equals = argument.indexOf('=');
  if (equals <= 0)
    throw new RangeError(
      `expected NAME=COMMAND or NAME:TYPE,...=COMMAND, received ${JSON.stringify(argument)}`,
    );
  const head = argument.slice(0, equals);
  const command = splitCommandLine(argument.slice(equals + 1));
  if (command.length === 0)
    throw new RangeError(`the connector ${JSON.stringify(head)} has an empty command`);
  const colon = head.indexOf(':');
  const name = colon === -1 ? head : head.slice(0, colon);
  const endpointTypes =
    colon === -1
      ? undefined
      : head
          .slice(colon + 1)
          .split(',')
          .map((type) => type.trim())
          .filter((type) => type !== '');
  return {
    name,
    command,
    ...(endpointTypes === undefined || endpointTypes.length === 0 ? {} : { endpointTypes }),
  };
}

type Json = Record<string, unknown>;
type Path = readonly (string | number)[];

function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class Reader {
  readonly problems: string[] = [];
  readonly #file: string;
  readonly #doc: Document;
  readonly #counter: LineCounter;

  constructor(file: string, doc: Document, counter: LineCounter) {
    this.#file = file;
    this.#doc = doc;
    this.#counter = counter;
  }

  #line(path: Path): number {
    let node: unknown = this.#doc.contents;
    let offset = this.#doc.contents?.range?.[0] ?? 0;
    for (const key of path) {
      if (isMap(node)) {
        const pair = node.items.find((item) => isScalar(item.key) && item.key.value === key);
        if (pair === undefined) break;
        offset = (pair.key as { range?: [number, number, number] } | null)?.range?.[0] ?? offset;
        node = pair.value;
      } else if (isSeq(node) && typeof key === 'number') {
        const item = node.items[key] as { range?: [number, number, number] } | undefined;
        if (item === undefined) break;
        offset = item.range?.[0] ?? offset;
        node = item;
      } else break;
    }
    return this.#counter.linePos(offset).line;
  }

  problem(path: Path, message: string): void {
    const field = path
      .map((part, index) =>
        typeof part === 'number' ? `[${part}]` : index === 0 ? part : `.${part}`,
      )
      .join('');
    this.problems.push(
      `${this.#file}:${this.#line(path)}: ${field === '' ? '' : `${field}: `}${message}`,
    );
  }

  object(value: unknown, path: Path, allowed: readonly string[]): Json | undefined {
    if (!isRecord(value)) {
      this.problem(path, `expected an object, found ${describe(value)}`);
      return undefined;
    }
    for (const key of Object.keys(value))
      if (!allowed.includes(key))
        this.problem([...path, key], `unknown field (expected one of ${allowed.join(', ')})`);
    return value;
  }

  string(value: unknown, path: Path): string | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value === '') {
      this.problem(path, `expected a non-empty string, found ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  integer(value: unknown, path: Path, min: number, max: number): number | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.problem(path, `expected a whole number from ${min} to ${max}, found ${describe(value)}`);
      return undefined;
    }
    return value;
  }

  strings(value: unknown, path: Path): string[] | undefined {
    if (value === undefined) return undefined;
    const list = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(list) || list.some((item) => typeof item !== 'string' || item === '')) {
      this.problem(path, `expected a string or a list of strings, found ${describe(value)}`);
      return undefined;
    }
    return list as string[];
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

const topFields = ['resources', 'secrets', 'broker', 'connectors', 'sampleServers'] as const;
const brokerFields = ['url', 'host', 'port', 'ca'] as const;
const connectorFields = [
  'name',
  'command',
  'cwd',
  'env',
  'endpointTypes',
  'additionalConfiguration',
  'logLevel',
] as const;
const serverFields = [
  'name',
  'kind',
  'host',
  'port',
  'auth',
  'tls',
  'address',
  'shareStateWith',
  'intervalInMs',
] as const;

/** What {@link loadSandboxConfig} returns. */
export interface SandboxConfig {
  /** The file read (absolute). */
  readonly file: string;
  /** The sandbox options, with every path resolved against the file's folder. */
  readonly options: SandboxOptions;
}

/**
 * Reads a sandbox configuration file:
 *
 * ```yaml
 * resources: [resources]                # Device/Asset YAML files or folders
 * secrets: secrets                      # <secrets>/<secret>/<key>, <secrets>/<trust list>
 * broker: { port: 0 }                   # or { url: mqtt://host:1883, ca: ca.pem }
 * connectors:
 *   - name: rest
 *     command: node --conditions=aio-connector-source packages/rest/src/main.ts   # or a list of arguments
 *     cwd: ../..
 *     endpointTypes: [Microsoft.Rest]
 *     additionalConfiguration: { userAgent: demo }                   # object or JSON text
 *     logLevel: info
 * sampleServers:
 *   - { name: thermostat, kind: thermostat, address: http://thermostat.demo.svc.cluster.local }
 *   - { name: events, kind: thermostat-events, shareStateWith: thermostat }
 * ```
 *
 * Relative paths (`resources`, `secrets`, `cwd`, `broker.ca`, sample server `tls` files) are
 * relative to the file. Rejects with one `ConfigError` listing every problem as
 * `file:line: field: message`.
 *
 * @example
 * ```ts
 * import { Sandbox, loadSandboxConfig } from '@aio-connector/devkit';
 * const { options } = await loadSandboxConfig('examples/demo/sandbox.yaml');
 * await using sandbox = new Sandbox(options);
 * await sandbox.start();
 * ```
 */
export async function loadSandboxConfig(path: string): Promise<SandboxConfig> {
  if (typeof path !== 'string' || path === '')
    throw new TypeError('path must be a non-empty string');
  const file = resolve(path);
  const base = dirname(file);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `cannot read the sandbox configuration ${path}: ${(error as Error).message}`,
      {
        source: path,
        cause: error,
      },
    );
  }
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false });
  if (doc.errors.length > 0)
    throw new ConfigError(
      doc.errors
        .map(
          (error) =>
            `${path}:${counter.linePos(error.pos[0]).line}: YAML syntax error: ${error.message}`,
        )
        .join('\n'),
      { source: path },
    );
  const reader = new Reader(path, doc, counter);
  const root = reader.object(doc.toJS() ?? {}, [], topFields);
  const options: { -readonly [K in keyof SandboxOptions]: SandboxOptions[K] } = {};
  const pathsFrom = async (paths: string[]): Promise<string[]> => {
    const out: string[] = [];
    for (const item of paths)
      try {
        out.push(await readFile(resolve(base, item), 'utf8'));
      } catch (error) {
        reader.problem([], `cannot read ${item}: ${(error as Error).message}`);
      }
    return out;
  };
  if (root !== undefined) {
    const resources = reader.strings(root['resources'], ['resources']);
    if (resources !== undefined)
      options['resources'] = resources.map((item) => resolve(base, item));
    const secrets = reader.string(root['secrets'], ['secrets']);
    if (secrets !== undefined) options['secrets'] = resolve(base, secrets);
    if (root['broker'] !== undefined) {
      const broker = reader.object(root['broker'], ['broker'], brokerFields);
      if (broker !== undefined) {
        const url = reader.string(broker['url'], ['broker', 'url']);
        if (url !== undefined && !/^mqtts?:\/\/[^/]+/.test(url))
          reader.problem(
            ['broker', 'url'],
            `expected mqtt://host:port or mqtts://host:port, found ${JSON.stringify(url)}`,
          );
        const host = reader.string(broker['host'], ['broker', 'host']);
        const port = reader.integer(broker['port'], ['broker', 'port'], 0, 65_535);
        const ca = reader.strings(broker['ca'], ['broker', 'ca']);
        options['broker'] = {
          ...(url === undefined ? {} : { url }),
          ...(host === undefined ? {} : { host }),
          ...(port === undefined ? {} : { port }),
          ...(ca === undefined ? {} : { caCertificates: await pathsFrom(ca) }),
        };
      }
    }
    if (root['connectors'] !== undefined) {
      if (!Array.isArray(root['connectors']))
        reader.problem(['connectors'], `expected a list, found ${describe(root['connectors'])}`);
      else
        options['connectors'] = root['connectors'].flatMap((value: unknown, index) => {
          const at = ['connectors', index];
          const connector = reader.object(value, at, connectorFields);
          if (connector === undefined) return [];
          const name = reader.string(connector['name'], [...at, 'name']);
          if (name === undefined) reader.problem(at, 'name is required');
          let command: string[] | undefined;
          const raw = connector['command'];
          if (typeof raw === 'string')
            try {
              command = splitCommandLine(raw);
            } catch (error) {
              reader.problem([...at, 'command'], (error as Error).message);
            }
          else command = reader.strings(raw, [...at, 'command']);
          if (command === undefined || command.length === 0) {
            reader.problem([...at, 'command'], 'a command is required');
            return [];
          }
          const cwd = reader.string(connector['cwd'], [...at, 'cwd']);
          const endpointTypes = reader.strings(connector['endpointTypes'], [
            ...at,
            'endpointTypes',
          ]);
          const logLevel = reader.string(connector['logLevel'], [...at, 'logLevel']);
          const additional = connector['additionalConfiguration'];
          let additionalConfiguration: string | undefined;
          if (typeof additional === 'string') additionalConfiguration = additional;
          else if (isRecord(additional)) additionalConfiguration = JSON.stringify(additional);
          else if (additional !== undefined)
            reader.problem(
              [...at, 'additionalConfiguration'],
              `expected an object or JSON text, found ${describe(additional)}`,
            );
          const env = connector['env'];
          if (
            env !== undefined &&
            (!isRecord(env) || Object.values(env).some((item) => typeof item !== 'string'))
          )
            reader.problem([...at, 'env'], 'expected an object of strings');
          if (name === undefined) return [];
          const spec: SandboxConnector = {
            name,
            command,
            ...(cwd === undefined ? {} : { cwd: resolve(base, cwd) }),
            ...(isRecord(env) ? { env: env as Record<string, string> } : {}),
            ...(endpointTypes === undefined ? {} : { endpointTypes }),
            ...(additionalConfiguration === undefined ? {} : { additionalConfiguration }),
            ...(logLevel === undefined ? {} : { logLevel }),
          };
          return [spec];
        });
    }
    if (root['sampleServers'] !== undefined) {
      if (!Array.isArray(root['sampleServers']))
        reader.problem(
          ['sampleServers'],
          `expected a list, found ${describe(root['sampleServers'])}`,
        );
      else {
        const servers: SandboxSampleServer[] = [];
        for (const [index, value] of (root['sampleServers'] as unknown[]).entries()) {
          const at = ['sampleServers', index];
          const server = reader.object(value, at, serverFields);
          if (server === undefined) continue;
          const name = reader.string(server['name'], [...at, 'name']);
          const kind = server['kind'];
          if (kind !== 'thermostat' && kind !== 'thermostat-events') {
            reader.problem(
              [...at, 'kind'],
              `expected "thermostat" or "thermostat-events", found ${describe(kind)}`,
            );
            continue;
          }
          if (name === undefined) {
            reader.problem(at, 'name is required');
            continue;
          }
          const host = reader.string(server['host'], [...at, 'host']);
          const port = reader.integer(server['port'], [...at, 'port'], 0, 65_535);
          const address = reader.string(server['address'], [...at, 'address']);
          const shareStateWith = reader.string(server['shareStateWith'], [...at, 'shareStateWith']);
          const intervalInMs = reader.integer(
            server['intervalInMs'],
            [...at, 'intervalInMs'],
            0,
            3_600_000,
          );
          const auth = readAuth(reader, server['auth'], [...at, 'auth']);
          let tls: SandboxSampleServer['tls'];
          if (server['tls'] !== undefined) {
            const raw = reader.object(server['tls'], [...at, 'tls'], ['cert', 'key', 'ca']);
            const cert = reader.string(raw?.['cert'], [...at, 'tls', 'cert']);
            const key = reader.string(raw?.['key'], [...at, 'tls', 'key']);
            const ca = reader.string(raw?.['ca'], [...at, 'tls', 'ca']);
            if (raw !== undefined && (cert === undefined || key === undefined))
              reader.problem([...at, 'tls'], 'cert and key are required');
            else if (cert !== undefined && key !== undefined) {
              const [certPem, keyPem, caPem] = await pathsFrom([
                cert,
                key,
                ...(ca === undefined ? [] : [ca]),
              ]);
              if (certPem !== undefined && keyPem !== undefined)
                tls = { cert: certPem, key: keyPem, ...(caPem === undefined ? {} : { ca: caPem }) };
            }
          }
          servers.push({
            name,
            kind,
            ...(host === undefined ? {} : { host }),
            ...(port === undefined ? {} : { port }),
            ...(address === undefined ? {} : { address }),
            ...(shareStateWith === undefined ? {} : { shareStateWith }),
            ...(intervalInMs === undefined ? {} : { intervalInMs }),
            ...(auth === undefined ? {} : { auth }),
            ...(tls === undefined ? {} : { tls }),
          });
        }
        options['sampleServers'] = servers;
      }
    }
  }
  if (reader.problems.length > 0)
    throw new ConfigError(
      reader.problems.length === 1
        ? (reader.problems[0] as string)
        : `${reader.problems.length} problems in ${path}:\n${reader.problems.join('\n')}`,
      { source: path, details: { problems: reader.problems } },
    );
  return { file, options };
}

function readAuth(reader: Reader, value: unknown, path: Path): SampleServerAuth | undefined {
  if (value === undefined) return undefined;
  const auth = reader.object(value, path, ['kind', 'username', 'password', 'allowedSubjects']);
  if (auth === undefined) return undefined;
  switch (auth['kind']) {
    case 'anonymous':
      return { kind: 'anonymous' };
    case 'basic': {
      const username = reader.string(auth['username'], [...path, 'username']);
      const password = reader.string(auth['password'], [...path, 'password']);
      if (username === undefined || password === undefined) {
        reader.problem(path, 'basic authentication needs username and password');
        return undefined;
      }
      return { kind: 'basic', username, password };
    }
    case 'mtls': {
      const subjects = reader.strings(auth['allowedSubjects'], [...path, 'allowedSubjects']);
      return { kind: 'mtls', ...(subjects === undefined ? {} : { allowedSubjects: subjects }) };
    }
    default:
      reader.problem(
        [...path, 'kind'],
        `expected "anonymous", "basic" or "mtls", found ${describe(auth['kind'])}`,
      );
      return undefined;
  }
}
