import { once } from 'node:events';
import { connect } from 'node:net';
import {
  ConfigError,
  EventDrivenTelemetryConnector,
  type AssetContext,
  type EndpointContext,
  type EventContext,
} from '@aio-connector/core';
import { readLines } from './line-reader.ts';

/** How long opening a connection may take, in ms. */
const connectTimeoutInMs = 10_000;

/**
 * An event-driven connector for devices that send newline-delimited messages over TCP (one JSON
 * document per line, for example), like the official TCP thermostat sample.
 *
 * - The device's inbound endpoint `address` is `host:port` (or `tcp://host:port`).
 * - Each event of an asset is one connection: the event's `dataSource` is the port to connect to
 *   (the address's port when it has none). Every line received is forwarded to the event's
 *   destinations.
 *
 * The base class calls `whileAssetAvailable` once per asset and keeps it running: when it throws
 * (the device is unreachable, the connection drops), the asset's events are reported `Unavailable`
 * and it is called again after a backoff; when the asset is updated, `signal` aborts and it is
 * called again with the new definition.
 */
export class TcpConnector extends EventDrivenTelemetryConnector {
  /** A problem here is reported on the device endpoint's status; its assets are not served. */
  protected override validateEndpoint(endpoint: EndpointContext): void {
    parseAddress(endpoint.endpoint.address);
  }

  /** A problem here is reported on the event's status; the other events keep running. */
  protected override validateEvent(event: EventContext): void {
    portOf(event);
  }

  /** Serves one asset until `signal` aborts: reads every event's connection. */
  protected override async whileAssetAvailable(
    asset: AssetContext,
    { signal }: { readonly signal: AbortSignal },
  ): Promise<void> {
    if (asset.events.length === 0) {
      asset.logger.info('the asset has no events to read; waiting for an update');
      return;
    }
    await runTogether(
      asset.events.map((event) => (taskSignal) => this.#readEvent(event, taskSignal)),
      signal,
    );
  }

  async #readEvent(event: EventContext, signal: AbortSignal): Promise<void> {
    const { hostname: host } = parseAddress(event.endpoint.address);
    const port = portOf(event);
    const socket = connect({ host, port, signal });
    socket.setTimeout(connectTimeoutInMs, () =>
      socket.destroy(new Error(`no connection to ${host}:${port} after ${connectTimeoutInMs} ms`)),
    );
    try {
      await once(socket, 'connect');
      socket.setTimeout(0);
      event.logger.info({ host, port }, 'connected');
      event.reportHealth({ status: 'Available' });
      for await (const line of readLines(socket)) {
        // Forwarded as it came; the schema of JSON lines is inferred and registered.
        await event.forward(line, { contentType: contentTypeOf(line) });
      }
      throw new Error(`the device closed the connection ${host}:${port}`);
    } finally {
      socket.destroy();
    }
  }
}

/** `host:port`, `host` or `tcp://host:port` → hostname and port (`''` when absent). */
function parseAddress(address: string): URL {
  let url: URL;
  try {
    url = new URL(address.includes('://') ? address : `tcp://${address}`);
  } catch (error) {
    throw new ConfigError(`"${address}" is not a TCP address such as "thermostat.local:8081"`, {
      cause: error,
    });
  }
  if (url.hostname === '') throw new ConfigError(`the address "${address}" has no host`);
  return url;
}

/** The port of an event: its `dataSource`, else the port of the endpoint address. */
function portOf(event: EventContext): number {
  const text = event.event.dataSource ?? parseAddress(event.endpoint.address).port;
  const port = Number(text);
  if (text === '' || !Number.isInteger(port) || port < 1 || port > 65_535)
    throw new ConfigError(
      `event "${event.name}": the dataSource must be the TCP port to read (1-65535), or the endpoint address must have one; found "${text}"`,
    );
  return port;
}

function contentTypeOf(line: Buffer): string {
  try {
    JSON.parse(line.toString('utf8'));
    return 'application/json';
  } catch {
    return 'text/plain; charset=utf-8';
  }
}

/**
 * Runs tasks side by side until `signal` aborts. When one fails, the others are stopped too and
 * its error is thrown, so the base class restarts them together.
 */
async function runTogether(
  tasks: readonly ((signal: AbortSignal) => Promise<void>)[],
  signal: AbortSignal,
): Promise<void> {
  const group = new AbortController();
  const stop = () => {
    group.abort(signal.reason);
  };
  signal.addEventListener('abort', stop, { once: true });
  let failure: { readonly error: unknown } | undefined;
  try {
    await Promise.all(
      tasks.map(async (task) => {
        try {
          await task(group.signal);
        } catch (error) {
          failure ??= { error };
          group.abort(error);
        }
      }),
    );
  } finally {
    signal.removeEventListener('abort', stop);
  }
  if (failure !== undefined) throw failure.error;
}
