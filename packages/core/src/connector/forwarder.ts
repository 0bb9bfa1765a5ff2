/**
 * The forwarder: sends forwarded data to every destination (MQTT topics and state-store keys)
 * through a bounded store-and-forward queue. A message leaves the queue only when the broker
 * acknowledged it (QoS 1) or it was written (QoS 0), so a broker restart loses nothing that fit in
 * the queue; when the queue is full the overflow policy decides what is dropped, and drops are
 * counted, logged once per burst and reported.
 *
 * @module
 */
import { AioError, isAioError } from '../errors.ts';
import { silentLogger, type Logger } from '../logger.ts';
import type { MqttClient, QoS, UserProperty } from '../mqtt/mqtt-client.ts';
import type { HybridLogicalClock } from '../protocol/hlc.ts';
import { computeBackoff, sleep } from '../retry.ts';
import { noopTelemetry, type Telemetry, type TelemetryAttributes } from '../telemetry.ts';
import { BoundedQueue, type OverflowPolicy, type QueueDropError } from './bounded-queue.ts';

/** A destination with its tokens resolved and defaults applied. */
export type ResolvedDestination =
  | {
      readonly target: 'Mqtt';
      readonly topic: string;
      readonly qos: QoS;
      readonly retain: boolean;
      /** Message Expiry Interval, in seconds (≥ 1). */
      readonly messageExpiryInSeconds: number;
    }
  | { readonly target: 'BrokerStateStore'; readonly key: string };

/** What the forwarder needs from a state store client. */
export interface StateStoreWriter {
  set(
    key: string,
    value: Uint8Array,
    options?: { readonly signal?: AbortSignal },
  ): Promise<unknown>;
}

/** One message to forward to one or more destinations. */
export interface ForwardRequest {
  readonly destinations: readonly ResolvedDestination[];
  readonly payload: Uint8Array;
  /** MQTT Content Type. Default: `application/octet-stream`. */
  readonly contentType?: string;
  /** CloudEvent user properties (see `aioCloudEventProperties`). */
  readonly cloudEvent?: readonly UserProperty[];
  /** W3C trace context user properties. */
  readonly traceContext?: readonly UserProperty[];
  /** Caller-supplied user properties. */
  readonly userProperties?: readonly UserProperty[];
  /** Attributes for metrics and logs (device, asset, dataset...). Never secrets. */
  readonly attributes?: TelemetryAttributes;
  /** Called once per destination that failed for good (after retries, or dropped). */
  readonly onFailure?: (error: AioError, destination: ResolvedDestination) => void;
}

/** The outcome of {@link Forwarder.submit}. */
export interface Delivery {
  /**
   * Settles when every destination acknowledged (resolves) or one failed for good (rejects with
   * the first error). It never causes an unhandled rejection if nobody awaits it.
   */
  readonly acknowledged: Promise<void>;
}

/** Options of {@link Forwarder}. Every field is optional. */
export interface ForwarderOptions {
  /** Messages held until acknowledged (per destination). Default: 10 000. */
  readonly maxQueueSize?: number;
  /** What happens when the queue is full. Default: `drop-oldest`. */
  readonly overflow?: OverflowPolicy;
  /** Concurrent in-flight sends. Default: 64. */
  readonly maxInflight?: number;
  /** Backoff between retries of a failed send. Defaults: 100 ms … 10 s, jitter 0.5. */
  readonly retry?: {
    readonly minDelayInMs?: number;
    readonly maxDelayInMs?: number;
    readonly jitter?: number;
  };
  /** Wait this long for in-flight and queued messages in `close()`. Default: 10 000 ms. */
  readonly drainTimeoutInMs?: number;
  readonly logger?: Logger;
  readonly telemetry?: Telemetry;
}

/** MQTT 5 PUBACK reason codes that will not get better by retrying. */
const permanentReasonCodes = new Set([0x83, 0x87, 0x90, 0x95, 0x99]);
const reasonNames: Record<number, string> = {
  0x80: 'unspecified error',
  0x83: 'implementation specific error',
  0x87: 'not authorized',
  0x90: 'topic name invalid',
  0x91: 'packet identifier in use',
  0x95: 'packet too large',
  0x97: 'quota exceeded',
  0x99: 'payload format invalid',
};

interface Item {
  readonly destination: ResolvedDestination;
  readonly request: ForwardRequest;
  readonly userProperties: readonly UserProperty[];
  readonly enqueuedAt: number;
  attempts: number;
  settle(error?: AioError): void;
}

/** The byte length of a UTF-8 string. */
function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

function varIntLength(value: number): number {
  return value < 128 ? 1 : value < 16_384 ? 2 : value < 2_097_152 ? 3 : 4;
}

/**
 * The exact size in bytes of the MQTT 5 PUBLISH packet the forwarder sends for a message, used to
 * refuse messages larger than the broker's Maximum Packet Size before sending them.
 */
export function publishPacketSize(
  topic: string,
  payloadLength: number,
  qos: QoS,
  contentType: string,
  messageExpiryInSeconds: number,
  userProperties: readonly UserProperty[],
): number {
  let props = 1 + 2 + utf8Length(contentType); // content type
  props += 2; // payload format indicator
  if (messageExpiryInSeconds > 0) props += 5;
  for (const [name, value] of userProperties)
    props += 1 + 2 + utf8Length(name) + 2 + utf8Length(value);
  const variableHeader = 2 + utf8Length(topic) + (qos > 0 ? 2 : 0) + varIntLength(props) + props;
  const remaining = variableHeader + payloadLength;
  return 1 + varIntLength(remaining) + remaining;
}

/**
 * Sends forwarded data to its destinations through a bounded queue.
 *
 * @example
 * ```ts
 * import { Forwarder } from '@aio-connector/core';
 * const forwarder = new Forwarder(mqttClient, clock, { maxQueueSize: 1_000 });
 * const { acknowledged } = await forwarder.submit({
 *   destinations: [{ target: 'Mqtt', topic: 'factory/line1', qos: 1, retain: false, messageExpiryInSeconds: 10 }],
 *   payload: new TextEncoder().encode('{"t":21}'),
 * });
 * await acknowledged;
 * ```
 */
export class Forwarder {
  readonly #client: MqttClient;
  readonly #clock: HybridLogicalClock;
  readonly #stateStore: StateStoreWriter | undefined;
  readonly #queue: BoundedQueue<Item>;
  readonly #options: Required<Pick<ForwarderOptions, 'maxInflight' | 'drainTimeoutInMs'>> & {
    readonly retry: NonNullable<ForwarderOptions['retry']>;
  };
  readonly #logger: Logger;
  readonly #telemetry: Telemetry;
  readonly #stopWorkers = new AbortController();
  readonly #workers: Promise<void>[] = [];
  readonly #stopGauge: () => void;
  #dropBurst = 0;
  #dropBurstTimer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  #sent = 0;
  #failed = 0;

  constructor(
    client: MqttClient,
    clock: HybridLogicalClock,
    options: ForwarderOptions & { readonly stateStore?: StateStoreWriter } = {},
  ) {
    const maxInflight = options.maxInflight ?? 64;
    if (!Number.isInteger(maxInflight) || maxInflight < 1)
      throw new RangeError(`maxInflight must be an integer >= 1, received ${maxInflight}`);
    const drainTimeoutInMs = options.drainTimeoutInMs ?? 10_000;
    if (typeof drainTimeoutInMs !== 'number' || drainTimeoutInMs < 0)
      throw new RangeError(`drainTimeoutInMs must be >= 0, received ${drainTimeoutInMs}`);
    this.#client = client;
    this.#clock = clock;
    this.#stateStore = options.stateStore;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'forwarder' });
    this.#telemetry = options.telemetry ?? noopTelemetry;
    this.#options = { maxInflight, drainTimeoutInMs, retry: options.retry ?? {} };
    this.#queue = new BoundedQueue<Item>({
      capacity: options.maxQueueSize ?? 10_000,
      ...(options.overflow === undefined ? {} : { overflow: options.overflow }),
      onDrop: (item, error) => {
        this.#onDrop(item, error);
      },
    });
    this.#stopGauge = this.#telemetry.observeQueueDepth(() => this.#queue.size);
    for (let i = 0; i < maxInflight; i++) this.#workers.push(this.#work());
  }

  /** Messages held (queued or in flight), drops and totals so far. */
  stats(): { queued: number; dropped: number; sent: number; failed: number } {
    return {
      queued: this.#queue.size,
      dropped: this.#queue.dropped,
      sent: this.#sent,
      failed: this.#failed,
    };
  }

  /**
   * Validates the message for every destination, then queues one send per destination. Resolves
   * once everything is queued (with the `block` policy this waits for room); `acknowledged` tells
   * when the broker has it. Throws (and queues nothing) when the message cannot be valid for a
   * destination: `ERR_AIO_PAYLOAD_TOO_LARGE` over the broker's maximum packet size,
   * `ERR_AIO_CONFIG` for a state-store destination without a state store.
   */
  async submit(
    request: ForwardRequest,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<Delivery> {
    if (this.#closing) throw new AioError('ERR_AIO_CLOSED', 'the forwarder is closed');
    const contentType = request.contentType ?? 'application/octet-stream';
    const timestamp = this.#clock.updateNow();
    const userProperties: UserProperty[] = [
      ['__ts', timestamp],
      ...(request.cloudEvent ?? []),
      ...(request.traceContext ?? []),
      ...(request.userProperties ?? []),
      ['__protVer', '1.0'],
      ['__srcId', this.#client.clientId],
    ];
    for (const destination of request.destinations)
      this.#validate(destination, request, contentType, userProperties);

    const settlements: Promise<void>[] = [];
    for (const destination of request.destinations) {
      let settle!: (error?: AioError) => void;
      const settlement = new Promise<void>((resolve, reject) => {
        settle = (error) => {
          if (error) reject(error);
          else resolve();
        };
      });
      // a later destination may fail to queue (aborted while waiting for room): the ones already
      // queued still settle, with nobody listening
      settlement.catch(() => undefined);
      settlements.push(settlement);
      const item: Item = {
        destination,
        request,
        userProperties,
        enqueuedAt: performance.now(),
        attempts: 0,
        settle,
      };
      await this.#queue.push(item, options);
    }
    const acknowledged = Promise.all(settlements).then(() => undefined);
    acknowledged.catch(() => undefined);
    return { acknowledged };
  }

  #validate(
    destination: ResolvedDestination,
    request: ForwardRequest,
    contentType: string,
    userProperties: readonly UserProperty[],
  ): void {
    if (destination.target === 'BrokerStateStore') {
      if (!this.#stateStore)
        throw new AioError(
          'ERR_AIO_CONFIG',
          'a BrokerStateStore destination needs a state store client',
          {
            details: { key: destination.key },
          },
        );
      return;
    }
    const max = this.#client.maximumPacketSize;
    if (max === undefined) return;
    const size = publishPacketSize(
      destination.topic,
      request.payload.byteLength,
      destination.qos,
      contentType,
      destination.messageExpiryInSeconds,
      userProperties,
    );
    if (size > max)
      throw new AioError(
        'ERR_AIO_PAYLOAD_TOO_LARGE',
        `message of ${request.payload.byteLength} bytes makes a ${size}-byte PUBLISH on "${destination.topic}", over the broker's maximum packet size of ${max} bytes`,
        { details: { topic: destination.topic, packetSize: size, maximumPacketSize: max } },
      );
  }

  async #work(): Promise<void> {
    const signal = this.#stopWorkers.signal;
    for (;;) {
      let entry;
      try {
        entry = await this.#queue.take({ signal });
      } catch {
        return;
      }
      if (!entry) return;
      const item = entry.value;
      const started = performance.now();
      try {
        await this.#send(item, signal);
        this.#queue.done(entry);
        this.#sent += 1;
        this.#telemetry.recordForward(
          { ...item.request.attributes, 'aio.destination': item.destination.target },
          performance.now() - item.enqueuedAt,
          item.request.payload.byteLength,
          true,
        );
        item.settle();
      } catch (error) {
        const failure = toForwardError(error, item.destination);
        item.attempts += 1;
        if (signal.aborted && (failure.retryable || failure.code === 'ERR_AIO_ABORTED')) {
          // shutting down: leave it to be dropped with the rest of the queue
          this.#queue.release(entry);
          return;
        }
        if (failure.retryable) {
          this.#telemetry.recordRetry({ 'aio.operation': 'forward' });
          const delay = computeBackoff(item.attempts, {
            minDelayInMs: this.#options.retry.minDelayInMs ?? 100,
            maxDelayInMs: this.#options.retry.maxDelayInMs ?? 10_000,
            jitter: this.#options.retry.jitter ?? 0.5,
          });
          this.#logger.debug(
            {
              err: failure,
              attempt: item.attempts,
              delayInMs: delay,
              target: describe(item.destination),
            },
            'forward failed; retrying',
          );
          try {
            await sleep(delay, signal);
          } catch {
            // shutting down: put it back to be dropped with the rest of the queue
            this.#queue.release(entry);
            return;
          }
          this.#queue.release(entry);
          continue;
        }
        this.#queue.done(entry);
        this.#failed += 1;
        this.#telemetry.recordForward(
          { ...item.request.attributes, 'aio.destination': item.destination.target },
          performance.now() - started,
          item.request.payload.byteLength,
          false,
        );
        this.#logger.warn({ err: failure, target: describe(item.destination) }, 'forward failed');
        item.request.onFailure?.(failure, item.destination);
        item.settle(failure);
      }
    }
  }

  /** Sends one item; `signal` (shutdown) abandons a send that waits for a broker that is away. */
  async #send(item: Item, signal: AbortSignal): Promise<void> {
    const { destination, request } = item;
    if (destination.target === 'BrokerStateStore') {
      await (this.#stateStore as StateStoreWriter).set(destination.key, request.payload, {
        signal,
      });
      return;
    }
    const result = await this.#client.publish(
      {
        topic: destination.topic,
        payload: request.payload,
        qos: destination.qos,
        retain: destination.retain,
        contentType: request.contentType ?? 'application/octet-stream',
        payloadFormatIndicator: 0,
        messageExpiryInterval: destination.messageExpiryInSeconds,
        userProperties: item.userProperties,
      },
      { signal },
    );
    if (result.reasonCode >= 0x80) {
      const name = reasonNames[result.reasonCode] ?? 'error';
      throw new AioError(
        'ERR_AIO_MQTT_PUBLISH',
        `broker refused the PUBLISH to "${destination.topic}": 0x${result.reasonCode.toString(16)} ${name}${result.reasonString ? ` (${result.reasonString})` : ''}`,
        {
          retryable: !permanentReasonCodes.has(result.reasonCode),
          details: { topic: destination.topic, reasonCode: result.reasonCode },
        },
      );
    }
  }

  #onDrop(item: Item, error: QueueDropError): void {
    this.#telemetry.recordDrop({
      ...item.request.attributes,
      'aio.reason': error.code === 'ERR_AIO_QUEUE_OVERFLOW' ? 'queue_overflow' : 'closed',
    });
    item.request.onFailure?.(error, item.destination);
    item.settle(error);
    // log once per burst: the first drop, then a summary when drops stop for a second
    if (this.#dropBurst === 0)
      this.#logger.warn(
        { err: error, capacity: this.#queue.capacity, policy: this.#queue.overflow },
        'forwarding queue full: dropping messages',
      );
    this.#dropBurst += 1;
    if (this.#dropBurstTimer) this.#dropBurstTimer.refresh();
    else {
      this.#dropBurstTimer = setTimeout(() => {
        this.#logger.warn({ dropped: this.#dropBurst }, 'forwarding queue drop burst ended');
        this.#dropBurst = 0;
        this.#dropBurstTimer = undefined;
      }, 1_000);
      this.#dropBurstTimer.unref();
    }
  }

  /**
   * Stops accepting messages and waits (up to `drainTimeoutInMs`) until everything queued is
   * acknowledged, then drops what is left. Safe to call twice; concurrent calls share one promise.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#queue.close();
      const drained = Promise.all(this.#workers).then(() => true);
      const timeout = sleep(this.#options.drainTimeoutInMs).then(() => false);
      if (!(await Promise.race([drained, timeout])))
        this.#logger.warn({ queued: this.#queue.size }, 'forwarder drain timed out');
      await this.#shutdown();
    })();
    return this.#closing;
  }

  /** Stops at once, dropping everything not yet acknowledged. */
  destroy(): void {
    this.#closing ??= (async () => {
      this.#queue.close();
      await this.#shutdown();
    })();
  }

  async #shutdown(): Promise<void> {
    this.#stopWorkers.abort();
    this.#stopGauge();
    await Promise.all(this.#workers);
    // whatever was not sent is dropped and its delivery settled
    this.#queue.close({ discard: true });
    if (this.#dropBurstTimer) clearTimeout(this.#dropBurstTimer);
  }
}

function describe(destination: ResolvedDestination): string {
  return destination.target === 'Mqtt'
    ? `mqtt:${destination.topic}`
    : `state-store:${destination.key}`;
}

function toForwardError(error: unknown, destination: ResolvedDestination): AioError {
  if (isAioError(error)) return error;
  // an unclassified failure (a dropped connection, a client error) is worth another attempt
  return new AioError(
    'ERR_AIO_MQTT_PUBLISH',
    `forward to ${describe(destination)} failed: ${error instanceof Error ? error.message : String(error)}`,
    { cause: error, retryable: true },
  );
}
