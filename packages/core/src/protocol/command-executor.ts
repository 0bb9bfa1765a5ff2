/**
 * `CommandExecutor`: the service side of the AIO RPC protocol.
 *
 * @module
 */
import { silentLogger, type Logger } from '../logger.ts';
import type { IncomingMessage, MqttClient, UserProperty } from '../mqtt/mqtt-client.ts';
import {
  cloudEventToUserProperties,
  parseCloudEvent,
  type CloudEvent,
  type CloudEventInit,
} from './cloud-event.ts';
import { commandStatus, formatIsoDuration } from './command-status.ts';
import { sharedHybridLogicalClock, type HlcTimestamp, type HybridLogicalClock } from './hlc.ts';
import {
  formatIndicatorOf,
  isProtocolError,
  ListeningSubscription,
  mergeTimestamp,
  publishOrThrow,
  readTimestamp,
  stampNow,
} from './protocol-support.ts';
import {
  createJsonSerializer,
  deserializeWith,
  serializeWith,
  type PayloadSerializer,
} from './serializers.ts';
import { systemTimeSource, type TimeSource } from './time-source.ts';
import { TopicPattern, isValidTopic, type TopicTokens } from './topic-pattern.ts';
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

const responseEventType = 'ms.aio.rpc.response';
/** The most responses kept for duplicate requests; the oldest are forgotten first. */
const maxCachedResponses = 10_000;

/** A received command request, as handed to the handler. */
export interface CommandRequest<T> {
  /** The deserialized payload. */
  readonly payload: T;
  readonly topic: string;
  /** The value of every token of the request topic pattern, resident and captured. */
  readonly topicTokens: Readonly<Record<string, string>>;
  /** The user properties not reserved by the SDK (`__*`). */
  readonly userData: Readonly<Record<string, string>>;
  /** All user properties, in order. */
  readonly userProperties: readonly UserProperty[];
  /** The invoker's client id (`__srcId`). */
  readonly invokerClientId: string | undefined;
  /** The invoker's clock (`__ts`). */
  readonly timestamp: HlcTimestamp | undefined;
  readonly cloudEvent: CloudEvent | undefined;
  readonly contentType: string | undefined;
  readonly payloadFormatIndicator: 0 | 1 | undefined;
  readonly correlationData: Uint8Array;
  readonly responseTopic: string;
  /** Seconds, as received. */
  readonly messageExpiryInterval: number;
}

/** What a command handler returns. */
export interface CommandResponseInit<T> {
  /** The response value; a value that serializes to an empty payload is answered with 204. */
  readonly payload: T;
  /** Custom user properties of the response (names must not start with `__`). Default: none. */
  readonly userData?: Readonly<Record<string, string>>;
  /** A CloudEvent to attach (`type` defaults to `ms.aio.rpc.response`). Default: none. */
  readonly cloudEvent?: CloudEventInit;
}

/**
 * Executes one command request. `signal` aborts when the execution timeout or the request's
 * expiry is reached. A thrown error is answered with status 500 and `__apErr: true`.
 */
export type CommandHandler<TReq, TResp> = (
  request: CommandRequest<TReq>,
  context: { readonly signal: AbortSignal },
) => CommandResponseInit<TResp> | Promise<CommandResponseInit<TResp>>;

/** Options of {@link CommandExecutor}. Every field is optional. */
export interface CommandExecutorOptions<TReq, TResp> {
  /** Deserializes requests. Default: {@link createJsonSerializer}. */
  readonly requestSerializer?: PayloadSerializer<TReq>;
  /** Serializes responses. Default: {@link createJsonSerializer}. */
  readonly responseSerializer?: PayloadSerializer<TResp>;
  /** Namespace prepended to the request topic. Default: none. */
  readonly topicNamespace?: string;
  /** Resident topic token values; the other tokens are subscribed as `+`. Default: none. */
  readonly topicTokens?: TopicTokens;
  /** Shared subscription group: subscribes to `$share/{shareName}/{filter}`. Default: none. */
  readonly shareName?: string;
  /** Longest a handler may run, in ms; longer runs are answered with 408. Default: 10 000. */
  readonly executionTimeoutInMs?: number;
  /** How many requests are executed at once; the others wait in arrival order. Default: 1. */
  readonly concurrency?: number;
  /** The application's clock. Default: {@link sharedHybridLogicalClock}. */
  readonly hlc?: HybridLogicalClock;
  /** Default: silent. */
  readonly logger?: Logger;
  /**
   * The clock and timers used for expiry, execution timeouts and the response cache. Default: the
   * system clock.
   *
   * @internal
   */
  readonly timeSource?: TimeSource;
}

/** A response ready to publish, kept in the cache for duplicate requests. */
interface ResponseTemplate {
  readonly status: number;
  readonly payload?: Uint8Array;
  readonly contentType?: string | undefined;
  readonly payloadFormatIndicator?: 0 | 1 | undefined;
  readonly statusMessage?: string;
  readonly isApplicationError?: boolean;
  readonly invalidPropertyName?: string | undefined;
  readonly invalidPropertyValue?: string | undefined;
  readonly requestProtocolVersion?: string;
  readonly extra?: readonly UserProperty[];
}

interface CacheEntry {
  readonly expiresAt: number;
  readonly outcome: Promise<ResponseTemplate | undefined>;
}

type Execution<T> =
  | { readonly kind: 'done'; readonly value: CommandResponseInit<T> }
  | { readonly kind: 'failed'; readonly error: unknown }
  | { readonly kind: 'timeout' };

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Executes commands: subscribes to the request topic and answers each request on its response
 * topic with the same correlation data, `__stat` and the AIO response properties (`__stMsg`,
 * `__apErr`, `__propName`, `__propVal`, `__protVer`, `__ts`, `__srcId`, `$high_priority`).
 *
 * - Requests without a usable response topic are dropped; requests without message expiry or
 *   16-byte correlation data get 400, an unsupported `__protVer` 505, a content type or payload
 *   format the serializer refuses 415, an undecodable payload or `__ts` 400, clock drift 503.
 * - Execution is bounded by `min(message expiry, executionTimeoutInMs)`: past the execution timeout
 *   the invoker gets 408; past the message expiry nothing is sent.
 * - Duplicates (same correlation data and response topic within the request's expiry) are answered
 *   from a cache without executing again (at most 10 000 responses are kept, oldest dropped first).
 * - Each request is acknowledged once its response was published (or dropped).
 *
 * @example
 * ```ts
 * import { CommandExecutor } from '@aio-connector/core';
 * declare const client: import('@aio-connector/core').MqttClient;
 * const executor = new CommandExecutor<{ a: number; b: number }, { sum: number }>(
 *   client,
 *   'add',
 *   'calculator/{executorId}/add',
 *   async ({ payload }) => ({ payload: { sum: payload.a + payload.b } }),
 *   { topicTokens: { executorId: client.clientId }, concurrency: 4 },
 * );
 * await executor.start();
 * // ...
 * await executor.stop();
 * ```
 */
export class CommandExecutor<TReq = unknown, TResp = unknown> {
  readonly commandName: string;
  /** The request topic pattern with the resident tokens applied. */
  readonly requestTopic: TopicPattern;
  /** The filter passed to SUBSCRIBE (with the `$share/` prefix for a shared subscription). */
  readonly subscriptionFilter: string;
  readonly #client: MqttClient;
  readonly #handler: CommandHandler<TReq, TResp>;
  readonly #requestSerializer: PayloadSerializer<TReq>;
  readonly #responseSerializer: PayloadSerializer<TResp>;
  readonly #executionTimeoutInMs: number;
  readonly #concurrency: number;
  readonly #hlc: HybridLogicalClock;
  readonly #logger: Logger;
  readonly #timeSource: TimeSource;
  readonly #cache = new Map<string, CacheEntry>();
  readonly #waiting: (() => void)[] = [];
  #running = 0;
  #subscription: ListeningSubscription | undefined;

  constructor(
    client: MqttClient,
    commandName: string,
    requestTopicPattern: string,
    handler: CommandHandler<TReq, TResp>,
    options: CommandExecutorOptions<TReq, TResp> = {},
  ) {
    if (typeof commandName !== 'string' || commandName.length === 0)
      throw invalidConfiguration(
        'commandName',
        commandName,
        'commandName must be a non-empty string',
      );
    if (typeof client !== 'object' || client === null)
      throw invalidConfiguration('client', client, 'an MqttClient is required', commandName);
    if (typeof handler !== 'function')
      throw invalidConfiguration(
        'handler',
        handler,
        'a command handler function is required',
        commandName,
      );
    this.commandName = commandName;
    this.#client = client;
    this.#handler = handler;
    this.requestTopic = new TopicPattern(requestTopicPattern, {
      namespace: options.topicNamespace,
      tokens: options.topicTokens,
      patternName: 'requestTopicPattern',
      commandName,
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
        commandName,
      );
    this.subscriptionFilter =
      shareName === undefined
        ? this.requestTopic.filter
        : `$share/${shareName}/${this.requestTopic.filter}`;
    const timeout = options.executionTimeoutInMs ?? 10_000;
    if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout < 1)
      throw invalidConfiguration(
        'executionTimeoutInMs',
        timeout,
        'executionTimeoutInMs must be at least 1 ms',
        commandName,
      );
    this.#executionTimeoutInMs = timeout;
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1)
      throw invalidConfiguration(
        'concurrency',
        concurrency,
        'concurrency must be an integer >= 1',
        commandName,
      );
    this.#concurrency = concurrency;
    this.#requestSerializer = options.requestSerializer ?? createJsonSerializer<TReq>();
    this.#responseSerializer = options.responseSerializer ?? createJsonSerializer<TResp>();
    this.#hlc = options.hlc ?? sharedHybridLogicalClock();
    this.#logger = (options.logger ?? silentLogger).child({ commandName });
    this.#timeSource = options.timeSource ?? systemTimeSource;
  }

  /** Subscribes and starts executing requests. Safe to call twice. */
  start(options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    this.#subscription ??= new ListeningSubscription({
      client: this.#client,
      filter: this.subscriptionFilter,
      qos: 1,
      commandName: this.commandName,
      handler: (message) => this.#onMessage(message),
      onChange: (state) => {
        this.#logger.debug({ filter: this.subscriptionFilter }, `command executor ${state}`);
      },
    });
    return this.#subscription.start(options.signal);
  }

  /**
   * Unsubscribes and stops taking new requests; executions in progress finish and are answered.
   * Safe to call twice.
   */
  stop(): Promise<void> {
    return this.#subscription?.stop() ?? Promise.resolve();
  }

  /** Same as {@link CommandExecutor.stop}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }

  #onMessage(message: IncomingMessage): Promise<void> | undefined {
    const topicTokens = this.requestTopic.match(message.topic);
    if (topicTokens === undefined) return undefined;
    return this.#process(message, topicTokens).catch((error: unknown) => {
      this.#logger.error({ topic: message.topic, err: error }, 'command request processing failed');
    });
  }

  async #process(message: IncomingMessage, topicTokens: Record<string, string>): Promise<void> {
    const now = this.#timeSource.now();
    const properties = message.userProperties ?? [];
    const { responseTopic, correlationData } = message;
    if (responseTopic === undefined || !isValidTopic(responseTopic)) {
      this.#logger.warn(
        { topic: message.topic, responseTopic },
        'request without a valid response topic dropped',
      );
      return;
    }
    const expirySeconds = message.messageExpiryInterval ?? 0;
    const expiresAt = now + (expirySeconds > 0 ? expirySeconds * 1000 : this.#executionTimeoutInMs);
    const respond = (template: ResponseTemplate): Promise<void> =>
      this.#publishResponse(responseTopic, correlationData, template, expiresAt);
    const badRequest = (
      name: string | undefined,
      value: string | undefined,
      statusMessage: string,
    ): Promise<void> =>
      respond({
        status: commandStatus.badRequest,
        statusMessage,
        invalidPropertyName: name,
        invalidPropertyValue: value,
      });

    if (expirySeconds <= 0)
      return badRequest('Message Expiry', undefined, 'the request has no message expiry');
    if (correlationData === undefined || correlationData.byteLength === 0)
      return badRequest('Correlation Data', undefined, 'the request has no correlation data');
    if (correlationData.byteLength !== 16)
      return badRequest(
        'Correlation Data',
        undefined,
        'the request correlation data is not 16 bytes',
      );
    const version = getUserProperty(properties, reservedProperties.protocolVersion);
    const parsed = parseProtocolVersion(version);
    if (parsed === undefined || !supportedMajorProtocolVersions.includes(parsed.major))
      return respond({
        status: commandStatus.versionNotSupported,
        statusMessage: `protocol version '${version ?? ''}' is not supported`,
        requestProtocolVersion: version ?? '',
      });

    const key = `${toHex(correlationData)} ${responseTopic}`;
    this.#purgeCache(now);
    const cached = this.#cache.get(key);
    if (cached !== undefined) {
      this.#logger.debug(
        { correlationData: toHex(correlationData) },
        'duplicate request answered from the cache',
      );
      const template = await cached.outcome;
      if (template !== undefined) await respond(template);
      return;
    }

    const timestampText = getUserProperty(properties, reservedProperties.timestamp);
    let timestamp: HlcTimestamp | undefined;
    try {
      timestamp = readTimestamp(timestampText);
    } catch {
      return badRequest(
        reservedProperties.timestamp,
        timestampText,
        'the request __ts is not valid',
      );
    }
    const formatIndicator = formatIndicatorOf(message.payloadFormatIndicator);
    let payload: TReq;
    try {
      payload = deserializeWith(
        this.#requestSerializer,
        message.payload,
        message.contentType,
        formatIndicator,
      );
    } catch (error) {
      if (
        isProtocolError(error) &&
        (error.kind === 'invalid header' || error.kind === 'missing header')
      )
        return respond({
          status: commandStatus.unsupportedMediaType,
          statusMessage: error.message,
          invalidPropertyName: error.headerName,
          invalidPropertyValue: error.headerValue,
        });
      return badRequest(undefined, undefined, errorMessage(error));
    }
    try {
      mergeTimestamp(this.#hlc, timestamp, this.commandName);
    } catch (error) {
      return respond({
        status: commandStatus.serviceUnavailable,
        statusMessage: errorMessage(error),
        invalidPropertyName: 'MaxClockDrift',
      });
    }
    let cloudEvent: CloudEvent | undefined;
    try {
      cloudEvent = parseCloudEvent(properties, message.contentType);
    } catch (error) {
      this.#logger.debug({ err: error }, 'ignoring an invalid CloudEvent on a request');
    }
    const request: CommandRequest<TReq> = Object.freeze({
      payload,
      topic: message.topic,
      topicTokens: Object.freeze(topicTokens),
      userData: Object.freeze(userDataOf(properties)),
      userProperties: properties,
      invokerClientId: getUserProperty(properties, reservedProperties.sourceId),
      timestamp,
      cloudEvent,
      contentType: message.contentType,
      payloadFormatIndicator: formatIndicator,
      correlationData,
      responseTopic,
      messageExpiryInterval: expirySeconds,
    });
    const outcome = this.#execute(request, expiresAt);
    this.#cache.set(key, { expiresAt, outcome });
    for (const oldest of this.#cache.keys()) {
      if (this.#cache.size <= maxCachedResponses) break;
      this.#cache.delete(oldest);
    }
    const template = await outcome;
    if (template !== undefined) await respond(template);
  }

  #purgeCache(now: number): void {
    for (const [key, entry] of this.#cache) if (entry.expiresAt <= now) this.#cache.delete(key);
  }

  async #acquire(): Promise<() => void> {
    if (this.#running >= this.#concurrency)
      await new Promise<void>((resolve) => {
        this.#waiting.push(resolve);
      });
    else this.#running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next === undefined) this.#running--;
      else next();
    };
  }

  async #execute(
    request: CommandRequest<TReq>,
    expiresAt: number,
  ): Promise<ResponseTemplate | undefined> {
    const release = await this.#acquire();
    try {
      const remaining = expiresAt - this.#timeSource.now();
      if (remaining <= 0) {
        this.#logger.warn({ topic: request.topic }, 'request expired before execution');
        return undefined;
      }
      const expiryFirst = remaining <= this.#executionTimeoutInMs;
      const controller = new AbortController();
      const execution = await new Promise<Execution<TResp>>((resolve) => {
        const timer = this.#timeSource.setTimeout(
          () => {
            controller.abort(new Error(`command '${this.commandName}' execution timed out`));
            resolve({ kind: 'timeout' });
          },
          Math.min(remaining, this.#executionTimeoutInMs),
        );
        Promise.resolve()
          .then(() => this.#handler(request, { signal: controller.signal }))
          .then(
            (value) => {
              this.#timeSource.clearTimeout(timer);
              resolve({ kind: 'done', value });
            },
            (error: unknown) => {
              this.#timeSource.clearTimeout(timer);
              resolve({ kind: 'failed', error });
            },
          );
      });
      if (execution.kind === 'timeout') {
        if (expiryFirst) {
          this.#logger.warn(
            { topic: request.topic },
            'request expired during execution; no response sent',
          );
          return undefined;
        }
        this.#logger.warn({ topic: request.topic }, 'command execution timed out');
        return {
          status: commandStatus.requestTimeout,
          statusMessage: `the execution exceeded ${this.#executionTimeoutInMs} ms`,
          invalidPropertyName: 'ExecutionTimeout',
          invalidPropertyValue: formatIsoDuration(this.#executionTimeoutInMs),
        };
      }
      if (execution.kind === 'failed') return this.#applicationError(execution.error);
      return this.#success(execution.value, request.responseTopic);
    } finally {
      release();
    }
  }

  #applicationError(error: unknown): ResponseTemplate {
    this.#logger.warn({ err: error }, 'command handler failed');
    const facts = isProtocolError(error)
      ? {
          invalidPropertyName: error.headerName ?? error.propertyName,
          invalidPropertyValue:
            error.headerValue ??
            (typeof error.propertyValue === 'string' ? error.propertyValue : undefined),
        }
      : {};
    return {
      status: commandStatus.internalServerError,
      statusMessage: errorMessage(error),
      isApplicationError: true,
      ...facts,
    };
  }

  #success(result: CommandResponseInit<TResp>, responseTopic: string): ResponseTemplate {
    if (typeof result !== 'object' || result === null || !('payload' in result))
      return this.#applicationError(new TypeError('the command handler must return { payload }'));
    let serialized;
    let extra: UserProperty[];
    try {
      serialized = serializeWith(this.#responseSerializer, result.payload);
      const empty = serialized.payload.byteLength === 0;
      const cloudEvent =
        result.cloudEvent === undefined
          ? []
          : cloudEventToUserProperties(result.cloudEvent, {
              defaultType: responseEventType,
              topic: responseTopic,
              contentType: empty ? undefined : serialized.contentType,
              now: this.#timeSource.now(),
              commandName: this.commandName,
            });
      extra = [...cloudEvent, ...userDataToProperties(result.userData, this.commandName)];
    } catch (error) {
      return this.#applicationError(error);
    }
    const empty = serialized.payload.byteLength === 0;
    return {
      status: empty ? commandStatus.noContent : commandStatus.ok,
      payload: serialized.payload,
      contentType: empty ? undefined : serialized.contentType,
      payloadFormatIndicator: empty ? undefined : serialized.payloadFormatIndicator,
      extra,
    };
  }

  async #publishResponse(
    topic: string,
    correlationData: Uint8Array | undefined,
    template: ResponseTemplate,
    expiresAt: number,
  ): Promise<void> {
    const remaining = expiresAt - this.#timeSource.now();
    if (remaining <= 0) {
      this.#logger.warn({ topic }, 'request expired; no response sent');
      return;
    }
    const properties: UserProperty[] = [[reservedProperties.status, String(template.status)]];
    if (template.statusMessage !== undefined)
      properties.push([reservedProperties.statusMessage, template.statusMessage]);
    properties.push([reservedProperties.protocolVersion, protocolVersion]);
    try {
      properties.push([reservedProperties.timestamp, stampNow(this.#hlc, this.commandName)]);
    } catch (error) {
      this.#logger.warn({ err: error }, 'response sent without __ts');
    }
    properties.push(
      [reservedProperties.sourceId, this.#client.clientId],
      ...(template.extra ?? []),
      [reservedProperties.highPriority, ''],
    );
    if (template.isApplicationError === true)
      properties.push([reservedProperties.isApplicationError, 'true']);
    if (template.invalidPropertyName !== undefined)
      properties.push([reservedProperties.invalidPropertyName, template.invalidPropertyName]);
    if (template.invalidPropertyValue !== undefined)
      properties.push([reservedProperties.invalidPropertyValue, template.invalidPropertyValue]);
    if (template.requestProtocolVersion !== undefined)
      properties.push(
        [reservedProperties.requestProtocolVersion, template.requestProtocolVersion],
        [
          reservedProperties.supportedMajorProtocolVersions,
          supportedMajorProtocolVersions.join(' '),
        ],
      );
    const payload = template.payload ?? new Uint8Array(0);
    try {
      await publishOrThrow(
        this.#client,
        {
          topic,
          payload,
          qos: 1,
          messageExpiryInterval: Math.ceil(remaining / 1000),
          userProperties: properties,
          ...(correlationData === undefined ? {} : { correlationData }),
          ...(template.contentType === undefined ? {} : { contentType: template.contentType }),
          ...(template.payloadFormatIndicator === undefined
            ? {}
            : { payloadFormatIndicator: template.payloadFormatIndicator }),
        },
        this.commandName,
      );
    } catch (error) {
      this.#logger.warn({ topic, err: error }, 'command response could not be published');
    }
  }
}
