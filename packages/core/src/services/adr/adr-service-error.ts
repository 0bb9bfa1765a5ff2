/**
 * The error the ADR service reports inside a response body, and the SDK error that carries it.
 *
 * The ADR service answers every RPC with `__stat` 200; a failure travels in the JSON body as
 * `{"<action>Error": {"code", "message", "timestamp"}}` (the Thing Model's `AkriServiceError`).
 *
 * @module
 */
import { AioError, isAioError, type AioErrorOptions } from '../../errors.ts';
import { akriServiceErrorCodes, type AkriServiceErrorCode } from './models.ts';

/** The service error codes worth retrying: the failure is on the service side and may pass. */
const retryableCodes: ReadonlySet<string> = new Set<AkriServiceErrorCode>([
  'InternalError',
  'KubeError',
]);

/** What an {@link AdrServiceError} is built from. */
export interface AdrServiceErrorInit extends Omit<AioErrorOptions, 'retryable'> {
  /** The RPC that failed, e.g. `getDevice`. */
  readonly action: string;
  /** The `code` of the error body; `undefined` when the service sent none the Thing Model knows. */
  readonly serviceCode?: AkriServiceErrorCode | undefined;
  /** The `message` of the error body. */
  readonly serviceMessage?: string | undefined;
  /** The `timestamp` of the error body (RFC 3339). */
  readonly serviceTimestamp?: string | undefined;
  /**
   * Whether retrying may succeed. Default: `true` for `InternalError` and `KubeError`, `false`
   * otherwise (`BadRequest`, `Unauthorized` and `SerializationError` cannot succeed on retry).
   */
  readonly retryable?: boolean;
}

/**
 * Whether `value` is one of the error codes of the ADR Thing Model.
 *
 * @example
 * ```ts
 * import { isAkriServiceErrorCode } from '@aio-connector/core';
 * isAkriServiceErrorCode('KubeError'); // true
 * isAkriServiceErrorCode('NotFound'); // false
 * ```
 */
export function isAkriServiceErrorCode(value: unknown): value is AkriServiceErrorCode {
  return typeof value === 'string' && (akriServiceErrorCodes as readonly string[]).includes(value);
}

/**
 * An error reported by the Azure Device Registry service in a response body, or a notification
 * preference the service did not accept. `code` is always `ERR_AIO_ADR_SERVICE`; the service's own
 * code is `serviceCode`. `InternalError` and `KubeError` are retryable (the real service reports a
 * device or asset it does not know as `KubeError`); `BadRequest`, `Unauthorized` and
 * `SerializationError` are not.
 *
 * @example
 * ```ts
 * import { AdrServiceError } from '@aio-connector/core';
 * declare const adr: import('@aio-connector/core').AdrClient;
 * try {
 *   await adr.getAsset('oven', 'rest', 'missing-asset');
 * } catch (error) {
 *   if (error instanceof AdrServiceError) console.log(error.action, error.serviceCode, error.serviceMessage);
 * }
 * ```
 */
export class AdrServiceError extends AioError {
  /** The RPC that failed, e.g. `getDevice`. */
  readonly action: string;
  /** The service's error code; `undefined` when it sent none the Thing Model knows. */
  readonly serviceCode: AkriServiceErrorCode | undefined;
  /** The service's message. */
  readonly serviceMessage: string | undefined;
  /** When the service says the error happened (RFC 3339). */
  readonly serviceTimestamp: string | undefined;

  constructor(message: string, init: AdrServiceErrorInit) {
    const { action, serviceCode, serviceMessage, serviceTimestamp } = init;
    super('ERR_AIO_ADR_SERVICE', message, {
      ...init,
      retryable: init.retryable ?? (serviceCode !== undefined && retryableCodes.has(serviceCode)),
      details: { ...init.details, action, serviceCode, serviceMessage, serviceTimestamp },
    });
    this.name = 'AdrServiceError';
    this.action = action;
    this.serviceCode = serviceCode;
    this.serviceMessage = serviceMessage;
    this.serviceTimestamp = serviceTimestamp;
  }
}

/**
 * Whether `error` is an {@link AdrServiceError}, checked by code so that it works across duplicate
 * installs of the package.
 *
 * @example
 * ```ts
 * import { isAdrServiceError } from '@aio-connector/core';
 * declare const adr: import('@aio-connector/core').AdrClient;
 * await adr.getDevice('oven', 'rest').catch((error: unknown) => {
 *   if (isAdrServiceError(error) && error.serviceCode === 'Unauthorized') console.log('check RBAC');
 * });
 * ```
 */
export function isAdrServiceError(error: unknown): error is AdrServiceError {
  return isAioError(error) && error.code === 'ERR_AIO_ADR_SERVICE';
}
