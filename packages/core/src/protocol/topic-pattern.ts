/**
 * Topic patterns of the AIO protocol: `/`-separated labels, each a literal or a `{token}`, with an
 * optional namespace prefix. Tokens are replaced from a map given when the component is created
 * (resident tokens) or per call (transient tokens); unresolved tokens become `+` in the subscription
 * filter, and a received topic is matched back to token values.
 *
 * Rules (topic-structure.md): a literal label is printable ASCII without space, `"`, `+`, `#`, `{`,
 * `}` or `/`; a token is `{name}` where name is an identifier (`modelId`, `executorId`, ...) or a
 * custom `ex:` token (`{ex:deviceName}`); the first label must not start with `$`. A namespace or a
 * replacement value is printable ASCII without space, `+`, `#`, `{` or `}`, and may contain `/` but
 * not at either end nor twice in a row.
 *
 * @module
 */
import { invalidConfiguration } from './user-properties.ts';

/** Topic token values, keyed by the token name without braces (`modelId`, `ex:deviceName`). */
export type TopicTokens = Readonly<Record<string, string>>;

const tokenName = /^(?:[A-Za-z][A-Za-z0-9]*|ex:[A-Za-z]+)$/;

function isPrintable(text: string, forbidden: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x21 || code > 0x7e || forbidden.includes(text[i] as string)) return false;
  }
  return true;
}

/**
 * Whether `value` is a valid topic namespace or token replacement value.
 *
 * @example
 * ```ts
 * import { isValidTopicNamespace } from '@aio-connector/core';
 * isValidTopicNamespace('region/quad12'); // true
 * isValidTopicNamespace('invalid/{modelId}'); // false
 * ```
 */
export function isValidTopicNamespace(value: string): boolean {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    isPrintable(value, '+#{}') &&
    !value.startsWith('/') &&
    !value.endsWith('/') &&
    !value.includes('//')
  );
}

/**
 * Whether `value` is a valid concrete MQTT topic to publish to (a response topic, a forwarding
 * destination): a valid namespace that does not start with `$`.
 *
 * @example
 * ```ts
 * import { isValidTopic } from '@aio-connector/core';
 * isValidTopic('clients/c1/mock/test'); // true
 * isValidTopic('//invalid'); // false
 * ```
 */
export function isValidTopic(value: string): boolean {
  return isValidTopicNamespace(value) && !value.startsWith('$');
}

/**
 * Whether `pattern` is a syntactically valid topic pattern (tokens may be unresolved).
 *
 * @example
 * ```ts
 * import { isValidTopicPattern } from '@aio-connector/core';
 * isValidTopicPattern('vehicles/{executorId}/command/{commandName}'); // true
 * isValidTopicPattern('mock/{in/valid}/test'); // false
 * ```
 */
export function isValidTopicPattern(pattern: string): boolean {
  return patternError(pattern) === undefined;
}

function patternError(pattern: unknown): string | undefined {
  if (typeof pattern !== 'string' || pattern.length === 0) return 'the topic pattern is empty';
  if (pattern.startsWith('$')) return 'the topic pattern starts with the reserved character $';
  for (const label of pattern.split('/')) {
    if (label.length === 0) return 'the topic pattern has an empty level';
    if (label.startsWith('{') && label.endsWith('}')) {
      if (!tokenName.test(label.slice(1, -1)))
        return `the topic pattern has an invalid token '${label}'`;
    } else if (!isPrintable(label, '"+#{}')) {
      return `the topic pattern level '${label}' has an invalid character`;
    }
  }
  return undefined;
}

type Segment =
  | { readonly kind: 'literal'; readonly text: string }
  | { readonly kind: 'token'; readonly name: string; readonly value: string | undefined };

/** Options of {@link TopicPattern}. */
export interface TopicPatternOptions {
  /** A namespace prepended to the resolved topic with a `/`. Default: none. */
  readonly namespace?: string | undefined;
  /** Resident token values, applied once. Default: none. */
  readonly tokens?: TopicTokens | undefined;
  /** The option name reported when the pattern is invalid. Default: `'topicPattern'`. */
  readonly patternName?: string;
  /** The command the pattern belongs to, reported in errors. Default: none. */
  readonly commandName?: string | undefined;
}

/**
 * A validated topic pattern with its resident tokens applied. Invalid input throws a
 * `ProtocolError` of kind `invalid configuration` naming the option, or the token whose replacement
 * is invalid.
 *
 * @example
 * ```ts
 * import { TopicPattern } from '@aio-connector/core';
 * const pattern = new TopicPattern('vehicles/{executorId}/command/{commandName}', {
 *   namespace: 'region/quad12',
 *   tokens: { commandName: 'reset' },
 * });
 * pattern.filter; // 'region/quad12/vehicles/+/command/reset'
 * pattern.resolve({ executorId: 'delivery-14' }); // 'region/quad12/vehicles/delivery-14/command/reset'
 * pattern.match('region/quad12/vehicles/delivery-14/command/reset');
 * // { executorId: 'delivery-14', commandName: 'reset' }
 * ```
 */
export class TopicPattern {
  /** The pattern as given. */
  readonly pattern: string;
  /** The namespace, if any. */
  readonly namespace: string | undefined;
  /** The subscription filter: resident tokens replaced, the others `+`, namespace prepended. */
  readonly filter: string;
  readonly #segments: readonly Segment[];
  readonly #commandName: string | undefined;

  constructor(pattern: string, options: TopicPatternOptions = {}) {
    const { namespace, tokens = {}, patternName = 'topicPattern', commandName } = options;
    this.#commandName = commandName;
    const error = patternError(pattern);
    if (error !== undefined) throw invalidConfiguration(patternName, pattern, error, commandName);
    if (namespace !== undefined && !isValidTopicNamespace(namespace))
      throw invalidConfiguration(
        'topicNamespace',
        namespace,
        'the topic namespace is not valid',
        commandName,
      );
    this.pattern = pattern;
    this.namespace = namespace;
    this.#segments = pattern.split('/').map((label): Segment => {
      if (!(label.startsWith('{') && label.endsWith('}'))) return { kind: 'literal', text: label };
      const name = label.slice(1, -1);
      const value = Object.hasOwn(tokens, name) ? tokens[name] : undefined;
      if (value !== undefined && !isValidTopicNamespace(value))
        throw invalidConfiguration(
          name,
          value,
          `the replacement '${value}' of topic token '${label}' is not valid`,
          commandName,
        );
      return { kind: 'token', name, value };
    });
    this.filter = this.#render((segment) => segment.value ?? '+');
  }

  /** The names of the tokens that are still unresolved. */
  get unresolvedTokens(): readonly string[] {
    return this.#segments.flatMap((s) =>
      s.kind === 'token' && s.value === undefined ? [s.name] : [],
    );
  }

  /**
   * The concrete topic: every unresolved token must be given in `tokens` (extra entries are
   * ignored; resident values win). Throws a `ProtocolError` of kind `invalid configuration` naming
   * the token that is missing or whose value is invalid.
   */
  resolve(tokens: TopicTokens = {}): string {
    return this.#render((segment) => {
      if (segment.value !== undefined) return segment.value;
      const value = Object.hasOwn(tokens, segment.name) ? tokens[segment.name] : undefined;
      if (value === undefined)
        throw invalidConfiguration(
          segment.name,
          undefined,
          `topic token '{${segment.name}}' has no replacement`,
          this.#commandName,
        );
      if (!isValidTopicNamespace(value))
        throw invalidConfiguration(
          segment.name,
          value,
          `the replacement '${value}' of topic token '{${segment.name}}' is not valid`,
          this.#commandName,
        );
      return value;
    });
  }

  /**
   * Matches a received topic: returns the value of every token of the pattern (resident and
   * captured), or `undefined` when the topic does not match the filter.
   */
  match(topic: string): Record<string, string> | undefined {
    let levels = topic.split('/');
    if (this.namespace !== undefined) {
      const prefix = this.namespace.split('/');
      if (levels.length < prefix.length || prefix.some((level, i) => levels[i] !== level))
        return undefined;
      levels = levels.slice(prefix.length);
    }
    const tokens: Record<string, string> = {};
    let index = 0;
    for (const segment of this.#segments) {
      const fixed = segment.kind === 'literal' ? segment.text : segment.value;
      if (fixed === undefined) {
        const level = levels[index++];
        if (level === undefined || level.length === 0) return undefined;
        if (segment.kind === 'token') {
          const previous = tokens[segment.name];
          if (previous !== undefined && previous !== level) return undefined;
          tokens[segment.name] = level;
        }
        continue;
      }
      for (const part of fixed.split('/')) if (levels[index++] !== part) return undefined;
      if (segment.kind === 'token') tokens[segment.name] = fixed;
    }
    return index === levels.length ? tokens : undefined;
  }

  #render(valueOf: (segment: Segment & { kind: 'token' }) => string): string {
    const body = this.#segments
      .map((segment) => (segment.kind === 'literal' ? segment.text : valueOf(segment)))
      .join('/');
    return this.namespace === undefined ? body : `${this.namespace}/${body}`;
  }
}
