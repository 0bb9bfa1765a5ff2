/**
 * `scaffold()`: creates a connector project from a template. The CLI is a thin layer of prompts
 * and messages over it.
 *
 * @module
 */
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { renderTemplate } from './render.ts';
import {
  defaultTemplate,
  isTemplateName,
  renamedFiles,
  templateNames,
  templates,
  templatesRoot,
  type TemplateName,
} from './templates.ts';
import {
  toValidConnectorName,
  validateConnectorName,
  validateEndpointType,
  validateSdkVersion,
} from './validate.ts';
import { generatorVersion, toolVersions } from './versions.ts';

/** Options of {@link scaffold}. Every field but `dir` is optional. */
export interface ScaffoldOptions {
  /** The folder to create the project in (created when missing). Required. */
  readonly dir: string;
  /** The template. Default: `'polling'`. */
  readonly template?: TemplateName;
  /**
   * The connector name: the npm package, container image and connector template name. Default:
   * the folder name made valid (see `toValidConnectorName`), or `my-connector`.
   */
  readonly name?: string;
  /** The inbound endpoint type (`Vendor.Type`). Default: the template's (`Contoso.Http`, ...). */
  readonly endpointType?: string;
  /** The version of the `@aio-connector/*` dependencies. Default: this generator's version. */
  readonly sdkVersion?: string;
  /**
   * Write into a folder that is not empty: files of the template replace files of the same name,
   * other files are kept. Default: `false` (a `TargetNotEmptyError` is thrown).
   */
  readonly force?: boolean;
  /** Aborts the copy. */
  readonly signal?: AbortSignal;
}

/** What {@link scaffold} created. */
export interface ScaffoldResult {
  /** The project folder, absolute. */
  readonly dir: string;
  readonly template: TemplateName;
  readonly name: string;
  readonly endpointType: string;
  readonly sdkVersion: string;
  /** The files written, relative to `dir`, with `/` separators, sorted. */
  readonly files: readonly string[];
}

/**
 * Thrown by {@link scaffold} when the target folder already has files (other than `.git`) and
 * `force` is not set.
 *
 * @example
 * ```ts
 * import { TargetNotEmptyError, scaffold } from 'create-aio-connector';
 * try {
 *   await scaffold({ dir: 'my-connector' });
 * } catch (error) {
 *   if (error instanceof TargetNotEmptyError) console.error(error.message, error.entries);
 * }
 * ```
 */
export class TargetNotEmptyError extends Error {
  /** A stable code for this failure. */
  readonly code = 'ERR_TARGET_NOT_EMPTY';
  /** The folder, absolute. */
  readonly dir: string;
  /** The entries found in it (at most 10). */
  readonly entries: readonly string[];

  constructor(dir: string, entries: readonly string[]) {
    const shown = entries.slice(0, 10);
    super(
      `${dir} is not empty (${shown.join(', ')}${entries.length > shown.length ? ', ...' : ''}); choose another folder, or write into it with --force`,
    );
    this.name = 'TargetNotEmptyError';
    this.dir = dir;
    this.entries = Object.freeze(shown);
  }
}

/**
 * The connector name used for a folder when none is given: the folder name made valid, or
 * `my-connector` when nothing usable is left of it.
 *
 * @example
 * ```ts
 * import { defaultConnectorName } from 'create-aio-connector';
 * defaultConnectorName('./Thermostat Connector'); // 'thermostat-connector'
 * ```
 */
export function defaultConnectorName(dir: string): string {
  return toValidConnectorName(basename(resolve(dir))) || 'my-connector';
}

/**
 * The entries of `dir` that make it "not empty" (everything but `.git`), or `[]` when it is
 * empty or does not exist. Throws when `dir` exists and is not a folder.
 *
 * @example
 * ```ts
 * import { existingEntries } from 'create-aio-connector';
 * if ((await existingEntries('my-connector')).length > 0) console.log('not empty');
 * ```
 */
export async function existingEntries(dir: string): Promise<string[]> {
  let info;
  try {
    info = await stat(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  if (!info.isDirectory()) throw new Error(`${resolve(dir)} exists and is not a folder`);
  return (await readdir(dir)).filter((name) => name !== '.git').sort();
}

interface TemplateFile {
  /** Path in the generated project, with `/` separators. */
  readonly path: string;
  readonly content: Uint8Array;
}

async function readTemplate(
  root: string,
  values: Readonly<Record<string, string>>,
  signal: AbortSignal | undefined,
): Promise<TemplateFile[]> {
  const files: TemplateFile[] = [];
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  for (const entry of entries) {
    signal?.throwIfAborted();
    if (!entry.isFile()) continue;
    const source = join(entry.parentPath, entry.name);
    const parts = relative(root, source).split(sep);
    const last = parts.length - 1;
    parts[last] = renamedFiles[parts[last] ?? ''] ?? parts[last] ?? '';
    const path = parts.join('/');
    const bytes = await readFile(source, signal === undefined ? {} : { signal });
    // only files with placeholders are rewritten; everything else is copied byte for byte
    const content = bytes.includes('{{')
      ? new TextEncoder().encode(renderTemplate(bytes.toString('utf8'), values, path))
      : bytes;
    files.push({ path, content });
  }
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * Creates a connector project from a template: copies `templates/<template>/` into `dir`, with
 * the placeholders replaced (`{{connectorName}}`, `{{endpointType}}`, `{{sdkVersion}}`, ...) and
 * `_gitignore` renamed to `.gitignore`. Every file is prepared before the first is written, so a
 * failure leaves nothing behind. Does not install dependencies or create a git repository (the
 * CLI does).
 *
 * Throws a `TypeError` for an option of the wrong type, a `RangeError` for an invalid value (with
 * the rule it breaks), and a {@link TargetNotEmptyError} when `dir` has files and `force` is not
 * set.
 *
 * @example
 * ```ts
 * import { scaffold } from 'create-aio-connector';
 * const result = await scaffold({
 *   dir: 'thermostat-connector',
 *   template: 'polling',
 *   endpointType: 'Contoso.Thermostat',
 * });
 * console.log(result.files);
 * ```
 */
export async function scaffold(options: ScaffoldOptions): Promise<ScaffoldResult> {
  if (typeof options !== 'object' || options === null)
    throw new TypeError(`options must be an object, found ${typeof options}`);
  const { dir, force = false, signal } = options;
  if (typeof dir !== 'string') throw new TypeError(`dir must be a string, found ${typeof dir}`);
  if (dir === '') throw new RangeError('dir must not be empty');
  if (typeof force !== 'boolean')
    throw new TypeError(`force must be a boolean, found ${typeof force}`);
  if (signal !== undefined && !(signal instanceof AbortSignal))
    throw new TypeError('signal must be an AbortSignal');

  const template = options.template ?? defaultTemplate;
  if (!isTemplateName(template))
    throw new RangeError(
      `template must be one of ${templateNames.join(', ')}, found ${JSON.stringify(template)}`,
    );
  const name = options.name ?? defaultConnectorName(dir);
  const endpointType = options.endpointType ?? templates[template].defaultEndpointType;
  const sdkVersion = options.sdkVersion ?? generatorVersion;
  const problem =
    validateConnectorName(name) ??
    validateEndpointType(endpointType) ??
    validateSdkVersion(sdkVersion);
  if (problem !== undefined) throw new RangeError(problem);
  signal?.throwIfAborted();

  const target = resolve(dir);
  const entries = await existingEntries(target);
  if (entries.length > 0 && !force) throw new TargetNotEmptyError(target, entries);

  const values = {
    connectorName: name,
    endpointType,
    sdkVersion,
    generatorVersion,
    typescriptVersion: toolVersions.typescript,
    vitestVersion: toolVersions.vitest,
    typesNodeVersion: toolVersions['@types/node'],
  };
  const files = await readTemplate(join(templatesRoot(), template), values, signal);
  for (const file of files) {
    signal?.throwIfAborted();
    const path = join(target, ...file.path.split('/'));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, file.content, signal === undefined ? {} : { signal });
  }
  return Object.freeze({
    dir: target,
    template,
    name,
    endpointType,
    sdkVersion,
    files: Object.freeze(files.map((file) => file.path)),
  });
}
