import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { placeholdersOf, renderTemplate } from '../../src/render.ts';
import { templateNames, templatesRoot } from '../../src/templates.ts';

describe('renderTemplate', () => {
  it('replaces every placeholder, as often as it appears', () => {
    const text = '{"name": "{{connectorName}}", "image": "{{ connectorName }}:{{sdkVersion}}"}';
    expect(renderTemplate(text, { connectorName: 'thermostat', sdkVersion: '0.1.0' })).toBe(
      '{"name": "thermostat", "image": "thermostat:0.1.0"}',
    );
  });

  it('leaves text without placeholders alone, including single-brace tokens', () => {
    const text = 'topic: azure-iot-operations/data/{assetName}/{datasetName}\n${{ x.y }}';
    expect(renderTemplate(text, {})).toBe(text);
  });

  it('throws a RangeError naming an unknown placeholder and the file', () => {
    expect(() =>
      renderTemplate('a {{connectorNmae}} b', { connectorName: 'x' }, 'README.md'),
    ).toThrow(
      new RangeError('unknown placeholder {{connectorNmae}} in README.md; known: connectorName'),
    );
  });

  it('does not take inherited properties for values', () => {
    expect(() => renderTemplate('{{toString}}', {})).toThrow(RangeError);
  });

  it('lists the placeholders of a text once each', () => {
    expect(placeholdersOf('{{a}} {{b}} {{ a }}')).toEqual(['a', 'b']);
  });
});

describe('the templates', () => {
  const known = new Set([
    'connectorName',
    'endpointType',
    'sdkVersion',
    'generatorVersion',
    'typescriptVersion',
    'vitestVersion',
    'typesNodeVersion',
  ]);

  it.each(templateNames)('%s uses only the placeholders scaffold() fills', async (name) => {
    const root = join(templatesRoot(), name);
    const used = new Set<string>();
    for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      for (const p of placeholdersOf(await readFile(join(entry.parentPath, entry.name), 'utf8')))
        used.add(p);
    }
    expect([...used].filter((p) => !known.has(p))).toEqual([]);
    expect(used).toContain('connectorName');
    expect(used).toContain('endpointType');
    expect(used).toContain('sdkVersion');
  });
});
