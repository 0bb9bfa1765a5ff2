/**
 * `ConnectorBase`: the lifecycle and orchestration shared by every connector — the Akri pod
 * contract, the MQTT session, optional leader election, device and asset discovery from the ADR
 * mount and service, forwarding with schemas and CloudEvents, status and health reporting.
 * Connector authors extend {@link PollingTelemetryConnector} or
 * {@link EventDrivenTelemetryConnector}, not this class directly.
 *
 * @module
 */
import { AioError, ConfigError, isAioError } from '../errors.ts';
import { createJsonLogger, silentLogger, type Logger } from '../logger.ts';
import type { MqttClient, UserProperty } from '../mqtt/mqtt-client.ts';
import { MqttSession } from '../mqtt/mqtt-session.ts';
import { HybridLogicalClock } from '../protocol/hlc.ts';
import { computeBackoff, retry, sleep, type RetryOptions } from '../retry.ts';
import { ConnectorSettings } from '../runtime/connector-settings.ts';
import type { EndpointCredentials } from '../runtime/endpoint-credentials.ts';
import { markNotReady, markReady } from '../runtime/readiness.ts';
import { AdrClient } from '../services/adr/adr-client.ts';
import type { DestinationTokens } from '../services/adr/destinations.ts';
import type {
  AdrConfigError,
  Asset,
  AssetDataset,
  AssetEvent,
  AssetEventGroup,
  AssetStatus,
  AssetStream,
  Device,
  InboundEndpoint,
} from '../services/adr/models.ts';
import { AdrMountMonitor, type AdrMountEvent } from '../services/adr/mount-monitor.ts';
import {
  setConfigStatus,
  setDeviceEndpointStatus,
  toAdrConfigError,
} from '../services/adr/status.ts';
import {
  configurationOf,
  validateAsset,
  type AdrValidationIssue,
} from '../services/adr/validate.ts';
import { LeaderElectionClient } from '../services/leader-election/leader-election-client.ts';
import {
  SchemaRegistryClient,
  schemaRegistryTarget,
} from '../services/schema-registry/schema-registry-client.ts';
import { StateStoreClient } from '../services/state-store/state-store-client.ts';
import { createTelemetry, type Telemetry, type TelemetryOptions } from '../telemetry.ts';
import { aioCloudEventProperties, type SchemaReference } from './aio-cloud-event.ts';
import type { OverflowPolicy } from './bounded-queue.ts';
import { datasetConfiguration, eventConfiguration, samplingIntervalOf } from './configuration.ts';
import type {
  AssetContext,
  DatasetContext,
  EndpointContext,
  EventContext,
  ForwardData,
  StreamContext,
  ForwardOptions,
  HealthReport,
} from './contexts.ts';
import { resolveDestinations, type DestinationDefaults } from './destinations.ts';
import { Forwarder, type ResolvedDestination } from './forwarder.ts';
import {
  SchemaManager,
  type MessageSchema,
  type SchemaMismatchPolicy,
  type SchemaRegistryTarget,
} from './schema-manager.ts';

/** The lifecycle states of a connector. */
export type ConnectorState = 'idle' | 'starting' | 'running' | 'stopping' | 'stopped';

/** Leader election between connector replicas: only the leader serves assets. */
export interface LeaderElectionOptions {
  /** The state store key of the leadership position; unique per connector deployment. */
  readonly positionId: string;
  /** Lease term, in ms. Default: 10 000. */
  readonly termInMs?: number;
  /** Renewal period, in ms (< term). Default: 9 000. */
  readonly renewalInMs?: number;
}

/** When forwarded messages carry CloudEvent headers. */
export type CloudEventMode = 'when-schema-registered' | 'always' | 'never';

/** Options of every connector. Every field is optional. */
export interface ConnectorOptions {
  /** pino-compatible logger. Default: JSON lines on stderr in `run()`, silent otherwise. */
  readonly logger?: Logger;
  /** Settings of the pod contract. Default: `ConnectorSettings.fromEnvironment()` at start. */
  readonly settings?: ConnectorSettings;
  /**
   * An MQTT client to use instead of creating an `MqttSession` from the settings (embedding,
   * tests). The connector does not close it.
   */
  readonly mqttClient?: MqttClient;
  /** Serve assets only while leader of this position. Default: no leader election. */
  readonly leaderElection?: LeaderElectionOptions;
  /** Forwarding: the store-and-forward queue and destination defaults. */
  readonly forwarding?: {
    /** Messages held until acknowledged. Default: 10 000. */
    readonly maxQueueSize?: number;
    /** Default: `drop-oldest`. */
    readonly overflow?: OverflowPolicy;
    /** Concurrent in-flight publishes. Default: 64. */
    readonly maxInflight?: number;
    /** Wait this long for queued messages on stop, in ms. Default: 10 000. */
    readonly drainTimeoutInMs?: number;
  } & DestinationDefaults;
  /** CloudEvent headers on forwarded data. Default: `when-schema-registered` (the .NET rule). */
  readonly cloudEvents?: CloudEventMode;
  /** Message schemas. */
  readonly schemas?: {
    /** Where schemas are registered; `false` turns registration off. Default: the schema registry. */
    readonly registry?: SchemaRegistryTarget | false;
    /** Payloads that do not match an explicit schema. Default: `forward`. */
    readonly mismatchPolicy?: SchemaMismatchPolicy;
  };
  /** Sampling interval when neither dataset nor asset configures one, in ms. Default: 10 000. */
  readonly defaultSamplingIntervalInMs?: number;
  /** Retry of failing samples and restarts of event-driven assets. */
  readonly retry?: Pick<
    RetryOptions,
    'retries' | 'minDelayInMs' | 'maxDelayInMs' | 'jitter' | 'maxRetryAfterInMs'
  >;
  /** Periodic re-send of runtime health, in ms. Default: 10 000 (the .NET value). */
  readonly healthIntervalInMs?: number;
  /** ADR RPC timeout, in ms. Default: 10 000. */
  readonly adrTimeoutInMs?: number;
  /** The ADR resources mount watcher. */
  readonly mountMonitor?: {
    readonly debounceInMs?: number;
    readonly rescanIntervalInMs?: number;
  };
  /** OpenTelemetry, or a ready `Telemetry`. Default: the global providers when installed. */
  readonly telemetry?: TelemetryOptions | Telemetry;
  /** Maintain the readiness probe file. Default: true in `run()`, false otherwise. */
  readonly readiness?: boolean;
  /**
   * The longest a graceful `stop()` may take, in ms; past it, what is left is closed at once (the
   * queue is dropped). Default: 20 000, inside Kubernetes' default 30 s termination grace period.
   */
  readonly stopTimeoutInMs?: number;
}

/** What the connector hands to the work of an asset besides its context. */
export interface AssetRunnerTools {
  readonly telemetry: Telemetry;
  /** The retry options of the connector (`options.retry`). */
  readonly retry: NonNullable<ConnectorOptions['retry']>;
}

/** Runs the connector-specific work of one available asset until `signal` aborts. */
export type AssetRunner = (
  asset: AssetContext,
  signal: AbortSignal,
  tools: AssetRunnerTools,
) => Promise<void>;

/** Exit codes of {@link ConnectorBase.run}. */
export const exitCodes = {
  /** Stopped by SIGTERM/SIGINT or `stop()`. */
  ok: 0,
  /** Could not start: a configuration problem (env var, mount file) or an unexpected error. */
  startupFailure: 1,
  /** The MQTT session was lost or the broker refused us for good; restart the pod. */
  mqttFatal: 2,
} as const;

interface Runtime {
  readonly settings: ConnectorSettings;
  readonly mqtt: MqttClient;
  readonly session: MqttSession | undefined;
  readonly hlc: HybridLogicalClock;
  readonly adr: AdrClient;
  readonly stateStore: StateStoreClient;
  readonly forwarder: Forwarder;
  readonly schemas: SchemaManager;
  readonly telemetry: Telemetry;
  readonly logger: Logger;
}

/** Errors of one dataset or event, by where they came from; the first one is reported. */
interface ElementErrors {
  config?: Error | undefined;
  sample?: Error | undefined;
  schema?: Error | undefined;
  forward?: Error | undefined;
}

interface Element {
  readonly kind: 'dataset' | 'event' | 'stream';
  readonly name: string;
  readonly eventGroupName?: string;
  readonly schemaKey: string;
  readonly destinations: readonly ResolvedDestination[];
  readonly dataSource: string | undefined;
  readonly typeRef: string | undefined;
  readonly errors: ElementErrors;
  schema: SchemaReference | undefined;
  /** Its run stopped: what the run still does (late forwards, acknowledgements) is not reported. */
  retired: boolean;
}

interface DeviceEntry {
  readonly deviceName: string;
  readonly endpointName: string;
  readonly key: string;
  readonly assets: Map<string, AssetEntry>;
  device: Device | undefined;
  endpoint: InboundEndpoint | undefined;
  problem: Error | undefined;
  deleted: boolean;
  readonly controller: AbortController;
}

interface AssetEntry {
  readonly assetName: string;
  readonly device: DeviceEntry;
  readonly key: string;
  asset: Asset | undefined;
  issues: readonly AdrValidationIssue[];
  assetProblem: Error | undefined;
  elements: Map<string, Element>;
  run: { readonly controller: AbortController; readonly task: Promise<void> } | undefined;
  statusWriting: Promise<void> | undefined;
  statusDirty: boolean;
  deleted: boolean;
  /** Aborts the loading of the asset and the writing of its status (the asset is gone). */
  readonly controller: AbortController;
}

/** How long ADR calls may take while assets are torn down on stop or leadership loss, in ms. */
const teardownTimeoutInMs = 5_000;

const elementId = (kind: 'dataset' | 'event' | 'stream', name: string, group?: string): string =>
  kind === 'dataset' ? `d:${name}` : kind === 'stream' ? `s:${name}` : `e:${group ?? ''}/${name}`;

function toBytes(data: ForwardData): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (typeof data === 'string') return new TextEncoder().encode(data);
  const text = JSON.stringify(data);
  if (text === undefined)
    throw new AioError(
      'ERR_AIO_INVALID_ARGUMENT',
      'data to forward must be bytes, a string or JSON-serializable',
    );
  return new TextEncoder().encode(text);
}

function userPropertiesOf(value: ForwardOptions['userProperties']): UserProperty[] {
  if (value === undefined) return [];
  const list: UserProperty[] = Array.isArray(value)
    ? (value as readonly UserProperty[]).map(([n, v]) => [n, v] as const)
    : Object.entries(value as Readonly<Record<string, string>>);
  for (const [name] of list)
    if (name.startsWith('__'))
      throw new AioError(
        'ERR_AIO_INVALID_ARGUMENT',
        `user property "${name}" is reserved (names starting with "__" belong to the SDK)`,
      );
  return list;
}

/**
 * The base of every connector. See the module documentation.
 */
export abstract class ConnectorBase {
  readonly #options: ConnectorOptions;
  readonly #runner: AssetRunner;
  #logger: Logger;
  #ownLogger = false;
  #state: ConnectorState = 'idle';
  #runtime: Runtime | undefined;
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #supervision: Promise<void> | undefined;
  readonly #stop = new AbortController();
  readonly #devices = new Map<string, DeviceEntry>();
  readonly #chains = new Map<string, Promise<void>>();
  #fatal: Error | undefined;
  #resolveClosed!: (error: Error | undefined) => void;
  /** Settles once the connector stopped: with the fatal error that stopped it, if any. Never rejects. */
  readonly closed: Promise<Error | undefined> = new Promise((resolve) => {
    this.#resolveClosed = resolve;
  });

  protected constructor(options: ConnectorOptions, runner: AssetRunner) {
    if (options.leaderElection) {
      const { positionId, termInMs = 10_000, renewalInMs = 9_000 } = options.leaderElection;
      if (typeof positionId !== 'string' || positionId === '')
        throw new TypeError('leaderElection.positionId must be a non-empty string');
      if (renewalInMs >= termInMs)
        throw new ConfigError(
          `leaderElection.renewalInMs (${renewalInMs}) must be smaller than leaderElection.termInMs (${termInMs})`,
          { source: 'options', field: 'leaderElection.renewalInMs' },
        );
    }
    const interval = options.defaultSamplingIntervalInMs;
    if (interval !== undefined && (typeof interval !== 'number' || !(interval >= 1)))
      throw new RangeError(
        `defaultSamplingIntervalInMs must be a number >= 1, received ${String(interval)}`,
      );
    this.#options = Object.freeze({ ...options });
    this.#runner = runner;
    this.#logger = options.logger ?? silentLogger;
  }

  /** The lifecycle state. */
  get state(): ConnectorState {
    return this.#state;
  }

  /** The connector's logger (child loggers are handed to contexts). */
  protected get logger(): Logger {
    return this.#logger;
  }

  /** Forwarding queue statistics. */
  get forwardingStats(): { queued: number; dropped: number; sent: number; failed: number } {
    return this.#runtime?.forwarder.stats() ?? { queued: 0, dropped: 0, sent: 0, failed: 0 };
  }

  // -------------------------------------------------------------------------------------------
  // protected hooks

  /**
   * Checks that a device inbound endpoint can be served by this connector (e.g. the address
   * scheme). Throw (preferably a `ConfigError`) to report the problem on the device endpoint's
   * ADR status; its assets are then not served until the device is fixed. Default: accept.
   */
  protected validateEndpoint(_endpoint: EndpointContext): void | Promise<void> {
    return undefined;
  }

  /**
   * Checks one dataset before it is served. Throw to report the problem on the dataset's ADR
   * status; the other datasets of the asset keep running. Default: accept.
   */
  protected validateDataset(_dataset: DatasetContext): void | Promise<void> {
    return undefined;
  }

  /**
   * Checks one event before it is served. Throw to report the problem on the event's ADR status.
   * Default: accept.
   */
  protected validateEvent(_event: EventContext): void | Promise<void> {
    return undefined;
  }

  /**
   * The message schema of a dataset or event. Return a schema to register it (and validate
   * payloads against it), or `undefined` to infer one from the payloads (the default).
   */
  protected getMessageSchema(
    _target: DatasetContext | EventContext,
  ): MessageSchema | undefined | Promise<MessageSchema | undefined> {
    return undefined;
  }

  // -------------------------------------------------------------------------------------------
  // lifecycle

  /**
   * Runs the connector as the process's main job: reads the pod contract from the environment,
   * connects, serves assets, maintains the readiness file, and stops gracefully on SIGTERM or
   * SIGINT. Resolves with the process exit code (also set as `process.exitCode`):
   * {@link exitCodes}.
   */
  async run(): Promise<number> {
    if (this.#options.logger === undefined) {
      this.#logger = createJsonLogger({ level: 'info' });
      this.#ownLogger = true;
    }
    const onSignal = (name: string) => () => {
      this.#logger.info({ signal: name }, 'stopping');
      void this.stop();
    };
    const onTerm = onSignal('SIGTERM');
    const onInt = onSignal('SIGINT');
    process.once('SIGTERM', onTerm);
    process.once('SIGINT', onInt);
    let code: number = exitCodes.ok;
    try {
      await this.#start(undefined, this.#options.readiness ?? true);
      const fatal = await this.closed;
      if (fatal) {
        this.#logger.fatal({ err: fatal }, 'connector stopped on a fatal error');
        code = exitCodes.mqttFatal;
      }
    } catch (error) {
      // stopped (SIGTERM) while it was still starting, e.g. waiting for the broker: not a failure
      const stopRequested = this.#stop.signal.aborted && this.#fatal === undefined;
      if (!stopRequested) this.#logger.fatal({ err: error }, 'connector failed to start');
      await this.stop();
      code =
        this.#fatal !== undefined
          ? exitCodes.mqttFatal
          : stopRequested
            ? exitCodes.ok
            : exitCodes.startupFailure;
    } finally {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
    }
    process.exitCode = code;
    return code;
  }

  /**
   * Starts the connector (connects and begins serving assets) and resolves once it is running.
   * Calling it again while starting or running returns the same promise.
   */
  start(options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    return this.#start(options.signal, this.#options.readiness ?? false);
  }

  #start(signal: AbortSignal | undefined, readiness: boolean): Promise<void> {
    if (this.#state === 'stopping' || this.#state === 'stopped')
      return Promise.reject(
        new AioError('ERR_AIO_CLOSED', 'the connector was stopped; create a new one'),
      );
    this.#starting ??= (async () => {
      this.#state = 'starting';
      const runtime = await this.#createRuntime(signal);
      this.#runtime = runtime;
      if (this.#stop.signal.aborted) return;
      this.#state = 'running';
      this.#supervision = this.#supervise(runtime).catch((error: unknown) => {
        if (!this.#stop.signal.aborted) {
          this.#logger.error({ err: error }, 'connector supervision failed');
          this.#fail(error instanceof Error ? error : new Error(String(error)));
        }
      });
      if (readiness) await markReady({ logger: this.#logger });
      runtime.logger.info({ clientId: runtime.mqtt.clientId }, 'connector running');
    })();
    return this.#starting;
  }

  /**
   * Stops gracefully: stops serving assets, drains the forwarding queue (up to its drain timeout),
   * turns ADR notifications off, resigns leadership and disconnects. Idempotent; concurrent calls
   * share one promise.
   */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.#state = 'stopping';
      this.#stop.abort(new AioError('ERR_AIO_CLOSED', 'connector stopping'));
      const graceful = this.#stopGracefully();
      // every step waits a bounded time for an absent broker; together they must still fit in
      // the pod's termination grace period, so past the deadline the rest is cut short
      const deadline = this.#options.stopTimeoutInMs ?? 20_000;
      let timer: NodeJS.Timeout | undefined;
      const late = await Promise.race([
        graceful.then(() => false),
        new Promise<boolean>((resolve) => {
          timer = setTimeout(() => {
            resolve(true);
          }, deadline);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
      if (late) {
        this.#logger.warn(
          { stopTimeoutInMs: deadline },
          'graceful stop took too long; closing at once',
        );
        this.#runtime?.forwarder.destroy();
        this.#runtime?.session?.destroy();
        await graceful;
      }
      await markNotReady({ logger: this.#logger }).catch(() => undefined);
      this.#state = 'stopped';
      this.#resolveClosed(this.#fatal);
    })();
    return this.#stopping;
  }

  async #stopGracefully(): Promise<void> {
    await this.#starting?.catch(() => undefined);
    await this.#supervision;
    const runtime = this.#runtime;
    if (!runtime) return;
    await runtime.forwarder.close();
    await runtime.adr.close().catch(() => undefined);
    // its UNSUBSCRIBEs wait for a broker that is away: closing the session ends them
    await settleWithin(runtime.stateStore.close(), teardownTimeoutInMs);
    if (runtime.session) await runtime.session.close().catch(() => undefined);
  }

  /** Stops at once: aborts everything and drops what is queued. */
  destroy(): void {
    this.#stop.abort(new AioError('ERR_AIO_CLOSED', 'connector destroyed'));
    const runtime = this.#runtime;
    runtime?.forwarder.destroy();
    runtime?.session?.destroy();
    void this.stop();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  #fail(error: Error): void {
    this.#fatal ??= error;
    void this.stop();
  }

  async #createRuntime(signal: AbortSignal | undefined): Promise<Runtime> {
    const options = this.#options;
    // stop() gives up a start still waiting (for the mounts, for a broker that is down)
    const abort =
      signal === undefined ? this.#stop.signal : AbortSignal.any([signal, this.#stop.signal]);
    const settings =
      options.settings ??
      (await ConnectorSettings.fromEnvironment(process.env, {
        signal: abort,
        logger: this.#logger,
      }));
    // run() logs JSON lines at the level of the Akri DIAGNOSTICS file when it names one
    if (this.#ownLogger && settings.logLevel !== undefined)
      this.#logger = createJsonLogger({ level: settings.logLevel });
    const logger = this.#logger.child({ connector: settings.connectorId });
    this.#logger = logger;
    let session: MqttSession | undefined;
    let adr: AdrClient | undefined;
    let stateStore: StateStoreClient | undefined;
    let forwarder: Forwarder | undefined;
    try {
      let mqtt: MqttClient;
      if (options.mqttClient) mqtt = options.mqttClient;
      else {
        session = new MqttSession(settings.mqtt, { logger });
        await session.connect({ signal: abort });
        void session.closed.then((error) => {
          if (error) this.#fail(error);
        });
        mqtt = session;
      }
      const hlc = new HybridLogicalClock();
      adr = new AdrClient(mqtt, {
        hlc,
        logger,
        ...(options.adrTimeoutInMs === undefined ? {} : { timeoutInMs: options.adrTimeoutInMs }),
        ...(options.healthIntervalInMs === undefined
          ? {}
          : { healthIntervalInMs: options.healthIntervalInMs }),
      });
      await adr.start({ signal: abort });
      stateStore = new StateStoreClient(mqtt, { hlc, logger });
      const telemetry =
        options.telemetry && 'recordSample' in options.telemetry
          ? options.telemetry
          : await createTelemetry(options.telemetry ?? {});
      const { maxQueueSize, overflow, maxInflight, drainTimeoutInMs } = options.forwarding ?? {};
      forwarder = new Forwarder(mqtt, hlc, {
        stateStore,
        logger,
        telemetry,
        ...(maxQueueSize === undefined ? {} : { maxQueueSize }),
        ...(overflow === undefined ? {} : { overflow }),
        ...(maxInflight === undefined ? {} : { maxInflight }),
        ...(drainTimeoutInMs === undefined ? {} : { drainTimeoutInMs }),
      });
      const registry =
        options.schemas?.registry === false
          ? undefined
          : (options.schemas?.registry ??
            schemaRegistryTarget(new SchemaRegistryClient(mqtt, { hlc, logger })));
      const schemas = new SchemaManager({
        ...(registry === undefined ? {} : { registry }),
        ...(options.schemas?.mismatchPolicy === undefined
          ? {}
          : { mismatchPolicy: options.schemas.mismatchPolicy }),
        logger,
        telemetry,
      });
      return {
        settings,
        mqtt,
        session,
        hlc,
        adr,
        stateStore,
        forwarder,
        schemas,
        telemetry,
        logger,
      };
    } catch (error) {
      // nothing of a runtime that could not be completed may stay open
      forwarder?.destroy();
      await stateStore?.close().catch(() => undefined);
      await adr?.close().catch(() => undefined);
      session?.destroy();
      throw error;
    }
  }

  // -------------------------------------------------------------------------------------------
  // leadership and observation

  async #supervise(runtime: Runtime): Promise<void> {
    const stop = this.#stop.signal;
    const election = this.#options.leaderElection;
    if (!election) {
      await this.#observe(runtime, stop);
      return;
    }
    const client = new LeaderElectionClient(runtime.stateStore, {
      positionId: election.positionId,
      candidateName: runtime.mqtt.clientId,
      ...(election.termInMs === undefined ? {} : { termInMs: election.termInMs }),
      ...(election.renewalInMs === undefined ? {} : { renewalInMs: election.renewalInMs }),
      logger: runtime.logger,
    });
    let campaignFailures = 0;
    try {
      while (!stop.aborted) {
        try {
          await client.campaign({ signal: stop });
        } catch (error) {
          if (stop.aborted) break;
          // the state store is unreachable for longer than the lease retry policy: keep campaigning
          campaignFailures += 1;
          const delayInMs = computeBackoff(campaignFailures, {
            minDelayInMs: 1_000,
            maxDelayInMs: 30_000,
          });
          runtime.logger.warn(
            { err: error, delayInMs },
            'leader election campaign failed; retrying',
          );
          await sleep(delayInMs, stop).catch(() => undefined);
          continue;
        }
        campaignFailures = 0;
        const term = new AbortController();
        const onStop = (): void => {
          term.abort(stop.reason);
        };
        stop.addEventListener('abort', onStop, { once: true });
        const off = client.onLeadershipChange((event) => {
          if (!event.isLeader) term.abort(new AioError('ERR_AIO_CLOSED', 'leadership lost'));
        });
        if (!client.isLeader) term.abort(new AioError('ERR_AIO_CLOSED', 'leadership lost'));
        runtime.logger.info(
          { positionId: election.positionId },
          'leadership acquired: serving assets',
        );
        try {
          await this.#observe(runtime, term.signal);
        } finally {
          off();
          stop.removeEventListener('abort', onStop);
        }
        if (!stop.aborted)
          runtime.logger.warn(
            { positionId: election.positionId },
            'leadership lost: assets stopped',
          );
      }
    } finally {
      // resign so that a replica takes over at once; a broker that is away only delays the stop
      if (client.isLeader)
        await client
          .resign({ signal: AbortSignal.timeout(teardownTimeoutInMs) })
          .catch(() => undefined);
      await client.close().catch(() => undefined);
    }
  }

  /** Serves the devices and assets of the mount until `signal` aborts, then tears them down. */
  async #observe(runtime: Runtime, signal: AbortSignal): Promise<void> {
    const settings = runtime.settings;
    const { debounceInMs, rescanIntervalInMs } = this.#options.mountMonitor ?? {};
    const monitor = new AdrMountMonitor(settings.adrResourcesNameMountPath, {
      logger: runtime.logger,
      ...(debounceInMs === undefined ? {} : { debounceInMs }),
      ...(rescanIntervalInMs === undefined ? {} : { rescanIntervalInMs }),
    });
    const offDevice = runtime.adr.onDeviceUpdate((event) => {
      const entry = this.#devices.get(`${event.deviceName}_${event.endpointName}`);
      if (entry) this.#enqueue(entry.key, () => this.#deviceUpdated(runtime, entry, event.device));
    });
    const offAsset = runtime.adr.onAssetUpdate((event) => {
      const device = this.#devices.get(`${event.deviceName}_${event.endpointName}`);
      const entry = device?.assets.get(event.assetName);
      if (entry) this.#enqueue(entry.key, () => this.#assetUpdated(runtime, entry, event.asset));
    });
    try {
      for await (const event of monitor.start({ signal })) this.#dispatch(runtime, event);
    } catch (error) {
      if (!signal.aborted) throw error;
    } finally {
      offDevice();
      offAsset();
      await monitor.stop();
      await this.#teardownAll(runtime);
    }
  }

  #dispatch(runtime: Runtime, event: AdrMountEvent): void {
    const deviceKey = `${event.deviceName}_${event.endpointName}`;
    switch (event.type) {
      case 'deviceCreated': {
        const entry: DeviceEntry = {
          deviceName: event.deviceName,
          endpointName: event.endpointName,
          key: deviceKey,
          assets: new Map(),
          device: undefined,
          endpoint: undefined,
          problem: undefined,
          deleted: false,
          controller: new AbortController(),
        };
        this.#devices.set(deviceKey, entry);
        this.#enqueue(deviceKey, () => this.#loadDevice(runtime, entry));
        return;
      }
      case 'deviceDeleted': {
        const entry = this.#devices.get(deviceKey);
        if (!entry) return;
        entry.deleted = true;
        entry.controller.abort();
        this.#devices.delete(deviceKey);
        this.#enqueue(deviceKey, () => this.#deleteDevice(runtime, entry, false));
        return;
      }
      case 'assetCreated': {
        const device = this.#devices.get(deviceKey);
        if (!device) {
          runtime.logger.warn(
            { device: deviceKey, asset: event.assetName },
            'asset of an unknown device ignored',
          );
          return;
        }
        const entry: AssetEntry = {
          assetName: event.assetName,
          device,
          key: `${deviceKey}_${event.assetName}`,
          asset: undefined,
          issues: [],
          assetProblem: undefined,
          elements: new Map(),
          run: undefined,
          statusWriting: undefined,
          statusDirty: false,
          deleted: false,
          controller: new AbortController(),
        };
        device.assets.set(event.assetName, entry);
        const deviceReady = this.#chains.get(deviceKey) ?? Promise.resolve();
        this.#enqueue(entry.key, async () => {
          await deviceReady;
          await this.#loadAsset(runtime, entry);
        });
        return;
      }
      case 'assetDeleted': {
        const entry = this.#devices.get(deviceKey)?.assets.get(event.assetName);
        if (!entry) return;
        entry.deleted = true;
        // stops a load still being retried; its status is not written any more
        entry.controller.abort();
        entry.device.assets.delete(event.assetName);
        this.#enqueue(entry.key, () => this.#deleteAsset(runtime, entry, false));
        return;
      }
    }
  }

  /** Runs `task` after the previous task of the same entity; errors are logged, never thrown. */
  #enqueue(key: string, task: () => Promise<void>): void {
    void this.#chain(key, task);
  }

  /** {@link ConnectorBase.#enqueue}, resolving once the task has run. */
  #chain(key: string, task: () => Promise<void>): Promise<void> {
    const previous = this.#chains.get(key) ?? Promise.resolve();
    const next = previous.then(task).catch((error: unknown) => {
      if (!(isAioError(error) && error.code === 'ERR_AIO_ABORTED'))
        this.#logger.error({ err: error, entity: key }, 'device/asset notification failed');
    });
    this.#chains.set(key, next);
    void next.then(() => {
      if (this.#chains.get(key) === next) this.#chains.delete(key);
    });
    return next;
  }

  async #teardownAll(runtime: Runtime): Promise<void> {
    const devices = [...this.#devices.values()];
    // first stop what is still loading (a definition retried while ADR fails would never end on
    // leadership loss) and every asset's work
    for (const entry of devices) entry.controller.abort();
    await Promise.all(this.#chains.values());
    this.#devices.clear();
    await Promise.all(devices.map((entry) => this.#deleteDevice(runtime, entry, true)));
    await Promise.all(this.#chains.values());
  }

  // -------------------------------------------------------------------------------------------
  // devices

  #loadOptions(signal: AbortSignal): RetryOptions {
    return {
      retries: Infinity,
      minDelayInMs: 1_000,
      maxDelayInMs: 60_000,
      signal,
      logger: this.#logger,
      operation: 'load definition',
    };
  }

  async #loadDevice(runtime: Runtime, entry: DeviceEntry): Promise<void> {
    const { deviceName, endpointName } = entry;
    const signal = AbortSignal.any([entry.controller.signal, this.#stop.signal]);
    let device: Device;
    try {
      device = await retry(async () => {
        await runtime.adr.setDeviceUpdateNotifications(deviceName, endpointName, 'On', { signal });
        return runtime.adr.getDevice(deviceName, endpointName, { signal });
      }, this.#loadOptions(signal));
    } catch (error) {
      if (signal.aborted) return;
      entry.problem = error instanceof Error ? error : new Error(String(error));
      runtime.logger.error(
        { err: error, device: deviceName, endpoint: endpointName },
        'device definition unusable',
      );
      await this.#writeDeviceStatus(runtime, entry);
      return;
    }
    await this.#applyDevice(runtime, entry, device);
  }

  async #applyDevice(runtime: Runtime, entry: DeviceEntry, device: Device): Promise<void> {
    const endpoint = device.endpoints?.inbound?.[entry.endpointName];
    entry.device = device;
    entry.endpoint = endpoint;
    entry.problem = undefined;
    if (!endpoint)
      entry.problem = new ConfigError(
        `device "${entry.deviceName}" has no inbound endpoint "${entry.endpointName}"`,
        {
          source: `device "${entry.deviceName}"`,
          field: `endpoints.inbound.${entry.endpointName}`,
        },
      );
    else {
      try {
        await this.validateEndpoint(this.#endpointContext(runtime, entry));
      } catch (error) {
        entry.problem = error instanceof Error ? error : new Error(String(error));
      }
    }
    if (entry.problem)
      runtime.logger.warn(
        { err: entry.problem, device: entry.deviceName, endpoint: entry.endpointName },
        'device endpoint cannot be served',
      );
    await this.#writeDeviceStatus(runtime, entry);
  }

  async #writeDeviceStatus(runtime: Runtime, entry: DeviceEntry): Promise<void> {
    const error = entry.problem ? toAdrConfigError(entry.problem, codeOf(entry.problem)) : null;
    // a deleted device (or one torn down on stop or leadership loss) is not written any more
    const signal = entry.controller.signal;
    try {
      await runtime.adr.updateDeviceStatusWith(
        entry.deviceName,
        entry.endpointName,
        (current) =>
          setDeviceEndpointStatus(
            setConfigStatus(current, {
              error: null,
              lastTransitionTime: new Date().toISOString(),
              ...(entry.device?.version === undefined ? {} : { version: entry.device.version }),
            }),
            entry.endpointName,
            { error },
          ),
        { signal },
      );
    } catch (statusError) {
      if (!signal.aborted)
        runtime.logger.warn(
          { err: statusError, device: entry.deviceName },
          'device status update failed',
        );
    }
    if (signal.aborted) return;
    runtime.adr.health.reportDeviceEndpoint(
      entry.deviceName,
      entry.endpointName,
      entry.problem
        ? {
            status: 'Unavailable',
            message: entry.problem.message,
            reasonCode: reasonCodeOf(entry.problem),
          }
        : { status: 'Available' },
      entry.device?.version ?? 0,
    );
  }

  async #deviceUpdated(runtime: Runtime, entry: DeviceEntry, device: Device): Promise<void> {
    if (entry.deleted) return;
    const before = JSON.stringify(entry.endpoint ?? null);
    const wasUsable = entry.device !== undefined && entry.problem === undefined;
    await this.#applyDevice(runtime, entry, device);
    const usable = entry.problem === undefined;
    const changed = before !== JSON.stringify(entry.endpoint ?? null);
    // The .NET SDK only swaps the cached device; a changed endpoint (address, credentials, trust
    // list) restarts the device's assets so the change takes effect.
    for (const asset of entry.assets.values()) {
      if (asset.asset === undefined) continue;
      if (!usable) this.#enqueue(asset.key, () => this.#stopAsset(asset));
      else if (!wasUsable || changed)
        this.#enqueue(asset.key, async () => {
          await this.#stopAsset(asset);
          await this.#startAsset(runtime, asset);
        });
    }
  }

  async #deleteDevice(runtime: Runtime, entry: DeviceEntry, unobserve: boolean): Promise<void> {
    const assets = [...entry.assets.values()];
    entry.assets.clear();
    // each asset is deleted after what is queued for it (an update being applied), never during
    await Promise.all(
      assets.map((asset) => {
        asset.deleted = true;
        if (!unobserve) asset.controller.abort();
        return this.#chain(asset.key, () => this.#deleteAsset(runtime, asset, unobserve));
      }),
    );
    if (unobserve)
      await runtime.adr
        .setDeviceUpdateNotifications(entry.deviceName, entry.endpointName, 'Off', {
          signal: AbortSignal.timeout(5_000),
        })
        .catch(() => undefined);
    runtime.adr.forgetDevice(entry.deviceName, entry.endpointName);
  }

  #endpointContext(runtime: Runtime, entry: DeviceEntry): EndpointContext {
    const settings = runtime.settings;
    const endpoint = entry.endpoint as InboundEndpoint;
    const logger = runtime.logger.child({ device: entry.deviceName, endpoint: entry.endpointName });
    let configuration: Readonly<Record<string, unknown>> | undefined;
    return {
      deviceName: entry.deviceName,
      endpointName: entry.endpointName,
      // the latest definition: a device update that keeps the endpoint does not restart assets
      get device() {
        return entry.device as Device;
      },
      endpoint,
      get configuration() {
        configuration ??= Object.freeze(configurationOf(endpoint));
        return configuration;
      },
      readCredentials: (options = {}): Promise<EndpointCredentials> =>
        settings.readEndpointCredentials(
          {
            deviceName: entry.deviceName,
            inboundEndpointName: entry.endpointName,
            authentication: endpoint.authentication,
            trustSettings: endpoint.trustSettings,
          },
          options,
        ),
      logger,
    };
  }

  // -------------------------------------------------------------------------------------------
  // assets

  async #loadAsset(runtime: Runtime, entry: AssetEntry): Promise<void> {
    const { deviceName, endpointName } = entry.device;
    const signal = AbortSignal.any([
      entry.controller.signal,
      entry.device.controller.signal,
      this.#stop.signal,
    ]);
    let raw: unknown;
    try {
      raw = await retry(async () => {
        await runtime.adr.setAssetUpdateNotifications(
          deviceName,
          endpointName,
          entry.assetName,
          'On',
          { signal },
        );
        return runtime.adr.getAssetDefinition(deviceName, endpointName, entry.assetName, {
          signal,
        });
      }, this.#loadOptions(signal));
    } catch (error) {
      if (signal.aborted) return;
      entry.assetProblem = error instanceof Error ? error : new Error(String(error));
      runtime.logger.error(
        { err: error, asset: entry.assetName },
        'asset definition could not be read',
      );
      this.#scheduleStatus(runtime, entry);
      return;
    }
    if (entry.deleted) return;
    this.#acceptAsset(entry, raw);
    await this.#startAsset(runtime, entry);
  }

  /** Validates a raw asset definition, keeping the parts that are valid. */
  #acceptAsset(entry: AssetEntry, raw: unknown): void {
    const { asset, issues } = validateAsset(raw, { assetName: entry.assetName });
    entry.issues = issues;
    const assetIssues = issues.filter((issue) => issue.scope.kind === 'asset');
    entry.assetProblem =
      asset === undefined
        ? new ConfigError(
            assetIssues.map((issue) => issue.message).join('; ') ||
              `asset "${entry.assetName}" is invalid`,
            {
              source: `asset "${entry.assetName}"`,
            },
          )
        : undefined;
    entry.asset = asset ?? (raw as Asset);
  }

  async #assetUpdated(runtime: Runtime, entry: AssetEntry, asset: Asset): Promise<void> {
    if (entry.deleted) return;
    await this.#stopAsset(entry);
    runtime.adr.health.pause(entry.device.deviceName, entry.device.endpointName, entry.assetName);
    this.#acceptAsset(entry, asset);
    await this.#startAsset(runtime, entry);
  }

  async #deleteAsset(runtime: Runtime, entry: AssetEntry, unobserve: boolean): Promise<void> {
    // A deleted asset's status is not written any more (ADR no longer has it). On stop or
    // leadership loss, a status write still in flight gets a few seconds, not the ADR client's
    // retries against a broker that may be away.
    if (!unobserve) entry.controller.abort();
    const grace = unobserve
      ? setTimeout(() => {
          entry.controller.abort();
        }, teardownTimeoutInMs)
      : undefined;
    grace?.unref();
    try {
      await this.#stopAsset(entry);
      for (const element of entry.elements.values()) runtime.schemas.delete(element.schemaKey);
      const { deviceName, endpointName } = entry.device;
      if (unobserve)
        await runtime.adr
          .setAssetUpdateNotifications(deviceName, endpointName, entry.assetName, 'Off', {
            signal: AbortSignal.timeout(teardownTimeoutInMs),
          })
          .catch(() => undefined);
      await entry.statusWriting;
    } finally {
      clearTimeout(grace);
    }
    runtime.adr.forgetAsset(entry.device.deviceName, entry.device.endpointName, entry.assetName);
  }

  async #stopAsset(entry: AssetEntry): Promise<void> {
    // what the stopped run still does (late forwards, acknowledgements) is not reported
    for (const element of entry.elements.values()) element.retired = true;
    const run = entry.run;
    if (!run) return;
    entry.run = undefined;
    run.controller.abort(new AioError('ERR_AIO_CLOSED', `asset "${entry.assetName}" stopped`));
    await run.task;
  }

  async #startAsset(runtime: Runtime, entry: AssetEntry): Promise<void> {
    const device = entry.device;
    const asset = entry.asset;
    if (entry.deleted || device.deleted || device.controller.signal.aborted || asset === undefined)
      return;
    if (device.device === undefined || device.problem !== undefined) {
      runtime.logger.info(
        { asset: entry.assetName },
        'asset waits for its device endpoint to become usable',
      );
      this.#scheduleStatus(runtime, entry);
      return;
    }
    const logger = runtime.logger.child({
      device: device.deviceName,
      endpoint: device.endpointName,
      asset: entry.assetName,
    });
    const endpointContext = this.#endpointContext(runtime, device);
    entry.elements = new Map();
    const datasets: DatasetContext[] = [];
    const events: EventContext[] = [];
    const streams: StreamContext[] = [];
    const assetContext = this.#assetContext(
      runtime,
      entry,
      endpointContext,
      { datasets, events, streams },
      logger,
    );
    const tokens: DestinationTokens = {
      deviceName: device.deviceName,
      inboundEndpointName: device.endpointName,
      assetName: entry.assetName,
      ...(runtime.settings.connectorNamespace === undefined
        ? {}
        : { kubernetesNamespace: runtime.settings.connectorNamespace }),
    };
    const defaults = this.#options.forwarding ?? {};
    if (entry.assetProblem === undefined) {
      for (const dataset of asset.datasets ?? []) {
        const element = await this.#prepareDataset(
          runtime,
          entry,
          assetContext,
          dataset,
          tokens,
          defaults,
          logger,
        );
        if (element.context) datasets.push(element.context);
      }
      for (const group of asset.eventGroups ?? [])
        for (const event of group.events ?? []) {
          const element = await this.#prepareEvent(
            runtime,
            entry,
            assetContext,
            group,
            event,
            tokens,
            defaults,
            logger,
          );
          if (element.context) events.push(element.context);
        }
      for (const stream of asset.streams ?? []) {
        const element = this.#prepareStream(
          runtime,
          entry,
          assetContext,
          stream,
          tokens,
          defaults,
          logger,
        );
        if (element.context) streams.push(element.context);
      }
    }
    // deleted (or torn down) while its datasets and events were being prepared
    if (entry.deleted || device.controller.signal.aborted) return;
    this.#scheduleStatus(runtime, entry);
    if (entry.assetProblem !== undefined) {
      logger.warn({ err: entry.assetProblem }, 'asset definition is invalid; not served');
      return;
    }
    if (asset.enabled === false) {
      logger.info('asset is disabled; not served');
      return;
    }
    const controller = new AbortController();
    const signal = AbortSignal.any([
      controller.signal,
      device.controller.signal,
      this.#stop.signal,
    ]);
    const task = this.#runner(assetContext, signal, {
      telemetry: runtime.telemetry,
      retry: this.#options.retry ?? {},
    }).catch((error: unknown) => {
      if (!signal.aborted) logger.error({ err: error }, 'asset work failed');
    });
    entry.run = { controller, task };
    logger.info(
      { datasets: datasets.length, events: events.length, streams: streams.length },
      'asset available',
    );
  }

  async #prepareDataset(
    runtime: Runtime,
    entry: AssetEntry,
    assetContext: AssetContext,
    dataset: AssetDataset,
    tokens: DestinationTokens,
    defaults: DestinationDefaults,
    logger: Logger,
  ): Promise<{ context: DatasetContext | undefined }> {
    const asset = entry.asset as Asset;
    const source = `asset "${entry.assetName}" dataset "${dataset.name}"`;
    const element: Element = {
      kind: 'dataset',
      name: dataset.name,
      schemaKey: `${entry.key}_${dataset.name}`,
      destinations: [],
      dataSource: dataset.dataSource,
      typeRef: dataset.typeRef,
      errors: {},
      schema: undefined,
      retired: false,
    };
    entry.elements.set(elementId('dataset', dataset.name), element);
    try {
      const configuration = Object.freeze(datasetConfiguration(asset, dataset));
      const samplingIntervalInMs = samplingIntervalOf(
        asset,
        dataset,
        this.#options.defaultSamplingIntervalInMs ?? 10_000,
        `asset "${entry.assetName}"`,
      );
      const destinations = dataset.destinations ?? asset.defaultDatasetsDestinations ?? [];
      if (destinations.length === 0)
        throw new ConfigError(
          `${source} has no destinations and the asset has no defaultDatasetsDestinations`,
          {
            source,
            field: 'destinations',
          },
        );
      (element as { destinations: readonly ResolvedDestination[] }).destinations =
        resolveDestinations(
          destinations,
          { ...tokens, datasetName: dataset.name },
          source,
          defaults,
        );
      const context: DatasetContext = {
        name: dataset.name,
        dataset,
        asset: assetContext,
        endpoint: assetContext.endpoint,
        configuration,
        samplingIntervalInMs,
        get schema() {
          return element.schema;
        },
        logger: logger.child({ dataset: dataset.name }),
        forward: (data, options) => this.#forward(runtime, entry, element, data, options),
        reportError: (error) => this.#setElementError(runtime, entry, element, 'sample', error),
        reportHealth: (health) => {
          this.#reportHealth(runtime, entry, element, health);
        },
      };
      await this.validateDataset(context);
      runtime.schemas.define(element.schemaKey, await this.getMessageSchema(context));
      return { context };
    } catch (error) {
      element.errors.config = error instanceof Error ? error : new Error(String(error));
      logger.warn({ err: error, dataset: dataset.name }, 'dataset cannot be served');
      this.#reportHealth(runtime, entry, element);
      return { context: undefined };
    }
  }

  async #prepareEvent(
    runtime: Runtime,
    entry: AssetEntry,
    assetContext: AssetContext,
    group: AssetEventGroup,
    event: AssetEvent,
    tokens: DestinationTokens,
    defaults: DestinationDefaults,
    logger: Logger,
  ): Promise<{ context: EventContext | undefined }> {
    const asset = entry.asset as Asset;
    const source = `asset "${entry.assetName}" event "${group.name}/${event.name}"`;
    const element: Element = {
      kind: 'event',
      name: event.name,
      eventGroupName: group.name,
      schemaKey: `${entry.key}_${group.name}_${event.name}`,
      destinations: [],
      dataSource: event.dataSource ?? group.dataSource,
      typeRef: event.typeRef,
      errors: {},
      schema: undefined,
      retired: false,
    };
    entry.elements.set(elementId('event', event.name, group.name), element);
    try {
      const configuration = Object.freeze(eventConfiguration(asset, group, event));
      const destinations =
        event.destinations ?? group.defaultDestinations ?? asset.defaultEventsDestinations ?? [];
      if (destinations.length === 0)
        throw new ConfigError(
          `${source} has no destinations, and neither its event group nor the asset has default destinations`,
          { source, field: 'destinations' },
        );
      (element as { destinations: readonly ResolvedDestination[] }).destinations =
        resolveDestinations(
          destinations,
          { ...tokens, eventGroupName: group.name, eventName: event.name },
          source,
          defaults,
        );
      const context: EventContext = {
        name: event.name,
        eventGroupName: group.name,
        eventGroup: group,
        event,
        asset: assetContext,
        endpoint: assetContext.endpoint,
        configuration,
        get schema() {
          return element.schema;
        },
        logger: logger.child({ eventGroup: group.name, event: event.name }),
        forward: (data, options) => this.#forward(runtime, entry, element, data, options),
        reportError: (error) => this.#setElementError(runtime, entry, element, 'sample', error),
        reportHealth: (health) => {
          this.#reportHealth(runtime, entry, element, health);
        },
      };
      await this.validateEvent(context);
      runtime.schemas.define(element.schemaKey, await this.getMessageSchema(context));
      return { context };
    } catch (error) {
      element.errors.config = error instanceof Error ? error : new Error(String(error));
      logger.warn(
        { err: error, eventGroup: group.name, event: event.name },
        'event cannot be served',
      );
      this.#reportHealth(runtime, entry, element);
      return { context: undefined };
    }
  }

  #prepareStream(
    runtime: Runtime,
    entry: AssetEntry,
    assetContext: AssetContext,
    stream: AssetStream,
    tokens: DestinationTokens,
    defaults: DestinationDefaults,
    logger: Logger,
  ): { context: StreamContext | undefined } {
    const asset = entry.asset as Asset;
    const source = `asset "${entry.assetName}" stream "${stream.name}"`;
    const element: Element = {
      kind: 'stream',
      name: stream.name,
      schemaKey: `${entry.key}_${stream.name}`,
      destinations: [],
      dataSource: undefined,
      typeRef: stream.typeRef,
      errors: {},
      schema: undefined,
      retired: false,
    };
    entry.elements.set(elementId('stream', stream.name), element);
    try {
      const configuration = Object.freeze({
        ...configurationOf(asset, 'defaultStreamsConfiguration'),
        ...configurationOf(stream),
      });
      const destinations = stream.destinations ?? asset.defaultStreamsDestinations ?? [];
      if (destinations.length === 0)
        throw new ConfigError(
          `${source} has no destinations and the asset has no defaultStreamsDestinations`,
          { source, field: 'destinations' },
        );
      (element as { destinations: readonly ResolvedDestination[] }).destinations =
        resolveDestinations(destinations, { ...tokens, streamName: stream.name }, source, defaults);
      runtime.schemas.define(element.schemaKey, undefined);
      const context: StreamContext = {
        name: stream.name,
        stream,
        asset: assetContext,
        endpoint: assetContext.endpoint,
        configuration,
        get schema() {
          return element.schema;
        },
        logger: logger.child({ stream: stream.name }),
        forward: (data, options) => this.#forward(runtime, entry, element, data, options),
        reportError: (error) => this.#setElementError(runtime, entry, element, 'sample', error),
        reportHealth: (health) => {
          this.#reportHealth(runtime, entry, element, health);
        },
      };
      return { context };
    } catch (error) {
      element.errors.config = error instanceof Error ? error : new Error(String(error));
      logger.warn({ err: error, stream: stream.name }, 'stream cannot be served');
      this.#reportHealth(runtime, entry, element);
      return { context: undefined };
    }
  }

  #assetContext(
    runtime: Runtime,
    entry: AssetEntry,
    endpoint: EndpointContext,
    {
      datasets,
      events,
      streams,
    }: {
      readonly datasets: readonly DatasetContext[];
      readonly events: readonly EventContext[];
      readonly streams: readonly StreamContext[];
    },
    logger: Logger,
  ): AssetContext {
    const find = <T>(list: readonly T[], match: (item: T) => boolean, what: string): T => {
      const found = list.find(match);
      if (!found)
        throw new RangeError(`asset "${entry.assetName}" has no ${what} that can be served`);
      return found;
    };
    return {
      ...endpoint,
      get device() {
        return entry.device.device as Device;
      },
      configuration: endpoint.configuration,
      readCredentials: (credentialOptions) => endpoint.readCredentials(credentialOptions),
      assetName: entry.assetName,
      asset: entry.asset as Asset,
      datasets,
      events,
      streams,
      stateStore: runtime.stateStore,
      telemetry: runtime.telemetry,
      logger,
      dataset: (name) => find(datasets, (d) => d.name === name, `dataset "${name}"`),
      event: (group, name) =>
        find(
          events,
          (e) => e.eventGroupName === group && e.name === name,
          `event "${group}/${name}"`,
        ),
      stream: (name) => find(streams, (d) => d.name === name, `stream "${name}"`),
      forwardStream: (name, data, options) =>
        find(streams, (d) => d.name === name, `stream "${name}"`).forward(data, options),
      forwardDataset: (name, data, options) =>
        find(datasets, (d) => d.name === name, `dataset "${name}"`).forward(data, options),
      forwardEvent: (group, name, data, options) =>
        find(
          events,
          (e) => e.eventGroupName === group && e.name === name,
          `event "${group}/${name}"`,
        ).forward(data, options),
    };
  }

  // -------------------------------------------------------------------------------------------
  // forwarding

  async #forward(
    runtime: Runtime,
    entry: AssetEntry,
    element: Element,
    data: ForwardData,
    options: ForwardOptions = {},
  ): Promise<void> {
    const payload = toBytes(data);
    const userProperties = userPropertiesOf(options.userProperties);
    const signal = options.signal;
    this.#checkServed(entry, element);
    const decision = await runtime.schemas.prepare(
      element.schemaKey,
      payload,
      signal === undefined ? {} : { signal },
    );
    this.#checkServed(entry, element);
    if (decision.schema && decision.schema !== element.schema) {
      element.schema = decision.schema;
      this.#scheduleStatus(runtime, entry);
    }
    await this.#setElementError(runtime, entry, element, 'schema', decision.problem);
    if (!decision.forward) return;
    const mode = this.#options.cloudEvents ?? 'when-schema-registered';
    const device = entry.device;
    const cloudEvent =
      mode === 'always' || (mode === 'when-schema-registered' && decision.schema)
        ? aioCloudEventProperties({
            kind: element.kind,
            deviceName: device.deviceName,
            inboundEndpointName: device.endpointName,
            device: device.device ?? {},
            assetName: entry.assetName,
            asset: entry.asset ?? {},
            name: element.name,
            ...(element.eventGroupName === undefined
              ? {}
              : { eventGroupName: element.eventGroupName }),
            ...(element.dataSource === undefined ? {} : { dataSource: element.dataSource }),
            ...(element.typeRef === undefined ? {} : { typeRef: element.typeRef }),
            ...(options.protocolSpecificIdentifier === undefined
              ? {}
              : { protocolSpecificIdentifier: options.protocolSpecificIdentifier }),
            ...(decision.schema === undefined ? {} : { schema: decision.schema }),
            time: new Date(runtime.hlc.value.timestamp),
          })
        : undefined;
    const attributes = {
      'aio.device': device.deviceName,
      'aio.asset': entry.assetName,
      [`aio.${element.kind}`]: element.name,
    };
    if (element.kind === 'event') runtime.telemetry.recordEvent(attributes);
    const span = runtime.telemetry.startSpan(`forward ${element.name}`, attributes);
    try {
      const delivery = await runtime.forwarder.submit(
        {
          destinations: element.destinations,
          payload,
          ...(options.contentType === undefined ? {} : { contentType: options.contentType }),
          ...(cloudEvent === undefined ? {} : { cloudEvent }),
          traceContext: span.traceProperties(),
          userProperties,
          attributes,
          onFailure: (error) => {
            void this.#setElementError(runtime, entry, element, 'forward', error);
          },
        },
        signal === undefined ? {} : { signal },
      );
      const acknowledged = delivery.acknowledged.then(() =>
        this.#setElementError(runtime, entry, element, 'forward', undefined),
      );
      if (options.waitForAck) await acknowledged;
      else acknowledged.catch(() => undefined);
    } catch (error) {
      span.fail(error);
      if (!(isAioError(error) && error.code === 'ERR_AIO_ABORTED'))
        await this.#setElementError(
          runtime,
          entry,
          element,
          'forward',
          error instanceof Error ? error : new Error(String(error)),
        );
      throw error;
    } finally {
      span.end();
    }
  }

  /** Throws `ERR_AIO_CLOSED` for a dataset or event that is no longer served. */
  #checkServed(entry: AssetEntry, element: Element): void {
    if (element.retired || entry.deleted)
      throw new AioError(
        'ERR_AIO_CLOSED',
        `${element.kind} "${element.eventGroupName === undefined ? '' : `${element.eventGroupName}/`}${element.name}" of asset "${entry.assetName}" is no longer served (the asset was updated or deleted, or the connector stopped serving it)`,
      );
  }

  // -------------------------------------------------------------------------------------------
  // status and health

  async #setElementError(
    runtime: Runtime,
    entry: AssetEntry,
    element: Element,
    where: keyof ElementErrors,
    error: Error | undefined,
  ): Promise<void> {
    if (element.retired || entry.deleted) return;
    const before = firstError(element.errors);
    element.errors[where] = error;
    const after = firstError(element.errors);
    this.#reportHealth(runtime, entry, element);
    if (before?.message !== after?.message) {
      this.#scheduleStatus(runtime, entry);
      await entry.statusWriting;
    }
  }

  #reportHealth(
    runtime: Runtime,
    entry: AssetEntry,
    element: Element,
    health?: HealthReport,
  ): void {
    // a late report would bring the health of a stopped or deleted element back for good
    if (element.retired || entry.deleted) return;
    const error = firstError(element.errors);
    const report: HealthReport =
      health ??
      (error
        ? { status: 'Unavailable', message: error.message, reasonCode: reasonCodeOf(error) }
        : { status: 'Available' });
    const { deviceName, endpointName } = entry.device;
    const version = entry.asset?.version ?? 0;
    if (element.kind === 'dataset')
      runtime.adr.health.reportDataset(
        deviceName,
        endpointName,
        entry.assetName,
        element.name,
        report,
        version,
      );
    else if (element.kind === 'stream')
      runtime.adr.health.reportStream(
        deviceName,
        endpointName,
        entry.assetName,
        element.name,
        report,
        version,
      );
    else
      runtime.adr.health.reportEvent(
        deviceName,
        endpointName,
        entry.assetName,
        element.eventGroupName as string,
        element.name,
        report,
        version,
      );
  }

  /** Writes the asset status soon; bursts of changes are coalesced into one write. */
  #scheduleStatus(runtime: Runtime, entry: AssetEntry): void {
    // a deleted asset's status is not written: ADR no longer has it
    if (entry.deleted) return;
    entry.statusDirty = true;
    if (entry.statusWriting) return;
    const signal = entry.controller.signal;
    entry.statusWriting = (async () => {
      while (entry.statusDirty && !signal.aborted) {
        entry.statusDirty = false;
        try {
          await runtime.adr.updateAssetStatusWith(
            entry.device.deviceName,
            entry.device.endpointName,
            entry.assetName,
            (current) => this.#composeAssetStatus(entry, current),
            { signal },
          );
        } catch (error) {
          if (!signal.aborted)
            runtime.logger.warn(
              { err: error, asset: entry.assetName },
              'asset status update failed',
            );
        }
      }
      entry.statusWriting = undefined;
    })();
  }

  /** The asset status from the connector's view: one entry per dataset and event. */
  #composeAssetStatus(entry: AssetEntry, current: AssetStatus): AssetStatus {
    const problem: AdrConfigError | null = entry.assetProblem
      ? toAdrConfigError(entry.assetProblem, codeOf(entry.assetProblem))
      : entry.device.problem
        ? toAdrConfigError(
            new ConfigError(
              `device endpoint "${entry.device.deviceName}/${entry.device.endpointName}" cannot be served: ${entry.device.problem.message}`,
            ),
            { code: 'DeviceEndpointUnavailable' },
          )
        : null;
    const entryOf = (element: Element) => {
      const error = firstError(element.errors);
      return {
        name: element.name,
        ...(error ? { error: toAdrConfigError(error, codeOf(error)) } : {}),
        ...(element.schema
          ? {
              messageSchemaReference: {
                schemaName: element.schema.name,
                schemaRegistryNamespace: element.schema.namespace,
                schemaVersion: element.schema.version,
              },
            }
          : {}),
      };
    };
    const elements = [...entry.elements.values()];
    // issues of elements that were left out of the asset by validation
    const issueErrors = new Map<string, AdrConfigError>();
    for (const issue of entry.issues) {
      const scope = issue.scope;
      if (scope.kind === 'dataset' && scope.datasetName !== undefined)
        issueErrors.set(elementId('dataset', scope.datasetName), {
          code: 'InvalidDefinition',
          message: issue.message,
        });
      if (scope.kind === 'event' && scope.eventName !== undefined)
        issueErrors.set(elementId('event', scope.eventName, scope.eventGroupName), {
          code: 'InvalidDefinition',
          message: issue.message,
        });
      if (scope.kind === 'stream' && scope.streamName !== undefined)
        issueErrors.set(elementId('stream', scope.streamName), {
          code: 'InvalidDefinition',
          message: issue.message,
        });
      if (scope.kind === 'eventGroup')
        for (const name of scope.eventNames)
          issueErrors.set(elementId('event', name, scope.eventGroupName), {
            code: 'InvalidDefinition',
            message: issue.message,
          });
    }
    const datasets = elements.filter((e) => e.kind === 'dataset').map(entryOf);
    for (const [id, error] of issueErrors)
      if (id.startsWith('d:') && !datasets.some((d) => `d:${d.name}` === id))
        datasets.push({ name: id.slice(2), error });
    const streams = elements.filter((e) => e.kind === 'stream').map(entryOf);
    for (const [id, error] of issueErrors)
      if (id.startsWith('s:') && !streams.some((d) => `s:${d.name}` === id))
        streams.push({ name: id.slice(2), error });
    const groups = new Map<string, { name: string; events: ReturnType<typeof entryOf>[] }>();
    for (const element of elements.filter((e) => e.kind === 'event')) {
      const group = element.eventGroupName as string;
      if (!groups.has(group)) groups.set(group, { name: group, events: [] });
      groups.get(group)?.events.push(entryOf(element));
    }
    for (const [id, error] of issueErrors) {
      if (!id.startsWith('e:')) continue;
      const [group = '', name = ''] = id.slice(2).split('/');
      if (!groups.has(group)) groups.set(group, { name: group, events: [] });
      const list = groups.get(group)?.events ?? [];
      if (!list.some((e) => e.name === name)) list.push({ name, error });
    }
    const next: AssetStatus = {
      ...current,
      config: {
        ...(problem ? { error: problem } : {}),
        lastTransitionTime: new Date().toISOString(),
        ...(entry.asset?.version === undefined ? {} : { version: entry.asset.version }),
      },
    };
    const out: Record<string, unknown> = { ...next };
    if (datasets.length > 0) out['datasets'] = datasets;
    else delete out['datasets'];
    if (groups.size > 0) out['eventGroups'] = [...groups.values()];
    else delete out['eventGroups'];
    if (streams.length > 0) out['streams'] = streams;
    else delete out['streams'];
    return out;
  }
}

/** Waits for `promise` to settle, at most `ms`; never rejects. */
async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}

function firstError(errors: ElementErrors): Error | undefined {
  return errors.config ?? errors.sample ?? errors.schema ?? errors.forward;
}

function codeOf(error: Error): { readonly code?: string } {
  return isAioError(error) ? { code: error.code } : {};
}

function reasonCodeOf(error: Error): string {
  return isAioError(error) ? error.code : error.name;
}
