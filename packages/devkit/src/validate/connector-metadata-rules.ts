/**
 * The rules of `connector-metadata.json`, version 11.0-preview, written with the SDK's rule
 * language. Every constraint of the published schema is here: required properties, closed objects
 * (`additionalProperties: false`), the semantic-version and endpoint-type patterns, the enums, the
 * integer ranges, the tag-or-digest choice of the image settings and the three destination
 * variants of `defaultDestination`. Objects the schema leaves open (`events`, `dataPoints`,
 * `streams`, field necessities, `exec`, `sdks`) accept other properties with a warning.
 *
 * @module
 */
import { jsonSchemaDraft07 } from './json-schema-draft07.ts';
import {
  array,
  boolean,
  describeValue,
  integer,
  isObject,
  listOf,
  object,
  own,
  showValue,
  string,
  type Check,
  type ObjectCheck,
} from './schema-walker.ts';

const text = string();

const numeric = String.raw`(?:0|[1-9]\d*)`;
const prereleaseId = String.raw`(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)`;
const buildId = '[0-9a-zA-Z-]+';

/** MAJOR.MINOR.PATCH, optional `-prerelease` and `+build` (semver.org 2.0.0). */
export const semanticVersion = new RegExp(
  `^${numeric}\\.${numeric}\\.${numeric}(?:-${prereleaseId}(?:\\.${prereleaseId})*)?(?:\\+${buildId}(?:\\.${buildId})*)?$`,
  'u',
);

/** `Vendor.Type` at the start of the string (the schema anchors only the start). */
export const endpointTypePrefix = /^[a-zA-Z]+\.[a-zA-Z]+/u;

const version = string({
  pattern: {
    regex: semanticVersion,
    expected:
      'a semantic version MAJOR.MINOR.PATCH such as "1.2.3" (optionally "-preview.1" or "+build.5"; no leading zeros)',
  },
});

const endpointType = string({
  pattern: {
    regex: endpointTypePrefix,
    expected: 'of the form "Vendor.Type" (letters, a dot, letters) such as "Microsoft.Http"',
  },
});

const modelLimits = object({
  properties: { minimum: integer({ minimum: 0 }), maximum: integer({ minimum: 1 }) },
  closed: true,
});

const alternativeTypeName = object({
  properties: { singular: text, plural: text },
  required: ['singular', 'plural'],
  closed: true,
});

const nonNegative = integer({ minimum: 0 });

const readinessProbe = object({
  properties: {
    exec: object({ properties: { command: array(text) }, required: ['command'], closed: false }),
    initialDelaySeconds: nonNegative,
    periodSeconds: nonNegative,
    timeoutSeconds: nonNegative,
    successThreshold: nonNegative,
    failureThreshold: nonNegative,
  },
  closed: true,
});

const fieldNecessity = object({
  properties: {
    input: string({ enum: ['required', 'optional', 'unsupported'] }),
    regex: array(text),
    exampleValue: text,
    description: text,
  },
  required: ['input'],
  closed: false,
});

function fields(names: readonly string[], required: readonly string[]): ObjectCheck {
  return object({
    properties: Object.fromEntries(names.map((n) => [n, fieldNecessity])),
    required,
    closed: true,
  });
}

/** Hints for field necessities written beside `fields` instead of inside it. */
function misplacedFields(names: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    names.map((n) => [n, `field necessities belong inside "fields" ("fields.${n}")`]),
  );
}

const mqttDestinationDefaults = object({
  properties: {
    destination: string({ enum: ['Mqtt'] }),
    topic: text,
    qos: integer({ enum: [0, 1] }),
    ttl: integer({ minimum: 0 }),
    retain: string({ enum: ['keep', 'never'] }),
  },
  required: ['destination', 'topic', 'qos', 'ttl', 'retain'],
  closed: true,
  requiredHints: {
    qos: 'the MQTT quality of service of published messages',
    ttl: 'the message expiry interval of published messages, in seconds',
    retain: 'whether the broker retains published messages',
  },
});

const brokerStateStoreDestinationDefaults = object({
  properties: { destination: string({ enum: ['BrokerStateStore'] }), key: text },
  required: ['destination', 'key'],
  closed: true,
});

const storageDestinationDefaults = object({
  properties: { destination: string({ enum: ['Storage'] }), path: text },
  required: ['destination', 'path'],
  closed: true,
});

/** Where the data of a dataset, event or stream can go. */
export type DestinationKind = 'Mqtt' | 'BrokerStateStore' | 'Storage';

const destinationDefaults: Readonly<Record<DestinationKind, ObjectCheck>> = {
  Mqtt: mqttDestinationDefaults,
  BrokerStateStore: brokerStateStoreDestinationDefaults,
  Storage: storageDestinationDefaults,
};

/**
 * `defaultDestination`: exactly one of the destination variants allowed here, chosen by its
 * `destination` property (the variants exclude each other through it).
 */
function defaultDestination(kinds: readonly DestinationKind[], owner: string): Check {
  const expected = `an object whose "destination" is ${listOf(kinds)}`;
  return {
    expected,
    validate(value, path, findings) {
      if (!isObject(value)) {
        findings.error(path, 'type', `must be ${expected}, found ${describeValue(value)}`);
        return;
      }
      const destination = own(value, 'destination');
      const at = [...path, 'destination'];
      if (destination === undefined) {
        findings.error(
          at,
          'required',
          `is required but missing (expected ${listOf(kinds)}); it selects which other properties apply`,
        );
        return;
      }
      if (typeof destination !== 'string' || !(kinds as readonly string[]).includes(destination)) {
        const sameButCase =
          typeof destination === 'string'
            ? kinds.find((k) => k.toLowerCase() === destination.toLowerCase())
            : undefined;
        const hint =
          sameButCase !== undefined
            ? ` (values are case-sensitive: write ${JSON.stringify(sameButCase)})`
            : destination === 'BrokerStateStore'
              ? ` (${owner} cannot go to the broker state store)`
              : '';
        findings.error(
          at,
          'one-of',
          `must be ${listOf(kinds)}, found ${showValue(destination)}${hint}`,
        );
        return;
      }
      destinationDefaults[destination as DestinationKind].validate(value, path, findings);
    },
  };
}

function destinations(kinds: readonly DestinationKind[], owner: string): ObjectCheck {
  return object({
    properties: {
      supportedDestinations: array(string({ enum: kinds }), {
        expected: `an array of ${listOf(kinds)}`,
      }),
      defaultDestination: defaultDestination(kinds, owner),
    },
    required: ['supportedDestinations'],
    closed: true,
  });
}

const newIn11 = 'required by the 11.0-preview schema (older versions did not require it)';
const configurationSchema = jsonSchemaDraft07;

const events = object({
  properties: {
    limits: modelLimits,
    fields: fields(['dataSource', 'typeRef'], ['dataSource', 'typeRef']),
    destinations: destinations(['Mqtt', 'Storage'], 'events'),
    eventConfigurationSchema: configurationSchema,
    alternativeTypeName,
  },
  required: ['fields', 'limits', 'destinations'],
  closed: false,
  requiredHints: { destinations: newIn11 },
  unknownHints: misplacedFields(['dataSource', 'typeRef']),
});

const eventGroups = object({
  properties: {
    limits: modelLimits,
    fields: fields(['dataSource', 'typeRef'], ['dataSource', 'typeRef']),
    events,
    eventGroupConfigurationSchema: configurationSchema,
    alternativeTypeName,
  },
  required: ['limits', 'fields'],
  closed: true,
  unknownHints: misplacedFields(['dataSource', 'typeRef']),
});

const dataPoints = object({
  properties: {
    limits: modelLimits,
    fields: fields(['dataSource', 'typeRef'], ['dataSource', 'typeRef']),
    dataPointConfigurationSchema: configurationSchema,
    alternativeTypeName,
  },
  closed: false,
  unknownHints: misplacedFields(['dataSource', 'typeRef']),
});

const datasets = object({
  properties: {
    limits: modelLimits,
    fields: fields(['dataSource', 'typeRef'], ['dataSource', 'typeRef']),
    destinations: destinations(['Mqtt', 'BrokerStateStore', 'Storage'], 'datasets'),
    datasetConfigurationSchema: configurationSchema,
    dataPoints,
    alternativeTypeName,
  },
  required: ['limits', 'fields', 'destinations'],
  closed: true,
  requiredHints: { destinations: newIn11 },
  unknownHints: misplacedFields(['dataSource', 'typeRef']),
});

const managementGroupActions = object({
  properties: {
    limits: modelLimits,
    fields: fields(['targetUri', 'typeRef'], ['targetUri', 'typeRef']),
    actionTypes: object({
      properties: {
        supportedActionTypes: array(string({ enum: ['Call', 'Read', 'Write'] }), {
          minItems: 1,
          expected: 'a non-empty array of "Call", "Read" or "Write"',
        }),
      },
      required: ['supportedActionTypes'],
      closed: true,
    }),
    actionConfigurationSchema: configurationSchema,
    alternativeTypeName,
  },
  required: ['limits', 'fields', 'actionTypes'],
  closed: true,
  requiredHints: { actionTypes: newIn11 },
  unknownHints: misplacedFields(['targetUri', 'typeRef']),
});

const managementGroups = object({
  properties: {
    limits: modelLimits,
    fields: fields(['typeRef', 'dataSource'], ['typeRef']),
    managementGroupActions,
    managementGroupConfigurationSchema: configurationSchema,
    alternativeTypeName,
  },
  required: ['limits', 'fields'],
  closed: true,
  unknownHints: misplacedFields(['typeRef', 'dataSource']),
});

const streams = object({
  properties: {
    limits: modelLimits,
    fields: fields(['typeRef'], ['typeRef']),
    destinations: destinations(['Mqtt', 'Storage'], 'streams'),
    streamConfigurationSchema: configurationSchema,
    alternativeTypeName,
  },
  required: ['fields', 'limits', 'destinations'],
  closed: false,
  requiredHints: { destinations: newIn11 },
  unknownHints: misplacedFields(['typeRef']),
});

const inboundEndpoint = object({
  properties: {
    endpointType,
    description: text,
    version: text,
    fields: fields(['address'], ['address']),
    supportedAuthenticationTypes: array(text),
    assetsEnabledByDefault: boolean,
    additionalConfigurationSchema: configurationSchema,
    datasets,
    eventGroups,
    streams,
    managementGroups,
  },
  required: ['endpointType', 'fields'],
  closed: true,
  unknownHints: { address: 'field necessities belong inside "fields" ("fields.address")' },
});

const imageProperties = object({
  properties: { imageName: text, tag: text, digest: text, readinessProbe },
  required: ['imageName'],
  closed: true,
});

/**
 * `imageConfigurationSettings`: `imageName` with either `tag` or `digest` (never both), and an
 * optional `readinessProbe`.
 */
const imageConfigurationSettings: Check = {
  expected: 'an object with "imageName" and either "tag" or "digest"',
  validate(value, path, findings) {
    if (!isObject(value)) {
      findings.error(
        path,
        'type',
        `must be ${imageConfigurationSettings.expected}, found ${describeValue(value)}`,
      );
      return;
    }
    imageProperties.validate(value, path, findings);
    if (Object.hasOwn(value, 'tag') && Object.hasOwn(value, 'digest')) {
      findings.error(
        path,
        'one-of',
        'must set either "tag" or "digest", not both: the image is pinned by one of them',
      );
    } else if (own(value, 'tag') === undefined && own(value, 'digest') === undefined) {
      findings.error(
        path,
        'one-of',
        'must set "tag" (such as "1.0.0") or "digest" (such as "sha256:…") beside "imageName"',
      );
    }
  },
};

/** The whole `connector-metadata.json` document, 11.0-preview. */
export const connectorMetadataRules: ObjectCheck = object({
  properties: {
    $schema: text,
    name: text,
    description: text,
    version,
    isPreview: boolean,
    maintainer: text,
    vendor: text,
    imageConfigurationSettings,
    supportedArchitectures: array(text, {
      minItems: 1,
      unique: true,
      expected: 'a non-empty array of platforms such as "linux/amd64", without duplicates',
    }),
    secrets: array(
      object({
        properties: { secretAlias: text, secretDescription: text, isOptional: boolean },
        required: ['secretAlias'],
        closed: true,
      }),
      { minItems: 1, expected: 'a non-empty array of secrets ({"secretAlias": …})' },
    ),
    storageVolumes: array(
      object({
        properties: { mountPath: text, description: text },
        required: ['mountPath'],
        closed: true,
      }),
      { minItems: 1, expected: 'a non-empty array of volumes ({"mountPath": …})' },
    ),
    sourceCode: object({
      properties: {
        language: text,
        languageVersion: text,
        sdks: object({
          properties: {
            mqttPackageVersion: text,
            protocolPackageVersion: text,
            servicesPackageVersion: text,
            connectorPackageVersion: text,
          },
          closed: false,
        }),
      },
      required: ['language', 'languageVersion'],
      closed: true,
    }),
    aioMetadata: object({
      properties: { aioMinVersion: text, aioMaxVersion: text },
      closed: true,
    }),
    connectorConfigurationKeys: array(
      object({ properties: { key: text, description: text }, required: ['key'], closed: true }),
      { minItems: 1, expected: 'a non-empty array of keys ({"key": …})' },
    ),
    inboundEndpointAlternativeTypeName: alternativeTypeName,
    endpointsEnabledByDefault: boolean,
    inboundEndpoints: array(inboundEndpoint, {
      minItems: 1,
      expected: 'a non-empty array of inbound endpoints ({"endpointType": …, "fields": …})',
    }),
    recommendedAllocationPolicy: string({ enum: ['bucketized'] }),
    recommendedReplicas: integer({ minimum: 1 }),
  },
  required: [
    'name',
    'version',
    'supportedArchitectures',
    'inboundEndpoints',
    'imageConfigurationSettings',
  ],
  closed: true,
  unknownHints: {
    aioConnectorMetadataSchemaVersion:
      'older drafts named the schema version here; 11.0-preview uses "$schema" instead',
  },
});
