import { describe, expect, it } from 'vitest';
import { SchemaManager, type SchemaRegistryTarget } from '../../src/connector/schema-manager.ts';

const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

function fakeRegistry(fail = 0) {
  const calls: { content: string; version: string; format: string }[] = [];
  let failures = fail;
  const registry: SchemaRegistryTarget = {
    register: async (schema) => {
      calls.push({ content: schema.content, version: schema.version, format: schema.format });
      if (failures-- > 0) throw new Error('registry unavailable');
      return { namespace: 'ns', name: `S${calls.length}`, version: schema.version };
    },
  };
  return { registry, calls };
}

describe('SchemaManager', () => {
  it('infers, registers on first forward, and re-registers a new version only when the schema widens', async () => {
    const { registry, calls } = fakeRegistry();
    const schemas = new SchemaManager({ registry });
    const d1 = await schemas.prepare('k', json({ t: 1 }));
    expect(d1).toEqual({
      schema: { namespace: 'ns', name: 'S1', version: '1' },
      changed: true,
      forward: true,
    });
    const d2 = await schemas.prepare('k', json({ t: 2 }));
    expect(d2.changed).toBe(false);
    const d3 = await schemas.prepare('k', json({ t: 2.5 }));
    expect(d3).toMatchObject({ schema: { name: 'S2', version: '2' }, changed: true });
    expect(calls.map((c) => c.version)).toEqual(['1', '2']);
    expect(JSON.parse(calls[1]!.content)).toMatchObject({ properties: { t: { type: 'number' } } });
    expect(schemas.registered('k')).toEqual({ namespace: 'ns', name: 'S2', version: '2' });
  });

  it('forwards without a schema when registration fails, reports it, and retries later', async () => {
    const { registry, calls } = fakeRegistry(1);
    const schemas = new SchemaManager({ registry, registrationRetryInMs: 0 });
    const d1 = await schemas.prepare('k', json({ t: 1 }));
    expect(d1.schema).toBeUndefined();
    expect(d1.forward).toBe(true);
    expect(d1.problem).toMatchObject({ code: 'ERR_AIO_SCHEMA_REGISTRATION', retryable: true });
    const d2 = await schemas.prepare('k', json({ t: 1 }));
    expect(d2).toMatchObject({ schema: { name: 'S2' }, changed: true });
    expect(d2.problem).toBeUndefined();
    expect(calls).toHaveLength(2);
  });

  it('does not hammer a failing registry before the retry delay', async () => {
    const { registry, calls } = fakeRegistry(10);
    const schemas = new SchemaManager({ registry, registrationRetryInMs: 60_000 });
    await schemas.prepare('k', json({ t: 1 }));
    await schemas.prepare('k', json({ t: 2 }));
    expect(calls).toHaveLength(1);
  });

  it('non-JSON payloads get no inferred schema', async () => {
    const { registry, calls } = fakeRegistry();
    const schemas = new SchemaManager({ registry });
    const d = await schemas.prepare('k', new Uint8Array([0xff, 0x00, 0x01]));
    expect(d).toEqual({ changed: false, forward: true });
    expect(calls).toHaveLength(0);
  });

  it('registers an explicit schema once and validates payloads against it', async () => {
    const { registry, calls } = fakeRegistry();
    const content = JSON.stringify({
      type: 'object',
      properties: { t: { type: 'number' } },
      required: ['t'],
    });
    const schemas = new SchemaManager({ registry });
    schemas.define('k', { content, version: '1.0' });
    expect((await schemas.prepare('k', json({ t: 1 }))).schema).toEqual({
      namespace: 'ns',
      name: 'S1',
      version: '1.0',
    });
    const bad = await schemas.prepare('k', json({ t: 'hot' }));
    expect(bad.forward).toBe(true);
    expect(bad.problem).toMatchObject({
      code: 'ERR_AIO_SCHEMA_MISMATCH',
      message: expect.stringContaining('payload/t must be number'),
    });
    const notJson = await schemas.prepare('k', new TextEncoder().encode('hello'));
    expect(notJson.problem?.message).toContain('not JSON');
    expect(calls).toHaveLength(1);
  });

  it('drops mismatching payloads with the drop policy', async () => {
    const schemas = new SchemaManager({ mismatchPolicy: 'drop' });
    schemas.define('k', { content: JSON.stringify({ type: 'array' }) });
    expect((await schemas.prepare('k', json({}))).forward).toBe(false);
    expect((await schemas.prepare('k', json([]))).forward).toBe(true);
  });

  it('rejects an explicit schema that does not compile', () => {
    const schemas = new SchemaManager();
    expect(() => {
      schemas.define('k', { content: '{"type": 12}' });
    }).toThrow(expect.objectContaining({ code: 'ERR_AIO_SCHEMA_INVALID' }));
  });

  it('shares one registration between concurrent forwards of the same key', async () => {
    const { registry, calls } = fakeRegistry();
    const schemas = new SchemaManager({ registry });
    const results = await Promise.all([
      schemas.prepare('k', json({ t: 1 })),
      schemas.prepare('k', json({ t: 2 })),
    ]);
    expect(calls).toHaveLength(1);
    expect(results.map((r) => r.schema?.name)).toEqual(['S1', 'S1']);
  });
});

describe('SchemaManager and aborted forwards', () => {
  it('a registration given up because one forward was aborted is neither reported as a registry failure nor held back for the retry delay', async () => {
    const calls: string[] = [];
    const registry: SchemaRegistryTarget = {
      register: (schema, options = {}) => {
        calls.push(schema.version);
        // the first registration is slow: its caller gives up before the registry answers
        if (calls.length === 1)
          return new Promise((_resolve, reject) => {
            options.signal?.addEventListener(
              'abort',
              () => {
                reject(new Error('register was aborted'));
              },
              { once: true },
            );
          });
        return Promise.resolve({ namespace: 'ns', name: 'S', version: schema.version });
      },
    };
    const schemas = new SchemaManager({ registry, registrationRetryInMs: 60_000 });
    const controller = new AbortController();
    const first = schemas.prepare('k', json({ t: 1 }), { signal: controller.signal });
    controller.abort();
    const aborted = await first;
    expect(aborted.problem).toBeUndefined();
    // the next forward (another caller, not aborted) registers at once
    const next = await schemas.prepare('k', json({ t: 2 }));
    expect(next).toMatchObject({ schema: { name: 'S' }, changed: true });
    expect(next.problem).toBeUndefined();
    expect(calls).toHaveLength(2);
  });
});
