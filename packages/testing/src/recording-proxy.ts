/**
 * A recording MQTT 5 TCP proxy: it parses both directions with mqtt-packet, records every packet,
 * and can stand in for a broker's enhanced authentication (the test brokers refuse unknown
 * authentication methods such as `K8S-SAT`): it removes the Authentication Method and Data from
 * CONNECT before forwarding it, and answers the client's AUTH packets itself.
 *
 * @module
 */
import { createServer, connect as netConnect, type Socket } from 'node:net';
import mqttPacket from 'mqtt-packet';
import type { IAuthPacket, IConnectPacket, Packet } from 'mqtt-packet';

/** Which way a packet travelled. */
export type PacketDirection = 'client-to-broker' | 'broker-to-client';

/** One packet seen (or sent) by the proxy. */
export interface RecordedPacket {
  readonly direction: PacketDirection;
  /** The client connection it belongs to, counting from 1. */
  readonly connection: number;
  /** The parsed packet, as the sender wrote it (before any change by the proxy). */
  readonly packet: Packet;
  /** `true` for packets the proxy wrote itself (AUTH answers, refusals). */
  readonly synthetic: boolean;
  /** `Date.now()` when the packet was seen. */
  readonly time: number;
}

/** What the proxy answers to an authentication: an MQTT reason code, 0 = accept. */
export type AuthDecision = (method: string, data: Buffer | undefined) => number;

/** Options of {@link startRecordingProxy}. */
export interface RecordingProxyOptions {
  /**
   * Handle enhanced authentication in the proxy: strip Authentication Method/Data from CONNECT
   * (refusing it with the decided CONNACK reason code when not 0) and answer AUTH packets with
   * AUTH 0x00 (or a DISCONNECT with the decided reason code). Default: `true`.
   */
  readonly handleEnhancedAuth?: boolean;
  /** Decides CONNECT authentication. Default: accept. */
  readonly onConnectAuth?: AuthDecision;
  /** Decides re-authentication (AUTH 0x19). Default: accept. */
  readonly onReauthenticate?: AuthDecision;
}

/** A running recording proxy. */
export interface RecordingProxy {
  readonly host: string;
  readonly port: number;
  /** `mqtt://127.0.0.1:<port>`. */
  readonly url: string;
  /** Every packet seen so far. */
  readonly packets: readonly RecordedPacket[];
  /** The CONNECT packets clients sent, as sent (with their authentication properties). */
  connects(): IConnectPacket[];
  /** The AUTH packets clients sent. */
  auths(): IAuthPacket[];
  /** Resolves with the first recorded packet (past or future) matching `predicate`. */
  waitFor(
    predicate: (packet: RecordedPacket) => boolean,
    options?: { readonly timeoutInMs?: number },
  ): Promise<RecordedPacket>;
  /** Destroys every open client and broker connection (a network failure). */
  dropConnections(): void;
  /** Number of client connections currently open. */
  readonly openConnections: number;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const generateOptions = { protocolVersion: 5 } as const;

/**
 * Starts a proxy on an ephemeral 127.0.0.1 port in front of a plain-TCP broker.
 *
 * @example
 * ```ts
 * import { startRecordingProxy, startTestBroker } from '@aio-connector/testing';
 * await using broker = await startTestBroker();
 * await using proxy = await startRecordingProxy(broker);
 * // connect a client to proxy.url with authenticationMethod 'K8S-SAT', then:
 * const [connect] = proxy.connects();
 * console.log(connect?.properties?.authenticationMethod);
 * ```
 */
export async function startRecordingProxy(
  target: { readonly host: string; readonly port: number },
  options: RecordingProxyOptions = {},
): Promise<RecordingProxy> {
  const handleAuth = options.handleEnhancedAuth ?? true;
  const onConnectAuth = options.onConnectAuth ?? (() => 0);
  const onReauthenticate = options.onReauthenticate ?? (() => 0);
  const packets: RecordedPacket[] = [];
  const listeners = new Set<(packet: RecordedPacket) => void>();
  const sockets = new Set<Socket>();
  let connections = 0;
  let open = 0;

  const record = (entry: RecordedPacket): void => {
    packets.push(entry);
    for (const listener of listeners) listener(entry);
  };

  const server = createServer((client) => {
    const connection = ++connections;
    open++;
    const upstream = netConnect({ host: target.host, port: target.port });
    sockets.add(client);
    sockets.add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    let closed = false;
    let authMethod: string | undefined;
    const closeBoth = (): void => {
      if (closed) return;
      closed = true;
      open--;
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', closeBoth);
    upstream.on('error', closeBoth);
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);

    const toClient = (packet: Packet, synthetic: boolean): void => {
      if (synthetic)
        record({ direction: 'broker-to-client', connection, packet, synthetic, time: Date.now() });
      if (!client.destroyed) client.write(mqttPacket.generate(packet, generateOptions));
    };
    const toBroker = (packet: Packet): void => {
      if (!upstream.destroyed) upstream.write(mqttPacket.generate(packet, generateOptions));
    };

    const fromClient = mqttPacket.parser(generateOptions);
    fromClient.on('packet', (packet: Packet) => {
      record({
        direction: 'client-to-broker',
        connection,
        packet,
        synthetic: false,
        time: Date.now(),
      });
      if (handleAuth && packet.cmd === 'connect' && packet.properties?.authenticationMethod) {
        const { authenticationMethod, authenticationData, ...rest } = packet.properties;
        const reasonCode = onConnectAuth(authenticationMethod, authenticationData);
        if (reasonCode !== 0) {
          toClient({ cmd: 'connack', sessionPresent: false, reasonCode }, true);
          client.end();
          return;
        }
        authMethod = authenticationMethod;
        toBroker({ ...packet, properties: rest });
        return;
      }
      if (handleAuth && packet.cmd === 'auth') {
        const method = packet.properties?.authenticationMethod ?? authMethod ?? '';
        const reasonCode = onReauthenticate(method, packet.properties?.authenticationData);
        if (reasonCode === 0)
          toClient(
            { cmd: 'auth', reasonCode: 0, properties: { authenticationMethod: method } },
            true,
          );
        else {
          toClient({ cmd: 'disconnect', reasonCode }, true);
          client.end();
        }
        return;
      }
      toBroker(packet);
    });
    fromClient.on('error', closeBoth);

    const fromBroker = mqttPacket.parser(generateOptions);
    fromBroker.on('packet', (packet: Packet) => {
      record({
        direction: 'broker-to-client',
        connection,
        packet,
        synthetic: false,
        time: Date.now(),
      });
      toClient(packet, false);
    });
    fromBroker.on('error', closeBoth);

    client.on('data', (chunk: Buffer) => fromClient.parse(chunk));
    upstream.on('data', (chunk: Buffer) => fromBroker.parse(chunk));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port assigned');
  const port = address.port;

  const dropConnections = (): void => {
    for (const socket of sockets) socket.destroy();
  };
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
      dropConnections();
    });
    return closing;
  };

  return {
    host: '127.0.0.1',
    port,
    url: `mqtt://127.0.0.1:${port}`,
    packets,
    connects: () =>
      packets
        .filter((p) => p.direction === 'client-to-broker' && p.packet.cmd === 'connect')
        .map((p) => p.packet as IConnectPacket),
    auths: () =>
      packets
        .filter((p) => p.direction === 'client-to-broker' && p.packet.cmd === 'auth')
        .map((p) => p.packet as IAuthPacket),
    waitFor: (predicate, waitOptions = {}) => {
      const found = packets.find(predicate);
      if (found !== undefined) return Promise.resolve(found);
      const timeoutInMs = waitOptions.timeoutInMs ?? 10_000;
      return new Promise<RecordedPacket>((resolve, reject) => {
        const listener = (entry: RecordedPacket): void => {
          if (!predicate(entry)) return;
          clearTimeout(timer);
          listeners.delete(listener);
          resolve(entry);
        };
        const timer = setTimeout(() => {
          listeners.delete(listener);
          const seen = packets.map((p) => `${p.connection}:${p.packet.cmd}`).join(' ');
          reject(new Error(`no matching packet in ${timeoutInMs} ms; seen: ${seen}`));
        }, timeoutInMs);
        listeners.add(listener);
      });
    },
    dropConnections,
    get openConnections() {
      return open;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
