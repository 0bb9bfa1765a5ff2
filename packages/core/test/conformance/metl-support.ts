/**
 * Reading METL test cases (YAML + defaults.toml) and the checks shared by the four testers.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ProtocolError } from '../../src/errors.ts';
import type { OutgoingMessage } from '../../src/mqtt/mqtt-client.ts';
import { formatIsoDuration } from '../../src/protocol/command-status.ts';
import { isProtocolError } from '../../src/protocol/protocol-support.ts';
import {
  unsupportedContentType,
  type PayloadSerializer,
  type SerializedPayload,
} from '../../src/protocol/serializers.ts';
import { getUserProperty } from '../../src/protocol/user-properties.ts';

export type Yaml = Record<string, unknown>;

/** A check of the test case did not hold: the component (or, for sanity cases, the case) is wrong. */
export class MetlCheckFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetlCheckFailure';
  }
}

export function fail(message: string): never {
  throw new MetlCheckFailure(message);
}

/** How long the harness waits for a publication, an acknowledgement or a completion. */
export const waitTimeoutInMs = 30_000;

/** The features this SDK supports (METL `requires:`); every one except `unobtanium`. */
export const supportedFeatures: ReadonlySet<string> = new Set([
  'ack-ordering',
  'topic-filtering',
  'reconnection',
  'caching',
  'dispatch',
  'explicit-default',
  'multiple-serializers',
]);

export const components = [
  'CommandExecutor',
  'CommandInvoker',
  'TelemetryReceiver',
  'TelemetrySender',
] as const;
export type Component = (typeof components)[number];

export interface MetlCase {
  readonly name: string;
  readonly file: string;
  readonly requires: readonly string[];
  readonly prologue: Yaml;
  readonly actions: readonly Yaml[];
  readonly epilogue: Yaml | undefined;
}

/** The METL folder beside the repository (`../shared/aio/metl`), or `undefined` when absent. */
export function metlRoot(): string | undefined {
  const root = new URL('../../../../../shared/aio/metl/', import.meta.url).pathname;
  return existsSync(join(root, 'Protocol')) ? root : undefined;
}

export function loadCases(folder: string): MetlCase[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((file) => file.endsWith('.yaml'))
    .sort()
    .map((file) => {
      const doc = parseYaml(readFileSync(join(folder, file), 'utf8')) as Yaml;
      const requires = (doc['requires'] ?? []) as string[];
      return {
        name: basename(file, '.yaml'),
        file: join(folder, file),
        requires,
        prologue: (doc['prologue'] ?? {}) as Yaml,
        actions: (doc['actions'] ?? []) as Yaml[],
        epilogue: doc['epilogue'] as Yaml | undefined,
      };
    });
}

/**
 * Reads the small TOML subset of `defaults.toml` (tables, `key = value` with strings, numbers,
 * booleans, arrays and inline tables) by turning each value into YAML flow syntax.
 */
export function loadDefaults(file: string): Yaml {
  const root: Yaml = {};
  let table = root;
  for (const raw of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      table = root;
      for (const part of (header[1] as string).split('.')) {
        table[part] ??= {};
        table = table[part] as Yaml;
      }
      continue;
    }
    const equals = line.indexOf('=');
    const key = line.slice(0, equals).trim().replace(/^"|"$/g, '');
    table[key] = parseYaml(tomlValueToYaml(line.slice(equals + 1).trim()));
  }
  return root;
}

function tomlValueToYaml(value: string): string {
  let out = '';
  let quote: string | undefined;
  for (const char of value) {
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      out += char;
    } else if (char === '"' || char === "'") {
      quote = char;
      out += char;
    } else out += char === '=' ? ':' : char;
  }
  return out;
}

/** The value of `key` in `node`, or in `defaults` when `node` has no such key (null is kept). */
export function pick(node: Yaml, defaults: Yaml | undefined, key: string): unknown {
  if (Object.hasOwn(node, key)) return node[key];
  return defaults?.[key];
}

export function has(node: Yaml | undefined, key: string): boolean {
  return node !== undefined && Object.hasOwn(node, key);
}

/** Rejects keys the harness does not know, so that a case never passes by being half-read. */
export function knownKeys(node: Yaml, keys: readonly string[], where: string): void {
  for (const key of Object.keys(node))
    if (!keys.includes(key)) throw new Error(`METL harness: unsupported key '${key}' in ${where}`);
}

/** A METL Duration in milliseconds. */
export function durationInMs(value: unknown): number {
  const d = value as Record<string, number | undefined>;
  return (
    (d['hours'] ?? 0) * 3_600_000 +
    (d['minutes'] ?? 0) * 60_000 +
    (d['seconds'] ?? 0) * 1000 +
    (d['milliseconds'] ?? 0) +
    (d['microseconds'] ?? 0) / 1000
  );
}

export function stringMap(value: unknown): Record<string, string> {
  return { ...((value ?? {}) as Record<string, string>) };
}

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
export const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

export function expectEqual(actual: unknown, expected: unknown, what: string): void {
  if (actual !== expected)
    fail(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

/** METL property names are compared de-capitalized and de-separated; TS names carry units. */
function normalizePropertyName(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const last = name
    .slice(name.lastIndexOf('.') + 1)
    .toLowerCase()
    .replace(/[-_\s]/g, '');
  const withoutUnit = last.endsWith('inms') ? last.slice(0, -4) : last;
  // an invocation's timeout is the `timeoutInMs` option of `invoke`: METL calls it the command timeout
  return withoutUnit === 'timeout' ? 'commandtimeout' : withoutUnit;
}

/** Checks an error against a METL `catch`. */
export function checkCatch(expected: Yaml, error: unknown, where: string): void {
  knownKeys(
    expected,
    ['error-kind', 'is-shallow', 'is-remote', 'message', 'supplemental'],
    `${where} catch`,
  );
  if (!isProtocolError(error))
    fail(
      `${where}: expected a '${String(expected['error-kind'])}' ProtocolError, got ${String(error)}`,
    );
  const e: ProtocolError = error;
  expectEqual(e.kind, expected['error-kind'], `${where}: error kind`);
  if (has(expected, 'is-shallow'))
    expectEqual(e.isShallow, expected['is-shallow'], `${where}: is-shallow`);
  if (has(expected, 'is-remote'))
    expectEqual(e.isRemote, expected['is-remote'], `${where}: is-remote`);
  if (has(expected, 'message')) expectEqual(e.message, expected['message'], `${where}: message`);
  for (const [key, value] of Object.entries((expected['supplemental'] ?? {}) as Yaml)) {
    const label = `${where}: supplemental ${key}`;
    switch (key) {
      case 'header-name':
        expectEqual(e.headerName, value, label);
        break;
      case 'header-value':
        expectEqual(e.headerValue, value, label);
        break;
      case 'timeout-name':
        expectEqual(e.timeoutName?.toLowerCase(), value, label);
        break;
      case 'timeout-value':
        expectEqual(
          e.timeoutInMs === undefined ? undefined : formatIsoDuration(e.timeoutInMs),
          value,
          label,
        );
        break;
      case 'property-name':
        expectEqual(normalizePropertyName(e.propertyName), value, label);
        break;
      case 'property-value':
        expectEqual(
          typeof e.propertyValue === 'string' ? e.propertyValue : JSON.stringify(e.propertyValue),
          value,
          label,
        );
        break;
      case 'command-name':
        expectEqual(e.commandName, value, label);
        break;
      case 'protocol-version':
        expectEqual(e.protocolVersion, value, label);
        break;
      case 'supported-protocols':
        expectEqual(e.supportedMajorProtocolVersions?.join(' '), value, label);
        break;
      default:
        throw new Error(`METL harness: unsupported supplemental key '${key}' in ${where}`);
    }
  }
}

/** Runs `operation`; checks its error against `expected`, or that it succeeds when none is expected. */
export async function expectOutcome<T>(
  operation: () => Promise<T>,
  expected: Yaml | undefined,
  where: string,
): Promise<T | undefined> {
  let value: T;
  try {
    value = await operation();
  } catch (error) {
    if (error instanceof MetlCheckFailure) throw error;
    if (expected === undefined) fail(`${where}: unexpected error ${describeError(error)}`);
    checkCatch(expected, error, where);
    return undefined;
  }
  if (expected !== undefined)
    fail(`${where}: expected a '${String(expected['error-kind'])}' error, none raised`);
  return value;
}

export function describeError(error: unknown): string {
  if (isProtocolError(error)) return `${error.kind} (${error.message})`;
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Waits for a promise with the harness deadline. */
export async function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new MetlCheckFailure(`${what} did not happen within ${waitTimeoutInMs} ms`));
    }, waitTimeoutInMs);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The METL test serializer: UTF-8 strings, configured per component. */
export class MetlSerializer implements PayloadSerializer<string | null> {
  readonly #outContentType: string;
  readonly #acceptContentTypes: readonly string[];
  readonly #indicateCharacterData: boolean;
  readonly #allowCharacterData: boolean;
  readonly #failDeserialization: boolean;

  constructor(config: Yaml, defaults: Yaml) {
    knownKeys(
      config,
      [
        'out-content-type',
        'accept-content-types',
        'indicate-character-data',
        'allow-character-data',
        'fail-deserialization',
      ],
      'serializer',
    );
    this.#outContentType = pick(config, defaults, 'out-content-type') as string;
    this.#acceptContentTypes = pick(config, defaults, 'accept-content-types') as string[];
    this.#indicateCharacterData = pick(config, defaults, 'indicate-character-data') !== false;
    this.#allowCharacterData = pick(config, defaults, 'allow-character-data') !== false;
    this.#failDeserialization = pick(config, defaults, 'fail-deserialization') === true;
  }

  serialize(value: string | null): SerializedPayload {
    if (value === null) return { payload: new Uint8Array(0), payloadFormatIndicator: 0 };
    return {
      payload: utf8(value),
      contentType: this.#outContentType,
      payloadFormatIndicator: this.#indicateCharacterData ? 1 : 0,
    };
  }

  deserialize(
    payload: Uint8Array,
    contentType: string | undefined,
    formatIndicator: 0 | 1 | undefined,
  ): string {
    if (contentType !== undefined && !this.#acceptContentTypes.includes(contentType))
      throw unsupportedContentType(contentType);
    if (formatIndicator === 1 && !this.#allowCharacterData)
      throw new ProtocolError('invalid header', 'character data is not allowed', {
        headerName: 'Payload Format Indicator',
        headerValue: '1',
      });
    if (this.#failDeserialization)
      throw new ProtocolError('invalid payload', 'deserialization failed');
    // like the JSON-typed serializers of the reference testers, an empty payload holds no value
    if (payload.byteLength === 0)
      throw new ProtocolError('invalid payload', 'the payload is empty');
    return text(payload);
  }
}

/** A countdown event of the METL `sync` operations. */
export class CountdownEvent {
  #count: number;
  readonly #waiters = new Set<() => void>();

  constructor(count: number) {
    this.#count = count;
  }

  signal(): void {
    if (this.#count > 0) this.#count--;
    if (this.#count === 0) for (const waiter of [...this.#waiters]) waiter();
  }

  wait(signal?: AbortSignal): Promise<void> {
    if (this.#count === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (): void => {
        this.#waiters.delete(done);
        signal?.removeEventListener('abort', aborted);
        resolve();
      };
      const aborted = (): void => {
        this.#waiters.delete(done);
        reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      this.#waiters.add(done);
      signal?.addEventListener('abort', aborted, { once: true });
    });
  }
}

/** Checks one published message against a METL `published-messages` entry. */
export function checkPublishedMessage(
  message: OutgoingMessage,
  expected: Yaml,
  where: string,
): void {
  knownKeys(
    expected,
    [
      'correlation-index',
      'topic',
      'payload',
      'content-type',
      'format-indicator',
      'metadata',
      'source-id',
      'expiry',
      'command-status',
      'is-application-error',
    ],
    where,
  );
  const props = message.userProperties ?? [];
  if (has(expected, 'topic')) expectEqual(message.topic, expected['topic'], `${where}: topic`);
  if (has(expected, 'payload')) {
    const payload = expected['payload'];
    if (payload === null) expectEqual(message.payload.byteLength, 0, `${where}: payload length`);
    else expectEqual(text(message.payload), payload, `${where}: payload`);
  }
  if (has(expected, 'content-type'))
    expectEqual(message.contentType, expected['content-type'], `${where}: content type`);
  if (has(expected, 'format-indicator'))
    expectEqual(
      message.payloadFormatIndicator ?? 0,
      expected['format-indicator'],
      `${where}: format indicator`,
    );
  for (const [key, value] of Object.entries((expected['metadata'] ?? {}) as Yaml))
    expectEqual(getUserProperty(props, key), value ?? undefined, `${where}: metadata '${key}'`);
  if (has(expected, 'source-id'))
    expectEqual(getUserProperty(props, '__srcId'), expected['source-id'], `${where}: source id`);
  if (has(expected, 'expiry'))
    expectEqual(message.messageExpiryInterval, expected['expiry'], `${where}: expiry`);
  if (has(expected, 'command-status')) {
    const status = expected['command-status'];
    expectEqual(
      getUserProperty(props, '__stat'),
      status === null ? undefined : JSON.stringify(status),
      `${where}: __stat`,
    );
  }
  if (has(expected, 'is-application-error')) {
    const flag = getUserProperty(props, '__apErr')?.toLowerCase();
    if (expected['is-application-error'] === true) expectEqual(flag, 'true', `${where}: __apErr`);
    else if (flag !== undefined && flag !== 'false')
      fail(`${where}: __apErr is '${flag}', expected false or absent`);
  }
}
