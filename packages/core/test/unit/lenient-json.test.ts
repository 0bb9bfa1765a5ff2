import { describe, expect, it } from 'vitest';
import { isAioError, parseConfigurationObject, parseLenientJson } from '@aio-connector/core';

describe('parseLenientJson', () => {
  it('accepts the trailing commas of the official samples', () => {
    expect(parseLenientJson('{ "HttpRequestMethod": "GET", }')).toEqual({
      HttpRequestMethod: 'GET',
    });
    expect(parseLenientJson('{ "samplingInterval": 4000, }')).toEqual({ samplingInterval: 4000 });
    expect(parseLenientJson('[1, 2, [3,],\n]')).toEqual([1, 2, [3]]);
  });

  it('accepts comments and keeps strings intact', () => {
    const text = '{\n // note\n "a": "x, }", /* block, ] */ "b": "// not a comment",\n}';
    expect(parseLenientJson(text)).toEqual({ a: 'x, }', b: '// not a comment' });
    expect(parseLenientJson('{"q": "say \\"hi\\",", }')).toEqual({ q: 'say "hi",' });
  });

  it('still rejects invalid JSON with a coded error naming the field', () => {
    for (const bad of ['{', '{"a": }', '{,}', "{'a': 1}", '[1,,2]']) {
      try {
        parseLenientJson(bad, { source: 'asset a1', field: 'datasets[0].datasetConfiguration' });
        expect.unreachable(bad);
      } catch (error) {
        expect(isAioError(error) && error.code).toBe('ERR_AIO_CONFIG');
        expect((error as Error).message).toContain(
          'asset a1 datasets[0].datasetConfiguration is not valid JSON',
        );
        expect(error).toMatchObject({ field: 'datasets[0].datasetConfiguration' });
      }
    }
  });
});

describe('parseConfigurationObject', () => {
  it('treats absent and blank text as {}', () => {
    expect(parseConfigurationObject(undefined)).toEqual({});
    expect(parseConfigurationObject('  ')).toEqual({});
  });

  it('requires an object', () => {
    expect(() => parseConfigurationObject('[1]', { field: 'x' })).toThrow(
      'x must be a JSON object, found an array',
    );
    expect(() => parseConfigurationObject('3', { field: 'x' })).toThrow('found number');
  });
});
