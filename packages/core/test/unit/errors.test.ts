import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AioError, ConfigError, ProtocolError, errorCodes, isAioError } from '@aio-connector/core';

const docs = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');
const documented = new Set([...docs.matchAll(/^\| `(ERR_AIO_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]));

describe('errors', () => {
  it('docs/errors.md lists exactly the codes the SDK defines', () => {
    expect([...documented].sort()).toEqual(Object.keys(errorCodes).sort());
  });

  it('isAioError recognises errors by brand, not by prototype chain', () => {
    const error = new ConfigError('bad', { source: 'CONNECTOR_ID' });
    expect(isAioError(error)).toBe(true);
    expect(error.code).toBe('ERR_AIO_CONFIG');
    expect(error.source).toBe('CONNECTOR_ID');
    // an error from a duplicate install: same brand symbol, different class
    const foreign = Object.create(null) as Record<symbol, unknown>;
    Object.defineProperty(foreign, Symbol.for('aio-connector-sdk.error'), { value: true });
    expect(isAioError(foreign)).toBe(true);
    expect(isAioError(new Error('x'))).toBe(false);
    expect(isAioError(null)).toBe(false);
    expect(isAioError({ code: 'ERR_AIO_CONFIG' })).toBe(false);
  });

  it('keeps the cause and freezes details', () => {
    const cause = new Error('root');
    const error = new AioError('ERR_AIO_TIMEOUT', 'slow', {
      cause,
      retryable: true,
      details: { a: 1 },
    });
    expect(error.cause).toBe(cause);
    expect(error.retryable).toBe(true);
    expect(Object.isFrozen(error.details)).toBe(true);
  });

  it('maps protocol error kinds to codes and marks timeouts retryable', () => {
    const timeout = new ProtocolError('timeout', 'no response', { timeoutName: 'commandTimeout' });
    expect(timeout.code).toBe('ERR_AIO_PROTOCOL_TIMEOUT');
    expect(timeout.retryable).toBe(true);
    const header = new ProtocolError('missing header', 'no __stat', {
      headerName: '__stat',
      isRemote: false,
    });
    expect(header.code).toBe('ERR_AIO_PROTOCOL_MISSING_HEADER');
    expect(header.retryable).toBe(false);
    expect(header.headerName).toBe('__stat');
  });
});
