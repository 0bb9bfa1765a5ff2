import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AnonymousCredentials,
  CertificateCredentials,
  ConfigError,
  ConnectorSettings,
  EndpointCredentialsReader,
  UsernamePasswordCredentials,
  createJsonLogger,
  isAioError,
  type EndpointCredentials,
  type EndpointCredentialsRequest,
} from '@aio-connector/core';
import { certificateA, certificateB, certificateC } from '../runtime-test-certificates.ts';

const mountFiles = fileURLToPath(
  new URL('../../../../../shared/aio/mount-files/', import.meta.url),
);
const haveFixtures = existsSync(mountFiles);
if (!haveFixtures)
  console.warn(`skipping the official trust bundle fixture test: ${mountFiles} is absent`);

let temp: string[] = [];
afterEach(async () => {
  for (const dir of temp) await rm(dir, { recursive: true, force: true });
  temp = [];
});

interface Mounts {
  readonly root: string;
  readonly credentials: string;
  readonly trust: string;
  readonly reader: EndpointCredentialsReader;
  write(relative: string, content: string): Promise<string>;
}

async function mounts(options: { attempts?: number } = { attempts: 1 }): Promise<Mounts> {
  const root = await mkdtemp(join(tmpdir(), 'aio-credentials-'));
  temp.push(root);
  const credentials = join(root, 'device_endpoint_auth');
  const trust = join(root, 'device_endpoint_tls_trust_bundle');
  await mkdir(credentials);
  await mkdir(trust);
  return {
    root,
    credentials,
    trust,
    reader: new EndpointCredentialsReader({
      credentialsMountPath: credentials,
      trustBundleMountPath: trust,
      ...options,
    }),
    async write(relative, content) {
      const path = join(root, relative);
      await mkdir(join(path, '..'), { recursive: true });
      await writeFile(path, content);
      return path;
    },
  };
}

const userPass = (usernameSecretName: string, passwordSecretName: string) => ({
  method: 'UsernamePassword',
  usernamePasswordCredentials: { usernameSecretName, passwordSecretName },
});

const device = { deviceName: 'my-thermostat', inboundEndpointName: 'my-rest-endpoint' } as const;

async function configError(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a ConfigError');
    },
    (e: unknown) => e,
  );
  if (!(error instanceof ConfigError)) throw error;
  expect(error.code).toBe('ERR_AIO_CONFIG');
  return error;
}

function newKey(): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
}

describe('EndpointCredentialsReader', () => {
  it('returns Anonymous when the endpoint has no authentication', async () => {
    const m = await mounts();
    const credentials = await m.reader.read({ ...device });
    expect(credentials).toBeInstanceOf(AnonymousCredentials);
    expect(credentials.method).toBe('Anonymous');
    expect(credentials.trustList).toBeUndefined();
    const explicit = await m.reader.read({ ...device, authentication: { method: 'anonymous' } });
    expect(explicit.method).toBe('Anonymous');
  });

  it('reads username and password, and sees rotated values on the next call', async () => {
    const m = await mounts();
    const usernamePath = await m.write('device_endpoint_auth/rest-secrets/username', 'admin');
    const passwordPath = await m.write('device_endpoint_auth/rest-secrets/password', 'p@ss-1');
    const request: EndpointCredentialsRequest = {
      ...device,
      authentication: userPass('rest-secrets/username', 'rest-secrets/password'),
    };
    const first = await m.reader.read(request);
    expect(first.method).toBe('UsernamePassword');
    if (first.method !== 'UsernamePassword') throw new Error('narrowing');
    expect(first.username).toBe('admin');
    expect(first.password).toBe('p@ss-1');
    expect(first.usernamePath).toBe(usernamePath);
    expect(first.passwordPath).toBe(passwordPath);

    await writeFile(passwordPath, 'p@ss-2');
    await writeFile(usernamePath, 'operator');
    const second = (await m.reader.read(request)) as UsernamePasswordCredentials;
    expect(second.username).toBe('operator');
    expect(second.password).toBe('p@ss-2');
  });

  it('follows unified secretsync names in an operator-chosen subfolder', async () => {
    const m = await mounts();
    await m.write('device_endpoint_auth/akri-xyz/my-thermostat_my-rest-endpoint_username', 'u');
    await m.write('device_endpoint_auth/akri-xyz/my-thermostat_my-rest-endpoint_password', 'p');
    const credentials = (await m.reader.read({
      ...device,
      authentication: userPass(
        'akri-xyz/my-thermostat_my-rest-endpoint_username',
        'akri-xyz/my-thermostat_my-rest-endpoint_password',
      ),
    })) as UsernamePasswordCredentials;
    expect([credentials.username, credentials.password]).toEqual(['u', 'p']);
  });

  it('reads a certificate chain, key and intermediates with their paths', async () => {
    const m = await mounts();
    const key = newKey();
    const certificatePath = await m.write('device_endpoint_auth/x509/tls.crt', certificateA);
    const keyPath = await m.write('device_endpoint_auth/x509/tls.key', key);
    const intermediatesPath = await m.write(
      'device_endpoint_auth/x509/intermediates.pem',
      `${certificateB}${certificateC}`,
    );
    const credentials = await m.reader.read({
      ...device,
      authentication: {
        method: 'Certificate',
        x509Credentials: {
          certificateSecretName: 'x509/tls.crt',
          keySecretName: 'x509/tls.key',
          intermediateCertificatesSecretName: 'x509/intermediates.pem',
        },
      },
    });
    expect(credentials).toBeInstanceOf(CertificateCredentials);
    if (credentials.method !== 'Certificate') throw new Error('narrowing');
    expect(credentials.certificate).toBe(certificateA);
    expect(credentials.key).toBe(key);
    expect(credentials.intermediateCertificates).toBe(`${certificateB}${certificateC}`);
    expect(credentials.certificatePath).toBe(certificatePath);
    expect(credentials.keyPath).toBe(keyPath);
    expect(credentials.intermediateCertificatesPath).toBe(intermediatesPath);

    // rotation
    const rotatedKey = newKey();
    await writeFile(certificatePath, certificateC);
    await writeFile(keyPath, rotatedKey);
    const rotated = (await m.reader.read({
      ...device,
      authentication: {
        method: 'Certificate',
        x509Credentials: { certificateSecretName: 'x509/tls.crt', keySecretName: 'x509/tls.key' },
      },
    })) as CertificateCredentials;
    expect(rotated.certificate).toBe(certificateC);
    expect(rotated.key).toBe(rotatedKey);
    expect(rotated.intermediateCertificates).toBeUndefined();
  });

  it('takes the key from a combined certificate file when no key secret is named', async () => {
    const m = await mounts();
    const key = newKey();
    const path = await m.write('device_endpoint_auth/x509/combined.pem', `${certificateA}${key}`);
    const credentials = (await m.reader.read({
      ...device,
      authentication: {
        method: 'Certificate',
        x509Credentials: { certificateSecretName: 'x509/combined.pem' },
      },
    })) as CertificateCredentials;
    expect(credentials.certificate).toBe(certificateA);
    expect(credentials.certificate).not.toContain('PRIVATE KEY');
    expect(credentials.key).toBe(key);
    expect(credentials.keyPath).toBe(path);
  });

  it('rejects certificate and key files without PEM content, without quoting them', async () => {
    const m = await mounts();
    await m.write('device_endpoint_auth/x509/tls.crt', 'not-a-cert SECRETISH');
    await m.write('device_endpoint_auth/x509/good.crt', certificateA);
    await m.write('device_endpoint_auth/x509/tls.key', 'HUNTER2-NOT-A-KEY');
    let error = await configError(
      m.reader.read({
        ...device,
        authentication: {
          method: 'Certificate',
          x509Credentials: { certificateSecretName: 'x509/tls.crt' },
        },
      }),
    );
    expect(error.message).toBe(
      `device my-thermostat endpoint my-rest-endpoint: field "authentication.x509Credentials.certificateSecretName": "${join(m.credentials, 'x509/tls.crt')}" holds no PEM certificate`,
    );
    error = await configError(
      m.reader.read({
        ...device,
        authentication: {
          method: 'Certificate',
          x509Credentials: {
            certificateSecretName: 'x509/good.crt',
            keySecretName: 'x509/tls.key',
          },
        },
      }),
    );
    expect(error.message).toContain('holds no PEM private key');
    expect(error.field).toBe('authentication.x509Credentials.keySecretName');
    expect(error.message).not.toContain('HUNTER2');
    expect(JSON.stringify(error.details)).not.toContain('HUNTER2');
  });

  it.each([
    ['../../etc/shadow', 'must not contain a ".." path component'],
    ['/etc/shadow', 'must be a relative path, not an absolute one'],
    ['secrets//password', 'must not contain an empty path component'],
    ['secrets\\password', 'must not contain a backslash'],
  ])('rejects the secret name %j before touching the file system', async (name, problem) => {
    const m = await mounts();
    const error = await configError(
      m.reader.read({ ...device, authentication: userPass('ok/username', name) }),
    );
    expect(error.message).toBe(
      `device my-thermostat endpoint my-rest-endpoint: field "authentication.usernamePasswordCredentials.passwordSecretName" ${problem}, found ${JSON.stringify(name)}`,
    );
    expect(error.source).toBe('device my-thermostat endpoint my-rest-endpoint');
    expect(error.field).toBe('authentication.usernamePasswordCredentials.passwordSecretName');
  });

  it('rejects a missing credentials mount, missing blocks and unknown methods', async () => {
    const reader = new EndpointCredentialsReader({ attempts: 1 });
    let error = await configError(
      reader.read({ ...device, authentication: userPass('a/u', 'a/p') }),
    );
    expect(error.message).toBe(
      'DEVICE_ENDPOINT_CREDENTIALS_MOUNT_PATH is not set, but device my-thermostat endpoint my-rest-endpoint uses UsernamePassword authentication',
    );
    expect(error.source).toBe('DEVICE_ENDPOINT_CREDENTIALS_MOUNT_PATH');
    // Anonymous needs no mount
    expect((await reader.read({ ...device })).method).toBe('Anonymous');

    const m = await mounts();
    error = await configError(
      m.reader.read({ ...device, authentication: { method: 'Certificate' } }),
    );
    expect(error.message).toBe(
      'device my-thermostat endpoint my-rest-endpoint: field "authentication.x509Credentials" is missing; method Certificate needs it',
    );
    error = await configError(m.reader.read({ ...device, authentication: { method: 'Kerberos' } }));
    expect(error.message).toBe(
      'device my-thermostat endpoint my-rest-endpoint: field "authentication.method" must be "Anonymous", "UsernamePassword" or "Certificate", found "Kerberos"',
    );
    error = await configError(m.reader.read({ ...device, authentication: {} }));
    expect(error.field).toBe('authentication.method');
  });

  it('reports a missing secret file with its path after the retries', async () => {
    const m = await mounts({ attempts: 2 });
    await m.write('device_endpoint_auth/s/username', 'u');
    const error = await configError(
      m.reader.read({ ...device, authentication: userPass('s/username', 's/password') }),
    );
    expect(error.message).toBe(
      `device my-thermostat endpoint my-rest-endpoint: field "authentication.usernamePasswordCredentials.passwordSecretName": "${join(m.credentials, 's/password')}" does not exist`,
    );
  });

  it('waits for a secret that appears while retrying', async () => {
    const root = await mkdtemp(join(tmpdir(), 'aio-credentials-'));
    temp.push(root);
    await mkdir(join(root, 's'));
    await writeFile(join(root, 's', 'username'), 'u');
    let retries = 0;
    const logger = createJsonLogger({
      level: 'debug',
      write: (line) => {
        if (line.includes('retrying after failure') && ++retries === 1)
          void writeFile(join(root, 's', 'password'), 'late');
      },
    });
    const reader = new EndpointCredentialsReader({
      credentialsMountPath: root,
      intervalInMs: 20,
      logger,
    });
    const credentials = (await reader.read({
      ...device,
      authentication: userPass('s/username', 's/password'),
    })) as UsernamePasswordCredentials;
    expect(credentials.password).toBe('late');
    expect(retries).toBeGreaterThanOrEqual(1);
  });

  it('aborts through the signal', async () => {
    const m = await mounts({ attempts: 10 });
    const controller = new AbortController();
    controller.abort();
    const error = await m.reader
      .read({ ...device, authentication: userPass('s/u', 's/p') }, { signal: controller.signal })
      .catch((e: unknown) => e);
    expect(isAioError(error) && error.code).toBe('ERR_AIO_ABORTED');
  });
});

describe('trust lists', () => {
  it('reads the trustSettings.trustList folder, skipping projection artifacts', async () => {
    const m = await mounts();
    const generation = join(m.trust, 'my-trust-list', '..2026_01_01');
    await mkdir(generation, { recursive: true });
    await writeFile(join(generation, 'ca.crt'), `${certificateA}${certificateB}`);
    await symlink('..2026_01_01', join(m.trust, 'my-trust-list', '..data'));
    await symlink('..data/ca.crt', join(m.trust, 'my-trust-list', 'ca.crt'));
    const credentials = await m.reader.read({
      ...device,
      trustSettings: { trustList: 'my-trust-list' },
    });
    expect(credentials.trustList).toEqual([certificateA, certificateB]);
    expect(credentials.trustListPath).toBe(join(m.trust, 'my-trust-list'));
  });

  it('accepts a trust list that is a file', async () => {
    const m = await mounts();
    await m.write('device_endpoint_tls_trust_bundle/list.pem', certificateC);
    const credentials = await m.reader.read({
      ...device,
      trustSettings: { trustList: 'list.pem' },
    });
    expect(credentials.trustList).toEqual([certificateC]);
  });

  it('falls back to the .NET file {deviceName}_{inboundEndpointName}', async () => {
    const m = await mounts();
    const fallback = await m.write(
      'device_endpoint_tls_trust_bundle/my-thermostat_my-rest-endpoint',
      certificateB,
    );
    const withoutName = await m.reader.read({ ...device });
    expect(withoutName.trustList).toEqual([certificateB]);
    expect(withoutName.trustListPath).toBe(fallback);
    const withMissingName = await m.reader.read({
      ...device,
      trustSettings: { trustList: 'not-mounted' },
    });
    expect(withMissingName.trustList).toEqual([certificateB]);
  });

  it('rejects a trust list that is missing, empty or outside the mount', async () => {
    const m = await mounts();
    let error = await configError(
      m.reader.read({ ...device, trustSettings: { trustList: 'absent' } }),
    );
    expect(error.message).toBe(
      `device my-thermostat endpoint my-rest-endpoint: field "trustSettings.trustList": "${join(m.trust, 'absent')}" does not exist`,
    );
    await m.write('device_endpoint_tls_trust_bundle/bad/readme.txt', 'no certificates here');
    error = await configError(m.reader.read({ ...device, trustSettings: { trustList: 'bad' } }));
    expect(error.message).toContain('readme.txt" holds no PEM certificate');
    error = await configError(m.reader.read({ ...device, trustSettings: { trustList: '../x' } }));
    expect(error.field).toBe('trustSettings.trustList');
    const noMount = new EndpointCredentialsReader({ attempts: 1 });
    error = await configError(noMount.read({ ...device, trustSettings: { trustList: 'list' } }));
    expect(error.message).toBe(
      'DEVICE_ENDPOINT_TLS_TRUST_BUNDLE_CA_CERT_MOUNT_PATH is not set, but device my-thermostat endpoint my-rest-endpoint has the trust list "list"',
    );
  });

  it.skipIf(!haveFixtures)('reads the official trust bundle fixture as a trust list', async () => {
    const m = await mounts();
    await cp(join(mountFiles, 'trust-bundle'), join(m.trust, 'official'), { recursive: true });
    const credentials = await m.reader.read({
      ...device,
      trustSettings: { trustList: 'official' },
    });
    expect(credentials.trustList).toHaveLength(1);
    expect(credentials.trustList![0]).toMatch(/^-----BEGIN CERTIFICATE-----\nMIIBpDCCAUqg/);
  });
});

describe('secrets stay out of output', () => {
  async function allMethods(): Promise<EndpointCredentials[]> {
    const m = await mounts();
    await m.write('device_endpoint_auth/s/username', 'visible-user');
    await m.write('device_endpoint_auth/s/password', 'PASSWORD-SECRET-123');
    await m.write('device_endpoint_auth/x/tls.crt', certificateA);
    await m.write('device_endpoint_auth/x/tls.key', newKey());
    await m.write('device_endpoint_tls_trust_bundle/list', certificateB);
    return [
      await m.reader.read({
        ...device,
        authentication: userPass('s/username', 's/password'),
        trustSettings: { trustList: 'list' },
      }),
      await m.reader.read({
        ...device,
        authentication: {
          method: 'Certificate',
          x509Credentials: { certificateSecretName: 'x/tls.crt', keySecretName: 'x/tls.key' },
        },
      }),
    ];
  }

  it('JSON.stringify, util.inspect, spreads and loggers never show the password or key', async () => {
    const [userPassword, certificate] = await allMethods();
    const lines: string[] = [];
    const logger = createJsonLogger({ level: 'trace', write: (line) => lines.push(line) });
    for (const credentials of [userPassword!, certificate!]) {
      logger.info({ endpoint: credentials }, 'connecting');
      const outputs = [
        JSON.stringify(credentials),
        JSON.stringify({ nested: { credentials } }),
        inspect(credentials),
        inspect(credentials, { showHidden: true, depth: 10, getters: true }),
        inspect({ credentials }, { showHidden: true, depth: 10 }),
        // eslint-disable-next-line @typescript-eslint/no-misused-spread -- what a careless spread shows
        JSON.stringify({ ...credentials }),
        String(Object.keys(credentials)),
        inspect(Object.entries(credentials)),
      ];
      for (const output of [...outputs, ...lines]) {
        expect(output).not.toContain('PASSWORD-SECRET-123');
        expect(output).not.toContain('PRIVATE KEY');
      }
    }
    expect(JSON.parse(JSON.stringify(userPassword))).toEqual({
      method: 'UsernamePassword',
      username: 'visible-user',
      password: '[redacted]',
      usernamePath: expect.stringMatching(/s\/username$/),
      passwordPath: expect.stringMatching(/s\/password$/),
      trustListPath: expect.stringMatching(/list$/),
      trustListCertificates: 1,
    });
    expect(inspect(userPassword)).toMatch(/^UsernamePasswordCredentials \{/);
    expect(inspect(certificate)).toContain("key: '[redacted]'");
    // the values are still there for the code that needs them
    expect((userPassword as UsernamePasswordCredentials).password).toBe('PASSWORD-SECRET-123');
    expect((certificate as CertificateCredentials).key).toMatch(/PRIVATE KEY/);
  });

  it('credentials objects are frozen', () => {
    const credentials = new UsernamePasswordCredentials({ username: 'u', password: 'p' });
    expect(Object.isFrozen(credentials)).toBe(true);
    expect(() => {
      (credentials as unknown as { username: string }).username = 'x';
    }).toThrow(TypeError);
  });
});

describe('ConnectorSettings.readEndpointCredentials', () => {
  it('uses the DEVICE_ENDPOINT_* mounts of the pod', async () => {
    const m = await mounts();
    const config = join(m.root, 'config');
    await mkdir(config);
    await writeFile(join(config, 'MQTT_CONNECTION_CONFIGURATION'), '{"host":"broker:1883"}');
    await m.write('device_endpoint_auth/s/username', 'u');
    await m.write('device_endpoint_auth/s/password', 'p');
    await m.write('device_endpoint_tls_trust_bundle/my-thermostat_my-rest-endpoint', certificateA);
    const settings = await ConnectorSettings.fromEnvironment({
      CONNECTOR_ID: 'c',
      CONNECTOR_NAMESPACE: 'n',
      CONNECTOR_CONFIGURATION_MOUNT_PATH: config,
      ADR_RESOURCES_NAME_MOUNT_PATH: m.root,
      DEVICE_ENDPOINT_CREDENTIALS_MOUNT_PATH: m.credentials,
      DEVICE_ENDPOINT_TLS_TRUST_BUNDLE_CA_CERT_MOUNT_PATH: m.trust,
    });
    const credentials = (await settings.readEndpointCredentials({
      ...device,
      authentication: userPass('s/username', 's/password'),
    })) as UsernamePasswordCredentials;
    expect([credentials.username, credentials.password]).toEqual(['u', 'p']);
    expect(credentials.trustList).toEqual([certificateA]);
  });
});
