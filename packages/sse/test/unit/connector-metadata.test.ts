/**
 * `connector-metadata.json` of the SSE connector: valid against the official 11.0-preview schema
 * (read from `../shared/aio/` at test time) and the devkit's own validator, and in step with what
 * the connector reads.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { validateConnectorMetadataFile } from '@aio-connector/devkit';
import {
  sseConfigurationKeys,
  sseConnectorOptionsFromConfiguration,
  sseEndpointConfiguration,
} from '@aio-connector/sse';

const metadataFile = fileURLToPath(new URL('../../connector-metadata.json', import.meta.url));
const metadata = JSON.parse(readFileSync(metadataFile, 'utf8')) as {
  name: string;
  imageConfigurationSettings: { readinessProbe: { exec: { command: string[] } } };
  connectorConfigurationKeys: { key: string }[];
  inboundEndpoints: {
    additionalConfigurationSchema: { properties: Record<string, unknown> };
    eventGroups: { events: { fields: { dataSource: { regex: string[] } } } };
  }[];
};
const packageJson = JSON.parse(
  readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
) as { bin: Record<string, string> };
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

  it('declares exactly the configuration keys the connector reads, and its real readiness probe', () => {
    const endpoint = metadata.inboundEndpoints[0]!;
    expect(Object.keys(endpoint.additionalConfigurationSchema.properties).sort()).toEqual(
      [...sseConfigurationKeys.endpoint].sort(),
    );
    const connectorKeys = metadata.connectorConfigurationKeys.map((k) => k.key);
    expect([...connectorKeys].sort()).toEqual([...sseConfigurationKeys.connector].sort());
    const values: Record<string, string> = { resume: 'none', userAgent: 'x', waitForAck: 'true' };
    const { ignored } = sseConnectorOptionsFromConfiguration(
      Object.fromEntries(connectorKeys.map((key) => [key, values[key] ?? '5'])),
    );
    expect(ignored).toEqual([]);
    const [command, argument] = metadata.imageConfigurationSettings.readinessProbe.exec.command;
    expect(packageJson.bin[command!]).toBe('./dist/main.js');
    expect(argument).toBe('readiness-probe');
  });

  it('describes endpoint configurations the connector accepts, and refuses the others', () => {
    const endpoint = metadata.inboundEndpoints[0]!;
    const additional = new Ajv({ strict: false }).compile(endpoint.additionalConfigurationSchema);
    const good = { headers: { 'x-api-key': 'k', 'x-n': 1 }, idleTimeoutInMs: 0, maxEventBytes: 10 };
    expect(additional(good)).toBe(true);
    expect(() => sseEndpointConfiguration(good, 'test')).not.toThrow();
    for (const bad of [{ maxEventBytes: 0 }, { idleTimeoutInMs: -1 }, { headers: { a: ['x'] } }]) {
      expect(additional(bad)).toBe(false);
      expect(() => sseEndpointConfiguration(bad, 'test')).toThrow(/additionalConfiguration/);
    }
    const eventName = new RegExp(endpoint.eventGroups.events.fields.dataSource.regex[0]!);
    expect(eventName.test('thermostat_status_changed')).toBe(true);
    expect(eventName.test('two\nlines')).toBe(false);
  });
});
