/**
 * Validation of `connector-metadata.json` against the connector metadata 11.0-preview schema,
 * with messages that say where the problem is (JSON path, file, line, column), what was expected
 * and what was found, plus SDK-level advice marked as warnings.
 *
 * The verdict (`valid`) is the schema's verdict: warnings never change it.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { ConfigError, throwIfAborted } from '@aio-connector/core';
import { connectorMetadataRules } from './connector-metadata-rules.ts';
import { parseJsonSource, type DuplicateKey, type JsonSourceMap } from './json-source.ts';
import { checkSdkConventions } from './sdk-checks.ts';
import {
  Findings,
  dottedPath,
  jsonPointer,
  type Finding,
  type FindingRule,
} from './schema-walker.ts';

export { connectorMetadataSchemaUrl } from './sdk-checks.ts';

/** What a problem is about. Rules starting with `sdk-` are warnings; the others are errors. */
export type MetadataProblemRule = FindingRule;

/** One problem found in a connector metadata document. */
export interface MetadataProblem {
  /** `error`: the document breaks the schema. `warning`: SDK-level advice; `valid` ignores it. */
  readonly severity: 'error' | 'warning';
  /** A stable name for the kind of problem (`required`, `pattern`, `sdk-readiness-probe`, …). */
  readonly rule: MetadataProblemRule;
  /** The value concerned, as in code: `inboundEndpoints[0].endpointType`; `''` is the root. */
  readonly path: string;
  /** The same place as an RFC 6901 JSON pointer: `/inboundEndpoints/0/endpointType`. */
  readonly pointer: string;
  /** What was expected and what was found, without the path: `must be …, found …`. */
  readonly message: string;
  /** The file, when known. */
  readonly file?: string;
  /** 1-based line in the file, when the source text is known. */
  readonly line?: number;
  /** 1-based column in the file, when the source text is known. */
  readonly column?: number;
}

/** What the validation functions return. */
export interface ConnectorMetadataValidation {
  /** Whether the document satisfies the 11.0-preview schema (warnings do not count). */
  readonly valid: boolean;
  /** Errors and warnings, in file order when the source is known, else in document order. */
  readonly problems: readonly MetadataProblem[];
}

/** Options of {@link validateConnectorMetadata}. Every field is optional. */
export interface ValidateConnectorMetadataOptions {
  /** The file the document comes from, copied into each problem. Default: none. */
  readonly file?: string;
  /**
   * The JSON text the document was parsed from: problems then carry a line and column, and
   * repeated property names are reported. Default: none (no positions).
   */
  readonly text?: string;
  /** Whether to include the SDK-level warnings. Default: `true`. */
  readonly warnings?: boolean;
}

/** Options of {@link validateConnectorMetadataFile}. Every field is optional. */
export interface ValidateConnectorMetadataFileOptions {
  /** Whether to include the SDK-level warnings. Default: `true`. */
  readonly warnings?: boolean;
  /** Aborts reading the file. */
  readonly signal?: AbortSignal;
}

/** What {@link validateConnectorMetadataFile} returns. */
export interface ConnectorMetadataFileValidation extends ConnectorMetadataValidation {
  /** The file, as given. */
  readonly file: string;
  /** The parsed document; `undefined` when the file is not valid JSON. */
  readonly metadata: unknown;
}

interface Resolved {
  readonly file: string | undefined;
  readonly warnings: boolean;
}

function resolveOptions(options: unknown, allowText: boolean): Resolved & { text?: string } {
  if (typeof options !== 'object' || options === null)
    throw new TypeError(`options must be an object, received ${typeof options}`);
  const { file, text, warnings, signal } = options as Record<string, unknown>;
  if (allowText && file !== undefined && typeof file !== 'string')
    throw new TypeError(`file must be a string, received ${typeof file}`);
  if (allowText && text !== undefined && typeof text !== 'string')
    throw new TypeError(`text must be a string, received ${typeof text}`);
  if (warnings !== undefined && typeof warnings !== 'boolean')
    throw new TypeError(`warnings must be a boolean, received ${typeof warnings}`);
  if (!allowText && signal !== undefined && !(signal instanceof AbortSignal))
    throw new TypeError('signal must be an AbortSignal');
  return {
    file: allowText ? (file as string | undefined) : undefined,
    warnings: warnings ?? true,
    ...(allowText && typeof text === 'string' ? { text } : {}),
  };
}

function run(
  value: unknown,
  options: Resolved,
  map: JsonSourceMap | undefined,
  duplicateKeys: readonly DuplicateKey[],
): ConnectorMetadataValidation {
  const findings = new Findings();
  connectorMetadataRules.validate(value, [], findings);
  if (options.warnings) {
    for (const duplicate of duplicateKeys) {
      findings.warning(
        duplicate.path,
        'sdk-duplicate-key',
        `appears twice in the same object (first at line ${duplicate.first.line} column ${duplicate.first.column}); JSON readers keep only the last one`,
        true,
      );
    }
    checkSdkConventions(value, findings);
  }
  const problems = findings.list
    .filter((f) => options.warnings || f.severity === 'error')
    .map((f) => toProblem(f, options.file, map));
  if (map !== undefined) {
    const order = problems.map((p, i) => ({ p, i }));
    order.sort(
      (a, b) =>
        (a.p.line ?? 0) - (b.p.line ?? 0) ||
        (a.p.column ?? 0) - (b.p.column ?? 0) ||
        severityRank(a.p) - severityRank(b.p) ||
        a.i - b.i,
    );
    return { valid: !findings.hasErrors, problems: order.map((o) => o.p) };
  }
  return { valid: !findings.hasErrors, problems };
}

function severityRank(problem: MetadataProblem): number {
  return problem.severity === 'error' ? 0 : 1;
}

function toProblem(
  finding: Finding,
  file: string | undefined,
  map: JsonSourceMap | undefined,
): MetadataProblem {
  const pointer = jsonPointer(finding.path);
  const position =
    map === undefined
      ? undefined
      : ((finding.onKey ? map.keyAt(pointer) : undefined) ?? map.valueAt(pointer));
  return {
    severity: finding.severity,
    rule: finding.rule,
    path: dottedPath(finding.path),
    pointer,
    message: finding.message,
    ...(file === undefined ? {} : { file }),
    ...(position === undefined ? {} : { line: position.line, column: position.column }),
  };
}

/**
 * Validates a parsed `connector-metadata.json` against the connector metadata 11.0-preview
 * schema, and adds SDK-level warnings (readiness probe, authentication types, destination
 * tokens, …). Pass the source text to get lines and columns.
 *
 * @example
 * ```ts
 * import { validateConnectorMetadata } from '@aio-connector/devkit';
 * const { valid, problems } = validateConnectorMetadata({ name: 'rest', version: '1.0' });
 * for (const p of problems) console.log(`${p.severity} ${p.path}: ${p.message}`);
 * // error version: must be a semantic version MAJOR.MINOR.PATCH such as "1.2.3" …, found "1.0"
 * ```
 */
export function validateConnectorMetadata(
  value: unknown,
  options: ValidateConnectorMetadataOptions = {},
): ConnectorMetadataValidation {
  const resolved = resolveOptions(options, true);
  if (resolved.text === undefined) return run(value, resolved, undefined, []);
  const parsed = parseJsonSource(resolved.text);
  return parsed.ok
    ? run(value, resolved, parsed.map, parsed.duplicateKeys)
    : run(value, resolved, undefined, []);
}

/**
 * Reads and validates a `connector-metadata.json` file. A file that is not valid JSON gives one
 * `json-syntax` error with the line and column of the mistake; otherwise every problem carries its
 * line and column. Rejects with a `ConfigError` (`ERR_AIO_CONFIG`) when the file cannot be read,
 * and with `ERR_AIO_ABORTED` when `signal` aborts.
 *
 * @example
 * ```ts
 * import { formatMetadataProblem, validateConnectorMetadataFile } from '@aio-connector/devkit';
 * const result = await validateConnectorMetadataFile('connector-metadata.json');
 * for (const problem of result.problems) console.log(formatMetadataProblem(problem));
 * process.exitCode = result.valid ? 0 : 1;
 * ```
 */
export async function validateConnectorMetadataFile(
  path: string,
  options: ValidateConnectorMetadataFileOptions = {},
): Promise<ConnectorMetadataFileValidation> {
  if (typeof path !== 'string')
    throw new TypeError(`path must be a string, received ${typeof path}`);
  if (path === '') throw new RangeError('path must not be empty');
  const resolved = { ...resolveOptions(options, false), file: path };
  const { signal } = options;
  throwIfAborted(signal, 'validateConnectorMetadataFile');
  let text: string;
  try {
    text = await readFile(path, { encoding: 'utf8', ...(signal === undefined ? {} : { signal }) });
  } catch (error) {
    throwIfAborted(signal, 'validateConnectorMetadataFile');
    throw new ConfigError(`cannot read ${path}: ${(error as Error).message}`, {
      source: path,
      cause: error,
    });
  }
  const parsed = parseJsonSource(text);
  if (!parsed.ok) {
    return {
      valid: false,
      file: path,
      metadata: undefined,
      problems: [
        {
          severity: 'error',
          rule: 'json-syntax',
          path: '',
          pointer: '',
          message: `is not valid JSON: ${parsed.message}`,
          file: path,
          line: parsed.position.line,
          column: parsed.position.column,
        },
      ],
    };
  }
  const result = run(parsed.value, resolved, parsed.map, parsed.duplicateKeys);
  return { ...result, file: path, metadata: parsed.value };
}

/**
 * One line for a terminal or a CI log, in the `file:line:column` form editors link to:
 * `connector-metadata.json:12:23: error: inboundEndpoints[0].endpointType: must be … (pattern)`.
 *
 * @example
 * ```ts
 * import { formatMetadataProblem, validateConnectorMetadata } from '@aio-connector/devkit';
 * const [first] = validateConnectorMetadata({}).problems;
 * if (first) console.log(formatMetadataProblem(first));
 * // error: name: is required but missing (expected a string) (required)
 * ```
 */
export function formatMetadataProblem(problem: MetadataProblem): string {
  let where = problem.file ?? '';
  if (problem.file !== undefined && problem.line !== undefined) {
    where += `:${problem.line}`;
    if (problem.column !== undefined) where += `:${problem.column}`;
  }
  const prefix = where === '' ? '' : `${where}: `;
  const subject = problem.path === '' ? '(document)' : problem.path;
  return `${prefix}${problem.severity}: ${subject}: ${problem.message} (${problem.rule})`;
}
