/**
 * Writes a real Akri mount folder — the files and environment variables the Akri operator gives
 * a connector pod — so a connector runs the same code path on a laptop as in a cluster.
 *
 * @module
 */
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';

/** The broker the connector connects to. */
export interface AkriMountBroker {
  readonly host: string;
  readonly port: number;
  /** PEM CA certificates for a TLS broker; TLS is enabled when given. */
  readonly caCertificates?: readonly string[];
  /** Contents of a K8S-SAT token file; `BROKER_SAT_MOUNT_PATH` is set when given. */
  readonly satToken?: string;
  readonly keepAliveSeconds?: number;
  readonly sessionExpirySeconds?: number;
  readonly maxInflightMessages?: number;
}

/** One device inbound endpoint allocated to the connector, with its asset names. */
export interface AkriMountEndpoint {
  readonly deviceName: string;
  readonly endpointName: string;
  readonly assets: readonly string[];
}

/** What {@link writeAkriMount} writes. */
export interface AkriMountOptions {
  /** The folder to write into (created). */
  readonly dir: string;
  /** `CONNECTOR_ID` (the MQTT client id). */
  readonly connectorId: string;
  /** `CONNECTOR_NAMESPACE`. Default: `azure-iot-operations`. */
  readonly namespace?: string;
  readonly broker: AkriMountBroker;
  /** The allocated device endpoints and their assets. */
  readonly endpoints?: readonly AkriMountEndpoint[];
  /**
   * Device endpoint secrets: relative secret name (as in the device's `usernameSecretName`,
   * e.g. `my-secret/username`) → file contents.
   */
  readonly secrets?: Readonly<Record<string, string | Uint8Array>>;
  /** Device endpoint trust lists: trust list name → PEM certificates. */
  readonly trustLists?: Readonly<Record<string, readonly string[]>>;
  /** `ADDITIONAL_CONNECTOR_CONFIGURATION` contents. */
  readonly additionalConfiguration?: string;
  /** `DIAGNOSTICS` log level. */
  readonly logLevel?: string;
}

/** A written mount: its environment variables and a way to update the ADR resource names. */
export interface AkriMount {
  readonly dir: string;
  /** The environment variables of the pod contract. */
  readonly env: Readonly<Record<string, string>>;
  /** Rewrites the ADR resource names (one file per device endpoint), atomically per file. */
  setEndpoints(endpoints: readonly AkriMountEndpoint[]): Promise<void>;
  /** Replaces the SAT token file contents (token rotation). */
  rotateSatToken(token: string): Promise<void>;
  /** Writes or replaces one device endpoint secret. */
  writeSecret(name: string, contents: string | Uint8Array): Promise<void>;
  /** Writes or replaces one device endpoint trust list (PEM certificates). */
  writeTrustList(name: string, pems: readonly string[]): Promise<void>;
  /** Removes the folder. */
  remove(): Promise<void>;
}

async function atomicWrite(path: string, contents: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(temp, contents);
  await rename(temp, path);
}

function insideFolder(folder: string, name: string): string {
  const path = join(folder, name);
  const rel = relative(folder, path);
  if (rel === '' || rel.startsWith('..') || rel.split(sep).includes('..'))
    throw new RangeError(`secret or trust list name ${JSON.stringify(name)} leaves its folder`);
  return path;
}

/**
 * Writes an Akri mount folder and returns the environment variables that point at it.
 *
 * @example
 * ```ts
 * import { writeAkriMount } from '@aio-connector/devkit';
 * const mount = await writeAkriMount({
 *   dir: '/tmp/akri',
 *   connectorId: 'rest-connector-0',
 *   broker: { host: '127.0.0.1', port: 1883 },
 *   endpoints: [{ deviceName: 'my-thermostat', endpointName: 'rest', assets: ['thermostat'] }],
 * });
 * // spawn the connector with { ...process.env, ...mount.env }
 * ```
 */
export async function writeAkriMount(options: AkriMountOptions): Promise<AkriMount> {
  const { dir, broker } = options;
  const configDir = join(dir, 'connector_configuration');
  const namesDir = join(dir, 'adr_resources_names');
  const secretsDir = join(dir, 'device_endpoint_auth');
  const trustDir = join(dir, 'device_endpoint_tls_trust_bundle');
  const brokerTrustDir = join(dir, 'broker_tls_trust_bundle');
  const satFile = join(dir, 'broker-sat', 'token');
  await mkdir(configDir, { recursive: true });
  await mkdir(namesDir, { recursive: true });
  await mkdir(secretsDir, { recursive: true });
  await mkdir(trustDir, { recursive: true });

  const tls = broker.caCertificates !== undefined && broker.caCertificates.length > 0;
  const configuration = {
    host: `${broker.host.includes(':') ? `[${broker.host}]` : broker.host}:${broker.port}`,
    keepAliveSeconds: broker.keepAliveSeconds ?? 10,
    maxInflightMessages: broker.maxInflightMessages ?? 100,
    protocol: 'mqtt',
    sessionExpirySeconds: broker.sessionExpirySeconds ?? 600,
    ...(broker.satToken === undefined
      ? {}
      : {
          authentication: {
            method: 'sat',
            serviceAccountTokenSettings: { audience: 'aio-internal' },
          },
        }),
    tls: { mode: tls ? 'Enabled' : 'Disabled' },
  };
  await atomicWrite(
    join(configDir, 'MQTT_CONNECTION_CONFIGURATION'),
    JSON.stringify(configuration, null, 2),
  );
  if (options.additionalConfiguration !== undefined)
    await atomicWrite(
      join(configDir, 'ADDITIONAL_CONNECTOR_CONFIGURATION'),
      options.additionalConfiguration,
    );
  if (options.logLevel !== undefined)
    await atomicWrite(
      join(configDir, 'DIAGNOSTICS'),
      JSON.stringify({ logs: { level: options.logLevel } }),
    );
  if (tls) {
    await mkdir(brokerTrustDir, { recursive: true });
    await atomicWrite(join(brokerTrustDir, 'ca.crt'), (broker.caCertificates ?? []).join('\n'));
  }
  if (broker.satToken !== undefined) await atomicWrite(satFile, broker.satToken);
  for (const [name, contents] of Object.entries(options.secrets ?? {}))
    await atomicWrite(insideFolder(secretsDir, name), contents);
  for (const [name, pems] of Object.entries(options.trustLists ?? {}))
    await atomicWrite(join(insideFolder(trustDir, name), 'ca.crt'), pems.join('\n'));

  let current = new Set<string>();
  const setEndpoints = async (endpoints: readonly AkriMountEndpoint[]): Promise<void> => {
    const next = new Set<string>();
    for (const { deviceName, endpointName, assets } of endpoints) {
      const file = `${deviceName}_${endpointName}`;
      next.add(file);
      await atomicWrite(join(namesDir, file), assets.join('\n'));
    }
    for (const file of current)
      if (!next.has(file)) await rm(join(namesDir, file), { force: true });
    // files written by an earlier run of the same folder
    for (const file of await readdir(namesDir))
      if (!next.has(file) && !file.startsWith('..'))
        await rm(join(namesDir, file), { force: true });
    current = next;
  };
  await setEndpoints(options.endpoints ?? []);

  const env: Record<string, string> = {
    CONNECTOR_ID: options.connectorId,
    CONNECTOR_NAMESPACE: options.namespace ?? 'azure-iot-operations',
    CONNECTOR_CONFIGURATION_MOUNT_PATH: configDir,
    ADR_RESOURCES_NAME_MOUNT_PATH: namesDir,
    DEVICE_ENDPOINT_CREDENTIALS_MOUNT_PATH: secretsDir,
    DEVICE_ENDPOINT_TLS_TRUST_BUNDLE_CA_CERT_MOUNT_PATH: trustDir,
    ...(tls ? { BROKER_TLS_TRUST_BUNDLE_CACERT_MOUNT_PATH: brokerTrustDir } : {}),
    ...(broker.satToken === undefined ? {} : { BROKER_SAT_MOUNT_PATH: satFile }),
  };
  return {
    dir,
    env: Object.freeze(env),
    setEndpoints,
    rotateSatToken: (token) => atomicWrite(satFile, token),
    writeSecret: (name, contents) => atomicWrite(insideFolder(secretsDir, name), contents),
    writeTrustList: (name, pems) =>
      atomicWrite(join(insideFolder(trustDir, name), 'ca.crt'), pems.join('\n')),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
