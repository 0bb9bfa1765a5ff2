/**
 * `TelemetrySender`: publishes telemetry on a topic pattern with the AIO telemetry envelope.
 *
 * @module
 */
import { silentLogger, type Logger } from '../logger.ts';
import type { MqttClient, OutgoingMessage, QoS, UserProperty } from '../mqtt/mqtt-client.ts';
import { cloudEventToUserProperties, type CloudEventInit } from './cloud-event.ts';
import { sharedHybridLogicalClock, type HybridLogicalClock } from './hlc.ts';
import { publishOrThrow, stampNow } from './protocol-support.ts';
import { createJsonSerializer, serializeWith, type PayloadSerializer } from './serializers.ts';
import { systemTimeSource, type TimeSource } from './time-source.ts';
import { TopicPattern, type TopicTokens } from './topic-pattern.ts';
import {
  invalidConfiguration,
  protocolVersion,
  reservedProperties,
  userDataToProperties,
} from './user-properties.ts';

/** The default CloudEvent `type` of telemetry. */
const telemetryEventType = 'ms.aio.telemetry';
const maxExpiryInSeconds = 0xffff_ffff;

/** Options of {@link TelemetrySender}. Every field is optional. */
export interface TelemetrySenderOptions<T> {
  /** Serializes the telemetry value. Default: {@link createJsonSerializer} (`application/json`). */
  readonly serializer?: PayloadSerializer<T>;
  /** Namespace prepended to the topic. Default: none. */
  readonly topicNamespace?: string;
  /**
   * Resident topic token values. Default: `{ senderId: client.clientId }` when the pattern has a
   * `{senderId}` token.
   */
  readonly topicTokens?: TopicTokens;
  /** Default QoS. Default: 1. */
  readonly qos?: QoS;
  /** Default retain flag. Default: `false`. */
  readonly retain?: boolean;
  /** Default message expiry, in ms, rounded up to whole seconds. Default: 10 000. */
  readonly timeoutInMs?: number;
  /** The application's clock, stamped into `__ts`. Default: {@link sharedHybridLogicalClock}. */
  readonly hlc?: HybridLogicalClock;
  /** Default: silent. */
  readonly logger?: Logger;
  /**
   * The clock used for CloudEvent times. Default: the system clock.
   *
   * @internal
   */
  readonly timeSource?: TimeSource;
}

/** Options of {@link TelemetrySender.send}. Every field is optional. */
export interface TelemetrySendOptions {
  /** Transient topic token values. Default: none. */
  readonly topicTokens?: TopicTokens;
  /** Message expiry in ms, rounded up to whole seconds. Default: the sender's `timeoutInMs`. */
  readonly timeoutInMs?: number;
  /** Default: the sender's `qos`. */
  readonly qos?: QoS;
  /** Default: the sender's `retain`. */
  readonly retain?: boolean;
  /** Custom user properties (names must not start with `__`). Default: none. */
  readonly userData?: Readonly<Record<string, string>>;
  /** A CloudEvent to attach. Default: none. */
  readonly cloudEvent?: CloudEventInit;
  /** Overrides the serializer's content type (for example for raw bytes). Default: none. */
  readonly contentType?: string;
  /** Overrides the serializer's payload format indicator. Default: none. */
  readonly payloadFormatIndicator?: 0 | 1;
  /** Sends `aio-persistence: true` so the broker persists the message. Default: `false`. */
  readonly persist?: boolean;
  /** Aborts waiting for the PUBACK. */
  readonly signal?: AbortSignal;
}

function checkQos(value: unknown, name: string): QoS | undefined {
  if (value === undefined) return undefined;
  if (value !== 0 && value !== 1) throw invalidConfiguration(name, value, `${name} must be 0 or 1`);
  return value;
}

function checkBoolean(value: unknown, name: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean')
    throw invalidConfiguration(name, value, `${name} must be a boolean`);
  return value;
}

/**
 * The message expiry interval for a timeout: ceil(ms / 1000) seconds. Throws `invalid
 * configuration` for a timeout that is not a positive finite number.
 *
 * @internal
 */
export function expiryInSeconds(timeoutInMs: unknown, name: string, commandName?: string): number {
  if (typeof timeoutInMs !== 'number' || !Number.isFinite(timeoutInMs) || timeoutInMs <= 0)
    throw invalidConfiguration(
      name,
      timeoutInMs,
      `${name} must be a positive number of milliseconds`,
      commandName,
    );
  const seconds = Math.ceil(timeoutInMs / 1000);
  if (seconds > maxExpiryInSeconds)
    throw invalidConfiguration(
      name,
      timeoutInMs,
      `${name} is larger than 2^32-1 seconds`,
      commandName,
    );
  return seconds;
}

/**
 * Sends telemetry: serializes the value, resolves the topic, and publishes it with QoS 1 (by
 * default), a message expiry, and the user properties `__ts`, CloudEvent attributes, custom user
 * data, `__protVer` and `__srcId`. `send` resolves when the broker acknowledged the message and
 * rejects with a `ProtocolError` (`invalid configuration` for bad arguments, `mqtt error` for a
 * refused PUBLISH, `cancellation` when aborted).
 *
 * @example
 * ```ts
 * import { TelemetrySender } from '@aio-connector/core';
 * declare const client: import('@aio-connector/core').MqttClient;
 * const sender = new TelemetrySender<{ temperature: number }>(client, 'factory/{ex:line}/telemetry', {
 *   topicTokens: { 'ex:line': 'line1' },
 * });
 * await sender.send({ temperature: 21.5 }, {
 *   cloudEvent: { source: 'ms-aio:thermostat-1' },
 *   signal: AbortSignal.timeout(10_000),
 * });
 * ```
 */
export class TelemetrySender<T = unknown> {
  /** The topic pattern with the resident tokens applied. */
  readonly topic: TopicPattern;
  readonly #client: MqttClient;
  readonly #serializer: PayloadSerializer<T>;
  readonly #qos: QoS;
  readonly #retain: boolean;
  readonly #timeoutInMs: number;
  readonly #hlc: HybridLogicalClock;
  readonly #logger: Logger;
  readonly #timeSource: TimeSource;

  constructor(client: MqttClient, topicPattern: string, options: TelemetrySenderOptions<T> = {}) {
    if (typeof client !== 'object' || client === null)
      throw invalidConfiguration('client', client, 'an MqttClient is required');
    this.#client = client;
    const tokens: Record<string, string> = { ...options.topicTokens };
    if (tokens['senderId'] === undefined && client.clientId) tokens['senderId'] = client.clientId;
    this.topic = new TopicPattern(topicPattern, {
      namespace: options.topicNamespace,
      tokens,
      patternName: 'topicPattern',
    });
    this.#serializer = options.serializer ?? createJsonSerializer<T>();
    this.#qos = checkQos(options.qos, 'qos') ?? 1;
    this.#retain = checkBoolean(options.retain, 'retain') ?? false;
    this.#timeoutInMs = options.timeoutInMs ?? 10_000;
    expiryInSeconds(this.#timeoutInMs, 'timeoutInMs');
    this.#hlc = options.hlc ?? sharedHybridLogicalClock();
    this.#logger = (options.logger ?? silentLogger).child({ topicPattern });
    this.#timeSource = options.timeSource ?? systemTimeSource;
  }

  /** Sends one telemetry message. */
  async send(value: T, options: TelemetrySendOptions = {}): Promise<void> {
    const message = this.#build(value, options);
    await publishOrThrow(this.#client, message, undefined, options.signal);
    this.#logger.trace({ topic: message.topic }, 'telemetry sent');
  }

  #build(value: T, options: TelemetrySendOptions): OutgoingMessage {
    const topic = this.topic.resolve(options.topicTokens);
    const expiry = expiryInSeconds(options.timeoutInMs ?? this.#timeoutInMs, 'timeoutInMs');
    const qos = checkQos(options.qos, 'qos') ?? this.#qos;
    const retain = checkBoolean(options.retain, 'retain') ?? this.#retain;
    const persist = checkBoolean(options.persist, 'persist') ?? false;
    const serialized = serializeWith(this.#serializer, value);
    const empty = serialized.payload.byteLength === 0;
    const contentType = empty ? undefined : (options.contentType ?? serialized.contentType);
    const formatIndicator = empty
      ? undefined
      : (options.payloadFormatIndicator ?? serialized.payloadFormatIndicator);
    const cloudEvent =
      options.cloudEvent === undefined
        ? []
        : cloudEventToUserProperties(options.cloudEvent, {
            defaultType: telemetryEventType,
            topic,
            contentType,
            now: this.#timeSource.now(),
          });
    const userData = userDataToProperties(options.userData);
    const userProperties: UserProperty[] = [
      [reservedProperties.timestamp, stampNow(this.#hlc, undefined)],
      ...cloudEvent,
      ...userData,
      [reservedProperties.protocolVersion, protocolVersion],
      [reservedProperties.sourceId, this.#client.clientId],
    ];
    if (persist) userProperties.push([reservedProperties.persistence, 'true']);
    return {
      topic,
      payload: serialized.payload,
      qos,
      retain,
      messageExpiryInterval: expiry,
      userProperties,
      ...(contentType === undefined ? {} : { contentType }),
      ...(formatIndicator === undefined ? {} : { payloadFormatIndicator: formatIndicator }),
    };
  }
}
