import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  formatMetadataProblem,
  loadResources,
  validateConnectorMetadataFile,
} from '@aio-connector/devkit';
import { describe, expect, it } from 'vitest';

const path = (relative: string) => fileURLToPath(new URL(`../${relative}`, import.meta.url));

describe('project files', () => {
  it('connector-metadata.json is valid against the connector metadata schema', async () => {
    const result = await validateConnectorMetadataFile(path('connector-metadata.json'));
    // warnings are advice; errors make the operations experience reject the metadata
    const errors = result.problems.filter((problem) => problem.severity === 'error');
    expect(errors.map(formatMetadataProblem)).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('the sandbox resources load, and their devices use an endpoint type of the metadata', async () => {
    const metadata = JSON.parse(await readFile(path('connector-metadata.json'), 'utf8')) as {
      inboundEndpoints: { endpointType: string }[];
    };
    const endpointTypes = metadata.inboundEndpoints.map((endpoint) => endpoint.endpointType);
    const { devices, assets, warnings } = await loadResources(path('resources'));
    expect(warnings.map((w) => `${w.file}:${w.line}: ${w.message}`)).toEqual([]);
    expect(devices.size).toBeGreaterThan(0);
    expect(assets.size).toBeGreaterThan(0);
    for (const { name, device } of devices.values())
      for (const [endpointName, endpoint] of Object.entries(device.endpoints?.inbound ?? {}))
        expect(endpointTypes, `device "${name}" endpoint "${endpointName}"`).toContain(
          endpoint.endpointType,
        );
  });
});
