/**
 * Plumbing shared by the protocol components: MQTT calls mapped to `ProtocolError`s, HLC stamping
 * and merging, cancellation. Not part of the public API.
 *
 * @module
 * @internal
 */
import { ProtocolError, isAioError } from '../errors.ts';
import type { IncomingMessage, MqttClient, OutgoingMessage, QoS } from '../mqtt/mqtt-client.ts';
import { parseHlc, type HlcTimestamp, type HybridLogicalClock } from './hlc.ts';
import { toHex } from './user-properties.ts';

/** Whether `value` is a `ProtocolError` (of any copy of the SDK). */
export function isProtocolError(value: unknown): value is ProtocolError {
  return isAioError(value) && value.code.startsWith('ERR_AIO_PROTOCOL_') && 'kind' in value;
}

function withCommand(commandName: string | undefined): { commandName?: string } {
  return commandName === undefined ? {} : { commandName };
}

/** A `ProtocolError` of kind `mqtt error`. */
export function mqttError(
  message: string,
  commandName: string | undefined,
  cause?: unknown,
  details?: Readonly<Record<string, unknown>>,
): ProtocolError {
  return new ProtocolError('mqtt error', message, {
    ...withCommand(commandName),
    ...(cause === undefined ? {} : { cause }),
    ...(details === undefined ? {} : { details }),
  });
}

/** A `ProtocolError` of kind `cancellation` for an aborted signal. */
export function cancellationError(
  signal: AbortSignal,
  operation: string,
  commandName?: string,
): ProtocolError {
  return new ProtocolError('cancellation', `${operation} was cancelled`, {
    cause: signal.reason,
    ...withCommand(commandName),
  });
}

/** Rejects with a cancellation error as soon as `signal` aborts. */
export function raceSignal<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  operation: string,
  commandName?: string,
): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(cancellationError(signal, operation, commandName));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(cancellationError(signal, operation, commandName));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/** Subscribes; a refused SUBSCRIBE (rejection or reason code >= 0x80) is an `mqtt error`. */
export async function subscribeOrThrow(
  client: MqttClient,
  filter: string,
  qos: QoS,
  commandName: string | undefined,
  signal?: AbortSignal,
): Promise<void> {
  let reasonCode: number;
  try {
    ({ reasonCode } = await raceSignal(
      client.subscribe(filter, { qos }),
      signal,
      `subscribe to '${filter}'`,
      commandName,
    ));
  } catch (error) {
    if (isProtocolError(error)) throw error;
    throw mqttError(`subscribing to '${filter}' failed`, commandName, error, { filter });
  }
  if (reasonCode >= 0x80)
    throw mqttError(
      `the broker refused the subscription to '${filter}' (reason code 0x${reasonCode.toString(16)})`,
      commandName,
      undefined,
      { filter, reasonCode },
    );
}

/**
 * Unsubscribes; a refused UNSUBSCRIBE (rejection or reason code >= 0x80) is an `mqtt error`, and
 * so is no answer within `timeoutInMs` (default 10 s): components stop in bounded time even when
 * the broker is away (the session would otherwise hold the UNSUBSCRIBE until it reconnects).
 */
export async function unsubscribeOrThrow(
  client: MqttClient,
  filter: string,
  commandName: string | undefined,
  timeoutInMs = 10_000,
): Promise<void> {
  let reasonCode: number;
  try {
    ({ reasonCode } = await raceSignal(
      client.unsubscribe(filter),
      AbortSignal.timeout(timeoutInMs),
      `unsubscribe from '${filter}'`,
      commandName,
    ));
  } catch (error) {
    const timedOut = isProtocolError(error) && error.kind === 'cancellation';
    throw mqttError(
      timedOut
        ? `the broker did not answer the UNSUBSCRIBE from '${filter}' within ${timeoutInMs} ms`
        : `unsubscribing from '${filter}' failed`,
      commandName,
      error,
      { filter },
    );
  }
  if (reasonCode >= 0x80)
    throw mqttError(
      `the broker refused to unsubscribe from '${filter}' (reason code 0x${reasonCode.toString(16)})`,
      commandName,
      undefined,
      { filter, reasonCode },
    );
}

/**
 * The start/stop lifecycle shared by the components that listen on a subscription (telemetry
 * receivers, command executors): add the message handler, subscribe (a refusal removes the
 * handler again), and on stop unsubscribe then remove the handler. `start` and `stop` are safe to
 * call twice; concurrent calls share one promise.
 */
export class ListeningSubscription {
  readonly #client: MqttClient;
  readonly #filter: string;
  readonly #qos: QoS;
  readonly #commandName: string | undefined;
  readonly #handler: (message: IncomingMessage) => void | Promise<void>;
  readonly #onChange: (state: 'started' | 'stopped') => void;
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #removeListener: (() => void) | undefined;

  constructor(options: {
    readonly client: MqttClient;
    readonly filter: string;
    readonly qos: QoS;
    readonly commandName: string | undefined;
    readonly handler: (message: IncomingMessage) => void | Promise<void>;
    readonly onChange: (state: 'started' | 'stopped') => void;
  }) {
    this.#client = options.client;
    this.#filter = options.filter;
    this.#qos = options.qos;
    this.#commandName = options.commandName;
    this.#handler = options.handler;
    this.#onChange = options.onChange;
  }

  start(signal: AbortSignal | undefined): Promise<void> {
    this.#starting ??= (async () => {
      this.#stopping = undefined;
      this.#removeListener = this.#client.onMessage(this.#handler);
      try {
        await subscribeOrThrow(this.#client, this.#filter, this.#qos, this.#commandName, signal);
      } catch (error) {
        this.#removeListener();
        this.#removeListener = undefined;
        this.#starting = undefined;
        throw error;
      }
      this.#onChange('started');
    })();
    return this.#starting;
  }

  stop(): Promise<void> {
    const starting = this.#starting;
    if (starting === undefined) return this.#stopping ?? Promise.resolve();
    this.#starting = undefined;
    this.#stopping = (async () => {
      try {
        await starting;
      } catch {
        return;
      }
      try {
        await unsubscribeOrThrow(this.#client, this.#filter, this.#commandName);
      } finally {
        this.#removeListener?.();
        this.#removeListener = undefined;
        this.#onChange('stopped');
      }
    })();
    return this.#stopping;
  }
}

/** Publishes; a rejected PUBLISH or a PUBACK reason code >= 0x80 is an `mqtt error`. */
export async function publishOrThrow(
  client: MqttClient,
  message: OutgoingMessage,
  commandName: string | undefined,
  signal?: AbortSignal,
): Promise<void> {
  let reasonCode: number;
  let reasonString: string | undefined;
  try {
    ({ reasonCode, reasonString } = await raceSignal(
      client.publish(message, signal === undefined ? undefined : { signal }),
      signal,
      `publish to '${message.topic}'`,
      commandName,
    ));
  } catch (error) {
    if (isProtocolError(error)) throw error;
    if (signal?.aborted === true)
      throw cancellationError(signal, `publish to '${message.topic}'`, commandName);
    throw mqttError(`publishing to '${message.topic}' failed`, commandName, error, {
      topic: message.topic,
    });
  }
  if (reasonCode >= 0x80)
    throw mqttError(
      `the broker refused the message on '${message.topic}' (reason code 0x${reasonCode.toString(16)}${reasonString === undefined ? '' : `: ${reasonString}`})`,
      commandName,
      undefined,
      {
        topic: message.topic,
        reasonCode,
        ...(message.correlationData === undefined
          ? {}
          : { correlationData: toHex(message.correlationData) }),
      },
    );
}

/**
 * Advances the clock for an outbound message and returns the `__ts` value; clock failures (drift,
 * counter overflow) become a shallow `invalid state` error.
 */
export function stampNow(hlc: HybridLogicalClock, commandName: string | undefined): string {
  try {
    return hlc.updateNow();
  } catch (error) {
    throw clockError(error, commandName, true);
  }
}

/**
 * Parses an inbound `__ts` (throws `invalid header` naming `__ts`), or returns `undefined` when
 * there is none.
 */
export function readTimestamp(value: string | undefined): HlcTimestamp | undefined {
  return value === undefined ? undefined : parseHlc(value, '__ts');
}

/** Merges an inbound timestamp into the clock; drift or overflow become `invalid state`. */
export function mergeTimestamp(
  hlc: HybridLogicalClock,
  timestamp: HlcTimestamp | undefined,
  commandName: string | undefined,
): void {
  if (timestamp === undefined) return;
  try {
    hlc.update(timestamp);
  } catch (error) {
    throw clockError(error, commandName, false);
  }
}

function clockError(
  error: unknown,
  commandName: string | undefined,
  isShallow: boolean,
): ProtocolError {
  if (isProtocolError(error)) return error;
  const drift = isAioError(error) && error.code === 'ERR_AIO_HLC_CLOCK_DRIFT';
  return new ProtocolError(
    'invalid state',
    error instanceof Error ? error.message : 'hybrid logical clock failure',
    {
      isShallow,
      propertyName: drift ? 'MaxClockDrift' : 'Counter',
      cause: error,
      ...withCommand(commandName),
    },
  );
}

/** Normalizes a payload format indicator from the wire. */
export function formatIndicatorOf(value: number | undefined): 0 | 1 | undefined {
  return value === 0 || value === 1 ? value : undefined;
}
