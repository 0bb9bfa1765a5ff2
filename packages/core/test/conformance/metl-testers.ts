/**
 * The four METL testers: each runs one test case against the real protocol component over the
 * stub MQTT client, following MetlSpec.md (prologue, actions, epilogue).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, OutgoingMessage, UserProperty } from '../../src/mqtt/mqtt-client.ts';
import type { CloudEventInit } from '../../src/protocol/cloud-event.ts';
import { CommandExecutor, type CommandRequest } from '../../src/protocol/command-executor.ts';
import { CommandInvoker, type CommandResponse } from '../../src/protocol/command-invoker.ts';
import { HybridLogicalClock } from '../../src/protocol/hlc.ts';
import { TelemetryReceiver, type TelemetryMessage } from '../../src/protocol/telemetry-receiver.ts';
import { TelemetrySender } from '../../src/protocol/telemetry-sender.ts';
import { getUserProperty, toHex } from '../../src/protocol/user-properties.ts';
import { FreezableClock } from './freezable-clock.ts';
import {
  CountdownEvent,
  MetlSerializer,
  checkCatch,
  checkPublishedMessage,
  describeError,
  durationInMs,
  expectEqual,
  expectOutcome,
  fail,
  has,
  knownKeys,
  pick,
  stringMap,
  utf8,
  waitTimeoutInMs,
  within,
  type Component,
  type MetlCase,
  type Yaml,
} from './metl-support.ts';
import { StubMqttClient, type AckKind } from './stub-mqtt-client.ts';

type Outcome<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

function settle<T>(promise: Promise<T>): Promise<Outcome<T>> {
  return promise.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );
}

/** What every tester sets up: the stub client, a freezable clock and an HLC on that clock. */
class Harness {
  readonly stub: StubMqttClient;
  readonly clock = new FreezableClock();
  readonly hlc: HybridLogicalClock;
  readonly cleanup = new AbortController();
  readonly correlations = new Map<number, Uint8Array>();
  readonly packets = new Map<number, number>();
  readonly sources = new Map<number, string>();

  constructor(prologue: Yaml, defaultClientId: string) {
    const config = (prologue['mqtt-config'] ?? {}) as Yaml;
    knownKeys(config, ['client-id'], 'mqtt-config');
    this.stub = new StubMqttClient((config['client-id'] as string | undefined) ?? defaultClientId);
    const acks = (prologue['push-acks'] ?? {}) as Yaml;
    knownKeys(acks, ['publish', 'subscribe', 'unsubscribe'], 'push-acks');
    this.stub.publishAcks.push(...((acks['publish'] ?? []) as AckKind[]));
    this.stub.subscribeAcks.push(...((acks['subscribe'] ?? []) as AckKind[]));
    this.stub.unsubscribeAcks.push(...((acks['unsubscribe'] ?? []) as AckKind[]));
    this.hlc = new HybridLogicalClock({ now: () => this.clock.now() });
  }

  packetId(index: unknown): number {
    if (typeof index === 'number') {
      const known = this.packets.get(index);
      if (known !== undefined) return known;
      const id = this.stub.newPacketId();
      this.packets.set(index, id);
      return id;
    }
    return this.stub.newPacketId();
  }

  sourceId(index: number): string {
    let id = this.sources.get(index);
    if (id === undefined) {
      id = randomUUID();
      this.sources.set(index, id);
    }
    return id;
  }

  /** Actions every component understands; returns false for an action it does not handle. */
  async commonAction(action: Yaml, where: string): Promise<boolean> {
    switch (action['action']) {
      case 'await acknowledgement': {
        knownKeys(action, ['action', 'packet-index'], where);
        const packetId = await this.stub.nextAcknowledgement(waitTimeoutInMs);
        if (packetId === undefined)
          fail(`${where}: no acknowledgement within ${waitTimeoutInMs} ms`);
        if (has(action, 'packet-index')) {
          const expected = this.packets.get(action['packet-index'] as number);
          if (expected === undefined)
            fail(`${where}: packet index ${String(action['packet-index'])} was never used`);
          expectEqual(packetId, expected, `${where}: acknowledged packet id`);
        }
        return true;
      }
      case 'disconnect':
        knownKeys(action, ['action'], where);
        this.stub.disconnect();
        return true;
      case 'sleep':
        knownKeys(action, ['action', 'duration'], where);
        await within(this.clock.sleep(durationInMs(action['duration'])), `${where}: sleep`);
        return true;
      case 'freeze time':
        knownKeys(action, ['action'], where);
        this.clock.freeze();
        return true;
      case 'unfreeze time':
        knownKeys(action, ['action'], where);
        this.clock.unfreeze();
        return true;
      default:
        return false;
    }
  }

  async nextPublication(where: string): Promise<OutgoingMessage> {
    const message = await this.stub.nextPublication(waitTimeoutInMs);
    if (message === undefined) fail(`${where}: nothing was published within ${waitTimeoutInMs} ms`);
    return message;
  }

  /** The last publication with the correlation data of `index` (`null`: the one without). */
  publicationFor(index: unknown, where: string): OutgoingMessage {
    if (index === null) {
      const candidates = this.stub.publications.filter((m) => m.correlationData === undefined);
      if (candidates.length !== 1)
        fail(
          `${where}: expected one publication without correlation data, found ${candidates.length}`,
        );
      return candidates[0] as OutgoingMessage;
    }
    const correlation = this.correlations.get(index as number);
    if (correlation === undefined)
      fail(`${where}: correlation index ${JSON.stringify(index)} was never used`);
    const hex = toHex(correlation);
    const found = this.stub.publications.findLast(
      (m) => m.correlationData !== undefined && toHex(m.correlationData) === hex,
    );
    if (found === undefined)
      fail(`${where}: nothing was published with correlation index ${JSON.stringify(index)}`);
    return found;
  }

  checkSubscriptions(epilogue: Yaml): void {
    for (const topic of (epilogue['subscribed-topics'] ?? []) as string[])
      if (!this.stub.subscriptions.has(topic))
        fail(
          `epilogue: '${topic}' was not subscribed (subscribed: ${[...this.stub.subscriptions].join(', ')})`,
        );
  }

  checkCounts(epilogue: Yaml): void {
    if (has(epilogue, 'publication-count'))
      expectEqual(
        this.stub.publications.length,
        epilogue['publication-count'],
        'epilogue: publication count',
      );
    if (has(epilogue, 'acknowledgement-count'))
      expectEqual(
        this.stub.acknowledgements.length,
        epilogue['acknowledgement-count'],
        'epilogue: acknowledgement count',
      );
    if (this.stub.handlerErrors.length > 0)
      fail(`a message handler threw: ${describeError(this.stub.handlerErrors[0])}`);
  }

  dispose(): void {
    this.cleanup.abort(new Error('test case finished'));
    this.clock.unfreeze();
    this.clock.dispose();
  }
}

function incomingMessage(
  fields: {
    topic: string;
    payload: unknown;
    contentType: unknown;
    formatIndicator: unknown;
    qos: unknown;
    messageExpiry: unknown;
    responseTopic?: unknown;
    correlationData?: Uint8Array | undefined;
  },
  userProperties: UserProperty[],
): IncomingMessage {
  const { payload, contentType, formatIndicator, messageExpiry, responseTopic, correlationData } =
    fields;
  return {
    topic: fields.topic,
    payload: typeof payload === 'string' ? utf8(payload) : new Uint8Array(0),
    qos: fields.qos === 0 ? 0 : 1,
    retain: false,
    userProperties,
    ...(typeof contentType === 'string' ? { contentType } : {}),
    ...(formatIndicator === 0 || formatIndicator === 1
      ? { payloadFormatIndicator: formatIndicator }
      : {}),
    ...(messageExpiry === null || messageExpiry === undefined
      ? {}
      : { messageExpiryInterval: Math.floor(durationInMs(messageExpiry) / 1000) }),
    ...(typeof responseTopic === 'string' ? { responseTopic } : {}),
    ...(correlationData === undefined ? {} : { correlationData }),
  };
}

function optionalString(value: unknown): string | undefined {
  return value === null || value === undefined ? undefined : (value as string);
}

// ---------------------------------------------------------------- CommandExecutor

async function runExecutorCase(metl: MetlCase, index: number, defaults: Yaml): Promise<void> {
  const d = defaults as { prologue: { executor: Yaml }; actions: Record<string, Yaml> };
  const executorDefaults = d.prologue.executor;
  const serializerDefaults = executorDefaults['serializer'] as Yaml;
  const requestDefaults = d.actions['receive-request'] as Yaml;
  const { prologue } = metl;
  knownKeys(
    prologue,
    ['mqtt-config', 'push-acks', 'executors', 'catch', 'countdown-events'],
    'prologue',
  );
  const h = new Harness(prologue, `ExecutorTestClient${index}`);
  const events = new Map<string, CountdownEvent>();
  for (const [name, count] of Object.entries(
    (prologue['countdown-events'] ?? {}) as Record<string, number>,
  ))
    events.set(name, new CountdownEvent(count));
  const event = (name: string): CountdownEvent => {
    const found = events.get(name);
    if (found === undefined) throw new Error(`METL harness: unknown countdown event '${name}'`);
    return found;
  };
  const executors: {
    executor: CommandExecutor<string | null, string | null>;
    executions: number;
  }[] = [];
  try {
    const configs = (prologue['executors'] ?? []) as Yaml[];
    for (const [i, config] of configs.entries()) {
      knownKeys(
        config,
        [
          'command-name',
          'serializer',
          'request-topic',
          'executor-id',
          'topic-namespace',
          'topic-token-map',
          'idempotent',
          'cache-ttl',
          'execution-timeout',
          'request-responses-map',
          'response-metadata',
          'token-metadata-prefix',
          'execution-concurrency',
          'raise-error',
          'sync',
        ],
        `executor ${i}`,
      );
      const entry = {
        executor: undefined as unknown as CommandExecutor<string | null, string | null>,
        executions: 0,
      };
      const responses = (pick(config, executorDefaults, 'request-responses-map') ?? {}) as Record<
        string,
        string[]
      >;
      const sequence = new Map<string, number>();
      const syncs = (config['sync'] ?? []) as Yaml[];
      const responseMetadata = (config['response-metadata'] ?? {}) as Record<string, string | null>;
      const tokenPrefix = config['token-metadata-prefix'] as string | undefined;
      const handler = async (
        request: CommandRequest<string | null>,
        { signal }: { readonly signal: AbortSignal },
      ): Promise<{ payload: string | null; userData: Record<string, string> }> => {
        entry.executions++;
        const cancel = AbortSignal.any([signal, h.cleanup.signal]);
        for (const sync of syncs) {
          knownKeys(sync, ['signal-event', 'wait-event'], 'sync');
          if (typeof sync['wait-event'] === 'string') await event(sync['wait-event']).wait(cancel);
          if (typeof sync['signal-event'] === 'string') event(sync['signal-event']).signal();
        }
        if (config['raise-error'] === true) throw new Error('error raised by the test case');
        let payload: string | null = null;
        const list = request.payload === null ? undefined : responses[request.payload];
        if (request.payload !== null && list !== undefined && list.length > 0) {
          const n = sequence.get(request.payload) ?? 0;
          sequence.set(request.payload, n + 1);
          payload = list[n % list.length] as string;
        }
        const userData: Record<string, string> = {};
        for (const [key, value] of Object.entries(responseMetadata)) {
          const copied = value ?? getUserProperty(request.userProperties, key);
          if (copied !== undefined) userData[key] = copied;
        }
        if (tokenPrefix !== undefined)
          for (const [key, value] of Object.entries(request.topicTokens))
            userData[tokenPrefix + key] = value;
        return { payload, userData };
      };
      const create = async (): Promise<void> => {
        const serializer = new MetlSerializer(
          (config['serializer'] ?? {}) as Yaml,
          serializerDefaults,
        );
        const timeout = pick(config, executorDefaults, 'execution-timeout');
        const concurrency = pick(config, executorDefaults, 'execution-concurrency');
        const executor = new CommandExecutor<string | null, string | null>(
          h.stub,
          pick(config, executorDefaults, 'command-name') as string,
          pick(config, executorDefaults, 'request-topic') as string,
          handler,
          {
            requestSerializer: serializer,
            responseSerializer: serializer,
            hlc: h.hlc,
            timeSource: h.clock,
            topicTokens: stringMap(config['topic-token-map']),
            ...(typeof config['topic-namespace'] === 'string'
              ? { topicNamespace: config['topic-namespace'] }
              : {}),
            ...(timeout === null || timeout === undefined
              ? {}
              : { executionTimeoutInMs: durationInMs(timeout) }),
            ...(typeof concurrency === 'number' ? { concurrency } : {}),
          },
        );
        entry.executor = executor;
        await executor.start();
        executors.push(entry);
      };
      const expected =
        i === configs.length - 1 ? (prologue['catch'] as Yaml | undefined) : undefined;
      await expectOutcome(create, expected, `executor ${i} initialization`);
      if (expected !== undefined) return;
    }

    for (const [ai, action] of metl.actions.entries()) {
      const where = `action ${ai} (${String(action['action'])})`;
      if (await h.commonAction(action, where)) continue;
      switch (action['action']) {
        case 'receive request': {
          knownKeys(
            action,
            [
              'action',
              'topic',
              'payload',
              'bypass-serialization',
              'content-type',
              'format-indicator',
              'metadata',
              'correlation-index',
              'correlation-id',
              'qos',
              'message-expiry',
              'response-topic',
              'source-index',
              'packet-index',
            ],
            where,
          );
          const correlationIndex = pick(action, requestDefaults, 'correlation-index');
          let correlationData: Uint8Array | undefined;
          if (typeof correlationIndex === 'number') {
            correlationData =
              h.correlations.get(correlationIndex) ??
              (typeof action['correlation-id'] === 'string'
                ? utf8(action['correlation-id'])
                : new Uint8Array(randomBytes(16)));
            h.correlations.set(correlationIndex, correlationData);
          }
          const properties: UserProperty[] = [];
          const sourceIndex = pick(action, requestDefaults, 'source-index');
          if (typeof sourceIndex === 'number')
            properties.push(['__srcId', h.sourceId(sourceIndex)]);
          properties.push(...Object.entries(stringMap(action['metadata'])));
          const packetId = h.packetId(action['packet-index']);
          h.stub.receive(
            incomingMessage(
              {
                topic: pick(action, requestDefaults, 'topic') as string,
                payload: pick(action, requestDefaults, 'payload'),
                contentType: pick(action, requestDefaults, 'content-type'),
                formatIndicator: pick(action, requestDefaults, 'format-indicator'),
                qos: pick(action, requestDefaults, 'qos'),
                messageExpiry: pick(action, requestDefaults, 'message-expiry'),
                responseTopic: pick(action, requestDefaults, 'response-topic'),
                correlationData,
              },
              properties,
            ),
            packetId,
          );
          break;
        }
        case 'await publish': {
          knownKeys(action, ['action', 'correlation-index'], where);
          const message = await h.nextPublication(where);
          if (has(action, 'correlation-index')) {
            const expected = h.correlations.get(action['correlation-index'] as number);
            if (expected === undefined) fail(`${where}: correlation index was never used`);
            expectEqual(
              message.correlationData === undefined ? undefined : toHex(message.correlationData),
              toHex(expected),
              `${where}: correlation data`,
            );
          }
          break;
        }
        case 'sync': {
          knownKeys(action, ['action', 'signal-event', 'wait-event'], where);
          if (typeof action['wait-event'] === 'string')
            await within(event(action['wait-event']).wait(h.cleanup.signal), `${where}: wait`);
          if (typeof action['signal-event'] === 'string') event(action['signal-event']).signal();
          break;
        }
        default:
          throw new Error(`METL harness: unsupported action '${String(action['action'])}'`);
      }
    }

    const epilogue = metl.epilogue ?? {};
    knownKeys(
      epilogue,
      [
        'subscribed-topics',
        'publication-count',
        'published-messages',
        'acknowledgement-count',
        'execution-count',
        'execution-counts',
        'catch',
      ],
      'epilogue',
    );
    h.checkSubscriptions(epilogue);
    h.checkCounts(epilogue);
    for (const [i, expected] of ((epilogue['published-messages'] ?? []) as Yaml[]).entries()) {
      const where = `epilogue: published message ${i}`;
      checkPublishedMessage(
        h.publicationFor(expected['correlation-index'], where),
        expected,
        where,
      );
    }
    if (has(epilogue, 'execution-count'))
      expectEqual(
        executors[0]?.executions,
        epilogue['execution-count'],
        'epilogue: execution count',
      );
    for (const [i, count] of Object.entries(
      (epilogue['execution-counts'] ?? {}) as Record<string, number>,
    ))
      expectEqual(
        executors[Number(i)]?.executions,
        count,
        `epilogue: execution count of executor ${i}`,
      );
    await expectOutcome(
      async () => {
        for (const { executor } of executors) await executor.stop();
      },
      epilogue['catch'] as Yaml | undefined,
      'stopping the executors',
    );
  } finally {
    h.dispose();
    await Promise.allSettled(executors.map(({ executor }) => executor.stop()));
  }
}

// ---------------------------------------------------------------- CommandInvoker

async function runInvokerCase(metl: MetlCase, index: number, defaults: Yaml): Promise<void> {
  const d = defaults as { prologue: { invoker: Yaml }; actions: Record<string, Yaml> };
  const invokerDefaults = d.prologue.invoker;
  const serializerDefaults = invokerDefaults['serializer'] as Yaml;
  const invokeDefaults = d.actions['invoke-command'] as Yaml;
  const responseDefaults = d.actions['receive-response'] as Yaml;
  const { prologue } = metl;
  knownKeys(prologue, ['mqtt-config', 'push-acks', 'invokers', 'catch'], 'prologue');
  const h = new Harness(prologue, `InvokerTestClient${index}`);
  const invokers = new Map<string, CommandInvoker<string | null, string>>();
  const invocations = new Map<number, Promise<Outcome<CommandResponse<string>>>>();
  try {
    const configs = (prologue['invokers'] ?? []) as Yaml[];
    for (const [i, config] of configs.entries()) {
      knownKeys(
        config,
        [
          'command-name',
          'serializer',
          'request-topic',
          'topic-namespace',
          'response-topic-prefix',
          'response-topic-suffix',
          'topic-token-map',
          'response-topic-pattern',
        ],
        `invoker ${i}`,
      );
      const expected =
        i === configs.length - 1 ? (prologue['catch'] as Yaml | undefined) : undefined;
      const name = pick(config, invokerDefaults, 'command-name') as string;
      const create = (): CommandInvoker<string | null, string> => {
        const serializer = new MetlSerializer(
          (config['serializer'] ?? {}) as Yaml,
          serializerDefaults,
        );
        const prefix = optionalString(pick(config, invokerDefaults, 'response-topic-prefix'));
        const suffix = optionalString(pick(config, invokerDefaults, 'response-topic-suffix'));
        const pattern = optionalString(config['response-topic-pattern']);
        const namespace = optionalString(config['topic-namespace']);
        const invoker = new CommandInvoker<string | null, string>(
          h.stub,
          name,
          pick(config, invokerDefaults, 'request-topic') as string,
          {
            requestSerializer: serializer,
            responseSerializer: serializer,
            hlc: h.hlc,
            timeSource: h.clock,
            topicTokens: stringMap(config['topic-token-map']),
            ...(prefix === undefined ? {} : { responseTopicPrefix: prefix }),
            ...(suffix === undefined ? {} : { responseTopicSuffix: suffix }),
            ...(pattern === undefined ? {} : { responseTopicPattern: pattern }),
            ...(namespace === undefined ? {} : { topicNamespace: namespace }),
          },
        );
        invokers.set(name, invoker);
        return invoker;
      };
      if (expected === undefined) {
        await expectOutcome(async () => create(), undefined, `invoker ${i} initialization`);
        continue;
      }
      // as the reference testers do: the error may surface when the invoker is first used
      await expectOutcome(
        async () => {
          const invoker = create();
          await invoker.invoke(invokeDefaults['request-value'] as string, { timeoutInMs: 1_000 });
        },
        expected,
        `invoker ${i} initialization`,
      );
      return;
    }

    for (const [ai, action] of metl.actions.entries()) {
      const where = `action ${ai} (${String(action['action'])})`;
      if (await h.commonAction(action, where)) continue;
      switch (action['action']) {
        case 'invoke command': {
          knownKeys(
            action,
            [
              'action',
              'invocation-index',
              'command-name',
              'topic-token-map',
              'timeout',
              'request-value',
              'metadata',
            ],
            where,
          );
          const name = pick(action, invokeDefaults, 'command-name') as string;
          const invoker = invokers.get(name);
          if (invoker === undefined) throw new Error(`METL harness: no invoker named '${name}'`);
          const timeout = pick(action, invokeDefaults, 'timeout');
          const request = pick(action, invokeDefaults, 'request-value') as string | null;
          invocations.set(
            action['invocation-index'] as number,
            settle(
              invoker.invoke(request, {
                topicTokens: stringMap(action['topic-token-map']),
                userData: stringMap(action['metadata']),
                ...(timeout === null || timeout === undefined
                  ? {}
                  : { timeoutInMs: durationInMs(timeout) }),
              }),
            ),
          );
          break;
        }
        case 'await invocation': {
          knownKeys(
            action,
            ['action', 'invocation-index', 'catch', 'response-value', 'metadata'],
            where,
          );
          const invocation = invocations.get(action['invocation-index'] as number);
          if (invocation === undefined)
            throw new Error(
              `METL harness: invocation ${String(action['invocation-index'])} was never started`,
            );
          const outcome = await within(invocation, `${where}: completion`);
          const expected = action['catch'] as Yaml | undefined;
          if (!outcome.ok) {
            if (expected === undefined)
              fail(`${where}: unexpected error ${describeError(outcome.error)}`);
            checkCatch(expected, outcome.error, where);
            break;
          }
          if (expected !== undefined)
            fail(`${where}: expected a '${String(expected['error-kind'])}' error, none raised`);
          if (has(action, 'response-value'))
            expectEqual(
              outcome.value.payload,
              action['response-value'] ?? undefined,
              `${where}: response value`,
            );
          for (const [key, value] of Object.entries(stringMap(action['metadata'])))
            expectEqual(
              getUserProperty(outcome.value.userProperties, key),
              value,
              `${where}: metadata '${key}'`,
            );
          break;
        }
        case 'await publish': {
          knownKeys(action, ['action', 'correlation-index'], where);
          const message = await h.nextPublication(where);
          if (has(action, 'correlation-index') && message.correlationData !== undefined)
            h.correlations.set(action['correlation-index'] as number, message.correlationData);
          break;
        }
        case 'receive response': {
          knownKeys(
            action,
            [
              'action',
              'topic',
              'payload',
              'content-type',
              'format-indicator',
              'metadata',
              'correlation-index',
              'qos',
              'message-expiry',
              'status',
              'status-message',
              'is-application-error',
              'invalid-property-name',
              'invalid-property-value',
              'packet-index',
            ],
            where,
          );
          const correlationIndex = pick(action, responseDefaults, 'correlation-index');
          let correlationData: Uint8Array | undefined;
          if (typeof correlationIndex === 'number') {
            correlationData = h.correlations.get(correlationIndex);
            if (correlationData === undefined)
              throw new Error(
                `METL harness: correlation index ${correlationIndex} was never published`,
              );
          }
          const properties: UserProperty[] = Object.entries(stringMap(action['metadata']));
          const add = (name: string, value: unknown): void => {
            if (typeof value === 'string') properties.push([name, value]);
          };
          add('__stat', pick(action, responseDefaults, 'status'));
          add('__stMsg', action['status-message']);
          add('__apErr', action['is-application-error']);
          add('__propName', action['invalid-property-name']);
          add('__propVal', action['invalid-property-value']);
          const packetId = h.packetId(action['packet-index']);
          h.stub.receive(
            incomingMessage(
              {
                topic: pick(action, responseDefaults, 'topic') as string,
                payload: pick(action, responseDefaults, 'payload'),
                contentType: pick(action, responseDefaults, 'content-type'),
                formatIndicator: pick(action, responseDefaults, 'format-indicator'),
                qos: pick(action, responseDefaults, 'qos'),
                messageExpiry: pick(action, responseDefaults, 'message-expiry'),
                correlationData,
              },
              properties,
            ),
            packetId,
          );
          break;
        }
        default:
          throw new Error(`METL harness: unsupported action '${String(action['action'])}'`);
      }
    }

    const epilogue = metl.epilogue ?? {};
    knownKeys(
      epilogue,
      ['subscribed-topics', 'publication-count', 'published-messages', 'acknowledgement-count'],
      'epilogue',
    );
    h.checkSubscriptions(epilogue);
    h.checkCounts(epilogue);
    for (const [i, expected] of ((epilogue['published-messages'] ?? []) as Yaml[]).entries()) {
      const where = `epilogue: published message ${i}`;
      checkPublishedMessage(
        h.publicationFor(expected['correlation-index'], where),
        expected,
        where,
      );
    }
  } finally {
    h.dispose();
    await Promise.allSettled([...invokers.values()].map((invoker) => invoker.stop()));
  }
}

// ---------------------------------------------------------------- TelemetryReceiver

async function runReceiverCase(metl: MetlCase, index: number, defaults: Yaml): Promise<void> {
  const d = defaults as { prologue: { receiver: Yaml }; actions: Record<string, Yaml> };
  const receiverDefaults = d.prologue.receiver;
  const serializerDefaults = receiverDefaults['serializer'] as Yaml;
  const telemetryDefaults = d.actions['receive-telemetry'] as Yaml;
  const { prologue } = metl;
  knownKeys(prologue, ['mqtt-config', 'push-acks', 'receivers', 'catch'], 'prologue');
  const h = new Harness(prologue, `ReceiverTestClient${index}`);
  const receivers: TelemetryReceiver<string>[] = [];
  const received: { receiver: number; message: TelemetryMessage<string> }[] = [];
  try {
    const configs = (prologue['receivers'] ?? []) as Yaml[];
    for (const [i, config] of configs.entries()) {
      knownKeys(
        config,
        ['serializer', 'telemetry-topic', 'topic-namespace', 'topic-token-map', 'raise-error'],
        `receiver ${i}`,
      );
      const expected =
        i === configs.length - 1 ? (prologue['catch'] as Yaml | undefined) : undefined;
      const create = async (): Promise<void> => {
        const namespace = optionalString(config['topic-namespace']);
        const receiver = new TelemetryReceiver<string>(
          h.stub,
          pick(config, receiverDefaults, 'telemetry-topic') as string,
          (message) => {
            received.push({ receiver: i, message });
            if (config['raise-error'] === true) throw new Error('error raised by the test case');
          },
          {
            serializer: new MetlSerializer(
              (config['serializer'] ?? {}) as Yaml,
              serializerDefaults,
            ),
            hlc: h.hlc,
            topicTokens: stringMap(config['topic-token-map']),
            ...(namespace === undefined ? {} : { topicNamespace: namespace }),
          },
        );
        await receiver.start();
        receivers.push(receiver);
      };
      await expectOutcome(create, expected, `receiver ${i} initialization`);
      if (expected !== undefined) return;
    }

    for (const [ai, action] of metl.actions.entries()) {
      const where = `action ${ai} (${String(action['action'])})`;
      if (await h.commonAction(action, where)) continue;
      if (action['action'] !== 'receive telemetry')
        throw new Error(`METL harness: unsupported action '${String(action['action'])}'`);
      knownKeys(
        action,
        [
          'action',
          'topic',
          'payload',
          'content-type',
          'format-indicator',
          'metadata',
          'qos',
          'message-expiry',
          'source-index',
          'packet-index',
        ],
        where,
      );
      const properties: UserProperty[] = Object.entries(stringMap(action['metadata']));
      const sourceIndex = pick(action, telemetryDefaults, 'source-index');
      if (typeof sourceIndex === 'number') properties.push(['__srcId', h.sourceId(sourceIndex)]);
      const packetId = h.packetId(action['packet-index']);
      h.stub.receive(
        incomingMessage(
          {
            topic: pick(action, telemetryDefaults, 'topic') as string,
            payload: pick(action, telemetryDefaults, 'payload'),
            contentType: pick(action, telemetryDefaults, 'content-type'),
            formatIndicator: pick(action, telemetryDefaults, 'format-indicator'),
            qos: pick(action, telemetryDefaults, 'qos'),
            messageExpiry: pick(action, telemetryDefaults, 'message-expiry'),
          },
          properties,
        ),
        packetId,
      );
    }

    const epilogue = metl.epilogue ?? {};
    knownKeys(
      epilogue,
      [
        'subscribed-topics',
        'acknowledgement-count',
        'telemetry-count',
        'telemetry-counts',
        'received-telemetries',
        'catch',
      ],
      'epilogue',
    );
    h.checkSubscriptions(epilogue);
    h.checkCounts(epilogue);
    if (has(epilogue, 'telemetry-count'))
      expectEqual(
        received.filter((r) => r.receiver === 0).length,
        epilogue['telemetry-count'],
        'epilogue: telemetry count',
      );
    for (const [i, count] of Object.entries(
      (epilogue['telemetry-counts'] ?? {}) as Record<string, number>,
    ))
      expectEqual(
        received.filter((r) => r.receiver === Number(i)).length,
        count,
        `epilogue: telemetry count of receiver ${i}`,
      );
    for (const [i, expected] of ((epilogue['received-telemetries'] ?? []) as Yaml[]).entries()) {
      const where = `epilogue: received telemetry ${i}`;
      knownKeys(
        expected,
        ['telemetry-value', 'metadata', 'topic-tokens', 'cloud-event', 'source-index'],
        where,
      );
      const message = received[i]?.message;
      if (message === undefined)
        fail(`${where}: only ${received.length} telemetry messages were received`);
      if (has(expected, 'telemetry-value'))
        expectEqual(message.payload, expected['telemetry-value'] ?? undefined, `${where}: value`);
      for (const [key, value] of Object.entries((expected['metadata'] ?? {}) as Yaml))
        expectEqual(
          getUserProperty(message.userProperties, key),
          value ?? undefined,
          `${where}: metadata '${key}'`,
        );
      for (const [key, value] of Object.entries(stringMap(expected['topic-tokens'])))
        expectEqual(message.topicTokens[key], value, `${where}: topic token '${key}'`);
      if (has(expected, 'source-index')) {
        const source = h.sources.get(expected['source-index'] as number);
        if (source === undefined)
          fail(`${where}: source index ${String(expected['source-index'])} was never used`);
        expectEqual(message.senderId, source, `${where}: sender id`);
      }
      if (has(expected, 'cloud-event')) {
        const event = expected['cloud-event'] as Yaml | null;
        if (event === null) {
          if (message.cloudEvent !== undefined)
            fail(`${where}: a CloudEvent was delivered, none expected`);
        } else {
          knownKeys(
            event,
            [
              'source',
              'type',
              'spec-version',
              'id',
              'time',
              'data-content-type',
              'subject',
              'data-schema',
            ],
            `${where} cloud-event`,
          );
          const ce = message.cloudEvent;
          if (ce === undefined) fail(`${where}: no CloudEvent was delivered`);
          const fields: Record<string, string | undefined> = {
            source: ce.source,
            type: ce.type,
            'spec-version': ce.specVersion,
            id: ce.id,
            time: ce.time,
            'data-content-type': ce.dataContentType,
            subject: ce.subject,
            'data-schema': ce.dataSchema,
          };
          for (const [key, value] of Object.entries(event))
            expectEqual(fields[key], value ?? undefined, `${where}: CloudEvent ${key}`);
        }
      }
    }
    await expectOutcome(
      async () => {
        for (const receiver of receivers) await receiver.stop();
      },
      epilogue['catch'] as Yaml | undefined,
      'stopping the receivers',
    );
  } finally {
    h.dispose();
    await Promise.allSettled(receivers.map((receiver) => receiver.stop()));
  }
}

// ---------------------------------------------------------------- TelemetrySender

async function runSenderCase(metl: MetlCase, index: number, defaults: Yaml): Promise<void> {
  const d = defaults as { prologue: { sender: Yaml }; actions: Record<string, Yaml> };
  const senderDefaults = d.prologue.sender;
  const serializerDefaults = senderDefaults['serializer'] as Yaml;
  const sendDefaults = d.actions['send-telemetry'] as Yaml;
  const { prologue } = metl;
  knownKeys(prologue, ['mqtt-config', 'push-acks', 'senders', 'catch'], 'prologue');
  const h = new Harness(prologue, `SenderTestClient${index}`);
  const senders = new Map<string, TelemetrySender<string | null>>();
  const sends: Promise<Outcome<void>>[] = [];
  try {
    const configs = (prologue['senders'] ?? []) as Yaml[];
    for (const [i, config] of configs.entries()) {
      knownKeys(
        config,
        ['telemetry-name', 'serializer', 'telemetry-topic', 'topic-namespace', 'topic-token-map'],
        `sender ${i}`,
      );
      const expected =
        i === configs.length - 1 ? (prologue['catch'] as Yaml | undefined) : undefined;
      const create = (): TelemetrySender<string | null> => {
        const namespace = optionalString(config['topic-namespace']);
        const sender = new TelemetrySender<string | null>(
          h.stub,
          pick(config, senderDefaults, 'telemetry-topic') as string,
          {
            serializer: new MetlSerializer(
              (config['serializer'] ?? {}) as Yaml,
              serializerDefaults,
            ),
            hlc: h.hlc,
            timeSource: h.clock,
            topicTokens: stringMap(config['topic-token-map']),
            ...(namespace === undefined ? {} : { topicNamespace: namespace }),
          },
        );
        senders.set(pick(config, senderDefaults, 'telemetry-name') as string, sender);
        return sender;
      };
      if (expected === undefined) {
        await expectOutcome(async () => create(), undefined, `sender ${i} initialization`);
        continue;
      }
      await expectOutcome(
        async () => create().send(sendDefaults['telemetry-value'] as string),
        expected,
        `sender ${i} initialization`,
      );
      return;
    }

    for (const [ai, action] of metl.actions.entries()) {
      const where = `action ${ai} (${String(action['action'])})`;
      if (await h.commonAction(action, where)) continue;
      switch (action['action']) {
        case 'send telemetry': {
          knownKeys(
            action,
            [
              'action',
              'telemetry-name',
              'topic-token-map',
              'timeout',
              'telemetry-value',
              'metadata',
              'cloud-event',
              'qos',
            ],
            where,
          );
          const name = pick(action, sendDefaults, 'telemetry-name') as string;
          const sender = senders.get(name);
          if (sender === undefined) throw new Error(`METL harness: no sender named '${name}'`);
          const timeout = pick(action, sendDefaults, 'timeout');
          const qos = pick(action, sendDefaults, 'qos');
          let cloudEvent: CloudEventInit | undefined;
          if (has(action, 'cloud-event')) {
            const ce = action['cloud-event'] as Yaml;
            knownKeys(
              ce,
              ['source', 'type', 'spec-version', 'id', 'time', 'subject', 'data-schema'],
              `${where} cloud-event`,
            );
            const field = (key: string): string | undefined => optionalString(ce[key]);
            cloudEvent = {
              source: ce['source'] as string,
              ...(field('type') === undefined ? {} : { type: field('type') as string }),
              ...(field('spec-version') === undefined
                ? {}
                : { specVersion: field('spec-version') as string }),
              ...(field('id') === undefined ? {} : { id: field('id') as string }),
              ...(field('time') === undefined ? {} : { time: field('time') as string }),
              ...(field('subject') === undefined ? {} : { subject: field('subject') as string }),
              ...(field('data-schema') === undefined
                ? {}
                : { dataSchema: field('data-schema') as string }),
            };
          }
          sends.push(
            settle(
              sender.send(pick(action, sendDefaults, 'telemetry-value') as string | null, {
                topicTokens: stringMap(action['topic-token-map']),
                userData: stringMap(action['metadata']),
                ...(timeout === null || timeout === undefined
                  ? {}
                  : { timeoutInMs: durationInMs(timeout) }),
                ...(qos === 0 || qos === 1 ? { qos } : {}),
                ...(cloudEvent === undefined ? {} : { cloudEvent }),
              }),
            ),
          );
          break;
        }
        case 'await send': {
          knownKeys(action, ['action', 'catch'], where);
          const send = sends.shift();
          if (send === undefined)
            throw new Error('METL harness: await send without a pending send');
          const outcome = await within(send, `${where}: completion`);
          const expected = action['catch'] as Yaml | undefined;
          if (!outcome.ok) {
            if (expected === undefined)
              fail(`${where}: unexpected error ${describeError(outcome.error)}`);
            checkCatch(expected, outcome.error, where);
          } else if (expected !== undefined) {
            fail(`${where}: expected a '${String(expected['error-kind'])}' error, none raised`);
          }
          break;
        }
        case 'await publish':
          knownKeys(action, ['action'], where);
          await h.nextPublication(where);
          break;
        default:
          throw new Error(`METL harness: unsupported action '${String(action['action'])}'`);
      }
    }
    for (const send of sends) {
      const outcome = await within(send, 'a remaining send');
      if (!outcome.ok) fail(`a send that was not awaited failed: ${describeError(outcome.error)}`);
    }

    const epilogue = metl.epilogue ?? {};
    knownKeys(epilogue, ['publication-count', 'published-messages'], 'epilogue');
    h.checkCounts(epilogue);
    for (const [i, expected] of ((epilogue['published-messages'] ?? []) as Yaml[]).entries()) {
      const where = `epilogue: published message ${i}`;
      const message = h.stub.publications[i];
      if (message === undefined)
        fail(`${where}: only ${h.stub.publications.length} messages were published`);
      checkPublishedMessage(message, expected, where);
    }
  } finally {
    h.dispose();
  }
}

/** Runs one METL case of `component`; throws `MetlCheckFailure` when a check does not hold. */
export function runCase(
  component: Component,
  metl: MetlCase,
  index: number,
  defaults: Yaml,
): Promise<void> {
  switch (component) {
    case 'CommandExecutor':
      return runExecutorCase(metl, index, defaults);
    case 'CommandInvoker':
      return runInvokerCase(metl, index, defaults);
    case 'TelemetryReceiver':
      return runReceiverCase(metl, index, defaults);
    case 'TelemetrySender':
      return runSenderCase(metl, index, defaults);
  }
}
