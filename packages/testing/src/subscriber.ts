/**
 * A raw MQTT 5 subscriber (plain mqtt.js) that records every PUBLISH it receives, for asserting
 * what really went over the wire.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import {
  connect as mqttConnect,
  type IClientOptions,
  type IPublishPacket,
  type MqttClient,
} from 'mqtt';

/** A received PUBLISH, as the broker delivered it. */
export interface ReceivedMessage {
  readonly topic: string;
  /** The exact payload bytes. */
  readonly payload: Buffer;
  readonly qos: 0 | 1 | 2;
  readonly retain: boolean;
  readonly dup: boolean;
  readonly contentType?: string;
  /** 0 or 1 when the property was present. */
  readonly payloadFormatIndicator?: 0 | 1;
  readonly messageExpiryInterval?: number;
  readonly responseTopic?: string;
  readonly correlationData?: Buffer;
  /**
   * User properties as `[name, value]` pairs, in the order the MQTT parser reports them (grouped by
   * name: repeated names are adjacent).
   */
  readonly userProperties: ReadonlyArray<readonly [string, string]>;
  readonly subscriptionIdentifier?: number | readonly number[];
}

/** Options of {@link startSubscriber}. */
export interface SubscriberOptions {
  /** Subscription QoS. Default: 1. */
  readonly qos?: 0 | 1 | 2;
  /** Client id. Default: a random `aio-test-sub-…`. */
  readonly clientId?: string;
  /**
   * Keep a persistent session (CleanStart false, session expiry 300 s) so messages published
   * while the subscriber is disconnected are queued by the broker. Default: `false`.
   */
  readonly persistent?: boolean;
  /** Extra subscription filters. */
  readonly moreFilters?: readonly string[];
  /** CA certificate (PEM) to trust, for `mqtts://` URLs. */
  readonly ca?: string;
  /** Client certificate (PEM), for mTLS. */
  readonly cert?: string;
  /** Client key (PEM), for mTLS. */
  readonly key?: string;
  /** Delay between reconnect attempts, in ms. Default: 200. */
  readonly reconnectPeriodInMs?: number;
}

/** Options of {@link Subscriber.waitFor}. */
export interface WaitForOptions {
  /** Default: 10 000. */
  readonly timeoutInMs?: number;
}

/** A running recording subscriber. */
export interface Subscriber {
  /** Every message received so far, in arrival order. */
  readonly messages: readonly ReceivedMessage[];
  /** The underlying mqtt.js client. */
  readonly client: MqttClient;
  readonly clientId: string;
  /**
   * Resolves with the recorded messages once at least `count` messages were received (or once one
   * matches `predicate`, resolving with the matching ones); rejects after the timeout, listing what
   * was received.
   */
  waitFor(
    countOrPredicate: number | ((message: ReceivedMessage) => boolean),
    options?: WaitForOptions,
  ): Promise<ReceivedMessage[]>;
  /** Disconnects. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Connects an MQTT 5 client to `url`, subscribes to `filter` and records every message.
 *
 * @example
 * ```ts
 * import { startSubscriber } from '@aio-connector/testing';
 * await using subscriber = await startSubscriber(broker.url, 'telemetry/#');
 * const [message] = await subscriber.waitFor(1);
 * console.log(message.topic, message.payload, message.userProperties);
 * ```
 */
export async function startSubscriber(
  url: string,
  filter: string,
  options: SubscriberOptions = {},
): Promise<Subscriber> {
  const persistent = options.persistent === true;
  const clientId = options.clientId ?? `aio-test-sub-${randomBytes(4).toString('hex')}`;
  const qos = options.qos ?? 1;
  const connectOptions: IClientOptions = {
    protocolVersion: 5,
    clientId,
    clean: !persistent,
    reconnectPeriod: options.reconnectPeriodInMs ?? 200,
    connectTimeout: 10_000,
    properties: { sessionExpiryInterval: persistent ? 300 : 0 },
    ...(options.ca === undefined ? {} : { ca: options.ca }),
    ...(options.cert === undefined ? {} : { cert: options.cert }),
    ...(options.key === undefined ? {} : { key: options.key }),
  };
  const messages: ReceivedMessage[] = [];
  const waiters = new Set<() => void>();
  // Queued messages may arrive right after CONNACK: register the recorder before connecting.
  const client = mqttConnect(url, { ...connectOptions, manualConnect: true });
  client.on('message', (_topic, _payload, packet) => {
    messages.push(toReceived(packet));
    for (const waiter of waiters) waiter();
  });
  client.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      client.off('connect', onConnect);
      client.end(true);
      reject(error);
    };
    const onConnect = (): void => {
      client.off('error', onError);
      resolve();
    };
    client.once('connect', onConnect);
    client.once('error', onError);
    client.connect();
  });
  const filters = [filter, ...(options.moreFilters ?? [])];
  const granted = await client.subscribeAsync(filters, { qos });
  for (const grant of granted) {
    if (grant.qos >= 0x80) {
      await client.endAsync(true);
      throw new Error(
        `the broker refused the subscription to ${grant.topic} (0x${grant.qos.toString(16)})`,
      );
    }
  }
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= client.endAsync().catch(() => client.endAsync(true));
    return closing;
  };
  return {
    messages,
    client,
    clientId,
    waitFor: (countOrPredicate, waitOptions = {}) => {
      const timeoutInMs = waitOptions.timeoutInMs ?? 10_000;
      const matching = (): ReceivedMessage[] | undefined => {
        if (typeof countOrPredicate === 'number')
          return messages.length >= countOrPredicate ? [...messages] : undefined;
        const found = messages.filter(countOrPredicate);
        return found.length > 0 ? found : undefined;
      };
      const now = matching();
      if (now !== undefined) return Promise.resolve(now);
      return new Promise<ReceivedMessage[]>((resolve, reject) => {
        const check = (): void => {
          const found = matching();
          if (found === undefined) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          const summary = messages
            .map((m) => `${m.topic} (${m.payload.length} bytes)`)
            .slice(-10)
            .join(', ');
          reject(
            new Error(
              `subscriber ${clientId}: waited ${timeoutInMs} ms for ${
                typeof countOrPredicate === 'number'
                  ? `${countOrPredicate} messages`
                  : 'a matching message'
              }, received ${messages.length}${summary === '' ? '' : `: ${summary}`}`,
            ),
          );
        }, timeoutInMs);
        waiters.add(check);
      });
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

function toReceived(packet: IPublishPacket): ReceivedMessage {
  const p = packet.properties ?? {};
  const userProperties: Array<readonly [string, string]> = [];
  for (const [name, value] of Object.entries(p.userProperties ?? {})) {
    if (Array.isArray(value)) for (const item of value) userProperties.push([name, item]);
    else userProperties.push([name, value]);
  }
  const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
  return {
    topic: packet.topic,
    payload: Buffer.from(payload),
    qos: packet.qos,
    retain: packet.retain,
    dup: packet.dup,
    ...(p.contentType === undefined ? {} : { contentType: p.contentType }),
    ...(p.payloadFormatIndicator === undefined
      ? {}
      : { payloadFormatIndicator: p.payloadFormatIndicator ? 1 : 0 }),
    ...(p.messageExpiryInterval === undefined
      ? {}
      : { messageExpiryInterval: p.messageExpiryInterval }),
    ...(p.responseTopic === undefined ? {} : { responseTopic: p.responseTopic }),
    ...(p.correlationData === undefined ? {} : { correlationData: Buffer.from(p.correlationData) }),
    userProperties,
    ...(p.subscriptionIdentifier === undefined
      ? {}
      : { subscriptionIdentifier: p.subscriptionIdentifier }),
  };
}
