/**
 * The errors the AIO state store reports in its `-ERR <description>` responses, and the SDK error
 * that carries them.
 *
 * The service answers a request it rejects with a RESP3 simple error whose text is one of a fixed
 * set of descriptions ({@link stateStoreServiceErrorMessages}). The SDK maps that text to a
 * {@link StateStoreServiceErrorKind} so callers can act on it (for example, re-acquire a lock after
 * `fencing token lower version`).
 *
 * @module
 */
import { AioError } from '../../errors.ts';
import type { AioErrorOptions } from '../../errors.ts';

/**
 * The kinds of error the state store service reports. `unknown` is any description the SDK does
 * not recognise.
 */
export type StateStoreServiceErrorKind =
  | 'timestamp skew'
  | 'missing fencing token'
  | 'fencing token skew'
  | 'fencing token lower version'
  | 'quota exceeded'
  | 'syntax error'
  | 'not authorized'
  | 'unknown command'
  | 'wrong number of arguments'
  | 'missing timestamp'
  | 'malformed timestamp'
  | 'key length zero'
  | 'unknown';

/**
 * The exact description the state store service sends (after `-ERR `) for each kind of error.
 *
 * @example
 * ```ts
 * import { stateStoreServiceErrorMessages } from '@aio-connector/core';
 * stateStoreServiceErrorMessages['wrong number of arguments']; // 'wrong number of arguments'
 * ```
 */
export const stateStoreServiceErrorMessages = Object.freeze({
  'timestamp skew':
    'the request timestamp is too far in the future; ensure that the client and broker system clocks are synchronized',
  'missing fencing token': 'a fencing token is required for this request',
  'fencing token skew':
    'the request fencing token timestamp is too far in the future; ensure that the client and broker system clocks are synchronized',
  'fencing token lower version':
    'the request fencing token is a lower version than the fencing token protecting the resource',
  'quota exceeded': 'the quota has been exceeded',
  'syntax error': 'syntax error',
  'not authorized': 'not authorized',
  'unknown command': 'unknown command',
  'wrong number of arguments': 'wrong number of arguments',
  'missing timestamp': 'missing timestamp',
  'malformed timestamp': 'malformed timestamp',
  'key length zero': 'the key length is zero',
} as const satisfies Record<Exclude<StateStoreServiceErrorKind, 'unknown'>, string>);

const kindsByMessage = new Map<string, StateStoreServiceErrorKind>(
  Object.entries(stateStoreServiceErrorMessages).map(([kind, message]) => [
    message,
    kind as StateStoreServiceErrorKind,
  ]),
);

/**
 * Classifies the description of a state store error response. Accepts the text with or without
 * its `ERR ` (or `ERR: `) prefix.
 *
 * @example
 * ```ts
 * import { stateStoreServiceErrorKindOf } from '@aio-connector/core';
 * stateStoreServiceErrorKindOf('ERR syntax error'); // 'syntax error'
 * stateStoreServiceErrorKindOf('something new'); // 'unknown'
 * ```
 */
export function stateStoreServiceErrorKindOf(description: string): StateStoreServiceErrorKind {
  return kindsByMessage.get(stripErrPrefix(description)) ?? 'unknown';
}

/** Removes the `ERR ` / `ERR: ` prefix of a RESP3 error line. */
function stripErrPrefix(text: string): string {
  if (text.startsWith('ERR: ')) return text.slice(5);
  if (text.startsWith('ERR ')) return text.slice(4);
  return text === 'ERR' ? '' : text;
}

/**
 * An error response of the state store service (`-ERR <description>`). `kind` classifies the
 * description; `serviceMessage` is the description as the service sent it.
 *
 * @example
 * ```ts
 * import { StateStoreServiceError } from '@aio-connector/core';
 * const error = new StateStoreServiceError('ERR the quota has been exceeded');
 * console.log(error.code, error.kind); // ERR_AIO_STATE_STORE_SERVICE quota exceeded
 * ```
 */
export class StateStoreServiceError extends AioError {
  /** The classified description. */
  readonly kind: StateStoreServiceErrorKind;
  /** The description as sent by the service, without the `ERR ` prefix. */
  readonly serviceMessage: string;

  constructor(description: string, options: AioErrorOptions = {}) {
    const serviceMessage = stripErrPrefix(description);
    const kind = stateStoreServiceErrorKindOf(serviceMessage);
    super('ERR_AIO_STATE_STORE_SERVICE', `state store error: ${serviceMessage}`, {
      ...options,
      details: { ...options.details, kind, serviceMessage },
    });
    this.name = 'StateStoreServiceError';
    this.kind = kind;
    this.serviceMessage = serviceMessage;
  }
}
