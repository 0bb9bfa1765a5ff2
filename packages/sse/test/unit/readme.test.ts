/**
 * The configuration examples of the package README cannot rot: the JSON block is a valid
 * additional connector configuration, the YAML resources load without warnings and describe the
 * streams the README says, and the sample message decodes to the payload shown. (The TypeScript
 * blocks are compiled by the repository's README snippet test.)
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { resolveHttpDataSource } from '@aio-connector/core';
import { loadResources } from '@aio-connector/devkit';
import {
  SseConnector,
  SseDecoder,
  sseConnectorOptionsFromConfiguration,
  sseEndpointConfiguration,
} from '@aio-connector/sse';

const packageDir = fileURLToPath(new URL('../../', import.meta.url));
const readme = readFileSync(`${packageDir}README.md`, 'utf8');

function blocks(language: string): string[] {
  return [...readme.matchAll(new RegExp(`^\`\`\`${language}\\n([\\s\\S]*?)^\`\`\`$`, 'gm'))].map(
    (match) => match[1] ?? '',
  );
}

describe('README', () => {
  it('has an additional configuration example the connector accepts', () => {
    const [json] = blocks('json');
    const { options, ignored } = sseConnectorOptionsFromConfiguration(JSON.parse(json!));
    expect(ignored).toEqual([]);
    expect(new SseConnector(options).state).toBe('idle');
  });

  it('has device and asset resources that load without warnings and open the streams it says', async () => {
    const [yaml] = blocks('yaml');
    const dir = `${packageDir}.tmp/readme-yaml-${process.pid}/`;
    await mkdir(dir, { recursive: true });
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await writeFile(`${dir}resources.yaml`, yaml!);
    const { devices, assets, warnings } = await loadResources(`${dir}resources.yaml`);
    expect(warnings).toEqual([]);
    const { asset } = assets.get('my-sse-thermostat-asset')!;
    const endpoint = devices.get('my-thermostat')!.device.endpoints!.inbound!['my-sse-endpoint']!;
    expect(endpoint.endpointType).toBe('Microsoft.Sse');
    expect(
      sseEndpointConfiguration(JSON.parse(endpoint.additionalConfiguration!) as never, 'readme'),
    ).toEqual({ idleTimeoutInMs: 30000 });
    const paths = [
      ...(asset.eventGroups ?? []).map((g) => g.dataSource!),
      ...(asset.datasets ?? []).map((d) => d.dataSource!),
    ];
    const urls = new Set(paths.map((path) => resolveHttpDataSource(endpoint.address, path).href));
    expect([...urls]).toEqual([
      'https://thermostat.contoso.local:8443/events',
      'https://thermostat.contoso.local:8443/audit',
    ]);
    const names = (asset.eventGroups ?? []).flatMap((g) =>
      (g.events ?? []).map((e) => e.dataSource),
    );
    expect(names).toEqual(['thermostat_status_changed', 'alarm']);
  });

  it('has a sample message that decodes to the payload it shows', () => {
    const [text] = blocks('text');
    const items = new SseDecoder().push(new TextEncoder().encode(`${text!}\n`));
    expect(items).toEqual([
      {
        kind: 'message',
        event: 'thermostat_status_changed',
        data: '{"desiredTemperature":72,"currentTemperature":71.25}',
        id: '42',
        lastEventId: '42',
      },
    ]);
    expect(readme).toContain('`{"desiredTemperature":72,"currentTemperature":71.25}`');
  });
});
