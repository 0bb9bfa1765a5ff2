/**
 * The SSE connector's settings that come from ADR and the connector template rather than code: the
 * device endpoint's `additionalConfiguration` (headers, TLS server name, idle timeout, event size
 * cap per endpoint) and the connector's additional configuration (the
 * `ADDITIONAL_CONNECTOR_CONFIGURATION` mount file), so the container image can be tuned without
 * code.
 *
 * @module
 */
import { ConfigError } from '@aio-connector/core';
import type { SseConnectorOptions } from './sse-connector.ts';

/**
 * The configuration keys the SSE connector reads: in a device endpoint's `additionalConfiguration`
 * (`endpoint`) and in the connector's additional configuration (`connector`).
 *
 * @example
 * ```ts
 * import { sseConfigurationKeys } from '@aio-connector/sse';
 * console.log(sseConfigurationKeys.endpoint); // ['headers', 'tlsServerName', 'idleTimeoutInMs', 'maxEventBytes']
 * ```
 */
export const sseConfigurationKeys = Object.freeze({
  endpoint: Object.freeze([
    'headers',
    'tlsServerName',
    'idleTimeoutInMs',
    'maxEventBytes',
  ] as const),
  connector: Object.freeze([
    'maxEventBytes',
    'maxBufferedBytes',
    'idleTimeoutInMs',
    'maxRetryInMs',
    'slowRetryInMs',
    'reconnectMinDelayInMs',
    'reconnectMaxDelayInMs',
    'resume',
    'resumeSaveIntervalInMs',
    'waitForAck',
    'connectTimeoutInMs',
    'headersTimeoutInMs',
    'keepAliveTimeoutInMs',
    'maxRedirects',
    'userAgent',
  ] as const),
});

/** The settings of one device endpoint, from its `additionalConfiguration`. */
export interface SseEndpointConfiguration {
  /** Headers sent with every stream request to the endpoint. */
  readonly headers?: Readonly<Record<string, string>>;
  /** The name verified in the server certificate (and sent as SNI). */
  readonly tlsServerName?: string;
  /** Overrides the connector's `idleTimeoutInMs` for the endpoint's streams. */
  readonly idleTimeoutInMs?: number;
  /** Overrides the connector's `maxEventBytes` for the endpoint's streams. */
  readonly maxEventBytes?: number;
}

const maxTimerInMs = 2_147_483_647;
const headerName = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Request headers the SSE connector sets itself; configuration cannot set them. */
export const reservedStreamHeaders: ReadonlySet<string> = new Set([
  'authorization',
  'last-event-id',
  'accept',
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
]);

function numberOf(
  fail: (field: string, problem: string) => never,
  key: string,
  value: unknown,
  min: number,
  max: number,
): number {
  const number =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\s*\d+\s*$/.test(value)
        ? Number(value)
        : Number.NaN;
  if (!Number.isInteger(number) || number < min || number > max)
    fail(key, `must be an integer between ${min} and ${max}, found ${JSON.stringify(value)}`);
  return number;
}

function booleanOf(
  fail: (field: string, problem: string) => never,
  key: string,
  value: unknown,
): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  return fail(key, `must be true or false, found ${JSON.stringify(value)}`);
}

function stringOf(
  fail: (field: string, problem: string) => never,
  key: string,
  value: unknown,
): string {
  if (typeof value !== 'string') fail(key, `must be a string, found ${JSON.stringify(value)}`);
  return value;
}

/**
 * Reads the SSE settings of a device endpoint from its parsed `additionalConfiguration`: `headers`
 * (an object of header names to strings, numbers or booleans), `tlsServerName`,
 * `idleTimeoutInMs` and `maxEventBytes`. Other keys are ignored. Throws a `ConfigError` naming the
 * field for a wrong value.
 *
 * @example
 * ```ts
 * import { sseEndpointConfiguration } from '@aio-connector/sse';
 * sseEndpointConfiguration({ headers: { 'x-api-key': 'k' }, idleTimeoutInMs: 30000 }, 'device d endpoint e');
 * // { headers: { 'x-api-key': 'k' }, idleTimeoutInMs: 30000 }
 * ```
 */
export function sseEndpointConfiguration(
  configuration: Readonly<Record<string, unknown>>,
  source: string,
): SseEndpointConfiguration {
  const fail = (field: string, problem: string): never => {
    throw new ConfigError(`${source}: additionalConfiguration.${field} ${problem}`, {
      source,
      field: `additionalConfiguration.${field}`,
    });
  };
  const out: {
    headers?: Record<string, string>;
    tlsServerName?: string;
    idleTimeoutInMs?: number;
    maxEventBytes?: number;
  } = {};
  const { headers, tlsServerName, idleTimeoutInMs, maxEventBytes } = configuration;
  if (headers !== undefined) {
    if (typeof headers !== 'object' || headers === null || Array.isArray(headers))
      fail(
        'headers',
        `must be an object of header names to values, found ${JSON.stringify(headers)}`,
      );
    const resolved: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
      if (!headerName.test(name)) fail('headers', `has an invalid header name "${name}"`);
      if (reservedStreamHeaders.has(name.toLowerCase()))
        fail('headers', `must not set "${name}": the connector manages it`);
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean')
        fail(
          `headers.${name}`,
          `must be a string, number or boolean, found ${JSON.stringify(value)}`,
        );
      const text = String(value);
      if (/[\r\n\0]/.test(text)) fail(`headers.${name}`, 'must not contain CR, LF or NUL');
      resolved[name.toLowerCase()] = text;
    }
    out.headers = resolved;
  }
  if (tlsServerName !== undefined) {
    const name = stringOf(fail, 'tlsServerName', tlsServerName);
    if (name === '') fail('tlsServerName', 'must not be empty');
    out.tlsServerName = name;
  }
  if (idleTimeoutInMs !== undefined)
    out.idleTimeoutInMs = numberOf(fail, 'idleTimeoutInMs', idleTimeoutInMs, 0, maxTimerInMs);
  if (maxEventBytes !== undefined)
    out.maxEventBytes = numberOf(fail, 'maxEventBytes', maxEventBytes, 1, Number.MAX_SAFE_INTEGER);
  return out;
}

const connectorSource = 'ADDITIONAL_CONNECTOR_CONFIGURATION';

/**
 * Reads SSE connector options from the connector's additional configuration (a JSON object;
 * values may be strings, as the connector template stores them). The keys are
 * {@link sseConfigurationKeys}`.connector`: the stream settings (`maxEventBytes`,
 * `maxBufferedBytes`, `idleTimeoutInMs`, `maxRetryInMs`, `slowRetryInMs`,
 * `reconnectMinDelayInMs`, `reconnectMaxDelayInMs`), the resume settings (`resume`: `memory`,
 * `none` or `state-store`, `resumeSaveIntervalInMs`), `waitForAck`, and the HTTP client settings
 * (`connectTimeoutInMs`, `headersTimeoutInMs`, `keepAliveTimeoutInMs`, `maxRedirects`,
 * `userAgent`). Other keys are returned in `ignored`. Throws a `ConfigError` naming the key for a
 * value of the wrong type or range.
 *
 * @example
 * ```ts
 * import { ConnectorSettings } from '@aio-connector/core';
 * import { SseConnector, sseConnectorOptionsFromConfiguration } from '@aio-connector/sse';
 * const settings = await ConnectorSettings.fromEnvironment();
 * const { options } = sseConnectorOptionsFromConfiguration(settings.additionalConfiguration);
 * await new SseConnector({ ...options, settings }).run();
 * ```
 */
export function sseConnectorOptionsFromConfiguration(configuration: unknown): {
  readonly options: SseConnectorOptions;
  readonly ignored: readonly string[];
} {
  if (configuration === undefined || configuration === null) return { options: {}, ignored: [] };
  if (typeof configuration !== 'object' || Array.isArray(configuration))
    throw new ConfigError(`${connectorSource} must be a JSON object`, { source: connectorSource });
  const fail = (field: string, problem: string): never => {
    throw new ConfigError(`${connectorSource} ${field} ${problem}`, {
      source: connectorSource,
      field,
    });
  };
  const options: Record<string, unknown> = {};
  const http: Record<string, unknown> = {};
  const reconnect: Record<string, unknown> = {};
  const ignored: string[] = [];
  for (const [key, value] of Object.entries(configuration as Record<string, unknown>)) {
    switch (key) {
      case 'maxEventBytes':
      case 'maxBufferedBytes':
        options[key] = numberOf(fail, key, value, 1, Number.MAX_SAFE_INTEGER);
        break;
      case 'idleTimeoutInMs':
      case 'maxRetryInMs':
      case 'slowRetryInMs':
        options[key] = numberOf(fail, key, value, 0, maxTimerInMs);
        break;
      case 'resumeSaveIntervalInMs':
        options[key] = numberOf(fail, key, value, 1, maxTimerInMs);
        break;
      case 'reconnectMinDelayInMs':
        reconnect['minDelayInMs'] = numberOf(fail, key, value, 0, maxTimerInMs);
        break;
      case 'reconnectMaxDelayInMs':
        reconnect['maxDelayInMs'] = numberOf(fail, key, value, 0, maxTimerInMs);
        break;
      case 'resume': {
        const mode = stringOf(fail, key, value);
        if (mode !== 'memory' && mode !== 'none' && mode !== 'state-store')
          fail(key, `must be "memory", "none" or "state-store", found ${JSON.stringify(value)}`);
        options[key] = mode;
        break;
      }
      case 'waitForAck':
        options[key] = booleanOf(fail, key, value);
        break;
      case 'connectTimeoutInMs':
      case 'headersTimeoutInMs':
        http[key] = numberOf(fail, key, value, 0, maxTimerInMs);
        break;
      case 'keepAliveTimeoutInMs':
        http[key] = numberOf(fail, key, value, 1, maxTimerInMs);
        break;
      case 'maxRedirects':
        http[key] = numberOf(fail, key, value, 0, 100);
        break;
      case 'userAgent':
        http[key] = stringOf(fail, key, value);
        break;
      default:
        ignored.push(key);
    }
  }
  if (Object.keys(http).length > 0) options['http'] = http;
  if (Object.keys(reconnect).length > 0) options['reconnect'] = reconnect;
  return { options: options, ignored };
}
