import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  HealthReporter,
  type MqttClient,
  type OutgoingMessage,
  type PublishResult,
} from '@aio-connector/core';

const start = Date.parse('2026-01-01T00:00:00.000Z');

/** An MqttClient that records every PUBLISH and acknowledges it (or fails the next ones). */
class RecordingClient implements MqttClient {
  readonly clientId = 'connector-1';
  readonly published: OutgoingMessage[] = [];
  failures = 0;

  publish(
    message: OutgoingMessage,
    _options?: { readonly signal?: AbortSignal },
  ): Promise<PublishResult> {
    if (this.failures > 0) {
      this.failures--;
      return Promise.reject(new Error('connection lost'));
    }
    this.published.push(message);
    return Promise.resolve({ reasonCode: 0 });
  }
  subscribe(): Promise<{ reasonCode: number }> {
    return Promise.resolve({ reasonCode: 1 });
  }
  unsubscribe(): Promise<{ reasonCode: number }> {
    return Promise.resolve({ reasonCode: 0 });
  }
  onMessage(): () => void {
    return () => undefined;
  }

  /** The JSON payloads published so far, with their topic. */
  payloads(): { topic: string; body: Record<string, unknown> }[] {
    return this.published.map((message) => ({
      topic: message.topic,
      body: JSON.parse(new TextDecoder().decode(message.payload)) as Record<string, unknown>,
    }));
  }
}

const topic = (event: string, device = 'oven', endpoint = 'rest'): string =>
  `akri/connector/resources/telemetry/connector-1/${device}/${endpoint}/${event}`;

let client: RecordingClient;
let reporter: HealthReporter;

beforeEach(() => {
  vi.useFakeTimers({ now: start });
  client = new RecordingClient();
  reporter = new HealthReporter(client, {
    retry: { minDelayInMs: 100, maxDelayInMs: 100, jitter: 0 },
  });
});

afterEach(async () => {
  await reporter.close();
  vi.useRealTimers();
});

describe('HealthReporter (deduplication and periodic re-send)', () => {
  it('sends the first report wrapped as the Thing Model says, QoS 1 with the telemetry expiry', async () => {
    reporter.reportDataset('oven', 'rest', 'oven-asset', 'temperature', { status: 'Available' }, 4);
    await reporter.flush();
    expect(client.payloads()).toEqual([
      {
        topic: topic('datasetRuntimeHealthEvent'),
        body: {
          datasetRuntimeHealthEvent: {
            assetName: 'oven-asset',
            datasets: [
              {
                datasetName: 'temperature',
                runtimeHealth: {
                  version: 4,
                  status: 'Available',
                  lastUpdateTime: '2026-01-01T00:00:00.000Z',
                },
              },
            ],
          },
        },
      },
    ]);
    const [message] = client.published;
    expect(message?.qos).toBe(1);
    expect(message?.messageExpiryInterval).toBe(10);
    expect(message?.contentType).toBe('application/json');
  });

  it('drops an equal report, sends a changed one, drops an older version', async () => {
    const report = (
      status: 'Available' | 'Unavailable',
      version: number,
      message?: string,
    ): void => {
      reporter.reportStream(
        'oven',
        'rest',
        'oven-asset',
        'video',
        { status, ...(message ? { message } : {}) },
        version,
      );
    };
    report('Available', 1);
    await vi.advanceTimersByTimeAsync(5);
    report('Available', 1); // same but for the timestamp: cache only
    report('Available', 1); // same timestamp: dropped
    await reporter.flush();
    expect(client.published).toHaveLength(1);
    report('Unavailable', 1, 'camera offline');
    await reporter.flush();
    expect(client.published).toHaveLength(2);
    report('Unavailable', 1, 'camera unplugged'); // another message is a change
    await reporter.flush();
    expect(client.published).toHaveLength(3);
    report('Available', 0); // an older version of the definition
    await reporter.flush();
    expect(client.published).toHaveLength(3);
    report('Unavailable', 2, 'camera unplugged'); // a newer version is a change
    await reporter.flush();
    const last = client.payloads().at(-1)?.body;
    expect(last).toEqual({
      streamRuntimeHealthEvent: {
        assetName: 'oven-asset',
        streams: [
          {
            streamName: 'video',
            runtimeHealth: {
              version: 2,
              status: 'Unavailable',
              lastUpdateTime: '2026-01-01T00:00:00.005Z',
              message: 'camera unplugged',
            },
          },
        ],
      },
    });
  });

  it('drops equal reports made while the first one is still being sent', async () => {
    for (let i = 0; i < 3; i++)
      reporter.reportEvent(
        'oven',
        'rest',
        'oven-asset',
        'alarms',
        'overheat',
        { status: 'Available' },
        1,
      );
    await reporter.flush();
    expect(client.published).toHaveLength(1);
  });

  it('omits message and reasonCode for Available', async () => {
    reporter.reportDeviceEndpoint(
      'oven',
      'rest',
      { status: 'Unavailable', message: 'refused', reasonCode: 'ConnectionRefused' },
      2,
    );
    reporter.reportDeviceEndpoint(
      'oven',
      'rest',
      { status: 'Available', message: 'ignored', reasonCode: 'Ignored' },
      2,
    );
    await reporter.flush();
    expect(client.payloads().map((payload) => payload.body)).toEqual([
      {
        deviceEndpointRuntimeHealthEvent: {
          runtimeHealth: {
            version: 2,
            status: 'Unavailable',
            lastUpdateTime: '2026-01-01T00:00:00.000Z',
            message: 'refused',
            reasonCode: 'ConnectionRefused',
          },
        },
      },
      {
        deviceEndpointRuntimeHealthEvent: {
          runtimeHealth: {
            version: 2,
            status: 'Available',
            lastUpdateTime: '2026-01-01T00:00:00.000Z',
          },
        },
      },
    ]);
    expect(client.published[0]?.topic).toBe(topic('deviceEndpointRuntimeHealthEvent'));
  });

  it('re-sends every health each interval with a fresh timestamp, batched per asset and kind', async () => {
    reporter.reportDataset('oven', 'rest', 'oven-asset', 'temperature', { status: 'Available' }, 1);
    reporter.reportDataset(
      'oven',
      'rest',
      'oven-asset',
      'humidity',
      { status: 'Unavailable', message: 'HTTP 503' },
      1,
    );
    reporter.reportEvent(
      'oven',
      'rest',
      'oven-asset',
      'alarms',
      'overheat',
      { status: 'Available' },
      1,
    );
    reporter.reportManagementAction(
      'oven',
      'rest',
      'oven-asset',
      'control',
      'reboot',
      { status: 'Available' },
      1,
    );
    reporter.reportDataset('oven', 'rest', 'door-asset', 'open', { status: 'Available' }, 7);
    reporter.reportDeviceEndpoint('oven', 'rest', { status: 'Available' }, 3);
    await reporter.flush();
    expect(client.published).toHaveLength(6);

    await vi.advanceTimersByTimeAsync(9_999);
    expect(client.published).toHaveLength(6);
    await vi.advanceTimersByTimeAsync(1);
    await reporter.flush();
    const resent = client.payloads().slice(6);
    // one message per asset and kind, one for the device endpoint
    expect(resent.map((payload) => Object.keys(payload.body)[0]).sort()).toEqual([
      'datasetRuntimeHealthEvent',
      'datasetRuntimeHealthEvent',
      'deviceEndpointRuntimeHealthEvent',
      'eventRuntimeHealthEvent',
      'managementActionRuntimeHealthEvent',
    ]);
    const ovenDatasets = resent.find(
      (payload) =>
        (payload.body['datasetRuntimeHealthEvent'] as { assetName?: string } | undefined)
          ?.assetName === 'oven-asset',
    );
    expect(ovenDatasets?.body).toEqual({
      datasetRuntimeHealthEvent: {
        assetName: 'oven-asset',
        datasets: [
          {
            datasetName: 'temperature',
            runtimeHealth: {
              version: 1,
              status: 'Available',
              lastUpdateTime: '2026-01-01T00:00:10.000Z',
            },
          },
          {
            datasetName: 'humidity',
            runtimeHealth: {
              version: 1,
              status: 'Unavailable',
              lastUpdateTime: '2026-01-01T00:00:10.000Z',
              message: 'HTTP 503',
            },
          },
        ],
      },
    });
    expect(
      resent.find((payload) => 'managementActionRuntimeHealthEvent' in payload.body)?.body,
    ).toEqual({
      managementActionRuntimeHealthEvent: {
        assetName: 'oven-asset',
        managementActions: [
          {
            managementGroupName: 'control',
            managementActionName: 'reboot',
            runtimeHealth: {
              version: 1,
              status: 'Available',
              lastUpdateTime: '2026-01-01T00:00:10.000Z',
            },
          },
        ],
      },
    });
    // and again one interval later
    await vi.advanceTimersByTimeAsync(10_000);
    await reporter.flush();
    expect(client.published).toHaveLength(16);
  });

  it('does not re-send paused components, and sends the next report after a pause', async () => {
    reporter.reportDataset('oven', 'rest', 'oven-asset', 'temperature', { status: 'Available' }, 1);
    reporter.reportDeviceEndpoint('oven', 'rest', { status: 'Available' }, 1);
    await reporter.flush();
    reporter.pause('oven', 'rest', 'oven-asset');
    await vi.advanceTimersByTimeAsync(10_000);
    await reporter.flush();
    expect(
      client
        .payloads()
        .slice(2)
        .map((payload) => Object.keys(payload.body)[0]),
    ).toEqual(['deviceEndpointRuntimeHealthEvent']);
    // the same health as before the pause is sent again; an older version is still dropped
    reporter.reportDataset('oven', 'rest', 'oven-asset', 'temperature', { status: 'Available' }, 0);
    await reporter.flush();
    expect(client.published).toHaveLength(3);
    reporter.reportDataset('oven', 'rest', 'oven-asset', 'temperature', { status: 'Available' }, 1);
    await reporter.flush();
    expect(client.published).toHaveLength(4);
    // pausing the device endpoint leaves the assets alone
    reporter.pause('oven', 'rest');
    await vi.advanceTimersByTimeAsync(10_000);
    await reporter.flush();
    expect(
      client
        .payloads()
        .slice(4)
        .map((payload) => Object.keys(payload.body)[0]),
    ).toEqual(['datasetRuntimeHealthEvent']);
    // one component of an asset
    reporter.reportDataset('oven', 'rest', 'oven-asset', 'humidity', { status: 'Available' }, 1);
    await reporter.flush();
    reporter.pause('oven', 'rest', 'oven-asset', { kind: 'dataset', datasetName: 'temperature' });
    await vi.advanceTimersByTimeAsync(10_000);
    await reporter.flush();
    const last = client.payloads().at(-1)?.body['datasetRuntimeHealthEvent'] as {
      datasets: { datasetName: string }[];
    };
    expect(last.datasets.map((dataset) => dataset.datasetName)).toEqual(['humidity']);
  });

  it('forgets removed components and stops its timer when nothing is left', async () => {
    reporter.reportDataset('oven', 'rest', 'oven-asset', 'temperature', { status: 'Available' }, 1);
    reporter.reportDataset('oven', 'rest', 'door-asset', 'open', { status: 'Available' }, 1);
    reporter.reportDeviceEndpoint('oven', 'rest', { status: 'Available' }, 1);
    reporter.reportDeviceEndpoint('fridge', 'rest', { status: 'Available' }, 1);
    await reporter.flush();
    reporter.remove('oven', 'rest', 'oven-asset');
    await vi.advanceTimersByTimeAsync(10_000);
    await reporter.flush();
    expect(
      client
        .payloads()
        .slice(4)
        .map((payload) => payload.topic)
        .sort(),
    ).toEqual(
      [
        topic('datasetRuntimeHealthEvent'),
        topic('deviceEndpointRuntimeHealthEvent'),
        topic('deviceEndpointRuntimeHealthEvent', 'fridge'),
      ].sort(),
    );
    // a deleted device takes its assets with it
    reporter.remove('oven', 'rest');
    reporter.remove('fridge', 'rest');
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(client.published).toHaveLength(7);
    // a removed component starts afresh: its first report is sent
    reporter.reportDataset('oven', 'rest', 'oven-asset', 'temperature', { status: 'Available' }, 1);
    await reporter.flush();
    expect(client.published).toHaveLength(8);
  });

  it('retries a failed send, and sends the same health again after a send that failed for good', async () => {
    client.failures = 2;
    reporter.reportDataset('oven', 'rest', 'oven-asset', 'temperature', { status: 'Available' }, 1);
    await vi.advanceTimersByTimeAsync(250);
    await reporter.flush();
    expect(client.published).toHaveLength(1);

    const fragile = new HealthReporter(client, { retry: { retries: 0 } });
    client.failures = 1;
    fragile.reportDataset('oven', 'rest', 'oven-asset', 'temperature', { status: 'Available' }, 1);
    await fragile.flush();
    expect(client.published).toHaveLength(1);
    fragile.reportDataset('oven', 'rest', 'oven-asset', 'temperature', { status: 'Available' }, 1);
    await fragile.flush();
    expect(client.published).toHaveLength(2);
    fragile.reportDataset('oven', 'rest', 'oven-asset', 'temperature', { status: 'Available' }, 1);
    await fragile.flush();
    expect(client.published).toHaveLength(2);
    await fragile.close();
  });

  it('retries a send whose PUBACK does not come within the message expiry', async () => {
    vi.useRealTimers();
    let calls = 0;
    const hanging = new RecordingClient();
    const publish = hanging.publish.bind(hanging);
    hanging.publish = (message, options) => {
      calls++;
      // the first PUBLISH is never acknowledged
      if (calls === 1)
        return new Promise((_, reject) => {
          options?.signal?.addEventListener('abort', () => {
            reject(new Error('aborted'));
          });
        });
      return publish(message);
    };
    const patient = new HealthReporter(hanging, {
      timeoutInMs: 1_000,
      retry: { minDelayInMs: 10, maxDelayInMs: 10 },
    });
    patient.reportDataset('oven', 'rest', 'oven-asset', 'temperature', { status: 'Available' }, 1);
    await patient.flush();
    expect(calls).toBe(2);
    expect(hanging.published).toHaveLength(1);
    await patient.close();
  });

  it('validates its arguments and ignores reports after close', async () => {
    expect(() => new HealthReporter(client, { intervalInMs: 999 })).toThrow(RangeError);
    expect(() => new HealthReporter(client, { intervalInMs: '1000' as unknown as number })).toThrow(
      TypeError,
    );
    expect(() => {
      reporter.reportDataset('oven', 'rest', 'a', 'd', { status: 'Healthy' as 'Available' }, 1);
    }).toThrow(TypeError);
    expect(() => {
      reporter.reportDataset('oven', 'rest', 'a', 'd', { status: 'Available' }, -1);
    }).toThrow(RangeError);
    expect(() => {
      reporter.reportDataset('oven', 'rest', '', 'd', { status: 'Available' });
    }).toThrow(RangeError);
    expect(() => {
      reporter.pause('oven', 'rest', undefined, { kind: 'dataset', datasetName: 'd' });
    }).toThrow(TypeError);
    // version defaults to 0
    reporter.reportDataset('oven', 'rest', 'a', 'd', { status: 'Available' });
    await reporter.close();
    reporter.reportDataset('oven', 'rest', 'a', 'e', { status: 'Available' }, 1);
    await reporter.flush();
    expect(client.payloads().map((payload) => payload.body)).toEqual([
      {
        datasetRuntimeHealthEvent: {
          assetName: 'a',
          datasets: [
            {
              datasetName: 'd',
              runtimeHealth: {
                version: 0,
                status: 'Available',
                lastUpdateTime: '2026-01-01T00:00:00.000Z',
              },
            },
          ],
        },
      },
    ]);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('HealthReporter close', () => {
  it('close() waits at most one message expiry for the sends queued while the broker is away, not one per send', async () => {
    vi.useRealTimers();
    const away = new RecordingClient();
    // the broker is away: no PUBACK comes, the PUBLISH only ends when its signal aborts
    away.publish = (_message, options) =>
      new Promise((_, reject) => {
        options?.signal?.addEventListener('abort', () => {
          reject(new Error('aborted'));
        });
      });
    const health = new HealthReporter(away, {
      timeoutInMs: 1_000,
      retry: { minDelayInMs: 10, maxDelayInMs: 10 },
    });
    // twelve components of one asset: their first reports queue one send each
    for (let i = 0; i < 12; i++)
      health.reportDataset('oven', 'rest', 'oven-asset', `d${i}`, { status: 'Available' }, 1);
    const started = performance.now();
    await health.close();
    // one send per component, one after the other, would take 12 message expiries
    expect(performance.now() - started).toBeLessThan(6_000);
  });
});

describe('HealthReporter while the broker is away', () => {
  it('keeps one pending send per component however often its health changes while a send waits, and sends the latest health', async () => {
    const held: { message: OutgoingMessage; release: () => void }[] = [];
    const sent: OutgoingMessage[] = [];
    const away = new RecordingClient();
    // the broker holds every PUBACK until the test releases it
    away.publish = (message) =>
      new Promise((resolve) => {
        held.push({
          message,
          release: () => {
            sent.push(message);
            resolve({ reasonCode: 0 });
          },
        });
      });
    const health = new HealthReporter(away, {
      retry: { minDelayInMs: 10, maxDelayInMs: 10, jitter: 0 },
    });
    const flapping = (i: number) =>
      i % 2 === 0
        ? ({ status: 'Available' } as const)
        : ({ status: 'Unavailable', message: `timeout ${i}`, reasonCode: 'Timeout' } as const);
    for (let i = 0; i <= 51; i++)
      health.reportDataset('oven', 'rest', 'oven-asset', 'temperature', flapping(i), 1);
    await vi.advanceTimersByTimeAsync(0);
    // the first send waits for its PUBACK; the changes made since then wait behind it
    expect(held).toHaveLength(1);
    while (held.length > 0) {
      held.shift()!.release();
      await vi.advanceTimersByTimeAsync(0);
    }
    await health.flush();
    const runtimeHealth = (message: OutgoingMessage) =>
      (
        JSON.parse(new TextDecoder().decode(message.payload)) as {
          datasetRuntimeHealthEvent: { datasets: { runtimeHealth: { message?: string } }[] };
        }
      ).datasetRuntimeHealthEvent.datasets[0]!.runtimeHealth;
    // the first report, then only the latest one: not fifty stale ones in a row
    expect(sent).toHaveLength(2);
    expect(runtimeHealth(sent[0]!)).toMatchObject({ status: 'Available' });
    expect(runtimeHealth(sent[1]!)).toMatchObject({ status: 'Unavailable', message: 'timeout 51' });
    await health.close();
  });
});
