/**
 * The Akri pod contract (CONTRACT §2.1–2.6): the environment variables the operator sets and the
 * files of `CONNECTOR_CONFIGURATION_MOUNT_PATH`, read and validated once at startup into
 * {@link ConnectorSettings}, including the {@link MqttConnectionSettings} of the broker session.
 *
 * @module
 */
import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../errors.ts';
import { parseLenientJson } from '../lenient-json.ts';
import { redactUrl, type LogLevel } from '../logger.ts';
import type { MqttConnectionSettings } from '../mqtt/mqtt-connection-settings.ts';
import {
  EndpointCredentialsReader,
  type EndpointCredentials,
  type EndpointCredentialsRequest,
} from './endpoint-credentials.ts';
import {
  joinInsideMount,
  pathKind,
  readMountText,
  readOptionalMountText,
  readPemBundle,
  resolveMountReadOptions,
  transientConfigError,
  withMountRetry,
  type MountReadOptions,
  type ResolvedMountReadOptions,
} from './mount-files.ts';
import {
  additionalConnectorConfigurationFile,
  aioMetadataFile,
  diagnosticsFile,
  mqttConnectionConfigurationFile,
  parseAioMetadata,
  parseDiagnostics,
  parseMqttConnectionConfiguration,
  parsePersistentVolumes,
  persistentVolumeMountPathFile,
  unknownMqttConfigurationFields,
  type AioMetadata,
  type ConnectorDiagnostics,
  type MqttConnectionConfiguration,
} from './mqtt-configuration.ts';

/**
 * The environment variables of the Akri pod contract, by role.
 *
 * @example
 * ```ts
 * import { connectorEnvironmentVariables } from '@aio-connector/core';
 * process.env[connectorEnvironmentVariables.connectorId]; // the pod name
 * ```
 */
export const connectorEnvironmentVariables = Object.freeze({
  connectorId: 'CONNECTOR_ID',
  connectorNamespace: 'CONNECTOR_NAMESPACE',
  azureExtensionResourceId: 'AZURE_EXTENSION_RESOURCEID',
  configurationMountPath: 'CONNECTOR_CONFIGURATION_MOUNT_PATH',
  secretsMetadataMountPath: 'CONNECTOR_SECRETS_METADATA_MOUNT_PATH',
  secretsMountPath: 'CONNECTOR_SECRETS_MOUNT_PATH',
  trustSettingsMountPath: 'CONNECTOR_TRUST_SETTINGS_MOUNT_PATH',
  brokerTrustBundleMountPath: 'BROKER_TLS_TRUST_BUNDLE_CACERT_MOUNT_PATH',
  brokerSatMountPath: 'BROKER_SAT_MOUNT_PATH',
  adrResourcesNameMountPath: 'ADR_RESOURCES_NAME_MOUNT_PATH',
  deviceEndpointTrustBundleMountPath: 'DEVICE_ENDPOINT_TLS_TRUST_BUNDLE_CA_CERT_MOUNT_PATH',
  deviceEndpointCredentialsMountPath: 'DEVICE_ENDPOINT_CREDENTIALS_MOUNT_PATH',
  otlpGrpcMetricEndpoint: 'OTLP_GRPC_METRIC_ENDPOINT',
  otlpGrpcLogEndpoint: 'OTLP_GRPC_LOG_ENDPOINT',
  otlpGrpcTraceEndpoint: 'OTLP_GRPC_TRACE_ENDPOINT',
  otlpHttpMetricEndpoint: 'OTLP_HTTP_METRIC_ENDPOINT',
  otlpHttpLogEndpoint: 'OTLP_HTTP_LOG_ENDPOINT',
  otlpHttpTraceEndpoint: 'OTLP_HTTP_TRACE_ENDPOINT',
  firstPartyOtlpGrpcMetricsCollectorCaPath: 'FIRST_PARTY_OTLP_GRPC_METRICS_COLLECTOR_CA_PATH',
  firstPartyOtlpGrpcLogCollectorCaPath: 'FIRST_PARTY_OTLP_GRPC_LOG_COLLECTOR_CA_PATH',
} as const);

const v = connectorEnvironmentVariables;

/** The variables without which a connector cannot start, in the order they are checked. */
const requiredVariables = [
  v.connectorId,
  v.connectorNamespace,
  v.configurationMountPath,
  v.adrResourcesNameMountPath,
] as const;

/** Optional variables that hold a path: set but missing is a `ConfigError`. */
const optionalPathVariables = [
  v.secretsMetadataMountPath,
  v.secretsMountPath,
  v.trustSettingsMountPath,
  v.brokerTrustBundleMountPath,
  v.brokerSatMountPath,
  v.deviceEndpointTrustBundleMountPath,
  v.deviceEndpointCredentialsMountPath,
  v.firstPartyOtlpGrpcMetricsCollectorCaPath,
  v.firstPartyOtlpGrpcLogCollectorCaPath,
] as const;

/** The environment as {@link ConnectorSettings.fromEnvironment} reads it. */
export type ConnectorEnvironment = Readonly<Record<string, string | undefined>>;

/**
 * Options of {@link ConnectorSettings.fromEnvironment}: the mount read policy (`attempts`,
 * default 10; `intervalInMs`, default 100), `signal` and `logger` (debug: retries and ignored
 * unknown fields). Every field is optional.
 */
export type ConnectorSettingsOptions = MountReadOptions;

interface SettingsData {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly mqttConnectionConfiguration: MqttConnectionConfiguration;
  readonly mqtt: MqttConnectionSettings;
  readonly diagnostics: ConnectorDiagnostics | undefined;
  readonly additionalConfigurationText: string | undefined;
  readonly additionalConfiguration: unknown;
  readonly aioMetadata: AioMetadata | undefined;
  readonly persistentVolumes: readonly string[];
  readonly readOptions: ResolvedMountReadOptions;
}

function valueOf(env: ConnectorEnvironment, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}

/**
 * Everything a connector learns from its pod: identity, mount paths, the MQTT connection, the
 * diagnostics level, the connector-defined configuration, and access to endpoint credentials and
 * connector secrets. Build it with {@link ConnectorSettings.fromEnvironment}.
 *
 * @example
 * ```ts
 * import { ConnectorSettings } from '@aio-connector/core';
 * const settings = await ConnectorSettings.fromEnvironment(process.env, {
 *   signal: AbortSignal.timeout(30_000),
 * });
 * settings.mqtt.clientId; // = CONNECTOR_ID
 * settings.logLevel; // from DIAGNOSTICS, if set
 * ```
 */
export class ConnectorSettings {
  readonly #data: SettingsData;
  #endpointCredentials: EndpointCredentialsReader | undefined;

  private constructor(data: SettingsData) {
    this.#data = data;
  }

  /**
   * Reads the environment variables and the mounted configuration files of the Akri contract and
   * validates them. Mount reads are retried (10 attempts, 100 ms apart by default) because the
   * pod can start before its mounts are ready; a missing variable or an invalid file fails at
   * once. Every problem is a `ConfigError` whose `source` is the variable or file and whose
   * `field` is the offending field. Aborting `signal` rejects with an `ERR_AIO_ABORTED` error.
   *
   * @param env The environment. Default: `process.env`.
   */
  static async fromEnvironment(
    env: ConnectorEnvironment = process.env,
    options: ConnectorSettingsOptions = {},
  ): Promise<ConnectorSettings> {
    if (typeof env !== 'object' || env === null)
      throw new TypeError(`env must be an object, received ${typeof env}`);
    const readOptions = resolveMountReadOptions(options);
    for (const name of requiredVariables) {
      const value = env[name];
      if (value === undefined)
        throw new ConfigError(`Environment variable ${name} is not set`, { source: name });
      if (value.trim() === '')
        throw new ConfigError(`Environment variable ${name} is empty`, { source: name });
    }
    // a snapshot, so later changes to process.env do not change the settings
    const snapshot: Record<string, string | undefined> = {};
    for (const name of Object.values(connectorEnvironmentVariables))
      snapshot[name] = valueOf(env, name);
    const frozenEnv = Object.freeze(snapshot);
    const data = await withMountRetry(
      'read the connector configuration mounts',
      () => loadOnce(frozenEnv, readOptions),
      readOptions,
    );
    return new ConnectorSettings(data);
  }

  // identity

  /** `CONNECTOR_ID`: the pod name, used verbatim as the MQTT client id. */
  get connectorId(): string {
    return this.#data.env[v.connectorId] as string;
  }

  /** `CONNECTOR_NAMESPACE`: the Kubernetes namespace of the pod. */
  get connectorNamespace(): string {
    return this.#data.env[v.connectorNamespace] as string;
  }

  /**
   * `AZURE_EXTENSION_RESOURCEID`: the Arc extension resource id. Optional here (the Rust SDK
   * requires it; the operator contract does not list it).
   */
  get azureExtensionResourceId(): string | undefined {
    return this.#data.env[v.azureExtensionResourceId];
  }

  // mounts

  /** `CONNECTOR_CONFIGURATION_MOUNT_PATH`: the folder of the configuration files. */
  get configurationMountPath(): string {
    return this.#data.env[v.configurationMountPath] as string;
  }

  /** `ADR_RESOURCES_NAME_MOUNT_PATH`: the folder listing the device endpoints and asset names. */
  get adrResourcesNameMountPath(): string {
    return this.#data.env[v.adrResourcesNameMountPath] as string;
  }

  /** `CONNECTOR_SECRETS_METADATA_MOUNT_PATH`: a file per secret alias, holding a relative path. */
  get secretsMetadataMountPath(): string | undefined {
    return this.#data.env[v.secretsMetadataMountPath];
  }

  /** `CONNECTOR_SECRETS_MOUNT_PATH`: the folder the secret alias paths are relative to. */
  get secretsMountPath(): string | undefined {
    return this.#data.env[v.secretsMountPath];
  }

  /** `CONNECTOR_TRUST_SETTINGS_MOUNT_PATH`: certificates every connector instance should trust. */
  get trustSettingsMountPath(): string | undefined {
    return this.#data.env[v.trustSettingsMountPath];
  }

  /** `BROKER_TLS_TRUST_BUNDLE_CACERT_MOUNT_PATH`: the folder of the broker's CA certificates. */
  get brokerTrustBundleMountPath(): string | undefined {
    return this.#data.env[v.brokerTrustBundleMountPath];
  }

  /** `BROKER_SAT_MOUNT_PATH`: the service account token file for K8S-SAT authentication. */
  get brokerSatMountPath(): string | undefined {
    return this.#data.env[v.brokerSatMountPath];
  }

  /** `DEVICE_ENDPOINT_TLS_TRUST_BUNDLE_CA_CERT_MOUNT_PATH`: the device endpoint trust lists. */
  get deviceEndpointTrustBundleMountPath(): string | undefined {
    return this.#data.env[v.deviceEndpointTrustBundleMountPath];
  }

  /** `DEVICE_ENDPOINT_CREDENTIALS_MOUNT_PATH`: the device endpoint secrets. */
  get deviceEndpointCredentialsMountPath(): string | undefined {
    return this.#data.env[v.deviceEndpointCredentialsMountPath];
  }

  // observability (the operator's "stopgap" variables)

  /** `OTLP_GRPC_METRIC_ENDPOINT`. */
  get otlpGrpcMetricEndpoint(): string | undefined {
    return this.#data.env[v.otlpGrpcMetricEndpoint];
  }

  /** `OTLP_GRPC_LOG_ENDPOINT`. */
  get otlpGrpcLogEndpoint(): string | undefined {
    return this.#data.env[v.otlpGrpcLogEndpoint];
  }

  /** `OTLP_GRPC_TRACE_ENDPOINT`. */
  get otlpGrpcTraceEndpoint(): string | undefined {
    return this.#data.env[v.otlpGrpcTraceEndpoint];
  }

  /** `OTLP_HTTP_METRIC_ENDPOINT`. */
  get otlpHttpMetricEndpoint(): string | undefined {
    return this.#data.env[v.otlpHttpMetricEndpoint];
  }

  /** `OTLP_HTTP_LOG_ENDPOINT`. */
  get otlpHttpLogEndpoint(): string | undefined {
    return this.#data.env[v.otlpHttpLogEndpoint];
  }

  /** `OTLP_HTTP_TRACE_ENDPOINT`. */
  get otlpHttpTraceEndpoint(): string | undefined {
    return this.#data.env[v.otlpHttpTraceEndpoint];
  }

  /** `FIRST_PARTY_OTLP_GRPC_METRICS_COLLECTOR_CA_PATH`. */
  get firstPartyOtlpGrpcMetricsCollectorCaPath(): string | undefined {
    return this.#data.env[v.firstPartyOtlpGrpcMetricsCollectorCaPath];
  }

  /** `FIRST_PARTY_OTLP_GRPC_LOG_COLLECTOR_CA_PATH`. */
  get firstPartyOtlpGrpcLogCollectorCaPath(): string | undefined {
    return this.#data.env[v.firstPartyOtlpGrpcLogCollectorCaPath];
  }

  // configuration files

  /** The MQTT session settings: `MQTT_CONNECTION_CONFIGURATION`, trust bundle, SAT, client id. */
  get mqtt(): MqttConnectionSettings {
    return this.#data.mqtt;
  }

  /** `MQTT_CONNECTION_CONFIGURATION`, validated. */
  get mqttConnectionConfiguration(): MqttConnectionConfiguration {
    return this.#data.mqttConnectionConfiguration;
  }

  /** `DIAGNOSTICS`, when the file is present. */
  get diagnostics(): ConnectorDiagnostics | undefined {
    return this.#data.diagnostics;
  }

  /** `DIAGNOSTICS` `logs.level` as a log level; `undefined` when not set. */
  get logLevel(): LogLevel | undefined {
    return this.#data.diagnostics?.logLevel;
  }

  /**
   * `ADDITIONAL_CONNECTOR_CONFIGURATION`, parsed as lenient JSON (trailing commas and comments
   * allowed), deeply frozen; `undefined` when the file is absent or blank. Its schema is the
   * connector author's.
   */
  get additionalConfiguration(): unknown {
    return this.#data.additionalConfiguration;
  }

  /** The raw text of `ADDITIONAL_CONNECTOR_CONFIGURATION`, when the file is present. */
  get additionalConfigurationText(): string | undefined {
    return this.#data.additionalConfigurationText;
  }

  /** `AIO_METADATA`, when the file is present. */
  get aioMetadata(): AioMetadata | undefined {
    return this.#data.aioMetadata;
  }

  /** `PERSISTENT_VOLUME_MOUNT_PATH`: the persistent volume mount paths (each checked to exist). */
  get persistentVolumes(): readonly string[] {
    return this.#data.persistentVolumes;
  }

  // credentials and secrets

  /**
   * The reader of device endpoint credentials and trust lists over this pod's
   * `DEVICE_ENDPOINT_CREDENTIALS_MOUNT_PATH` and `DEVICE_ENDPOINT_TLS_TRUST_BUNDLE_CA_CERT_MOUNT_PATH`.
   */
  get endpointCredentials(): EndpointCredentialsReader {
    this.#endpointCredentials ??= new EndpointCredentialsReader({
      credentialsMountPath: this.deviceEndpointCredentialsMountPath,
      trustBundleMountPath: this.deviceEndpointTrustBundleMountPath,
      attempts: this.#data.readOptions.attempts,
      intervalInMs: this.#data.readOptions.intervalInMs,
      logger: this.#data.readOptions.logger,
    });
    return this.#endpointCredentials;
  }

  /**
   * Reads the credentials and trust list of a device inbound endpoint; see
   * {@link EndpointCredentialsReader.read}. Files are read again on every call.
   */
  readEndpointCredentials(
    request: EndpointCredentialsRequest,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<EndpointCredentials> {
    return this.endpointCredentials.read(request, options);
  }

  /**
   * The path of the connector secret with the given alias: the file
   * `{CONNECTOR_SECRETS_METADATA_MOUNT_PATH}/{alias}` holds a path relative to
   * `CONNECTOR_SECRETS_MOUNT_PATH`. The alias and the relative path are validated (no absolute
   * path, no `..`). Read under the mount read retry policy.
   */
  async resolveSecretPath(
    alias: string,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<string> {
    if (typeof alias !== 'string') throw new TypeError('alias must be a string');
    const readOptions = this.#withSignal(options.signal);
    return withMountRetry(
      `resolve the connector secret ${alias}`,
      () => this.#resolveSecretPathOnce(alias, readOptions.signal),
      readOptions,
    );
  }

  /**
   * Reads the connector secret with the given alias (UTF-8, as is; see
   * {@link ConnectorSettings.resolveSecretPath}). The file is read again on every call. Errors name
   * the alias and the paths, never the content.
   *
   * @example
   * ```ts
   * const apiKey = await settings.readSecret('cloud-api-key');
   * ```
   */
  async readSecret(
    alias: string,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<string> {
    if (typeof alias !== 'string') throw new TypeError('alias must be a string');
    const readOptions = this.#withSignal(options.signal);
    return withMountRetry(
      `read the connector secret ${alias}`,
      async () => {
        const path = await this.#resolveSecretPathOnce(alias, readOptions.signal);
        return readMountText(path, { source: `connector secret ${alias}` }, readOptions.signal);
      },
      readOptions,
    );
  }

  /** A summary for logs: identity, mount paths and the MQTT settings without certificate bodies. */
  toJSON(): Record<string, unknown> {
    const { caCertificates, clientKey: _key, password: _password, ...mqtt } = this.#data.mqtt;
    return {
      connectorId: this.connectorId,
      connectorNamespace: this.connectorNamespace,
      env: Object.fromEntries(
        Object.entries(this.#data.env).map(([name, value]) => [
          name,
          value === undefined ? undefined : redactUrl(value),
        ]),
      ),
      mqtt: {
        ...mqtt,
        ...(caCertificates === undefined ? {} : { caCertificates: caCertificates.length }),
      },
      logLevel: this.logLevel,
      persistentVolumes: this.persistentVolumes,
    };
  }

  #withSignal(signal: AbortSignal | undefined): ResolvedMountReadOptions {
    const { attempts, intervalInMs, logger } = this.#data.readOptions;
    return resolveMountReadOptions({
      attempts,
      intervalInMs,
      logger,
      ...(signal === undefined ? {} : { signal }),
    });
  }

  async #resolveSecretPathOnce(alias: string, signal: AbortSignal | undefined): Promise<string> {
    const metadataMount = this.secretsMetadataMountPath;
    const secretsMount = this.secretsMountPath;
    if (metadataMount === undefined)
      throw new ConfigError(
        `${v.secretsMetadataMountPath} is not set; the connector secret ${JSON.stringify(alias)} cannot be resolved`,
        { source: v.secretsMetadataMountPath },
      );
    if (secretsMount === undefined)
      throw new ConfigError(
        `${v.secretsMountPath} is not set; the connector secret ${JSON.stringify(alias)} cannot be resolved`,
        { source: v.secretsMountPath },
      );
    const where = { source: `connector secret ${alias}`, field: 'alias' };
    if (alias.startsWith('..') || alias.includes('/'))
      throw new ConfigError(
        `connector secret alias must be a single file name, found ${JSON.stringify(alias)}`,
        { source: where.source, field: 'alias' },
      );
    const metadataFile = joinInsideMount(metadataMount, alias, where);
    const relative = (
      await readMountText(
        metadataFile,
        { source: v.secretsMetadataMountPath, field: alias },
        signal,
      )
    ).trim();
    if (relative === '')
      throw transientConfigError(
        `${v.secretsMetadataMountPath}: the alias file "${metadataFile}" is empty`,
        { source: v.secretsMetadataMountPath, field: alias, details: { path: metadataFile } },
      );
    return joinInsideMount(secretsMount, relative, {
      source: v.secretsMetadataMountPath,
      field: alias,
    });
  }
}

async function checkPath(
  name: string,
  path: string,
  expected: 'folder' | 'file' | 'any',
): Promise<void> {
  const kind = await pathKind(path);
  if (kind === undefined)
    throw transientConfigError(`${name} is set to "${path}", which does not exist`, {
      source: name,
      details: { path },
    });
  if (expected !== 'any' && kind !== expected)
    throw new ConfigError(`${name} is set to "${path}", which is not a ${expected}`, {
      source: name,
      details: { path },
    });
}

async function loadOnce(
  env: Readonly<Record<string, string | undefined>>,
  options: ResolvedMountReadOptions,
): Promise<SettingsData> {
  const { signal, logger } = options;
  const configurationMount = env[v.configurationMountPath] as string;
  await checkPath(v.configurationMountPath, configurationMount, 'folder');
  await checkPath(
    v.adrResourcesNameMountPath,
    env[v.adrResourcesNameMountPath] as string,
    'folder',
  );
  for (const name of optionalPathVariables) {
    const path = env[name];
    if (path !== undefined)
      await checkPath(name, path, name === v.brokerSatMountPath ? 'file' : 'any');
  }
  const satFile = env[v.brokerSatMountPath];
  if (satFile !== undefined) {
    try {
      await access(satFile, constants.R_OK);
    } catch (error) {
      throw new ConfigError(
        `${v.brokerSatMountPath} is set to "${satFile}", which is not readable`,
        {
          source: v.brokerSatMountPath,
          cause: error,
          details: { path: satFile },
        },
      );
    }
  }

  // MQTT_CONNECTION_CONFIGURATION (required)
  const mqttFile = join(configurationMount, mqttConnectionConfigurationFile);
  const mqttText = await readMountText(
    mqttFile,
    { source: mqttConnectionConfigurationFile },
    signal,
  );
  if (mqttText.trim() === '')
    throw transientConfigError(`${mqttConnectionConfigurationFile} is empty`, {
      source: mqttConnectionConfigurationFile,
      details: { path: mqttFile },
    });
  const mqttConnectionConfiguration = parseMqttConnectionConfiguration(mqttText);
  const unknown = unknownMqttConfigurationFields(mqttText);
  if (unknown.length > 0)
    logger.debug({ file: mqttFile, fields: unknown }, 'ignoring unknown fields');

  // optional files
  const optional = (file: string): Promise<string | undefined> =>
    readOptionalMountText(join(configurationMount, file), { source: file }, signal);
  const diagnosticsText = await optional(diagnosticsFile);
  const diagnostics = diagnosticsText === undefined ? undefined : parseDiagnostics(diagnosticsText);
  const additionalConfigurationText = await optional(additionalConnectorConfigurationFile);
  const additionalConfiguration =
    additionalConfigurationText === undefined || additionalConfigurationText.trim() === ''
      ? undefined
      : deepFreeze(
          parseLenientJson(additionalConfigurationText, {
            source: additionalConnectorConfigurationFile,
          }),
        );
  const aioMetadataText = await optional(aioMetadataFile);
  const aioMetadata = aioMetadataText === undefined ? undefined : parseAioMetadata(aioMetadataText);
  const volumesText = await optional(persistentVolumeMountPathFile);
  const persistentVolumes = volumesText === undefined ? [] : parsePersistentVolumes(volumesText);
  for (const volume of persistentVolumes) {
    if ((await pathKind(volume)) === undefined)
      throw transientConfigError(
        `${persistentVolumeMountPathFile} lists "${volume}", which does not exist`,
        { source: persistentVolumeMountPathFile, details: { path: volume } },
      );
  }

  // broker trust bundle, read only when TLS is on
  const useTls = mqttConnectionConfiguration.tlsMode === 'Enabled';
  const bundlePath = env[v.brokerTrustBundleMountPath];
  const caCertificates =
    useTls && bundlePath !== undefined
      ? Object.freeze(
          await readPemBundle(bundlePath, { source: v.brokerTrustBundleMountPath }, signal),
        )
      : undefined;

  const c = mqttConnectionConfiguration;
  const mqtt: MqttConnectionSettings = Object.freeze({
    hostname: c.hostname,
    port: c.port,
    clientId: env[v.connectorId] as string,
    useTls,
    ...(c.keepAliveSeconds === undefined ? {} : { keepAliveInSeconds: c.keepAliveSeconds }),
    ...(c.sessionExpirySeconds === undefined
      ? {}
      : { sessionExpiryInSeconds: c.sessionExpirySeconds }),
    ...(c.maxInflightMessages === undefined ? {} : { receiveMaximum: c.maxInflightMessages }),
    ...(caCertificates === undefined ? {} : { caCertificates }),
    ...(satFile === undefined ? {} : { satFile }),
  });

  return Object.freeze({
    env,
    mqttConnectionConfiguration,
    mqtt,
    diagnostics,
    additionalConfigurationText,
    additionalConfiguration,
    aioMetadata,
    persistentVolumes: Object.freeze(persistentVolumes),
    readOptions: options,
  });
}
