/**
 * `SandboxMonitor`: what a developer wants to see while a sandbox runs — per dataset and event of
 * the loaded assets: the messages seen at its destination (MQTT topic or state store key), their
 * rate, the last payload, the schema the connector registered, and the status and health the
 * connector reported to ADR.
 *
 * @module
 */
import {
  MqttSession,
  parseRequest,
  resolveDestinations,
  silentLogger,
  stateStoreTopics,
  type Asset,
  type AssetStatus,
  type DatasetDestination,
  type DestinationTokens,
  type EventStreamDestination,
  type IncomingMessage,
  type Logger,
} from '@aio-connector/core';
import type { Sandbox, SandboxEvent } from './sandbox.ts';

/** One dataset or event destination, as the monitor sees it. */
export interface MonitoredElement {
  /** `asset/dataset` or `asset/eventGroup/event`, plus `#n` for a second destination. */
  readonly id: string;
  readonly assetName: string;
  readonly deviceName: string;
  readonly endpointName: string;
  /** The connectors serving the asset's endpoint. */
  readonly connectors: readonly string[];
  readonly kind: 'dataset' | 'event';
  /** The dataset name, or `eventGroup/event`. */
  readonly name: string;
  /** `mqtt <topic>`, `state store <key>`, or `-` when the destination is invalid. */
  readonly destination: string;
  /** Messages seen at the destination since the sandbox started. */
  readonly messages: number;
  /** Messages per second over the rate window. */
  readonly ratePerSecond: number;
  /** The last payload as text (or `<n bytes>`), truncated. */
  readonly lastPayload: string | undefined;
  /** When the last message was seen (ms since the epoch). */
  readonly lastMessageAt: number | undefined;
  /** The schema the connector reported in the asset status. */
  readonly schema: { readonly name: string; readonly version: string } | undefined;
  /** The error in the asset status, or why the destination is invalid. */
  readonly error: string | undefined;
  /** The last runtime health the connector sent. */
  readonly health: { readonly status: string; readonly message: string | undefined } | undefined;
}

/** Options of {@link SandboxMonitor.start}. Every field is optional. */
export interface SandboxMonitorOptions {
  /** Payloads are cut to this many characters. Default: 200. */
  readonly maxPayloadChars?: number;
  /** The window of the rate, in ms. Default: 10 000. */
  readonly rateWindowInMs?: number;
  /** The clock, ms since the epoch. Default: `Date.now`. */
  readonly now?: () => number;
  /** Default: silent. */
  readonly logger?: Logger;
}

interface Row {
  readonly id: string;
  readonly assetName: string;
  readonly deviceName: string;
  readonly endpointName: string;
  readonly connectors: readonly string[];
  readonly kind: 'dataset' | 'event';
  readonly name: string;
  readonly datasetName?: string;
  readonly eventGroupName?: string;
  readonly eventName?: string;
  readonly destination: string;
  readonly topic: string | undefined;
  readonly key: string | undefined;
  readonly invalid: string | undefined;
}

interface Stats {
  messages: number;
  times: number[];
  lastPayload: string | undefined;
  lastMessageAt: number | undefined;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** The payload as text for a terminal: UTF-8 without control characters, or its size. */
export function payloadPreview(payload: Uint8Array, maxChars: number): string {
  let text: string;
  try {
    text = decoder.decode(payload);
  } catch {
    return `<${payload.byteLength} bytes>`;
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000e-\u001f\u007f]/.test(text)) return `<${payload.byteLength} bytes>`;
  const flat = text.replace(/\s*[\r\n\t]+\s*/g, ' ').trim();
  return flat.length > maxChars ? `${flat.slice(0, Math.max(0, maxChars - 1))}…` : flat;
}

function rowsOf(
  assetName: string,
  asset: Asset,
  connectors: readonly string[],
  namespace: string,
): Row[] {
  const base = {
    assetName,
    deviceName: asset.deviceRef.deviceName,
    endpointName: asset.deviceRef.endpointName,
    connectors,
  };
  const tokens: DestinationTokens = {
    deviceName: asset.deviceRef.deviceName,
    inboundEndpointName: asset.deviceRef.endpointName,
    assetName,
    kubernetesNamespace: namespace,
  };
  const rows: Row[] = [];
  const add = (
    element: Pick<Row, 'kind' | 'name' | 'datasetName' | 'eventGroupName' | 'eventName'>,
    destinations: readonly (DatasetDestination | EventStreamDestination)[],
    elementTokens: DestinationTokens,
  ): void => {
    const id = `${assetName}/${element.name}`;
    let resolved;
    try {
      resolved = resolveDestinations(destinations, elementTokens, id);
    } catch (error) {
      rows.push({
        ...base,
        ...element,
        id,
        destination: '-',
        topic: undefined,
        key: undefined,
        invalid: (error as Error).message,
      });
      return;
    }
    if (resolved.length === 0)
      rows.push({
        ...base,
        ...element,
        id,
        destination: '-',
        topic: undefined,
        key: undefined,
        invalid: 'no destinations',
      });
    resolved.forEach((destination, index) => {
      const topic = destination.target === 'Mqtt' ? destination.topic : undefined;
      const key = destination.target === 'BrokerStateStore' ? destination.key : undefined;
      rows.push({
        ...base,
        ...element,
        id: index === 0 ? id : `${id}#${index + 1}`,
        destination: topic === undefined ? `state store ${key ?? ''}` : `mqtt ${topic}`,
        topic,
        key,
        invalid: undefined,
      });
    });
  };
  for (const dataset of asset.datasets ?? [])
    add(
      { kind: 'dataset', name: dataset.name, datasetName: dataset.name },
      dataset.destinations ?? asset.defaultDatasetsDestinations ?? [],
      { ...tokens, datasetName: dataset.name },
    );
  for (const group of asset.eventGroups ?? [])
    for (const event of group.events ?? [])
      add(
        {
          kind: 'event',
          name: `${group.name}/${event.name}`,
          eventGroupName: group.name,
          eventName: event.name,
        },
        event.destinations ?? group.defaultDestinations ?? asset.defaultEventsDestinations ?? [],
        { ...tokens, eventGroupName: group.name, eventName: event.name },
      );
  return rows;
}

function statusOf(
  status: AssetStatus | undefined,
  row: Row,
): { error: string | undefined; schema: MonitoredElement['schema'] } {
  const entry =
    row.kind === 'dataset'
      ? status?.datasets?.find((d) => d.name === row.datasetName)
      : status?.eventGroups
          ?.find((g) => g.name === row.eventGroupName)
          ?.events?.find((e) => e.name === row.eventName);
  const configError = status?.config?.error;
  const error = entry?.error ?? configError;
  const reference = entry?.messageSchemaReference;
  return {
    error:
      error === undefined
        ? undefined
        : [error.code, error.message].filter((part) => part !== undefined).join(': ') ||
          'error reported',
    schema:
      reference === undefined
        ? undefined
        : { name: reference.schemaName, version: reference.schemaVersion },
  };
}

/**
 * Watches a running {@link Sandbox}: subscribes to every topic on its broker (and reads the state
 * store writes) to count messages per dataset and event destination, and reads the status and
 * health the connectors reported from the ADR emulator. Follows resource reloads.
 *
 * @example
 * ```ts
 * import { Sandbox, SandboxMonitor } from '@aio-connector/devkit';
 * declare const sandbox: Sandbox; // started
 * const monitor = await SandboxMonitor.start(sandbox);
 * for (const element of monitor.elements())
 *   console.log(element.id, element.messages, element.lastPayload);
 * await monitor.close();
 * ```
 */
export class SandboxMonitor {
  readonly #sandbox: Sandbox;
  readonly #session: MqttSession;
  readonly #maxPayloadChars: number;
  readonly #rateWindowInMs: number;
  readonly #now: () => number;
  #rows: Row[] = [];
  readonly #stats = new Map<string, Stats>();
  #byTopic = new Map<string, Row[]>();
  #byKey = new Map<string, Row[]>();
  readonly #health = new Map<string, { status: string; message: string | undefined }>();
  #healthSeen = 0;
  readonly #offEvent: () => void;
  readonly #offMessage: () => void;
  #closing: Promise<void> | undefined;

  private constructor(sandbox: Sandbox, session: MqttSession, options: SandboxMonitorOptions) {
    this.#sandbox = sandbox;
    this.#session = session;
    this.#maxPayloadChars = options.maxPayloadChars ?? 200;
    this.#rateWindowInMs = options.rateWindowInMs ?? 10_000;
    this.#now = options.now ?? Date.now;
    this.#rebuild();
    this.#offEvent = sandbox.onEvent((event: SandboxEvent) => {
      if (event.type === 'resources') this.#rebuild();
    });
    this.#offMessage = session.onMessage((message) => {
      this.#receive(message);
    });
  }

  /** Connects to the sandbox's broker and starts watching. */
  static async start(
    sandbox: Sandbox,
    options: SandboxMonitorOptions = {},
  ): Promise<SandboxMonitor> {
    if (typeof options !== 'object' || options === null)
      throw new TypeError('options must be an object');
    const { maxPayloadChars, rateWindowInMs, now } = options;
    if (
      maxPayloadChars !== undefined &&
      (!Number.isInteger(maxPayloadChars) || maxPayloadChars < 8)
    )
      throw new RangeError(`maxPayloadChars must be an integer >= 8, received ${maxPayloadChars}`);
    if (rateWindowInMs !== undefined && (!Number.isFinite(rateWindowInMs) || rateWindowInMs < 1000))
      throw new RangeError(`rateWindowInMs must be >= 1000, received ${rateWindowInMs}`);
    if (now !== undefined && typeof now !== 'function')
      throw new TypeError('now must be a function');
    const session = new MqttSession(
      { ...sandbox.mqttSettings('aio-sandbox-monitor'), sessionExpiryInSeconds: 1 },
      { logger: options.logger ?? silentLogger },
    );
    await session.connect();
    const monitor = new SandboxMonitor(sandbox, session, options);
    try {
      await session.subscribe('#', { qos: 0 });
    } catch (error) {
      await monitor.close();
      throw error;
    }
    return monitor;
  }

  #rebuild(): void {
    const { assets } = this.#sandbox.definitions;
    const connectorsOf = new Map<string, string[]>();
    for (const connector of this.#sandbox.connectors)
      for (const endpoint of connector.endpoints) {
        const key = `${endpoint.deviceName}\u0000${endpoint.endpointName}`;
        connectorsOf.set(key, [...(connectorsOf.get(key) ?? []), connector.name]);
      }
    const namespace =
      this.#sandbox.connectors[0]?.env['CONNECTOR_NAMESPACE'] ?? 'azure-iot-operations';
    const rows: Row[] = [];
    for (const [name, asset] of assets)
      rows.push(
        ...rowsOf(
          name,
          asset,
          connectorsOf.get(`${asset.deviceRef.deviceName}\u0000${asset.deviceRef.endpointName}`) ??
            [],
          namespace,
        ),
      );
    const byTopic = new Map<string, Row[]>();
    const byKey = new Map<string, Row[]>();
    for (const row of rows) {
      if (row.topic !== undefined) byTopic.set(row.topic, [...(byTopic.get(row.topic) ?? []), row]);
      if (row.key !== undefined) byKey.set(row.key, [...(byKey.get(row.key) ?? []), row]);
    }
    this.#rows = rows;
    this.#byTopic = byTopic;
    this.#byKey = byKey;
  }

  #receive(message: IncomingMessage): void {
    let rows: Row[] | undefined;
    let payload = message.payload;
    if (message.topic === stateStoreTopics.request) {
      try {
        const request = parseRequest(message.payload);
        if (request.command !== 'SET' || request.args.length < 2) return;
        const key = new TextDecoder().decode(request.args[0]);
        rows = this.#byKey.get(key);
        payload = request.args[1] as Uint8Array;
      } catch {
        return;
      }
    } else rows = this.#byTopic.get(message.topic);
    if (rows === undefined) return;
    const now = this.#now();
    const preview = payloadPreview(payload, this.#maxPayloadChars);
    for (const row of rows) {
      const stats = this.#statsOf(row.id);
      stats.messages += 1;
      stats.times.push(now);
      if (stats.times.length > 10_000) stats.times.splice(0, stats.times.length - 10_000);
      stats.lastPayload = preview;
      stats.lastMessageAt = now;
    }
  }

  #statsOf(id: string): Stats {
    let stats = this.#stats.get(id);
    if (stats === undefined) {
      stats = { messages: 0, times: [], lastPayload: undefined, lastMessageAt: undefined };
      this.#stats.set(id, stats);
    }
    return stats;
  }

  #readHealth(): void {
    const adr = this.#sandbox.adr;
    if (adr === undefined) return;
    const events = adr.health();
    for (const event of events.slice(this.#healthSeen))
      for (const entry of event.entries) {
        const id =
          entry.datasetName !== undefined
            ? `${entry.assetName ?? event.assetName ?? ''}/${entry.datasetName}`
            : entry.eventName !== undefined
              ? `${entry.assetName ?? event.assetName ?? ''}/${entry.eventGroupName ?? ''}/${entry.eventName}`
              : undefined;
        if (id === undefined) continue;
        this.#health.set(id, {
          status: entry.runtimeHealth.status,
          message: entry.runtimeHealth.message,
        });
      }
    this.#healthSeen = events.length;
  }

  /** A snapshot of every dataset and event destination of the loaded assets, in file order. */
  elements(): MonitoredElement[] {
    this.#readHealth();
    const now = this.#now();
    const since = now - this.#rateWindowInMs;
    const adr = this.#sandbox.adr;
    return this.#rows.map((row) => {
      const stats = this.#statsOf(row.id);
      const firstInWindow = stats.times.findIndex((time) => time > since);
      if (firstInWindow > 0) stats.times.splice(0, firstInWindow);
      else if (firstInWindow === -1) stats.times.length = 0;
      const { error, schema } = statusOf(adr?.assetStatus(row.assetName), row);
      const baseId = row.id.replace(/#\d+$/, '');
      return {
        id: row.id,
        assetName: row.assetName,
        deviceName: row.deviceName,
        endpointName: row.endpointName,
        connectors: row.connectors,
        kind: row.kind,
        name: row.name,
        destination: row.destination,
        messages: stats.messages,
        ratePerSecond: stats.times.length / (this.#rateWindowInMs / 1000),
        lastPayload: stats.lastPayload,
        lastMessageAt: stats.lastMessageAt,
        schema,
        error: row.invalid ?? error,
        health: this.#health.get(baseId),
      };
    });
  }

  /** Disconnects. Safe to call twice. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#offEvent();
      this.#offMessage();
      await this.#session.close({ timeoutInMs: 1_000, endSession: true });
    })();
    return this.#closing;
  }

  /** Same as {@link SandboxMonitor.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
