/**
 * Device inbound endpoint credentials and trust lists (CONTRACT §2.6): the secret names of the
 * endpoint's `authentication` block resolve to files under `DEVICE_ENDPOINT_CREDENTIALS_MOUNT_PATH`,
 * and `trustSettings.trustList` to a folder (or file) under
 * `DEVICE_ENDPOINT_TLS_TRUST_BUNDLE_CA_CERT_MOUNT_PATH`. Files are read on every call, so rotated
 * secrets are picked up, and secret values never appear in errors, `JSON.stringify` or
 * `util.inspect` output.
 *
 * @module
 */
import { inspect } from 'node:util';
import { ConfigError } from '../errors.ts';
import {
  extractPemCertificates,
  extractPemPrivateKey,
  joinInsideMount,
  pathKind,
  quote,
  readMountText,
  readPemBundle,
  resolveMountReadOptions,
  transientConfigError,
  validateRelativeSecretPath,
  withMountRetry,
  type MountReadOptions,
  type ResolvedMountReadOptions,
  type Where,
} from './mount-files.ts';

/** The authentication methods of a device inbound endpoint. */
export type EndpointAuthenticationMethod = 'Anonymous' | 'UsernamePassword' | 'Certificate';

/**
 * The `authentication` object of a device inbound endpoint, as in the ADR Device JSON. Only the
 * fields read here are listed; others are ignored.
 */
export interface EndpointAuthenticationInput {
  /** `Anonymous`, `UsernamePassword` or `Certificate` (case-insensitive). */
  readonly method?: string | null | undefined;
  readonly usernamePasswordCredentials?:
    | {
        readonly usernameSecretName?: string | null | undefined;
        readonly passwordSecretName?: string | null | undefined;
      }
    | null
    | undefined;
  readonly x509Credentials?:
    | {
        readonly certificateSecretName?: string | null | undefined;
        readonly intermediateCertificatesSecretName?: string | null | undefined;
        readonly keySecretName?: string | null | undefined;
      }
    | null
    | undefined;
}

/** The `trustSettings` object of a device inbound endpoint, as in the ADR Device JSON. */
export interface EndpointTrustSettingsInput {
  /** The name of the trust list: a folder (or file) in the device endpoint trust bundle mount. */
  readonly trustList?: string | null | undefined;
}

/** What {@link EndpointCredentialsReader.read} needs to know about one endpoint. */
export interface EndpointCredentialsRequest {
  /** The device name. */
  readonly deviceName: string;
  /** The inbound endpoint name. */
  readonly inboundEndpointName: string;
  /** The endpoint's `authentication`; absent means `Anonymous`. */
  readonly authentication?: EndpointAuthenticationInput | null | undefined;
  /** The endpoint's `trustSettings`. */
  readonly trustSettings?: EndpointTrustSettingsInput | null | undefined;
}

/** The trust list part shared by every credentials class. */
export interface TrustListInit {
  /** PEM certificates to trust for the endpoint's TLS server. */
  readonly trustList?: readonly string[] | undefined;
  /** Where the trust list was read from. */
  readonly trustListPath?: string | undefined;
}

const redacted = '[redacted]';

function freezeList(list: readonly string[] | undefined): readonly string[] | undefined {
  return list === undefined ? undefined : Object.freeze([...list]);
}

function trustSummary(trustList: readonly string[] | undefined, trustListPath: string | undefined) {
  return trustList === undefined ? {} : { trustListPath, trustListCertificates: trustList.length };
}

/**
 * Credentials of an endpoint that needs none (`method: 'Anonymous'`), with its trust list if any.
 *
 * @example
 * ```ts
 * import { AnonymousCredentials } from '@aio-connector/core';
 * const credentials = new AnonymousCredentials();
 * credentials.method; // 'Anonymous'
 * ```
 */
export class AnonymousCredentials {
  readonly method = 'Anonymous' as const;
  /** PEM certificates to trust for the endpoint's TLS server, if the endpoint has a trust list. */
  readonly trustList: readonly string[] | undefined;
  /** Where the trust list was read from. */
  readonly trustListPath: string | undefined;

  constructor(init: TrustListInit = {}) {
    this.trustList = freezeList(init.trustList);
    this.trustListPath = init.trustListPath;
    Object.freeze(this);
  }

  /** A summary for logs. */
  toJSON(): Record<string, unknown> {
    return { method: this.method, ...trustSummary(this.trustList, this.trustListPath) };
  }

  /** @internal */
  [inspect.custom](): string {
    return `AnonymousCredentials ${inspect(this.toJSON())}`;
  }
}

/** What {@link UsernamePasswordCredentials} is built from. */
export interface UsernamePasswordInit extends TrustListInit {
  readonly username: string;
  readonly password: string;
  readonly usernamePath?: string | undefined;
  readonly passwordPath?: string | undefined;
}

/**
 * Username and password credentials (`method: 'UsernamePassword'`). `password` is a getter over a
 * private field: it is left out of `JSON.stringify`, `util.inspect`, spreads and `Object.keys`.
 *
 * @example
 * ```ts
 * import { UsernamePasswordCredentials } from '@aio-connector/core';
 * const credentials = new UsernamePasswordCredentials({ username: 'u', password: 'p' });
 * const header = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
 * JSON.stringify(credentials); // {"method":"UsernamePassword","username":"u","password":"[redacted]"}
 * ```
 */
export class UsernamePasswordCredentials {
  readonly method = 'UsernamePassword' as const;
  /** The user name (the content of the username secret file, as is). */
  readonly username: string;
  /** Path of the username secret file. */
  readonly usernamePath: string | undefined;
  /** Path of the password secret file. */
  readonly passwordPath: string | undefined;
  /** PEM certificates to trust for the endpoint's TLS server, if the endpoint has a trust list. */
  readonly trustList: readonly string[] | undefined;
  /** Where the trust list was read from. */
  readonly trustListPath: string | undefined;
  readonly #password: string;

  constructor(init: UsernamePasswordInit) {
    if (typeof init.username !== 'string') throw new TypeError('username must be a string');
    if (typeof init.password !== 'string') throw new TypeError('password must be a string');
    this.username = init.username;
    this.#password = init.password;
    this.usernamePath = init.usernamePath;
    this.passwordPath = init.passwordPath;
    this.trustList = freezeList(init.trustList);
    this.trustListPath = init.trustListPath;
    Object.freeze(this);
  }

  /** The password (the content of the password secret file, as is). Never logged. */
  get password(): string {
    return this.#password;
  }

  /** A summary for logs, with the password redacted. */
  toJSON(): Record<string, unknown> {
    return {
      method: this.method,
      username: this.username,
      password: redacted,
      ...(this.usernamePath === undefined ? {} : { usernamePath: this.usernamePath }),
      ...(this.passwordPath === undefined ? {} : { passwordPath: this.passwordPath }),
      ...trustSummary(this.trustList, this.trustListPath),
    };
  }

  /** @internal */
  [inspect.custom](): string {
    return `UsernamePasswordCredentials ${inspect(this.toJSON())}`;
  }
}

/** What {@link CertificateCredentials} is built from. */
export interface CertificateInit extends TrustListInit {
  /** The client certificate chain, PEM. */
  readonly certificate: string;
  /** The client private key, PEM. */
  readonly key?: string | undefined;
  /** Intermediate certificates, PEM. */
  readonly intermediateCertificates?: string | undefined;
  readonly certificatePath?: string | undefined;
  readonly keyPath?: string | undefined;
  readonly intermediateCertificatesPath?: string | undefined;
}

/**
 * X.509 client certificate credentials (`method: 'Certificate'`). `key` is a getter over a private
 * field: it is left out of `JSON.stringify`, `util.inspect`, spreads and `Object.keys`.
 *
 * @example
 * ```ts
 * import { Agent } from 'undici';
 * import { ConnectorSettings } from '@aio-connector/core';
 * const settings = await ConnectorSettings.fromEnvironment();
 * const credentials = await settings.readEndpointCredentials({
 *   deviceName: 'my-device',
 *   inboundEndpointName: 'my-endpoint',
 *   authentication: { method: 'Certificate', x509Credentials: { certificateSecretName: 'x509/tls.crt', keySecretName: 'x509/tls.key' } },
 * });
 * if (credentials.method === 'Certificate') {
 *   const agent = new Agent({
 *     connect: {
 *       cert: credentials.certificate + (credentials.intermediateCertificates ?? ''),
 *       key: credentials.key,
 *       ca: credentials.trustList ? [...credentials.trustList] : undefined,
 *     },
 *   });
 * }
 * ```
 */
export class CertificateCredentials {
  readonly method = 'Certificate' as const;
  /** The client certificate chain, PEM (only `CERTIFICATE` blocks). */
  readonly certificate: string;
  /** Intermediate certificates, PEM, when the endpoint names them. */
  readonly intermediateCertificates: string | undefined;
  /** Path of the certificate secret file. */
  readonly certificatePath: string | undefined;
  /** Path of the key secret file (the certificate file when the key is bundled with it). */
  readonly keyPath: string | undefined;
  /** Path of the intermediate certificates secret file. */
  readonly intermediateCertificatesPath: string | undefined;
  /** PEM certificates to trust for the endpoint's TLS server, if the endpoint has a trust list. */
  readonly trustList: readonly string[] | undefined;
  /** Where the trust list was read from. */
  readonly trustListPath: string | undefined;
  readonly #key: string | undefined;

  constructor(init: CertificateInit) {
    if (typeof init.certificate !== 'string') throw new TypeError('certificate must be a string');
    if (init.key !== undefined && typeof init.key !== 'string')
      throw new TypeError('key must be a string');
    this.certificate = init.certificate;
    this.#key = init.key;
    this.intermediateCertificates = init.intermediateCertificates;
    this.certificatePath = init.certificatePath;
    this.keyPath = init.keyPath;
    this.intermediateCertificatesPath = init.intermediateCertificatesPath;
    this.trustList = freezeList(init.trustList);
    this.trustListPath = init.trustListPath;
    Object.freeze(this);
  }

  /** The client private key, PEM, when the endpoint names one. Never logged. */
  get key(): string | undefined {
    return this.#key;
  }

  /** A summary for logs, without the key. */
  toJSON(): Record<string, unknown> {
    return {
      method: this.method,
      certificatePath: this.certificatePath,
      ...(this.#key === undefined ? {} : { key: redacted, keyPath: this.keyPath }),
      ...(this.intermediateCertificates === undefined
        ? {}
        : { intermediateCertificatesPath: this.intermediateCertificatesPath }),
      ...trustSummary(this.trustList, this.trustListPath),
    };
  }

  /** @internal */
  [inspect.custom](): string {
    return `CertificateCredentials ${inspect(this.toJSON())}`;
  }
}

/** The credentials of one device inbound endpoint; narrow on `method`. */
export type EndpointCredentials =
  AnonymousCredentials | UsernamePasswordCredentials | CertificateCredentials;

/** Options of {@link EndpointCredentialsReader}. Every field is optional. */
export interface EndpointCredentialsReaderOptions extends Omit<MountReadOptions, 'signal'> {
  /**
   * The folder of the endpoint secrets (`DEVICE_ENDPOINT_CREDENTIALS_MOUNT_PATH`). Default: none;
   * then any endpoint that needs credentials is a `ConfigError`.
   */
  readonly credentialsMountPath?: string | undefined;
  /**
   * The folder of the endpoint trust lists (`DEVICE_ENDPOINT_TLS_TRUST_BUNDLE_CA_CERT_MOUNT_PATH`).
   * Default: none; then any endpoint with a trust list is a `ConfigError`.
   */
  readonly trustBundleMountPath?: string | undefined;
}

const credentialsMountVariable = 'DEVICE_ENDPOINT_CREDENTIALS_MOUNT_PATH';
const trustBundleMountVariable = 'DEVICE_ENDPOINT_TLS_TRUST_BUNDLE_CA_CERT_MOUNT_PATH';

function normalizeMethod(value: unknown, source: string): EndpointAuthenticationMethod {
  const field = 'authentication.method';
  if (typeof value === 'string') {
    switch (value.toLowerCase()) {
      case 'anonymous':
        return 'Anonymous';
      case 'usernamepassword':
        return 'UsernamePassword';
      case 'certificate':
        return 'Certificate';
    }
  }
  const problem =
    value === undefined || value === null
      ? 'is missing'
      : `must be "Anonymous", "UsernamePassword" or "Certificate", found ${quote(value)}`;
  throw new ConfigError(`${source}: field "${field}" ${problem}`, { source, field });
}

function objectField(
  parent: unknown,
  name: string,
  source: string,
  field: string,
): Record<string, unknown> | undefined {
  if (parent === undefined || parent === null) return undefined;
  const value = (parent as Record<string, unknown>)[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value))
    throw new ConfigError(`${source}: field "${field}" must be an object, found ${quote(value)}`, {
      source,
      field,
    });
  return value as Record<string, unknown>;
}

/**
 * Reads the credentials and trust list of device inbound endpoints from the Akri mounts.
 *
 * Secret names (`usernameSecretName`, `certificateSecretName`, ...) are paths relative to
 * `DEVICE_ENDPOINT_CREDENTIALS_MOUNT_PATH`; they are validated (relative, no `..`, `.` or empty
 * components, no backslash) before use. The trust list is the folder (or file)
 * `{trust bundle mount}/{trustSettings.trustList}`, falling back to the file
 * `{trust bundle mount}/{deviceName}_{inboundEndpointName}` that the .NET SDK reads. Every call
 * reads the files again (secrets rotate), under the mount read retry policy (10 attempts, 100 ms
 * apart, by default).
 *
 * @example
 * ```ts
 * import { EndpointCredentialsReader } from '@aio-connector/core';
 * const reader = new EndpointCredentialsReader({
 *   credentialsMountPath: '/etc/akri/secrets/device_endpoint_auth',
 * });
 * const credentials = await reader.read({
 *   deviceName: 'my-thermostat',
 *   inboundEndpointName: 'my-rest-endpoint',
 *   authentication: {
 *     method: 'UsernamePassword',
 *     usernamePasswordCredentials: {
 *       usernameSecretName: 'rest-server-secrets/username',
 *       passwordSecretName: 'rest-server-secrets/password',
 *     },
 *   },
 * });
 * if (credentials.method === 'UsernamePassword') console.log(credentials.username);
 * ```
 */
export class EndpointCredentialsReader {
  readonly #credentialsMountPath: string | undefined;
  readonly #trustBundleMountPath: string | undefined;
  readonly #readOptions: ResolvedMountReadOptions;

  constructor(options: EndpointCredentialsReaderOptions = {}) {
    if (typeof options !== 'object' || options === null)
      throw new TypeError(`options must be an object, received ${typeof options}`);
    const { credentialsMountPath, trustBundleMountPath } = options;
    if (credentialsMountPath !== undefined && typeof credentialsMountPath !== 'string')
      throw new TypeError('credentialsMountPath must be a string');
    if (trustBundleMountPath !== undefined && typeof trustBundleMountPath !== 'string')
      throw new TypeError('trustBundleMountPath must be a string');
    this.#credentialsMountPath = credentialsMountPath;
    this.#trustBundleMountPath = trustBundleMountPath;
    this.#readOptions = resolveMountReadOptions({
      ...(options.attempts === undefined ? {} : { attempts: options.attempts }),
      ...(options.intervalInMs === undefined ? {} : { intervalInMs: options.intervalInMs }),
      ...(options.logger === undefined ? {} : { logger: options.logger }),
    });
  }

  /** The credentials mount this reader uses, if any. */
  get credentialsMountPath(): string | undefined {
    return this.#credentialsMountPath;
  }

  /** The trust bundle mount this reader uses, if any. */
  get trustBundleMountPath(): string | undefined {
    return this.#trustBundleMountPath;
  }

  /**
   * Reads the credentials and trust list of one endpoint. Rejects with a `ConfigError` naming the
   * device, endpoint, field and path when something is missing or invalid (never the secret
   * values), and with an `ERR_AIO_ABORTED` error when `signal` aborts.
   */
  async read(
    request: EndpointCredentialsRequest,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<EndpointCredentials> {
    if (typeof request !== 'object' || request === null)
      throw new TypeError('request must be an object');
    const { deviceName, inboundEndpointName } = request;
    if (typeof deviceName !== 'string' || deviceName === '')
      throw new TypeError('request.deviceName must be a non-empty string');
    if (typeof inboundEndpointName !== 'string' || inboundEndpointName === '')
      throw new TypeError('request.inboundEndpointName must be a non-empty string');
    const readOptions = resolveMountReadOptions({
      attempts: this.#readOptions.attempts,
      intervalInMs: this.#readOptions.intervalInMs,
      logger: this.#readOptions.logger,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    return withMountRetry(
      `read credentials of ${deviceName}/${inboundEndpointName}`,
      () => this.#readOnce(request, readOptions.signal),
      readOptions,
    );
  }

  async #readOnce(
    request: EndpointCredentialsRequest,
    signal: AbortSignal | undefined,
  ): Promise<EndpointCredentials> {
    const source = `device ${request.deviceName} endpoint ${request.inboundEndpointName}`;
    const authentication =
      request.authentication === undefined || request.authentication === null
        ? undefined
        : (objectField(request, 'authentication', source, 'authentication') as
            EndpointAuthenticationInput | undefined);
    const method =
      authentication === undefined ? 'Anonymous' : normalizeMethod(authentication.method, source);
    const trust = await this.#readTrustList(request, source, signal);

    switch (method) {
      case 'Anonymous':
        return new AnonymousCredentials(trust);
      case 'UsernamePassword': {
        const block = 'authentication.usernamePasswordCredentials';
        const names = objectField(authentication, 'usernamePasswordCredentials', source, block);
        if (names === undefined)
          throw new ConfigError(
            `${source}: field "${block}" is missing; method UsernamePassword needs it`,
            { source, field: block },
          );
        const mount = this.#requireCredentialsMount(source, method);
        const usernamePath = joinInsideMount(mount, names['usernameSecretName'], {
          source,
          field: `${block}.usernameSecretName`,
        });
        const passwordPath = joinInsideMount(mount, names['passwordSecretName'], {
          source,
          field: `${block}.passwordSecretName`,
        });
        const username = await readMountText(
          usernamePath,
          { source, field: `${block}.usernameSecretName` },
          signal,
        );
        const password = await readMountText(
          passwordPath,
          { source, field: `${block}.passwordSecretName` },
          signal,
        );
        return new UsernamePasswordCredentials({
          username,
          password,
          usernamePath,
          passwordPath,
          ...trust,
        });
      }
      case 'Certificate': {
        const block = 'authentication.x509Credentials';
        const names = objectField(authentication, 'x509Credentials', source, block);
        if (names === undefined)
          throw new ConfigError(
            `${source}: field "${block}" is missing; method Certificate needs it`,
            { source, field: block },
          );
        const mount = this.#requireCredentialsMount(source, method);
        const certificateWhere = { source, field: `${block}.certificateSecretName` };
        const certificatePath = joinInsideMount(
          mount,
          names['certificateSecretName'],
          certificateWhere,
        );
        const keyName = names['keySecretName'];
        const keyWhere = { source, field: `${block}.keySecretName` };
        const keyPath =
          keyName === undefined || keyName === null
            ? undefined
            : joinInsideMount(mount, keyName, keyWhere);
        const intermediatesName = names['intermediateCertificatesSecretName'];
        const intermediatesWhere = { source, field: `${block}.intermediateCertificatesSecretName` };
        const intermediatesPath =
          intermediatesName === undefined || intermediatesName === null
            ? undefined
            : joinInsideMount(mount, intermediatesName, intermediatesWhere);

        const certificateText = await readMountText(certificatePath, certificateWhere, signal);
        const certificate = certificatesOf(certificateText, certificatePath, certificateWhere);
        let key: string | undefined;
        let resolvedKeyPath = keyPath;
        if (keyPath !== undefined) {
          const keyText = await readMountText(keyPath, keyWhere, signal);
          key = extractPemPrivateKey(keyText);
          if (key === undefined) throw noContent(keyText, keyPath, keyWhere, 'PEM private key');
        } else {
          // a certificate secret may carry its key (a combined PEM)
          key = extractPemPrivateKey(certificateText);
          if (key !== undefined) resolvedKeyPath = certificatePath;
        }
        let intermediateCertificates: string | undefined;
        if (intermediatesPath !== undefined) {
          const text = await readMountText(intermediatesPath, intermediatesWhere, signal);
          intermediateCertificates = certificatesOf(text, intermediatesPath, intermediatesWhere);
        }
        return new CertificateCredentials({
          certificate,
          key,
          intermediateCertificates,
          certificatePath,
          keyPath: resolvedKeyPath,
          intermediateCertificatesPath: intermediatesPath,
          ...trust,
        });
      }
    }
  }

  #requireCredentialsMount(source: string, method: EndpointAuthenticationMethod): string {
    const mount = this.#credentialsMountPath;
    if (mount === undefined)
      throw new ConfigError(
        `${credentialsMountVariable} is not set, but ${source} uses ${method} authentication`,
        { source: credentialsMountVariable },
      );
    return mount;
  }

  async #readTrustList(
    request: EndpointCredentialsRequest,
    source: string,
    signal: AbortSignal | undefined,
  ): Promise<TrustListInit> {
    const field = 'trustSettings.trustList';
    const settings = objectField(request, 'trustSettings', source, 'trustSettings');
    const name = settings?.['trustList'];
    const hasName = name !== undefined && name !== null && name !== '';
    const mount = this.#trustBundleMountPath;
    const fallbackName = `${request.deviceName}_${request.inboundEndpointName}`;
    const fallback =
      mount !== undefined && isSingleComponent(fallbackName)
        ? joinInsideMount(mount, fallbackName, { source, field })
        : undefined;

    if (!hasName) {
      if (fallback === undefined || (await pathKind(fallback)) === undefined) return {};
      const trustList = await readPemBundle(fallback, { source, field }, signal);
      return { trustList, trustListPath: fallback };
    }
    if (mount === undefined)
      throw new ConfigError(
        `${trustBundleMountVariable} is not set, but ${source} has the trust list ${quote(name)}`,
        { source: trustBundleMountVariable },
      );
    const path = joinInsideMount(mount, name, { source, field });
    if ((await pathKind(path)) === undefined && fallback !== undefined) {
      if ((await pathKind(fallback)) !== undefined) {
        const trustList = await readPemBundle(fallback, { source, field }, signal);
        return { trustList, trustListPath: fallback };
      }
    }
    const trustList = await readPemBundle(path, { source, field }, signal);
    return { trustList, trustListPath: path };
  }
}

function isSingleComponent(name: string): boolean {
  try {
    return validateRelativeSecretPath(name, { source: 'name' }).length === 1;
  } catch {
    return false;
  }
}

function noContent(text: string, path: string, where: Where, what: string): ConfigError {
  const message = `${where.source}: field "${where.field ?? ''}": "${path}" holds no ${what}`;
  const options = {
    source: where.source,
    ...(where.field === undefined ? {} : { field: where.field }),
    details: { path },
  };
  // an empty file may still be being written; anything else is final
  return text.trim() === ''
    ? transientConfigError(message, options)
    : new ConfigError(message, options);
}

function certificatesOf(text: string, path: string, where: Where): string {
  const certificates = extractPemCertificates(text, where);
  if (certificates.length === 0) throw noContent(text, path, where, 'PEM certificate');
  return certificates.join('');
}
