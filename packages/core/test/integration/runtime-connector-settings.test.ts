import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConfigError,
  ConnectorSettings,
  createJsonLogger,
  isAioError,
  type ConnectorEnvironment,
  type Logger,
} from '@aio-connector/core';
import { listMountFiles } from '../../src/runtime/mount-files.ts';
import { certificateA, certificateB } from '../runtime-test-certificates.ts';

const mountFiles = fileURLToPath(
  new URL('../../../../../shared/aio/mount-files/', import.meta.url),
);
const haveFixtures = existsSync(mountFiles);
if (!haveFixtures)
  console.warn(`skipping the official mount fixture tests: ${mountFiles} is absent`);

const mqttConfig = {
  host: 'aio-broker:18883',
  keepAliveSeconds: 10,
  maxInflightMessages: 10,
  protocol: 'mqtt',
  sessionExpirySeconds: 20,
  tls: { mode: 'Disabled' },
};

let temp: string[] = [];
afterEach(async () => {
  for (const dir of temp) await rm(dir, { recursive: true, force: true });
  temp = [];
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'aio-runtime-'));
  temp.push(dir);
  return dir;
}

/** A pod: a config folder with the given files, an ADR names folder, and the env to match. */
async function makePod(
  files: Record<string, string | undefined> = {},
): Promise<{ root: string; config: string; env: Record<string, string | undefined> }> {
  const root = await tempDir();
  const config = join(root, 'connector_configuration');
  const names = join(root, 'adr_resources_names');
  await mkdir(config);
  await mkdir(names);
  const all: Record<string, string | undefined> = {
    MQTT_CONNECTION_CONFIGURATION: JSON.stringify(mqttConfig),
    ...files,
  };
  for (const [name, content] of Object.entries(all))
    if (content !== undefined) await writeFile(join(config, name), content);
  return {
    root,
    config,
    env: {
      CONNECTOR_ID: 'rest-connector-0',
      CONNECTOR_NAMESPACE: 'azure-iot-operations',
      CONNECTOR_CONFIGURATION_MOUNT_PATH: config,
      ADR_RESOURCES_NAME_MOUNT_PATH: names,
    },
  };
}

const once = { attempts: 1 } as const;

async function configError(
  env: ConnectorEnvironment,
  options: Parameters<typeof ConnectorSettings.fromEnvironment>[1] = once,
): Promise<ConfigError> {
  try {
    await ConnectorSettings.fromEnvironment(env, options);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error;
  }
  throw new Error('expected a ConfigError');
}

/** A logger that calls `onRetry` the first time the retry policy logs a failed attempt. */
function retryHook(onRetry: () => Promise<void> | void): { logger: Logger; retries: () => number } {
  let retries = 0;
  const logger = createJsonLogger({
    level: 'debug',
    write: (line) => {
      if (!line.includes('retrying after failure')) return;
      retries++;
      if (retries === 1) void onRetry();
    },
  });
  return { logger, retries: () => retries };
}

describe.skipIf(!haveFixtures)('official mount fixtures', () => {
  const base = {
    CONNECTOR_ID: 'my-connector-pod-0',
    CONNECTOR_NAMESPACE: 'azure-iot-operations',
    ADR_RESOURCES_NAME_MOUNT_PATH: join(mountFiles, 'adr-resources'),
    BROKER_TLS_TRUST_BUNDLE_CACERT_MOUNT_PATH: join(mountFiles, 'trust-bundle'),
  };

  it('connector-config: TLS with the trust bundle', async () => {
    const settings = await ConnectorSettings.fromEnvironment({
      ...base,
      CONNECTOR_CONFIGURATION_MOUNT_PATH: join(mountFiles, 'connector-config'),
    });
    const bundle = readFileSync(join(mountFiles, 'trust-bundle', 'ca.txt'), 'utf8');
    const body = /-----BEGIN CERTIFICATE-----([\s\S]+?)-----END/
      .exec(bundle)![1]!
      .replace(/\s/g, '');
    expect(settings.mqtt).toEqual({
      hostname: 'someHostName',
      port: 1234,
      clientId: 'my-connector-pod-0',
      useTls: true,
      keepAliveInSeconds: 10,
      sessionExpiryInSeconds: 20,
      receiveMaximum: 10,
      caCertificates: [expect.stringContaining(body.slice(0, 64))],
    });
    expect(settings.mqtt.caCertificates![0]!.replace(/\s|-----[A-Z ]+-----/g, '')).toBe(body);
    expect(settings.mqttConnectionConfiguration.authentication).toEqual({
      method: 'sat',
      serviceAccountTokenSettings: { audience: 'someAudience' },
    });
    expect(settings.logLevel).toBe('trace');
    expect(settings.aioMetadata).toEqual({ aioMinVersion: '1.0', aioMaxVersion: '2.0' });
    expect(settings.additionalConfiguration).toBeUndefined();
    expect(settings.persistentVolumes).toEqual([]);
    expect(settings.connectorNamespace).toBe('azure-iot-operations');
  });

  it('connector-config-no-auth-no-tls: no TLS, the trust bundle is not needed', async () => {
    const settings = await ConnectorSettings.fromEnvironment({
      ...base,
      CONNECTOR_CONFIGURATION_MOUNT_PATH: join(mountFiles, 'connector-config-no-auth-no-tls'),
    });
    expect(settings.mqtt).toEqual({
      hostname: 'someHostName',
      port: 1234,
      clientId: 'my-connector-pod-0',
      useTls: false,
      keepAliveInSeconds: 10,
      sessionExpiryInSeconds: 20,
      receiveMaximum: 10,
    });
    expect(settings.mqttConnectionConfiguration.authentication).toBeUndefined();
  });

  it('the ADR names folder lists device endpoints without the ..data artifacts', async () => {
    const names = await listMountFiles(join(mountFiles, 'adr-resources'), { source: 'ADR' });
    expect(names).toEqual(['SomeDeviceName_SomeInboundEndpointName']);
    const assets = readFileSync(join(mountFiles, 'adr-resources', names[0]!), 'utf8');
    expect(assets.split('\n').filter(Boolean)).toEqual(['SomeAssetName1', 'SomeAssetName2']);
  });
});

describe('ConnectorSettings.fromEnvironment', () => {
  it('builds the MQTT settings with CONNECTOR_ID as the client id, verbatim', async () => {
    const pod = await makePod({
      MQTT_CONNECTION_CONFIGURATION: JSON.stringify({ ...mqttConfig, host: '[::1]:1883' }),
    });
    const sat = join(pod.root, 'broker-sat');
    await writeFile(sat, 'eyJhbGciOi.token.sig');
    const settings = await ConnectorSettings.fromEnvironment({
      ...pod.env,
      CONNECTOR_ID: 'Pod_Name-0',
      BROKER_SAT_MOUNT_PATH: sat,
    });
    expect(settings.mqtt).toEqual({
      hostname: '::1',
      port: 1883,
      clientId: 'Pod_Name-0',
      useTls: false,
      keepAliveInSeconds: 10,
      sessionExpiryInSeconds: 20,
      receiveMaximum: 10,
      satFile: sat,
    });
    expect(Object.isFrozen(settings.mqtt)).toBe(true);
  });

  it.each([
    'CONNECTOR_ID',
    'CONNECTOR_NAMESPACE',
    'CONNECTOR_CONFIGURATION_MOUNT_PATH',
    'ADR_RESOURCES_NAME_MOUNT_PATH',
  ])('fails when %s is not set, or empty', async (name) => {
    const pod = await makePod();
    const missing = await configError({ ...pod.env, [name]: undefined });
    expect(missing.message).toBe(`Environment variable ${name} is not set`);
    expect(missing.source).toBe(name);
    const empty = await configError({ ...pod.env, [name]: '' });
    expect(empty.message).toBe(`Environment variable ${name} is empty`);
    expect(empty.source).toBe(name);
  });

  it.each([
    'CONNECTOR_SECRETS_METADATA_MOUNT_PATH',
    'CONNECTOR_SECRETS_MOUNT_PATH',
    'CONNECTOR_TRUST_SETTINGS_MOUNT_PATH',
    'BROKER_TLS_TRUST_BUNDLE_CACERT_MOUNT_PATH',
    'BROKER_SAT_MOUNT_PATH',
    'DEVICE_ENDPOINT_TLS_TRUST_BUNDLE_CA_CERT_MOUNT_PATH',
    'DEVICE_ENDPOINT_CREDENTIALS_MOUNT_PATH',
    'FIRST_PARTY_OTLP_GRPC_METRICS_COLLECTOR_CA_PATH',
    'FIRST_PARTY_OTLP_GRPC_LOG_COLLECTOR_CA_PATH',
  ])('fails when %s is set to a path that does not exist', async (name) => {
    const pod = await makePod();
    const path = join(pod.root, 'not-there');
    const error = await configError({ ...pod.env, [name]: path });
    expect(error.message).toBe(`${name} is set to "${path}", which does not exist`);
    expect(error.source).toBe(name);
    expect(error.details['path']).toBe(path);
  });

  it('fails when the required mounts are missing or of the wrong kind', async () => {
    const pod = await makePod();
    const nowhere = join(pod.root, 'nowhere');
    expect(
      (await configError({ ...pod.env, CONNECTOR_CONFIGURATION_MOUNT_PATH: nowhere })).message,
    ).toBe(`CONNECTOR_CONFIGURATION_MOUNT_PATH is set to "${nowhere}", which does not exist`);
    const file = join(pod.config, 'MQTT_CONNECTION_CONFIGURATION');
    expect((await configError({ ...pod.env, ADR_RESOURCES_NAME_MOUNT_PATH: file })).message).toBe(
      `ADR_RESOURCES_NAME_MOUNT_PATH is set to "${file}", which is not a folder`,
    );
    expect((await configError({ ...pod.env, BROKER_SAT_MOUNT_PATH: pod.root })).message).toBe(
      `BROKER_SAT_MOUNT_PATH is set to "${pod.root}", which is not a file`,
    );
  });

  it('treats empty optional variables as unset and exposes the OTLP variables', async () => {
    const pod = await makePod();
    const settings = await ConnectorSettings.fromEnvironment({
      ...pod.env,
      BROKER_SAT_MOUNT_PATH: '',
      AZURE_EXTENSION_RESOURCEID: '/subscriptions/x/extensions/aio',
      OTLP_GRPC_METRIC_ENDPOINT: 'grpc://otel:4317',
      OTLP_GRPC_LOG_ENDPOINT: 'grpcs://otel:4317',
      OTLP_GRPC_TRACE_ENDPOINT: 'grpc://otel:4318',
      OTLP_HTTP_METRIC_ENDPOINT: 'http://otel:4318/v1/metrics',
      OTLP_HTTP_LOG_ENDPOINT: 'http://otel:4318/v1/logs',
      OTLP_HTTP_TRACE_ENDPOINT: 'http://otel:4318/v1/traces',
      FIRST_PARTY_OTLP_GRPC_METRICS_COLLECTOR_CA_PATH: pod.config,
      FIRST_PARTY_OTLP_GRPC_LOG_COLLECTOR_CA_PATH: pod.root,
    });
    expect(settings.brokerSatMountPath).toBeUndefined();
    expect(settings.mqtt.satFile).toBeUndefined();
    expect(settings.azureExtensionResourceId).toBe('/subscriptions/x/extensions/aio');
    expect(settings.otlpGrpcMetricEndpoint).toBe('grpc://otel:4317');
    expect(settings.otlpGrpcLogEndpoint).toBe('grpcs://otel:4317');
    expect(settings.otlpGrpcTraceEndpoint).toBe('grpc://otel:4318');
    expect(settings.otlpHttpMetricEndpoint).toBe('http://otel:4318/v1/metrics');
    expect(settings.otlpHttpLogEndpoint).toBe('http://otel:4318/v1/logs');
    expect(settings.otlpHttpTraceEndpoint).toBe('http://otel:4318/v1/traces');
    expect(settings.firstPartyOtlpGrpcMetricsCollectorCaPath).toBe(pod.config);
    expect(settings.firstPartyOtlpGrpcLogCollectorCaPath).toBe(pod.root);
  });

  it('takes a snapshot of the environment', async () => {
    const pod = await makePod();
    const env = { ...pod.env };
    const settings = await ConnectorSettings.fromEnvironment(env);
    env.CONNECTOR_ID = 'changed';
    expect(settings.connectorId).toBe('rest-connector-0');
    expect(settings.mqtt.clientId).toBe('rest-connector-0');
  });

  it.each([
    ['bad JSON', '{"host": "a:1",', undefined, /^MQTT_CONNECTION_CONFIGURATION is not valid JSON/],
    [
      'a host without a port',
      { host: 'aio-broker' },
      'host',
      /must be "<hostname>:<port>", found "aio-broker"$/,
    ],
    [
      'a port that is not a number',
      { host: 'aio-broker:mqtt' },
      'host',
      /port number from 1 to 65535, found "aio-broker:mqtt"$/,
    ],
    ['tls mode "maybe"', { tls: { mode: 'maybe' } }, 'tls.mode', /found "maybe"$/],
    ['a negative keepAlive', { keepAliveSeconds: -5 }, 'keepAliveSeconds', /found -5$/],
    [
      'sessionExpiry 0',
      { sessionExpirySeconds: 0 },
      'sessionExpirySeconds',
      /from 1 to 4294967295, found 0$/,
    ],
    ['protocol "amqp"', { protocol: 'amqp' }, 'protocol', /must be "mqtt", found "amqp"$/],
  ])('rejects MQTT_CONNECTION_CONFIGURATION with %s', async (_, change, field, message) => {
    const text = typeof change === 'string' ? change : JSON.stringify({ ...mqttConfig, ...change });
    const pod = await makePod({ MQTT_CONNECTION_CONFIGURATION: text });
    // not retried: a malformed file fails on the first attempt even with the default policy
    const { logger, retries } = retryHook(() => undefined);
    const error = await configError(pod.env, { logger });
    expect(retries()).toBe(0);
    expect(error.source).toBe('MQTT_CONNECTION_CONFIGURATION');
    expect(error.field).toBe(field);
    expect(error.message).toMatch(message);
    if (field !== undefined)
      expect(error.message).toContain(`MQTT_CONNECTION_CONFIGURATION: field "${field}"`);
  });

  it('reports a missing MQTT_CONNECTION_CONFIGURATION after the retries', async () => {
    const pod = await makePod({ MQTT_CONNECTION_CONFIGURATION: undefined });
    await rm(join(pod.config, 'MQTT_CONNECTION_CONFIGURATION'), { force: true });
    const { logger, retries } = retryHook(() => undefined);
    const error = await configError(pod.env, { attempts: 3, intervalInMs: 1, logger });
    expect(retries()).toBe(2);
    const path = join(pod.config, 'MQTT_CONNECTION_CONFIGURATION');
    expect(error.message).toBe(`MQTT_CONNECTION_CONFIGURATION: "${path}" does not exist`);
    expect(error.source).toBe('MQTT_CONNECTION_CONFIGURATION');
  });

  it('waits for a mount that appears after start (10 attempts 100 ms apart by default)', async () => {
    const pod = await makePod();
    const file = join(pod.config, 'MQTT_CONNECTION_CONFIGURATION');
    await rm(file);
    const { logger, retries } = retryHook(() => writeFile(file, JSON.stringify(mqttConfig)));
    const started = performance.now();
    const settings = await ConnectorSettings.fromEnvironment(pod.env, { logger });
    expect(settings.mqtt.hostname).toBe('aio-broker');
    expect(retries()).toBeGreaterThanOrEqual(1);
    // at least one 100 ms wait happened
    expect(performance.now() - started).toBeGreaterThanOrEqual(90);
  });

  it('stops waiting when the signal aborts', async () => {
    const pod = await makePod();
    await rm(join(pod.config, 'MQTT_CONNECTION_CONFIGURATION'));
    const controller = new AbortController();
    const { logger } = retryHook(() => {
      controller.abort(new Error('shutting down'));
    });
    const failure = await ConnectorSettings.fromEnvironment(pod.env, {
      logger,
      intervalInMs: 60_000,
      signal: controller.signal,
    }).catch((error: unknown) => error);
    expect(isAioError(failure) && failure.code).toBe('ERR_AIO_ABORTED');
  });

  it('reads DIAGNOSTICS, ADDITIONAL_CONNECTOR_CONFIGURATION, AIO_METADATA and persistent volumes', async () => {
    const pod = await makePod({
      DIAGNOSTICS: '{"logs":{"level":"Warning"}}',
      ADDITIONAL_CONNECTOR_CONFIGURATION: '{ "pollingMode": "fast", "limits": { "max": 3, }, }',
      AIO_METADATA: '{"aioMinVersion":"1.0","aioMaxVersion":"2.0"}',
    });
    const volumes = [join(pod.root, 'pv-a'), join(pod.root, 'pv-b')];
    for (const volume of volumes) await mkdir(volume);
    await writeFile(join(pod.config, 'PERSISTENT_VOLUME_MOUNT_PATH'), `${volumes.join('\n')}\n`);
    const settings = await ConnectorSettings.fromEnvironment(pod.env);
    expect(settings.logLevel).toBe('warn');
    expect(settings.additionalConfiguration).toEqual({ pollingMode: 'fast', limits: { max: 3 } });
    expect(Object.isFrozen((settings.additionalConfiguration as { limits: object }).limits)).toBe(
      true,
    );
    expect(settings.additionalConfigurationText).toContain('"pollingMode"');
    expect(settings.aioMetadata?.aioMaxVersion).toBe('2.0');
    expect(settings.persistentVolumes).toEqual(volumes);
  });

  it('rejects an unknown log level, bad additional configuration and missing volumes', async () => {
    let pod = await makePod({ DIAGNOSTICS: '{"logs":{"level":"chatty"}}' });
    let error = await configError(pod.env);
    expect(error.message).toBe(
      'DIAGNOSTICS: field "logs.level" must be one of trace, debug, info, warn, error, fatal, silent, found "chatty"',
    );
    expect(error).toMatchObject({ source: 'DIAGNOSTICS', field: 'logs.level' });

    pod = await makePod({ ADDITIONAL_CONNECTOR_CONFIGURATION: '{ "a": }' });
    error = await configError(pod.env);
    expect(error.message).toMatch(/^ADDITIONAL_CONNECTOR_CONFIGURATION is not valid JSON/);
    expect(error.source).toBe('ADDITIONAL_CONNECTOR_CONFIGURATION');

    pod = await makePod({ PERSISTENT_VOLUME_MOUNT_PATH: '/no/such/volume\n' });
    error = await configError(pod.env);
    expect(error.message).toBe(
      'PERSISTENT_VOLUME_MOUNT_PATH lists "/no/such/volume", which does not exist',
    );
  });

  it('logs unknown fields of MQTT_CONNECTION_CONFIGURATION at debug and ignores them', async () => {
    const pod = await makePod({
      MQTT_CONNECTION_CONFIGURATION: JSON.stringify({ ...mqttConfig, brandNewField: true }),
    });
    const lines: string[] = [];
    const logger = createJsonLogger({ level: 'debug', write: (line) => lines.push(line) });
    await ConnectorSettings.fromEnvironment(pod.env, { logger });
    const record = lines.map((l) => JSON.parse(l)).find((r) => r.msg === 'ignoring unknown fields');
    expect(record).toMatchObject({ level: 'debug', fields: ['brandNewField'] });
  });

  it('has a JSON summary without certificate bodies', async () => {
    const pod = await makePod();
    const settings = await ConnectorSettings.fromEnvironment({
      ...pod.env,
      OTLP_HTTP_LOG_ENDPOINT: 'https://user:pw@otel:4318/v1/logs',
    });
    const json = JSON.parse(JSON.stringify(settings));
    expect(json.connectorId).toBe('rest-connector-0');
    expect(json.mqtt.hostname).toBe('aio-broker');
    expect(json.env.OTLP_HTTP_LOG_ENDPOINT).toBe('https://[redacted]@otel:4318/v1/logs');
  });
});

describe('broker trust bundle', () => {
  const tlsConfig = JSON.stringify({ ...mqttConfig, tls: { mode: 'Enabled' } });

  it('trusts every certificate of every file, skipping the Kubernetes projection artifacts', async () => {
    const pod = await makePod({ MQTT_CONNECTION_CONFIGURATION: tlsConfig });
    // the layout of a projected secret/configmap volume
    const bundle = join(pod.root, 'broker_tls_trust_bundle');
    const generation = join(bundle, '..2025_01_01_00_00_00.1234');
    await mkdir(generation, { recursive: true });
    await writeFile(join(generation, 'ca.crt'), `${certificateA}${certificateB}`);
    await writeFile(join(generation, 'extra.pem'), `subject=CN=c\n${certificateB}`);
    await symlink('..2025_01_01_00_00_00.1234', join(bundle, '..data'));
    await symlink('..data/ca.crt', join(bundle, 'ca.crt'));
    await symlink('..data/extra.pem', join(bundle, 'extra.pem'));
    await writeFile(join(bundle, '..stray'), 'not a certificate');
    const settings = await ConnectorSettings.fromEnvironment({
      ...pod.env,
      BROKER_TLS_TRUST_BUNDLE_CACERT_MOUNT_PATH: bundle,
    });
    expect(settings.mqtt.useTls).toBe(true);
    expect(settings.mqtt.caCertificates).toEqual([certificateA, certificateB, certificateB]);
  });

  it('rejects a file without a PEM certificate, naming the file', async () => {
    const pod = await makePod({ MQTT_CONNECTION_CONFIGURATION: tlsConfig });
    const bundle = join(pod.root, 'bundle');
    await mkdir(bundle);
    await writeFile(join(bundle, 'ca.crt'), certificateA);
    await writeFile(join(bundle, 'notes.txt'), 'this is not a certificate');
    const error = await configError({
      ...pod.env,
      BROKER_TLS_TRUST_BUNDLE_CACERT_MOUNT_PATH: bundle,
    });
    expect(error.message).toBe(
      `BROKER_TLS_TRUST_BUNDLE_CACERT_MOUNT_PATH: "${join(bundle, 'notes.txt')}" holds no PEM certificate`,
    );
    expect(error.source).toBe('BROKER_TLS_TRUST_BUNDLE_CACERT_MOUNT_PATH');
  });

  it('rejects an empty bundle folder and a dangling entry when TLS is on', async () => {
    const pod = await makePod({ MQTT_CONNECTION_CONFIGURATION: tlsConfig });
    const bundle = join(pod.root, 'bundle');
    await mkdir(join(bundle, '..data'), { recursive: true });
    let error = await configError({
      ...pod.env,
      BROKER_TLS_TRUST_BUNDLE_CACERT_MOUNT_PATH: bundle,
    });
    expect(error.message).toBe(
      `BROKER_TLS_TRUST_BUNDLE_CACERT_MOUNT_PATH: the folder "${bundle}" holds no certificate file`,
    );
    await writeFile(join(bundle, 'empty.crt'), '');
    error = await configError({ ...pod.env, BROKER_TLS_TRUST_BUNDLE_CACERT_MOUNT_PATH: bundle });
    expect(error.message).toBe(
      `BROKER_TLS_TRUST_BUNDLE_CACERT_MOUNT_PATH: "${join(bundle, 'empty.crt')}" holds no PEM certificate`,
    );
    await rm(join(bundle, 'empty.crt'));
    await symlink('..data/gone.crt', join(bundle, 'ca.crt'));
    error = await configError({ ...pod.env, BROKER_TLS_TRUST_BUNDLE_CACERT_MOUNT_PATH: bundle });
    expect(error.message).toBe(
      `BROKER_TLS_TRUST_BUNDLE_CACERT_MOUNT_PATH: "${join(bundle, 'ca.crt')}" does not exist`,
    );
  });

  it.skipIf(process.getuid?.() === 0)('rejects an unreadable bundle file', async () => {
    const pod = await makePod({ MQTT_CONNECTION_CONFIGURATION: tlsConfig });
    const bundle = join(pod.root, 'bundle');
    await mkdir(bundle);
    await writeFile(join(bundle, 'ca.crt'), certificateA);
    await chmod(join(bundle, 'ca.crt'), 0o000);
    const error = await configError({
      ...pod.env,
      BROKER_TLS_TRUST_BUNDLE_CACERT_MOUNT_PATH: bundle,
    });
    expect(error.message).toBe(
      `BROKER_TLS_TRUST_BUNDLE_CACERT_MOUNT_PATH: "${join(bundle, 'ca.crt')}" is not readable (permission denied)`,
    );
  });

  it('does not read the bundle when TLS is disabled', async () => {
    const pod = await makePod();
    const bundle = join(pod.root, 'bundle');
    await mkdir(bundle);
    await writeFile(join(bundle, 'garbage'), 'not a certificate');
    const settings = await ConnectorSettings.fromEnvironment({
      ...pod.env,
      BROKER_TLS_TRUST_BUNDLE_CACERT_MOUNT_PATH: bundle,
    });
    expect(settings.mqtt.useTls).toBe(false);
    expect(settings.mqtt.caCertificates).toBeUndefined();
  });
});

describe('connector secrets (CONNECTOR_SECRETS_METADATA_MOUNT_PATH + CONNECTOR_SECRETS_MOUNT_PATH)', () => {
  async function secretsPod(aliases: Record<string, string>) {
    const pod = await makePod();
    const metadata = join(pod.root, 'connector_secrets_metadata');
    const secrets = join(pod.root, 'connector_secrets');
    await mkdir(metadata);
    await mkdir(join(secrets, 'cloud-creds'), { recursive: true });
    for (const [alias, relative] of Object.entries(aliases))
      await writeFile(join(metadata, alias), `${relative}\n`);
    const env = {
      ...pod.env,
      CONNECTOR_SECRETS_METADATA_MOUNT_PATH: metadata,
      CONNECTOR_SECRETS_MOUNT_PATH: secrets,
    };
    return { env, metadata, secrets };
  }

  it('resolves an alias to its file and reads it fresh on every call', async () => {
    const { env, secrets } = await secretsPod({ 'api-key': 'cloud-creds/apiKey' });
    const file = join(secrets, 'cloud-creds', 'apiKey');
    await writeFile(file, 's3cr3t-v1');
    const settings = await ConnectorSettings.fromEnvironment(env);
    expect(await settings.resolveSecretPath('api-key')).toBe(file);
    expect(await settings.readSecret('api-key')).toBe('s3cr3t-v1');
    await writeFile(file, 's3cr3t-v2');
    expect(await settings.readSecret('api-key')).toBe('s3cr3t-v2');
  });

  it('rejects aliases and relative paths that leave their mount', async () => {
    const { env } = await secretsPod({ evil: '../../etc/passwd', absolute: '/etc/passwd' });
    const settings = await ConnectorSettings.fromEnvironment(env, once);
    await expect(settings.readSecret('evil')).rejects.toThrow(
      'CONNECTOR_SECRETS_METADATA_MOUNT_PATH: field "evil" must not contain a ".." path component, found "../../etc/passwd"',
    );
    await expect(settings.readSecret('absolute')).rejects.toThrow(/must be a relative path/);
    await expect(settings.readSecret('../evil')).rejects.toThrow(
      'connector secret alias must be a single file name, found "../evil"',
    );
    await expect(settings.readSecret('..data')).rejects.toThrow(/single file name/);
  });

  it('reports a missing alias and missing mounts', async () => {
    const { env, metadata } = await secretsPod({});
    let settings = await ConnectorSettings.fromEnvironment(env, once);
    await expect(settings.readSecret('nope')).rejects.toThrow(
      `CONNECTOR_SECRETS_METADATA_MOUNT_PATH: field "nope": "${join(metadata, 'nope')}" does not exist`,
    );
    settings = await ConnectorSettings.fromEnvironment({
      ...env,
      CONNECTOR_SECRETS_MOUNT_PATH: undefined,
    });
    const error = await settings.readSecret('x').catch((e: unknown) => e as ConfigError);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ source: 'CONNECTOR_SECRETS_MOUNT_PATH' });
  });

  it('never puts the secret into errors', async () => {
    const { env, secrets } = await secretsPod({ key: 'cloud-creds/key' });
    await writeFile(join(secrets, 'cloud-creds', 'key'), 'TOPSECRET-VALUE');
    const settings = await ConnectorSettings.fromEnvironment(env, once);
    expect(await settings.readSecret('key')).toBe('TOPSECRET-VALUE');
    expect(JSON.stringify(settings)).not.toContain('TOPSECRET');
    expect(inspect(settings, { showHidden: true, depth: 10 })).not.toContain('TOPSECRET');
  });
});
