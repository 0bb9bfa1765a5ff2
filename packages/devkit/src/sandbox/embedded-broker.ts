/**
 * The sandbox's own MQTT 5 broker: an in-process aedes 2 broker on a TCP port of the loopback
 * interface (a free one by default), whose connections are tracked so `close()` ends them.
 *
 * @module
 */
import { createServer, type Server, type Socket } from 'node:net';
import { ConfigError, silentLogger, type Logger } from '@aio-connector/core';
import { Aedes } from 'aedes';

/** Options of {@link startEmbeddedBroker}. Every field is optional. */
export interface EmbeddedBrokerOptions {
  /** The interface to listen on. Default: `'127.0.0.1'`. */
  readonly host?: string;
  /** The TCP port; 0 picks a free one. Default: 0. */
  readonly port?: number;
  /** Default: silent. */
  readonly logger?: Logger;
}

/** A running embedded broker. */
export interface EmbeddedBroker extends AsyncDisposable {
  readonly host: string;
  /** The port listened on. */
  readonly port: number;
  /** `mqtt://<host>:<port>`. */
  readonly url: string;
  /** The clients connected now. */
  readonly connectedClients: number;
  /** Calls `listener` with the client id of every client that disconnects; returns a remover. */
  onClientDisconnect(listener: (clientId: string) => void): () => void;
  /** Stops listening, drops every client and closes the broker. Safe to call twice. */
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
}

/**
 * Starts an MQTT 5 broker (aedes 2) in this process and resolves once it listens. A port that is
 * taken is a `ConfigError` (`ERR_AIO_CONFIG`) saying so.
 *
 * @example
 * ```ts
 * import { startEmbeddedBroker } from '@aio-connector/devkit';
 * await using broker = await startEmbeddedBroker();
 * console.log(broker.url); // mqtt://127.0.0.1:41234
 * ```
 */
export async function startEmbeddedBroker(
  options: EmbeddedBrokerOptions = {},
): Promise<EmbeddedBroker> {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('options must be an object');
  const { host = '127.0.0.1', port = 0 } = options;
  if (typeof host !== 'string' || host === '')
    throw new TypeError('host must be a non-empty string');
  if (typeof port !== 'number')
    throw new TypeError(`port must be a number, received ${typeof port}`);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new RangeError(`port must be an integer from 0 to 65535, received ${port}`);
  const logger = (options.logger ?? silentLogger).child({ component: 'embedded-broker' });
  const aedes = await Aedes.createBroker();
  const sockets = new Set<Socket>();
  const listeners = new Set<(clientId: string) => void>();
  aedes.on('clientDisconnect', (client) => {
    for (const listener of listeners) listener(client.id);
  });
  aedes.on('clientError', (client, error) => {
    logger.debug({ clientId: client.id, err: error }, 'client error');
  });
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    aedes.handle(socket);
  });
  const closeAedes = (): Promise<void> =>
    new Promise<void>((resolve) => {
      aedes.close(() => {
        resolve();
      });
    });
  try {
    await listen(server, port, host);
  } catch (error) {
    await closeAedes();
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'EADDRINUSE'
        ? 'is in use by another program'
        : code === 'EACCES'
          ? 'needs privileges this user does not have'
          : `cannot be listened on (${(error as Error).message})`;
    throw new ConfigError(`the broker port ${port} on ${host} ${reason}`, {
      source: 'broker port',
      cause: error,
      details: { host, port, errno: code },
    });
  }
  const address = server.address();
  const actualPort = address !== null && typeof address === 'object' ? address.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  logger.debug({ host, port: actualPort }, 'broker listening');
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const closed = new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
      for (const socket of sockets) socket.destroy();
      await closed;
      await closeAedes();
      listeners.clear();
    })();
    return closing;
  };
  return {
    host,
    port: actualPort,
    url: `mqtt://${shownHost}:${actualPort}`,
    get connectedClients() {
      return aedes.connectedClients;
    },
    onClientDisconnect: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
