/**
 * The reserved MQTT user properties of the AIO protocol and the protocol version rules.
 *
 * Names starting with `__` belong to the SDK; `$partition` and `$high_priority` are read by the
 * broker. Every message the protocol components publish carries `__protVer` (`1.0`); a message
 * without it is read as version 1.0, and a message whose major version is not supported is rejected
 * (commands answer 505 with `__supProtMajVer` and `__requestProtVer`).
 *
 * @module
 */
import { ProtocolError } from '../errors.ts';
import type { UserProperty } from '../mqtt/mqtt-client.ts';

/**
 * The reserved user property names.
 *
 * @example
 * ```ts
 * import { reservedProperties } from '@aio-connector/core';
 * reservedProperties.status; // '__stat'
 * ```
 */
export const reservedProperties = Object.freeze({
  /** Hybrid logical clock of the sender (`%015d:%05d:nodeId`). */
  timestamp: '__ts',
  /** Command status, an HTTP-like code. */
  status: '__stat',
  /** Human-readable status message. */
  statusMessage: '__stMsg',
  /** `true` when the error was raised by application code. */
  isApplicationError: '__apErr',
  /** The header or property an error response is about. */
  invalidPropertyName: '__propName',
  /** The invalid value of that header or property. */
  invalidPropertyValue: '__propVal',
  /** Protocol version `major.minor` of the message. */
  protocolVersion: '__protVer',
  /** Space-separated major versions an executor supports (on a 505 response). */
  supportedMajorProtocolVersions: '__supProtMajVer',
  /** The protocol version of a rejected request (on a 505 response). */
  requestProtocolVersion: '__requestProtVer',
  /** Client id of the sender. */
  sourceId: '__srcId',
  /** Client id of the invoker (legacy, read by older services). */
  invokerClientId: '__invId',
  /** State store fencing token. */
  fencingToken: '__ft',
  /** Broker partition key (the invoker's client id on requests). */
  partition: '$partition',
  /** Broker backpressure bypass; present with an empty value on every request and response. */
  highPriority: '$high_priority',
  /** `true` asks the broker to persist the message. */
  persistence: 'aio-persistence',
} as const);

/**
 * The protocol version this SDK speaks, sent as `__protVer`.
 *
 * @example
 * ```ts
 * import { protocolVersion } from '@aio-connector/core';
 * protocolVersion; // '1.0'
 * ```
 */
export const protocolVersion = '1.0';

/**
 * The major protocol versions this SDK accepts.
 *
 * @example
 * ```ts
 * import { supportedMajorProtocolVersions } from '@aio-connector/core';
 * supportedMajorProtocolVersions.includes(1); // true
 * ```
 */
export const supportedMajorProtocolVersions: readonly number[] = Object.freeze([1]);

/** A parsed protocol version. */
export interface ProtocolVersion {
  readonly major: number;
  readonly minor: number;
}

const versionPattern = /^(\d{1,9})\.(\d{1,9})$/;

/**
 * Parses a `__protVer` value. A missing value means 1.0; an unparsable one gives `undefined`.
 *
 * @example
 * ```ts
 * import { parseProtocolVersion } from '@aio-connector/core';
 * parseProtocolVersion('1.0'); // { major: 1, minor: 0 }
 * parseProtocolVersion(undefined); // { major: 1, minor: 0 }
 * parseProtocolVersion('one'); // undefined
 * ```
 */
export function parseProtocolVersion(text: string | undefined): ProtocolVersion | undefined {
  if (text === undefined) return { major: 1, minor: 0 };
  const match = versionPattern.exec(text);
  if (!match) return undefined;
  return { major: Number(match[1]), minor: Number(match[2]) };
}

/**
 * Whether a `__protVer` value (or its absence) names a protocol version this SDK supports.
 *
 * @example
 * ```ts
 * import { isSupportedProtocolVersion } from '@aio-connector/core';
 * isSupportedProtocolVersion('1.3'); // true
 * isSupportedProtocolVersion('2.0'); // false
 * ```
 */
export function isSupportedProtocolVersion(text: string | undefined): boolean {
  const version = parseProtocolVersion(text);
  return version !== undefined && supportedMajorProtocolVersions.includes(version.major);
}

/**
 * The value of the first user property named `name`, or `undefined`.
 *
 * @example
 * ```ts
 * import { getUserProperty } from '@aio-connector/core';
 * getUserProperty([['__stat', '200']], '__stat'); // '200'
 * ```
 */
export function getUserProperty(
  properties: readonly UserProperty[] | undefined,
  name: string,
): string | undefined {
  if (properties === undefined) return undefined;
  for (const [key, value] of properties) if (key === name) return value;
  return undefined;
}

/**
 * The user properties that are not reserved by the SDK (names not starting with `__`), as a record;
 * the first occurrence of a repeated name wins.
 *
 * @example
 * ```ts
 * import { userDataOf } from '@aio-connector/core';
 * userDataOf([['__ts', 'x'], ['site', 'north']]); // { site: 'north' }
 * ```
 */
export function userDataOf(
  properties: readonly UserProperty[] | undefined,
): Record<string, string> {
  const data: Record<string, string> = {};
  for (const [key, value] of properties ?? []) {
    if (key.startsWith('__') || Object.hasOwn(data, key)) continue;
    data[key] = value;
  }
  return data;
}

/**
 * Checks user data supplied by application code and returns it as user properties. Names must be
 * non-empty and must not start with the reserved `__` prefix; values must be strings.
 *
 * @internal
 */
export function userDataToProperties(
  userData: Readonly<Record<string, string>> | undefined,
  commandName?: string,
): UserProperty[] {
  if (userData === undefined) return [];
  if (typeof userData !== 'object' || userData === null)
    throw invalidConfiguration(
      'userData',
      userData,
      'userData must be an object of strings',
      commandName,
    );
  const properties: UserProperty[] = [];
  for (const [name, value] of Object.entries(userData)) {
    if (name.length === 0 || name.startsWith('__'))
      throw invalidConfiguration(
        'userData',
        name,
        `user data name '${name}' is empty or uses the reserved '__' prefix`,
        commandName,
      );
    if (typeof value !== 'string')
      throw invalidConfiguration(
        'userData',
        value,
        `user data '${name}' must be a string, received ${typeof value}`,
        commandName,
      );
    properties.push([name, value]);
  }
  return properties;
}

/**
 * A `ProtocolError` of kind `invalid configuration` (shallow, local) naming the offending option.
 *
 * @internal
 */
export function invalidConfiguration(
  propertyName: string,
  propertyValue: unknown,
  message: string,
  commandName?: string,
): ProtocolError {
  return new ProtocolError('invalid configuration', message, {
    isShallow: true,
    propertyName,
    propertyValue,
    ...(commandName === undefined ? {} : { commandName }),
  });
}

/**
 * Bytes to lowercase hex, for correlation data keys and logs.
 *
 * @internal
 */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
