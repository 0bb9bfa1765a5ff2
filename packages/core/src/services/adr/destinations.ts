/**
 * Destination topics and keys: token substitution (`{assetName}`, `{datasetName}`, ...) and the
 * topic rules of the AIO protocol libraries, so a bad topic is reported as a configuration problem
 * of its dataset or event instead of failing on every publish.
 *
 * @module
 */
import { ConfigError } from '../../errors.ts';

/**
 * The tokens a destination topic, key or path may contain (the connector metadata schema lists
 * the same set).
 *
 * @example
 * ```ts
 * import { destinationTokenNames } from '@aio-connector/core';
 * destinationTokenNames.includes('assetName'); // true
 * ```
 */
export const destinationTokenNames = [
  'deviceName',
  'inboundEndpointName',
  'assetName',
  'datasetName',
  'eventGroupName',
  'eventName',
  'streamName',
  'kubernetesNamespace',
] as const;

/** A token of a destination topic, key or path. */
export type DestinationTokenName = (typeof destinationTokenNames)[number];

/** The token values known where a destination is resolved; the others stay unset. */
export type DestinationTokens = { readonly [K in DestinationTokenName]?: string };

/** Options of {@link resolveDestinationTopic} and {@link resolveDestinationKey}. */
export interface ResolveDestinationOptions {
  /** The entity named in errors, e.g. `asset "oven" dataset "temperature"`. Default: `destination`. */
  readonly source?: string;
  /** The field named in errors. Default: `configuration.topic` or `configuration.key`. */
  readonly field?: string;
  /**
   * Accept a topic that starts with `/` (an empty first level, legal in MQTT) and keep the slash.
   * Default: `false`, as in the .NET and Rust SDKs, whose topic rules reject every empty level.
   */
  readonly allowLeadingSlash?: boolean;
}

const tokenPattern = /\{([^{}]*)\}/g;
const knownTokens: ReadonlySet<string> = new Set(destinationTokenNames);

function fail(
  pattern: string,
  options: ResolveDestinationOptions,
  field: string,
  problem: string,
): never {
  const source = options.source ?? 'destination';
  throw new ConfigError(`${source} ${field} ${JSON.stringify(pattern)}: ${problem}`, {
    source,
    field,
    details: { pattern },
  });
}

/** The first character not allowed in a topic level, if any. */
function invalidTopicChar(text: string): string | undefined {
  for (const ch of text) {
    if (ch < '!' || ch > '~' || ch === '+' || ch === '#' || ch === '{' || ch === '}') return ch;
  }
  return undefined;
}

function describeChar(ch: string): string {
  if (ch === '+' || ch === '#') return `the wildcard "${ch}"`;
  if (ch === '{' || ch === '}') return `"${ch}"`;
  const code = ch.codePointAt(0) ?? 0;
  return code > 0x20 && code !== 0x7f
    ? `"${ch}" (only '!' to '~' are allowed)`
    : `the character U+${code.toString(16).toUpperCase().padStart(4, '0')} (only '!' to '~' are allowed)`;
}

function substitute(
  pattern: string,
  tokens: DestinationTokens,
  check: (token: string, value: string) => string | undefined,
  reject: (problem: string) => never,
): string {
  return pattern.replace(tokenPattern, (whole, token: string) => {
    if (token === '') reject('empty token "{}"');
    if (!knownTokens.has(token))
      reject(
        `unknown token "${whole}" (known: ${destinationTokenNames.map((t) => `{${t}}`).join(', ')})`,
      );
    const value = tokens[token as DestinationTokenName];
    if (value === undefined) reject(`token "${whole}" has no value here`);
    const problem = check(token, value);
    if (problem !== undefined) reject(problem);
    return value;
  });
}

function checkTokens(tokens: unknown): DestinationTokens {
  if (tokens === undefined) return {};
  if (typeof tokens !== 'object' || tokens === null)
    throw new TypeError(
      `tokens must be an object, received ${tokens === null ? 'null' : typeof tokens}`,
    );
  for (const [key, value] of Object.entries(tokens)) {
    if (value !== undefined && typeof value !== 'string')
      throw new TypeError(`tokens.${key} must be a string, received ${typeof value}`);
  }
  return tokens;
}

/**
 * Resolves a destination topic (`destinations[].configuration.topic`): replaces the tokens with
 * their values, then checks the result against the topic rules of the AIO protocol libraries. The
 * result is used verbatim as the PUBLISH topic.
 *
 * Throws a `ConfigError` naming `source`, `field` and the pattern when:
 * - the topic is empty or starts with `$`;
 * - a level is empty (a trailing `/` or `//`). A leading `/` is an empty first level too: the .NET
 *   and Rust SDKs reject it, so it is rejected by default even though the official test assets use
 *   `/mqtt/machine/status`; with `allowLeadingSlash: true` it is accepted and kept verbatim (the
 *   topic is then `/mqtt/machine/status`, as MQTT allows);
 * - a character is a wildcard (`+`, `#`), a brace left over, or outside `'!'`..`'~'` (spaces and
 *   non-ASCII characters included);
 * - a `{token}` is unknown, has no value in `tokens`, or its value is empty, starts or ends with
 *   `/`, contains `//` or a character not allowed in a topic (a value may span levels: `a/b`).
 *
 * @example
 * ```ts
 * import { resolveDestinationTopic } from '@aio-connector/core';
 * resolveDestinationTopic('factory/{assetName}/{datasetName}', {
 *   assetName: 'oven',
 *   datasetName: 'temperature',
 * }); // 'factory/oven/temperature'
 * resolveDestinationTopic('/mqtt/machine/status', {}, { allowLeadingSlash: true }); // kept as is
 * ```
 */
export function resolveDestinationTopic(
  pattern: string,
  tokens: DestinationTokens = {},
  options: ResolveDestinationOptions = {},
): string {
  const known = checkTokens(tokens);
  const field = options.field ?? 'configuration.topic';
  const { allowLeadingSlash = false } = options;
  if (typeof allowLeadingSlash !== 'boolean')
    throw new TypeError(
      `allowLeadingSlash must be a boolean, received ${typeof allowLeadingSlash}`,
    );
  const reject: (problem: string) => never = (problem) =>
    fail(typeof pattern === 'string' ? pattern : String(pattern), options, field, problem);
  if (typeof pattern !== 'string') reject(`expected a string, found ${typeof pattern}`);
  if (pattern.trim() === '') reject('the topic is empty');
  if (pattern.startsWith('$')) reject('a topic must not start with "$"');
  const topic = substitute(
    pattern,
    known,
    (token, value) => {
      const bad = invalidTopicChar(value);
      if (value === '') return `token "{${token}}" is empty`;
      if (bad !== undefined)
        return `token "{${token}}" value ${JSON.stringify(value)} contains ${describeChar(bad)}`;
      if (value.startsWith('/') || value.endsWith('/') || value.includes('//'))
        return `token "{${token}}" value ${JSON.stringify(value)} would make an empty level`;
      return undefined;
    },
    reject,
  );
  if (topic.startsWith('$')) reject(`the resolved topic ${JSON.stringify(topic)} starts with "$"`);
  let levels = topic;
  if (topic.startsWith('/')) {
    if (!allowLeadingSlash)
      reject('starts with "/" (an empty first level; set allowLeadingSlash to accept it)');
    levels = topic.slice(1);
    if (levels === '') reject('the topic has no level after "/"');
  }
  for (const level of levels.split('/')) {
    if (level === '') reject('contains an empty level');
    const bad = invalidTopicChar(level);
    if (bad !== undefined) reject(`level ${JSON.stringify(level)} contains ${describeChar(bad)}`);
  }
  if (topic.length > 65_535) reject('the topic is longer than 65 535 bytes');
  return topic;
}

/**
 * Resolves a state store key (`destinations[].configuration.key` of a `BrokerStateStore`
 * destination): replaces the tokens with their values. Keys are binary-safe, so no character rule
 * applies; the key must not be empty and every `{token}` must be known and have a non-empty value.
 * Throws a `ConfigError` naming `source`, `field` and the pattern.
 *
 * @example
 * ```ts
 * import { resolveDestinationKey } from '@aio-connector/core';
 * resolveDestinationKey('{assetName}-latest', { assetName: 'oven' }); // 'oven-latest'
 * ```
 */
export function resolveDestinationKey(
  pattern: string,
  tokens: DestinationTokens = {},
  options: Omit<ResolveDestinationOptions, 'allowLeadingSlash'> = {},
): string {
  const known = checkTokens(tokens);
  const field = options.field ?? 'configuration.key';
  const reject: (problem: string) => never = (problem) =>
    fail(typeof pattern === 'string' ? pattern : String(pattern), options, field, problem);
  if (typeof pattern !== 'string') reject(`expected a string, found ${typeof pattern}`);
  if (pattern === '') reject('the key is empty');
  return substitute(
    pattern,
    known,
    (token, value) => (value === '' ? `token "{${token}}" is empty` : undefined),
    reject,
  );
}
