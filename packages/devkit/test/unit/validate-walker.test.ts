import { describe, expect, it } from 'vitest';
import {
  Findings,
  closestName,
  dottedPath,
  integer,
  jsonEqual,
  jsonPointer,
  object,
} from '../../src/validate/schema-walker.ts';

describe('the rule language of the metadata validator', () => {
  it('walks an object as its module example says', () => {
    const limits = object({
      properties: { minimum: integer({ minimum: 0 }), maximum: integer({ minimum: 1 }) },
      closed: true,
    });
    const findings = new Findings();
    limits.validate({ maximum: 0, maximun: 3 }, ['limits'], findings);
    expect(findings.list.map((f) => `${dottedPath(f.path)}: ${f.message}`)).toEqual([
      'limits.maximum: must be an integer of at least 1, found 0',
      'limits.maximun: is not allowed here; did you mean "maximum"?',
    ]);
    expect(findings.hasErrors).toBe(true);
  });

  it('treats an undefined property as absent, as JSON Schema validators do', () => {
    const shape = object({ properties: { a: integer() }, required: ['a'], closed: true });
    const findings = new Findings();
    shape.validate({ a: undefined, b: undefined }, [], findings);
    expect(findings.list.map((f) => [f.rule, dottedPath(f.path)])).toEqual([
      ['unknown-property', 'b'],
      ['required', 'a'],
    ]);
  });

  it('writes paths as code and as JSON pointers', () => {
    const path = ['inboundEndpoints', 0, 'x.y', 'a/b~c', '$schema', 'ok_1'];
    expect(dottedPath(path)).toBe('inboundEndpoints[0]["x.y"]["a/b~c"].$schema.ok_1');
    expect(jsonPointer(path)).toBe('/inboundEndpoints/0/x.y/a~1b~0c/$schema/ok_1');
    expect(dottedPath([])).toBe('');
    expect(jsonPointer([])).toBe('');
  });

  it('suggests close names only', () => {
    const names = ['limits', 'fields', 'destinations', 'kubernetesNamespace'];
    expect(closestName('limit', names)).toBe('limits');
    expect(closestName('Fields', names)).toBe('fields');
    expect(closestName('destination', names)).toBe('destinations');
    expect(closestName('namespace', names)).toBe('kubernetesNamespace');
    expect(closestName('namespace', names, { containment: false })).toBeUndefined();
    expect(closestName('qos', names)).toBeUndefined();
    expect(closestName('restPackageVersion', ['mqttPackageVersion'])).toBeUndefined();
  });

  it('compares JSON values structurally', () => {
    expect(jsonEqual({ a: [1, { b: null }], c: 'x' }, { c: 'x', a: [1, { b: null }] })).toBe(true);
    expect(jsonEqual({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(jsonEqual([1, 2], [2, 1])).toBe(false);
    expect(jsonEqual({}, [])).toBe(false);
    expect(jsonEqual(1, '1')).toBe(false);
  });
});
