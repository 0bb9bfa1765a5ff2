import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { isAioError } from '@aio-connector/core';
import {
  formatMetadataProblem,
  validateConnectorMetadata,
  validateConnectorMetadataFile,
} from '@aio-connector/devkit';
import { parseJsonSource } from '../../src/validate/json-source.ts';

const files = fileURLToPath(new URL('../fixtures/metadata/files/', import.meta.url));
const valid = fileURLToPath(new URL('../fixtures/metadata/valid/', import.meta.url));

async function tempFile(name: string, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'metadata-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

const minimal = {
  name: 'm',
  version: '1.0.0',
  supportedArchitectures: ['linux/amd64'],
  imageConfigurationSettings: { imageName: 'm', tag: '1' },
  inboundEndpoints: [
    {
      endpointType: 'A.B',
      supportedAuthenticationTypes: [],
      fields: { address: { input: 'required' } },
    },
  ],
};

describe('validateConnectorMetadataFile', () => {
  it('reports each problem with its file, line and column, in file order', async () => {
    const file = join(files, 'several-problems.json');
    const result = await validateConnectorMetadataFile(file);
    expect(result.valid).toBe(false);
    expect(result.file).toBe(file);
    expect((result.metadata as { name: string }).name).toBe('rest-thermostat');
    expect(result.problems.map((p) => [p.rule, p.path, p.line, p.column])).toEqual([
      ['pattern', 'version', 4, 14],
      ['pattern', 'inboundEndpoints[0].endpointType', 9, 23],
      ['type', 'inboundEndpoints[0].datasets.destinations.defaultDestination.qos', 20, 20],
      [
        'unknown-property',
        'inboundEndpoints[0].datasets.destinations.defaultDestination.retian',
        23,
        13,
      ],
    ]);
    expect(result.problems.every((p) => p.file === file && p.severity === 'error')).toBe(true);
    expect(formatMetadataProblem(result.problems[3]!)).toBe(
      `${file}:23:13: error: inboundEndpoints[0].datasets.destinations.defaultDestination.retian: is not allowed here; did you mean "retain"? (unknown-property)`,
    );
  });

  it('reports a JSON syntax error with its line and column', async () => {
    const file = await tempFile(
      'trailing-comma.json',
      '{\n  "name": "rest-thermostat",\n  "supportedArchitectures": ["linux/amd64",],\n}\n',
    );
    const result = await validateConnectorMetadataFile(file);
    expect(result).toEqual({
      valid: false,
      file,
      metadata: undefined,
      problems: [
        {
          severity: 'error',
          rule: 'json-syntax',
          path: '',
          pointer: '',
          message: "is not valid JSON: trailing comma before ']' (JSON does not allow it)",
          file,
          line: 3,
          column: 44,
        },
      ],
    });
  });

  it('accepts every valid sample file, with positions on the warnings', async () => {
    const result = await validateConnectorMetadataFile(
      join(valid, 'open-objects-with-warnings.json'),
    );
    expect(result.valid).toBe(true);
    const schema = result.problems.find((p) => p.rule === 'sdk-schema-version');
    expect(schema).toMatchObject({ severity: 'warning', path: '$schema', line: 2, column: 14 });
    expect(schema?.message).toContain('declares connector metadata 9.0-preview');
    expect(schema?.message).toContain('11.0-preview is expected');
    const probe = result.problems.find((p) => p.rule === 'sdk-readiness-probe');
    expect(probe).toMatchObject({
      path: 'imageConfigurationSettings.readinessProbe.exec.command',
      line: 9,
      column: 28,
    });
    expect(probe?.message).toContain('does not pass "readiness-probe"');
    const lines = result.problems.map((p) => p.line ?? 0);
    expect(lines).toEqual([...lines].sort((a, b) => a - b));
  });

  it('leaves warnings out on request', async () => {
    const result = await validateConnectorMetadataFile(
      join(valid, 'open-objects-with-warnings.json'),
      { warnings: false },
    );
    expect(result).toMatchObject({ valid: true, problems: [] });
  });

  it('handles CRLF line ends and a byte-order mark', async () => {
    const text = JSON.stringify({ ...minimal, version: 'one' }, null, 2).replaceAll('\n', '\r\n');
    const file = await tempFile('crlf.json', `\uFEFF${text}`);
    const result = await validateConnectorMetadataFile(file);
    expect(result.problems).toMatchObject([{ path: 'version', line: 3, column: 14 }]);
  });

  it('warns about a property written twice, at the one that wins', async () => {
    const file = await tempFile(
      'twice.json',
      JSON.stringify(minimal, null, 2).replace('"name": "m",', '"name": "m",\n  "name": "n",'),
    );
    const result = await validateConnectorMetadataFile(file);
    expect(result.valid).toBe(true);
    expect(result.problems).toEqual([
      {
        severity: 'warning',
        rule: 'sdk-duplicate-key',
        path: 'name',
        pointer: '/name',
        message:
          'appears twice in the same object (first at line 2 column 3); JSON readers keep only the last one',
        file,
        line: 3,
        column: 3,
      },
    ]);
    expect((result.metadata as { name: string }).name).toBe('n');
  });

  it('points a missing property at the object that should hold it', async () => {
    const { name: _, ...document } = minimal;
    const file = await tempFile('no-name.json', `\n\n   ${JSON.stringify(document)}`);
    const result = await validateConnectorMetadataFile(file);
    expect(result.problems).toMatchObject([
      { rule: 'required', path: 'name', pointer: '/name', line: 3, column: 4 },
    ]);
  });

  it('rejects with ERR_AIO_CONFIG when the file cannot be read', async () => {
    const missing = join(files, 'no-such-file.json');
    const error: unknown = await validateConnectorMetadataFile(missing).catch((e: unknown) => e);
    expect(isAioError(error) && error.code).toBe('ERR_AIO_CONFIG');
    expect((error as Error).message).toContain(`cannot read ${missing}`);
  });

  it('rejects with ERR_AIO_ABORTED when aborted', async () => {
    const error: unknown = await validateConnectorMetadataFile(
      join(files, 'several-problems.json'),
      {
        signal: AbortSignal.abort(),
      },
    ).catch((e: unknown) => e);
    expect(isAioError(error) && error.code).toBe('ERR_AIO_ABORTED');
  });

  it('checks its arguments', async () => {
    await expect(validateConnectorMetadataFile(1 as unknown as string)).rejects.toThrow(TypeError);
    await expect(validateConnectorMetadataFile('')).rejects.toThrow(RangeError);
    await expect(
      validateConnectorMetadataFile('x.json', { warnings: 'no' as unknown as boolean }),
    ).rejects.toThrow(TypeError);
    await expect(
      validateConnectorMetadataFile('x.json', { signal: {} as AbortSignal }),
    ).rejects.toThrow(TypeError);
    expect(() => validateConnectorMetadata({}, null as unknown as object)).toThrow(TypeError);
    expect(() => validateConnectorMetadata({}, { file: 1 as unknown as string })).toThrow(
      TypeError,
    );
  });
});

describe('validateConnectorMetadata with the source text', () => {
  it('adds lines and columns, and the file to each problem', () => {
    const text = '{\n  "name": "m",\n  "version": 1\n}';
    const result = validateConnectorMetadata(JSON.parse(text), { file: 'm.json', text });
    const version = result.problems.find((p) => p.path === 'version');
    expect(version).toMatchObject({ file: 'm.json', line: 3, column: 14, rule: 'type' });
    expect(formatMetadataProblem(version!)).toBe(
      'm.json:3:14: error: version: must be a semantic version MAJOR.MINOR.PATCH such as "1.2.3" (optionally "-preview.1" or "+build.5"; no leading zeros), found the number 1 (type)',
    );
    const missing = result.problems.find((p) => p.path === 'imageConfigurationSettings');
    expect(missing).toMatchObject({ line: 1, column: 1 });
  });

  it('formats a problem without a position', () => {
    const [problem] = validateConnectorMetadata({ ...minimal, recommendedReplicas: 0 }).problems;
    expect(formatMetadataProblem(problem!)).toBe(
      'error: recommendedReplicas: must be an integer of at least 1, found 0 (minimum)',
    );
    const [root] = validateConnectorMetadata([]).problems;
    expect(formatMetadataProblem(root!)).toMatch(/^error: \(document\): must be an object/u);
  });
});

describe('parseJsonSource', () => {
  const failure = (text: string) => {
    const parsed = parseJsonSource(text);
    if (parsed.ok) throw new Error(`accepted ${text}`);
    return { message: parsed.message, ...parsed.position };
  };

  it.each([
    ['', 'the file is empty: expected a JSON object', 1, 1],
    ['{"a": 1,}', "trailing comma before '}' (JSON does not allow it)", 1, 9],
    ['[1, 2,\n]', "trailing comma before ']' (JSON does not allow it)", 2, 1],
    ['{\n  // note\n  "a": 1}', 'comments are not allowed in JSON', 2, 3],
    ["{'a': 1}", 'strings must use double quotes ("), not single quotes', 1, 2],
    ['{a: 1}', "property names must be in double quotes, found 'a'", 1, 2],
    ['{"a": 1 "b": 2}', 'missing \',\' after the value of "a"', 1, 9],
    ['[1 2]', "missing ',' after item [0]", 1, 4],
    ['{"a": [1, 2}', "expected ',' or ']' after item [1], found '}'", 1, 12],
    ['{"a": {"b": 1}', "the object that starts at line 1 column 1 is not closed with '}'", 1, 15],
    ['{"a": "b}', 'the string that starts at line 1 column 7 is not closed', 1, 10],
    [
      '{"a": "b\n"}',
      'the string that starts at line 1 column 7 is not closed on its line (write "\\n" for a line break)',
      1,
      9,
    ],
    ['{"a": "\t"}', 'control characters in a string must be escaped (for a tab write "\\t")', 1, 8],
    ['{"a": "\\x"}', 'invalid escape "\\x" in a string (write "\\\\" for a backslash)', 1, 8],
    ['{"a": "\\u12"}', '"\\u" must be followed by 4 hexadecimal digits', 1, 8],
    [
      '{"a": 01}',
      'invalid number "01" (JSON numbers have no leading zeros, no leading "+" and digits on both sides of ".")',
      1,
      7,
    ],
    [
      '{"a": 1.}',
      'invalid number "1." (JSON numbers have no leading zeros, no leading "+" and digits on both sides of ".")',
      1,
      7,
    ],
    ['{"a": +1}', "expected a value, found '+'", 1, 7],
    [
      '{"a": True}',
      "expected a value, found 'True': JSON writes true, false and null in lower case",
      1,
      7,
    ],
    ['{"a": undefined}', "expected a value, found 'undefined', which JSON does not have", 1, 7],
    ['{"a": nul}', "expected a value, found 'nul'", 1, 7],
    ['{"a" 1}', "expected ':' after the property name \"a\", found '1'", 1, 6],
    ['{} {}', "expected the end of the file after the JSON value, found '{'", 1, 4],
    ['{"a":', 'unexpected end of the file: a value is missing', 1, 6],
  ])('rejects %j: %s', (text, message, line, column) => {
    expect(() => JSON.parse(text)).toThrow(SyntaxError);
    expect(failure(text)).toEqual({ message, line, column });
  });

  it.each([
    '{}',
    '[]',
    ' \t\r\n{"a" : [ 1 , -0 , 0.5 , 1e5 , 1E+2 , -2.5e-3 ] } \n',
    '{"s": "\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud800 \u2028 é 😀"}',
    '{"__proto__": {"x": 1}, "a": {"a": {"a": null}}, "": true, "a/b~c": false}',
    '"just a string"',
    '42',
  ])('accepts what JSON.parse accepts: %j', (text) => {
    const parsed = parseJsonSource(text);
    expect(parsed.ok).toBe(true);
    if (parsed.ok) expect(parsed.value).toEqual(JSON.parse(text));
  });

  it('maps pointers to the positions of values and names', () => {
    const parsed = parseJsonSource('{\n  "a/b": [\n    {"c~d": 1}\n  ]\n}');
    if (!parsed.ok) throw new Error(parsed.message);
    expect(parsed.map.valueAt('')).toEqual({ line: 1, column: 1 });
    expect(parsed.map.valueAt('/a~1b')).toEqual({ line: 2, column: 10 });
    expect(parsed.map.keyAt('/a~1b')).toEqual({ line: 2, column: 3 });
    expect(parsed.map.valueAt('/a~1b/0')).toEqual({ line: 3, column: 5 });
    expect(parsed.map.valueAt('/a~1b/0/c~0d')).toEqual({ line: 3, column: 13 });
    expect(parsed.map.keyAt('/a~1b/0')).toBeUndefined();
    // a pointer to nothing falls back to the nearest value that exists
    expect(parsed.map.valueAt('/a~1b/0/missing/deeper')).toEqual({ line: 3, column: 5 });
  });

  it('reports nesting deeper than it follows', () => {
    const deep = `${'['.repeat(1500)}${']'.repeat(1500)}`;
    expect(failure(deep).message).toBe('values are nested more than 1000 levels deep');
  });
});
