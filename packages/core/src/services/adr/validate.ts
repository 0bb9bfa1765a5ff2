/**
 * Validation of untrusted ADR JSON (`getDevice` / `getAsset` responses, update notifications, CR
 * specs) against the Thing Model: required fields, types and enum values. Every problem names the
 * entity and the field path; the problems of one dataset, event, stream or management action do not
 * take down the rest of the asset. Fields this version does not know are kept, so a newer service
 * does not break an older connector.
 *
 * @module
 */
import { ConfigError, ProtocolError } from '../../errors.ts';
import { parseLenientJson } from '../../lenient-json.ts';
import {
  authenticationMethods,
  datasetTargets,
  eventStreamTargets,
  healthStatuses,
  managementActionTypes,
  destinationQosValues,
  destinationRetainValues,
  type Asset,
  type AssetDataPoint,
  type AssetDataset,
  type AssetEvent,
  type AssetEventGroup,
  type AssetManagementAction,
  type AssetManagementGroup,
  type AssetStatus,
  type AssetStream,
  type Device,
  type DeviceStatus,
  type InboundEndpoint,
  type RuntimeHealth,
} from './models.ts';

// ---------------------------------------------------------------------------------------------
// public result types

/** The part of an asset a validation issue belongs to; tells which status entry to report it on. */
export type AdrIssueScope =
  | { readonly kind: 'device' }
  | { readonly kind: 'asset' }
  | { readonly kind: 'dataset'; readonly datasetName: string | undefined }
  | {
      readonly kind: 'eventGroup';
      readonly eventGroupName: string | undefined;
      /** The events of the group (all left out with it). */
      readonly eventNames: readonly string[];
    }
  | {
      readonly kind: 'event';
      readonly eventGroupName: string | undefined;
      readonly eventName: string | undefined;
    }
  | { readonly kind: 'stream'; readonly streamName: string | undefined }
  | {
      readonly kind: 'managementGroup';
      readonly managementGroupName: string | undefined;
      /** The actions of the group (all left out with it). */
      readonly actionNames: readonly string[];
    }
  | {
      readonly kind: 'managementAction';
      readonly managementGroupName: string | undefined;
      readonly actionName: string | undefined;
    };

/** One problem found in a definition. */
export interface AdrValidationIssue {
  /** The path of the field, e.g. `['datasets', 1, 'destinations', 0, 'target']`. */
  readonly path: readonly (string | number)[];
  /** The same path as text, e.g. `datasets[1].destinations[0].target`; `''` for the root. */
  readonly field: string;
  /** What is wrong, e.g. `expected one of BrokerStateStore|Mqtt|Storage, found "Kafka"`. */
  readonly problem: string;
  /** The full sentence: entity, field and problem. */
  readonly message: string;
  /** Which part of the definition the problem belongs to. */
  readonly scope: AdrIssueScope;
}

/** What {@link validateAsset} returns. */
export interface AssetValidation {
  /**
   * The asset, with every dataset, event group, event, stream, management group and action that has
   * a problem left out; `undefined` when a problem affects the asset as a whole.
   */
  readonly asset: Asset | undefined;
  /** Every problem found, in document order. */
  readonly issues: readonly AdrValidationIssue[];
}

/** What {@link validateDevice} returns. */
export interface DeviceValidation {
  /** The device; `undefined` when there is any problem. */
  readonly device: Device | undefined;
  readonly issues: readonly AdrValidationIssue[];
}

/** What to do with fields the Thing Model does not define. */
export type UnknownFieldPolicy = 'keep' | 'error';

/** Options of {@link validateAsset} and {@link parseAsset}. */
export interface AssetValidationOptions {
  /** The asset name (the wire object does not carry it); used in messages. Required. */
  readonly assetName: string;
  /**
   * `keep` (default): fields the Thing Model does not define are kept as they are, so a newer
   * service does not break the connector. `error`: each one is a problem (a typo guard for
   * hand-written definitions).
   */
  readonly unknownFields?: UnknownFieldPolicy;
  /**
   * Whether the stringified `*Configuration` fields must hold a JSON object (lenient: trailing
   * commas and comments allowed). Default: `true`.
   */
  readonly checkConfigurations?: boolean;
}

/** Options of {@link validateDevice} and {@link parseDevice}. */
export interface DeviceValidationOptions {
  /** The device name (the wire object does not carry it); used in messages. Required. */
  readonly deviceName: string;
  /**
   * The inbound endpoint the connector serves. When given, `endpoints.inbound[endpointName]` must
   * be present. Default: not checked.
   */
  readonly endpointName?: string;
  /** See {@link AssetValidationOptions.unknownFields}. Default: `keep`. */
  readonly unknownFields?: UnknownFieldPolicy;
  /** See {@link AssetValidationOptions.checkConfigurations}. Default: `true`. */
  readonly checkConfigurations?: boolean;
}

// ---------------------------------------------------------------------------------------------
// schema of the Thing Model (field names, required fields, types, enums)

type ScopeKind =
  'dataset' | 'eventGroup' | 'event' | 'stream' | 'managementGroup' | 'managementAction';

type Path = readonly (string | number)[];

interface Reporter {
  report(path: Path, problem: string): void;
}

type Schema =
  | { readonly t: 'string'; readonly nonEmpty?: boolean }
  | { readonly t: 'boolean' }
  | { readonly t: 'uint' }
  | { readonly t: 'datetime' }
  | { readonly t: 'config' }
  | { readonly t: 'enum'; readonly values: readonly string[] }
  | {
      readonly t: 'object';
      readonly fields: Readonly<Record<string, Schema>>;
      readonly required?: readonly string[];
      readonly check?: (value: Record<string, unknown>, path: Path, reporter: Reporter) => void;
    }
  | { readonly t: 'map'; readonly values: Schema }
  | {
      readonly t: 'array';
      readonly items: Schema;
      /** Items are isolated: one with a problem is left out and the rest kept. */
      readonly scope?: ScopeKind;
      /** Items must have distinct `name`s. */
      readonly uniqueNames?: boolean;
    };

const str: Schema = { t: 'string' };
const name: Schema = { t: 'string', nonEmpty: true };
const bool: Schema = { t: 'boolean' };
const uint: Schema = { t: 'uint' };
const datetime: Schema = { t: 'datetime' };
const config: Schema = { t: 'config' };
const strings: Schema = { t: 'array', items: str };
const stringMap: Schema = { t: 'map', values: str };

const destinationConfiguration: Schema = {
  t: 'object',
  fields: {
    key: str,
    path: str,
    qos: { t: 'enum', values: destinationQosValues },
    retain: { t: 'enum', values: destinationRetainValues },
    topic: str,
    ttl: uint,
  },
};

/** The configuration field each target needs. */
const targetField: Readonly<Record<string, string>> = {
  Mqtt: 'topic',
  BrokerStateStore: 'key',
  Storage: 'path',
};

function checkDestination(value: Record<string, unknown>, path: Path, reporter: Reporter): void {
  const target = value['target'];
  const configuration = value['configuration'];
  if (typeof target !== 'string' || !isRecord(configuration)) return;
  const field = targetField[target];
  if (field === undefined) return;
  const setting = configuration[field];
  if (setting === undefined || setting === null || setting === '')
    reporter.report([...path, 'configuration', field], `required when target is ${target}`);
}

function destination(targets: readonly string[]): Schema {
  return {
    t: 'object',
    fields: { configuration: destinationConfiguration, target: { t: 'enum', values: targets } },
    required: ['configuration', 'target'],
    check: checkDestination,
  };
}

const datasetDestinations: Schema = { t: 'array', items: destination(datasetTargets) };
const eventStreamDestinations: Schema = { t: 'array', items: destination(eventStreamTargets) };

const dataPoint: Schema = {
  t: 'object',
  fields: { name, dataSource: str, typeRef: str, dataPointConfiguration: config },
  required: ['name'],
};

const dataset: Schema = {
  t: 'object',
  fields: {
    name,
    dataSource: str,
    typeRef: str,
    datasetConfiguration: config,
    dataPoints: { t: 'array', items: dataPoint },
    destinations: datasetDestinations,
  },
  required: ['name'],
};

const assetEvent: Schema = {
  t: 'object',
  fields: {
    name,
    dataSource: str,
    typeRef: str,
    eventConfiguration: config,
    destinations: eventStreamDestinations,
  },
  required: ['name'],
};

const eventGroup: Schema = {
  t: 'object',
  fields: {
    name,
    dataSource: str,
    typeRef: str,
    eventGroupConfiguration: config,
    defaultDestinations: eventStreamDestinations,
    events: { t: 'array', items: assetEvent, scope: 'event', uniqueNames: true },
  },
  required: ['name'],
};

const stream: Schema = {
  t: 'object',
  fields: {
    name,
    typeRef: str,
    streamConfiguration: config,
    destinations: eventStreamDestinations,
  },
  required: ['name'],
};

const managementAction: Schema = {
  t: 'object',
  fields: {
    name,
    actionType: { t: 'enum', values: managementActionTypes },
    targetUri: str,
    topic: str,
    timeoutInSeconds: uint,
    typeRef: str,
    actionConfiguration: config,
  },
  required: ['actionType', 'name', 'targetUri'],
};

const managementGroup: Schema = {
  t: 'object',
  fields: {
    name,
    dataSource: str,
    typeRef: str,
    defaultTopic: str,
    defaultTimeoutInSeconds: uint,
    managementGroupConfiguration: config,
    actions: { t: 'array', items: managementAction, scope: 'managementAction', uniqueNames: true },
  },
  required: ['name'],
};

const assetSchema: Schema = {
  t: 'object',
  fields: {
    assetTypeRefs: strings,
    attributes: stringMap,
    datasets: { t: 'array', items: dataset, scope: 'dataset', uniqueNames: true },
    defaultDatasetsConfiguration: config,
    defaultDatasetsDestinations: datasetDestinations,
    defaultEventsConfiguration: config,
    defaultEventsDestinations: eventStreamDestinations,
    defaultManagementGroupsConfiguration: config,
    defaultStreamsConfiguration: config,
    defaultStreamsDestinations: eventStreamDestinations,
    description: str,
    deviceRef: {
      t: 'object',
      fields: { deviceName: name, endpointName: name },
      required: ['deviceName', 'endpointName'],
    },
    discoveredAssetRefs: strings,
    displayName: str,
    documentationUri: str,
    enabled: bool,
    eventGroups: { t: 'array', items: eventGroup, scope: 'eventGroup', uniqueNames: true },
    externalAssetId: str,
    hardwareRevision: str,
    lastTransitionTime: datetime,
    managementGroups: {
      t: 'array',
      items: managementGroup,
      scope: 'managementGroup',
      uniqueNames: true,
    },
    manufacturer: str,
    manufacturerUri: str,
    model: str,
    productCode: str,
    serialNumber: str,
    softwareRevision: str,
    streams: { t: 'array', items: stream, scope: 'stream', uniqueNames: true },
    uuid: str,
    version: uint,
  },
  required: ['deviceRef'],
};

const outboundEndpoint: Schema = {
  t: 'object',
  fields: { address: str, endpointType: str },
  required: ['address'],
};

const inboundEndpoint: Schema = {
  t: 'object',
  fields: {
    additionalConfiguration: config,
    address: str,
    authentication: {
      t: 'object',
      fields: {
        method: { t: 'enum', values: authenticationMethods },
        usernamePasswordCredentials: {
          t: 'object',
          fields: { usernameSecretName: str, passwordSecretName: str },
          required: ['usernameSecretName', 'passwordSecretName'],
        },
        x509Credentials: {
          t: 'object',
          fields: {
            certificateSecretName: str,
            intermediateCertificatesSecretName: str,
            keySecretName: str,
          },
          required: ['certificateSecretName'],
        },
      },
      required: ['method'],
    },
    endpointType: str,
    trustSettings: { t: 'object', fields: { trustList: str } },
    version: str,
  },
  required: ['address', 'endpointType'],
};

const deviceSchema: Schema = {
  t: 'object',
  fields: {
    attributes: stringMap,
    discoveredDeviceRef: str,
    enabled: bool,
    endpoints: {
      t: 'object',
      fields: {
        inbound: { t: 'map', values: inboundEndpoint },
        outbound: {
          t: 'object',
          fields: {
            assigned: { t: 'map', values: outboundEndpoint },
            unassigned: { t: 'map', values: outboundEndpoint },
          },
          required: ['assigned'],
        },
      },
    },
    externalDeviceId: str,
    lastTransitionTime: datetime,
    manufacturer: str,
    model: str,
    operatingSystem: str,
    operatingSystemVersion: str,
    uuid: str,
    version: uint,
  },
};

const configErrorSchema: Schema = {
  t: 'object',
  fields: {
    code: str,
    message: str,
    details: {
      t: 'array',
      items: {
        t: 'object',
        fields: { code: str, correlationId: str, info: str, message: str },
      },
    },
  },
};

const configStatus: Schema = {
  t: 'object',
  fields: { error: configErrorSchema, lastTransitionTime: datetime, version: uint },
};

const schemaReference: Schema = {
  t: 'object',
  fields: { schemaName: str, schemaRegistryNamespace: str, schemaVersion: str },
  required: ['schemaName', 'schemaRegistryNamespace', 'schemaVersion'],
};

const operationStatus: Schema = {
  t: 'object',
  fields: { name, error: configErrorSchema, messageSchemaReference: schemaReference },
  required: ['name'],
};

const deviceStatusSchema: Schema = {
  t: 'object',
  fields: {
    config: configStatus,
    endpoints: {
      t: 'object',
      fields: {
        inbound: { t: 'map', values: { t: 'object', fields: { error: configErrorSchema } } },
      },
    },
  },
};

const assetStatusSchema: Schema = {
  t: 'object',
  fields: {
    config: configStatus,
    datasets: { t: 'array', items: operationStatus },
    streams: { t: 'array', items: operationStatus },
    eventGroups: {
      t: 'array',
      items: {
        t: 'object',
        fields: { name, events: { t: 'array', items: operationStatus } },
        required: ['name'],
      },
    },
    managementGroups: {
      t: 'array',
      items: {
        t: 'object',
        fields: {
          name,
          actions: {
            t: 'array',
            items: {
              t: 'object',
              fields: {
                name,
                error: configErrorSchema,
                requestMessageSchemaReference: schemaReference,
                responseMessageSchemaReference: schemaReference,
              },
              required: ['name'],
            },
          },
        },
        required: ['name'],
      },
    },
  },
};

const runtimeHealthSchema: Schema = {
  t: 'object',
  fields: {
    version: uint,
    status: { t: 'enum', values: healthStatuses },
    lastUpdateTime: datetime,
    message: str,
    reasonCode: str,
  },
  required: ['version', 'status', 'lastUpdateTime'],
};

// ---------------------------------------------------------------------------------------------
// the walker

interface WalkOptions {
  readonly unknownFields: UnknownFieldPolicy;
  readonly checkConfigurations: boolean;
}

interface Collected {
  readonly path: Path;
  readonly problem: string;
  readonly scope: AdrIssueScope;
}

class Walker implements Reporter {
  readonly issues: Collected[] = [];
  #scopes: AdrIssueScope[];
  readonly #options: WalkOptions;

  constructor(root: AdrIssueScope, options: WalkOptions) {
    this.#scopes = [root];
    this.#options = options;
  }

  report(path: Path, problem: string): void {
    this.issues.push({ path, problem, scope: this.#scopes.at(-1) as AdrIssueScope });
  }

  /** Checks `value`; returns `ok: false` when a problem makes it unusable. */
  walk(value: unknown, schema: Schema, path: Path): { ok: boolean; value: unknown } {
    switch (schema.t) {
      case 'string':
        if (typeof value !== 'string')
          return this.#fail(path, `expected a string, ${found(value)}`);
        if (schema.nonEmpty === true && value.trim() === '')
          return this.#fail(path, 'must not be empty');
        return { ok: true, value };
      case 'boolean':
        return typeof value === 'boolean'
          ? { ok: true, value }
          : this.#fail(path, `expected true or false, ${found(value)}`);
      case 'uint':
        return typeof value === 'number' && Number.isInteger(value) && value >= 0
          ? { ok: true, value }
          : this.#fail(path, `expected a non-negative integer, ${found(value)}`);
      case 'datetime':
        if (typeof value !== 'string' || !isDateTime(value))
          return this.#fail(path, `expected an RFC 3339 date-time, ${found(value)}`);
        return { ok: true, value };
      case 'config':
        return this.#config(value, path);
      case 'enum':
        return typeof value === 'string' && schema.values.includes(value)
          ? { ok: true, value }
          : this.#fail(path, `expected one of ${schema.values.join('|')}, ${found(value)}`);
      case 'object':
        return this.#object(value, schema, path);
      case 'map': {
        if (!isRecord(value)) return this.#fail(path, `expected an object, ${found(value)}`);
        const out: Record<string, unknown> = {};
        let ok = true;
        for (const [key, item] of Object.entries(value)) {
          if (key === '__proto__') continue; // never copied: it would replace the prototype
          const result = this.walk(item, schema.values, [...path, key]);
          ok &&= result.ok;
          out[key] = result.value;
        }
        return { ok, value: out };
      }
      case 'array':
        return this.#array(value, schema, path);
    }
  }

  #fail(path: Path, problem: string): { ok: false; value: undefined } {
    this.report(path, problem);
    return { ok: false, value: undefined };
  }

  #config(value: unknown, path: Path): { ok: boolean; value: unknown } {
    if (typeof value !== 'string') return this.#fail(path, `expected a string, ${found(value)}`);
    if (!this.#options.checkConfigurations || value.trim() === '') return { ok: true, value };
    const { problem } = parseConfiguration(value);
    return problem === undefined ? { ok: true, value } : this.#fail(path, problem);
  }

  #object(
    value: unknown,
    schema: Extract<Schema, { t: 'object' }>,
    path: Path,
  ): { ok: boolean; value: unknown } {
    if (!isRecord(value)) return this.#fail(path, `expected an object, ${found(value)}`);
    const out: Record<string, unknown> = {};
    let ok = true;
    for (const required of schema.required ?? []) {
      if (value[required] === undefined || value[required] === null) {
        this.report([...path, required], 'required field is missing');
        ok = false;
      }
    }
    for (const [key, item] of Object.entries(value)) {
      const fieldSchema = Object.hasOwn(schema.fields, key) ? schema.fields[key] : undefined;
      if (fieldSchema === undefined) {
        if (this.#options.unknownFields === 'error') {
          this.report([...path, key], unknownFieldProblem(key, Object.keys(schema.fields)));
          ok = false;
        } else if (key !== '__proto__') {
          // kept for forward compatibility; `__proto__` is never copied (it would replace the
          // prototype of the copy)
          out[key] = item;
        }
        continue;
      }
      // null is how some producers write "absent"; the wire omits it
      if (item === null || item === undefined) continue;
      const result = this.walk(item, fieldSchema, [...path, key]);
      ok &&= result.ok;
      if (result.ok) out[key] = result.value;
    }
    if (ok && schema.check !== undefined) {
      const before = this.issues.length;
      schema.check(value, path, this);
      ok = this.issues.length === before;
    }
    return { ok, value: ok ? out : undefined };
  }

  #array(
    value: unknown,
    schema: Extract<Schema, { t: 'array' }>,
    path: Path,
  ): { ok: boolean; value: unknown } {
    if (!Array.isArray(value)) return this.#fail(path, `expected an array, ${found(value)}`);
    const items: readonly unknown[] = value;
    const duplicates = schema.uniqueNames === true ? duplicateNames(items) : new Set<string>();
    const out: unknown[] = [];
    let ok = true;
    const seen = new Map<string, number>();
    items.forEach((item, index) => {
      const itemPath = [...path, index];
      const { scope } = schema;
      if (scope !== undefined) this.#scopes.push(this.#scopeOf(scope, item));
      try {
        const result = this.walk(item, schema.items, itemPath);
        const itemName = isRecord(item) ? item['name'] : undefined;
        let itemOk = result.ok;
        if (typeof itemName === 'string' && duplicates.has(itemName)) {
          const first = seen.get(itemName);
          if (first === undefined) seen.set(itemName, index);
          else
            this.report(
              [...itemPath, 'name'],
              `duplicate name "${itemName}" (also at index ${first}); every entry with this name is left out`,
            );
          itemOk = false;
        }
        if (scope !== undefined) {
          // an isolated item with a problem is left out; the rest of the array stays usable
          if (itemOk) out.push(result.value);
        } else {
          ok &&= itemOk;
          out.push(result.value);
        }
      } finally {
        if (scope !== undefined) this.#scopes.pop();
      }
    });
    return { ok, value: ok ? out : undefined };
  }

  #scopeOf(kind: ScopeKind, item: unknown): AdrIssueScope {
    const itemName = nameOf(item);
    const parent = this.#scopes.at(-1);
    switch (kind) {
      case 'dataset':
        return { kind, datasetName: itemName };
      case 'stream':
        return { kind, streamName: itemName };
      case 'eventGroup':
        return { kind, eventGroupName: itemName, eventNames: childNames(item, 'events') };
      case 'event':
        return {
          kind,
          eventGroupName: parent?.kind === 'eventGroup' ? parent.eventGroupName : undefined,
          eventName: itemName,
        };
      case 'managementGroup':
        return {
          kind,
          managementGroupName: itemName,
          actionNames: childNames(item, 'actions'),
        };
      case 'managementAction':
        return {
          kind,
          managementGroupName:
            parent?.kind === 'managementGroup' ? parent.managementGroupName : undefined,
          actionName: itemName,
        };
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nameOf(item: unknown): string | undefined {
  if (!isRecord(item)) return undefined;
  const value = item['name'];
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

function childNames(item: unknown, key: string): readonly string[] {
  if (!isRecord(item)) return [];
  const children = item[key];
  if (!Array.isArray(children)) return [];
  return children.map(nameOf).filter((n): n is string => n !== undefined);
}

function duplicateNames(items: readonly unknown[]): Set<string> {
  const counts = new Map<string, number>();
  for (const item of items) {
    const itemName = nameOf(item);
    if (itemName !== undefined) counts.set(itemName, (counts.get(itemName) ?? 0) + 1);
  }
  return new Set([...counts].filter(([, count]) => count > 1).map(([key]) => key));
}

/**
 * RFC 3339, read leniently: producers differ on the fraction digits (.NET writes 7) and some omit
 * the offset.
 */
const dateTime =
  /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:?\d{2})?)?$/;

function isDateTime(text: string): boolean {
  return dateTime.test(text);
}

/** How a value is described after "found". */
function found(value: unknown): string {
  if (value === undefined) return 'found nothing';
  if (value === null) return 'found null';
  if (Array.isArray(value)) return 'found an array';
  if (typeof value === 'object') return 'found an object';
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return `found ${JSON.stringify(shown)}`;
  }
  return `found ${typeof value === 'number' || typeof value === 'boolean' ? String(value) : typeof value}`;
}

type ParsedConfiguration =
  | { readonly value: Record<string, unknown>; readonly problem?: undefined }
  | { readonly value?: undefined; readonly problem: string };

/** Parses a stringified configuration; `problem` reads after "is": `not valid JSON: ...`. */
function parseConfiguration(text: string): ParsedConfiguration {
  let parsed: unknown;
  try {
    parsed = parseLenientJson(text);
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    return { problem: `not valid JSON: ${cause instanceof Error ? cause.message : String(cause)}` };
  }
  if (!isRecord(parsed)) {
    const what = Array.isArray(parsed) ? 'an array' : parsed === null ? 'null' : typeof parsed;
    return { problem: `not a JSON object (found ${what})` };
  }
  return { value: parsed };
}

function unknownFieldProblem(key: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const hint =
    best !== undefined && bestDistance <= Math.max(2, Math.floor(key.length / 4))
      ? `; did you mean "${best}"?`
      : '';
  return `unknown field (not in the ADR Thing Model)${hint}`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}

/**
 * Formats a field path: `datasets[1].destinations[0].target`; map keys that are not identifiers
 * are quoted: `endpoints.inbound["my-endpoint"].address`.
 */
function formatPath(path: Path): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

function toIssues(entity: string, collected: readonly Collected[]): AdrValidationIssue[] {
  return collected.map(({ path, problem, scope }) => {
    const field = formatPath(path);
    return {
      path,
      field,
      problem,
      scope,
      message: field === '' ? `${entity}: ${problem}` : `${entity} ${field}: ${problem}`,
    };
  });
}

function issuesError(
  entity: string,
  issues: readonly AdrValidationIssue[],
  make: (message: string, first: AdrValidationIssue) => Error,
): Error {
  const first = issues[0] as AdrValidationIssue;
  const more =
    issues.length === 1
      ? ''
      : ` (and ${issues.length - 1} more: ${issues
          .slice(1, 4)
          .map((issue) => `${issue.field || entity}: ${issue.problem}`)
          .join('; ')}${issues.length > 4 ? '; ...' : ''})`;
  return make(`${first.message}${more}`, first);
}

function resolveOptions(
  options: { readonly unknownFields?: unknown; readonly checkConfigurations?: unknown },
  nameKey: string,
  nameValue: unknown,
): WalkOptions {
  if (typeof nameValue !== 'string' || nameValue === '')
    throw new TypeError(`${nameKey} must be a non-empty string, received ${typeof nameValue}`);
  const { unknownFields = 'keep', checkConfigurations = true } = options;
  if (unknownFields !== 'keep' && unknownFields !== 'error')
    throw new RangeError(
      `unknownFields must be 'keep' or 'error', received ${String(unknownFields)}`,
    );
  if (typeof checkConfigurations !== 'boolean')
    throw new TypeError(
      `checkConfigurations must be a boolean, received ${typeof checkConfigurations}`,
    );
  return { unknownFields, checkConfigurations };
}

// ---------------------------------------------------------------------------------------------
// public API

/**
 * Validates an asset (the `asset` of a `getAsset` response or `assetUpdateEvent`, or a CR `spec`)
 * and collects every problem. A problem inside a dataset, event group, event, stream, management
 * group or action leaves that element out of the returned asset and keeps the rest, so the
 * connector can run the healthy parts and report each problem on the right status entry (see
 * {@link AdrValidationIssue.scope}). Problems of the asset itself (a missing `deviceRef`, a wrong
 * type at the top level) give `asset: undefined`.
 *
 * @example
 * ```ts
 * import { validateAsset } from '@aio-connector/core';
 * const { asset, issues } = validateAsset(json, { assetName: 'thermostat' });
 * for (const issue of issues) console.log(issue.scope.kind, issue.message);
 * for (const dataset of asset?.datasets ?? []) console.log('sampling', dataset.name);
 * ```
 */
export function validateAsset(json: unknown, options: AssetValidationOptions): AssetValidation {
  const walkOptions = resolveOptions(options, 'assetName', options.assetName);
  const walker = new Walker({ kind: 'asset' }, walkOptions);
  const result = walker.walk(json, assetSchema, []);
  const issues = toIssues(`asset ${JSON.stringify(options.assetName)}`, walker.issues);
  const assetLevel = issues.some((issue) => issue.scope.kind === 'asset');
  return { asset: result.ok && !assetLevel ? (result.value as Asset) : undefined, issues };
}

/**
 * Validates an asset and returns it, or throws a `ConfigError` naming the asset and the field path
 * of the first problem (the message lists a few more; `details.issues` has them all). Use
 * {@link validateAsset} to keep the healthy datasets of an asset that has a bad one.
 *
 * @example
 * ```ts
 * import { parseAsset } from '@aio-connector/core';
 * const asset = parseAsset(JSON.parse(text), { assetName: 'thermostat' });
 * // ConfigError: asset "thermostat" datasets[1].destinations[0].target: expected one of
 * //   BrokerStateStore|Mqtt|Storage, found "Kafka"
 * ```
 */
export function parseAsset(json: unknown, options: AssetValidationOptions): Asset {
  const { asset, issues } = validateAsset(json, options);
  if (asset !== undefined && issues.length === 0) return asset;
  const entity = `asset ${JSON.stringify(options.assetName)}`;
  throw issuesError(entity, issues, (message, first) =>
    toConfigError(entity, message, first, issues),
  );
}

/**
 * Validates a device (the `device` of a `getDevice` response or `deviceUpdateEvent`, or a CR
 * `spec`) and collects every problem.
 *
 * @example
 * ```ts
 * import { validateDevice } from '@aio-connector/core';
 * const { device, issues } = validateDevice(json, { deviceName: 'oven', endpointName: 'rest' });
 * if (device === undefined) console.log(issues.map((issue) => issue.message).join('\n'));
 * ```
 */
export function validateDevice(json: unknown, options: DeviceValidationOptions): DeviceValidation {
  const walkOptions = resolveOptions(options, 'deviceName', options.deviceName);
  const { endpointName } = options;
  if (endpointName !== undefined && (typeof endpointName !== 'string' || endpointName === ''))
    throw new TypeError('endpointName must be a non-empty string');
  const walker = new Walker({ kind: 'device' }, walkOptions);
  const result = walker.walk(json, deviceSchema, []);
  if (endpointName !== undefined && isRecord(json)) {
    const endpoints = json['endpoints'];
    const inbound = isRecord(endpoints) ? endpoints['inbound'] : undefined;
    if (!isRecord(inbound) || inbound[endpointName] == null)
      walker.report(
        ['endpoints', 'inbound', endpointName],
        'required field is missing (the inbound endpoint this connector serves)',
      );
  }
  const issues = toIssues(`device ${JSON.stringify(options.deviceName)}`, walker.issues);
  return {
    device: result.ok && issues.length === 0 ? (result.value as Device) : undefined,
    issues,
  };
}

/**
 * Validates a device and returns it, or throws a `ConfigError` naming the device and the field path
 * of the first problem.
 *
 * @example
 * ```ts
 * import { parseDevice } from '@aio-connector/core';
 * const device = parseDevice(JSON.parse(text), { deviceName: 'oven', endpointName: 'rest' });
 * console.log(device.endpoints?.inbound?.['rest']?.address);
 * ```
 */
export function parseDevice(json: unknown, options: DeviceValidationOptions): Device {
  const { device, issues } = validateDevice(json, options);
  if (device !== undefined) return device;
  const entity = `device ${JSON.stringify(options.deviceName)}`;
  throw issuesError(entity, issues, (message, first) =>
    toConfigError(entity, message, first, issues),
  );
}

function toConfigError(
  entity: string,
  message: string,
  first: AdrValidationIssue,
  issues: readonly AdrValidationIssue[],
): ConfigError {
  return new ConfigError(message, {
    source: entity,
    field: first.field,
    details: { issues: issues.map((issue) => issue.message) },
  });
}

function parsePayload(json: unknown, schema: Schema, what: string): unknown {
  const walker = new Walker(
    { kind: 'device' },
    { unknownFields: 'keep', checkConfigurations: false },
  );
  const result = walker.walk(json, schema, []);
  if (result.ok && walker.issues.length === 0) return result.value;
  const issues = toIssues(what, walker.issues);
  throw issuesError(
    what,
    issues,
    (message) =>
      new ProtocolError('invalid payload', message, {
        details: { issues: issues.map((issue) => issue.message) },
      }),
  );
}

/**
 * Validates a device status received from ADR (`getDeviceStatus`, `updateDeviceStatus`). `null`
 * fields are dropped (the wire omits absent fields). Throws a `ProtocolError` of kind
 * `invalid payload` naming the field when the shape is wrong.
 *
 * @example
 * ```ts
 * import { parseDeviceStatus } from '@aio-connector/core';
 * const status = parseDeviceStatus(response.deviceStatus);
 * console.log(status.endpoints?.inbound?.['rest']?.error?.message);
 * ```
 */
export function parseDeviceStatus(json: unknown): DeviceStatus {
  return parsePayload(json, deviceStatusSchema, 'device status') as DeviceStatus;
}

/**
 * Validates an asset status received from ADR (`getAssetStatus`, `updateAssetStatus`). `null`
 * fields are dropped. Throws a `ProtocolError` of kind `invalid payload` naming the field.
 *
 * @example
 * ```ts
 * import { parseAssetStatus } from '@aio-connector/core';
 * const status = parseAssetStatus(response.assetStatus);
 * console.log(status.datasets?.map((entry) => entry.name));
 * ```
 */
export function parseAssetStatus(json: unknown): AssetStatus {
  return parsePayload(json, assetStatusSchema, 'asset status') as AssetStatus;
}

/**
 * Validates a runtime health object (`version`, `status`, `lastUpdateTime` required). Throws a
 * `ProtocolError` of kind `invalid payload` naming the field.
 *
 * @example
 * ```ts
 * import { parseRuntimeHealth } from '@aio-connector/core';
 * parseRuntimeHealth({ version: 1, status: 'Available', lastUpdateTime: '2026-01-01T00:00:00Z' });
 * ```
 */
export function parseRuntimeHealth(json: unknown): RuntimeHealth {
  return parsePayload(json, runtimeHealthSchema, 'runtime health') as RuntimeHealth;
}

// ---------------------------------------------------------------------------------------------
// stringified configurations

/** An asset element or endpoint that carries a stringified `*Configuration` field. */
export type ConfigurableElement =
  | AssetDataset
  | AssetDataPoint
  | AssetEventGroup
  | AssetEvent
  | AssetStream
  | AssetManagementGroup
  | AssetManagementAction
  | InboundEndpoint;

/** The stringified configuration fields of an asset itself. */
export type AssetConfigurationField =
  | 'defaultDatasetsConfiguration'
  | 'defaultEventsConfiguration'
  | 'defaultStreamsConfiguration'
  | 'defaultManagementGroupsConfiguration';

const elementFields = [
  ['datasetConfiguration', 'dataset'],
  ['dataPointConfiguration', 'data point'],
  ['eventGroupConfiguration', 'event group'],
  ['eventConfiguration', 'event'],
  ['streamConfiguration', 'stream'],
  ['managementGroupConfiguration', 'management group'],
  ['actionConfiguration', 'management action'],
  ['additionalConfiguration', 'inbound endpoint'],
] as const;

const assetConfigurationFields: readonly string[] = [
  'defaultDatasetsConfiguration',
  'defaultEventsConfiguration',
  'defaultStreamsConfiguration',
  'defaultManagementGroupsConfiguration',
];

/** Options of {@link configurationOf}. */
export interface ConfigurationOfOptions {
  /**
   * The entity named in errors. Default: derived from the element (`dataset "name"`, ...) or
   * `asset`.
   */
  readonly source?: string;
}

/**
 * Parses the stringified configuration of an asset element (`datasetConfiguration`,
 * `dataPointConfiguration`, `eventConfiguration`, `eventGroupConfiguration`,
 * `streamConfiguration`, `managementGroupConfiguration`, `actionConfiguration`), of an inbound
 * endpoint (`additionalConfiguration`), or, given the field name, of an asset
 * (`defaultDatasetsConfiguration`, ...). Lenient: trailing commas and comments are accepted, as in
 * the official samples. An absent or blank field gives `{}`. Throws a `ConfigError` naming the
 * element and the field when the text is not a JSON object.
 *
 * @example
 * ```ts
 * import { configurationOf } from '@aio-connector/core';
 * const interval =
 *   configurationOf(dataset)['samplingInterval'] ??
 *   configurationOf(asset, 'defaultDatasetsConfiguration')['samplingInterval'];
 * ```
 */
export function configurationOf(
  element: ConfigurableElement,
  options?: ConfigurationOfOptions,
): Record<string, unknown>;
export function configurationOf(
  asset: Asset,
  field: AssetConfigurationField,
  options?: ConfigurationOfOptions,
): Record<string, unknown>;
export function configurationOf(
  entity: ConfigurableElement | Asset,
  fieldOrOptions?: AssetConfigurationField | ConfigurationOfOptions,
  maybeOptions?: ConfigurationOfOptions,
): Record<string, unknown> {
  if (!isRecord(entity))
    throw new TypeError('configurationOf expects an asset, element or endpoint');
  const record = entity as Readonly<Record<string, unknown>>;
  let field: string | undefined;
  let source: string;
  let options: ConfigurationOfOptions | undefined;
  if (typeof fieldOrOptions === 'string') {
    if (!assetConfigurationFields.includes(fieldOrOptions))
      throw new RangeError(
        `field must be one of ${assetConfigurationFields.join(', ')}, received ${fieldOrOptions}`,
      );
    field = fieldOrOptions;
    source = 'asset';
    options = maybeOptions;
  } else {
    options = fieldOrOptions;
    const match = elementFields.find(([key]) => record[key] !== undefined);
    if (match === undefined) return {};
    field = match[0];
    const elementName = nameOf(record);
    source = elementName === undefined ? match[1] : `${match[1]} ${JSON.stringify(elementName)}`;
  }
  source = options?.source ?? source;
  const text = record[field];
  if (text === undefined || text === null) return {};
  if (typeof text !== 'string')
    throw new ConfigError(`${source} ${field} must be a string holding JSON, ${found(text)}`, {
      source,
      field,
    });
  if (text.trim() === '') return {};
  const parsed = parseConfiguration(text);
  if (parsed.problem !== undefined)
    throw new ConfigError(`${source} ${field} is ${parsed.problem}`, { source, field });
  return parsed.value;
}
