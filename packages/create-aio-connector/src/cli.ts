/**
 * The `create-aio-connector` command: flags and prompts over {@link scaffold}, then `git init`,
 * the dependency install and the next steps. Every prompt has a flag; with `--yes`, or when stdin
 * is not a terminal, nothing is asked and defaults fill what is not given.
 *
 * @module
 */
import { spawnSync } from 'node:child_process';
import { isAbsolute, relative, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import * as prompts from '@clack/prompts';
import {
  TargetNotEmptyError,
  defaultConnectorName,
  existingEntries,
  scaffold,
} from './scaffold.ts';
import { defaultTemplate, isTemplateName, templateNames, templates } from './templates.ts';
import type { TemplateName } from './templates.ts';
import { validateConnectorName, validateEndpointType, validateSdkVersion } from './validate.ts';
import { generatorVersion } from './versions.ts';

/**
 * The exit codes of `create-aio-connector`.
 *
 * @example
 * ```ts
 * import { cliExitCodes } from 'create-aio-connector';
 * if (code === cliExitCodes.targetNotEmpty) console.log('pass --force or another folder');
 * ```
 */
export const cliExitCodes = Object.freeze({
  /** The project was created (a failed install or `git init` is reported as a warning). */
  ok: 0,
  /** The project could not be created (a file-system error, a missing template). */
  failed: 1,
  /** Invalid command line: an unknown flag, a missing or invalid value. Nothing was written. */
  usage: 2,
  /** The target folder is not empty and `--force` was not given. Nothing was written. */
  targetNotEmpty: 3,
  /** Cancelled at a prompt (Ctrl-C, Escape). Nothing was written. */
  cancelled: 130,
} as const);

/**
 * The package managers the install and the printed next steps can use.
 *
 * @example
 * ```ts
 * import { packageManagers } from 'create-aio-connector';
 * packageManagers; // ['npm', 'pnpm', 'yarn']
 * ```
 */
export const packageManagers = Object.freeze(['npm', 'pnpm', 'yarn'] as const);

/** A package manager name. */
export type PackageManager = (typeof packageManagers)[number];

/** Where the CLI reads and writes; the process's streams by default. */
export interface CliIo {
  /** Prompts read from it; whether it is a terminal decides the default of `--interactive`. */
  readonly stdin?: Readable & { readonly isTTY?: boolean };
  readonly stdout?: Writable;
  readonly stderr?: Writable;
  /** Environment (`npm_config_user_agent` picks the package manager). Default: `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The folder relative paths are resolved from. Default: `process.cwd()`. */
  readonly cwd?: string;
}

const usage = `Usage: create-aio-connector [dir] [options]

Creates a TypeScript Akri connector project for Azure IoT Operations.

Options:
  -t, --template <name>          ${templateNames.join(' | ')} (default: ${defaultTemplate})
  -n, --name <name>              connector name: npm package, image and connector template name
                                 (default: the folder name)
  -e, --endpoint-type <type>     inbound endpoint type, Vendor.Type (default: per template)
      --sdk-version <version>    version of the @aio-connector packages (default: ${generatorVersion})
      --package-manager <name>   ${packageManagers.join(' | ')} (default: the one running this command)
      --no-install               do not install the dependencies
      --no-git                   do not create a git repository
  -f, --force                    write into a folder that is not empty
  -y, --yes                      never prompt: use the defaults for what is not given
      --interactive              prompt for what is not given (default: when stdin is a terminal)
      --no-interactive           the same as --yes
  -h, --help                     show this help
  -v, --version                  show the version

Templates:
${templateNames.map((name) => `  ${name.padEnd(14)}${templates[name].description}`).join('\n')}

Exit codes: 0 created, 1 failed, 2 invalid arguments, 3 folder not empty, 130 cancelled.
`;

class UsageError extends Error {}

/** What the user asked for, once flags and prompts are settled. */
interface Answers {
  dir: string;
  name: string;
  template: TemplateName;
  endpointType: string;
  sdkVersion: string;
  packageManager: PackageManager;
  install: boolean;
  git: boolean;
  force: boolean;
}

/**
 * The package manager that runs this command, from `npm_config_user_agent` (`pnpm/9.1.0 ...`),
 * or `undefined`.
 *
 * @example
 * ```ts
 * import { packageManagerFromUserAgent } from 'create-aio-connector';
 * packageManagerFromUserAgent('pnpm/9.1.0 npm/? node/v24.0.0 linux x64'); // 'pnpm'
 * ```
 */
export function packageManagerFromUserAgent(
  userAgent: string | undefined,
): PackageManager | undefined {
  const name = userAgent?.split(' ')[0]?.split('/')[0];
  return packageManagers.find((pm) => pm === name);
}

function parse(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      allowPositionals: true,
      allowNegative: true,
      strict: true,
      options: {
        template: { type: 'string', short: 't' },
        name: { type: 'string', short: 'n' },
        'endpoint-type': { type: 'string', short: 'e' },
        'sdk-version': { type: 'string' },
        'package-manager': { type: 'string' },
        install: { type: 'boolean' },
        git: { type: 'boolean' },
        force: { type: 'boolean', short: 'f' },
        yes: { type: 'boolean', short: 'y' },
        interactive: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function check(problem: string | undefined): void {
  if (problem !== undefined) throw new UsageError(problem);
}

class Cancelled extends Error {}

function answer<T>(value: T): Exclude<T, symbol> {
  if (prompts.isCancel(value)) throw new Cancelled();
  return value as Exclude<T, symbol>;
}

/**
 * Runs `create-aio-connector` with the arguments given (without `node` and the script) and
 * resolves with the exit code ({@link cliExitCodes}). Never throws.
 *
 * @example
 * ```ts
 * import { main } from 'create-aio-connector';
 * process.exitCode = await main(['thermostat', '--template', 'polling', '--yes', '--no-install']);
 * ```
 */
export async function main(argv: readonly string[], io: CliIo = {}): Promise<number> {
  const stdin = io.stdin ?? process.stdin;
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const env = io.env ?? process.env;
  const cwd = io.cwd ?? process.cwd();
  const print = (text = '') => stdout.write(`${text}\n`);

  try {
    const { values, positionals } = parse(argv);
    if (values.help) {
      stdout.write(usage);
      return cliExitCodes.ok;
    }
    if (values.version) {
      print(generatorVersion);
      return cliExitCodes.ok;
    }
    if (positionals.length > 1)
      throw new UsageError(`expected at most one folder, found ${positionals.join(', ')}`);

    const template = values.template;
    if (template !== undefined && !isTemplateName(template))
      throw new UsageError(
        `unknown template "${template}": choose one of ${templateNames.join(', ')}`,
      );
    if (values.name !== undefined) check(validateConnectorName(values.name));
    const endpointType = values['endpoint-type'];
    if (endpointType !== undefined) check(validateEndpointType(endpointType));
    const sdkVersion = values['sdk-version'] ?? generatorVersion;
    check(validateSdkVersion(sdkVersion));
    const pmFlag = values['package-manager'];
    if (pmFlag !== undefined && !packageManagers.some((pm) => pm === pmFlag))
      throw new UsageError(
        `unknown package manager "${pmFlag}": choose one of ${packageManagers.join(', ')}`,
      );
    const packageManager =
      packageManagers.find((pm) => pm === pmFlag) ??
      packageManagerFromUserAgent(env['npm_config_user_agent']) ??
      'npm';

    const interactive = values.yes !== true && (values.interactive ?? stdin.isTTY === true);
    const common = { input: stdin, output: stdout };
    const given = {
      dir: positionals[0],
      name: values.name,
      template,
      endpointType,
      install: values.install,
    };
    let answers: Answers;
    if (interactive) {
      prompts.intro(`create-aio-connector ${generatorVersion}`, common);
      const dir =
        given.dir ??
        answer(
          await prompts.text({
            ...common,
            message: 'Where should the project be created?',
            placeholder: given.name ?? 'my-connector',
            defaultValue: given.name ?? 'my-connector',
          }),
        );
      const name =
        given.name ??
        answer(
          await prompts.text({
            ...common,
            message: 'Connector name (npm package, image and connector template name)',
            initialValue: defaultConnectorName(resolve(cwd, dir)),
            validate: (value) => validateConnectorName(value ?? ''),
          }),
        );
      const chosen =
        given.template ??
        answer(
          await prompts.select<TemplateName>({
            ...common,
            message: 'Template',
            initialValue: defaultTemplate,
            options: templateNames.map((value) => ({
              value,
              label: templates[value].title,
              hint: templates[value].description,
            })),
          }),
        );
      const type =
        given.endpointType ??
        answer(
          await prompts.text({
            ...common,
            message: 'Inbound endpoint type (Vendor.Type) of the devices it serves',
            initialValue: templates[chosen].defaultEndpointType,
            validate: (value) => validateEndpointType(value ?? ''),
          }),
        );
      let force = values.force ?? false;
      const entries = await existingEntries(resolve(cwd, dir));
      if (entries.length > 0 && !force) {
        force = answer(
          await prompts.confirm({
            ...common,
            message: `${dir} is not empty. Write the project into it anyway (files of the same name are replaced)?`,
            initialValue: false,
          }),
        );
        if (!force) throw new Cancelled();
      }
      const install =
        given.install ??
        answer(
          await prompts.confirm({
            ...common,
            message: `Install the dependencies with ${packageManager} now?`,
            initialValue: true,
          }),
        );
      answers = {
        dir,
        name,
        template: chosen,
        endpointType: type,
        sdkVersion,
        packageManager,
        install,
        git: values.git ?? true,
        force,
      };
    } else {
      const dir = given.dir ?? given.name ?? 'my-connector';
      answers = {
        dir,
        name: given.name ?? defaultConnectorName(resolve(cwd, dir)),
        template: given.template ?? defaultTemplate,
        endpointType:
          given.endpointType ?? templates[given.template ?? defaultTemplate].defaultEndpointType,
        sdkVersion,
        packageManager,
        install: given.install ?? true,
        git: values.git ?? true,
        force: values.force ?? false,
      };
    }

    const result = await scaffold({
      dir: resolve(cwd, answers.dir),
      template: answers.template,
      name: answers.name,
      endpointType: answers.endpointType,
      sdkVersion: answers.sdkVersion,
      force: answers.force,
    });
    const say = (text: string): void => {
      if (interactive) prompts.log.step(text, common);
      else print(text);
    };
    const warn = (text: string): void => {
      if (interactive) prompts.log.warn(text, common);
      else stderr.write(`warning: ${text}\n`);
    };
    say(
      `Created the ${result.template} connector "${result.name}" (${result.files.length} files) in ${result.dir}`,
    );

    if (answers.git) {
      const outcome = initGit(result.dir);
      if (outcome.status === 'created') say('Created a git repository');
      else if (outcome.status === 'failed') warn(`git init failed: ${outcome.reason}`);
    }
    let installed = false;
    if (answers.install) {
      say(`Installing the dependencies with ${answers.packageManager} ...`);
      const outcome = install(answers.packageManager, result.dir);
      if (outcome === undefined) installed = true;
      else warn(`${answers.packageManager} install failed: ${outcome}`);
    }

    const fromCwd = relative(cwd, result.dir);
    const shownDir = fromCwd.startsWith('..') || isAbsolute(fromCwd) ? result.dir : fromCwd;
    const steps = nextSteps(shownDir, answers.packageManager, installed);
    if (interactive) {
      prompts.note(steps, 'Next steps', common);
      prompts.outro('Done. See README.md for the local sandbox and how to ship it.', common);
    } else {
      print();
      print('Next steps:');
      print(steps.replace(/^/gmu, '  '));
    }
    return cliExitCodes.ok;
  } catch (error) {
    if (error instanceof Cancelled) {
      prompts.cancel('Operation cancelled', { output: stdout });
      return cliExitCodes.cancelled;
    }
    if (error instanceof UsageError) {
      stderr.write(
        `create-aio-connector: ${error.message}\nRun create-aio-connector --help for the options.\n`,
      );
      return cliExitCodes.usage;
    }
    if (error instanceof TargetNotEmptyError) {
      stderr.write(`create-aio-connector: ${error.message}\n`);
      return cliExitCodes.targetNotEmpty;
    }
    stderr.write(
      `create-aio-connector: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return cliExitCodes.failed;
  }
}

type GitOutcome =
  | { readonly status: 'created' }
  | { readonly status: 'inside' }
  | { readonly status: 'failed'; readonly reason: string };

/** Creates a git repository unless the folder is already inside one. */
function initGit(dir: string): GitOutcome {
  const inside = spawnSync('git', ['rev-parse', '--is-inside-work-tree'], {
    cwd: dir,
    encoding: 'utf8',
  });
  if (inside.error !== undefined) return { status: 'failed', reason: inside.error.message };
  if (inside.status === 0 && inside.stdout.trim() === 'true') return { status: 'inside' };
  const init = spawnSync('git', ['init', '--quiet'], { cwd: dir, encoding: 'utf8' });
  if (init.error !== undefined) return { status: 'failed', reason: init.error.message };
  if (init.status === 0) return { status: 'created' };
  return { status: 'failed', reason: init.stderr.trim() || `exit code ${init.status ?? '?'}` };
}

/** Runs `<pm> install`; returns why it failed, or `undefined`. */
function install(packageManager: PackageManager, dir: string): string | undefined {
  const run = spawnSync(packageManager, ['install'], {
    cwd: dir,
    stdio: 'inherit',
    // npm, pnpm and yarn are .cmd scripts on Windows
    shell: process.platform === 'win32',
  });
  if (run.error !== undefined) return run.error.message;
  return run.status === 0 ? undefined : `exit code ${run.status ?? run.signal ?? '?'}`;
}

function nextSteps(dir: string, packageManager: PackageManager, installed: boolean): string {
  const run = (script: string) => `${packageManager} run ${script}`;
  const lines: string[] = [];
  if (dir !== '') lines.push(`cd ${/\s/u.test(dir) ? JSON.stringify(dir) : dir}`);
  if (!installed) lines.push(`${packageManager} install`);
  lines.push(
    `${run('build').padEnd(28)}# compile`,
    `${run('test').padEnd(28)}# unit tests, metadata and resource checks`,
    `${run('simulator').padEnd(28)}# a device to develop against (in its own terminal)`,
    `${run('dev').padEnd(28)}# run the connector in the local sandbox`,
  );
  return lines.join('\n');
}
