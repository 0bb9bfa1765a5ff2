/**
 * The small MQTT 5 client interface the protocol layer depends on. `MqttSession` implements it over
 * mqtt.js; tests (including the METL conformance harness) implement it with a stub.
 *
 * @module
 */

/** MQTT QoS. The SDK uses 0 and 1 only. */
export type QoS = 0 | 1;

/** A user property. Order is kept and names may repeat, as MQTT 5 allows. */
export type UserProperty = readonly [name: string, value: string];

/** The MQTT 5 PUBLISH properties the SDK reads and writes. */
export interface PublishProperties {
  readonly contentType?: string;
  /** 0 = unspecified bytes, 1 = UTF-8 text. */
  readonly payloadFormatIndicator?: 0 | 1;
  /** Seconds. */
  readonly messageExpiryInterval?: number;
  readonly responseTopic?: string;
  readonly correlationData?: Uint8Array;
  readonly userProperties?: readonly UserProperty[];
}

/** A message to publish. */
export interface OutgoingMessage extends PublishProperties {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly qos: QoS;
  readonly retain?: boolean;
}

/** The broker's answer to a PUBLISH: the PUBACK reason code (0 for QoS 0 once written). */
export interface PublishResult {
  readonly reasonCode: number;
  readonly reasonString?: string;
}

/** The broker's answer to a SUBSCRIBE or UNSUBSCRIBE: one reason code per filter. */
export interface SubscribeResult {
  readonly reasonCode: number;
}

/** A received PUBLISH. */
export interface IncomingMessage extends PublishProperties {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly qos: QoS;
  readonly retain: boolean;
}

/**
 * Called for every received message; every handler sees every message. A handler that returns a
 * promise holds the message's acknowledgement until the promise settles (handlers not interested
 * in a message return nothing). A QoS 1 message is acknowledged once all handlers have settled, and
 * acknowledgements are sent in the order messages were received.
 */
export type MessageHandler = (message: IncomingMessage) => void | Promise<void>;

/** Connection state changes reported to listeners. */
export type ConnectionEvent =
  | { readonly type: 'connected'; readonly sessionPresent: boolean }
  | { readonly type: 'disconnected'; readonly error?: Error }
  | { readonly type: 'closed'; readonly error?: Error };

/**
 * The MQTT 5 client the protocol layer uses. Implementations must keep QoS 1 publishes pending
 * across a reconnect (the session resumes them) and resolve `publish` only when the broker
 * acknowledged.
 *
 * @example
 * ```ts
 * import type { MqttClient } from '@aio-connector/core';
 * async function hello(client: MqttClient) {
 *   await client.publish({ topic: 'hello', payload: new TextEncoder().encode('hi'), qos: 1 });
 * }
 * ```
 */
export interface MqttClient {
  /** The MQTT client id (used in response topics and `__srcId`). */
  readonly clientId: string;
  /** Publishes; resolves with the PUBACK (QoS 1) or once written (QoS 0). */
  publish(
    message: OutgoingMessage,
    options?: { readonly signal?: AbortSignal },
  ): Promise<PublishResult>;
  /** Subscribes to one filter. Rejects if the broker refuses it. */
  subscribe(
    filter: string,
    options: { readonly qos: QoS; readonly noLocal?: boolean },
  ): Promise<SubscribeResult>;
  /** Unsubscribes from one filter. */
  unsubscribe(filter: string): Promise<SubscribeResult>;
  /** Adds a message handler; returns a function that removes it. */
  onMessage(handler: MessageHandler): () => void;
  /** Adds a connection-state listener; returns a function that removes it. */
  onConnectionChange?(listener: (event: ConnectionEvent) => void): () => void;
  /** The broker's maximum packet size from CONNACK, if it announced one. */
  readonly maximumPacketSize?: number | undefined;
}
