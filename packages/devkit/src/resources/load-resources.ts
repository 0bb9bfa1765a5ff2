/**
 * Loads Azure Device Registry definitions from the Kubernetes custom resources users
 * `kubectl apply` (kinds `Device` and `Asset` of `namespaces.deviceregistry.microsoft.com/v1`,
 * alone, in multi-document files or in `kind: List`), validated against the ADR Thing Model with
 * the same parsers the connector uses. Every problem carries the file and line it comes from.
 *
 * @module
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import {
  ConfigError,
  resolveDestinationTopic,
  throwIfAborted,
  validateAsset,
  validateDevice,
  type AdrValidationIssue,
  type Asset,
  type DatasetDestination,
  type DestinationTokens,
  type Device,
  type EventStreamDestination,
} from '@aio-connector/core';
import {
  LineCounter,
  isMap,
  isScalar,
  isSeq,
  parseAllDocuments,
  type Document,
  type Node as YamlNode,
} from 'yaml';

/** Where a definition or problem is in the resource files. */
export interface ResourceLocation {
  /** The file, as given or joined to the directory given. */
  readonly file: string;
  /** 1-based line. */
  readonly line: number;
}

/** A `Device` resource. */
export interface LoadedDevice {
  /** `metadata.name`: the device name. */
  readonly name: string;
  /** `metadata.namespace`, when set. */
  readonly namespace: string | undefined;
  /** `spec`, as the ADR service returns it from `getDevice`. */
  readonly device: Device;
  readonly location: ResourceLocation;
}

/** An `Asset` resource. */
export interface LoadedAsset {
  /** `metadata.name`: the asset name. */
  readonly name: string;
  readonly namespace: string | undefined;
  /** `spec`, as the ADR service returns it from `getAsset`. */
  readonly asset: Asset;
  readonly location: ResourceLocation;
}

/** Something worth telling the user that does not stop loading. */
export interface ResourceWarning extends ResourceLocation {
  /** The sentence, without the location. */
  readonly message: string;
}

/** What {@link loadResources} returns. */
export interface LoadedResources {
  /** Devices by name, in file order. */
  readonly devices: ReadonlyMap<string, LoadedDevice>;
  /** Assets by name, in file order. */
  readonly assets: ReadonlyMap<string, LoadedAsset>;
  /**
   * Skipped documents (other kinds, other API versions), assets whose device or endpoint is not
   * loaded, and destination topics the connector will reject.
   */
  readonly warnings: readonly ResourceWarning[];
}

/** Options of {@link loadResources}. Every field is optional. */
export interface LoadResourcesOptions {
  /** Aborts loading. */
  readonly signal?: AbortSignal;
  /**
   * Whether destination topics starting with `/` are acceptable (the official test assets use
   * `/mqtt/machine/status`); with `false` each such topic is a warning, as the .NET and Rust SDKs
   * reject them. Default: `true`, like the SDK's connectors.
   */
  readonly allowLeadingSlash?: boolean;
}

/** One problem that stops loading. */
export interface ResourceProblem extends ResourceLocation {
  readonly message: string;
}

const group = 'namespaces.deviceregistry.microsoft.com';
const supportedApiVersion = `${group}/v1`;
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const directoryExtensions = new Set(['.yaml', '.yml']);

type Path = readonly (string | number)[];

interface Sink {
  readonly problems: ResourceProblem[];
  readonly warnings: ResourceWarning[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function formatPath(path: Path): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(part)}]`;
  }
  return out;
}

/** The line of the deepest node of `path` that exists (the key's line for a map entry). */
function lineOf(doc: Document, counter: LineCounter, path: Path): number {
  let node: unknown = doc.contents;
  let offset = doc.contents?.range?.[0] ?? 0;
  for (const key of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) =>
        isScalar(item.key) ? item.key.value === key : item.key === key,
      );
      if (pair === undefined) break;
      const keyNode = pair.key as YamlNode | null;
      offset = keyNode?.range?.[0] ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof key === 'number') {
      const item = node.items[key] as YamlNode | undefined;
      if (item === undefined) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else break;
  }
  return counter.linePos(offset).line;
}

async function listFiles(
  paths: readonly string[],
  signal: AbortSignal | undefined,
): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    throwIfAborted(signal, 'loadResources');
    let info;
    try {
      info = await stat(path);
    } catch (error) {
      throw new ConfigError(`cannot read ${path}: ${(error as Error).message}`, {
        source: path,
        cause: error,
      });
    }
    if (info.isDirectory()) {
      const names = (await readdir(path)).filter((name) =>
        directoryExtensions.has(extname(name).toLowerCase()),
      );
      for (const name of names.sort()) files.push(join(path, name));
    } else files.push(path);
  }
  return files;
}

interface Context {
  readonly file: string;
  readonly doc: Document;
  readonly counter: LineCounter;
  readonly sink: Sink;
  readonly devices: Map<string, LoadedDevice>;
  readonly assets: Map<string, LoadedAsset>;
  readonly allowLeadingSlash: boolean;
}

function at(context: Context, path: Path): ResourceLocation {
  return { file: context.file, line: lineOf(context.doc, context.counter, path) };
}

function problem(context: Context, path: Path, message: string): void {
  context.sink.problems.push({ ...at(context, path), message });
}

function warn(context: Context, path: Path, message: string): void {
  context.sink.warnings.push({ ...at(context, path), message });
}

function reportIssues(
  context: Context,
  prefix: Path,
  entity: string,
  issues: readonly AdrValidationIssue[],
): void {
  for (const issue of issues) {
    const field =
      issue.field === '' ? 'spec' : `spec${issue.field.startsWith('[') ? '' : '.'}${issue.field}`;
    problem(context, [...prefix, 'spec', ...issue.path], `${entity} ${field}: ${issue.problem}`);
  }
}

function loadResource(context: Context, value: unknown, prefix: Path): void {
  if (value === null || value === undefined) return; // an empty document
  if (!isRecord(value)) {
    warn(context, prefix, 'skipped a document that is not a Kubernetes resource');
    return;
  }
  const { apiVersion, kind } = value;
  if (kind === 'List' && Array.isArray(value['items'])) {
    value['items'].forEach((item, index) => {
      loadResource(context, item, [...prefix, 'items', index]);
    });
    return;
  }
  const metadata = value['metadata'];
  const rawName = isRecord(metadata) ? metadata['name'] : undefined;
  const label = `${typeof kind === 'string' ? kind : 'resource'}${typeof rawName === 'string' ? ` "${rawName}"` : ''}`;
  if (kind !== 'Device' && kind !== 'Asset') {
    warn(context, prefix, `skipped ${label}: only Device and Asset resources are loaded`);
    return;
  }
  if (apiVersion !== supportedApiVersion) {
    const older =
      typeof apiVersion === 'string' && apiVersion.startsWith('deviceregistry.microsoft.com/')
        ? ' (the older, non-namespaced ADR API)'
        : '';
    warn(
      context,
      [...prefix, 'apiVersion'],
      `skipped ${label}: apiVersion ${JSON.stringify(apiVersion)}${older} is not supported; use ${supportedApiVersion}`,
    );
    return;
  }
  const entity = `${kind === 'Device' ? 'device' : 'asset'} ${typeof rawName === 'string' ? JSON.stringify(rawName) : '(unnamed)'}`;
  if (typeof rawName !== 'string' || rawName === '') {
    problem(
      context,
      [...prefix, 'metadata', 'name'],
      `${kind} metadata.name: required field is missing`,
    );
    return;
  }
  if (rawName.length > 253 || !dnsSubdomain.test(rawName)) {
    problem(
      context,
      [...prefix, 'metadata', 'name'],
      `${entity} metadata.name: not a valid Kubernetes name (lower case letters, digits, "-" and ".")`,
    );
    return;
  }
  const rawNamespace = isRecord(metadata) ? metadata['namespace'] : undefined;
  const namespace = typeof rawNamespace === 'string' ? rawNamespace : undefined;
  const spec = value['spec'];
  if (!isRecord(spec)) {
    problem(
      context,
      spec === undefined ? prefix : [...prefix, 'spec'],
      `${entity} spec: ${spec === undefined ? 'required field is missing' : 'expected an object'}`,
    );
    return;
  }
  const location = at(context, prefix);
  if (kind === 'Device') {
    const { device, issues } = validateDevice(spec, {
      deviceName: rawName,
      unknownFields: 'error',
    });
    reportIssues(context, prefix, entity, issues);
    if (device === undefined) return;
    const first = context.devices.get(rawName);
    if (first !== undefined) {
      problem(
        context,
        [...prefix, 'metadata', 'name'],
        `${entity} is defined twice (first at ${first.location.file}:${first.location.line})`,
      );
      return;
    }
    context.devices.set(rawName, { name: rawName, namespace, device, location });
  } else {
    const { asset, issues } = validateAsset(spec, { assetName: rawName, unknownFields: 'error' });
    reportIssues(context, prefix, entity, issues);
    if (asset === undefined || issues.length > 0) return;
    const first = context.assets.get(rawName);
    if (first !== undefined) {
      problem(
        context,
        [...prefix, 'metadata', 'name'],
        `${entity} is defined twice (first at ${first.location.file}:${first.location.line})`,
      );
      return;
    }
    context.assets.set(rawName, { name: rawName, namespace, asset, location });
    checkTopics(context, [...prefix, 'spec'], entity, rawName, namespace, asset);
  }
}

/** Warns about the destination topics the connector will reject. */
function checkTopics(
  context: Context,
  specPath: Path,
  entity: string,
  assetName: string,
  namespace: string | undefined,
  asset: Asset,
): void {
  const base: DestinationTokens = {
    deviceName: asset.deviceRef.deviceName,
    inboundEndpointName: asset.deviceRef.endpointName,
    assetName,
    ...(namespace === undefined ? {} : { kubernetesNamespace: namespace }),
  };
  const check = (
    destinations: readonly (DatasetDestination | EventStreamDestination)[] | undefined,
    path: Path,
    tokens: DestinationTokens,
  ): void => {
    destinations?.forEach((destination, index) => {
      const topic = destination.configuration.topic;
      if (destination.target !== 'Mqtt' || topic === undefined) return;
      const topicPath = [...path, index, 'configuration', 'topic'];
      try {
        resolveDestinationTopic(topic, tokens, {
          source: entity,
          field: formatPath(['spec', ...topicPath]),
          allowLeadingSlash: context.allowLeadingSlash,
        });
      } catch (error) {
        warn(
          context,
          [...specPath, ...topicPath],
          `${(error as Error).message}; the connector will report this destination as a configuration error`,
        );
      }
    });
  };
  asset.datasets?.forEach((dataset, index) => {
    const tokens = { ...base, datasetName: dataset.name };
    if (dataset.destinations !== undefined)
      check(dataset.destinations, ['datasets', index, 'destinations'], tokens);
    else check(asset.defaultDatasetsDestinations, ['defaultDatasetsDestinations'], tokens);
  });
  asset.eventGroups?.forEach((eventGroup, groupIndex) => {
    eventGroup.events?.forEach((event, index) => {
      const tokens = { ...base, eventGroupName: eventGroup.name, eventName: event.name };
      if (event.destinations !== undefined)
        check(
          event.destinations,
          ['eventGroups', groupIndex, 'events', index, 'destinations'],
          tokens,
        );
      else if (eventGroup.defaultDestinations !== undefined)
        check(
          eventGroup.defaultDestinations,
          ['eventGroups', groupIndex, 'defaultDestinations'],
          tokens,
        );
      else check(asset.defaultEventsDestinations, ['defaultEventsDestinations'], tokens);
    });
  });
  asset.streams?.forEach((stream, index) => {
    const tokens = { ...base, streamName: stream.name };
    if (stream.destinations !== undefined)
      check(stream.destinations, ['streams', index, 'destinations'], tokens);
    else check(asset.defaultStreamsDestinations, ['defaultStreamsDestinations'], tokens);
  });
}

function checkReferences(resources: LoadedResources, sink: Sink): void {
  for (const loaded of resources.assets.values()) {
    const { deviceName, endpointName } = loaded.asset.deviceRef;
    const device = resources.devices.get(deviceName);
    const inbound = device?.device.endpoints?.inbound;
    let message: string | undefined;
    if (device === undefined) message = `device "${deviceName}" is not defined in the files loaded`;
    else if (inbound === undefined || !Object.hasOwn(inbound, endpointName))
      message = `device "${deviceName}" has no inbound endpoint "${endpointName}"`;
    if (message !== undefined)
      sink.warnings.push({
        ...loaded.location,
        message: `asset "${loaded.name}" spec.deviceRef: ${message}`,
      });
  }
}

/**
 * Loads `Device` and `Asset` resources from YAML files and directories (`*.yaml`, `*.yml`, not
 * recursive), in the order given: multi-document files and `kind: List` are supported, other kinds
 * are skipped with a warning. Each `spec` is validated against the ADR Thing Model as the
 * connector does; fields the Thing Model does not define are errors here (a typo guard).
 *
 * Throws one `ConfigError` listing every problem, each as `file:line: message` (YAML syntax
 * errors, validation errors with the field path, invalid or duplicate names); `details.problems`
 * holds them as objects.
 *
 * @example
 * ```ts
 * import { loadResources } from '@aio-connector/devkit';
 * const { devices, assets, warnings } = await loadResources(['./resources']);
 * for (const warning of warnings) console.warn(`${warning.file}:${warning.line}: ${warning.message}`);
 * for (const [name, { asset }] of assets) console.log(name, asset.deviceRef.deviceName);
 * ```
 */
export async function loadResources(
  paths: string | readonly string[],
  options: LoadResourcesOptions = {},
): Promise<LoadedResources> {
  const list = typeof paths === 'string' ? [paths] : paths;
  if (!Array.isArray(list) || list.some((path) => typeof path !== 'string' || path === ''))
    throw new TypeError('paths must be a path or an array of paths');
  const { signal, allowLeadingSlash = true } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal))
    throw new TypeError('signal must be an AbortSignal');
  if (typeof allowLeadingSlash !== 'boolean')
    throw new TypeError(
      `allowLeadingSlash must be a boolean, received ${typeof allowLeadingSlash}`,
    );

  const sink: Sink = { problems: [], warnings: [] };
  const devices = new Map<string, LoadedDevice>();
  const assets = new Map<string, LoadedAsset>();
  for (const file of await listFiles(list, signal)) {
    throwIfAborted(signal, 'loadResources');
    let text: string;
    try {
      text = await readFile(file, {
        encoding: 'utf8',
        ...(signal === undefined ? {} : { signal }),
      });
    } catch (error) {
      throwIfAborted(signal, 'loadResources');
      throw new ConfigError(`cannot read ${file}: ${(error as Error).message}`, {
        source: file,
        cause: error,
      });
    }
    const counter = new LineCounter();
    const documents = parseAllDocuments(text, { lineCounter: counter, prettyErrors: false });
    if (!Array.isArray(documents)) continue; // no document at all
    // an error found at the end of the text is shown on the last line, not after it
    const lastLine = counter.linePos(text.trimEnd().length).line;
    const lineAt = (offset: number): number => Math.min(counter.linePos(offset).line, lastLine);
    for (const doc of documents) {
      for (const error of doc.errors)
        sink.problems.push({
          file,
          line: lineAt(error.pos[0]),
          message: `YAML syntax error: ${error.message}`,
        });
      for (const warning of doc.warnings)
        sink.warnings.push({
          file,
          line: lineAt(warning.pos[0]),
          message: `YAML: ${warning.message}`,
        });
      if (doc.errors.length > 0) continue;
      const context: Context = { file, doc, counter, sink, devices, assets, allowLeadingSlash };
      loadResource(context, doc.toJS({ maxAliasCount: 100 }), []);
    }
  }
  const resources: LoadedResources = { devices, assets, warnings: sink.warnings };
  if (sink.problems.length === 0) checkReferences(resources, sink);
  if (sink.problems.length > 0) {
    const lines = sink.problems.map((p) => `${p.file}:${p.line}: ${p.message}`);
    const first = sink.problems[0] as ResourceProblem;
    throw new ConfigError(
      lines.length === 1
        ? (lines[0] as string)
        : `${lines.length} problems in the Device and Asset definitions:\n${lines.join('\n')}`,
      { source: first.file, details: { problems: sink.problems } },
    );
  }
  return resources;
}
