import { describe, expect, it } from 'vitest';
import { formatHelp, parseArgs, UsageError, type CommandSpec } from '../../src/cli/args.ts';
import { condenseLogLine, truncate } from '../../src/cli/format.ts';
import { payloadPreview } from '../../src/sandbox/sandbox-monitor.ts';

const spec: CommandSpec = {
  name: 'dev',
  usage: '[options] [-- <command>]',
  brief: 'runs things',
  summary: 'Runs things.',
  allowRest: true,
  maxPositionals: 1,
  options: [
    {
      name: 'resources',
      short: 'r',
      type: 'string',
      repeatable: true,
      valueName: 'PATH',
      description: 'A file',
    },
    { name: 'port', short: 'p', type: 'number', description: 'The port' },
    { name: 'watch', type: 'boolean', description: 'Watch' },
    { name: 'name', type: 'string', description: 'A name' },
  ],
  epilog: 'Exit codes: 0 fine.',
};

function usageError(argv: string[]): string {
  try {
    parseArgs(spec, argv);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('no usage error');
}

describe('parseArgs', () => {
  it('reads long, short, inline, repeatable, negated and rest arguments', () => {
    expect(
      parseArgs(spec, [
        '-r',
        'a',
        '--resources=b',
        '-rc',
        '--port',
        '1883',
        '--no-watch',
        'pos',
        '--',
        'node',
        '--x',
      ]),
    ).toEqual({
      options: { resources: ['a', 'b', 'c'], port: 1883, watch: false },
      positionals: ['pos'],
      rest: ['node', '--x'],
      help: false,
    });
    expect(parseArgs(spec, ['--help']).help).toBe(true);
    expect(parseArgs(spec, ['--watch']).options).toEqual({ watch: true });
    expect(parseArgs(spec, ['--port', '-1']).options).toEqual({ port: -1 });
  });

  it('rejects what it does not understand, with a suggestion', () => {
    expect(usageError(['--resource', 'x'])).toBe(
      'unknown option --resource for "dev" (did you mean --resources?)',
    );
    expect(usageError(['--port', 'abc'])).toBe('--port expects a whole number, received "abc"');
    expect(usageError(['--name'])).toBe('--name expects a value');
    expect(usageError(['--name', 'a', '--name', 'b'])).toBe('--name is given twice');
    expect(usageError(['--watch=yes'])).toBe('--watch takes no value');
    expect(usageError(['-x'])).toBe('unknown option -x for "dev"');
    expect(usageError(['a', 'b'])).toBe('"dev" takes at most 1 argument, received 2');
  });

  it('formats the help with every option', () => {
    const help = formatHelp(spec);
    expect(help).toContain('Usage: aio-connector dev [options] [-- <command>]');
    expect(help).toMatch(/-r, --resources PATH +A file \(repeatable\)/);
    expect(help).toMatch(/-p, --port N +The port/);
    expect(help).toMatch(/-h, --help +Show this help\./);
    expect(help.trimEnd().endsWith('Exit codes: 0 fine.')).toBe(true);
  });
});

describe('terminal text', () => {
  it('condenses JSON log lines and keeps other lines', () => {
    expect(
      condenseLogLine(
        '{"level":"warn","time":"2026-01-01T00:00:00Z","msg":"sampling failed","asset":"boiler","err":{"message":"boom","name":"HttpError","code":"ERR_AIO_HTTP_STATUS"}}',
      ),
    ).toEqual({
      level: 'warn',
      text: 'warn sampling failed asset=boiler err="ERR_AIO_HTTP_STATUS: boom"',
    });
    expect(condenseLogLine('plain text')).toEqual({ level: undefined, text: 'plain text' });
    expect(condenseLogLine('{not json')).toEqual({ level: undefined, text: '{not json' });
    expect(truncate('abcdef', 4)).toBe('abc…');
  });

  it('previews payloads as single-line text, or their size', () => {
    expect(payloadPreview(new TextEncoder().encode('{\n  "a": 1\n}'), 50)).toBe('{ "a": 1 }');
    expect(payloadPreview(new TextEncoder().encode('x'.repeat(30)), 10)).toBe(`${'x'.repeat(9)}…`);
    expect(payloadPreview(Uint8Array.of(0xff, 0xfe, 0x00), 10)).toBe('<3 bytes>');
    expect(payloadPreview(Uint8Array.of(0x41, 0x00, 0x42), 10)).toBe('<3 bytes>');
  });
});
