/**
 * `Sandbox`: a complete local imitation of an Azure IoT Operations cluster for connectors — an
 * MQTT 5 broker, the ADR / schema registry / state store services, sample southbound servers, Akri
 * mount folders written from Device and Asset custom resources, and the connector processes run
 * with the pod contract's environment variables, supervised and restarted like pods. Editing the
 * resource files while it runs updates the definitions and sends the real notifications.
 *
 * @module
 */
import { existsSync, readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import {
  AioError,
  ConfigError,
  MqttSession,
  connectorEnvironmentVariables,
  readinessFileEnvironmentVariable,
  silentLogger,
  type Logger,
  type MqttConnectionSettings,
} from '@aio-connector/core';
import { startAdrService, type AdrServiceEmulator } from '../emulators/adr-service.ts';
import {
  startSchemaRegistryService,
  type SchemaRegistryService,
} from '../emulators/schema-registry-service.ts';
import {
  startStateStoreService,
  type StateStoreService,
} from '../emulators/state-store-service.ts';
import { loadResources, type ResourceWarning } from '../resources/load-resources.ts';
import type { SampleServerAuth, SampleServerTls } from '../sample-servers/sample-http.ts';
import { startThermostatEventServer } from '../sample-servers/thermostat-event-server.ts';
import { startThermostatServer } from '../sample-servers/thermostat-server.ts';
import type { ThermostatSimulator } from '../sample-servers/thermostat-simulator.ts';
import { writeAkriMount, type AkriMount, type AkriMountEndpoint } from './akri-mount.ts';
import {
  ConnectorProcess,
  type ConnectorProcessEvent,
  type ConnectorProcessState,
  type ConnectorRestartOptions,
} from './connector-process.ts';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded-broker.ts';
import {
  assignEndpoints,
  diffDefinitions,
  mapAddresses,
  readEndpointSecrets,
  type DefinitionChanges,
  type EndpointAssignment,
  type SandboxDefinitions,
} from './sandbox-resources.ts';

/** A connector the sandbox runs. */
export interface SandboxConnector {
  /**
   * Its name: lower case letters, digits and `-`. The connector's `CONNECTOR_ID` (its MQTT client
   * id) is `<name>-0`, its mount folder `<stateDir>/<name>`. Required, unique.
   */
  readonly name: string;
  /** The program and its arguments; `node` runs the sandbox's own Node.js. Required. */
  readonly command: readonly string[];
  /** The working directory. Default: the current one. */
  readonly cwd?: string;
  /** Extra environment variables. Default: none. */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * The device endpoint types it serves (`endpointType` of the Device's inbound endpoints). Default:
   * every endpoint whose type no other connector lists.
   */
  readonly endpointTypes?: readonly string[];
  /** `ADDITIONAL_CONNECTOR_CONFIGURATION` (stringified JSON). Default: none. */
  readonly additionalConfiguration?: string;
  /** The `DIAGNOSTICS` log level. Default: none (the connector's default). */
  readonly logLevel?: string;
}

/** A sample southbound server the sandbox runs. */
export interface SandboxSampleServer {
  /** Its name. Required, unique. */
  readonly name: string;
  /** `thermostat`: the REST API; `thermostat-events`: the Server-Sent Events stream. Required. */
  readonly kind: 'thermostat' | 'thermostat-events';
  /** Default: `'127.0.0.1'`. */
  readonly host?: string;
  /** Default: 0 (a free port). */
  readonly port?: number;
  /** Default: anonymous. */
  readonly auth?: SampleServerAuth;
  /** Serve HTTPS. Default: plain HTTP. */
  readonly tls?: SampleServerTls;
  /**
   * The address the device definitions use for this server, e.g.
   * `http://thermostat.demo.svc.cluster.local:8080`: device endpoints with this origin are pointed
   * at the local server (path kept), as a cluster DNS name would resolve. Default: none.
   */
  readonly address?: string;
  /** Share the simulated thermostat of an earlier sample server of this name. Default: its own. */
  readonly shareStateWith?: string;
  /** `thermostat-events`: ms between events. Default: 1 000. */
  readonly intervalInMs?: number;
}

/** The MQTT broker the sandbox uses. */
export interface SandboxBrokerOptions {
  /**
   * An existing broker, `mqtt://host:port` or `mqtts://host:port`. Default: an embedded aedes
   * broker in this process.
   */
  readonly url?: string;
  /** The embedded broker's interface. Default: `'127.0.0.1'`. */
  readonly host?: string;
  /** The embedded broker's port; 0 picks a free one. Default: 0. */
  readonly port?: number;
  /** PEM CA certificates of an `mqtts://` broker (written to the connectors' broker trust bundle). */
  readonly caCertificates?: readonly string[];
}

/** Options of {@link Sandbox}. Every field is optional. */
export interface SandboxOptions {
  /** Device and Asset YAML files and folders (`*.yaml`, `*.yml`). Default: none. */
  readonly resources?: readonly string[];
  /**
   * The folder of device endpoint secrets and trust lists: secret `name/key` is the file
   * `<secrets>/name/key`, trust list `name` the file (or folder of PEM files) `<secrets>/name`.
   * Default: none (an endpoint that references a secret is an error).
   */
  readonly secrets?: string;
  /** Default: an embedded broker on a free port. */
  readonly broker?: SandboxBrokerOptions;
  /** The connectors to run. Default: none. */
  readonly connectors?: readonly SandboxConnector[];
  /** The sample servers to run. Default: none. */
  readonly sampleServers?: readonly SandboxSampleServer[];
  /** Where the mount folders are written. Default: a new temporary folder, removed by `stop()`. */
  readonly stateDir?: string;
  /** Reload the resources (and secrets) when their files change. Default: `true`. */
  readonly watch?: boolean;
  /** Quiet period after a file change before reloading, in ms. Default: 300. */
  readonly debounceInMs?: number;
  /** Connector restarts after an exit, or `false`. Default: 1 s doubling up to 30 s. */
  readonly restart?: ConnectorRestartOptions | false;
  /** How long a connector may take to stop after SIGTERM before SIGKILL, in ms. Default: 10 000. */
  readonly stopTimeoutInMs?: number;
  /** `CONNECTOR_NAMESPACE`. Default: `'azure-iot-operations'`. */
  readonly namespace?: string;
  /** Default: silent. */
  readonly logger?: Logger;
}

/** The state of a {@link Sandbox}. */
export type SandboxState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

/** A connector of a running sandbox. */
export interface SandboxConnectorInfo {
  readonly name: string;
  /** `CONNECTOR_ID`, the MQTT client id. */
  readonly connectorId: string;
  readonly state: ConnectorProcessState;
  readonly pid: number | undefined;
  readonly restarts: number;
  readonly lastExit:
    { readonly code: number | null; readonly signal: NodeJS.Signals | null } | undefined;
  /** The mount folder. */
  readonly mountDir: string;
  /** The environment variables of the pod contract it runs with. */
  readonly env: Readonly<Record<string, string>>;
  /** Whether its readiness file exists. */
  readonly ready: boolean;
  /** The device endpoints and assets in its ADR resources mount. */
  readonly endpoints: readonly AkriMountEndpoint[];
}

/** A sample server of a running sandbox. */
export interface SandboxSampleServerInfo {
  readonly name: string;
  readonly kind: SandboxSampleServer['kind'];
  /** Its origin, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** The address the definitions use for it, when set. */
  readonly address: string | undefined;
}

/** What a {@link Sandbox} reports. */
export type SandboxEvent =
  | { readonly type: 'broker'; readonly url: string; readonly embedded: boolean }
  | {
      readonly type: 'sample-server';
      readonly name: string;
      readonly kind: SandboxSampleServer['kind'];
      readonly url: string;
    }
  | {
      readonly type: 'resources';
      /** The first load, at start. */
      readonly initial: boolean;
      readonly devices: number;
      readonly assets: number;
      readonly changes: DefinitionChanges;
      /** Warnings of the YAML files (`file:line: message`) and of the assignment to connectors. */
      readonly warnings: readonly string[];
    }
  | { readonly type: 'resources-error'; readonly error: Error }
  | { readonly type: 'connector'; readonly event: ConnectorProcessEvent }
  | { readonly type: 'stopping' }
  | { readonly type: 'stopped' };

const connectorNamePattern = /^[a-z0-9]([-a-z0-9]{0,50}[a-z0-9])?$/;

/** Contract variables not passed on from the sandbox's own environment. */
const contractVariables = Object.values(connectorEnvironmentVariables).filter(
  (name) => !name.includes('OTLP'),
);

function checkNumber(name: string, value: unknown, min: number, max = Infinity): void {
  if (value === undefined) return;
  if (typeof value !== 'number') throw new TypeError(`${name} must be a number`);
  if (!Number.isFinite(value) || value < min || value > max)
    throw new RangeError(`${name} must be a number from ${min} to ${max}, received ${value}`);
}

function checkOptions(options: SandboxOptions): void {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('options must be an object');
  const { resources, secrets, connectors, sampleServers, stateDir, watch: watching } = options;
  if (
    resources !== undefined &&
    (!Array.isArray(resources) || resources.some((r) => typeof r !== 'string' || r === ''))
  )
    throw new TypeError('resources must be an array of paths');
  if (secrets !== undefined && typeof secrets !== 'string')
    throw new TypeError('secrets must be a path');
  if (stateDir !== undefined && typeof stateDir !== 'string')
    throw new TypeError('stateDir must be a path');
  if (watching !== undefined && typeof watching !== 'boolean')
    throw new TypeError('watch must be a boolean');
  checkNumber('debounceInMs', options.debounceInMs, 0, 60_000);
  checkNumber('stopTimeoutInMs', options.stopTimeoutInMs, 0, 600_000);
  if (options.broker !== undefined) {
    const { url, port, host } = options.broker;
    if (url !== undefined && (typeof url !== 'string' || !/^mqtts?:\/\/[^/]+/.test(url)))
      throw new TypeError(`broker.url must be an mqtt:// or mqtts:// URL, received ${url}`);
    checkNumber('broker.port', port, 0, 65_535);
    if (host !== undefined && typeof host !== 'string')
      throw new TypeError('broker.host must be a string');
  }
  const names = new Set<string>();
  for (const connector of connectors ?? []) {
    if (typeof connector !== 'object' || connector === null)
      throw new TypeError('every connector must be an object');
    if (typeof connector.name !== 'string' || !connectorNamePattern.test(connector.name))
      throw new RangeError(
        `connector name ${JSON.stringify(connector.name)} must be lower case letters, digits and "-"`,
      );
    if (names.has(connector.name))
      throw new RangeError(`two connectors are named "${connector.name}"`);
    names.add(connector.name);
    if (
      !Array.isArray(connector.command) ||
      connector.command.length === 0 ||
      connector.command.some((part) => typeof part !== 'string')
    )
      throw new TypeError(`connector "${connector.name}" command must be a non-empty string array`);
    if (
      connector.endpointTypes !== undefined &&
      (!Array.isArray(connector.endpointTypes) ||
        connector.endpointTypes.some((t) => typeof t !== 'string'))
    )
      throw new TypeError(`connector "${connector.name}" endpointTypes must be a string array`);
  }
  const servers = new Set<string>();
  for (const server of sampleServers ?? []) {
    if (typeof server !== 'object' || server === null)
      throw new TypeError('every sample server must be an object');
    if (typeof server.name !== 'string' || server.name === '')
      throw new TypeError('every sample server needs a name');
    if (servers.has(server.name))
      throw new RangeError(`two sample servers are named "${server.name}"`);
    if (server.kind !== 'thermostat' && server.kind !== 'thermostat-events')
      throw new RangeError(
        `sample server "${server.name}" kind must be "thermostat" or "thermostat-events", received ${JSON.stringify(server.kind)}`,
      );
    if (server.shareStateWith !== undefined && !servers.has(server.shareStateWith))
      throw new RangeError(
        `sample server "${server.name}" shares the state of "${server.shareStateWith}", which is not defined before it`,
      );
    servers.add(server.name);
  }
}

interface RunningServer {
  readonly info: SandboxSampleServerInfo;
  readonly state: ThermostatSimulator;
  close(): Promise<void>;
}

interface RunningConnector {
  readonly spec: SandboxConnector;
  readonly connectorId: string;
  readonly mount: AkriMount;
  readonly process: ConnectorProcess;
  readonly env: Readonly<Record<string, string>>;
  readonly readinessFile: string;
  endpoints: readonly AkriMountEndpoint[];
}

const emptyDefinitions: SandboxDefinitions = { devices: new Map(), assets: new Map() };

/**
 * A local Azure IoT Operations environment for connectors.
 *
 * `start()` starts, in order: the broker (embedded, or connects to `broker.url`), the ADR, schema
 * registry and state store emulators on their own MQTT session, the sample servers, loads the
 * resources, writes one Akri mount folder per connector (its MQTT connection configuration, its
 * device endpoints and assets, the secrets and trust lists they reference), and starts the
 * connectors. `stop()` undoes it in reverse: connectors get SIGTERM (SIGKILL after
 * `stopTimeoutInMs`), then every server closes and the temporary folder is removed.
 *
 * While it runs, a change to the resource files (or the secrets folder) reloads them: added,
 * changed and removed devices and assets go to the ADR emulator (which sends `deviceUpdateEvent` /
 * `assetUpdateEvent` to the connectors that asked for them), and the ADR resources mounts are
 * rewritten. A reload that fails (a YAML error, a missing secret) keeps the previous definitions
 * and is reported as a `resources-error` event.
 *
 * @example
 * ```ts
 * import { Sandbox } from '@aio-connector/devkit';
 * const sandbox = new Sandbox({
 *   resources: ['examples/demo/resources'],
 *   connectors: [{ name: 'memory', command: ['node', 'examples/memory-connector/src/main.ts'] }],
 * });
 * sandbox.onEvent((event) => {
 *   if (event.type === 'connector' && event.event.type === 'output') console.log(event.event.line);
 * });
 * await sandbox.start();
 * console.log(sandbox.brokerUrl);
 * await sandbox.stop();
 * ```
 */
export class Sandbox {
  readonly #options: SandboxOptions;
  readonly #logger: Logger;
  readonly #listeners = new Set<(event: SandboxEvent) => void>();
  #state: SandboxState = 'idle';
  #starting: Promise<void> | undefined;
  /** The work of `start()` alone (without the clean-up after a failure): `stop()` waits for it. */
  #startWork: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #broker: EmbeddedBroker | undefined;
  #brokerUrl: string | undefined;
  #brokerSettings: MqttConnectionSettings | undefined;
  #services: MqttSession | undefined;
  #adr: AdrServiceEmulator | undefined;
  #registry: SchemaRegistryService | undefined;
  #store: StateStoreService | undefined;
  #stateDir: string | undefined;
  #ownsStateDir = false;
  readonly #servers = new Map<string, RunningServer>();
  readonly #connectors = new Map<string, RunningConnector>();
  #definitions: SandboxDefinitions = emptyDefinitions;
  #assignment: EndpointAssignment = { byConnector: new Map(), warnings: [] };
  readonly #watchers: FSWatcher[] = [];
  #reloadTimer: NodeJS.Timeout | undefined;
  #reloadChain: Promise<void> = Promise.resolve();

  constructor(options: SandboxOptions = {}) {
    checkOptions(options);
    this.#options = Object.freeze({ ...options });
    this.#logger = (options.logger ?? silentLogger).child({ component: 'sandbox' });
  }

  /** The lifecycle state. */
  get state(): SandboxState {
    return this.#state;
  }

  /** The broker URL, once started. */
  get brokerUrl(): string | undefined {
    return this.#brokerUrl;
  }

  /**
   * Settings for an `MqttSession` to the sandbox's broker (a random suffix is added to the client
   * id). Throws before `start()`.
   */
  mqttSettings(clientIdPrefix = 'aio-sandbox-client'): MqttConnectionSettings {
    const settings = this.#brokerSettings;
    if (settings === undefined)
      throw new AioError('ERR_AIO_CLOSED', 'the sandbox has no broker yet; call start() first');
    return {
      ...settings,
      clientId: `${clientIdPrefix}-${Math.random().toString(36).slice(2, 10)}`,
    };
  }

  /** The ADR service emulator, once started. */
  get adr(): AdrServiceEmulator | undefined {
    return this.#adr;
  }

  /** The schema registry emulator, once started. */
  get schemaRegistry(): SchemaRegistryService | undefined {
    return this.#registry;
  }

  /** The state store emulator, once started. */
  get stateStore(): StateStoreService | undefined {
    return this.#store;
  }

  /** The folder of the mount folders, once started. */
  get stateDir(): string | undefined {
    return this.#stateDir;
  }

  /** The devices and assets served now (sample server addresses already mapped). */
  get definitions(): SandboxDefinitions {
    return this.#definitions;
  }

  /** The connectors and their state. */
  get connectors(): readonly SandboxConnectorInfo[] {
    return [...this.#connectors.values()].map((c) => ({
      name: c.spec.name,
      connectorId: c.connectorId,
      state: c.process.state,
      pid: c.process.pid,
      restarts: c.process.restarts,
      lastExit: c.process.lastExit,
      mountDir: c.mount.dir,
      env: c.env,
      ready: existsSync(c.readinessFile),
      endpoints: c.endpoints,
    }));
  }

  /** The running sample servers. */
  get sampleServers(): readonly SandboxSampleServerInfo[] {
    return [...this.#servers.values()].map((s) => s.info);
  }

  /** Adds a listener for every event; returns a function that removes it. */
  onEvent(listener: (event: SandboxEvent) => void): () => void {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(event: SandboxEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#logger.warn({ err: error }, 'a sandbox event listener failed');
      }
    }
  }

  /**
   * Starts everything and resolves once the connectors are started. Rejects (after undoing what
   * was started) with a `ConfigError` for a broker port in use, a resource file with errors, a
   * missing secret or a sample server that cannot listen.
   */
  start(): Promise<void> {
    if (this.#state === 'stopping' || this.#state === 'stopped')
      return Promise.reject(new AioError('ERR_AIO_CLOSED', 'the sandbox was stopped'));
    this.#starting ??= (async () => {
      this.#state = 'starting';
      const work = this.#start();
      this.#startWork = work.catch(() => undefined);
      try {
        await work;
      } catch (error) {
        await this.stop();
        throw error;
      }
      if (this.#state !== 'starting') {
        // stop() was called meanwhile: it waited for this work and undid it
        await this.stop();
        throw new AioError('ERR_AIO_CLOSED', 'the sandbox was stopped while it was starting');
      }
      this.#state = 'running';
    })();
    return this.#starting;
  }

  /** Gives up a start once `stop()` was called: what was started so far is undone by `stop()`. */
  #throwIfStopped(): void {
    if (this.#state !== 'starting')
      throw new AioError('ERR_AIO_CLOSED', 'the sandbox was stopped while it was starting');
  }

  async #start(): Promise<void> {
    const options = this.#options;
    const brokerOptions = options.broker ?? {};
    let host: string;
    let port: number;
    let useTls = false;
    if (brokerOptions.url === undefined) {
      const broker = await startEmbeddedBroker({
        ...(brokerOptions.host === undefined ? {} : { host: brokerOptions.host }),
        ...(brokerOptions.port === undefined ? {} : { port: brokerOptions.port }),
        logger: this.#logger,
      });
      this.#broker = broker;
      this.#throwIfStopped();
      host = broker.host;
      port = broker.port;
      this.#brokerUrl = broker.url;
    } else {
      const url = new URL(brokerOptions.url);
      useTls = url.protocol === 'mqtts:';
      host = url.hostname.replace(/^\[|\]$/g, '');
      port = url.port === '' ? (useTls ? 8883 : 1883) : Number(url.port);
      this.#brokerUrl = brokerOptions.url;
    }
    this.#emit({ type: 'broker', url: this.#brokerUrl, embedded: this.#broker !== undefined });

    this.#brokerSettings = {
      hostname: host,
      port,
      clientId: 'aio-sandbox',
      useTls,
      sessionExpiryInSeconds: 60,
      ...(brokerOptions.caCertificates === undefined
        ? {}
        : { caCertificates: brokerOptions.caCertificates }),
    };
    const services = new MqttSession(this.mqttSettings('aio-sandbox-services'), {
      logger: this.#logger,
      connectTimeoutInMs: 10_000,
    });
    this.#services = services;
    await services.connect();
    this.#throwIfStopped();
    this.#adr = await startAdrService(services, { logger: this.#logger });
    this.#registry = await startSchemaRegistryService(services, { logger: this.#logger });
    const store = await startStateStoreService(services, { logger: this.#logger });
    this.#store = store;
    this.#throwIfStopped();
    this.#broker?.onClientDisconnect((clientId) => {
      store.engine.removeClient(clientId);
    });

    for (const server of options.sampleServers ?? []) {
      await this.#startServer(server);
      this.#throwIfStopped();
    }

    const loaded = await this.#load();
    const assignment = this.#assign(loaded);
    const namespace = options.namespace ?? 'azure-iot-operations';
    if (options.stateDir === undefined) {
      this.#stateDir = await mkdtemp(join(tmpdir(), 'aio-connector-dev-'));
      this.#ownsStateDir = true;
    } else {
      this.#stateDir = resolve(options.stateDir);
      await mkdir(this.#stateDir, { recursive: true });
    }
    for (const spec of options.connectors ?? []) {
      const endpoints = assignment.byConnector.get(spec.name) ?? [];
      const { secrets, trustLists } = await readEndpointSecrets(
        this.#secretsFolder(),
        loaded.devices,
        endpoints,
      );
      const connectorId = `${spec.name}-0`;
      const dir = join(this.#stateDir, spec.name);
      await rm(dir, { recursive: true, force: true });
      const mount = await writeAkriMount({
        dir,
        connectorId,
        namespace,
        broker: {
          host,
          port,
          sessionExpirySeconds: 600,
          ...(useTls ? { caCertificates: brokerOptions.caCertificates ?? [] } : {}),
        },
        endpoints,
        secrets,
        trustLists,
        ...(spec.additionalConfiguration === undefined
          ? {}
          : { additionalConfiguration: spec.additionalConfiguration }),
        ...(spec.logLevel === undefined ? {} : { logLevel: spec.logLevel }),
      });
      const readinessFile = join(dir, 'ready');
      const env: Record<string, string> = {};
      for (const [name, value] of Object.entries(process.env))
        if (value !== undefined && !contractVariables.includes(name as never)) env[name] = value;
      Object.assign(env, spec.env, mount.env, {
        [readinessFileEnvironmentVariable]: readinessFile,
      });
      const child = new ConnectorProcess({
        name: spec.name,
        command: spec.command,
        env,
        ...(spec.cwd === undefined ? {} : { cwd: spec.cwd }),
        ...(options.restart === undefined ? {} : { restart: options.restart }),
        ...(options.stopTimeoutInMs === undefined
          ? {}
          : { stopTimeoutInMs: options.stopTimeoutInMs }),
        onEvent: (event) => {
          this.#emit({ type: 'connector', event });
        },
      });
      this.#connectors.set(spec.name, {
        spec,
        connectorId,
        mount,
        process: child,
        env: Object.freeze(env),
        readinessFile,
        endpoints,
      });
    }
    const adr = this.#adr;
    for (const [name, device] of loaded.devices) await adr.setDevice(name, device);
    for (const [name, asset] of loaded.assets) await adr.setAsset(name, asset);
    this.#throwIfStopped();
    this.#definitions = loaded;
    this.#assignment = assignment;
    this.#emit({
      type: 'resources',
      initial: true,
      devices: loaded.devices.size,
      assets: loaded.assets.size,
      changes: diffDefinitions(emptyDefinitions, loaded),
      warnings: [...loaded.warnings, ...assignment.warnings],
    });
    // a listener of the event above may have called stop()
    this.#throwIfStopped();
    for (const connector of this.#connectors.values()) connector.process.start();
    if (options.watch ?? true) this.#watch();
  }

  #secretsFolder(): string | undefined {
    return this.#options.secrets === undefined ? undefined : resolve(this.#options.secrets);
  }

  async #startServer(spec: SandboxSampleServer): Promise<void> {
    const shared =
      spec.shareStateWith === undefined ? undefined : this.#servers.get(spec.shareStateWith);
    const common = {
      ...(spec.host === undefined ? {} : { host: spec.host }),
      port: spec.port ?? 0,
      ...(spec.auth === undefined ? {} : { auth: spec.auth }),
      ...(spec.tls === undefined ? {} : { tls: spec.tls }),
      ...(shared === undefined ? {} : { state: shared.state }),
    };
    let running: RunningServer;
    try {
      if (spec.kind === 'thermostat') {
        const server = await startThermostatServer(common);
        running = {
          info: { name: spec.name, kind: spec.kind, url: server.url, address: spec.address },
          state: server.state,
          close: () => server.close(),
        };
      } else {
        const server = await startThermostatEventServer({
          ...common,
          ...(spec.intervalInMs === undefined ? {} : { intervalInMs: spec.intervalInMs }),
        });
        running = {
          info: { name: spec.name, kind: spec.kind, url: server.origin, address: spec.address },
          state: server.state,
          close: () => server.close(),
        };
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new ConfigError(
        code === 'EADDRINUSE'
          ? `sample server "${spec.name}": port ${spec.port ?? 0} is in use by another program`
          : `sample server "${spec.name}" cannot start: ${(error as Error).message}`,
        { source: `sample server ${spec.name}`, cause: error },
      );
    }
    this.#servers.set(spec.name, running);
    this.#emit({ type: 'sample-server', name: spec.name, kind: spec.kind, url: running.info.url });
  }

  /** Loads the resource files and maps sample server addresses. */
  async #load(): Promise<SandboxDefinitions & { readonly warnings: readonly string[] }> {
    const paths = this.#options.resources ?? [];
    if (paths.length === 0) return { devices: new Map(), assets: new Map(), warnings: [] };
    const loaded = await loadResources(paths);
    const mappings = [...this.#servers.values()].flatMap(({ info }) =>
      info.address === undefined ? [] : [{ from: info.address, to: info.url }],
    );
    const devices = mapAddresses(
      new Map([...loaded.devices].map(([name, entry]) => [name, entry.device])),
      mappings,
    );
    const assets = new Map([...loaded.assets].map(([name, entry]) => [name, entry.asset]));
    const warnings = loaded.warnings.map(
      (warning: ResourceWarning) => `${warning.file}:${warning.line}: ${warning.message}`,
    );
    return { devices, assets, warnings };
  }

  #assign(definitions: SandboxDefinitions): EndpointAssignment {
    return assignEndpoints(
      definitions,
      (this.#options.connectors ?? []).map((c) => ({
        name: c.name,
        endpointTypes: c.endpointTypes,
      })),
    );
  }

  #watch(): void {
    const targets = new Map<string, Set<string> | 'all'>();
    const add = (dir: string, file: string | undefined): void => {
      const current = targets.get(dir);
      if (file === undefined || current === 'all') targets.set(dir, 'all');
      else targets.set(dir, new Set([...(current ?? []), file]));
    };
    for (const path of this.#options.resources ?? []) {
      const full = resolve(path);
      // a folder is watched itself; a file through its folder (editors replace files on save)
      if (/\.ya?ml$/i.test(full)) add(dirname(full), basename(full));
      else add(full, undefined);
    }
    const debounceInMs = this.#options.debounceInMs ?? 300;
    // A file saved in place is truncated before it is written: an empty YAML file is most likely
    // half saved, so the reload waits one more quiet period before reading it as empty.
    const hasEmptyFile = (): boolean => {
      for (const [dir, files] of targets) {
        let names: string[];
        try {
          names =
            files === 'all' ? readdirSync(dir).filter((n) => /\.ya?ml$/i.test(n)) : [...files];
        } catch {
          continue;
        }
        for (const name of names)
          try {
            if (statSync(join(dir, name)).size === 0) return true;
          } catch {
            // removed meanwhile
          }
      }
      return false;
    };
    const schedule = (): void => {
      clearTimeout(this.#reloadTimer);
      let waited = false;
      const fire = (): void => {
        if (!waited && hasEmptyFile()) {
          waited = true;
          this.#reloadTimer = setTimeout(fire, debounceInMs);
          this.#reloadTimer.unref();
          return;
        }
        void this.reload().catch(() => undefined);
      };
      this.#reloadTimer = setTimeout(fire, debounceInMs);
      this.#reloadTimer.unref();
    };
    for (const [dir, files] of targets) {
      try {
        const watcher = watch(dir, { persistent: false }, (_event, name) => {
          if (name === null) schedule();
          else if (files === 'all' ? /\.ya?ml$/i.test(name) : files.has(name)) schedule();
        });
        watcher.on('error', (error) => {
          this.#logger.warn({ err: error, dir }, 'watching resource files failed');
        });
        this.#watchers.push(watcher);
      } catch (error) {
        this.#logger.warn({ err: error, dir }, 'cannot watch resource files');
      }
    }
    const secrets = this.#secretsFolder();
    if (secrets !== undefined && existsSync(secrets)) {
      try {
        const watcher = watch(secrets, { persistent: false, recursive: true }, schedule);
        watcher.on('error', (error) => {
          this.#logger.warn({ err: error, dir: secrets }, 'watching the secrets folder failed');
        });
        this.#watchers.push(watcher);
      } catch (error) {
        this.#logger.warn({ err: error, dir: secrets }, 'cannot watch the secrets folder');
      }
    }
  }

  /**
   * Reloads the resource files and the secrets now and applies the changes (as a file change
   * does). Resolves once the emulator and the mounts are updated; rejects, keeping the previous
   * definitions, when the files have errors or a secret is missing (also reported as a
   * `resources-error` event).
   */
  reload(): Promise<void> {
    if (this.#state !== 'running')
      return Promise.reject(new AioError('ERR_AIO_CLOSED', 'the sandbox is not running'));
    const next = this.#reloadChain.then(() => this.#reload());
    this.#reloadChain = next.catch(() => undefined);
    return next;
  }

  async #reload(): Promise<void> {
    if (this.#state !== 'running') return;
    const adr = this.#adr as AdrServiceEmulator;
    try {
      const loaded = await this.#load();
      const assignment = this.#assign(loaded);
      const secretsByConnector = new Map<string, Awaited<ReturnType<typeof readEndpointSecrets>>>();
      for (const connector of this.#connectors.values())
        secretsByConnector.set(
          connector.spec.name,
          await readEndpointSecrets(
            this.#secretsFolder(),
            loaded.devices,
            assignment.byConnector.get(connector.spec.name) ?? [],
          ),
        );
      if (this.#state !== 'running') return;
      const changes = diffDefinitions(this.#definitions, loaded);
      // secrets first, so a connector that sees a new endpoint finds its credentials
      for (const connector of this.#connectors.values()) {
        const { secrets, trustLists } = secretsByConnector.get(connector.spec.name) ?? {
          secrets: {},
          trustLists: {},
        };
        for (const [name, contents] of Object.entries(secrets))
          await connector.mount.writeSecret(name, contents);
        for (const [name, pems] of Object.entries(trustLists))
          await connector.mount.writeTrustList(name, pems);
      }
      // then definitions, so a connector that sees a new name in its mount can get it
      for (const [name, device] of loaded.devices) await adr.setDevice(name, device);
      for (const [name, asset] of loaded.assets) await adr.setAsset(name, asset);
      for (const connector of this.#connectors.values()) {
        const endpoints = assignment.byConnector.get(connector.spec.name) ?? [];
        await connector.mount.setEndpoints(endpoints);
        connector.endpoints = endpoints;
      }
      // deletions last, once no mount names them any more
      for (const name of this.#definitions.assets.keys())
        if (!loaded.assets.has(name)) adr.deleteAsset(name);
      for (const name of this.#definitions.devices.keys())
        if (!loaded.devices.has(name)) adr.deleteDevice(name);
      this.#definitions = loaded;
      this.#assignment = assignment;
      this.#emit({
        type: 'resources',
        initial: false,
        devices: loaded.devices.size,
        assets: loaded.assets.size,
        changes,
        warnings: [...loaded.warnings, ...assignment.warnings],
      });
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      this.#emit({ type: 'resources-error', error: failure });
      throw failure;
    }
  }

  /** The current assignment of device endpoints to connectors. */
  get assignment(): EndpointAssignment {
    return this.#assignment;
  }

  /**
   * Stops the connectors (SIGTERM, SIGKILL after `stopTimeoutInMs`), then the emulators, the
   * sample servers and the broker, and removes the temporary folder. Safe to call twice.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const wasStarted = this.#state !== 'idle';
      this.#state = 'stopping';
      if (wasStarted) this.#emit({ type: 'stopping' });
      // a start in progress gives up at its next step; what it started is closed below
      await this.#startWork;
      clearTimeout(this.#reloadTimer);
      for (const watcher of this.#watchers.splice(0)) watcher.close();
      await this.#reloadChain;
      const results = await Promise.allSettled([
        ...[...this.#connectors.values()].map((c) => c.process.stop()),
      ]);
      const closers: (() => Promise<void>)[] = [
        ...(this.#store === undefined ? [] : [() => (this.#store as StateStoreService).close()]),
        ...(this.#registry === undefined
          ? []
          : [() => (this.#registry as SchemaRegistryService).close()]),
        ...(this.#adr === undefined ? [] : [() => (this.#adr as AdrServiceEmulator).close()]),
        ...(this.#services === undefined
          ? []
          : [
              () => (this.#services as MqttSession).close({ timeoutInMs: 2_000, endSession: true }),
            ]),
        ...[...this.#servers.values()].map((server) => () => server.close()),
        ...(this.#broker === undefined ? [] : [() => (this.#broker as EmbeddedBroker).close()]),
      ];
      for (const close of closers) {
        try {
          await close();
        } catch (error) {
          results.push({ status: 'rejected', reason: error });
        }
      }
      if (this.#ownsStateDir && this.#stateDir !== undefined)
        await rm(this.#stateDir, { recursive: true, force: true });
      else for (const connector of this.#connectors.values()) await connector.mount.remove();
      for (const result of results)
        if (result.status === 'rejected')
          this.#logger.warn(
            { err: result.reason as unknown },
            'stopping part of the sandbox failed',
          );
      this.#state = 'stopped';
      if (wasStarted) this.#emit({ type: 'stopped' });
    })();
    return this.#stopping;
  }

  /** Same as {@link Sandbox.stop}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
