/**
 * Runs an `SseStream` against a real server for a test and records what it delivers and the
 * states it goes through; everything is closed when the test finishes.
 */
import { onTestFinished } from 'vitest';
import { HttpEndpointClient, type HttpEndpointClientOptions } from '@aio-connector/core';
import {
  SseStream,
  type SseMessage,
  type SseStreamItem,
  type SseStreamOptions,
  type SseStreamState,
} from '@aio-connector/sse';
import { eventually } from '@aio-connector/testing';

export interface StreamHarness {
  readonly stream: SseStream;
  readonly client: HttpEndpointClient;
  readonly items: SseStreamItem[];
  /** Every state change, with the time it happened (performance.now()). */
  readonly states: { readonly at: number; readonly state: SseStreamState }[];
  readonly messages: () => SseMessage[];
  /** Waits until `check` passes (polling with a deadline). */
  until<T>(check: () => T, timeoutInMs?: number): Promise<T>;
  /** Waits for a state of the given status, after the `after`-th state recorded. */
  state<S extends SseStreamState['status']>(
    status: S,
    after?: number,
    timeoutInMs?: number,
  ): Promise<Extract<SseStreamState, { status: S }> & { readonly at: number }>;
  /** Stops the stream and waits for `run` to resolve. */
  stop(): Promise<void>;
}

export function runStream(
  origin: string,
  clientOptions: HttpEndpointClientOptions,
  streamOptions: SseStreamOptions,
  handle?: (item: SseStreamItem, signal: AbortSignal) => Promise<void> | void,
): StreamHarness {
  const client = new HttpEndpointClient(origin, clientOptions);
  const items: SseStreamItem[] = [];
  const states: { at: number; state: SseStreamState }[] = [];
  const stream = new SseStream(client, {
    ...streamOptions,
    onStateChange: (state) => {
      states.push({ at: performance.now(), state });
    },
  });
  const controller = new AbortController();
  const running = stream.run(
    async (item, { signal }) => {
      await handle?.(item, signal);
      items.push(item);
    },
    { signal: controller.signal },
  );
  running.catch(() => undefined);
  const stop = async (): Promise<void> => {
    controller.abort();
    await running;
    await client.destroy();
  };
  onTestFinished(stop);
  const until = <T>(check: () => T, timeoutInMs = 15_000): Promise<T> =>
    eventually(check, { timeoutInMs, intervalInMs: 10 });
  return {
    stream,
    client,
    items,
    states,
    messages: () => items.filter((item): item is SseMessage => item.kind === 'message'),
    until,
    state: async (status, after = 0, timeoutInMs = 15_000) =>
      until(() => {
        const found = states.slice(after).find((entry) => entry.state.status === status);
        if (found === undefined)
          throw new Error(
            `no "${status}" state yet; states: ${states.map((s) => s.state.status).join(', ')}`,
          );
        return { ...found.state, at: found.at } as never;
      }, timeoutInMs),
    stop,
  };
}
