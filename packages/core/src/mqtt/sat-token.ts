/**
 * Reading the Kubernetes service account token (K8S-SAT) used for the broker's enhanced
 * authentication. The token file is sent as is (its raw bytes); its JWT `exp` claim decides when to
 * re-authenticate.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { AioError } from '../errors.ts';
import { sleep } from '../retry.ts';

/** A token read from the SAT file. */
export interface SatToken {
  /** The file's bytes, sent as the Authentication Data. Never log them. */
  readonly bytes: Buffer;
  /** The JWT `exp` claim, in ms since the epoch. */
  readonly expiresAtInMs: number;
}

/**
 * Parses the `exp` claim of a JWT (in ms since the epoch). Throws an `ERR_AIO_MQTT_AUTH` error when
 * the text is not a JWT with a numeric `exp`. The messages never contain the token.
 *
 * @example
 * ```ts
 * const expiresAtInMs = jwtExpiry(token.toString('utf8'));
 * ```
 */
export function jwtExpiry(text: string, source = 'the token'): number {
  const parts = text.trim().split('.');
  if (parts.length !== 3 || parts[1] === undefined || parts[1] === '')
    throw new AioError(
      'ERR_AIO_MQTT_AUTH',
      `${source} is not a JWT (expected three dot-separated parts)`,
      {
        details: { source },
      },
    );
  let claims: unknown;
  try {
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch (error) {
    throw new AioError('ERR_AIO_MQTT_AUTH', `${source} is not a JWT: its payload is not JSON`, {
      cause: error instanceof Error ? new Error(error.message) : undefined,
      details: { source },
    });
  }
  const exp =
    typeof claims === 'object' && claims !== null ? (claims as { exp?: unknown }).exp : undefined;
  if (typeof exp !== 'number' || !Number.isFinite(exp))
    throw new AioError('ERR_AIO_MQTT_AUTH', `${source} has no numeric "exp" claim`, {
      details: { source },
    });
  return exp * 1000;
}

/**
 * Reads and checks the SAT file: it must be readable, be a JWT with an `exp` claim, and not be
 * expired. Read errors are retried a few times (Kubernetes replaces the file by swapping symlinks),
 * then reported as `ERR_AIO_MQTT_AUTH`.
 *
 * @example
 * ```ts
 * const token = await readSatToken('/etc/akri/secrets/broker-sat');
 * ```
 */
export async function readSatToken(
  path: string,
  options: { readonly now?: () => number; readonly signal?: AbortSignal } = {},
): Promise<SatToken> {
  const now = options.now ?? Date.now;
  let bytes: Buffer | undefined;
  for (let attempt = 1; bytes === undefined; attempt++) {
    try {
      bytes = await readFile(path);
    } catch (error) {
      if (attempt >= 10)
        throw new AioError('ERR_AIO_MQTT_AUTH', `cannot read the SAT file ${path}`, {
          cause: error,
          details: { path },
        });
      await sleep(100, options.signal);
    }
  }
  if (bytes.length === 0)
    throw new AioError('ERR_AIO_MQTT_AUTH', `the SAT file ${path} is empty`, { details: { path } });
  const expiresAtInMs = jwtExpiry(bytes.toString('utf8'), `the SAT file ${path}`);
  if (expiresAtInMs <= now())
    throw new AioError(
      'ERR_AIO_MQTT_AUTH',
      `the token in the SAT file ${path} expired at ${new Date(expiresAtInMs).toISOString()}`,
      { details: { path, expiredAt: new Date(expiresAtInMs).toISOString() } },
    );
  return { bytes, expiresAtInMs };
}
