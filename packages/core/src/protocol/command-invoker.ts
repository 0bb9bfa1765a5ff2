/**
 * `CommandInvoker`: the client side of the AIO RPC protocol (commands over MQTT 5 request/response).
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { ProtocolError, type ProtocolErrorInfo } from '../errors.ts';
import { silentLogger, type Logger } from '../logger.ts';
import type {
  IncomingMessage,
  MqttClient,
  OutgoingMessage,
  UserProperty,
} from '../mqtt/mqtt-client.ts';
import {
  cloudEventToUserProperties,
  parseCloudEvent,
  type CloudEvent,
  type CloudEventInit,
} from './cloud-event.ts';
import { commandStatus, remoteCommandError } from './command-status.ts';
import { sharedHybridLogicalClock, type HlcTimestamp, type HybridLogicalClock } from './hlc.ts';
import {
  cancellationError,
  formatIndicatorOf,
  isProtocolError,
  mergeTimestamp,
  publishOrThrow,
  readTimestamp,
  stampNow,
  subscribeOrThrow,
  unsubscribeOrThrow,
} from './protocol-support.ts';
import {
  createJsonSerializer,
  deserializeWith,
  serializeWith,
  type PayloadSerializer,
} from './serializers.ts';
import { expiryInSeconds } from './telemetry-sender.ts';
import { systemTimeSource, type TimeSource } from './time-source.ts';
import { TopicPattern, type TopicTokens } from './topic-pattern.ts';
import {
  getUserProperty,
  invalidConfiguration,
  parseProtocolVersion,
  protocolVersion,
  reservedProperties,
  supportedMajorProtocolVersions,
  toHex,
  userDataOf,
  userDataToProperties,
} from './user-properties.ts';

const requestEventType = 'ms.aio.rpc.request';

/** Options of {@link CommandInvoker}. Every field is optional. */
export interface CommandInvokerOptions<TReq, TResp> {
  /** Serializes requests. Default: {@link createJsonSerializer}. */
  readonly requestSerializer?: PayloadSerializer<TReq>;
  /** Deserializes responses. Default: {@link createJsonSerializer}. */
  readonly responseSerializer?: PayloadSerializer<TResp>;
  /** Namespace prepended to the request and response topics. Default: none. */
  readonly topicNamespace?: string;
  /**
   * Resident topic token values. Default: `{ invokerClientId: client.clientId }` when a pattern
   * has an `{invokerClientId}` token.
   */
  readonly topicTokens?: TopicTokens;
  /** Prefix of the response topic (`{prefix}/{request topic}`). Default: none. */
  readonly responseTopicPrefix?: string;
  /** Suffix of the response topic (`{request topic}/{suffix}`). Default: none. */
  readonly responseTopicSuffix?: string;
  /**
   * The full response topic pattern, instead of a prefix or suffix. Default: when no pattern,
   * prefix or suffix is given, `clients/{client id}/{request topic}`.
   */
  readonly responseTopicPattern?: string;
  /** Default command timeout, in ms; the message expiry is this rounded up to seconds (≥ 1 s). Default: 10 000. */
  readonly timeoutInMs?: number;
  /** Sends the legacy `__invId` user property that older services read. Default: `true`. */
  readonly includeInvokerId?: boolean;
  /** The application's clock, stamped into `__ts`. Default: {@link sharedHybridLogicalClock}. */
  readonly hlc?: HybridLogicalClock;
  /** Default: silent. */
  readonly logger?: Logger;
  /**
   * The clock and timers used for command timeouts. Default: the system clock.
   *
   * @internal
   */
  readonly timeSource?: TimeSource;
}

/** Options of {@link CommandInvoker.invoke}. Every field is optional. */
export interface InvokeOptions {
  /** Transient topic token values (resident values win). Default: none. */
  readonly topicTokens?: TopicTokens;
  /** How long to wait for the response, in ms; also the request's message expiry (rounded up to seconds). Default: the invoker's `timeoutInMs`. */
  readonly timeoutInMs?: number;
  /** Custom user properties (names must not start with `__`). Default: none. */
  readonly userData?: Readonly<Record<string, string>>;
  /** A CloudEvent to attach (`type` defaults to `ms.aio.rpc.request`). Default: none. */
  readonly cloudEvent?: CloudEventInit;
  /** Overrides the serializer's content type (for raw payloads). Default: none. */
  readonly contentType?: string;
  /** Overrides the serializer's payload format indicator. Default: none. */
  readonly payloadFormatIndicator?: 0 | 1;
  /** Cancels the invocation: it rejects with a `ProtocolError` of kind `cancellation`. */
  readonly signal?: AbortSignal;
}

/** A successful command response. */
export interface CommandResponse<T> {
  /** The deserialized payload. */
  readonly payload: T;
  /** 200, or 204 for a response without payload. */
  readonly status: number;
  readonly topic: string;
  /** The user properties not reserved by the SDK (`__*`). */
  readonly userData: Readonly<Record<string, string>>;
  /** All user properties, in order. */
  readonly userProperties: readonly UserProperty[];
  /** The executor's client id (`__srcId`). */
  readonly executorId: string | undefined;
  /** The executor's clock (`__ts`). */
  readonly timestamp: HlcTimestamp | undefined;
  readonly cloudEvent: CloudEvent | undefined;
  readonly contentType: string | undefined;
  readonly payloadFormatIndicator: 0 | 1 | undefined;
  /** The correlation data of the request and response. */
  readonly correlationData: Uint8Array;
}

interface Pending {
  readonly responseTopic: string;
  readonly resolve: (response: CommandResponse<unknown>) => void;
  readonly reject: (error: Error) => void;
}

/**
 * The error naming the command. Errors raised by shared code (the `__ts` parser, serializers) do
 * not know which command they concern; the invoker adds it before handing them to the caller.
 */
function withCommandName(error: ProtocolError, commandName: string): ProtocolError {
  if (error.commandName !== undefined) return error;
  const facts = Object.fromEntries(
    Object.entries({
      cause: error.cause,
      retryable: error.retryable,
      retryAfterInMs: error.retryAfterInMs,
      details: error.details,
      isShallow: error.isShallow,
      isRemote: error.isRemote,
      headerName: error.headerName,
      headerValue: error.headerValue,
      propertyName: error.propertyName,
      propertyValue: error.propertyValue,
      timeoutName: error.timeoutName,
      timeoutInMs: error.timeoutInMs,
      statusCode: error.statusCode,
      isApplicationError: error.isApplicationError,
      protocolVersion: error.protocolVersion,
      supportedMajorProtocolVersions: error.supportedMajorProtocolVersions,
    }).filter(([, value]) => value !== undefined),
  ) as ProtocolErrorInfo;
  return new ProtocolError(error.kind, error.message, { ...facts, commandName });
}

function optionalPattern(value: unknown, name: string, commandName: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string')
    throw invalidConfiguration(name, value, `${name} must be a string`, commandName);
  return value;
}

/**
 * Invokes a command: publishes a request (QoS 1, response topic, 16-byte correlation data, message
 * expiry = timeout, user properties `__protVer`, `$partition`, `__srcId`, `__invId`, `__ts`,
 * CloudEvent, custom data, `$high_priority`) and waits for the response with the same correlation
 * data. The response topic filter is subscribed on first use (or by `start()`).
 *
 * `invoke` rejects with a `ProtocolError`: `invalid configuration` (shallow) for bad arguments or
 * missing topic tokens, `mqtt error` when the broker refuses the subscription or the request,
 * `timeout` when no response arrives in time, `cancellation` when `signal` aborts, the remote kind
 * of a non-2xx `__stat` (see {@link remoteCommandError}), and `missing header` / `invalid header` /
 * `invalid payload` / `unsupported version` for a malformed response.
 *
 * For raw payloads (bytes with a given content type, or an empty body without content type) use
 * {@link rawSerializer} and the per-call `contentType` option.
 *
 * @example
 * ```ts
 * import { CommandInvoker, rawSerializer } from '@aio-connector/core';
 * declare const client: import('@aio-connector/core').MqttClient;
 *
 * // typed JSON
 * const invoker = new CommandInvoker<{ key: string }, { value: string }>(
 *   client, 'read', 'services/{ex:service}/read', { topicTokens: { 'ex:service': 'store' } },
 * );
 * const { payload } = await invoker.invoke({ key: 'k1' }, { timeoutInMs: 5_000 });
 *
 * // raw bytes, including an empty request body (no content type, payload format indicator 0)
 * const raw = new CommandInvoker(client, 'getDevice', 'akri/connector/resources/{ex:clientId}/{ex:device}/{ex:endpoint}/getDevice', {
 *   requestSerializer: rawSerializer,
 *   responseSerializer: rawSerializer,
 *   topicTokens: { 'ex:clientId': client.clientId },
 * });
 * const response = await raw.invoke(new Uint8Array(), {
 *   topicTokens: { 'ex:device': 'd1', 'ex:endpoint': 'e1' },
 * });
 * console.log(payload.value, response.status, response.contentType, response.payload.byteLength);
 * ```
 */
export class CommandInvoker<TReq = unknown, TResp = unknown> {
  readonly commandName: string;
  /** The request topic pattern with the resident tokens applied. */
  readonly requestTopic: TopicPattern;
  /** The response topic pattern with the resident tokens applied; its `filter` is subscribed. */
  readonly responseTopic: TopicPattern;
  readonly #client: MqttClient;
  readonly #requestSerializer: PayloadSerializer<TReq>;
  readonly #responseSerializer: PayloadSerializer<TResp>;
  readonly #timeoutInMs: number;
  readonly #includeInvokerId: boolean;
  readonly #hlc: HybridLogicalClock;
  readonly #logger: Logger;
  readonly #timeSource: TimeSource;
  readonly #pending = new Map<string, Pending>();
  #starting: Promise<void> | undefined;
  #removeListener: (() => void) | undefined;

  constructor(
    client: MqttClient,
    commandName: string,
    requestTopicPattern: string,
    options: CommandInvokerOptions<TReq, TResp> = {},
  ) {
    if (typeof commandName !== 'string' || commandName.length === 0)
      throw invalidConfiguration(
        'commandName',
        commandName,
        'commandName must be a non-empty string',
      );
    if (typeof client !== 'object' || client === null)
      throw invalidConfiguration('client', client, 'an MqttClient is required', commandName);
    this.commandName = commandName;
    this.#client = client;
    const tokens: Record<string, string> = { ...options.topicTokens };
    if (tokens['invokerClientId'] === undefined && client.clientId)
      tokens['invokerClientId'] = client.clientId;
    const namespace = options.topicNamespace;
    this.requestTopic = new TopicPattern(requestTopicPattern, {
      namespace,
      tokens,
      patternName: 'requestTopicPattern',
      commandName,
    });
    const prefix = optionalPattern(options.responseTopicPrefix, 'responseTopicPrefix', commandName);
    const suffix = optionalPattern(options.responseTopicSuffix, 'responseTopicSuffix', commandName);
    const pattern = optionalPattern(
      options.responseTopicPattern,
      'responseTopicPattern',
      commandName,
    );
    for (const [name, value] of [
      ['responseTopicPrefix', prefix],
      ['responseTopicSuffix', suffix],
      ['responseTopicPattern', pattern],
    ] as const)
      if (value !== undefined) new TopicPattern(value, { tokens, patternName: name, commandName });
    let responsePattern: string;
    if (pattern !== undefined) responsePattern = pattern;
    else if (prefix !== undefined || suffix !== undefined)
      responsePattern = [prefix, requestTopicPattern, suffix]
        .filter((p) => p !== undefined)
        .join('/');
    else responsePattern = `clients/${client.clientId}/${requestTopicPattern}`;
    this.responseTopic = new TopicPattern(responsePattern, {
      namespace,
      tokens,
      patternName: 'responseTopicPattern',
      commandName,
    });
    this.#requestSerializer = options.requestSerializer ?? createJsonSerializer<TReq>();
    this.#responseSerializer = options.responseSerializer ?? createJsonSerializer<TResp>();
    this.#timeoutInMs = options.timeoutInMs ?? 10_000;
    expiryInSeconds(this.#timeoutInMs, 'timeoutInMs', commandName);
    const includeInvokerId = options.includeInvokerId ?? true;
    if (typeof includeInvokerId !== 'boolean')
      throw invalidConfiguration(
        'includeInvokerId',
        includeInvokerId,
        'includeInvokerId must be a boolean',
        commandName,
      );
    this.#includeInvokerId = includeInvokerId;
    this.#hlc = options.hlc ?? sharedHybridLogicalClock();
    this.#logger = (options.logger ?? silentLogger).child({ commandName });
    this.#timeSource = options.timeSource ?? systemTimeSource;
  }

  /** Subscribes to the response topic filter now rather than on the first invocation. */
  start(options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    this.#starting ??= (async () => {
      this.#removeListener = this.#client.onMessage((message) => {
        this.#onMessage(message);
      });
      try {
        await subscribeOrThrow(
          this.#client,
          this.responseTopic.filter,
          1,
          this.commandName,
          options.signal,
        );
      } catch (error) {
        this.#removeListener();
        this.#removeListener = undefined;
        this.#starting = undefined;
        throw error;
      }
      this.#logger.debug({ filter: this.responseTopic.filter }, 'command invoker subscribed');
    })();
    return this.#starting;
  }

  /**
   * Unsubscribes from the response topic; invocations still waiting reject with a `cancellation`
   * error. Safe to call twice.
   */
  async stop(): Promise<void> {
    const starting = this.#starting;
    this.#starting = undefined;
    for (const pending of this.#pending.values())
      pending.reject(
        new ProtocolError('cancellation', `command invoker '${this.commandName}' was stopped`, {
          commandName: this.commandName,
        }),
      );
    this.#pending.clear();
    if (starting === undefined) return;
    try {
      await starting;
    } catch {
      return;
    }
    try {
      await unsubscribeOrThrow(this.#client, this.responseTopic.filter, this.commandName);
    } finally {
      this.#removeListener?.();
      this.#removeListener = undefined;
    }
  }

  /** Same as {@link CommandInvoker.stop}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  /** Invokes the command and resolves with the response. */
  async invoke(request: TReq, options: InvokeOptions = {}): Promise<CommandResponse<TResp>> {
    const { signal } = options;
    const commandName = this.commandName;
    if (signal?.aborted === true)
      throw cancellationError(signal, `command '${commandName}'`, commandName);
    const timeoutInMs = options.timeoutInMs ?? this.#timeoutInMs;
    const expiry = expiryInSeconds(timeoutInMs, 'timeoutInMs', commandName);
    const requestTopic = this.requestTopic.resolve(options.topicTokens);
    const responseTopic = this.responseTopic.resolve(options.topicTokens);
    const message = this.#buildRequest(request, options, requestTopic, responseTopic, expiry);
    await this.start(signal === undefined ? {} : { signal });
    const key = toHex(message.correlationData);

    let timer: unknown;
    let onAbort: (() => void) | undefined;
    const outcome = new Promise<CommandResponse<TResp>>((resolve, reject) => {
      this.#pending.set(key, {
        responseTopic,
        resolve: resolve as (response: CommandResponse<unknown>) => void,
        reject,
      });
      timer = this.#timeSource.setTimeout(() => {
        reject(
          new ProtocolError(
            'timeout',
            `command '${commandName}' timed out waiting for a response`,
            {
              timeoutName: 'timeoutInMs',
              timeoutInMs: expiry * 1000,
              commandName,
              details: { correlationData: key },
            },
          ),
        );
      }, expiry * 1000);
      if (signal !== undefined) {
        onAbort = () => {
          reject(cancellationError(signal, `command '${commandName}'`, commandName));
        };
        signal.addEventListener('abort', onAbort, { once: true });
      }
    });
    outcome.catch(() => undefined);
    try {
      const published = publishOrThrow(this.#client, message, commandName).then(() => outcome);
      published.catch(() => undefined);
      const response = await Promise.race([published, outcome]);
      this.#logger.trace(
        { correlationData: key, status: response.status },
        'command response received',
      );
      return response;
    } finally {
      this.#pending.delete(key);
      this.#timeSource.clearTimeout(timer);
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
    }
  }

  #buildRequest(
    request: TReq,
    options: InvokeOptions,
    topic: string,
    responseTopic: string,
    expiry: number,
  ): OutgoingMessage & { readonly correlationData: Uint8Array } {
    const commandName = this.commandName;
    const serialized = serializeWith(this.#requestSerializer, request);
    const empty = serialized.payload.byteLength === 0;
    const contentType = empty ? undefined : (options.contentType ?? serialized.contentType);
    const formatIndicator = empty
      ? undefined
      : (options.payloadFormatIndicator ?? serialized.payloadFormatIndicator);
    const cloudEvent =
      options.cloudEvent === undefined
        ? []
        : cloudEventToUserProperties(options.cloudEvent, {
            defaultType: requestEventType,
            topic,
            contentType,
            now: this.#timeSource.now(),
            commandName,
          });
    const userData = userDataToProperties(options.userData, commandName);
    const clientId = this.#client.clientId;
    const userProperties: UserProperty[] = [
      [reservedProperties.protocolVersion, protocolVersion],
      [reservedProperties.partition, clientId],
      [reservedProperties.sourceId, clientId],
    ];
    if (this.#includeInvokerId) userProperties.push([reservedProperties.invokerClientId, clientId]);
    userProperties.push(
      [reservedProperties.timestamp, stampNow(this.#hlc, commandName)],
      ...cloudEvent,
      ...userData,
      [reservedProperties.highPriority, ''],
    );
    const correlationData = Buffer.from(randomUUID().replaceAll('-', ''), 'hex');
    return {
      topic,
      payload: serialized.payload,
      qos: 1,
      responseTopic,
      correlationData: new Uint8Array(correlationData.buffer, correlationData.byteOffset, 16),
      messageExpiryInterval: expiry,
      userProperties,
      ...(contentType === undefined ? {} : { contentType }),
      ...(formatIndicator === undefined ? {} : { payloadFormatIndicator: formatIndicator }),
    };
  }

  #onMessage(message: IncomingMessage): void {
    if (message.correlationData === undefined) return;
    const key = toHex(message.correlationData);
    const pending = this.#pending.get(key);
    if (pending === undefined || message.topic !== pending.responseTopic) return;
    this.#pending.delete(key);
    try {
      pending.resolve(this.#readResponse(message, message.correlationData));
    } catch (error) {
      pending.reject(
        isProtocolError(error)
          ? withCommandName(error, this.commandName)
          : new ProtocolError('unknown error', 'the response could not be processed', {
              cause: error,
              commandName: this.commandName,
            }),
      );
    }
  }

  #readResponse(message: IncomingMessage, correlationData: Uint8Array): CommandResponse<TResp> {
    const commandName = this.commandName;
    const properties = message.userProperties ?? [];
    const version = getUserProperty(properties, reservedProperties.protocolVersion);
    const parsed = parseProtocolVersion(version);
    if (parsed === undefined || !supportedMajorProtocolVersions.includes(parsed.major))
      throw new ProtocolError(
        'unsupported version',
        `the response has an unsupported protocol version '${version ?? ''}'`,
        {
          commandName,
          ...(version === undefined ? {} : { protocolVersion: version }),
          supportedMajorProtocolVersions,
        },
      );
    const statusText = getUserProperty(properties, reservedProperties.status);
    if (statusText === undefined)
      throw new ProtocolError(
        'missing header',
        `the response has no ${reservedProperties.status}`,
        {
          headerName: reservedProperties.status,
          commandName,
        },
      );
    if (!/^\d{1,9}$/.test(statusText))
      throw new ProtocolError(
        'invalid header',
        `the response status '${statusText}' is not a number`,
        {
          headerName: reservedProperties.status,
          headerValue: statusText,
          commandName,
        },
      );
    const status = Number(statusText);
    if (status !== commandStatus.ok && status !== commandStatus.noContent) {
      const error = remoteCommandError(status, properties, commandName);
      try {
        mergeTimestamp(
          this.#hlc,
          readTimestamp(getUserProperty(properties, reservedProperties.timestamp)),
          commandName,
        );
      } catch {
        // the remote error is what the caller needs; a bad __ts on it changes nothing
      }
      throw error;
    }
    const timestamp = readTimestamp(getUserProperty(properties, reservedProperties.timestamp));
    if (status === commandStatus.noContent && message.payload.byteLength > 0)
      throw new ProtocolError('invalid payload', 'a 204 (No Content) response carries a payload', {
        commandName,
      });
    const formatIndicator = formatIndicatorOf(message.payloadFormatIndicator);
    const payload = deserializeWith(
      this.#responseSerializer,
      message.payload,
      message.contentType,
      formatIndicator,
    );
    mergeTimestamp(this.#hlc, timestamp, commandName);
    let cloudEvent: CloudEvent | undefined;
    try {
      cloudEvent = parseCloudEvent(properties, message.contentType);
    } catch (error) {
      this.#logger.debug({ err: error }, 'ignoring an invalid CloudEvent on a response');
    }
    return Object.freeze({
      payload,
      status,
      topic: message.topic,
      userData: Object.freeze(userDataOf(properties)),
      userProperties: properties,
      executorId: getUserProperty(properties, reservedProperties.sourceId),
      timestamp,
      cloudEvent,
      contentType: message.contentType,
      payloadFormatIndicator: formatIndicator,
      correlationData,
    });
  }
}
