/**
 * A private MQTT 5 broker for integration tests: Mosquitto when it is installed, otherwise an
 * in-process aedes 2 broker. Plain TCP, TLS or mutual TLS on an ephemeral 127.0.0.1 port, with
 * persistence, and a restart that keeps the port (and, by default, the persistent sessions).
 *
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import {
  createServer as createNetServer,
  connect as netConnect,
  type Server,
  type Socket,
} from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes } from 'aedes';
import { generateTestPki, type TestPki } from './pki.ts';

/** Which broker implementation runs. */
export type TestBrokerKind = 'mosquitto' | 'aedes';

/** Options of {@link startTestBroker}. */
export interface StartTestBrokerOptions {
  /** Listen with TLS (server certificate from {@link generateTestPki}). Default: `false`. */
  readonly tls?: boolean;
  /** Require a client certificate signed by the test CA (implies `tls`). Default: `false`. */
  readonly clientAuth?: boolean;
  /**
   * Force an implementation. Default: `$AIO_TEST_BROKER` when set (`mosquitto` or `aedes`), else
   * Mosquitto when installed, else aedes.
   */
  readonly kind?: TestBrokerKind;
  /**
   * The largest packet the broker accepts, announced in CONNACK as Maximum Packet Size.
   * Default: no limit.
   */
  readonly maximumPacketSize?: number;
  /** Path of the Mosquitto binary. Default: `$MOSQUITTO_PATH`, `/usr/sbin/mosquitto`, `mosquitto` on PATH. */
  readonly mosquittoPath?: string;
}

/** Options of {@link TestBroker.restart}. */
export interface RestartOptions {
  /** Forget every session, subscription and queued message (the broker "lost" its state). */
  readonly clearSessions?: boolean;
}

/** A running test broker. */
export interface TestBroker {
  readonly kind: TestBrokerKind;
  /** Always `127.0.0.1`. */
  readonly host: string;
  readonly port: number;
  /** `mqtt://127.0.0.1:<port>` or `mqtts://127.0.0.1:<port>`. */
  readonly url: string;
  /** Whether the broker currently accepts connections. */
  readonly running: boolean;
  /** The CA certificate (PEM) to trust, when TLS is on. */
  readonly ca?: string;
  /** A client certificate and key (PEM) the broker accepts, when TLS is on. */
  readonly clientCert?: string;
  readonly clientKey?: string;
  /** A client certificate and key signed by another CA, which an mTLS broker refuses. */
  readonly wrongClientCert?: string;
  readonly wrongClientKey?: string;
  /** Stops accepting connections and drops every client; state is kept (Mosquitto saves it). */
  stop(): Promise<void>;
  /** Starts again on the same port. */
  start(): Promise<void>;
  /** `stop()` then `start()`. */
  restart(options?: RestartOptions): Promise<void>;
  /** Stops for good and removes the broker's files. Safe to call twice. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a private broker and waits until it accepts connections.
 *
 * @example
 * ```ts
 * import mqtt from 'mqtt';
 * import { startTestBroker } from '@aio-connector/testing';
 * await using broker = await startTestBroker({ tls: true });
 * const client = await mqtt.connectAsync(broker.url, { protocolVersion: 5, ca: broker.ca });
 * await client.endAsync();
 * ```
 */
export async function startTestBroker(options: StartTestBrokerOptions = {}): Promise<TestBroker> {
  const tls = options.tls === true || options.clientAuth === true;
  const clientAuth = options.clientAuth === true;
  const mosquitto = findMosquitto(options.mosquittoPath);
  const fromEnvironment = process.env['AIO_TEST_BROKER'];
  const kind =
    options.kind ??
    (fromEnvironment === 'aedes' || fromEnvironment === 'mosquitto'
      ? fromEnvironment
      : mosquitto === undefined
        ? 'aedes'
        : 'mosquitto');
  if (kind !== 'mosquitto' && kind !== 'aedes')
    throw new TypeError(`kind must be 'mosquitto' or 'aedes', received ${String(kind)}`);
  if (kind === 'mosquitto' && mosquitto === undefined)
    throw new Error('mosquitto is not installed (set MOSQUITTO_PATH or install the package)');
  const maximumPacketSize = options.maximumPacketSize;
  if (
    maximumPacketSize !== undefined &&
    (!Number.isInteger(maximumPacketSize) || maximumPacketSize < 20)
  )
    throw new RangeError(
      `maximumPacketSize must be an integer >= 20, received ${maximumPacketSize}`,
    );
  const pki = tls ? await generateTestPki() : undefined;
  const engine =
    kind === 'mosquitto'
      ? new MosquittoEngine(mosquitto ?? 'mosquitto', pki, clientAuth, maximumPacketSize)
      : new AedesEngine(pki, clientAuth, maximumPacketSize);
  await engine.init();
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await engine.close();
  };
  return {
    kind,
    host: '127.0.0.1',
    get port() {
      return engine.port;
    },
    get url() {
      return `${tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${engine.port}`;
    },
    get running() {
      return engine.running;
    },
    ...(pki === undefined
      ? {}
      : {
          ca: pki.ca,
          clientCert: pki.client.cert,
          clientKey: pki.client.key,
          wrongClientCert: pki.wrongClient.cert,
          wrongClientKey: pki.wrongClient.key,
        }),
    stop: () => engine.stop(),
    start: () => {
      if (closed) return Promise.reject(new Error('the test broker was closed'));
      return engine.start();
    },
    restart: async (restartOptions = {}) => {
      if (closed) throw new Error('the test broker was closed');
      await engine.stop();
      if (restartOptions.clearSessions === true) await engine.clearSessions();
      await engine.start();
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

function findMosquitto(explicit: string | undefined): string | undefined {
  const candidates = [
    explicit,
    process.env['MOSQUITTO_PATH'],
    '/usr/sbin/mosquitto',
    '/usr/local/sbin/mosquitto',
    '/usr/bin/mosquitto',
    '/usr/local/bin/mosquitto',
    '/opt/homebrew/sbin/mosquitto',
    ...(process.env['PATH'] ?? '').split(':').map((dir) => join(dir, 'mosquitto')),
  ];
  for (const candidate of candidates) {
    if (candidate === undefined || candidate === '' || candidate === 'mosquitto') continue;
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not there
    }
  }
  return undefined;
}

interface Engine {
  readonly port: number;
  readonly running: boolean;
  init(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  clearSessions(): Promise<void>;
  close(): Promise<void>;
}

/** Finds a free port on 127.0.0.1 (the OS picks it). */
async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) =>
    server.close(() => {
      resolve();
    }),
  );
  if (address === null || typeof address === 'string') throw new Error('no port assigned');
  return address.port;
}

/** Resolves once a TCP connection to the port succeeds. */
async function waitForPort(
  port: number,
  deadlineInMs: number,
  failed: () => Error | undefined,
): Promise<void> {
  const deadline = Date.now() + deadlineInMs;
  for (;;) {
    const early = failed();
    if (early !== undefined) throw early;
    const ok = await new Promise<boolean>((resolve) => {
      const socket = netConnect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(
        `the broker did not accept connections on port ${port} in ${deadlineInMs} ms`,
      );
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

class MosquittoEngine implements Engine {
  readonly #binary: string;
  readonly #pki: TestPki | undefined;
  readonly #clientAuth: boolean;
  readonly #maximumPacketSize: number | undefined;
  #dir = '';
  #port = 0;
  #process: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #log: string[] = [];

  constructor(
    binary: string,
    pki: TestPki | undefined,
    clientAuth: boolean,
    maximumPacketSize: number | undefined,
  ) {
    this.#binary = binary;
    this.#pki = pki;
    this.#clientAuth = clientAuth;
    this.#maximumPacketSize = maximumPacketSize;
  }

  get port(): number {
    return this.#port;
  }

  get running(): boolean {
    return this.#process !== undefined;
  }

  async init(): Promise<void> {
    this.#dir = await mkdtemp(join(tmpdir(), 'aio-test-mosquitto-'));
    // The port is chosen by binding port 0 and releasing it; another process may grab it in
    // between, so a failed bind is retried with a new port.
    for (let attempt = 1; ; attempt++) {
      this.#port = await freePort();
      await this.#writeConfig();
      try {
        await this.start();
        return;
      } catch (error) {
        if (attempt >= 5 || !/address already in use/i.test(this.#log.join('\n'))) {
          await rm(this.#dir, { recursive: true, force: true });
          throw error;
        }
      }
    }
  }

  async #writeConfig(): Promise<void> {
    const lines = [
      `user ${userInfo().username}`,
      `listener ${this.#port} 127.0.0.1`,
      'allow_anonymous true',
      'set_tcp_nodelay true',
      'persistence true',
      `persistence_location ${this.#dir}/`,
      'persistence_file mosquitto.db',
      'max_queued_messages 10000',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'log_type notice',
      'log_type information',
    ];
    if (this.#maximumPacketSize !== undefined)
      lines.push(`max_packet_size ${this.#maximumPacketSize}`);
    if (this.#pki !== undefined) {
      lines.push(
        `cafile ${this.#pki.caPath}`,
        `certfile ${this.#pki.server.certPath}`,
        `keyfile ${this.#pki.server.keyPath}`,
        `require_certificate ${this.#clientAuth ? 'true' : 'false'}`,
      );
    }
    await writeFile(join(this.#dir, 'mosquitto.conf'), `${lines.join('\n')}\n`);
  }

  async start(): Promise<void> {
    if (this.#process !== undefined) return;
    this.#log = [];
    const child = spawn(this.#binary, ['-c', join(this.#dir, 'mosquitto.conf')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.#process = child;
    let exitError: Error | undefined;
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.#log.push(...chunk.split('\n').filter((line) => line !== ''));
      if (this.#log.length > 200) this.#log.splice(0, this.#log.length - 200);
    });
    this.#exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exitError = new Error(
          `mosquitto exited (code ${code}, signal ${signal}):\n${this.#log.slice(-20).join('\n')}`,
        );
        if (this.#process === child) this.#process = undefined;
        resolve();
      });
      child.once('error', (error) => {
        exitError = error;
        if (this.#process === child) this.#process = undefined;
        resolve();
      });
    });
    try {
      await waitForPort(this.#port, 15_000, () => exitError);
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  async stop(): Promise<void> {
    const child = this.#process;
    if (child === undefined) {
      await this.#exited;
      return;
    }
    // SIGTERM makes Mosquitto save its database before it exits.
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await this.#exited;
    clearTimeout(timer);
  }

  async clearSessions(): Promise<void> {
    await rm(join(this.#dir, 'mosquitto.db'), { force: true });
  }

  async close(): Promise<void> {
    await this.stop();
    await rm(this.#dir, { recursive: true, force: true });
  }
}

class AedesEngine implements Engine {
  readonly #pki: TestPki | undefined;
  readonly #clientAuth: boolean;
  readonly #maximumPacketSize: number | undefined;
  #broker: Aedes | undefined;
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  #port = 0;

  constructor(
    pki: TestPki | undefined,
    clientAuth: boolean,
    maximumPacketSize: number | undefined,
  ) {
    this.#pki = pki;
    this.#clientAuth = clientAuth;
    this.#maximumPacketSize = maximumPacketSize;
  }

  #createBroker(): Promise<Aedes> {
    return Aedes.createBroker(
      this.#maximumPacketSize === undefined ? {} : { maximumPacketSize: this.#maximumPacketSize },
    );
  }

  get port(): number {
    return this.#port;
  }

  get running(): boolean {
    return this.#server !== undefined;
  }

  async init(): Promise<void> {
    this.#broker = await this.#createBroker();
    await this.start();
  }

  async start(): Promise<void> {
    if (this.#server !== undefined) return;
    const broker = this.#broker;
    if (broker === undefined) throw new Error('the broker was closed');
    const onConnection = (socket: Socket): void => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
      broker.handle(socket);
    };
    const pki = this.#pki;
    const server =
      pki === undefined
        ? createNetServer(onConnection)
        : createTlsServer(
            {
              cert: pki.server.cert,
              key: pki.server.key,
              ca: pki.ca,
              minVersion: 'TLSv1.2',
              requestCert: this.#clientAuth,
              rejectUnauthorized: this.#clientAuth,
            },
            onConnection,
          );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (address !== null && typeof address !== 'string') this.#port = address.port;
    this.#server = server;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    this.#server = undefined;
    const closed = new Promise<void>((resolve) =>
      server.close(() => {
        resolve();
      }),
    );
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  async clearSessions(): Promise<void> {
    const old = this.#broker;
    this.#broker = await this.#createBroker();
    if (old !== undefined)
      await new Promise<void>((resolve) => {
        old.close(() => {
          resolve();
        });
      });
  }

  async close(): Promise<void> {
    await this.stop();
    const broker = this.#broker;
    this.#broker = undefined;
    if (broker !== undefined)
      await new Promise<void>((resolve) => {
        broker.close(() => {
          resolve();
        });
      });
  }
}
