import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isAioError } from '@aio-connector/core';
import {
  extractPemCertificates,
  extractPemPrivateKey,
  isProjectionArtifact,
  joinInsideMount,
  resolveMountReadOptions,
  validateRelativeSecretPath,
} from '../../src/runtime/mount-files.ts';
import { certificateA, certificateB } from '../runtime-test-certificates.ts';

const where = { source: 'device d endpoint e', field: 'authentication.x' };

describe('secret names', () => {
  it('accepts relative paths of normal components', () => {
    expect(validateRelativeSecretPath('rest-secrets/username', where)).toEqual([
      'rest-secrets',
      'username',
    ]);
    expect(validateRelativeSecretPath('sub/d_e_password', where)).toEqual(['sub', 'd_e_password']);
    expect(joinInsideMount('/etc/akri/secrets/auth', 'a/b', where)).toBe(
      '/etc/akri/secrets/auth/a/b',
    );
  });

  it.each([
    ['/etc/passwd', 'must be a relative path, not an absolute one'],
    ['../other/secret', 'must not contain a ".." path component'],
    ['a/../../b', 'must not contain a ".." path component'],
    ['a//b', 'must not contain an empty path component'],
    ['a/b/', 'must not contain an empty path component'],
    ['./a', 'must not contain a "." path component'],
    ['a\\..\\b', 'must not contain a backslash'],
    ['', 'must not be empty'],
    ['a\0b', 'must not contain a NUL character'],
  ])('rejects %j', (name, problem) => {
    try {
      joinInsideMount('/mnt', name, where);
      expect.unreachable();
    } catch (error) {
      expect(isAioError(error) && error.code).toBe('ERR_AIO_CONFIG');
      expect((error as Error).message).toBe(
        `device d endpoint e: field "authentication.x" ${problem}, found ${JSON.stringify(name)}`,
      );
      expect(error).toMatchObject({ source: 'device d endpoint e', field: 'authentication.x' });
    }
  });

  it('rejects names that are not strings', () => {
    expect(() => validateRelativeSecretPath(42, where)).toThrow(/must be a string, found 42/);
    expect(() => validateRelativeSecretPath(undefined, where)).toThrow(
      /must be a string, found nothing/,
    );
  });

  it('recognises Kubernetes projection artifacts', () => {
    expect(isProjectionArtifact('..data')).toBe(true);
    expect(isProjectionArtifact('..2025_22_7')).toBe(true);
    expect(isProjectionArtifact('ca.crt')).toBe(false);
    expect(isProjectionArtifact('.hidden')).toBe(false);
  });
});

describe('PEM', () => {
  it('extracts every certificate, ignoring text around them and CRLF line endings', () => {
    const text = `Bag Attributes\n  localKeyID: 01\nsubject=CN=a\n\n${certificateA}\n# comment\n${certificateB.replace(/\n/g, '\r\n')}`;
    const found = extractPemCertificates(text, where);
    expect(found).toEqual([certificateA, certificateB]);
  });

  it('returns nothing for text without certificates', () => {
    expect(extractPemCertificates('hello', where)).toEqual([]);
  });

  it('rejects a corrupt certificate block without quoting it', () => {
    const corrupt = certificateA.replace(/\n[A-Za-z0-9+/]{20}/, '\n!!!!corrupted-bytes!');
    expect(() => extractPemCertificates(`${certificateB}${corrupt}`, where)).toThrow(
      'device d endpoint e: field "authentication.x": certificate 2 is not a valid X.509 certificate',
    );
    const truncated = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n';
    expect(() => extractPemCertificates(truncated, where)).toThrow(
      /certificate 1 is not a valid X.509 certificate/,
    );
  });

  it('extracts a private key block of any PKCS#1/#8/SEC1 label', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const sec1 = privateKey.export({ type: 'sec1', format: 'pem' }) as string;
    expect(extractPemPrivateKey(`${certificateA}${pkcs8}`)).toBe(pkcs8);
    expect(extractPemPrivateKey(sec1)).toBe(sec1);
    expect(extractPemPrivateKey(certificateA)).toBeUndefined();
  });
});

describe('mount read options', () => {
  it('defaults to 10 attempts 100 ms apart and checks values', () => {
    expect(resolveMountReadOptions()).toMatchObject({ attempts: 10, intervalInMs: 100 });
    expect(() => resolveMountReadOptions({ attempts: 0 })).toThrow(RangeError);
    expect(() => resolveMountReadOptions({ attempts: 1.5 })).toThrow(RangeError);
    expect(() => resolveMountReadOptions({ intervalInMs: -1 })).toThrow(RangeError);
    expect(() => resolveMountReadOptions({ attempts: '3' as unknown as number })).toThrow(
      TypeError,
    );
    expect(() => resolveMountReadOptions({ signal: {} as unknown as AbortSignal })).toThrow(
      TypeError,
    );
  });
});
