import { describe, expect, it } from 'vitest';
import { isAioError } from '@aio-connector/core';
import {
  SseConnector,
  SseStream,
  SseStreamError,
  createMemoryLastEventIdStore,
  createStateStoreLastEventIdStore,
  isSseStreamError,
  sseConnectorOptionsFromConfiguration,
  sseEndpointConfiguration,
} from '@aio-connector/sse';

function configError(run: () => unknown): { field?: string; message: string } {
  try {
    run();
  } catch (error) {
    if (isAioError(error) && error.code === 'ERR_AIO_CONFIG')
      return { field: error.details['field'] as string, message: error.message };
    throw error;
  }
  throw new Error('no ConfigError thrown');
}

describe('SseConnector options', () => {
  it('accepts the documented options', () => {
    expect(
      () =>
        new SseConnector({
          maxEventBytes: 4096,
          maxBufferedBytes: 8192,
          idleTimeoutInMs: 0,
          maxRetryInMs: 10,
          slowRetryInMs: 0,
          reconnect: { minDelayInMs: 5, maxDelayInMs: 10, factor: 1.5, jitter: 0 },
          resume: createMemoryLastEventIdStore(),
          resumeSaveIntervalInMs: 10,
          waitForAck: true,
          headers: { 'x-api-key': 'k' },
          http: { connectTimeoutInMs: 100, userAgent: 'test' },
        }),
    ).not.toThrow();
  });

  it('throws TypeError for wrong types and RangeError for values out of range', () => {
    expect(() => new SseConnector({ maxEventBytes: '1' as never })).toThrow(TypeError);
    expect(() => new SseConnector({ idleTimeoutInMs: -1 })).toThrow(RangeError);
    expect(() => new SseConnector({ reconnect: { jitter: 2 } })).toThrow(RangeError);
    expect(() => new SseConnector({ reconnect: { minDelayInMs: 100, maxDelayInMs: 10 } })).toThrow(
      RangeError,
    );
    expect(() => new SseConnector({ resume: 'disk' as never })).toThrow(TypeError);
    expect(() => new SseConnector({ resumeSaveIntervalInMs: 0 })).toThrow(RangeError);
    expect(() => new SseConnector({ waitForAck: 'yes' as never })).toThrow(TypeError);
    expect(() => new SseConnector({ headers: { 'Last-Event-ID': '1' } })).toThrow(RangeError);
    expect(() => new SseConnector({ headers: { authorization: 'x' } })).toThrow(RangeError);
    expect(() => new SseConnector({ http: { maxResponseBytes: 1 } as never })).toThrow(RangeError);
    expect(() => new SseConnector({ http: { userAgent: 1 } as never })).toThrow(TypeError);
    expect(() => new SseConnector({ http: { maxRedirects: 101 } })).toThrow(RangeError);
    expect(() => new SseConnector({ http: { userAgent: 'a\nb' } })).toThrow(RangeError);
    expect(() => new SseConnector({ headers: { 'x-a': 'a\r\nb' } })).toThrow(RangeError);
    expect(() => new SseConnector({ headers: { 'bad name': 'x' } })).toThrow(RangeError);
  });

  it('refuses a buffered-bytes cap below the event cap, naming both options', () => {
    const problem = configError(
      () => new SseConnector({ maxEventBytes: 100, maxBufferedBytes: 10 }),
    );
    expect(problem.field).toBe('maxBufferedBytes');
    expect(problem.message).toMatch(/maxBufferedBytes \(10\).*maxEventBytes \(100\)/);
  });
});

describe('sseConnectorOptionsFromConfiguration', () => {
  it('reads the keys of the connector template, values as strings or JSON', () => {
    const { options, ignored } = sseConnectorOptionsFromConfiguration({
      maxEventBytes: '65536',
      idleTimeoutInMs: 30000,
      reconnectMinDelayInMs: '250',
      resume: 'none',
      waitForAck: 'true',
      headersTimeoutInMs: '5000',
      userAgent: 'thermo-sse',
      somethingElse: 1,
    });
    expect(options).toEqual({
      maxEventBytes: 65536,
      idleTimeoutInMs: 30000,
      reconnect: { minDelayInMs: 250 },
      resume: 'none',
      waitForAck: true,
      http: { headersTimeoutInMs: 5000, userAgent: 'thermo-sse' },
    });
    expect(ignored).toEqual(['somethingElse']);
    expect(sseConnectorOptionsFromConfiguration(undefined)).toEqual({ options: {}, ignored: [] });
    expect(() => new SseConnector(options)).not.toThrow();
  });

  it('names the key of a wrong value', () => {
    expect(configError(() => sseConnectorOptionsFromConfiguration({ resume: 'disk' })).field).toBe(
      'resume',
    );
    expect(
      configError(() => sseConnectorOptionsFromConfiguration({ idleTimeoutInMs: '1.5' })).field,
    ).toBe('idleTimeoutInMs');
    expect(configError(() => sseConnectorOptionsFromConfiguration({ waitForAck: 1 })).field).toBe(
      'waitForAck',
    );
    expect(configError(() => sseConnectorOptionsFromConfiguration([])).message).toMatch(
      /JSON object/,
    );
  });
});

describe('sseEndpointConfiguration', () => {
  it('reads headers, tlsServerName, idleTimeoutInMs and maxEventBytes', () => {
    expect(
      sseEndpointConfiguration(
        {
          headers: { 'X-Api-Key': 'k', 'x-n': 3, 'x-b': true },
          tlsServerName: 'dev.local',
          idleTimeoutInMs: '5000',
          maxEventBytes: 10,
          other: 1,
        },
        'src',
      ),
    ).toEqual({
      headers: { 'x-api-key': 'k', 'x-n': '3', 'x-b': 'true' },
      tlsServerName: 'dev.local',
      idleTimeoutInMs: 5000,
      maxEventBytes: 10,
    });
    expect(sseEndpointConfiguration({}, 'src')).toEqual({});
  });

  it('refuses headers the connector manages and malformed values, naming the field', () => {
    expect(
      configError(() => sseEndpointConfiguration({ headers: { accept: 'x' } }, 'src')).field,
    ).toBe('additionalConfiguration.headers');
    expect(
      configError(() => sseEndpointConfiguration({ headers: { 'x-a': 'a\nb' } }, 'src')).field,
    ).toBe('additionalConfiguration.headers.x-a');
    expect(configError(() => sseEndpointConfiguration({ tlsServerName: '' }, 'src')).field).toBe(
      'additionalConfiguration.tlsServerName',
    );
    expect(configError(() => sseEndpointConfiguration({ headers: 'x' }, 'dev')).message).toMatch(
      /^dev: additionalConfiguration.headers/,
    );
  });
});

describe('last event id stores', () => {
  it('keeps ids in memory', async () => {
    const store = createMemoryLastEventIdStore();
    expect(await store.load('k')).toBeUndefined();
    await store.save('k', '41');
    await store.save('k', '42');
    expect(await store.load('k')).toBe('42');
  });

  it('keeps ids in a state store under a prefix, persisted, and reads "" as none', async () => {
    const calls: unknown[][] = [];
    const values = new Map<string, Uint8Array>();
    const client = {
      get: (key: string, options: unknown) => {
        calls.push(['get', key, options]);
        const value = values.get(key);
        return Promise.resolve({ value, version: value === undefined ? undefined : '1' });
      },
      set: (key: string, value: string, options: unknown) => {
        calls.push(['set', key, value, options]);
        values.set(key, new TextEncoder().encode(value));
        return Promise.resolve({ applied: true, version: '1' });
      },
    };
    const store = createStateStoreLastEventIdStore(client, { timeoutInMs: 500 });
    expect(await store.load('d/e/a/http://h/events')).toBeUndefined();
    await store.save('d/e/a/http://h/events', '7');
    expect(await store.load('d/e/a/http://h/events')).toBe('7');
    await store.save('d/e/a/http://h/events', '');
    expect(await store.load('d/e/a/http://h/events')).toBeUndefined();
    expect(calls[1]).toEqual([
      'set',
      'aio-sse-last-event-id/d/e/a/http://h/events',
      '7',
      { timeoutInMs: 500, persist: true },
    ]);
    expect(() => createStateStoreLastEventIdStore({} as never)).toThrow(TypeError);
    expect(() => createStateStoreLastEventIdStore(client as never, { timeoutInMs: 0 })).toThrow(
      RangeError,
    );
  });
});

describe('SseStream options', () => {
  it('refuses a lastEventId that cannot be sent as the Last-Event-ID header', () => {
    const source = {
      address: 'http://127.0.0.1:8080',
      client: () => Promise.reject(new Error('unused')),
    };
    for (const id of ['4\n2', '4\r2', '4\u00002'])
      expect(() => new SseStream(source, { lastEventId: id })).toThrow(RangeError);
    expect(new SseStream(source, { lastEventId: 'ü 42 ' }).lastEventId).toBe('ü 42 ');
  });
});

describe('SseStreamError', () => {
  it('carries its code, retryability, URL without secrets and last event id', () => {
    const error = new SseStreamError('ERR_AIO_SSE_NO_CONTENT', 'stop', {
      url: 'https://user:pw@h/events?token=abc',
      lastEventId: '9',
    });
    expect(isSseStreamError(error)).toBe(true);
    expect(isAioError(error)).toBe(true);
    expect(error.retryable).toBe(false);
    expect(error.url).toBe('https://h/events?token=%5Bredacted%5D');
    expect(error.details).toEqual({ url: error.url, lastEventId: '9' });
    expect(new SseStreamError('ERR_AIO_SSE_IDLE_TIMEOUT', 'idle').retryable).toBe(true);
    expect(isSseStreamError(new Error('x'))).toBe(false);
  });
});
