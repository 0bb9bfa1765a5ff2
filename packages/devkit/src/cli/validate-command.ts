/**
 * `aio-connector validate`: checks Device/Asset YAML and `connector-metadata.json` files.
 *
 * @module
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { isAioError } from '@aio-connector/core';
import { loadResources, type ResourceProblem } from '../resources/load-resources.ts';
import {
  formatMetadataProblem,
  validateConnectorMetadataFile,
} from '../validate/validate-connector-metadata.ts';
import { UsageError, type CommandSpec, type ParsedArgs } from './args.ts';
import { palette, wantsColour } from './format.ts';

/** The arguments of `aio-connector validate`. */
export const validateCommand: CommandSpec = {
  name: 'validate',
  usage: '[options] [file or folder]...',
  brief: 'check Device/Asset YAML and connector-metadata.json files',
  summary: `Checks Device and Asset definitions (Kubernetes CR YAML, as you would kubectl apply them) and
connector-metadata.json files, and prints every problem as file:line: what is wrong and what was
expected. Folders are searched (not recursively) for *.yaml, *.yml and connector-metadata.json.
Without arguments: the current folder. YAML files are checked together, so an asset whose
device is in another file is fine.`,
  maxPositionals: Infinity,
  options: [
    {
      name: 'strict',
      type: 'boolean',
      description: 'Treat warnings as errors (exit code 1)',
    },
    {
      name: 'quiet',
      short: 'q',
      type: 'boolean',
      description: 'Print only problems, not the summary',
    },
  ],
  epilog: `Examples:
  aio-connector validate resources/ connector-metadata.json
  aio-connector validate --strict examples/demo/resources

Exit codes: 0 no errors (warnings allowed unless --strict); 1 errors found (or warnings with
--strict); 2 wrong command line or nothing to check.`,
};

interface Found {
  readonly yaml: string[];
  readonly metadata: string[];
}

async function collect(paths: readonly string[]): Promise<Found> {
  const yaml: string[] = [];
  const metadata: string[] = [];
  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch {
      throw new UsageError(`${path} does not exist`, 'validate');
    }
    if (info.isDirectory()) {
      for (const name of (await readdir(path)).sort()) {
        const file = join(path, name);
        if (/\.ya?ml$/i.test(name)) yaml.push(file);
        else if (name === 'connector-metadata.json') metadata.push(file);
      }
    } else if (extname(path).toLowerCase() === '.json') metadata.push(path);
    else yaml.push(path);
  }
  return { yaml, metadata };
}

/** Runs `aio-connector validate`; resolves with the exit code. */
export async function runValidate(args: ParsedArgs): Promise<number> {
  const out = process.stdout;
  const c = palette(wantsColour(out));
  const strict = args.options['strict'] === true;
  const quiet = args.options['quiet'] === true;
  const paths = args.positionals.length === 0 ? ['.'] : args.positionals;
  const found = await collect(paths);
  if (found.yaml.length === 0 && found.metadata.length === 0)
    throw new UsageError(
      `nothing to check in ${paths.join(', ')}: no *.yaml, *.yml or connector-metadata.json`,
      'validate',
    );
  let errors = 0;
  let warnings = 0;
  const error = (text: string): void => {
    errors += 1;
    out.write(`${c.red(text)}\n`);
  };
  const warning = (text: string): void => {
    warnings += 1;
    out.write(`${c.yellow(text)}\n`);
  };
  if (found.yaml.length > 0) {
    try {
      const loaded = await loadResources(found.yaml);
      for (const w of loaded.warnings) warning(`${w.file}:${w.line}: warning: ${w.message}`);
      if (!quiet)
        out.write(
          `${c.dim(`${found.yaml.length} YAML file${found.yaml.length === 1 ? '' : 's'}: ${loaded.devices.size} device${loaded.devices.size === 1 ? '' : 's'}, ${loaded.assets.size} asset${loaded.assets.size === 1 ? '' : 's'}`)}\n`,
        );
    } catch (failure) {
      if (!isAioError(failure)) throw failure;
      const problems =
        (failure.details?.['problems'] as readonly ResourceProblem[] | undefined) ?? [];
      if (problems.length === 0) error(`error: ${failure.message}`);
      for (const p of problems) error(`${p.file}:${p.line}: error: ${p.message}`);
    }
  }
  for (const file of found.metadata) {
    let result;
    try {
      result = await validateConnectorMetadataFile(file);
    } catch (failure) {
      error(`${file}: error: ${(failure as Error).message}`);
      continue;
    }
    for (const problem of result.problems) {
      if (problem.severity === 'error') error(formatMetadataProblem(problem));
      else warning(formatMetadataProblem(problem));
    }
    if (!quiet && result.problems.length === 0) out.write(`${c.dim(`${basename(file)}: valid`)}\n`);
  }
  const failed = errors > 0 || (strict && warnings > 0);
  if (!quiet) {
    const summary = `${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`;
    out.write(`${failed ? c.red(summary) : c.green(summary)}\n`);
  }
  return failed ? 1 : 0;
}
