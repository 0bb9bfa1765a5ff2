/**
 * The configuration examples of the package README cannot rot: the JSON block is a valid
 * additional connector configuration, and the YAML resources load and plan without warnings. (The
 * TypeScript blocks are compiled by the repository's README snippet test.)
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadResources } from '@aio-connector/devkit';
import {
  RestConnector,
  planRestDataset,
  restConnectorOptionsFromConfiguration,
} from '@aio-connector/rest';

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
    const { options, ignored } = restConnectorOptionsFromConfiguration(JSON.parse(json!));
    expect(ignored).toEqual([]);
    expect(new RestConnector(options).state).toBe('idle');
  });

  it('has device and asset resources that load and plan without warnings', async () => {
    const [yaml] = blocks('yaml');
    const dir = `${packageDir}.tmp/readme-yaml-${process.pid}/`;
    await mkdir(dir, { recursive: true });
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await writeFile(`${dir}resources.yaml`, yaml!);
    const { devices, assets, warnings } = await loadResources(`${dir}resources.yaml`);
    expect(warnings).toEqual([]);
    const { asset } = assets.get('my-rest-thermostat-asset')!;
    const device = devices.get('my-thermostat')!.device;
    const plan = planRestDataset({
      assetName: 'my-rest-thermostat-asset',
      asset,
      dataset: asset.datasets![0]!,
      endpoint: device.endpoints!.inbound!['my-rest-endpoint']!,
    });
    expect(plan.warnings).toEqual([]);
    expect(plan.requests.map((r) => r.url)).toEqual([
      'https://thermostat.contoso.local:8443/api/thermostat/current',
      'https://thermostat.contoso.local:8443/api/thermostat/desired',
    ]);
  });
});
