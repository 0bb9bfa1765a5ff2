/**
 * The `MqttClient` of the METL harness. It records what the components send and acknowledges
 * PUBLISH, SUBSCRIBE and UNSUBSCRIBE from queues of ack kinds (`success`, `fail`, `drop`), as the
 * METL `push-acks` prologue describes. It also honours the contract of the real session client:
 *
 * - received QoS 1 messages are acknowledged once every handler settled, in receive order;
 * - `disconnect()` loses the acknowledgements still pending on the old connection, reconnects with
 *   the session present, and re-sends the PUBLISH (and SUBSCRIBE/UNSUBSCRIBE) packets that were
 *   never acknowledged.
 */
import { AioError } from '../../src/errors.ts';
import type {
  ConnectionEvent,
  IncomingMessage,
  MessageHandler,
  MqttClient,
  OutgoingMessage,
  PublishResult,
  QoS,
  SubscribeResult,
} from '../../src/mqtt/mqtt-client.ts';

export type AckKind = 'success' | 'fail' | 'drop';

interface Inbound {
  readonly packetId: number;
  settled: boolean;
}

interface DroppedRequest {
  readonly kind: 'publish' | 'subscribe' | 'unsubscribe';
  readonly replay: () => void;
}

export class StubMqttClient implements MqttClient {
  readonly clientId: string;
  readonly publishAcks: AckKind[] = [];
  readonly subscribeAcks: AckKind[] = [];
  readonly unsubscribeAcks: AckKind[] = [];
  /** Every PUBLISH sent by the components, re-sends included, in order. */
  readonly publications: OutgoingMessage[] = [];
  /** Every filter the components subscribed to. */
  readonly subscriptions = new Set<string>();
  /** Packet ids of the PUBACKs sent for received messages, in order. */
  readonly acknowledgements: number[] = [];
  /** Errors thrown synchronously by message handlers (a conforming component throws none). */
  readonly handlerErrors: unknown[] = [];
  readonly #handlers = new Set<MessageHandler>();
  readonly #connectionListeners = new Set<(event: ConnectionEvent) => void>();
  readonly #changeListeners = new Set<() => void>();
  #inbound: Inbound[] = [];
  #dropped: DroppedRequest[] = [];
  #packetId = 0;
  #publicationCursor = 0;
  #acknowledgementCursor = 0;

  constructor(clientId: string) {
    this.clientId = clientId;
  }

  publish(message: OutgoingMessage): Promise<PublishResult> {
    return new Promise((resolve) => {
      const send = (): void => {
        this.publications.push(message);
        this.#changed();
        if (message.qos === 0) {
          resolve({ reasonCode: 0 });
          return;
        }
        const kind = this.publishAcks.shift() ?? 'success';
        if (kind === 'success') resolve({ reasonCode: 0 });
        else if (kind === 'fail') resolve({ reasonCode: 0x80, reasonString: 'some reason' });
        else this.#dropped.push({ kind: 'publish', replay: send });
      };
      send();
    });
  }

  subscribe(filter: string, options: { readonly qos: QoS }): Promise<SubscribeResult> {
    return new Promise((resolve, reject) => {
      const send = (): void => {
        this.subscriptions.add(filter);
        const kind = this.subscribeAcks.shift() ?? 'success';
        if (kind === 'success') resolve({ reasonCode: options.qos });
        else if (kind === 'fail')
          reject(
            new AioError('ERR_AIO_MQTT_SUBSCRIBE', `the broker refused '${filter}'`, {
              details: { reasonCode: 0x80 },
            }),
          );
        else this.#dropped.push({ kind: 'subscribe', replay: send });
      };
      send();
    });
  }

  unsubscribe(filter: string): Promise<SubscribeResult> {
    return new Promise((resolve, reject) => {
      const send = (): void => {
        const kind = this.unsubscribeAcks.shift() ?? 'success';
        if (kind === 'success') {
          this.subscriptions.delete(filter);
          resolve({ reasonCode: 0 });
        } else if (kind === 'fail')
          reject(
            new AioError(
              'ERR_AIO_MQTT_SUBSCRIBE',
              `the broker refused to unsubscribe '${filter}'`,
              {
                details: { reasonCode: 0x80 },
              },
            ),
          );
        else this.#dropped.push({ kind: 'unsubscribe', replay: send });
      };
      send();
    });
  }

  onMessage(handler: MessageHandler): () => void {
    const wrapped: MessageHandler = (message) => handler(message);
    this.#handlers.add(wrapped);
    return () => this.#handlers.delete(wrapped);
  }

  onConnectionChange(listener: (event: ConnectionEvent) => void): () => void {
    this.#connectionListeners.add(listener);
    return () => this.#connectionListeners.delete(listener);
  }

  /** A new packet id for a message the broker delivers. */
  newPacketId(): number {
    this.#packetId = (this.#packetId % 0xffff) + 1;
    return this.#packetId;
  }

  /** Delivers a message to the components, as the broker would. */
  receive(message: IncomingMessage, packetId: number): void {
    const entry: Inbound = { packetId, settled: false };
    if (message.qos === 1) this.#inbound.push(entry);
    const results: Promise<void>[] = [];
    for (const handler of [...this.#handlers]) {
      try {
        const result = handler(message);
        if (result !== undefined) results.push(result);
      } catch (error) {
        this.handlerErrors.push(error);
      }
    }
    void Promise.allSettled(results).then(() => {
      entry.settled = true;
      this.#flushAcknowledgements();
    });
  }

  /** Drops the connection and reconnects at once with the session present. */
  disconnect(): void {
    this.#inbound = [];
    for (const listener of this.#connectionListeners) listener({ type: 'disconnected' });
    for (const listener of this.#connectionListeners)
      listener({ type: 'connected', sessionPresent: true });
    const dropped = this.#dropped;
    this.#dropped = [];
    for (const request of dropped) request.replay();
  }

  /** Resolves with the next publication not yet consumed. */
  nextPublication(timeoutInMs: number): Promise<OutgoingMessage | undefined> {
    return this.#waitFor(() => {
      const message = this.publications[this.#publicationCursor];
      if (message !== undefined) this.#publicationCursor++;
      return message;
    }, timeoutInMs);
  }

  /** Resolves with the packet id of the next acknowledgement not yet consumed. */
  nextAcknowledgement(timeoutInMs: number): Promise<number | undefined> {
    return this.#waitFor(() => {
      const packetId = this.acknowledgements[this.#acknowledgementCursor];
      if (packetId !== undefined) this.#acknowledgementCursor++;
      return packetId;
    }, timeoutInMs);
  }

  #flushAcknowledgements(): void {
    while (this.#inbound[0]?.settled === true) {
      const entry = this.#inbound.shift() as Inbound;
      this.acknowledgements.push(entry.packetId);
      this.#changed();
    }
  }

  #changed(): void {
    for (const listener of [...this.#changeListeners]) listener();
  }

  #waitFor<T>(take: () => T | undefined, timeoutInMs: number): Promise<T | undefined> {
    const now = take();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve) => {
      const listener = (): void => {
        const value = take();
        if (value === undefined) return;
        finish(value);
      };
      const timer = setTimeout(() => {
        finish(undefined);
      }, timeoutInMs);
      const finish = (value: T | undefined): void => {
        clearTimeout(timer);
        this.#changeListeners.delete(listener);
        resolve(value);
      };
      this.#changeListeners.add(listener);
    });
  }
}
