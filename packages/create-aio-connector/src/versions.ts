/**
 * The versions written into generated projects, in one place: the version of this generator (the
 * `@aio-connector/*` packages are released with it, in lockstep) and the tool versions the
 * templates use, equal to the ones the SDK itself is built and tested with.
 *
 * @module
 */
import { readFileSync } from 'node:fs';

function readOwnVersion(): string {
  // src/ and dist/ are both one level below the package root
  const manifest = JSON.parse(
    readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
  ) as { version?: unknown };
  if (typeof manifest.version !== 'string')
    throw new TypeError('the package.json of create-aio-connector has no version');
  return manifest.version;
}

/**
 * The version of this generator, and the default version of the `@aio-connector/*` packages a
 * generated project depends on. Each generated `package.json` records it as
 * `aioConnector.generatorVersion`.
 *
 * @example
 * ```ts
 * import { generatorVersion } from 'create-aio-connector';
 * console.log(`create-aio-connector ${generatorVersion}`);
 * ```
 */
export const generatorVersion: string = readOwnVersion();

/**
 * The versions of the development tools in generated projects: the ones the SDK is built and
 * tested with.
 *
 * @example
 * ```ts
 * import { toolVersions } from 'create-aio-connector';
 * toolVersions.typescript; // '~6.0.3'
 * ```
 */
export const toolVersions = Object.freeze({
  typescript: '~6.0.3',
  vitest: '^5.1.1',
  '@types/node': '^24.19.2',
} as const);
