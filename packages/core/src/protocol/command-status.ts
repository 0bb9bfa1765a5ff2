/**
 * Command status codes (`__stat`) and their mapping to `ProtocolError` kinds, per the AIO error
 * model (error-model.md appendix 2, command-errors.md).
 *
 * @module
 */
import { ProtocolError, type ProtocolErrorInfo, type ProtocolErrorKind } from '../errors.ts';
import type { UserProperty } from '../mqtt/mqtt-client.ts';
import { getUserProperty, reservedProperties } from './user-properties.ts';

/**
 * The status codes a command executor sends in `__stat`.
 *
 * @example
 * ```ts
 * import { commandStatus } from '@aio-connector/core';
 * commandStatus.versionNotSupported; // 505
 * ```
 */
export const commandStatus = Object.freeze({
  ok: 200,
  noContent: 204,
  badRequest: 400,
  requestTimeout: 408,
  unsupportedMediaType: 415,
  internalServerError: 500,
  serviceUnavailable: 503,
  versionNotSupported: 505,
} as const);

/** A command status code. */
export type CommandStatus = (typeof commandStatus)[keyof typeof commandStatus];

/**
 * Formats a duration in milliseconds as ISO 8601 (`PT1S`, `PT1M30S`, `P1DT2H`), as sent in
 * `__propVal` of a 408 response.
 *
 * @example
 * ```ts
 * import { formatIsoDuration } from '@aio-connector/core';
 * formatIsoDuration(1_000); // 'PT1S'
 * formatIsoDuration(90_500); // 'PT1M30.5S'
 * ```
 */
export function formatIsoDuration(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`duration must be finite, received ${ms}`);
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(Math.round(ms));
  const days = Math.floor(rest / 86_400_000);
  rest -= days * 86_400_000;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = rest / 1000;
  let time = '';
  if (hours > 0) time += `${hours}H`;
  if (minutes > 0) time += `${minutes}M`;
  if (seconds > 0 || (days === 0 && time === '')) time += `${seconds}S`;
  return `${sign}P${days > 0 ? `${days}D` : ''}${time === '' ? '' : `T${time}`}`;
}

const isoDuration =
  /^(-)?P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/**
 * Parses an ISO 8601 duration with weeks, days, hours, minutes and seconds into milliseconds, or
 * returns `undefined`.
 *
 * @example
 * ```ts
 * import { parseIsoDuration } from '@aio-connector/core';
 * parseIsoDuration('PT1S'); // 1000
 * parseIsoDuration('soon'); // undefined
 * ```
 */
export function parseIsoDuration(text: string): number | undefined {
  const match = typeof text === 'string' ? isoDuration.exec(text) : null;
  if (!match || text === 'P' || text.endsWith('T')) return undefined;
  const [, sign, weeks, days, hours, minutes, seconds] = match;
  const ms =
    Number(weeks ?? 0) * 604_800_000 +
    Number(days ?? 0) * 86_400_000 +
    Number(hours ?? 0) * 3_600_000 +
    Number(minutes ?? 0) * 60_000 +
    Number(seconds ?? 0) * 1000;
  return Math.round(sign === '-' ? -ms : ms);
}

/**
 * Whether `__apErr` marks an application error: anything but absent, empty or `false`
 * (case-insensitive).
 */
function isApplicationError(value: string | undefined): boolean {
  return value !== undefined && value !== '' && value.toLowerCase() !== 'false';
}

/**
 * The error a command invoker raises for a response whose `__stat` is not 200 or 204. The error is
 * remote (`isRemote`), carries the status, `__stMsg` as its message, and the header, property,
 * timeout or version facts the status calls for:
 *
 * | status | condition | kind |
 * |---|---|---|
 * | 400 | `__propVal` present | invalid header |
 * | 400 | `__propName` only | missing header |
 * | 400 | neither | invalid payload |
 * | 408 | | timeout |
 * | 415 | | invalid header |
 * | 500 | `__apErr` true | execution error |
 * | 500 | `__propName` present | internal logic error |
 * | 500 | otherwise | unknown error |
 * | 503 | | invalid state |
 * | 505 | | unsupported version |
 * | other | | unknown error |
 *
 * @example
 * ```ts
 * import { remoteCommandError } from '@aio-connector/core';
 * const error = remoteCommandError(408, [['__propName', 'ExecutionTimeout'], ['__propVal', 'PT1S']]);
 * error.kind; // 'timeout'
 * error.timeoutInMs; // 1000
 * ```
 */
export function remoteCommandError(
  status: number,
  userProperties: readonly UserProperty[] | undefined,
  commandName?: string,
): ProtocolError {
  const get = (name: string): string | undefined => getUserProperty(userProperties, name);
  const name = get(reservedProperties.invalidPropertyName);
  const value = get(reservedProperties.invalidPropertyValue);
  const appError = isApplicationError(get(reservedProperties.isApplicationError));
  let kind: ProtocolErrorKind;
  switch (status) {
    case commandStatus.badRequest:
      kind =
        value !== undefined
          ? 'invalid header'
          : name !== undefined
            ? 'missing header'
            : 'invalid payload';
      break;
    case commandStatus.requestTimeout:
      kind = 'timeout';
      break;
    case commandStatus.unsupportedMediaType:
      kind = 'invalid header';
      break;
    case commandStatus.internalServerError:
      kind = appError
        ? 'execution error'
        : name !== undefined
          ? 'internal logic error'
          : 'unknown error';
      break;
    case commandStatus.serviceUnavailable:
      kind = 'invalid state';
      break;
    case commandStatus.versionNotSupported:
      kind = 'unsupported version';
      break;
    default:
      kind = 'unknown error';
  }
  const info: {
    -readonly [K in keyof ProtocolErrorInfo]: ProtocolErrorInfo[K];
  } = {
    isShallow: false,
    isRemote: true,
    statusCode: status,
    isApplicationError: appError,
  };
  if (commandName !== undefined) info.commandName = commandName;
  if (kind === 'missing header' || kind === 'invalid header') {
    if (name !== undefined) info.headerName = name;
    if (value !== undefined) info.headerValue = value;
  } else if (kind === 'timeout') {
    if (name !== undefined) info.timeoutName = name;
    const ms = value === undefined ? undefined : parseIsoDuration(value);
    if (ms !== undefined) info.timeoutInMs = ms;
  } else {
    if (name !== undefined) info.propertyName = name;
    if (value !== undefined) info.propertyValue = value;
  }
  if (kind === 'unsupported version') {
    const requested = get(reservedProperties.requestProtocolVersion);
    if (requested !== undefined) info.protocolVersion = requested;
    const supported = parseMajorVersions(get(reservedProperties.supportedMajorProtocolVersions));
    if (supported !== undefined) info.supportedMajorProtocolVersions = supported;
  }
  const message =
    get(reservedProperties.statusMessage) ??
    `the command executor answered with status ${status}${commandName === undefined ? '' : ` to '${commandName}'`}`;
  return new ProtocolError(kind, message, info);
}

/**
 * Parses a space-separated list of major versions (`__supProtMajVer`), or returns `undefined`.
 *
 * @example
 * ```ts
 * import { parseMajorVersions } from '@aio-connector/core';
 * parseMajorVersions('2 3 4'); // [2, 3, 4]
 * ```
 */
export function parseMajorVersions(text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  const parts = text.trim().split(/\s+/);
  if (parts.some((part) => !/^\d{1,9}$/.test(part))) return undefined;
  return parts.map(Number);
}
