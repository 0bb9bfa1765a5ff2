// Malformed responses reach the CommandInvoker through a real broker: a raw mqtt.js client acts as
// a rogue executor and answers each request with a defect chosen by the request topic.
import { randomBytes } from 'node:crypto';
import { connectAsync, type IClientPublishOptions, type MqttClient as RawClient } from 'mqtt';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  CommandInvoker,
  MqttSession,
  ProtocolError,
  encodeHlc,
  type ProtocolErrorKind,
} from '@aio-connector/core';
import { startSubscriber, startTestBroker, type TestBroker } from '@aio-connector/testing';

const uniqueId = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

async function startBroker(): Promise<TestBroker> {
  const broker = await startTestBroker();
  onTestFinished(() => broker.close());
  return broker;
}

type Defect =
  | 'ok'
  | 'bad-ts'
  | 'bad-stat'
  | 'no-stat'
  | 'wrong-correlation'
  | 'unsupported-version'
  | 'wrong-content-type'
  | 'bad-json'
  | 'remote-400';

/** Subscribes a raw client to `rogue/+/cmd` and answers every request with the defect in its topic. */
async function startRogueExecutor(broker: TestBroker): Promise<RawClient> {
  const rogue = await connectAsync(broker.url, {
    protocolVersion: 5,
    clientId: uniqueId('rogue'),
    reconnectPeriod: 0,
    connectTimeout: 10_000,
  });
  onTestFinished(() => rogue.endAsync(true));
  rogue.on('message', (topic, _payload, packet) => {
    const defect = topic.split('/')[1] as Defect;
    const responseTopic = packet.properties?.responseTopic;
    const requestCorrelation = packet.properties?.correlationData;
    if (responseTopic === undefined || requestCorrelation === undefined) return;
    const userProperties: Record<string, string> = {
      __stat: '200',
      __protVer: '1.0',
      __ts: encodeHlc({ timestamp: Date.now(), counter: 0, nodeId: 'rogue' }),
      __srcId: 'rogue',
    };
    let body = JSON.stringify({ answer: 42 });
    let contentType = 'application/json';
    let correlationData = requestCorrelation;
    switch (defect) {
      case 'bad-ts':
        userProperties['__ts'] = 'yesterday';
        break;
      case 'bad-stat':
        userProperties['__stat'] = 'OK';
        break;
      case 'no-stat':
        delete userProperties['__stat'];
        break;
      case 'wrong-correlation':
        correlationData = randomBytes(16);
        break;
      case 'unsupported-version':
        userProperties['__protVer'] = '2.0';
        break;
      case 'wrong-content-type':
        contentType = 'text/plain';
        break;
      case 'bad-json':
        body = '{"answer": 4';
        break;
      case 'remote-400':
        Object.assign(userProperties, {
          __stat: '400',
          __stMsg: 'the request color is not supported',
          __propName: 'color',
          __propVal: 'ultraviolet',
        });
        body = '';
        break;
      case 'ok':
        break;
    }
    const options: IClientPublishOptions = {
      qos: 1,
      properties: {
        correlationData,
        messageExpiryInterval: 10,
        userProperties,
        ...(body === '' ? {} : { contentType, payloadFormatIndicator: true }),
      },
    };
    rogue.publish(responseTopic, body, options);
  });
  await rogue.subscribeAsync('rogue/+/cmd', { qos: 1 });
  return rogue;
}

async function connectInvoker(broker: TestBroker): Promise<{
  readonly session: MqttSession;
  readonly invoke: (defect: Defect, timeoutInMs?: number) => Promise<unknown>;
}> {
  const session = new MqttSession(
    { hostname: broker.host, port: broker.port, clientId: uniqueId('invoker'), useTls: false },
    { reconnect: { minDelayInMs: 50, maxDelayInMs: 500 } },
  );
  onTestFinished(() => session.close({ timeoutInMs: 2_000, endSession: true }));
  await session.connect({ signal: AbortSignal.timeout(20_000) });
  const invoker = new CommandInvoker<{ question: string }, { answer: number }>(
    session,
    'ask',
    'rogue/{ex:defect}/cmd',
    { timeoutInMs: 15_000 },
  );
  const invoke = (defect: Defect, timeoutInMs?: number) =>
    invoker.invoke(
      { question: defect },
      {
        topicTokens: { 'ex:defect': defect },
        ...(timeoutInMs === undefined ? {} : { timeoutInMs }),
      },
    );
  return { session, invoke };
}

/** Invokes and returns the ProtocolError it fails with. */
async function failure(
  invoke: (defect: Defect, timeoutInMs?: number) => Promise<unknown>,
  defect: Defect,
  timeoutInMs?: number,
): Promise<ProtocolError> {
  const error = await invoke(defect, timeoutInMs).then(
    (response) => new Error(`expected a failure, got ${JSON.stringify(response)}`),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProtocolError);
  return error as ProtocolError;
}

describe('malformed command responses through a real broker (integration)', () => {
  it('rejects each malformed response with the exact ProtocolError kind and header, and ignores foreign correlation data', async () => {
    const broker = await startBroker();
    await startRogueExecutor(broker);
    const { session, invoke } = await connectInvoker(broker);
    const responses = await startSubscriber(broker.url, `clients/${session.clientId}/#`);
    onTestFinished(() => responses.close());
    const local = (
      kind: ProtocolErrorKind,
      extra: Record<string, unknown> = {},
    ): Record<string, unknown> => ({
      kind,
      isRemote: false,
      isShallow: false,
      commandName: 'ask',
      ...extra,
    });

    // the rogue speaks the protocol well enough when it wants to
    await expect(invoke('ok')).resolves.toMatchObject({
      status: 200,
      payload: { answer: 42 },
      executorId: 'rogue',
    });

    expect(await failure(invoke, 'bad-ts')).toMatchObject(
      local('invalid header', {
        code: 'ERR_AIO_PROTOCOL_INVALID_HEADER',
        headerName: '__ts',
        headerValue: 'yesterday',
      }),
    );
    expect(await failure(invoke, 'bad-stat')).toMatchObject(
      local('invalid header', { headerName: '__stat', headerValue: 'OK' }),
    );
    expect(await failure(invoke, 'no-stat')).toMatchObject(
      local('missing header', {
        code: 'ERR_AIO_PROTOCOL_MISSING_HEADER',
        headerName: '__stat',
        headerValue: undefined,
      }),
    );
    expect(await failure(invoke, 'unsupported-version')).toMatchObject(
      local('unsupported version', {
        protocolVersion: '2.0',
        supportedMajorProtocolVersions: [1],
      }),
    );
    expect(await failure(invoke, 'wrong-content-type')).toMatchObject(
      local('invalid header', { headerName: 'Content Type', headerValue: 'text/plain' }),
    );
    expect(await failure(invoke, 'bad-json')).toMatchObject(local('invalid payload'));
    expect(await failure(invoke, 'remote-400')).toMatchObject({
      kind: 'invalid header',
      isRemote: true,
      statusCode: 400,
      headerName: 'color',
      headerValue: 'ultraviolet',
      message: 'the request color is not supported',
    });

    // a response with foreign correlation data is not this invocation's: it times out
    const started = performance.now();
    const timeout = await failure(invoke, 'wrong-correlation', 1_500);
    expect(timeout).toMatchObject(
      local('timeout', { timeoutName: 'timeoutInMs', timeoutInMs: 2_000, retryable: true }),
    );
    expect(performance.now() - started).toBeGreaterThanOrEqual(1_900);
    // although the broker did deliver the rogue's answer to the invoker's response topic
    const [foreign] = await responses.waitFor((m) => m.topic.includes('/wrong-correlation/'));
    expect(foreign?.correlationData).toHaveLength(16);
    const requestCorrelation = (timeout.details as { correlationData?: string } | undefined)
      ?.correlationData;
    expect(requestCorrelation).toMatch(/^[0-9a-f]{32}$/);
    expect(foreign?.correlationData?.toString('hex')).not.toBe(requestCorrelation);

    // nothing above broke the invoker
    await expect(invoke('ok')).resolves.toMatchObject({ status: 200, payload: { answer: 42 } });
  });
  it('names the command on errors raised while reading a response (bad __ts, refused content type, bad payload)', async () => {
    const broker = await startBroker();
    await startRogueExecutor(broker);
    const { invoke } = await connectInvoker(broker);
    for (const defect of ['bad-ts', 'wrong-content-type', 'bad-json'] as const) {
      const error = await failure(invoke, defect);
      expect(error.commandName, defect).toBe('ask');
      expect(error.isRemote, defect).toBe(false);
    }
    // the other facts survive: the header, and the cause of an undecodable payload
    expect(await failure(invoke, 'bad-ts')).toMatchObject({
      headerName: '__ts',
      headerValue: 'yesterday',
    });
    expect(await failure(invoke, 'bad-json')).toMatchObject({
      kind: 'invalid payload',
      cause: expect.any(SyntaxError),
    });
  });
});
