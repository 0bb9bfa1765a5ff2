/**
 * Parsing and validation of the files of `CONNECTOR_CONFIGURATION_MOUNT_PATH`:
 * `MQTT_CONNECTION_CONFIGURATION`, `DIAGNOSTICS`, `AIO_METADATA` and
 * `PERSISTENT_VOLUME_MOUNT_PATH`. Pure functions over the file contents; `ConnectorSettings` reads
 * the files.
 *
 * @module
 */
import { ConfigError } from '../errors.ts';
import { parseLenientJson } from '../lenient-json.ts';
import type { LogLevel } from '../logger.ts';
import { quote } from './mount-files.ts';

/** The name of the MQTT connection file in `CONNECTOR_CONFIGURATION_MOUNT_PATH`. */
export const mqttConnectionConfigurationFile = 'MQTT_CONNECTION_CONFIGURATION';
/** The name of the optional diagnostics file. */
export const diagnosticsFile = 'DIAGNOSTICS';
/** The name of the optional connector-defined configuration file. */
export const additionalConnectorConfigurationFile = 'ADDITIONAL_CONNECTOR_CONFIGURATION';
/** The name of the optional AIO version file. */
export const aioMetadataFile = 'AIO_METADATA';
/** The name of the optional persistent volume list file. */
export const persistentVolumeMountPathFile = 'PERSISTENT_VOLUME_MOUNT_PATH';

/**
 * The content of `MQTT_CONNECTION_CONFIGURATION`, validated. Fields the file omits are
 * `undefined`; fields this SDK does not know are ignored.
 */
export interface MqttConnectionConfiguration {
  /** Broker host name or IP address (IPv6 without brackets). */
  readonly hostname: string;
  /** Broker TCP port, 1 to 65535. */
  readonly port: number;
  /** `keepAliveSeconds`: 0 to 65535. */
  readonly keepAliveSeconds: number | undefined;
  /** `maxInflightMessages`, used as the MQTT Receive Maximum: 1 to 65535. */
  readonly maxInflightMessages: number | undefined;
  /** `sessionExpirySeconds`: 1 to 4294967295. */
  readonly sessionExpirySeconds: number | undefined;
  /** `protocol`, always `mqtt` (lower case) when present. */
  readonly protocol: 'mqtt' | undefined;
  /** `tls.mode`; an absent `tls` block means `Disabled`. */
  readonly tlsMode: 'Enabled' | 'Disabled';
  /**
   * The `authentication` block as written. Informational only: K8S-SAT is used when
   * `BROKER_SAT_MOUNT_PATH` is set, whatever this says.
   */
  readonly authentication: Readonly<Record<string, unknown>> | undefined;
}

/** The fields of `MQTT_CONNECTION_CONFIGURATION` this SDK reads. */
const knownMqttFields = new Set([
  'host',
  'keepAliveSeconds',
  'maxInflightMessages',
  'protocol',
  'sessionExpirySeconds',
  'authentication',
  'tls',
]);

function fieldError(
  source: string,
  field: string,
  expectation: string,
  found: unknown,
): ConfigError {
  return new ConfigError(`${source}: field "${field}" ${expectation}, found ${quote(found)}`, {
    source,
    field,
  });
}

function parseObject(text: string, source: string): Record<string, unknown> {
  if (text.trim() === '') throw new ConfigError(`${source} is empty`, { source });
  const value = parseLenientJson(text, { source });
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ConfigError(`${source} must hold a JSON object, found ${quote(value)}`, { source });
  return value as Record<string, unknown>;
}

function integerField(
  object: Record<string, unknown>,
  source: string,
  field: string,
  min: number,
  max: number,
  path = field,
): number | undefined {
  const value = object[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw fieldError(source, path, `must be an integer from ${min} to ${max}`, value);
  return value;
}

/**
 * Splits an MQTT `host` value: `"<hostname>:<port>"`, or `"[<IPv6>]:<port>"`. Throws a
 * `ConfigError` naming `source` and the field `host`.
 *
 * @example
 * ```ts
 * import { parseBrokerHost } from '@aio-connector/core';
 * parseBrokerHost('aio-broker:18883'); // { hostname: 'aio-broker', port: 18883 }
 * parseBrokerHost('[::1]:1883'); // { hostname: '::1', port: 1883 }
 * ```
 */
export function parseBrokerHost(
  host: unknown,
  source = mqttConnectionConfigurationFile,
): { hostname: string; port: number } {
  const expectation = 'must be "<hostname>:<port>"';
  if (typeof host !== 'string') throw fieldError(source, 'host', expectation, host);
  const text = host.trim();
  let hostname: string;
  let portText: string;
  if (text.startsWith('[')) {
    const match = /^\[([0-9A-Fa-f:.]+(?:%[\w.-]+)?)\]:([^:]*)$/.exec(text);
    if (match === null)
      throw fieldError(source, 'host', `${expectation} or "[<IPv6>]:<port>"`, host);
    hostname = match[1] as string;
    portText = match[2] as string;
  } else {
    const colon = text.indexOf(':');
    if (colon === -1 || colon !== text.lastIndexOf(':'))
      throw fieldError(source, 'host', expectation, host);
    hostname = text.slice(0, colon);
    portText = text.slice(colon + 1);
  }
  if (hostname === '' || /\s/.test(hostname)) throw fieldError(source, 'host', expectation, host);
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65_535)
    throw fieldError(source, 'host', `must end with a port number from 1 to 65535`, host);
  return { hostname, port: Number(portText) };
}

/**
 * Parses and validates the text of `MQTT_CONNECTION_CONFIGURATION`. Every problem is a
 * `ConfigError` whose message names the file, the field and the value found.
 *
 * @example
 * ```ts
 * import { parseMqttConnectionConfiguration } from '@aio-connector/core';
 * const config = parseMqttConnectionConfiguration(
 *   '{"host":"aio-broker:18883","keepAliveSeconds":10,"maxInflightMessages":10,' +
 *     '"protocol":"mqtt","sessionExpirySeconds":20,"tls":{"mode":"Enabled"}}',
 * );
 * config.tlsMode; // 'Enabled'
 * ```
 */
export function parseMqttConnectionConfiguration(
  text: string,
  source = mqttConnectionConfigurationFile,
): MqttConnectionConfiguration {
  const object = parseObject(text, source);
  if (object['host'] === undefined)
    throw new ConfigError(`${source}: field "host" is missing; it must be "<hostname>:<port>"`, {
      source,
      field: 'host',
    });
  const { hostname, port } = parseBrokerHost(object['host'], source);
  const keepAliveSeconds = integerField(object, source, 'keepAliveSeconds', 0, 65_535);
  const maxInflightMessages = integerField(object, source, 'maxInflightMessages', 1, 65_535);
  const sessionExpirySeconds = integerField(
    object,
    source,
    'sessionExpirySeconds',
    1,
    4_294_967_295,
  );

  const protocolValue = object['protocol'];
  let protocol: 'mqtt' | undefined;
  if (protocolValue !== undefined && protocolValue !== null) {
    if (typeof protocolValue !== 'string' || protocolValue.toLowerCase() !== 'mqtt')
      throw fieldError(source, 'protocol', 'must be "mqtt"', protocolValue);
    protocol = 'mqtt';
  }

  let tlsMode: 'Enabled' | 'Disabled' = 'Disabled';
  const tls = object['tls'];
  if (tls !== undefined && tls !== null) {
    if (typeof tls !== 'object' || Array.isArray(tls))
      throw fieldError(source, 'tls', 'must be an object', tls);
    const mode = (tls as Record<string, unknown>)['mode'];
    const normalized = typeof mode === 'string' ? mode.toLowerCase() : undefined;
    if (normalized === 'enabled') tlsMode = 'Enabled';
    else if (normalized !== 'disabled')
      throw fieldError(source, 'tls.mode', 'must be "Enabled" or "Disabled"', mode);
  }

  const authenticationValue = object['authentication'];
  let authentication: Readonly<Record<string, unknown>> | undefined;
  if (authenticationValue !== undefined && authenticationValue !== null) {
    if (typeof authenticationValue !== 'object' || Array.isArray(authenticationValue))
      throw fieldError(source, 'authentication', 'must be an object', authenticationValue);
    authentication = Object.freeze({ ...(authenticationValue as Record<string, unknown>) });
  }

  return Object.freeze({
    hostname,
    port,
    keepAliveSeconds,
    maxInflightMessages,
    sessionExpirySeconds,
    protocol,
    tlsMode,
    authentication,
  });
}

/** The top-level fields of `MQTT_CONNECTION_CONFIGURATION` this SDK does not know. */
export function unknownMqttConfigurationFields(text: string): string[] {
  try {
    const value = parseLenientJson(text);
    if (typeof value !== 'object' || value === null) return [];
    return Object.keys(value).filter((key) => !knownMqttFields.has(key));
  } catch {
    return [];
  }
}

const logLevelAliases: Readonly<Record<string, LogLevel>> = {
  trace: 'trace',
  verbose: 'trace',
  debug: 'debug',
  info: 'info',
  information: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  fatal: 'fatal',
  critical: 'fatal',
  silent: 'silent',
  none: 'silent',
  off: 'silent',
};

/**
 * Maps a log level name from `DIAGNOSTICS` (`trace`, `debug`, `info`, `warn`, `error`, and the
 * .NET / Rust spellings `Information`, `Warning`, `Critical`, `None`, `Off`; case-insensitive) to a
 * {@link LogLevel}. Unknown names throw a `ConfigError`.
 *
 * @example
 * ```ts
 * toLogLevel('Information'); // 'info'
 * ```
 */
export function toLogLevel(
  name: unknown,
  source = diagnosticsFile,
  field = 'logs.level',
): LogLevel {
  const level = typeof name === 'string' ? logLevelAliases[name.trim().toLowerCase()] : undefined;
  if (level === undefined)
    throw fieldError(
      source,
      field,
      'must be one of trace, debug, info, warn, error, fatal, silent',
      name,
    );
  return level;
}

/** The content of `DIAGNOSTICS`, validated. */
export interface ConnectorDiagnostics {
  /** `logs.level`, mapped to a log level; `undefined` when the file sets none. */
  readonly logLevel: LogLevel | undefined;
}

/**
 * Parses `DIAGNOSTICS` (`{"logs":{"level":"trace"}}`).
 *
 * @example
 * ```ts
 * parseDiagnostics('{"logs":{"level":"trace"}}').logLevel; // 'trace'
 * ```
 */
export function parseDiagnostics(text: string, source = diagnosticsFile): ConnectorDiagnostics {
  const object = parseObject(text, source);
  const logs = object['logs'];
  if (logs === undefined || logs === null) return Object.freeze({ logLevel: undefined });
  if (typeof logs !== 'object' || Array.isArray(logs))
    throw fieldError(source, 'logs', 'must be an object', logs);
  const level = (logs as Record<string, unknown>)['level'];
  if (level === undefined || level === null) return Object.freeze({ logLevel: undefined });
  return Object.freeze({ logLevel: toLogLevel(level, source) });
}

/** The content of `AIO_METADATA`. */
export interface AioMetadata {
  /** The oldest AIO version the deployment supports. */
  readonly aioMinVersion: string | undefined;
  /** The newest AIO version the deployment supports. */
  readonly aioMaxVersion: string | undefined;
}

/**
 * Parses `AIO_METADATA` (`{"aioMinVersion":"1.0","aioMaxVersion":"2.0"}`).
 *
 * @example
 * ```ts
 * parseAioMetadata('{"aioMinVersion":"1.0","aioMaxVersion":"2.0"}').aioMaxVersion; // '2.0'
 * ```
 */
export function parseAioMetadata(text: string, source = aioMetadataFile): AioMetadata {
  const object = parseObject(text, source);
  const read = (field: string): string | undefined => {
    const value = object[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw fieldError(source, field, 'must be a string', value);
    return value;
  };
  return Object.freeze({
    aioMinVersion: read('aioMinVersion'),
    aioMaxVersion: read('aioMaxVersion'),
  });
}

/**
 * Splits `PERSISTENT_VOLUME_MOUNT_PATH` into paths: one a line, blank lines and surrounding
 * whitespace dropped.
 *
 * @example
 * ```ts
 * parsePersistentVolumes('/mnt/a\n/mnt/b\n'); // ['/mnt/a', '/mnt/b']
 * ```
 */
export function parsePersistentVolumes(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '');
}
