/**
 * Benchmarks with targets: `npm run bench`. Each benchmark prints its measurement and the target;
 * the process exits with 1 when a target is missed. Real parts only: a private broker, real
 * sessions, the devkit emulators.
 */
import { performance } from 'node:perf_hooks';
import {
  AdrClient,
  Forwarder,
  HybridLogicalClock,
  JsonSchemaInferrer,
  MqttSession,
  decodeResp3,
  encodeSetRequest,
  type ResolvedDestination,
} from '@aio-connector/core';
import { startAdrService } from '@aio-connector/devkit';
import { startSubscriber, startTestBroker } from '@aio-connector/testing';

interface Result {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly target: number;
  /** `min`: the value must be at least the target; `max`: at most. */
  readonly kind: 'min' | 'max';
}

const results: Result[] = [];
const only = process.argv.slice(2);

async function bench(name: string, run: () => Promise<Omit<Result, 'name'>>): Promise<void> {
  if (only.length > 0 && !only.some((o) => name.includes(o))) return;
  const result = { name, ...(await run()) };
  results.push(result);
  const ok = result.kind === 'min' ? result.value >= result.target : result.value <= result.target;
  console.log(
    `${ok ? 'ok  ' : 'MISS'} ${name}: ${result.value.toFixed(2)} ${result.unit} (target ${result.kind === 'min' ? '≥' : '≤'} ${result.target} ${result.unit})`,
  );
}

function session(port: number, clientId: string): MqttSession {
  return new MqttSession({ hostname: '127.0.0.1', port, clientId, useTls: false });
}

await bench(
  'forwarder: QoS 1 messages acknowledged per second through a local broker',
  async () => {
    const broker = await startTestBroker();
    const client = session(broker.port, 'bench-forwarder');
    await client.connect();
    const subscriber = await startSubscriber(broker.url, 'bench/#');
    const forwarder = new Forwarder(client, new HybridLogicalClock(), { maxQueueSize: 100_000 });
    const destination: ResolvedDestination = {
      target: 'Mqtt',
      topic: 'bench/t',
      qos: 1,
      retain: false,
      messageExpiryInSeconds: 10,
    };
    const payload = new TextEncoder().encode(
      JSON.stringify({ temperature: 21.5, humidity: 40, unit: 'C' }),
    );
    const n = 20_000;
    const started = performance.now();
    const deliveries = [];
    for (let i = 0; i < n; i++)
      deliveries.push(
        (await forwarder.submit({ destinations: [destination], payload })).acknowledged,
      );
    await Promise.all(deliveries);
    const seconds = (performance.now() - started) / 1_000;
    await subscriber.waitFor(n, { timeoutInMs: 60_000 });
    await forwarder.close();
    await subscriber.close();
    await client.close();
    await broker.close();
    return { value: n / seconds, unit: 'msg/s', target: 3_000, kind: 'min' };
  },
);

await bench('ADR RPC: getAsset round trip through a local broker (median)', async () => {
  const broker = await startTestBroker();
  const services = session(broker.port, 'bench-services');
  await services.connect();
  const adr = await startAdrService(services, {
    devices: {
      d: { endpoints: { inbound: { ep: { address: 'http://x', endpointType: 'A.B' } } } },
    },
    assets: { a: { deviceRef: { deviceName: 'd', endpointName: 'ep' } } },
  });
  const connector = session(broker.port, 'bench-connector');
  await connector.connect();
  const client = new AdrClient(connector);
  await client.start();
  await client.getAsset('d', 'ep', 'a');
  const times: number[] = [];
  for (let i = 0; i < 200; i++) {
    const started = performance.now();
    await client.getAsset('d', 'ep', 'a');
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  await client.close();
  await adr.close();
  await connector.close();
  await services.close();
  await broker.close();
  return { value: times[100] ?? Infinity, unit: 'ms', target: 10, kind: 'max' };
});

await bench('schema inference: payloads observed per second', async () => {
  const inferrer = new JsonSchemaInferrer();
  const n = 50_000;
  const started = performance.now();
  for (let i = 0; i < n; i++)
    inferrer.observe({
      seq: i,
      temperature: 20 + (i % 7) / 3,
      unit: 'C',
      tags: ['a', 'b'],
      nested: { ok: i % 2 === 0 },
    });
  return {
    value: n / ((performance.now() - started) / 1_000),
    unit: 'payloads/s',
    target: 20_000,
    kind: 'min',
  };
});

await bench('RESP3: MiB of SET requests decoded per second', async () => {
  const request = encodeSetRequest('key', new Uint8Array(64 * 1024).fill(7));
  const n = 2_000;
  const started = performance.now();
  for (let i = 0; i < n; i++) decodeResp3(request);
  const mib = (request.byteLength * n) / (1024 * 1024);
  return {
    value: mib / ((performance.now() - started) / 1_000),
    unit: 'MiB/s',
    target: 200,
    kind: 'min',
  };
});

await bench('HLC: timestamps per second', async () => {
  const clock = new HybridLogicalClock();
  const n = 1_000_000;
  const started = performance.now();
  for (let i = 0; i < n; i++) clock.updateNow();
  return {
    value: n / ((performance.now() - started) / 1_000),
    unit: 'ts/s',
    target: 1_000_000,
    kind: 'min',
  };
});

await bench('memory: forwarding queue heap per queued 1 KiB message (broker away)', async () => {
  // the broker is not reachable: every message stays queued
  const client = {
    clientId: 'bench-memory',
    publish: () => new Promise<never>(() => undefined),
    subscribe: async () => ({ reasonCode: 0 }),
    unsubscribe: async () => ({ reasonCode: 0 }),
    onMessage: () => () => undefined,
  };
  const forwarder = new Forwarder(client, new HybridLogicalClock(), {
    maxQueueSize: 10_000,
    maxInflight: 1,
  });
  const destination: ResolvedDestination = {
    target: 'Mqtt',
    topic: 'bench/m',
    qos: 1,
    retain: false,
    messageExpiryInSeconds: 10,
  };
  globalThis.gc?.();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 20_000; i++)
    await forwarder.submit({
      destinations: [destination],
      payload: new Uint8Array(1024).fill(i % 256),
    });
  globalThis.gc?.();
  const after = process.memoryUsage().heapUsed;
  const perMessage = (after - before) / forwarder.stats().queued;
  forwarder.destroy();
  // 20 000 submitted, the queue holds 10 000: memory is bounded by the queue, not the input
  return { value: perMessage / 1024, unit: 'KiB/msg', target: 4, kind: 'max' };
});

const missed = results.filter((r) => (r.kind === 'min' ? r.value < r.target : r.value > r.target));
console.log(`\n${results.length - missed.length}/${results.length} targets met`);
process.exit(missed.length === 0 ? 0 : 1);
