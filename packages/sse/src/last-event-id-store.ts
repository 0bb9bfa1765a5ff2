/**
 * Where the SSE connector keeps the last event id of each stream between runs of an asset: in the
 * process (survives asset updates and restarts of the asset's work), or in the broker state store
 * (also survives a connector restart or a fail-over to another replica).
 *
 * @module
 */
import type { StateStoreClient } from '@aio-connector/core';

/**
 * Keeps the last event id of each stream. Keys name a stream of an asset (device, endpoint, asset
 * and stream URL). `load` resolves with `undefined` when nothing was saved.
 */
export interface LastEventIdStore {
  /** The saved last event id of `key`, if any. */
  load(key: string, options?: { readonly signal?: AbortSignal }): Promise<string | undefined>;
  /** Saves the last event id of `key` (`''` means "none": the stream resumes from now). */
  save(
    key: string,
    lastEventId: string,
    options?: { readonly signal?: AbortSignal },
  ): Promise<void>;
}

/**
 * A store in process memory.
 *
 * @example
 * ```ts
 * import { createMemoryLastEventIdStore } from '@aio-connector/sse';
 * const store = createMemoryLastEventIdStore();
 * await store.save('device/endpoint/asset/http://h/events', '42');
 * console.log(await store.load('device/endpoint/asset/http://h/events')); // '42'
 * ```
 */
export function createMemoryLastEventIdStore(): LastEventIdStore {
  const ids = new Map<string, string>();
  return Object.freeze({
    load: (key: string) => Promise.resolve(ids.get(key)),
    save: (key: string, lastEventId: string) => {
      ids.set(key, lastEventId);
      return Promise.resolve();
    },
  });
}

/** Options of {@link createStateStoreLastEventIdStore}. Every field is optional. */
export interface StateStoreLastEventIdStoreOptions {
  /** Put before every key. Default: `'aio-sse-last-event-id/'`. */
  readonly keyPrefix?: string;
  /** Ask the broker to persist the keys (`aio-persistence`). Default: `true`. */
  readonly persist?: boolean;
  /** Time allowed for each state store request, in ms. Default: the client's. */
  readonly timeoutInMs?: number;
}

/**
 * A store in the AIO broker state store, through a `StateStoreClient`: a connector that restarts,
 * or another replica that takes over, resumes where the previous one stopped.
 *
 * @example
 * ```ts
 * import { MqttSession, StateStoreClient } from '@aio-connector/core';
 * import { SseConnector, createStateStoreLastEventIdStore } from '@aio-connector/sse';
 * declare const session: MqttSession;
 * const connector = new SseConnector({
 *   mqttClient: session,
 *   resume: createStateStoreLastEventIdStore(new StateStoreClient(session)),
 * });
 * ```
 */
export function createStateStoreLastEventIdStore(
  client: Pick<StateStoreClient, 'get' | 'set'>,
  options: StateStoreLastEventIdStoreOptions = {},
): LastEventIdStore {
  if (
    typeof client !== 'object' ||
    client === null ||
    typeof client.get !== 'function' ||
    typeof client.set !== 'function'
  )
    throw new TypeError('client must be a StateStoreClient');
  if (typeof options !== 'object' || options === null)
    throw new TypeError(`options must be an object, received ${typeof options}`);
  const keyPrefix = options.keyPrefix ?? 'aio-sse-last-event-id/';
  if (typeof keyPrefix !== 'string')
    throw new TypeError(`keyPrefix must be a string, received ${typeof keyPrefix}`);
  const persist = options.persist ?? true;
  if (typeof persist !== 'boolean')
    throw new TypeError(`persist must be a boolean, received ${typeof persist}`);
  const { timeoutInMs } = options;
  if (timeoutInMs !== undefined) {
    if (typeof timeoutInMs !== 'number' || Number.isNaN(timeoutInMs))
      throw new TypeError(`timeoutInMs must be a number, received ${typeof timeoutInMs}`);
    if (!(timeoutInMs >= 1))
      throw new RangeError(`timeoutInMs must be >= 1, received ${timeoutInMs}`);
  }
  const decoder = new TextDecoder('utf-8');
  const requestOptions = (signal: AbortSignal | undefined) => ({
    ...(signal === undefined ? {} : { signal }),
    ...(timeoutInMs === undefined ? {} : { timeoutInMs }),
  });
  return Object.freeze({
    async load(key: string, loadOptions: { readonly signal?: AbortSignal } = {}) {
      const { value } = await client.get(`${keyPrefix}${key}`, requestOptions(loadOptions.signal));
      if (value === undefined) return undefined;
      const id = decoder.decode(value);
      return id === '' ? undefined : id;
    },
    async save(
      key: string,
      lastEventId: string,
      saveOptions: { readonly signal?: AbortSignal } = {},
    ) {
      await client.set(`${keyPrefix}${key}`, lastEventId, {
        ...requestOptions(saveOptions.signal),
        persist,
      });
    },
  });
}
