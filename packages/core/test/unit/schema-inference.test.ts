import { describe, expect, it } from 'vitest';
import { Ajv } from 'ajv';
import { JsonSchemaInferrer, canonicalJson } from '../../src/connector/schema-inference.ts';

describe('JsonSchemaInferrer', () => {
  it('infers a draft-07 schema from the first value', () => {
    const inferrer = new JsonSchemaInferrer();
    const content = inferrer.observe({ currentTemperature: 68, desiredTemperature: 72.5 });
    expect(JSON.parse(content!)).toEqual({
      $schema: 'http://json-schema.org/draft-07/schema#',
      type: 'object',
      properties: {
        currentTemperature: { type: 'integer' },
        desiredTemperature: { type: 'number' },
      },
      required: ['currentTemperature', 'desiredTemperature'],
    });
  });

  it('reports only widenings, and every version validates all values seen so far', () => {
    const inferrer = new JsonSchemaInferrer();
    const values = [
      { t: 1, unit: 'F' },
      { t: 2, unit: 'C' },
      { t: 2.5, unit: 'F' },
      { t: 3, unit: 'F', extra: [1, 2] },
      { t: 4 },
      { t: 5, unit: 'F' },
    ];
    const changes = values.map((v) => inferrer.observe(v) !== undefined);
    expect(changes).toEqual([true, false, true, true, true, false]);
    const ajv = new Ajv({ strict: false });
    const validate = ajv.compile(JSON.parse(inferrer.content!) as object);
    for (const value of values) expect(validate(value)).toBe(true);
  });

  it('produces byte-identical content for the same values in any key order', () => {
    const a = new JsonSchemaInferrer().observe({ b: 1, a: { y: 's', x: true } });
    const b = new JsonSchemaInferrer().observe({ a: { x: false, y: 't' }, b: 2 });
    expect(a).toBe(b);
  });

  it('canonicalJson sorts keys at every level and keeps arrays in order', () => {
    expect(canonicalJson({ b: [{ d: 1, c: 2 }], a: null })).toBe('{"a":null,"b":[{"c":2,"d":1}]}');
  });
});
