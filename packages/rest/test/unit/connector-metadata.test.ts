/**
 * `connector-metadata.json` of the REST connector: valid against the official 11.0-preview schema
 * (read from `../shared/aio/` at test time) and the devkit's own validator, and in step with what
 * the connector actually reads (configuration keys, connector configuration keys).
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { samplingIntervalKeys } from '@aio-connector/core';
import { validateConnectorMetadataFile } from '@aio-connector/devkit';
import { restConfigurationKeys, restConnectorOptionsFromConfiguration } from '@aio-connector/rest';

const metadataFile = fileURLToPath(new URL('../../connector-metadata.json', import.meta.url));
const metadata = JSON.parse(readFileSync(metadataFile, 'utf8')) as {
  connectorConfigurationKeys: { key: string }[];
  inboundEndpoints: {
    additionalConfigurationSchema: { properties: Record<string, unknown> };
    datasets: {
      datasetConfigurationSchema: { properties: Record<string, unknown> };
      dataPoints: { dataPointConfigurationSchema: { properties: Record<string, unknown> } };
    };
  }[];
};
const officialSchemaFile = fileURLToPath(
  new URL('../../../../../shared/aio/connector-metadata-11.0-preview.schema.json', import.meta.url),
);
const haveOfficialSchema = existsSync(officialSchemaFile);
if (!haveOfficialSchema)
  console.warn(`skipping the official schema check: ${officialSchemaFile} is absent`);

describe('connector-metadata.json', () => {
  it.skipIf(!haveOfficialSchema)('is valid against the official 11.0-preview schema', () => {
    const validate = new Ajv({ allErrors: true }).compile(
      JSON.parse(readFileSync(officialSchemaFile, 'utf8')) as object,
    );
    const valid = validate(metadata);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('is valid for the devkit validator, without warnings', async () => {
    const result = await validateConnectorMetadataFile(metadataFile);
    expect(result.problems).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('declares exactly the configuration keys the connector reads', () => {
    const endpoint = metadata.inboundEndpoints[0]!;
    const keys = (schema: { properties: Record<string, unknown> }) =>
      Object.keys(schema.properties).sort();
    expect(keys(endpoint.datasets.datasetConfigurationSchema)).toEqual(
      [...restConfigurationKeys.dataset].sort(),
    );
    expect(keys(endpoint.datasets.dataPoints.dataPointConfigurationSchema)).toEqual(
      [...restConfigurationKeys.dataPoint].sort(),
    );
    expect(keys(endpoint.additionalConfigurationSchema)).toEqual(
      [...restConfigurationKeys.endpoint].sort(),
    );
    for (const key of samplingIntervalKeys)
      expect(keys(endpoint.datasets.datasetConfigurationSchema)).toContain(key);
    const connectorKeys = metadata.connectorConfigurationKeys.map((k) => k.key);
    const { ignored } = restConnectorOptionsFromConfiguration(
      Object.fromEntries(
        connectorKeys.map((key) => [
          key,
          key === 'notModified'
            ? 'skip'
            : key === 'nonJson'
              ? 'forward'
              : key === 'userAgent'
                ? 'x'
                : key === 'conditionalGet' || key === 'forwardOnlyOnChange'
                  ? 'true'
                  : '1',
        ]),
      ),
    );
    expect(ignored).toEqual([]);
  });

  it('describes configurations the connector accepts (the official thermostat asset among them)', () => {
    const endpoint = metadata.inboundEndpoints[0]!;
    const ajv = new Ajv({ strict: false });
    const dataset = ajv.compile(endpoint.datasets.datasetConfigurationSchema);
    const dataPoint = ajv.compile(endpoint.datasets.dataPoints.dataPointConfigurationSchema);
    const additional = ajv.compile(endpoint.additionalConfigurationSchema);
    expect(dataset({ samplingInterval: 4000 })).toBe(true);
    expect(dataset({ HttpRequestMethod: 'POST', body: { a: 1 }, timeout: 'PT5S' })).toBe(true);
    expect(dataset({ HttpRequestMethod: 'PUT' })).toBe(false);
    expect(dataPoint({ HttpRequestMethod: 'GET' })).toBe(true);
    expect(dataPoint({ headers: { accept: 'application/json' }, timeoutInMs: 500 })).toBe(true);
    expect(dataPoint({ headers: { accept: ['a'] } })).toBe(false);
    expect(additional({ tlsServerName: 'thermostat.local', maxResponseBytes: 1024 })).toBe(true);
    expect(additional({ maxResponseBytes: 0 })).toBe(false);
  });
});
