/**
 * A small rule language for JSON documents: each {@link Check} knows what a valid value looks like
 * (as a phrase a person can read after "must be") and walks a value, reporting findings with the
 * path of the offending value. The connector metadata rules and the JSON Schema draft-07 rules are
 * written with it.
 *
 * The checks follow JSON Schema draft-07 semantics exactly where the metadata schema uses them:
 * a property whose value is `undefined` counts as absent for `required` and `properties`, but
 * still counts as present for `additionalProperties`; `integer` means `Number.isInteger`;
 * `number` means a finite number; uniqueness compares values structurally.
 *
 * @example
 * ```ts
 * const limits = object({
 *   properties: { minimum: integer({ minimum: 0 }), maximum: integer({ minimum: 1 }) },
 *   closed: true,
 * });
 * const findings = new Findings();
 * limits.validate({ maximum: 0, maximun: 3 }, ['limits'], findings);
 * findings.list.map((f) => `${dottedPath(f.path)}: ${f.message}`);
 * // [ 'limits.maximum: must be an integer of at least 1, found 0',
 * //   'limits.maximun: is not allowed here; did you mean "maximum"?' ]
 * ```
 *
 * @module
 */

/** A step in a path: a property name or an array index. */
export type PathSegment = string | number;
/** The path from the document root to a value. */
export type Path = readonly PathSegment[];

/** What a finding is about, stable across releases (tools can filter on it). */
export type FindingRule =
  | 'json-syntax'
  | 'type'
  | 'required'
  | 'unknown-property'
  | 'enum'
  | 'pattern'
  | 'minimum'
  | 'min-items'
  | 'unique-items'
  | 'one-of'
  | 'sdk-schema-version'
  | 'sdk-readiness-probe'
  | 'sdk-authentication-types'
  | 'sdk-limits'
  | 'sdk-destination'
  | 'sdk-topic'
  | 'sdk-unlisted-property'
  | 'sdk-duplicate-key'
  | 'sdk-duplicate-entry'
  | 'sdk-regex'
  | 'sdk-architecture'
  | 'sdk-schema-keyword';

/** One finding of a walk. */
export interface Finding {
  readonly severity: 'error' | 'warning';
  readonly rule: FindingRule;
  readonly path: Path;
  /** What was expected and what was found, without the path. */
  readonly message: string;
  /** The finding is about the property name rather than its value (unknown properties). */
  readonly onKey: boolean;
}

/** Collects findings in the order they are made. */
export class Findings {
  readonly #list: Finding[] = [];

  /** Records a schema violation. */
  error(path: Path, rule: FindingRule, message: string, onKey = false): void {
    this.#list.push({ severity: 'error', rule, path, message, onKey });
  }

  /** Records an advisory finding that does not make the document invalid. */
  warning(path: Path, rule: FindingRule, message: string, onKey = false): void {
    this.#list.push({ severity: 'warning', rule, path, message, onKey });
  }

  /** Whether any error (not warning) was recorded. */
  get hasErrors(): boolean {
    return this.#list.some((f) => f.severity === 'error');
  }

  /** The findings, in order. */
  get list(): readonly Finding[] {
    return this.#list;
  }
}

/** A rule for one value. */
export interface Check {
  /** What a valid value is, as a phrase after "must be": `a string`, `an integer of at least 0`. */
  readonly expected: string;
  /** Walks `value` (found at `path`) and records what is wrong with it. */
  readonly validate: (value: unknown, path: Path, findings: Findings) => void;
}

// ---------------------------------------------------------------------------------------------
// Paths and values in messages

const identifier = /^[A-Za-z_$][\w$]*$/u;

/**
 * A path as people write it in code: `inboundEndpoints[0].datasets.limits.maximum`; names that
 * are not identifiers are bracketed (`properties["sampling interval"]`). The root is `''`.
 */
export function dottedPath(path: Path): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (identifier.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** A path as an RFC 6901 JSON pointer: `/inboundEndpoints/0/datasets/limits/maximum`. */
export function jsonPointer(path: Path): string {
  return path.map((s) => `/${String(s).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/** Whether `value` is a JSON object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value of an own property, `undefined` when absent. */
export function own(object: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

function shorten(text: string, max = 60): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** A short rendering of a value for "found …": `"http"`, `1.5`, `true`, `null`, `an object`. */
export function showValue(value: unknown): string {
  if (typeof value === 'string') return shorten(JSON.stringify(value));
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null) return 'null';
  if (Array.isArray(value))
    return value.length === 0 ? 'an empty array' : `an array of ${value.length}`;
  if (isObject(value)) return 'an object';
  return `a JavaScript ${typeof value}`;
}

/** The kind of a value with the value itself: `a string ("1")`, `the number 1.5`, `an array`. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `a string (${shorten(JSON.stringify(value))})`;
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'boolean') return `the boolean ${value}`;
  return showValue(value);
}

/** `"a", "b" or "c"`. */
export function listOf(values: readonly unknown[], conjunction = 'or'): string {
  const shown = values.map((v) => (typeof v === 'string' ? JSON.stringify(v) : String(v)));
  if (shown.length <= 1) return shown.join('');
  return `${shown.slice(0, -1).join(', ')} ${conjunction} ${shown.at(-1) ?? ''}`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * The candidate `name` was most likely meant to be: same name in another case, a small typo, or a
 * name that contains the other (`namespace` → `kubernetesNamespace`, unless
 * `options.containment` is `false`). `undefined` when none is close.
 */
export function closestName(
  name: string,
  candidates: Iterable<string>,
  options: { readonly containment?: boolean } = {},
): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  const list = [...candidates];
  for (const candidate of list) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const tolerance = name.length <= 4 ? 1 : 2;
  if (best !== undefined && bestDistance <= tolerance) return best;
  if (options.containment === false || lower.length < 4) return undefined;
  return list.find((c) => {
    const other = c.toLowerCase();
    return other.includes(lower) || (other.length >= 4 && lower.includes(other));
  });
}

/** Structural equality of JSON values (object key order does not matter). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length &&
      keys.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]))
    );
  }
  return false;
}

/** A hint for a string that holds a valid value of another type: `"1"` for `1`. */
function unquoteHint(value: unknown, accepts: (candidate: unknown) => boolean): string {
  if (typeof value !== 'string') return '';
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return '';
  }
  return accepts(parsed) ? ` (write it without quotes: ${value})` : '';
}

function typeError(findings: Findings, path: Path, expected: string, value: unknown): void {
  findings.error(path, 'type', `must be ${expected}, found ${describeValue(value)}`);
}

// ---------------------------------------------------------------------------------------------
// Checks

/** Accepts any value. */
export const anything: Check = { expected: 'any JSON value', validate: () => undefined };

/** A pattern a string must match, with the words that describe it. */
export interface PatternRule {
  readonly regex: RegExp;
  /** What matching strings look like: `a semantic version such as "1.2.3"`. */
  readonly expected: string;
}

/** A string, optionally one of `options.enum` or matching `options.pattern`. */
export function string(
  options: { readonly enum?: readonly string[]; readonly pattern?: PatternRule } = {},
): Check {
  const { enum: allowed, pattern } = options;
  const expected =
    allowed === undefined
      ? (pattern?.expected ?? 'a string')
      : allowed.length === 1
        ? `the string ${listOf(allowed)}`
        : `one of ${listOf(allowed)}`;
  return {
    expected,
    validate(value, path, findings) {
      if (typeof value !== 'string') {
        typeError(findings, path, expected, value);
        return;
      }
      if (allowed !== undefined && !allowed.includes(value)) {
        const sameButCase = allowed.find((a) => a.toLowerCase() === value.toLowerCase());
        const near = sameButCase ?? closestName(value, allowed);
        const hint =
          sameButCase !== undefined
            ? ` (values are case-sensitive: write ${JSON.stringify(sameButCase)})`
            : near !== undefined
              ? ` (did you mean ${JSON.stringify(near)}?)`
              : '';
        findings.error(path, 'enum', `must be ${expected}, found ${showValue(value)}${hint}`);
      }
      if (pattern !== undefined && !pattern.regex.test(value)) {
        findings.error(path, 'pattern', `must be ${pattern.expected}, found ${showValue(value)}`);
      }
    },
  };
}

/** `true` or `false`. */
export const boolean: Check = {
  expected: 'true or false',
  validate(value, path, findings) {
    if (typeof value === 'boolean') return;
    findings.error(
      path,
      'type',
      `must be true or false, found ${describeValue(value)}${unquoteHint(value, (v) => typeof v === 'boolean')}`,
    );
  },
};

/** An integer, optionally at least `options.minimum` or one of `options.enum`. */
export function integer(
  options: { readonly minimum?: number; readonly enum?: readonly number[] } = {},
): Check {
  const { minimum, enum: allowed } = options;
  const expected =
    allowed !== undefined
      ? `the integer ${listOf(allowed)}`
      : minimum !== undefined
        ? `an integer of at least ${minimum}`
        : 'an integer';
  const accepts = (v: unknown): boolean =>
    Number.isInteger(v) &&
    (allowed === undefined || allowed.includes(v as number)) &&
    (minimum === undefined || (v as number) >= minimum);
  return {
    expected,
    validate(value, path, findings) {
      if (!Number.isInteger(value)) {
        findings.error(
          path,
          'type',
          `must be ${expected}, found ${describeValue(value)}${unquoteHint(value, accepts)}`,
        );
        return;
      }
      const n = value as number;
      if (allowed !== undefined && !allowed.includes(n))
        findings.error(path, 'enum', `must be ${expected}, found ${n}`);
      if (minimum !== undefined && n < minimum)
        findings.error(path, 'minimum', `must be ${expected}, found ${n}`);
    },
  };
}

/** An array of items that each pass `items`. */
export function array(
  items: Check,
  options: {
    readonly minItems?: number;
    readonly unique?: boolean;
    /** Replaces the generated phrase (`an array of strings`). */
    readonly expected?: string;
  } = {},
): Check {
  const { minItems = 0, unique = false } = options;
  const size =
    minItems === 0 ? 'an array' : minItems === 1 ? 'a non-empty array' : `an array of ${minItems}+`;
  const expected =
    options.expected ??
    `${size} of ${plural(items.expected)}${unique ? ', without duplicates' : ''}`;
  return {
    expected,
    validate(value, path, findings) {
      if (!Array.isArray(value)) {
        typeError(findings, path, expected, value);
        return;
      }
      if (value.length < minItems) {
        findings.error(
          path,
          'min-items',
          value.length === 0
            ? `must list at least ${minItems} item${minItems === 1 ? '' : 's'}, found an empty array`
            : `must list at least ${minItems} items, found ${value.length}`,
        );
      }
      value.forEach((item, i) => {
        items.validate(item, [...path, i], findings);
      });
      if (unique) {
        for (let j = 1; j < value.length; j++) {
          const i = value.findIndex((item, k) => k < j && jsonEqual(item, value[j]));
          if (i >= 0) {
            findings.error(
              [...path, j],
              'unique-items',
              `repeats item [${i}] (${showValue(value[j])}): the items must all differ`,
            );
          }
        }
      }
    },
  };
}

function plural(expected: string): string {
  return expected.replace(/^an? /u, '').replace(/^(string|integer|object)\b/u, '$1s');
}

/** The shape of an object. */
export interface ObjectShape {
  /** The checks of the known properties, in the order people usually write them. */
  readonly properties: Readonly<Record<string, Check>>;
  /** Properties that must be present. */
  readonly required?: readonly string[];
  /**
   * `true` when other properties are not allowed (`additionalProperties: false`): each is an
   * error. `false` when the schema lets them through: each is an `sdk-unlisted-property` warning,
   * since the platform ignores it and it is most often a typo or a misplaced property.
   */
  readonly closed: boolean;
  /** Extra words for a missing required property, by name. */
  readonly requiredHints?: Readonly<Record<string, string>>;
  /** Extra words for an unknown property, by name (replaces the "did you mean" guess). */
  readonly unknownHints?: Readonly<Record<string, string>>;
}

/** An object check, with its shape for callers that need the property names. */
export interface ObjectCheck extends Check {
  readonly shape: ObjectShape;
}

/** An object of the given shape. */
export function object(shape: ObjectShape): ObjectCheck {
  const required = shape.required ?? [];
  const names = Object.keys(shape.properties);
  const expected =
    required.length === 0 ? 'an object' : `an object with ${listOf(required, 'and')}`;
  return {
    expected,
    shape,
    validate(value, path, findings) {
      if (!isObject(value)) {
        typeError(findings, path, expected, value);
        return;
      }
      for (const key of Object.keys(value)) {
        const check = Object.hasOwn(shape.properties, key) ? shape.properties[key] : undefined;
        if (check === undefined) {
          reportUnknown(shape, names, [...path, key], key, findings);
          continue;
        }
        const child = value[key];
        if (child !== undefined) check.validate(child, [...path, key], findings);
      }
      for (const key of required) {
        if (own(value, key) !== undefined) continue;
        const check = shape.properties[key];
        const hint = shape.requiredHints?.[key];
        findings.error(
          [...path, key],
          'required',
          `is required but missing (expected ${check?.expected ?? 'a value'})${hint === undefined ? '' : `; ${hint}`}`,
        );
      }
    },
  };
}

function reportUnknown(
  shape: ObjectShape,
  names: readonly string[],
  path: Path,
  key: string,
  findings: Findings,
): void {
  const hint = shape.unknownHints?.[key];
  const near = hint === undefined ? closestName(key, names) : undefined;
  const advice =
    hint !== undefined
      ? `; ${hint}`
      : near !== undefined
        ? `; did you mean ${JSON.stringify(near)}?`
        : names.length > 0
          ? `; known properties here: ${names.join(', ')}`
          : '';
  if (shape.closed) findings.error(path, 'unknown-property', `is not allowed here${advice}`, true);
  else {
    findings.warning(
      path,
      'sdk-unlisted-property',
      `is not a property the schema defines here, so it is ignored${advice}`,
      true,
    );
  }
}
