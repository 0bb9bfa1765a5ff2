import { describe, expect, it } from 'vitest';
import { connectorMetadataSchemaUrl, validateConnectorMetadata } from '@aio-connector/devkit';
import { DELETE, edit } from '../fixtures/metadata/mutate.ts';
import { officialVerdict, ownSample } from '../fixtures/metadata/official-schema.ts';

const max = ownSample('maximal.json');
const probe = 'imageConfigurationSettings.readinessProbe';
const mqttTopic = 'inboundEndpoints[0].datasets.destinations.defaultDestination.topic';
const eventTopic = 'inboundEndpoints[0].eventGroups.events.destinations.defaultDestination.topic';

/** The warnings of a document that stays valid (for us and for the official schema). */
function warnings(document: unknown): { rule: string; path: string; message: string }[] {
  const result = validateConnectorMetadata(document);
  expect(result.problems.filter((p) => p.severity === 'error')).toEqual([]);
  expect(result.valid).toBe(true);
  const official = officialVerdict(document);
  if (official !== undefined) expect(official.valid).toBe(true);
  return result.problems.map(({ rule, path, message }) => ({ rule, path, message }));
}

describe('SDK-level warnings (never errors)', () => {
  it('gives none for a complete document', () => {
    expect(warnings(max)).toEqual([]);
  });

  it('points out a readiness probe that does not run the SDK probe', () => {
    expect(warnings(edit(max, `${probe}.exec.command`, ['/bin/true']))).toEqual([
      {
        rule: 'sdk-readiness-probe',
        path: `${probe}.exec.command`,
        message:
          'does not pass "readiness-probe": a connector built with this SDK reports its readiness when its entry point runs with that argument, for example ["node", "dist/main.js", "readiness-probe"]',
      },
    ]);
    expect(warnings(edit(max, `${probe}.exec.command`, []))[0]?.message).toBe(
      'is empty, so the probe always fails; use ["node", "dist/main.js", "readiness-probe"]',
    );
    expect(warnings(edit(max, `${probe}.exec`, DELETE))[0]).toMatchObject({
      path: probe,
      rule: 'sdk-readiness-probe',
    });
    // through a shell is fine
    expect(
      warnings(edit(max, `${probe}.exec.command`, ['sh', '-c', 'node main.js readiness-probe'])),
    ).toEqual([]);
  });

  it('asks for the authentication types of an endpoint', () => {
    expect(warnings(edit(max, 'inboundEndpoints[1].supportedAuthenticationTypes', DELETE))).toEqual(
      [
        {
          rule: 'sdk-authentication-types',
          path: 'inboundEndpoints[1].supportedAuthenticationTypes',
          message:
            'is not declared, so users cannot tell which credentials the endpoint accepts; list them, for example ["anonymous", "usernamePassword", "x509"]',
        },
      ],
    );
  });

  it('checks the tokens and the shape of default topics', () => {
    expect(warnings(edit(max, mqttTopic, 'plant/{device}/{assetName}'))[0]?.message).toBe(
      'uses {device}, which is not a token the platform replaces (did you mean {deviceName}?); tokens here: {deviceName}, {inboundEndpointName}, {assetName}, {kubernetesNamespace}, {datasetName}',
    );
    expect(warnings(edit(max, eventTopic, 'plant/{datasetName}'))[0]?.message).toBe(
      'uses {datasetName}, which is not available to events (allowed here: {deviceName}, {inboundEndpointName}, {assetName}, {kubernetesNamespace}, {eventGroupName}, {eventName})',
    );
    expect(warnings(edit(max, mqttTopic, 'plant/#'))[0]?.message).toBe(
      "contains a wildcard ('+' or '#'), which cannot be published to",
    );
    expect(warnings(edit(max, mqttTopic, '$SYS/plant'))[0]?.rule).toBe('sdk-topic');
    expect(warnings(edit(max, mqttTopic, ''))[0]?.rule).toBe('sdk-topic');
    expect(
      warnings(
        edit(
          max,
          'inboundEndpoints[1].datasets.destinations.defaultDestination.key',
          '{streamName}',
        ),
      )[0]?.message,
    ).toContain('uses {streamName}, which is not available to datasets');
  });

  it('catches limits no count can satisfy', () => {
    expect(warnings(edit(max, 'inboundEndpoints[0].streams.limits.minimum', 3))).toEqual([
      {
        rule: 'sdk-limits',
        path: 'inboundEndpoints[0].streams.limits',
        message: 'minimum (3) is greater than maximum (2), so no count satisfies both',
      },
    ]);
  });

  it('catches a default destination that is not supported', () => {
    expect(
      warnings(
        edit(max, 'inboundEndpoints[0].datasets.destinations.supportedDestinations', ['Storage']),
      ),
    ).toEqual([
      {
        rule: 'sdk-destination',
        path: 'inboundEndpoints[0].datasets.destinations.defaultDestination.destination',
        message: 'is "Mqtt", which "supportedDestinations" does not list',
      },
    ]);
  });

  it('catches repeated secrets, keys, volumes and endpoint types', () => {
    const repeated = edit(
      edit(max, 'secrets[1].secretAlias', 'controller-ca'),
      'connectorConfigurationKeys[1].key',
      'pollingJitterInMs',
    );
    expect(warnings(repeated).map((w) => `${w.rule} ${w.path}`)).toEqual([
      'sdk-duplicate-entry secrets[1].secretAlias',
      'sdk-duplicate-entry connectorConfigurationKeys[1].key',
    ]);
    expect(
      warnings(edit(max, 'inboundEndpoints[1].endpointType', 'Contoso.PlantController'))[0],
    ).toEqual({
      rule: 'sdk-duplicate-entry',
      path: 'inboundEndpoints[1].endpointType',
      message: 'repeats "Contoso.PlantController" of item [0]; each entry should be distinct',
    });
  });

  it('suggests a platform for a bare architecture', () => {
    expect(warnings(edit(max, 'supportedArchitectures[1]', 'arm64'))[0]?.message).toBe(
      'should be an OS/architecture platform such as "linux/amd64" or "linux/arm64", found "arm64" (did you mean "linux/arm64"?)',
    );
  });

  it('checks regular expressions, which the schema leaves to annotations', () => {
    const regex = 'inboundEndpoints[0].fields.address.regex';
    expect(warnings(edit(max, regex, ['(']))[0]).toMatchObject({
      rule: 'sdk-regex',
      path: `${regex}[0]`,
    });
    const pattern = 'inboundEndpoints[0].additionalConfigurationSchema.properties.headers.pattern';
    expect(warnings(edit(max, pattern, '[a-'))[0]).toMatchObject({
      rule: 'sdk-regex',
      path: pattern,
    });
  });

  it('suggests the keyword meant in a configuration schema', () => {
    const schema = 'inboundEndpoints[0].additionalConfigurationSchema';
    expect(warnings(edit(max, `${schema}.additionalPropertes`, false))).toEqual([
      {
        rule: 'sdk-schema-keyword',
        path: `${schema}.additionalPropertes`,
        message:
          'is not a JSON Schema draft-07 keyword, so it is ignored; did you mean "additionalProperties"?',
      },
    ]);
    expect(warnings(edit(max, `${schema}.properties.headers.maxLenght`, 3))[0]?.message).toContain(
      'did you mean "maxLength"?',
    );
    // annotations that resemble no keyword are left alone
    expect(warnings(edit(max, `${schema}["x-display-order"]`, 3))).toEqual([]);
  });

  it('names the expected schema version', () => {
    const nine = edit(max, '$schema', connectorMetadataSchemaUrl.replace('11.0', '9.0'));
    expect(warnings(nine)[0]?.message).toMatch(
      /^declares connector metadata 9\.0-preview, but 11\.0-preview is expected: set it to "https:\/\/json\.schemastore\.org\/aio-connector-metadata-11\.0-preview\.json"; 11\.0-preview requires "destinations"/u,
    );
    const other = edit(max, '$schema', 'https://example.com/schema.json');
    expect(warnings(other)[0]?.message).toBe(
      `does not name the connector metadata schema; this SDK checks 11.0-preview: "${connectorMetadataSchemaUrl}"`,
    );
    expect(warnings(edit(max, '$schema', DELETE))).toEqual([]);
  });

  it('reports a 9.0-preview document that lacks the 11.0 properties with both', () => {
    const old = edit(
      edit(max, '$schema', connectorMetadataSchemaUrl.replace('11.0', '9.0')),
      'inboundEndpoints[0].managementGroups.managementGroupActions.actionTypes',
      DELETE,
    );
    const result = validateConnectorMetadata(old);
    expect(result.valid).toBe(false);
    expect(result.problems.map((p) => `${p.severity} ${p.rule}`)).toEqual([
      'error required',
      'warning sdk-schema-version',
    ]);
  });
});
