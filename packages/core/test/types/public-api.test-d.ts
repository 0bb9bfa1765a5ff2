import { describe, expectTypeOf, it } from 'vitest';
import {
  AioError,
  ConfigError,
  EventDrivenTelemetryConnector,
  PollingTelemetryConnector,
  isAioError,
  retry,
  sample,
  type AioErrorCode,
  type ConnectorBase,
  type AssetContext,
  type ConnectorOptions,
  type DatasetContext,
  type DatasetSampler,
  type EndpointCredentials,
  type ForwardData,
  type MqttClient,
  type SampleResult,
} from '@aio-connector/core';

describe('public API types', () => {
  it('a polling connector implements sampleDataset with a signal', () => {
    class Good extends PollingTelemetryConnector {
      protected override async sampleDataset(
        ds: DatasetContext,
        { signal }: { signal: AbortSignal },
      ) {
        expectTypeOf(ds.endpoint.address).toEqualTypeOf<string>();
        expectTypeOf(ds.samplingIntervalInMs).toEqualTypeOf<number>();
        expectTypeOf(ds.configuration).toEqualTypeOf<Readonly<Record<string, unknown>>>();
        expectTypeOf(signal).toEqualTypeOf<AbortSignal>();
        return { temperature: 21 };
      }
    }
    expectTypeOf(new Good()).toExtend<ConnectorBase>();
    expectTypeOf<ReturnType<Good['run']>>().resolves.toEqualTypeOf<number>();

    // @ts-expect-error sampleDataset is required
    class Missing extends PollingTelemetryConnector {}
    void Missing;
  });

  it('samplers, samples and forward data have precise types', () => {
    expectTypeOf(
      sample(new Uint8Array(1), { contentType: 'application/cbor' }).data,
    ).toEqualTypeOf<ForwardData>();
    expectTypeOf<DatasetSampler['sample']>().returns.resolves.toEqualTypeOf<SampleResult>();
    expectTypeOf<undefined>().toExtend<SampleResult>();
    // @ts-expect-error symbols cannot be forwarded
    const bad: ForwardData = Symbol('x');
    void bad;
  });

  it('an event-driven connector gets an asset context with forward helpers', () => {
    class Tcp extends EventDrivenTelemetryConnector {
      protected override async whileAssetAvailable(
        asset: AssetContext,
        { signal }: { signal: AbortSignal },
      ) {
        expectTypeOf(asset.forwardEvent).parameters.toExtend<
          [string, string, ForwardData, ...unknown[]]
        >();
        expectTypeOf(asset.readCredentials).returns.resolves.toEqualTypeOf<EndpointCredentials>();
        await asset.forwardEvent('group', 'event', new Uint8Array(0), {
          signal,
          contentType: 'text/plain',
        });
      }
    }
    void Tcp;
  });

  it('options are checked at compile time', () => {
    expectTypeOf<ConnectorOptions['forwarding']>().toExtend<
      { overflow?: 'drop-oldest' | 'drop-newest' | 'block' } | undefined
    >();
    // @ts-expect-error unknown overflow policy
    const options: ConnectorOptions = { forwarding: { overflow: 'spill' } };
    void options;
    // @ts-expect-error leader election needs a position id
    const election: ConnectorOptions = { leaderElection: { termInMs: 10_000 } };
    void election;
  });

  it('errors narrow by brand and carry a closed set of codes', () => {
    const error: unknown = new ConfigError('bad');
    if (isAioError(error)) expectTypeOf(error.code).toEqualTypeOf<AioErrorCode>();
    expectTypeOf<'ERR_AIO_CONFIG'>().toExtend<AioErrorCode>();
    // @ts-expect-error not a code of the SDK
    const code: AioErrorCode = 'ERR_SOMETHING';
    void code;
    expectTypeOf(new AioError('ERR_AIO_TIMEOUT', 'x').retryable).toEqualTypeOf<boolean>();
  });

  it('retry keeps the operation result type', () => {
    expectTypeOf(retry(async () => 42)).resolves.toEqualTypeOf<number>();
  });

  it('MqttClient is small enough to stub', () => {
    expectTypeOf<keyof MqttClient>().toEqualTypeOf<
      | 'clientId'
      | 'publish'
      | 'subscribe'
      | 'unsubscribe'
      | 'onMessage'
      | 'onConnectionChange'
      | 'maximumPacketSize'
    >();
  });
});
