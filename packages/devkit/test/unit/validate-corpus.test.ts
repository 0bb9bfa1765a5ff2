import { describe, expect, it } from 'vitest';
import { validateConnectorMetadata, type MetadataProblem } from '@aio-connector/devkit';
import { DELETE, edit } from '../fixtures/metadata/mutate.ts';
import {
  haveOfficialSchema,
  officialExamples,
  officialVerdict,
  ownSample,
  ownValidSamples,
  sharedAio,
} from '../fixtures/metadata/official-schema.ts';

if (!haveOfficialSchema)
  console.warn(`comparing with the official schema skipped: ${sharedAio} is absent`);

const errors = (problems: readonly MetadataProblem[]) =>
  problems.filter((p) => p.severity === 'error');

/** Our verdict, checked against the official schema's when `../shared` is present. */
function verdict(document: unknown): { valid: boolean; problems: readonly MetadataProblem[] } {
  const ours = validateConnectorMetadata(document);
  const official = officialVerdict(document);
  if (official !== undefined) {
    expect(
      ours.valid,
      `ours: ${JSON.stringify(errors(ours.problems))}\nofficial: ${JSON.stringify(official.errors)}`,
    ).toBe(official.valid);
  }
  expect(ours.valid).toBe(errors(ours.problems).length === 0);
  return ours;
}

const max = ownSample('maximal.json');
const min = ownSample('minimal.json');
const endpoint = 'inboundEndpoints[0]';
const datasets = `${endpoint}.datasets`;
const events = `${endpoint}.eventGroups.events`;
const streams = `${endpoint}.streams`;
const groups = `${endpoint}.managementGroups`;
const actions = `${groups}.managementGroupActions`;
const image = 'imageConfigurationSettings';
const probe = `${image}.readinessProbe`;
const mqttDefault = `${datasets}.destinations.defaultDestination`;
const bssDefault = 'inboundEndpoints[1].datasets.destinations.defaultDestination';
const storageDefault = `${streams}.destinations.defaultDestination`;
const configuration = `${endpoint}.additionalConfigurationSchema`;

/**
 * Each invalid sample breaks one rule of the schema: [what, base document, path, new value or
 * DELETE, the rule we report, the path we report (default: the path edited)].
 */
const invalid: readonly (readonly [
  string,
  Record<string, unknown>,
  string,
  unknown,
  string,
  string?,
])[] = [
  // required properties, at every level that has them
  ['no name', min, 'name', DELETE, 'required'],
  ['no version', min, 'version', DELETE, 'required'],
  ['no supportedArchitectures', min, 'supportedArchitectures', DELETE, 'required'],
  ['no inboundEndpoints', min, 'inboundEndpoints', DELETE, 'required'],
  ['no imageConfigurationSettings', min, image, DELETE, 'required'],
  ['no imageName', min, `${image}.imageName`, DELETE, 'required'],
  ['no endpointType', min, `${endpoint}.endpointType`, DELETE, 'required'],
  ['no endpoint fields', min, `${endpoint}.fields`, DELETE, 'required'],
  ['no fields.address', min, `${endpoint}.fields.address`, DELETE, 'required'],
  ['no address.input', min, `${endpoint}.fields.address.input`, DELETE, 'required'],
  ['no datasets.limits', max, `${datasets}.limits`, DELETE, 'required'],
  ['no datasets.fields', max, `${datasets}.fields`, DELETE, 'required'],
  ['no datasets.destinations (new in 11.0)', max, `${datasets}.destinations`, DELETE, 'required'],
  ['no datasets.fields.typeRef', max, `${datasets}.fields.typeRef`, DELETE, 'required'],
  [
    'no dataPoints.fields.dataSource',
    max,
    `${datasets}.dataPoints.fields.dataSource`,
    DELETE,
    'required',
  ],
  [
    'no supportedDestinations',
    max,
    `${datasets}.destinations.supportedDestinations`,
    DELETE,
    'required',
  ],
  ['no eventGroups.fields', max, `${endpoint}.eventGroups.fields`, DELETE, 'required'],
  ['no eventGroups.limits', max, `${endpoint}.eventGroups.limits`, DELETE, 'required'],
  ['no events.destinations', max, `${events}.destinations`, DELETE, 'required'],
  ['no events.limits', max, `${events}.limits`, DELETE, 'required'],
  ['no events.fields.dataSource', max, `${events}.fields.dataSource`, DELETE, 'required'],
  ['no streams.destinations', max, `${streams}.destinations`, DELETE, 'required'],
  ['no streams.fields.typeRef', max, `${streams}.fields.typeRef`, DELETE, 'required'],
  ['no managementGroups.limits', max, `${groups}.limits`, DELETE, 'required'],
  ['no managementGroups.fields.typeRef', max, `${groups}.fields.typeRef`, DELETE, 'required'],
  ['no actions.actionTypes (new in 11.0)', max, `${actions}.actionTypes`, DELETE, 'required'],
  [
    'no supportedActionTypes',
    max,
    `${actions}.actionTypes.supportedActionTypes`,
    DELETE,
    'required',
  ],
  ['no actions.fields.targetUri', max, `${actions}.fields.targetUri`, DELETE, 'required'],
  ['no mqtt qos', max, `${mqttDefault}.qos`, DELETE, 'required'],
  ['no mqtt ttl', max, `${mqttDefault}.ttl`, DELETE, 'required'],
  ['no mqtt retain', max, `${mqttDefault}.retain`, DELETE, 'required'],
  ['no mqtt topic', max, `${mqttDefault}.topic`, DELETE, 'required'],
  ['no broker state store key', max, `${bssDefault}.key`, DELETE, 'required'],
  ['no storage path', max, `${storageDefault}.path`, DELETE, 'required'],
  ['no destination in defaultDestination', max, `${mqttDefault}.destination`, DELETE, 'required'],
  ['no secretAlias', max, 'secrets[1].secretAlias', DELETE, 'required'],
  ['no mountPath', max, 'storageVolumes[0].mountPath', DELETE, 'required'],
  ['no sourceCode.languageVersion', max, 'sourceCode.languageVersion', DELETE, 'required'],
  ['no configuration key', max, 'connectorConfigurationKeys[1].key', DELETE, 'required'],
  [
    'no alternativeTypeName.plural',
    max,
    'inboundEndpointAlternativeTypeName.plural',
    DELETE,
    'required',
  ],
  ['no readinessProbe.exec.command', max, `${probe}.exec.command`, DELETE, 'required'],
  // enums
  ['retain "Keep" (ADR spelling)', max, `${mqttDefault}.retain`, 'Keep', 'enum'],
  ['retain "always"', max, `${mqttDefault}.retain`, 'always', 'enum'],
  ['qos 2', max, `${mqttDefault}.qos`, 2, 'enum'],
  ['qos "1" (a string)', max, `${mqttDefault}.qos`, '1', 'type'],
  ['qos "Qos1" (ADR spelling)', max, `${mqttDefault}.qos`, 'Qos1', 'type'],
  ['destination "mqtt"', max, `${mqttDefault}.destination`, 'mqtt', 'one-of'],
  [
    'events to the broker state store',
    max,
    `${events}.destinations.defaultDestination`,
    { destination: 'BrokerStateStore', key: 'k' },
    'one-of',
    `${events}.destinations.defaultDestination.destination`,
  ],
  [
    'streams to the broker state store',
    max,
    `${storageDefault}.destination`,
    'BrokerStateStore',
    'one-of',
  ],
  [
    'supportedDestinations "Kafka"',
    max,
    `${datasets}.destinations.supportedDestinations[1]`,
    'Kafka',
    'enum',
  ],
  [
    'events support BrokerStateStore',
    max,
    `${events}.destinations.supportedDestinations[0]`,
    'BrokerStateStore',
    'enum',
  ],
  ['input "Required"', max, `${endpoint}.fields.address.input`, 'Required', 'enum'],
  [
    'supportedActionTypes "Invoke"',
    max,
    `${actions}.actionTypes.supportedActionTypes[0]`,
    'Invoke',
    'enum',
  ],
  [
    'recommendedAllocationPolicy "roundRobin"',
    max,
    'recommendedAllocationPolicy',
    'roundRobin',
    'enum',
  ],
  // patterns
  ['version "1.0"', min, 'version', '1.0', 'pattern'],
  ['version "01.0.0"', min, 'version', '01.0.0', 'pattern'],
  ['version "v1.0.0"', min, 'version', 'v1.0.0', 'pattern'],
  ['version "1.0.0-"', min, 'version', '1.0.0-', 'pattern'],
  ['version "1.0.0-01"', min, 'version', '1.0.0-01', 'pattern'],
  ['version "1.0.0\\n"', min, 'version', '1.0.0\n', 'pattern'],
  ['endpointType "http"', min, `${endpoint}.endpointType`, 'http', 'pattern'],
  ['endpointType "Microsoft_Http"', min, `${endpoint}.endpointType`, 'Microsoft_Http', 'pattern'],
  ['endpointType ".Http"', min, `${endpoint}.endpointType`, '.Http', 'pattern'],
  ['endpointType "Contoso.1"', min, `${endpoint}.endpointType`, 'Contoso.1', 'pattern'],
  // tag or digest
  ['both tag and digest', min, `${image}.digest`, 'sha256:00', 'one-of', image],
  ['neither tag nor digest', min, `${image}.tag`, DELETE, 'one-of', image],
  // unknown properties where the schema forbids them
  ['unknown root property', min, 'imageName', 'x', 'unknown-property'],
  ['root property in another case', min, 'Name', 'x', 'unknown-property'],
  ['unknown image property', min, `${image}.registry`, 'contoso.azurecr.io', 'unknown-property'],
  ['readinessProbe.httpGet', max, `${probe}.httpGet`, { path: '/healthz' }, 'unknown-property'],
  ['unknown secret property', max, 'secrets[0].value', 'hunter2', 'unknown-property'],
  ['unknown volume property', max, 'storageVolumes[0].sizeInGi', 1, 'unknown-property'],
  ['unknown sourceCode property', max, 'sourceCode.framework', 'node', 'unknown-property'],
  ['aioMetadata.minVersion (old name)', max, 'aioMetadata.minVersion', '1.0.0', 'unknown-property'],
  [
    'unknown configuration key property',
    max,
    'connectorConfigurationKeys[0].default',
    '1',
    'unknown-property',
  ],
  [
    'unknown alternative name property',
    max,
    'inboundEndpointAlternativeTypeName.article',
    'a',
    'unknown-property',
  ],
  ['address beside fields', min, `${endpoint}.address`, { input: 'required' }, 'unknown-property'],
  [
    'unknown endpoint field',
    min,
    `${endpoint}.fields.port`,
    { input: 'optional' },
    'unknown-property',
  ],
  [
    'eventGroups.destinations',
    max,
    `${endpoint}.eventGroups.destinations`,
    { supportedDestinations: ['Mqtt'] },
    'unknown-property',
  ],
  [
    'datasets.dataSource beside fields',
    max,
    `${datasets}.dataSource`,
    { input: 'required' },
    'unknown-property',
  ],
  [
    'unknown dataset field',
    max,
    `${datasets}.fields.name`,
    { input: 'required' },
    'unknown-property',
  ],
  [
    'destinations.defaultTopic',
    max,
    `${datasets}.destinations.defaultTopic`,
    'a/b',
    'unknown-property',
  ],
  ['mqtt contentType', max, `${mqttDefault}.contentType`, 'application/json', 'unknown-property'],
  ['broker state store ttl', max, `${bssDefault}.ttl`, 5, 'unknown-property'],
  ['storage topic', max, `${storageDefault}.topic`, 'a/b', 'unknown-property'],
  ['limits.default', max, `${datasets}.limits.default`, 1, 'unknown-property'],
  ['managementGroups.destinations', max, `${groups}.destinations`, {}, 'unknown-property'],
  ['actions.timeout', max, `${actions}.timeout`, 5, 'unknown-property'],
  ['actionTypes.default', max, `${actions}.actionTypes.default`, 'Call', 'unknown-property'],
  ['unknown event field', max, `${events}.fields.name`, { input: 'optional' }, 'unknown-property'],
  [
    'stream field dataSource',
    max,
    `${streams}.fields.dataSource`,
    { input: 'optional' },
    'unknown-property',
  ],
  [
    'management group field targetUri',
    max,
    `${groups}.fields.targetUri`,
    { input: 'optional' },
    'unknown-property',
  ],
  [
    'dataPoints field name',
    max,
    `${datasets}.dataPoints.fields.name`,
    { input: 'optional' },
    'unknown-property',
  ],
  // numbers out of range
  ['limits.maximum 0', max, `${datasets}.limits.maximum`, 0, 'minimum'],
  ['limits.minimum -1', max, `${datasets}.limits.minimum`, -1, 'minimum'],
  ['limits.maximum 1.5', max, `${datasets}.limits.maximum`, 1.5, 'type'],
  ['ttl -1', max, `${mqttDefault}.ttl`, -1, 'minimum'],
  ['ttl "60"', max, `${mqttDefault}.ttl`, '60', 'type'],
  ['recommendedReplicas 0', max, 'recommendedReplicas', 0, 'minimum'],
  ['periodSeconds -1', max, `${probe}.periodSeconds`, -1, 'minimum'],
  ['failureThreshold 1.5', max, `${probe}.failureThreshold`, 1.5, 'type'],
  // arrays
  ['no architecture', min, 'supportedArchitectures', [], 'min-items'],
  ['the same architecture twice', max, 'supportedArchitectures[1]', 'linux/amd64', 'unique-items'],
  ['no inbound endpoint', min, 'inboundEndpoints', [], 'min-items'],
  ['empty secrets', max, 'secrets', [], 'min-items'],
  ['empty storageVolumes', max, 'storageVolumes', [], 'min-items'],
  ['empty connectorConfigurationKeys', max, 'connectorConfigurationKeys', [], 'min-items'],
  [
    'empty supportedActionTypes',
    max,
    `${actions}.actionTypes.supportedActionTypes`,
    [],
    'min-items',
  ],
  // types
  ['isPreview "false"', max, 'isPreview', 'false', 'type'],
  ['name 42', min, 'name', 42, 'type'],
  ['supportedArchitectures a string', min, 'supportedArchitectures', 'linux/amd64', 'type'],
  ['endpointsEnabledByDefault "true"', max, 'endpointsEnabledByDefault', 'true', 'type'],
  ['regex a string', max, `${endpoint}.fields.address.regex`, '^https?://', 'type'],
  ['regex [1]', max, `${endpoint}.fields.address.regex[0]`, 1, 'type'],
  [
    'exec.command a string',
    max,
    `${probe}.exec.command`,
    'node dist/main.js readiness-probe',
    'type',
  ],
  ['dataPoints "yes"', max, `${datasets}.dataPoints`, 'yes', 'type'],
  ['assetsEnabledByDefault 1', max, `${endpoint}.assetsEnabledByDefault`, 1, 'type'],
  ['isOptional "no"', max, 'secrets[0].isOptional', 'no', 'type'],
  ['tag 1', min, `${image}.tag`, 1, 'type'],
  ['an endpoint as a string', min, endpoint, 'Microsoft.Http', 'type'],
  ['image settings null', min, image, null, 'type'],
  ['defaultDestination an array', max, mqttDefault, [], 'type'],
  // configuration schemas must be draft-07 schemas
  ['configuration schema "object"', max, configuration, 'object', 'type'],
  [
    'configuration schema type "int"',
    max,
    `${configuration}.properties.requestTimeoutInMs.type`,
    'int',
    'enum',
  ],
  ['configuration schema type []', max, `${configuration}.type`, [], 'min-items'],
  ['configuration schema required "a"', max, `${configuration}.required`, 'a', 'type'],
  [
    'configuration schema required twice',
    max,
    `${configuration}.required`,
    ['a', 'a'],
    'unique-items',
    `${configuration}.required[1]`,
  ],
  ['configuration schema property 5', max, `${configuration}.properties.headers`, 5, 'type'],
  [
    'configuration schema enum []',
    max,
    `${datasets}.datasetConfigurationSchema.properties.method.enum`,
    [],
    'min-items',
  ],
  [
    'configuration schema minimum "1"',
    max,
    `${configuration}.properties.requestTimeoutInMs.minimum`,
    '1',
    'type',
  ],
  [
    'configuration schema minLength -1',
    max,
    `${events}.eventConfigurationSchema.minLength`,
    -1,
    'minimum',
  ],
  [
    'configuration schema items []',
    max,
    `${actions}.actionConfigurationSchema.items`,
    [],
    'min-items',
  ],
  [
    'configuration schema multipleOf 0',
    max,
    `${datasets}.dataPoints.dataPointConfigurationSchema.multipleOf`,
    0,
    'minimum',
  ],
  [
    'configuration schema anyOf {}',
    max,
    `${groups}.managementGroupConfigurationSchema.anyOf`,
    {},
    'type',
  ],
  [
    'configuration schema dependencies [1]',
    max,
    `${endpoint}.eventGroups.eventGroupConfigurationSchema.dependencies`,
    { a: [1] },
    'type',
    `${endpoint}.eventGroups.eventGroupConfigurationSchema.dependencies.a[0]`,
  ],
  ['stream configuration schema 0', max, `${streams}.streamConfigurationSchema`, 0, 'type'],
];

describe('validateConnectorMetadata: the official examples', () => {
  const examples = officialExamples();
  it.skipIf(examples.size === 0)('gives the official schema verdict on each', () => {
    expect([...examples.keys()]).toEqual([
      'example-connector-metadata.json',
      'minimal-example-connector-metadata.json',
    ]);
    for (const [name, document] of examples) {
      const result = verdict(document);
      expect(result.valid, name).toBe(true);
    }
  });

  it.skipIf(examples.size === 0)(
    'warns about what the full example gets wrong beyond the schema',
    () => {
      const result = validateConnectorMetadata(examples.get('example-connector-metadata.json'));
      const warnings = result.problems.map((p) => `${p.rule} ${p.path}`);
      expect(warnings).toEqual(
        expect.arrayContaining([
          // dataSource and typeRef written beside "fields" in dataPoints (an open object)
          'sdk-unlisted-property inboundEndpoints[0].datasets.dataPoints.dataSource',
          'sdk-unlisted-property inboundEndpoints[0].datasets.dataPoints.typeRef',
          // "{namespace}" is not a token the platform replaces
          'sdk-topic inboundEndpoints[0].eventGroups.events.destinations.defaultDestination.topic',
          // the address regex is written as a /…/ literal
          'sdk-regex inboundEndpoints[0].fields.address.regex[0]',
        ]),
      );
      const token = result.problems.find((p) => p.rule === 'sdk-topic');
      expect(token?.message).toContain('{namespace}');
      expect(token?.message).toContain('did you mean {kubernetesNamespace}?');
      expect(result.problems.every((p) => p.severity === 'warning')).toBe(true);
    },
  );
});

describe('validateConnectorMetadata: valid samples', () => {
  const samples = ownValidSamples();
  it('has at least 8 samples of its own', () => {
    expect(samples.size).toBeGreaterThanOrEqual(8);
  });
  for (const [name, document] of samples) {
    it(`accepts ${name}`, () => {
      const result = verdict(document);
      expect(errors(result.problems)).toEqual([]);
      expect(result.valid).toBe(true);
      if (name !== 'open-objects-with-warnings.json' && name !== 'management-only.json')
        expect(result.problems).toEqual([]);
    });
  }
});

describe('validateConnectorMetadata: invalid samples (one broken rule each)', () => {
  it('has at least 40 samples', () => {
    expect(invalid.length).toBeGreaterThanOrEqual(40);
  });
  for (const [name, base, path, value, rule, reported = path] of invalid) {
    it(`rejects: ${name}`, () => {
      const document = edit(base, path, value);
      const result = verdict(document);
      expect(result.valid).toBe(false);
      const found = errors(result.problems);
      expect(
        found.map((p) => `${p.rule} ${p.path}`),
        JSON.stringify(found, null, 2),
      ).toContain(`${rule} ${reported}`);
    });
  }
});

describe('validateConnectorMetadata: messages', () => {
  const only = (document: unknown) => {
    const found = errors(validateConnectorMetadata(document).problems);
    expect(found).toHaveLength(1);
    return found[0]!;
  };

  it('explains the endpoint type pattern with the value found', () => {
    const problem = only(edit(min, `${endpoint}.endpointType`, 'http'));
    expect(problem).toMatchObject({
      severity: 'error',
      rule: 'pattern',
      path: 'inboundEndpoints[0].endpointType',
      pointer: '/inboundEndpoints/0/endpointType',
    });
    expect(problem.message).toBe(
      'must be of the form "Vendor.Type" (letters, a dot, letters) such as "Microsoft.Http", found "http"',
    );
  });

  it('explains semantic versions', () => {
    expect(only(edit(min, 'version', '1.0')).message).toMatch(
      /^must be a semantic version MAJOR\.MINOR\.PATCH such as "1\.2\.3" .*, found "1\.0"$/u,
    );
  });

  it('tells that retain values are lower case', () => {
    expect(only(edit(max, `${mqttDefault}.retain`, 'Keep')).message).toBe(
      'must be one of "keep" or "never", found "Keep" (values are case-sensitive: write "keep")',
    );
  });

  it('tells to unquote a quoted qos', () => {
    expect(only(edit(max, `${mqttDefault}.qos`, '1')).message).toBe(
      'must be the integer 0 or 1, found a string ("1") (write it without quotes: 1)',
    );
    expect(only(edit(max, `${mqttDefault}.qos`, 2)).message).toBe(
      'must be the integer 0 or 1, found 2',
    );
  });

  it('names what a missing property should be, and when it became required', () => {
    const problem = only(edit(max, `${datasets}.destinations`, DELETE));
    expect(problem.path).toBe('inboundEndpoints[0].datasets.destinations');
    expect(problem.message).toBe(
      'is required but missing (expected an object with "supportedDestinations"); required by the 11.0-preview schema (older versions did not require it)',
    );
  });

  it('suggests the property meant for an unknown one', () => {
    expect(only(edit(max, `${datasets}.limit`, { minimum: 0 })).message).toBe(
      'is not allowed here; did you mean "limits"?',
    );
    const moved = validateConnectorMetadata(
      edit(max, `${datasets}.dataSource`, { input: 'required' }),
    );
    expect(errors(moved.problems)[0]?.message).toBe(
      'is not allowed here; field necessities belong inside "fields" ("fields.dataSource")',
    );
    expect(only(edit(max, 'aioMetadata.minVersion', '1')).message).toBe(
      'is not allowed here; did you mean "aioMinVersion"?',
    );
    expect(only(edit(min, 'zzz', 1)).message).toMatch(
      /^is not allowed here; known properties here: \$schema, name, description, version, /u,
    );
  });

  it('explains the tag-or-digest choice', () => {
    expect(only(edit(min, `${image}.digest`, 'sha256:00')).message).toBe(
      'must set either "tag" or "digest", not both: the image is pinned by one of them',
    );
    expect(only(edit(min, `${image}.tag`, DELETE)).message).toContain(
      'must set "tag" (such as "1.0.0") or "digest"',
    );
  });

  it('explains which destinations events can use', () => {
    const problem = only(
      edit(max, `${events}.destinations.defaultDestination`, {
        destination: 'BrokerStateStore',
        key: 'k',
      }),
    );
    expect(problem.message).toBe(
      'must be "Mqtt" or "Storage", found "BrokerStateStore" (events cannot go to the broker state store)',
    );
  });

  it('checks only the properties of the chosen destination', () => {
    const problem = only(edit(max, `${storageDefault}.topic`, 'a/b'));
    expect(problem).toMatchObject({
      rule: 'unknown-property',
      path: 'inboundEndpoints[0].streams.destinations.defaultDestination.topic',
    });
  });

  it('points at the repeated architecture', () => {
    expect(only(edit(max, 'supportedArchitectures[1]', 'linux/amd64'))).toMatchObject({
      path: 'supportedArchitectures[1]',
      message: 'repeats item [0] ("linux/amd64"): the items must all differ',
    });
  });

  it('explains configuration schema mistakes with the type name meant', () => {
    expect(
      only(edit(max, `${configuration}.properties.requestTimeoutInMs.type`, 'int')).message,
    ).toBe(
      'must be a type name ("array", "boolean", "integer", "null", "number", "object" or "string"), found "int" (did you mean "integer"?)',
    );
  });

  it('reports a root that is not an object', () => {
    for (const root of [null, [], 'metadata', 1]) {
      const problem = only(root);
      expect(problem).toMatchObject({ rule: 'type', path: '', pointer: '' });
      expect(problem.message).toMatch(/^must be an object with "name", "version", /u);
    }
    expect(validateConnectorMetadata(undefined).valid).toBe(false);
  });

  it('reports every problem of a document, not only the first', () => {
    const broken = edit(edit(edit(min, 'version', '1'), 'name', 1), 'extra', true);
    expect(
      errors(validateConnectorMetadata(broken).problems).map((p) => `${p.rule} ${p.path}`),
    ).toEqual(['type name', 'pattern version', 'unknown-property extra']);
  });
});
