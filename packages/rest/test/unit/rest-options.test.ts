import { describe, expect, it } from 'vitest';
import { ConfigError } from '@aio-connector/core';
import {
  RestConnector,
  defaultRestConnectorOptions,
  restConnectorOptionsFromConfiguration,
  type RestConnectorOptions,
} from '@aio-connector/rest';

describe('RestConnector options', () => {
  it('accepts no options and documents its defaults', () => {
    expect(new RestConnector().state).toBe('idle');
    expect(defaultRestConnectorOptions).toEqual({
      http: {
        maxResponseBytes: 16 * 1024 * 1024,
        connectTimeoutInMs: 10_000,
        headersTimeoutInMs: 30_000,
        bodyTimeoutInMs: 30_000,
        requestTimeoutInMs: 30_000,
        keepAliveTimeoutInMs: 4_000,
        connections: undefined,
        maxRedirects: 5,
        userAgent: 'aio-connector-sdk',
      },
      conditionalGet: true,
      notModified: 'skip',
      forwardOnlyOnChange: false,
      nonJson: 'forward',
    });
    expect(Object.isFrozen(defaultRestConnectorOptions.http)).toBe(true);
  });

  it.each([
    [
      { http: { maxResponseBytes: '1' } },
      TypeError,
      'http.maxResponseBytes must be a number, received string',
    ],
    [{ http: { maxResponseBytes: 1.5 } }, RangeError, /http\.maxResponseBytes must be an integer/],
    [
      { http: { connectTimeoutInMs: -1 } },
      RangeError,
      /http\.connectTimeoutInMs must be a number between 0/,
    ],
    [{ http: { connections: 0 } }, RangeError, /http\.connections must be an integer between 1/],
    [{ http: { userAgent: 5 } }, TypeError, 'http.userAgent must be a string, received number'],
    [{ http: { userAgent: 'a\nb' } }, RangeError, 'http.userAgent must not contain CR, LF or NUL'],
    [{ http: 'fast' }, TypeError, 'http must be an object, received string'],
    [
      { notModified: 'drop' },
      RangeError,
      "notModified must be 'skip' or 'resend', received 'drop'",
    ],
    [{ nonJson: true }, TypeError, 'nonJson must be a string, received boolean'],
    [
      { forwardOnlyOnChange: 'yes' },
      TypeError,
      'forwardOnlyOnChange must be a boolean, received string',
    ],
    [{ conditionalGet: 1 }, TypeError, 'conditionalGet must be a boolean, received number'],
  ])('rejects %j', (options, type, message) => {
    expect(() => new RestConnector(options as unknown as RestConnectorOptions)).toThrow(type);
    expect(() => new RestConnector(options as unknown as RestConnectorOptions)).toThrow(message);
  });

  it('checks the connector options of the base class too', () => {
    expect(() => new RestConnector({ defaultSamplingIntervalInMs: 0 })).toThrow(RangeError);
  });
});

describe('restConnectorOptionsFromConfiguration', () => {
  it('reads the options from the additional connector configuration, strings included', () => {
    expect(
      restConnectorOptionsFromConfiguration({
        maxResponseBytes: '65536',
        requestTimeoutInMs: 5000,
        userAgent: 'plant-7',
        conditionalGet: 'false',
        forwardOnlyOnChange: true,
        notModified: 'resend',
        nonJson: 'reject',
        defaultSamplingIntervalInMs: '2500',
        logFormat: 'json',
      }),
    ).toEqual({
      options: {
        http: { maxResponseBytes: 65536, requestTimeoutInMs: 5000, userAgent: 'plant-7' },
        conditionalGet: false,
        forwardOnlyOnChange: true,
        notModified: 'resend',
        nonJson: 'reject',
        defaultSamplingIntervalInMs: 2500,
      },
      ignored: ['logFormat'],
    });
  });

  it('gives no options without a configuration', () => {
    expect(restConnectorOptionsFromConfiguration(undefined)).toEqual({ options: {}, ignored: [] });
  });

  it('rejects values of the wrong type with a ConfigError naming the key', () => {
    const error = (() => {
      try {
        restConnectorOptionsFromConfiguration({ conditionalGet: 'sometimes' });
      } catch (caught) {
        return caught as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.field).toBe('conditionalGet');
    expect(error.message).toBe(
      'ADDITIONAL_CONNECTOR_CONFIGURATION conditionalGet must be true or false, found "sometimes"',
    );
    expect(() => restConnectorOptionsFromConfiguration({ maxRedirects: 'many' })).toThrow(
      'ADDITIONAL_CONNECTOR_CONFIGURATION maxRedirects must be a number, found "many"',
    );
    expect(() => restConnectorOptionsFromConfiguration([1])).toThrow(ConfigError);
  });

  it('leaves range checks to the constructor', () => {
    const { options } = restConnectorOptionsFromConfiguration({ notModified: 'never' });
    expect(() => new RestConnector(options)).toThrow(RangeError);
  });
});
