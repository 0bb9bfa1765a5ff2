#!/usr/bin/env node
/**
 * `aio-connector`: the command line of the SDK's local sandbox.
 *
 * ```text
 * aio-connector dev            run connectors against a local imitation of an AIO cluster
 * aio-connector validate       check Device/Asset YAML and connector-metadata.json
 * aio-connector sub            print MQTT messages with their MQTT 5 properties
 * aio-connector sample-server  run the thermostat sample server (REST or SSE)
 * ```
 *
 * Exit codes: 0 success; 1 the command failed (see each command's help); 2 wrong command line.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import {
  formatHelp,
  parseArgs,
  suggest,
  UsageError,
  type CommandSpec,
  type ParsedArgs,
} from './args.ts';
import { devCommand, runDev } from './dev-command.ts';
import { runSampleServer, sampleServerCommand } from './sample-server-command.ts';
import { runSub, subCommand } from './sub-command.ts';
import { runValidate, validateCommand } from './validate-command.ts';

interface Command {
  readonly spec: CommandSpec;
  readonly run: (args: ParsedArgs) => Promise<number>;
}

const commands: readonly Command[] = [
  { spec: devCommand, run: runDev },
  { spec: validateCommand, run: runValidate },
  { spec: subCommand, run: runSub },
  { spec: sampleServerCommand, run: runSampleServer },
];

function version(): string {
  try {
    const manifest = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version?: unknown };
    return typeof manifest.version === 'string' ? manifest.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

function mainHelp(): string {
  const width = Math.max(...commands.map((c) => c.spec.name.length)) + 2;
  return `Usage: aio-connector <command> [options]

The local sandbox of the TypeScript SDK for Azure IoT Operations connectors.

Commands:
${commands.map((c) => `  ${c.spec.name.padEnd(width)}${c.spec.brief}`).join('\n')}

  aio-connector <command> --help   shows the options of a command
  aio-connector --version          shows the version

Exit codes: 0 success; 1 the command failed; 2 wrong command line (each command's --help
lists its own).
`;
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? rest[0] : undefined;
    const command = commands.find((c) => c.spec.name === topic);
    process.stdout.write(command === undefined ? mainHelp() : formatHelp(command.spec));
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const command = commands.find((c) => c.spec.name === name);
  try {
    if (command === undefined) {
      const guess = suggest(
        name,
        commands.map((c) => c.spec.name),
      );
      throw new UsageError(
        `unknown command "${name}"${guess === undefined ? '' : ` (did you mean "${guess}"?)`}`,
      );
    }
    const args = parseArgs(command.spec, rest);
    if (args.help) {
      process.stdout.write(formatHelp(command.spec));
      return 0;
    }
    return await command.run(args);
  } catch (error) {
    if (error instanceof UsageError) {
      const help =
        error.command === undefined
          ? 'aio-connector --help'
          : `aio-connector ${error.command} --help`;
      process.stderr.write(`aio-connector: ${error.message}\nSee: ${help}\n`);
      return 2;
    }
    process.stderr.write(
      `aio-connector: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return 1;
  }
}

// a reader that went away (`| head`) is not an error
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') return;
    throw error;
  });

const code = await main(process.argv.slice(2));
process.exitCode = code;
// sockets and timers left by a command must not keep the process alive once it is done
setTimeout(() => process.exit(code), 2_000).unref();
