/**
 * Test certificates made at test time with the `openssl` command line tool (node:crypto cannot
 * make X.509 certificates). Nothing is committed: every process makes its own set once, in a
 * temporary folder removed when the process exits.
 *
 * @module
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A certificate and its private key, as PEM text and as files. */
export interface CertificateAndKey {
  /** The certificate, PEM. */
  readonly cert: string;
  /** The private key (PKCS #8), PEM. */
  readonly key: string;
  /** Path of the certificate file. */
  readonly certPath: string;
  /** Path of the key file. */
  readonly keyPath: string;
}

/** A set of test certificates. */
export interface TestPki {
  /** The folder holding every file below. */
  readonly dir: string;
  /** The test CA certificate, PEM. Trust it to accept the server and client certificates. */
  readonly ca: string;
  /** Path of the CA certificate file. */
  readonly caPath: string;
  /** A server certificate signed by the CA, with SANs `127.0.0.1`, `::1` and `localhost`. */
  readonly server: CertificateAndKey;
  /** A client certificate (CN `aio-test-client`, clientAuth) signed by the CA. */
  readonly client: CertificateAndKey;
  /** Another CA, unrelated to {@link TestPki.ca}. */
  readonly otherCa: string;
  /** Path of the other CA certificate file. */
  readonly otherCaPath: string;
  /** A client certificate signed by the other CA: a server trusting only `ca` refuses it. */
  readonly wrongClient: CertificateAndKey;
  /** A server certificate signed by the other CA (for "untrusted server" tests). */
  readonly wrongServer: CertificateAndKey;
  /** An intermediate CA certificate signed by {@link TestPki.ca}, PEM. */
  readonly intermediateCa: string;
  /**
   * A client certificate signed by {@link TestPki.intermediateCa}: a server trusting only `ca`
   * accepts it when the client sends the intermediate along with it.
   */
  readonly intermediateClient: CertificateAndKey;
}

const opensslConfig = `
[req]
distinguished_name = dn
prompt = no
[dn]
CN = aio-test
[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, IP:::1, DNS:localhost
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[intermediate_ext]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[client_ext]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
`;

const keyArgs = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

let pending: Promise<TestPki> | undefined;

/**
 * Returns the test certificates of this process, making them on first use (about a second). The
 * same set is returned on every call.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:https';
 * import { generateTestPki } from '@aio-connector/testing';
 * const pki = await generateTestPki();
 * const server = createServer({ cert: pki.server.cert, key: pki.server.key, ca: pki.ca });
 * ```
 */
export function generateTestPki(): Promise<TestPki> {
  pending ??= makePki().catch((error: unknown) => {
    pending = undefined;
    throw error;
  });
  return pending;
}

async function makePki(): Promise<TestPki> {
  const dir = mkdtempSync(join(tmpdir(), 'aio-test-pki-'));
  process.once('exit', () => {
    rmSync(dir, { recursive: true, force: true });
  });
  const config = join(dir, 'openssl.cnf');
  await writeFile(config, opensslConfig);
  const path = (name: string): string => join(dir, name);

  const makeCa = async (name: string, cn: string): Promise<void> => {
    await openssl([
      'req',
      '-x509',
      '-config',
      config,
      '-extensions',
      'ca_ext',
      ...keyArgs,
      '-keyout',
      path(`${name}.key`),
      '-out',
      path(`${name}.pem`),
      '-days',
      '30',
      '-subj',
      `/CN=${cn}`,
    ]);
  };
  const makeLeaf = async (
    name: string,
    ca: string,
    cn: string,
    extensions: 'server_ext' | 'client_ext' | 'intermediate_ext',
  ): Promise<CertificateAndKey> => {
    const certPath = path(`${name}.pem`);
    const keyPath = path(`${name}.key`);
    await openssl([
      'req',
      '-new',
      '-config',
      config,
      ...keyArgs,
      '-keyout',
      keyPath,
      '-out',
      path(`${name}.csr`),
      '-subj',
      `/CN=${cn}`,
    ]);
    await openssl([
      'x509',
      '-req',
      '-in',
      path(`${name}.csr`),
      '-CA',
      path(`${ca}.pem`),
      '-CAkey',
      path(`${ca}.key`),
      '-set_serial',
      `0x${randomBytes(8).toString('hex')}`,
      '-days',
      '30',
      '-extfile',
      config,
      '-extensions',
      extensions,
      '-out',
      certPath,
    ]);
    return {
      cert: await readFile(certPath, 'utf8'),
      key: await readFile(keyPath, 'utf8'),
      certPath,
      keyPath,
    };
  };

  await Promise.all([makeCa('ca', 'AIO Test CA'), makeCa('other-ca', 'AIO Other Test CA')]);
  const [server, client, wrongClient, wrongServer, intermediate] = await Promise.all([
    makeLeaf('server', 'ca', 'localhost', 'server_ext'),
    makeLeaf('client', 'ca', 'aio-test-client', 'client_ext'),
    makeLeaf('wrong-client', 'other-ca', 'aio-test-client', 'client_ext'),
    makeLeaf('wrong-server', 'other-ca', 'localhost', 'server_ext'),
    makeLeaf('intermediate', 'ca', 'AIO Test Intermediate CA', 'intermediate_ext'),
  ]);
  const intermediateClient = await makeLeaf(
    'intermediate-client',
    'intermediate',
    'aio-test-intermediate-client',
    'client_ext',
  );
  return {
    dir,
    ca: await readFile(path('ca.pem'), 'utf8'),
    caPath: path('ca.pem'),
    server,
    client,
    otherCa: await readFile(path('other-ca.pem'), 'utf8'),
    otherCaPath: path('other-ca.pem'),
    wrongClient,
    wrongServer,
    intermediateCa: intermediate.cert,
    intermediateClient,
  };
}

async function openssl(args: readonly string[]): Promise<void> {
  try {
    await run('openssl', args, { timeout: 30_000 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    throw new Error(`openssl ${args[0] ?? ''} failed: ${stderr.trim() || String(error)}`, {
      cause: error,
    });
  }
}
