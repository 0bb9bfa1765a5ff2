// Local node:http / node:https servers for the HTTP client tests: port 0 on 127.0.0.1, closed when
// the test finishes, with the connections they accepted recorded.
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, type ServerOptions } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { onTestFinished } from 'vitest';

export type Handler = (request: IncomingMessage, response: ServerResponse) => void;

export interface TestServer {
  /** `http://127.0.0.1:port` or `https://127.0.0.1:port`. */
  readonly url: string;
  readonly port: number;
  /** Every TCP connection the server accepted, in order. */
  readonly sockets: Socket[];
  /** Requests received, in order. */
  readonly requests: { method: string; url: string; remotePort: number | undefined }[];
}

/** Starts a server; `tls` makes it HTTPS. Closed (connections included) when the test finishes. */
export async function startServer(handler: Handler, tls?: ServerOptions): Promise<TestServer> {
  const sockets: Socket[] = [];
  const requests: TestServer['requests'] = [];
  const listener = (request: IncomingMessage, response: ServerResponse): void => {
    requests.push({
      method: request.method ?? '',
      url: request.url ?? '',
      remotePort: request.socket.remotePort,
    });
    handler(request, response);
  };
  const server = tls === undefined ? createHttpServer(listener) : createHttpsServer(tls, listener);
  server.on('connection', (socket: Socket) => sockets.push(socket));
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  onTestFinished(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
  });
  return {
    url: `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    port,
    sockets,
    requests,
  };
}

/**
 * Records the client-side sockets undici opens to `port` (through its `undici:client:connected`
 * diagnostics channel), so tests can count the bytes the client read.
 */
export function recordClientSockets(port: number): Socket[] {
  const sockets: Socket[] = [];
  const onConnected = (message: unknown): void => {
    const socket = (message as { socket?: Socket }).socket;
    if (socket?.remotePort === port) sockets.push(socket);
  };
  subscribe('undici:client:connected', onConnected);
  onTestFinished(() => {
    unsubscribe('undici:client:connected', onConnected);
  });
  return sockets;
}

/** Writes `total` bytes in `chunkSize` pieces, honouring backpressure; resolves with what was written. */
export function writeMany(
  response: ServerResponse,
  total: number,
  chunkSize: number,
  progress: { written: number; blocked: boolean },
): Promise<number> {
  const chunk = Buffer.alloc(chunkSize, 0x61);
  return new Promise<number>((resolve) => {
    const finish = (): void => {
      resolve(progress.written);
    };
    response.once('close', finish);
    const pump = (): void => {
      progress.blocked = false;
      while (progress.written < total && !response.destroyed) {
        const size = Math.min(chunkSize, total - progress.written);
        progress.written += size;
        if (!response.write(size === chunkSize ? chunk : chunk.subarray(0, size))) {
          progress.blocked = true;
          response.once('drain', pump);
          return;
        }
      }
      if (!response.destroyed) response.end();
    };
    pump();
  });
}
