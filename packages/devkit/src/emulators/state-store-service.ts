/**
 * The state store emulator: answers the AIO state store RPC on
 * `statestore/v1/FA9AE35F-2F64-47CD-9BFF-08E2B32A0FE8/command/invoke` with a
 * {@link StateStoreEngine}, and publishes key notifications to each watching client.
 *
 * The responses are built here rather than by a `CommandExecutor`: the state store answers with
 * the key's version in `__ts` (not the time of the response), which an executor cannot carry.
 *
 * @module
 */
import {
  getUserProperty,
  protocolVersion,
  reservedProperties,
  silentLogger,
  stateStoreNotificationTopic,
  stateStoreTopics,
  supportedMajorProtocolVersions,
  isSupportedProtocolVersion,
  type IncomingMessage,
  type Logger,
  type MqttClient,
  type OutgoingMessage,
  type UserProperty,
} from '@aio-connector/core';
import { StateStoreEngine, type StateStoreEngineNotification } from './state-store-engine.ts';

/** Options of {@link startStateStoreService}. Every field is optional. */
export interface StateStoreServiceOptions {
  /** The wall clock, in ms since the Unix epoch (for versions and expiry). Default: `Date.now`. */
  readonly now?: () => number;
  /** Default: silent. */
  readonly logger?: Logger;
}

/** A running state store emulator. */
export interface StateStoreService {
  /** The engine holding the keys; inspect it, or call `removeClient` when a client disconnects. */
  readonly engine: StateStoreEngine;
  /** Unsubscribes, stops the expiry timer and stops answering. Safe to call twice. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const octetStream = 'application/octet-stream';
/** Message expiry of notifications, in seconds. */
const notificationExpiryInSeconds = 10;
/** Longest wait of the expiry timer; a wall clock that jumps is caught up at this interval. */
const maxSweepDelayInMs = 60_000;

/**
 * Starts the state store emulator on an MQTT client (for example an `MqttSession` connected to
 * the sandbox broker) and resolves once its request subscription is in place.
 *
 * For each request it reads the RESP3 payload and the user properties `__srcId` (the requesting
 * client, to which `KEYNOTIFY` notifications are addressed), `__ts` and `__ft`, runs the engine,
 * and answers on the request's response topic with the same correlation data: the engine's RESP3
 * payload (`application/octet-stream`), `__stat` 200 and `__ts` = the version of the key the
 * response concerns. Requests without a response topic are dropped; requests without 16 bytes of
 * correlation data or without a client id are answered with 400, an unsupported `__protVer` with
 * 505. Keys written with `PX` expire on a timer, which notifies their watchers with
 * `NOTIFY DELETE`.
 *
 * The real service forgets a client's `KEYNOTIFY` registrations when the client disconnects. On a
 * plain broker the emulator cannot see disconnects: registrations last until `KEYNOTIFY … STOP`,
 * or until the host calls `engine.removeClient(clientId)` (a sandbox that runs its own broker can
 * wire that to the broker's disconnect event).
 *
 * @example
 * ```ts
 * import { MqttSession, StateStoreClient } from '@aio-connector/core';
 * import { startStateStoreService } from '@aio-connector/devkit';
 * declare const serviceSession: MqttSession;
 * declare const clientSession: MqttSession;
 * const service = await startStateStoreService(serviceSession);
 * const store = new StateStoreClient(clientSession);
 * await store.set('k', 'v');
 * console.log(service.engine.inspect('k')?.version);
 * await service.close();
 * ```
 */
export async function startStateStoreService(
  client: MqttClient,
  options: StateStoreServiceOptions = {},
): Promise<StateStoreService> {
  if (typeof client !== 'object' || client === null || typeof client.publish !== 'function')
    throw new TypeError('client must be an MqttClient');
  if (typeof options !== 'object' || options === null)
    throw new TypeError('options must be an object');
  if (options.now !== undefined && typeof options.now !== 'function')
    throw new TypeError('now must be a function');
  const now = options.now ?? Date.now;
  const logger = (options.logger ?? silentLogger).child({ component: 'state-store-service' });
  const engine = new StateStoreEngine({ now });
  const topic = stateStoreTopics.request;
  let closed = false;
  let sweepTimer: NodeJS.Timeout | undefined;

  const publish = (message: OutgoingMessage): Promise<void> =>
    client.publish(message).then(
      (result) => {
        if (result.reasonCode >= 0x80)
          logger.warn(
            { topic: message.topic, reasonCode: result.reasonCode },
            'the broker refused a state store message',
          );
      },
      (error: unknown) => {
        logger.warn({ topic: message.topic, err: error }, 'a state store message was not sent');
      },
    );

  const notify = (notifications: readonly StateStoreEngineNotification[]): Promise<void>[] =>
    notifications.map((notification) =>
      publish({
        topic: stateStoreNotificationTopic(notification.clientId, notification.key),
        payload: notification.payload,
        qos: 1,
        contentType: octetStream,
        payloadFormatIndicator: 0,
        messageExpiryInterval: notificationExpiryInSeconds,
        userProperties: [
          [reservedProperties.timestamp, notification.version],
          [reservedProperties.protocolVersion, protocolVersion],
          [reservedProperties.sourceId, client.clientId],
        ],
      }),
    );

  const scheduleSweep = (): void => {
    clearTimeout(sweepTimer);
    sweepTimer = undefined;
    if (closed) return;
    const next = engine.nextExpiryAt();
    if (next === undefined) return;
    const delay = Math.min(Math.max(0, next - now()), maxSweepDelayInMs);
    sweepTimer = setTimeout(() => {
      sweepTimer = undefined;
      if (closed) return;
      const notifications = engine.sweep();
      if (notifications.length > 0)
        logger.debug({ count: notifications.length }, 'expired keys notified');
      void Promise.all(notify(notifications));
      scheduleSweep();
    }, delay);
    sweepTimer.unref();
  };

  const respond = (
    request: IncomingMessage,
    responseTopic: string,
    status: number,
    payload: Uint8Array,
    extra: readonly UserProperty[],
  ): Promise<void> =>
    publish({
      topic: responseTopic,
      payload,
      qos: 1,
      ...(payload.byteLength === 0 ? {} : { contentType: octetStream, payloadFormatIndicator: 0 }),
      ...(request.correlationData === undefined
        ? {}
        : { correlationData: request.correlationData }),
      messageExpiryInterval: Math.max(1, request.messageExpiryInterval ?? 10),
      userProperties: [
        [reservedProperties.status, String(status)],
        [reservedProperties.protocolVersion, protocolVersion],
        ...extra,
        [reservedProperties.sourceId, client.clientId],
        [reservedProperties.highPriority, ''],
      ],
    });

  const badRequest = (
    request: IncomingMessage,
    responseTopic: string,
    name: string,
    message: string,
  ): Promise<void> =>
    respond(request, responseTopic, 400, new Uint8Array(0), [
      [reservedProperties.statusMessage, message],
      [reservedProperties.invalidPropertyName, name],
    ]);

  const handle = (request: IncomingMessage): Promise<void> | undefined => {
    if (closed || request.topic !== topic) return undefined;
    const { responseTopic } = request;
    if (responseTopic === undefined || responseTopic === '' || /[+#]/.test(responseTopic)) {
      logger.warn({ topic: request.topic }, 'state store request without a response topic dropped');
      return undefined;
    }
    const properties = request.userProperties ?? [];
    const version = getUserProperty(properties, reservedProperties.protocolVersion);
    if (!isSupportedProtocolVersion(version))
      return respond(request, responseTopic, 505, new Uint8Array(0), [
        [reservedProperties.statusMessage, `protocol version '${version ?? ''}' is not supported`],
        [reservedProperties.requestProtocolVersion, version ?? ''],
        [
          reservedProperties.supportedMajorProtocolVersions,
          supportedMajorProtocolVersions.join(' '),
        ],
      ]);
    if (request.correlationData?.byteLength !== 16)
      return badRequest(
        request,
        responseTopic,
        'Correlation Data',
        'the request correlation data is not 16 bytes',
      );
    const clientId =
      getUserProperty(properties, reservedProperties.sourceId) ??
      getUserProperty(properties, reservedProperties.invokerClientId);
    if (clientId === undefined || clientId === '')
      return badRequest(
        request,
        responseTopic,
        reservedProperties.sourceId,
        'the request has no __srcId',
      );
    const result = engine.execute({
      payload: request.payload,
      clientId,
      timestamp: getUserProperty(properties, reservedProperties.timestamp),
      fencingToken: getUserProperty(properties, reservedProperties.fencingToken),
    });
    // the response first, then the notifications it caused, in publish order
    const sent = [
      respond(
        request,
        responseTopic,
        200,
        result.payload,
        result.version === undefined ? [] : [[reservedProperties.timestamp, result.version]],
      ),
      ...notify(result.notifications),
    ];
    scheduleSweep();
    return Promise.all(sent).then(() => undefined);
  };

  const removeHandler = client.onMessage(handle);
  try {
    const { reasonCode } = await client.subscribe(topic, { qos: 1 });
    if (reasonCode >= 0x80)
      throw new Error(
        `the broker refused the subscription to '${topic}' (reason code 0x${reasonCode.toString(16)})`,
      );
  } catch (error) {
    removeHandler();
    throw error;
  }
  logger.debug({ topic }, 'state store emulator started');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      closed = true;
      clearTimeout(sweepTimer);
      sweepTimer = undefined;
      removeHandler();
      try {
        await client.unsubscribe(topic);
      } catch (error) {
        logger.debug({ err: error }, 'unsubscribing the state store emulator failed');
      }
    })();
    return closing;
  };
  return { engine, close, [Symbol.asyncDispose]: close };
}
