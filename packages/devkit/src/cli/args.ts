/**
 * The command-line argument parser of `aio-connector`: GNU-style long options (`--name value`,
 * `--name=value`), short aliases (`-r value`), boolean flags with a `--no-` form, repeatable
 * options, positional arguments, and everything after `--` kept as is.
 *
 * @module
 */

/** One option of a command. */
export interface OptionSpec {
  /** The long name, without `--`. */
  readonly name: string;
  /** A one-letter alias, without `-`. */
  readonly short?: string;
  /** `boolean` options take no value; `number` values must be integers. */
  readonly type: 'string' | 'number' | 'boolean';
  /** May be given more than once (the values are collected in order). */
  readonly repeatable?: boolean;
  /** The value's name in the help text, e.g. `DIR`. */
  readonly valueName?: string;
  /** One line (or more) for the help text. */
  readonly description: string;
}

/** A command's arguments. */
export interface CommandSpec {
  readonly name: string;
  /** The usage line after `aio-connector <name>`, e.g. `[options] <topic>...`. */
  readonly usage: string;
  /** One line for the list of commands. */
  readonly brief: string;
  /** What the command does, for the help text. */
  readonly summary: string;
  readonly options: readonly OptionSpec[];
  /** The most positional arguments accepted. Default: none. */
  readonly maxPositionals?: number;
  /** The fewest positional arguments required. Default: 0. */
  readonly minPositionals?: number;
  /** Whether arguments after `--` are accepted. Default: `false`. */
  readonly allowRest?: boolean;
  /** Extra help text after the options (examples, exit codes). */
  readonly epilog?: string;
}

/** What {@link parseArgs} returns. */
export interface ParsedArgs {
  /** Option values by long name: a string, number or boolean, or an array for repeatable ones. */
  readonly options: Readonly<
    Record<string, string | number | boolean | readonly (string | number)[]>
  >;
  readonly positionals: readonly string[];
  /** The arguments after `--`, when present. */
  readonly rest: readonly string[] | undefined;
  /** `--help` or `-h` was given. */
  readonly help: boolean;
}

/** A mistake in the command line: the CLI prints it with a pointer to `--help` and exits 2. */
export class UsageError extends Error {
  readonly command: string | undefined;
  constructor(message: string, command?: string) {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}

function closest(word: string, candidates: readonly string[]): string | undefined {
  const distance = (a: string, b: string): number => {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      let previous = row[0] as number;
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const current = row[j] as number;
        row[j] = Math.min(
          (row[j] as number) + 1,
          (row[j - 1] as number) + 1,
          previous + (a[i - 1] === b[j - 1] ? 0 : 1),
        );
        previous = current;
      }
    }
    return row[b.length] as number;
  };
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = distance(word, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(word.length / 3)) ? best : undefined;
}

/** Suggests the closest of `candidates` to a mistyped word, or `undefined`. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  return closest(word, candidates);
}

/**
 * Parses `argv` (the arguments after the command name) against a command's spec. Throws a
 * {@link UsageError} for an unknown option (with a suggestion), a missing or invalid value, or
 * too many or too few positional arguments.
 */
export function parseArgs(spec: CommandSpec, argv: readonly string[]): ParsedArgs {
  const options: Record<string, string | number | boolean | (string | number)[]> = {};
  const positionals: string[] = [];
  let rest: string[] | undefined;
  let help = false;
  const byName = new Map(spec.options.map((option) => [option.name, option]));
  const byShort = new Map(
    spec.options.flatMap((option) =>
      option.short === undefined ? [] : [[option.short, option] as const],
    ),
  );
  const fail = (message: string): never => {
    throw new UsageError(message, spec.name);
  };
  const set = (option: OptionSpec, raw: string | boolean, shown: string): void => {
    let value: string | number | boolean = raw;
    if (option.type === 'number') {
      if (typeof raw !== 'string' || !/^-?\d+$/.test(raw.trim()))
        fail(`${shown} expects a whole number, received ${JSON.stringify(raw)}`);
      value = Number(raw);
    }
    if (option.repeatable === true) {
      const list = (options[option.name] as (string | number)[] | undefined) ?? [];
      list.push(value as string | number);
      options[option.name] = list;
    } else {
      if (options[option.name] !== undefined && option.type !== 'boolean')
        fail(`${shown} is given twice`);
      options[option.name] = value;
    }
  };
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] as string;
    if (arg === '--') {
      if (spec.allowRest !== true) fail(`"--" is not accepted by "${spec.name}"`);
      rest = argv.slice(index + 1);
      break;
    }
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    let option: OptionSpec | undefined;
    let inline: string | undefined;
    let shown: string;
    if (arg.startsWith('--')) {
      const equals = arg.indexOf('=');
      const name = equals === -1 ? arg.slice(2) : arg.slice(2, equals);
      inline = equals === -1 ? undefined : arg.slice(equals + 1);
      shown = `--${name}`;
      option = byName.get(name);
      if (option === undefined && name.startsWith('no-')) {
        const negated = byName.get(name.slice(3));
        if (negated?.type === 'boolean') {
          if (inline !== undefined) fail(`${shown} takes no value`);
          options[negated.name] = false;
          continue;
        }
      }
      if (option === undefined) {
        const guess = suggest(name, [...byName.keys()]);
        fail(
          `unknown option ${shown} for "${spec.name}"${guess === undefined ? '' : ` (did you mean --${guess}?)`}`,
        );
      }
    } else if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) {
      const letter = arg.slice(1, 2);
      option = byShort.get(letter);
      if (option === undefined) fail(`unknown option -${letter} for "${spec.name}"`);
      if (arg.length > 2) inline = arg.slice(2);
      shown = `-${letter}`;
    } else {
      positionals.push(arg);
      continue;
    }
    const found = option as OptionSpec;
    if (found.type === 'boolean') {
      if (inline !== undefined) fail(`${shown} takes no value`);
      set(found, true, shown);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      const next = argv[index + 1];
      if (
        next === undefined ||
        (next.startsWith('-') && next.length > 1 && found.type !== 'number')
      )
        fail(`${shown} expects ${found.valueName ?? 'a value'}`);
      value = next;
      index += 1;
    }
    set(found, value as string, shown);
  }
  if (!help) {
    const max = spec.maxPositionals ?? 0;
    if (positionals.length > max)
      fail(
        max === 0
          ? `"${spec.name}" takes no arguments, received ${JSON.stringify(positionals[0])}`
          : `"${spec.name}" takes at most ${max} argument${max === 1 ? '' : 's'}, received ${positionals.length}`,
      );
    const min = spec.minPositionals ?? 0;
    if (positionals.length < min) fail(`"${spec.name}" needs ${spec.usage}`);
  }
  return { options, positionals, rest, help };
}

/** The help text of a command. */
export function formatHelp(spec: CommandSpec, program = 'aio-connector'): string {
  const lines = [`Usage: ${program} ${spec.name} ${spec.usage}`, '', spec.summary, '', 'Options:'];
  const labels = spec.options.map((option) => {
    const value =
      option.type === 'boolean'
        ? ''
        : ` ${option.valueName ?? (option.type === 'number' ? 'N' : 'VALUE')}`;
    const short = option.short === undefined ? '    ' : `-${option.short}, `;
    return `  ${short}--${option.name}${value}`;
  });
  labels.push('  -h, --help');
  const width = Math.min(34, Math.max(...labels.map((label) => label.length)) + 2);
  const descriptions = [
    ...spec.options.map(
      (option) => option.description + (option.repeatable === true ? ' (repeatable)' : ''),
    ),
    'Show this help.',
  ];
  labels.forEach((label, index) => {
    const text = (descriptions[index] as string).split('\n');
    if (label.length + 2 > width) {
      lines.push(label);
      for (const line of text) lines.push(`${' '.repeat(width)}${line}`);
    } else {
      lines.push(`${label.padEnd(width)}${text[0] ?? ''}`);
      for (const line of text.slice(1)) lines.push(`${' '.repeat(width)}${line}`);
    }
  });
  if (spec.epilog !== undefined) lines.push('', spec.epilog.trimEnd());
  return `${lines.join('\n')}\n`;
}
