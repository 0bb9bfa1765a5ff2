/**
 * What the sandbox does with loaded Device and Asset definitions: points the device endpoints of
 * sample servers at the local servers, assigns device endpoints to connectors by endpoint type,
 * reads the secrets and trust lists the endpoints reference from a local folder, and compares two
 * sets of definitions.
 *
 * @module
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { ConfigError, type Asset, type Device, type InboundEndpoint } from '@aio-connector/core';
import type { AkriMountEndpoint } from './akri-mount.ts';

/** The definitions the sandbox serves, by name. */
export interface SandboxDefinitions {
  readonly devices: ReadonlyMap<string, Device>;
  readonly assets: ReadonlyMap<string, Asset>;
}

/** Which connector serves which device endpoints. */
export interface EndpointAssignment {
  /** Connector name → its device endpoints with their assets (the ADR resources mount). */
  readonly byConnector: ReadonlyMap<string, readonly AkriMountEndpoint[]>;
  /** Sentences about endpoints served by no connector and assets without their endpoint. */
  readonly warnings: readonly string[];
}

/** A connector as the assignment sees it. */
export interface AssignableConnector {
  readonly name: string;
  /** The endpoint types it serves; empty or absent: every endpoint no other connector claims. */
  readonly endpointTypes?: readonly string[] | undefined;
}

/**
 * Assigns device inbound endpoints to connectors. An endpoint goes to every connector that lists
 * its `endpointType`; an endpoint whose type no connector lists goes to the connectors that list
 * no type at all. Each asset goes with its `deviceRef` endpoint.
 */
export function assignEndpoints(
  definitions: SandboxDefinitions,
  connectors: readonly AssignableConnector[],
): EndpointAssignment {
  const byConnector = new Map<string, AkriMountEndpoint[]>();
  for (const connector of connectors) byConnector.set(connector.name, []);
  const catchAll = connectors.filter((c) => (c.endpointTypes ?? []).length === 0);
  const warnings: string[] = [];
  const assetsOf = new Map<string, string[]>();
  for (const [assetName, asset] of definitions.assets) {
    const { deviceName, endpointName } = asset.deviceRef;
    const key = `${deviceName}\u0000${endpointName}`;
    const endpoint = definitions.devices.get(deviceName)?.endpoints?.inbound?.[endpointName];
    if (endpoint === undefined) {
      warnings.push(
        `asset "${assetName}" is served by no connector: device "${deviceName}" has no inbound endpoint "${endpointName}"`,
      );
      continue;
    }
    const list = assetsOf.get(key) ?? [];
    list.push(assetName);
    assetsOf.set(key, list);
  }
  for (const [deviceName, device] of definitions.devices)
    for (const [endpointName, endpoint] of Object.entries(device.endpoints?.inbound ?? {})) {
      const typed = connectors.filter((c) =>
        (c.endpointTypes ?? []).includes(endpoint.endpointType),
      );
      const serving = typed.length > 0 ? typed : catchAll;
      if (serving.length === 0) {
        warnings.push(
          `device "${deviceName}" endpoint "${endpointName}" (type ${endpoint.endpointType}) is served by no connector`,
        );
        continue;
      }
      const assets = assetsOf.get(`${deviceName}\u0000${endpointName}`) ?? [];
      for (const connector of serving)
        byConnector.get(connector.name)?.push({ deviceName, endpointName, assets: [...assets] });
    }
  return { byConnector, warnings };
}

/** A sample server standing in for the service that device definitions address. */
export interface AddressMapping {
  /** The origin the definitions use, e.g. `http://thermostat.demo.svc.cluster.local:8080`. */
  readonly from: string;
  /** The origin of the local server, e.g. `http://127.0.0.1:41234`. */
  readonly to: string;
}

function originOf(address: string): { origin: string; rest: string } | undefined {
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    return undefined;
  }
  if (url.origin === 'null') return undefined;
  const authority = address.indexOf('//') + 2;
  const end = address.slice(authority).search(/[/?#]/);
  return { origin: url.origin, rest: end === -1 ? '' : address.slice(authority + end) };
}

/**
 * Returns the devices with every inbound endpoint whose address has the origin of a mapping
 * pointed at the mapping's local origin (path and query kept).
 */
export function mapAddresses(
  devices: ReadonlyMap<string, Device>,
  mappings: readonly AddressMapping[],
): Map<string, Device> {
  const origins = new Map<string, string>();
  for (const mapping of mappings) {
    const from = originOf(mapping.from);
    const to = originOf(mapping.to);
    if (from !== undefined && to !== undefined) origins.set(from.origin, to.origin);
  }
  const out = new Map<string, Device>();
  for (const [name, device] of devices) {
    const inbound = device.endpoints?.inbound;
    if (inbound === undefined || origins.size === 0) {
      out.set(name, device);
      continue;
    }
    const mapped: Record<string, InboundEndpoint> = {};
    for (const [endpointName, endpoint] of Object.entries(inbound)) {
      const parts = originOf(endpoint.address);
      const target = parts === undefined ? undefined : origins.get(parts.origin);
      mapped[endpointName] =
        parts === undefined || target === undefined
          ? endpoint
          : { ...endpoint, address: `${target}${parts.rest}` };
    }
    out.set(name, { ...device, endpoints: { ...device.endpoints, inbound: mapped } });
  }
  return out;
}

/** The secrets and trust lists of the device endpoints a connector serves. */
export interface EndpointSecrets {
  /** Secret name (`secret/key`) → contents. */
  readonly secrets: Record<string, Buffer>;
  /** Trust list name → PEM certificates. */
  readonly trustLists: Record<string, string[]>;
}

function insideFolder(folder: string, name: string): string | undefined {
  const path = join(folder, name);
  const rel = relative(folder, path);
  if (rel === '' || rel.startsWith('..') || rel.split(sep).includes('..')) return undefined;
  return path;
}

function secretNamesOf(endpoint: InboundEndpoint): string[] {
  const auth = endpoint.authentication;
  if (auth === undefined) return [];
  const names: string[] = [];
  if (auth.method === 'UsernamePassword' && auth.usernamePasswordCredentials !== undefined)
    names.push(
      auth.usernamePasswordCredentials.usernameSecretName,
      auth.usernamePasswordCredentials.passwordSecretName,
    );
  if (auth.method === 'Certificate' && auth.x509Credentials !== undefined) {
    const x509 = auth.x509Credentials;
    names.push(x509.certificateSecretName);
    if (x509.intermediateCertificatesSecretName !== undefined)
      names.push(x509.intermediateCertificatesSecretName);
    if (x509.keySecretName !== undefined) names.push(x509.keySecretName);
  }
  return names;
}

async function readPems(path: string): Promise<string[]> {
  const info = await stat(path);
  if (!info.isDirectory()) return [await readFile(path, 'utf8')];
  const pems: string[] = [];
  for (const name of (await readdir(path)).sort()) {
    if (name.startsWith('.')) continue;
    const file = join(path, name);
    if ((await stat(file)).isFile()) pems.push(await readFile(file, 'utf8'));
  }
  return pems;
}

/**
 * Reads, from the secrets folder, every secret and trust list that the given device endpoints
 * reference: secret `name/key` is the file `<folder>/name/key`, trust list `name` the file (or
 * folder of PEM files) `<folder>/name`. A missing one is a `ConfigError` naming the device, the
 * endpoint, the secret and the file expected.
 */
export async function readEndpointSecrets(
  folder: string | undefined,
  devices: ReadonlyMap<string, Device>,
  endpoints: readonly Pick<AkriMountEndpoint, 'deviceName' | 'endpointName'>[],
): Promise<EndpointSecrets> {
  const secrets: Record<string, Buffer> = {};
  const trustLists: Record<string, string[]> = {};
  const problems: string[] = [];
  for (const { deviceName, endpointName } of endpoints) {
    const endpoint = devices.get(deviceName)?.endpoints?.inbound?.[endpointName];
    if (endpoint === undefined) continue;
    const where = `device "${deviceName}" endpoint "${endpointName}"`;
    const wanted: [kind: 'secret' | 'trust list', name: string][] = [
      ...secretNamesOf(endpoint).map((name) => ['secret', name] as ['secret', string]),
      ...(endpoint.trustSettings?.trustList === undefined
        ? []
        : [['trust list', endpoint.trustSettings.trustList] as ['trust list', string]]),
    ];
    for (const [kind, name] of wanted) {
      if (kind === 'secret' ? name in secrets : name in trustLists) continue;
      if (folder === undefined) {
        problems.push(`${where} needs the ${kind} "${name}", but no secrets folder is configured`);
        continue;
      }
      const path = insideFolder(folder, name);
      if (path === undefined) {
        problems.push(`${where}: the ${kind} name "${name}" leaves the secrets folder`);
        continue;
      }
      try {
        if (kind === 'secret') secrets[name] = await readFile(path);
        else trustLists[name] = await readPems(path);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        problems.push(
          code === 'ENOENT'
            ? `${where} needs the ${kind} "${name}": the file ${path} does not exist`
            : `${where} needs the ${kind} "${name}": ${path} cannot be read (${(error as Error).message})`,
        );
      }
    }
  }
  if (problems.length > 0)
    throw new ConfigError(
      problems.length === 1
        ? (problems[0] as string)
        : `${problems.length} secrets are missing:\n${problems.join('\n')}`,
      { source: folder ?? 'secrets', details: { problems } },
    );
  return { secrets, trustLists };
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort())
      out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}

/** What changed between two sets of definitions, by kind and name. */
export interface DefinitionChanges {
  readonly added: readonly { readonly kind: 'device' | 'asset'; readonly name: string }[];
  readonly changed: readonly { readonly kind: 'device' | 'asset'; readonly name: string }[];
  readonly removed: readonly { readonly kind: 'device' | 'asset'; readonly name: string }[];
}

/** Compares two sets of definitions. */
export function diffDefinitions(
  before: SandboxDefinitions,
  after: SandboxDefinitions,
): DefinitionChanges {
  const added: { kind: 'device' | 'asset'; name: string }[] = [];
  const changed: { kind: 'device' | 'asset'; name: string }[] = [];
  const removed: { kind: 'device' | 'asset'; name: string }[] = [];
  const compare = (
    kind: 'device' | 'asset',
    a: ReadonlyMap<string, unknown>,
    b: ReadonlyMap<string, unknown>,
  ): void => {
    for (const [name, value] of b) {
      const old = a.get(name);
      if (old === undefined) added.push({ kind, name });
      else if (JSON.stringify(sortKeys(old)) !== JSON.stringify(sortKeys(value)))
        changed.push({ kind, name });
    }
    for (const name of a.keys()) if (!b.has(name)) removed.push({ kind, name });
  };
  compare('device', before.devices, after.devices);
  compare('asset', before.assets, after.assets);
  return { added, changed, removed };
}
