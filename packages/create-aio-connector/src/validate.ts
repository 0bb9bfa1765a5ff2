/**
 * The rules for the values a user gives: the connector name, the endpoint type and the SDK
 * version. Each `validateX` returns why a value is not acceptable, as a sentence to show the user,
 * or `undefined` when it is fine (the shape prompt libraries expect from a validator).
 *
 * @module
 */
import { builtinModules } from 'node:module';

/**
 * The longest connector name: a Kubernetes name (DNS-1123 label) has at most 63 characters.
 *
 * @example
 * ```ts
 * import { maxConnectorNameLength } from 'create-aio-connector';
 * const fits = (name: string) => name.length <= maxConnectorNameLength;
 * ```
 */
export const maxConnectorNameLength = 63;

const dnsLabel = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/u;
const builtins = new Set(builtinModules.map((name) => name.replace(/^node:/u, '')));

/**
 * Why `name` cannot be a connector name, or `undefined` when it can. A connector name becomes the
 * npm package name, the container image name and the name of the Kubernetes connector template,
 * so it must satisfy all three: lower-case letters, digits and `-`, starting and ending with a
 * letter or digit, at most 63 characters, and not the name of a Node.js built-in module.
 *
 * @example
 * ```ts
 * import { validateConnectorName } from 'create-aio-connector';
 * validateConnectorName('thermostat-connector'); // undefined
 * validateConnectorName('Thermostat'); // 'the connector name "Thermostat" has upper-case ...'
 * ```
 */
export function validateConnectorName(name: string): string | undefined {
  if (typeof name !== 'string') return `the connector name must be a string, found ${typeof name}`;
  if (name === '') return 'the connector name is empty';
  const suggestion = toValidConnectorName(name);
  const tryInstead = suggestion !== '' && suggestion !== name ? `; try "${suggestion}"` : '';
  if (name.length > maxConnectorNameLength)
    return `the connector name "${name}" has ${name.length} characters; at most ${maxConnectorNameLength} are allowed (it names a Kubernetes resource)${tryInstead}`;
  if (name !== name.toLowerCase())
    return `the connector name "${name}" has upper-case letters; npm package and Kubernetes names are lower case${tryInstead}`;
  if (!dnsLabel.test(name))
    return `the connector name "${name}" is not valid: use lower-case letters, digits and "-", starting and ending with a letter or digit (it names the npm package, the container image and the Kubernetes connector template)${tryInstead}`;
  if (builtins.has(name))
    return `the connector name "${name}" is the name of a Node.js built-in module, which npm does not accept${tryInstead}`;
  return undefined;
}

/**
 * Turns any text (a directory name, a title) into a valid connector name: lower case, accents
 * removed, every run of other characters replaced by `-`, at most 63 characters. Returns `''` when
 * nothing usable is left.
 *
 * @example
 * ```ts
 * import { toValidConnectorName } from 'create-aio-connector';
 * toValidConnectorName('My Thermostat_Connector'); // 'my-thermostat-connector'
 * ```
 */
export function toValidConnectorName(text: string): string {
  if (typeof text !== 'string') throw new TypeError(`text must be a string, found ${typeof text}`);
  let name = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/gu, '-')
    .replace(/^-+|-+$/gu, '')
    .slice(0, maxConnectorNameLength)
    .replace(/-+$/u, '');
  if (builtins.has(name)) name = `${name}-connector`;
  return name;
}

/** `Vendor.Type` (the pattern of the connector metadata schema), then name-safe characters. */
const endpointTypePattern = /^[A-Za-z]+\.[A-Za-z]+[A-Za-z0-9._-]*$/u;

/**
 * Why `endpointType` cannot be an inbound endpoint type, or `undefined` when it can. The connector
 * metadata schema requires the form `Vendor.Type` (letters, a dot, letters, as in
 * `Microsoft.Rest`); letters, digits, `.`, `-` and `_` may follow.
 *
 * @example
 * ```ts
 * import { validateEndpointType } from 'create-aio-connector';
 * validateEndpointType('Contoso.Thermostat'); // undefined
 * validateEndpointType('thermostat'); // 'the endpoint type "thermostat" is not valid: ...'
 * ```
 */
export function validateEndpointType(endpointType: string): string | undefined {
  if (typeof endpointType !== 'string')
    return `the endpoint type must be a string, found ${typeof endpointType}`;
  if (endpointType === '') return 'the endpoint type is empty';
  if (endpointType.length > 100)
    return `the endpoint type has ${endpointType.length} characters; at most 100 are allowed`;
  if (!endpointTypePattern.test(endpointType))
    return `the endpoint type "${endpointType}" is not valid: use the form Vendor.Type, letters, a dot and letters such as "Contoso.Thermostat" (letters, digits, ".", "-" and "_" may follow)`;
  return undefined;
}

const versionPattern =
  /^(?:[~^]?(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?|(?!v\d)[a-z][a-z0-9._-]*)$/u;

/**
 * Why `version` cannot be the version of the `@aio-connector/*` dependencies, or `undefined` when
 * it can: a version (`0.1.0`, `1.0.0-beta.2`), a caret or tilde range of one (`^0.1.0`), or a
 * dist-tag (`latest`, `next`).
 *
 * @example
 * ```ts
 * import { validateSdkVersion } from 'create-aio-connector';
 * validateSdkVersion('^0.1.0'); // undefined
 * validateSdkVersion('0.1'); // 'the SDK version "0.1" is not valid: ...'
 * ```
 */
export function validateSdkVersion(version: string): string | undefined {
  if (typeof version !== 'string')
    return `the SDK version must be a string, found ${typeof version}`;
  if (!versionPattern.test(version))
    return `the SDK version "${version}" is not valid: use a version such as "0.1.0", a range such as "^0.1.0", or a dist-tag such as "latest"`;
  return undefined;
}
