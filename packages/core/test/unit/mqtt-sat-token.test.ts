import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { makeTempDir } from '@aio-connector/testing';
import { jwtExpiry, readSatToken } from '../../src/mqtt/sat-token.ts';

function jwt(claims: object): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256', kid: 'k' })}.${part(claims)}.c2lnbmF0dXJl`;
}

describe('jwtExpiry', () => {
  it('reads the exp claim in ms', () => {
    expect(jwtExpiry(jwt({ exp: 1_900_000_000, aud: ['aio-internal'] }))).toBe(1_900_000_000_000);
    expect(jwtExpiry(`${jwt({ exp: 5 })}\n`)).toBe(5_000);
  });

  it.each([
    ['not a JWT', 'abc', /not a JWT/],
    ['a payload that is not JSON', 'a.bm90IGpzb24.c', /not JSON/],
    ['no exp', jwt({ sub: 'x' }), /no numeric "exp"/],
    ['a string exp', jwt({ exp: '5' }), /no numeric "exp"/],
  ])('refuses %s with ERR_AIO_MQTT_AUTH', (_name, text, message) => {
    expect(() => jwtExpiry(text)).toThrow(expect.objectContaining({ code: 'ERR_AIO_MQTT_AUTH' }));
    expect(() => jwtExpiry(text)).toThrow(message);
  });
});

describe('readSatToken', () => {
  it('returns the raw bytes and the expiry', async () => {
    const dir = await makeTempDir({ onTestFinished });
    const path = join(dir.path, 'token');
    const token = jwt({ exp: Math.floor(Date.now() / 1000) + 3600 });
    await writeFile(path, token);
    const read = await readSatToken(path);
    expect(read.bytes).toEqual(Buffer.from(token));
    expect(read.expiresAtInMs).toBeGreaterThan(Date.now());
  });

  it('refuses an expired token without putting the token in the message', async () => {
    const dir = await makeTempDir({ onTestFinished });
    const path = join(dir.path, 'token');
    const token = jwt({ exp: Math.floor(Date.now() / 1000) - 10 });
    await writeFile(path, token);
    const error = (await readSatToken(path).catch((e: unknown) => e)) as Error;
    expect(error).toMatchObject({
      code: 'ERR_AIO_MQTT_AUTH',
      message: expect.stringMatching(/expired/),
    });
    expect(error.message).not.toContain(token.split('.')[1]);
    expect(JSON.stringify((error as { details?: unknown }).details)).not.toContain(token);
  });

  it('refuses an empty or unreadable file', async () => {
    const dir = await makeTempDir({ onTestFinished });
    const empty = join(dir.path, 'empty');
    await writeFile(empty, '');
    await expect(readSatToken(empty)).rejects.toMatchObject({ code: 'ERR_AIO_MQTT_AUTH' });
    await expect(readSatToken(join(dir.path, 'missing'))).rejects.toMatchObject({
      code: 'ERR_AIO_MQTT_AUTH',
      message: expect.stringMatching(/cannot read/),
    });
  });
});
