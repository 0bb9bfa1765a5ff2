/**
 * Advice beyond the schema: things the 11.0-preview schema accepts but that are most likely
 * mistakes, or that do not fit connectors built with this SDK. Every finding here is a warning;
 * none makes a document invalid.
 *
 * @module
 */
import { readinessProbeArgument } from '@aio-connector/core';
import { checkRegex } from './json-schema-draft07.ts';
import {
  closestName,
  isObject,
  own,
  showValue,
  type Findings,
  type Path,
} from './schema-walker.ts';

/**
 * The address of the connector metadata 11.0-preview schema, as `$schema` should name it.
 *
 * @example
 * ```ts
 * import { connectorMetadataSchemaUrl } from '@aio-connector/devkit';
 * const metadata = { $schema: connectorMetadataSchemaUrl, name: 'rest-thermostat' };
 * ```
 */
export const connectorMetadataSchemaUrl =
  'https://json.schemastore.org/aio-connector-metadata-11.0-preview.json';

const everywhereTokens = ['deviceName', 'inboundEndpointName', 'assetName', 'kubernetesNamespace'];

/** The model types whose data has a destination, and the tokens their destinations may use. */
const destinationOwners = {
  datasets: { tokens: ['datasetName'], noun: 'datasets' },
  events: { tokens: ['eventGroupName', 'eventName'], noun: 'events' },
  streams: { tokens: ['streamName'], noun: 'streams' },
} as const;
type DestinationOwner = keyof typeof destinationOwners;

const allTokens = [
  ...everywhereTokens,
  ...Object.values(destinationOwners).flatMap((o) => [...o.tokens]),
];

/** Runs every SDK-level check on a parsed metadata document. */
export function checkSdkConventions(metadata: unknown, findings: Findings): void {
  if (!isObject(metadata)) return;
  checkSchemaVersion(metadata, findings);
  checkReadinessProbe(metadata, findings);
  checkArchitectures(metadata, findings);
  checkDuplicates(metadata['secrets'], 'secretAlias', ['secrets'], findings);
  checkDuplicates(metadata['storageVolumes'], 'mountPath', ['storageVolumes'], findings);
  checkDuplicates(
    metadata['connectorConfigurationKeys'],
    'key',
    ['connectorConfigurationKeys'],
    findings,
  );
  const endpoints = metadata['inboundEndpoints'];
  if (!Array.isArray(endpoints)) return;
  checkDuplicates(endpoints, 'endpointType', ['inboundEndpoints'], findings);
  endpoints.forEach((endpoint, i) => {
    if (isObject(endpoint)) checkEndpoint(endpoint, ['inboundEndpoints', i], findings);
  });
}

function checkSchemaVersion(metadata: Record<string, unknown>, findings: Findings): void {
  const declared = own(metadata, '$schema');
  if (typeof declared !== 'string') return;
  const match = /aio-connector-metadata-(\d+(?:\.\d+)*(?:-[A-Za-z]+)?)/u.exec(declared);
  const version = match?.[1];
  if (version === '11.0-preview') return;
  if (version === undefined) {
    findings.warning(
      ['$schema'],
      'sdk-schema-version',
      `does not name the connector metadata schema; this SDK checks 11.0-preview: "${connectorMetadataSchemaUrl}"`,
    );
    return;
  }
  const changes = version.startsWith('9.')
    ? '; 11.0-preview requires "destinations" on datasets, events and streams and "actionTypes" on management group actions, and adds "readinessProbe" to the image settings'
    : '';
  findings.warning(
    ['$schema'],
    'sdk-schema-version',
    `declares connector metadata ${version}, but 11.0-preview is expected: set it to "${connectorMetadataSchemaUrl}"${changes}`,
  );
}

function checkReadinessProbe(metadata: Record<string, unknown>, findings: Findings): void {
  const image = own(metadata, 'imageConfigurationSettings');
  const probe = isObject(image) ? own(image, 'readinessProbe') : undefined;
  if (!isObject(probe)) return;
  const path = ['imageConfigurationSettings', 'readinessProbe'];
  const example = `["node", "dist/main.js", "${readinessProbeArgument}"]`;
  const exec = own(probe, 'exec');
  if (exec === undefined) {
    findings.warning(
      path,
      'sdk-readiness-probe',
      `has no "exec" command, so the pod has nothing to run; connectors built with this SDK answer the probe with "exec": {"command": ${example}}`,
    );
    return;
  }
  const command = isObject(exec) ? own(exec, 'command') : undefined;
  if (!Array.isArray(command)) return;
  if (command.length === 0) {
    findings.warning(
      [...path, 'exec', 'command'],
      'sdk-readiness-probe',
      `is empty, so the probe always fails; use ${example}`,
    );
    return;
  }
  const word = new RegExp(`(?:^|\\s)${readinessProbeArgument}(?:\\s|$)`, 'u');
  if (!command.some((arg) => typeof arg === 'string' && word.test(arg))) {
    findings.warning(
      [...path, 'exec', 'command'],
      'sdk-readiness-probe',
      `does not pass "${readinessProbeArgument}": a connector built with this SDK reports its readiness when its entry point runs with that argument, for example ${example}`,
    );
  }
}

function checkArchitectures(metadata: Record<string, unknown>, findings: Findings): void {
  const architectures = own(metadata, 'supportedArchitectures');
  if (!Array.isArray(architectures)) return;
  architectures.forEach((architecture, i) => {
    if (typeof architecture !== 'string') return;
    if (/^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/u.test(architecture)) return;
    const guess = /^(?:amd64|arm64|arm|386|x86_64|aarch64)$/iu.test(architecture)
      ? ` (did you mean "linux/${architecture.toLowerCase().replace('x86_64', 'amd64').replace('aarch64', 'arm64')}"?)`
      : '';
    findings.warning(
      ['supportedArchitectures', i],
      'sdk-architecture',
      `should be an OS/architecture platform such as "linux/amd64" or "linux/arm64", found ${showValue(architecture)}${guess}`,
    );
  });
}

function checkDuplicates(list: unknown, key: string, path: Path, findings: Findings): void {
  if (!Array.isArray(list)) return;
  const seen = new Map<string, number>();
  list.forEach((item, i) => {
    const value = isObject(item) ? own(item, key) : undefined;
    if (typeof value !== 'string') return;
    const first = seen.get(value);
    if (first === undefined) seen.set(value, i);
    else {
      findings.warning(
        [...path, i, key],
        'sdk-duplicate-entry',
        `repeats ${showValue(value)} of item [${first}]; each entry should be distinct`,
      );
    }
  });
}

function checkEndpoint(endpoint: Record<string, unknown>, path: Path, findings: Findings): void {
  if (own(endpoint, 'supportedAuthenticationTypes') === undefined) {
    findings.warning(
      [...path, 'supportedAuthenticationTypes'],
      'sdk-authentication-types',
      'is not declared, so users cannot tell which credentials the endpoint accepts; list them, for example ["anonymous", "usernamePassword", "x509"]',
    );
  }
  checkFieldRegexes(own(endpoint, 'fields'), [...path, 'fields'], findings);

  const models: readonly (readonly [readonly string[], DestinationOwner | undefined])[] = [
    [['datasets'], 'datasets'],
    [['datasets', 'dataPoints'], undefined],
    [['eventGroups'], undefined],
    [['eventGroups', 'events'], 'events'],
    [['streams'], 'streams'],
    [['managementGroups'], undefined],
    [['managementGroups', 'managementGroupActions'], undefined],
  ];
  for (const [steps, owner] of models) {
    let model: unknown = endpoint;
    for (const step of steps) model = isObject(model) ? own(model, step) : undefined;
    if (!isObject(model)) continue;
    const at = [...path, ...steps];
    checkLimits(own(model, 'limits'), [...at, 'limits'], findings);
    checkFieldRegexes(own(model, 'fields'), [...at, 'fields'], findings);
    if (owner !== undefined)
      checkDestinations(own(model, 'destinations'), [...at, 'destinations'], owner, findings);
  }
}

function checkLimits(limits: unknown, path: Path, findings: Findings): void {
  if (!isObject(limits)) return;
  const { minimum, maximum } = limits;
  if (typeof minimum === 'number' && typeof maximum === 'number' && minimum > maximum) {
    findings.warning(
      path,
      'sdk-limits',
      `minimum (${minimum}) is greater than maximum (${maximum}), so no count satisfies both`,
    );
  }
}

function checkFieldRegexes(fields: unknown, path: Path, findings: Findings): void {
  if (!isObject(fields)) return;
  for (const [name, necessity] of Object.entries(fields)) {
    const regexes = isObject(necessity) ? own(necessity, 'regex') : undefined;
    if (!Array.isArray(regexes)) continue;
    regexes.forEach((regex, i) => {
      if (typeof regex !== 'string') return;
      const at = [...path, name, 'regex', i];
      if (/^\/.+\/[dgimsuvy]*$/su.test(regex)) {
        findings.warning(
          at,
          'sdk-regex',
          'is written like a JavaScript regex literal: the surrounding slashes are taken literally (a value would have to start and end with "/"); write the pattern without them',
        );
      }
      checkRegex(regex, at, false, findings, '');
    });
  }
}

function checkDestinations(
  destinations: unknown,
  path: Path,
  owner: DestinationOwner,
  findings: Findings,
): void {
  if (!isObject(destinations)) return;
  const supported = own(destinations, 'supportedDestinations');
  const fallback = own(destinations, 'defaultDestination');
  if (Array.isArray(supported)) {
    if (supported.length === 0) {
      findings.warning(
        [...path, 'supportedDestinations'],
        'sdk-destination',
        `lists no destination, so the ${destinationOwners[owner].noun} cannot be forwarded anywhere`,
      );
    }
    supported.forEach((item, i) => {
      if (supported.indexOf(item) < i) {
        findings.warning(
          [...path, 'supportedDestinations', i],
          'sdk-duplicate-entry',
          `repeats ${showValue(item)}; each destination should be listed once`,
        );
      }
    });
    const chosen = isObject(fallback) ? own(fallback, 'destination') : undefined;
    if (typeof chosen === 'string' && supported.length > 0 && !supported.includes(chosen)) {
      findings.warning(
        [...path, 'defaultDestination', 'destination'],
        'sdk-destination',
        `is ${showValue(chosen)}, which "supportedDestinations" does not list`,
      );
    }
  }
  if (!isObject(fallback)) return;
  for (const field of ['topic', 'key', 'path']) {
    const template = own(fallback, field);
    if (typeof template !== 'string') continue;
    const at = [...path, 'defaultDestination', field];
    checkTokens(template, at, owner, findings);
    if (field === 'topic') checkTopic(template, at, findings);
  }
}

function checkTokens(
  template: string,
  path: Path,
  owner: DestinationOwner,
  findings: Findings,
): void {
  const allowed = [...everywhereTokens, ...destinationOwners[owner].tokens];
  for (const [, token = ''] of template.matchAll(/\{([^{}]*)\}/gu)) {
    if (allowed.includes(token)) continue;
    if (allTokens.includes(token)) {
      findings.warning(
        path,
        'sdk-topic',
        `uses {${token}}, which is not available to ${destinationOwners[owner].noun} (allowed here: ${allowed.map((t) => `{${t}}`).join(', ')})`,
      );
      continue;
    }
    const near = closestName(token, allowed);
    findings.warning(
      path,
      'sdk-topic',
      `uses {${token}}, which is not a token the platform replaces${near === undefined ? '' : ` (did you mean {${near}}?)`}; tokens here: ${allowed.map((t) => `{${t}}`).join(', ')}`,
    );
  }
}

function checkTopic(topic: string, path: Path, findings: Findings): void {
  if (topic === '') {
    findings.warning(path, 'sdk-topic', 'is empty: MQTT topics must have at least one character');
  } else if (/[+#]/u.test(topic)) {
    findings.warning(
      path,
      'sdk-topic',
      `contains a wildcard ('+' or '#'), which cannot be published to`,
    );
  } else if (topic.startsWith('$')) {
    findings.warning(
      path,
      'sdk-topic',
      `starts with '$', which brokers reserve for their own topics`,
    );
  }
}
