/**
 * `TelemetryReceiver`: subscribes to a topic pattern and hands each valid telemetry message to
 * application code, acknowledging it once the handler has finished.
 *
 * @module
 */
import { silentLogger, type Logger } from '../logger.ts';
import type { IncomingMessage, MqttClient, QoS, UserProperty } from '../mqtt/mqtt-client.ts';
import { parseCloudEvent, type CloudEvent } from './cloud-event.ts';
import { sharedHybridLogicalClock, type HlcTimestamp, type HybridLogicalClock } from './hlc.ts';
import {
  formatIndicatorOf,
  ListeningSubscription,
  mergeTimestamp,
  readTimestamp,
} from './protocol-support.ts';
import { createJsonSerializer, deserializeWith, type PayloadSerializer } from './serializers.ts';
import { TopicPattern, type TopicTokens } from './topic-pattern.ts';
import {
  getUserProperty,
  invalidConfiguration,
  isSupportedProtocolVersion,
  reservedProperties,
  userDataOf,
} from './user-properties.ts';

/** A received telemetry message, as handed to the handler. */
export interface TelemetryMessage<T> {
  /** The deserialized payload. */
  readonly payload: T;
  readonly topic: string;
  /** The value of every token of the topic pattern, resident and captured. */
  readonly topicTokens: Readonly<Record<string, string>>;
  /** The user properties not reserved by the SDK (`__*`). */
  readonly userData: Readonly<Record<string, string>>;
  /** All user properties, in order. */
  readonly userProperties: readonly UserProperty[];
  /** The sender's client id (`__srcId`). */
  readonly senderId: string | undefined;
  /** The sender's clock (`__ts`). */
  readonly timestamp: HlcTimestamp | undefined;
  /** The CloudEvent, when the message carries a valid one. */
  readonly cloudEvent: CloudEvent | undefined;
  readonly contentType: string | undefined;
  readonly payloadFormatIndicator: 0 | 1 | undefined;
  /** Seconds, as received. */
  readonly messageExpiryInterval: number | undefined;
  readonly qos: QoS;
  readonly retain: boolean;
}

/**
 * Handles one telemetry message. The message is acknowledged when the returned promise settles
 * (whether it resolves or rejects; a rejection is logged).
 */
export type TelemetryHandler<T> = (message: TelemetryMessage<T>) => void | Promise<void>;

/** Options of {@link TelemetryReceiver}. Every field is optional. */
export interface TelemetryReceiverOptions<T> {
  /** Deserializes payloads. Default: {@link createJsonSerializer}. */
  readonly serializer?: PayloadSerializer<T>;
  /** Namespace prepended to the topic. Default: none. */
  readonly topicNamespace?: string;
  /** Resident topic token values; the other tokens are subscribed as `+`. Default: none. */
  readonly topicTokens?: TopicTokens;
  /** Shared subscription group: subscribes to `$share/{shareName}/{filter}`. Default: none. */
  readonly shareName?: string;
  /** Subscription QoS. Default: 1. */
  readonly qos?: QoS;
  /** The application's clock; received `__ts` values are merged into it. Default: shared. */
  readonly hlc?: HybridLogicalClock;
  /** Default: silent. */
  readonly logger?: Logger;
}

/**
 * Receives telemetry. `start()` subscribes (a refused SUBSCRIBE is a `ProtocolError` of kind `mqtt
 * error`); each message on a matching topic is validated (protocol version, `__ts`, content type
 * and payload through the serializer) and handed to the handler; invalid messages are logged and
 * acknowledged without reaching the handler. An invalid CloudEvent does not drop the message: it is
 * delivered with `cloudEvent` undefined. `stop()` unsubscribes.
 *
 * @example
 * ```ts
 * import { TelemetryReceiver } from '@aio-connector/core';
 * declare const client: import('@aio-connector/core').MqttClient;
 * const receiver = new TelemetryReceiver<{ temperature: number }>(
 *   client,
 *   'factory/{ex:line}/telemetry',
 *   async ({ payload, topicTokens, cloudEvent }) => {
 *     console.log(topicTokens['ex:line'], payload.temperature, cloudEvent?.source);
 *   },
 * );
 * await receiver.start();
 * // ...
 * await receiver.stop();
 * ```
 */
export class TelemetryReceiver<T = unknown> {
  /** The topic pattern with the resident tokens applied. */
  readonly topic: TopicPattern;
  /** The filter passed to SUBSCRIBE (with the `$share/` prefix for a shared subscription). */
  readonly subscriptionFilter: string;
  readonly #client: MqttClient;
  readonly #handler: TelemetryHandler<T>;
  readonly #serializer: PayloadSerializer<T>;
  readonly #qos: QoS;
  readonly #hlc: HybridLogicalClock;
  readonly #logger: Logger;
  #subscription: ListeningSubscription | undefined;

  constructor(
    client: MqttClient,
    topicPattern: string,
    handler: TelemetryHandler<T>,
    options: TelemetryReceiverOptions<T> = {},
  ) {
    if (typeof client !== 'object' || client === null)
      throw invalidConfiguration('client', client, 'an MqttClient is required');
    if (typeof handler !== 'function')
      throw invalidConfiguration('handler', handler, 'a telemetry handler function is required');
    this.#client = client;
    this.#handler = handler;
    this.topic = new TopicPattern(topicPattern, {
      namespace: options.topicNamespace,
      tokens: options.topicTokens,
      patternName: 'topicPattern',
    });
    const { shareName } = options;
    if (
      shareName !== undefined &&
      (typeof shareName !== 'string' || !/^[^/+#\s]+$/.test(shareName))
    )
      throw invalidConfiguration(
        'shareName',
        shareName,
        'shareName must be a non-empty level without / + #',
      );
    this.subscriptionFilter =
      shareName === undefined ? this.topic.filter : `$share/${shareName}/${this.topic.filter}`;
    const qos = options.qos ?? 1;
    if (qos !== 0 && qos !== 1) throw invalidConfiguration('qos', qos, 'qos must be 0 or 1');
    this.#qos = qos;
    this.#serializer = options.serializer ?? createJsonSerializer<T>();
    this.#hlc = options.hlc ?? sharedHybridLogicalClock();
    this.#logger = (options.logger ?? silentLogger).child({ topicPattern });
  }

  /** Subscribes and starts delivering messages. Safe to call twice. */
  start(options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    this.#subscription ??= new ListeningSubscription({
      client: this.#client,
      filter: this.subscriptionFilter,
      qos: this.#qos,
      commandName: undefined,
      handler: (message) => this.#onMessage(message),
      onChange: (state) => {
        this.#logger.debug({ filter: this.subscriptionFilter }, `telemetry receiver ${state}`);
      },
    });
    return this.#subscription.start(options.signal);
  }

  /** Unsubscribes and stops delivering messages. Safe to call twice. */
  stop(): Promise<void> {
    return this.#subscription?.stop() ?? Promise.resolve();
  }

  /** Same as {@link TelemetryReceiver.stop}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  #onMessage(message: IncomingMessage): Promise<void> | undefined {
    const topicTokens = this.topic.match(message.topic);
    if (topicTokens === undefined) return undefined;
    let telemetry: TelemetryMessage<T>;
    try {
      telemetry = this.#read(message, topicTokens);
    } catch (error) {
      this.#logger.warn({ topic: message.topic, err: error }, 'telemetry message dropped');
      return undefined;
    }
    return (async () => {
      try {
        await this.#handler(telemetry);
      } catch (error) {
        this.#logger.warn({ topic: message.topic, err: error }, 'telemetry handler failed');
      }
    })();
  }

  #read(message: IncomingMessage, topicTokens: Record<string, string>): TelemetryMessage<T> {
    const properties = message.userProperties ?? [];
    const version = getUserProperty(properties, reservedProperties.protocolVersion);
    if (!isSupportedProtocolVersion(version))
      throw new Error(`unsupported protocol version '${version ?? ''}'`);
    const timestamp = readTimestamp(getUserProperty(properties, reservedProperties.timestamp));
    const formatIndicator = formatIndicatorOf(message.payloadFormatIndicator);
    const payload = deserializeWith(
      this.#serializer,
      message.payload,
      message.contentType,
      formatIndicator,
    );
    try {
      mergeTimestamp(this.#hlc, timestamp, undefined);
    } catch (error) {
      this.#logger.warn(
        { topic: message.topic, err: error },
        'received __ts not merged into the clock',
      );
    }
    let cloudEvent: CloudEvent | undefined;
    try {
      cloudEvent = parseCloudEvent(properties, message.contentType);
    } catch (error) {
      this.#logger.debug({ topic: message.topic, err: error }, 'ignoring an invalid CloudEvent');
    }
    return Object.freeze({
      payload,
      topic: message.topic,
      topicTokens: Object.freeze(topicTokens),
      userData: Object.freeze(userDataOf(properties)),
      userProperties: properties,
      senderId: getUserProperty(properties, reservedProperties.sourceId),
      timestamp,
      cloudEvent,
      contentType: message.contentType,
      payloadFormatIndicator: formatIndicator,
      messageExpiryInterval: message.messageExpiryInterval,
      qos: message.qos,
      retain: message.retain,
    });
  }
}
