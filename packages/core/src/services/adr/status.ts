/**
 * Pure helpers for ADR statuses and runtime health: set or clear one entry (one entry per name),
 * compare two statuses the way the SDKs decide whether an update is worth sending, and the health
 * deduplication rules.
 *
 * On the wire a cleared error is an *absent* `error` field: the official SDKs never write
 * `"error": null` (the .NET models skip null fields), and `updateDeviceStatus` /
 * `updateAssetStatus` replace the whole status, so leaving a field out removes it. The helpers take
 * `null` to mean "clear" and return statuses without the field, ready for `JSON.stringify`.
 * Clearing must be explicit: a success that does not clear the error leaves the old one in place
 * for ever.
 *
 * @module
 */
import { isAioError } from '../../errors.ts';
import { redactUrl } from '../../logger.ts';
import type {
  AdrConfigError,
  Asset,
  AssetStatus,
  ConfigStatus,
  DatasetEventStreamStatus,
  DeviceEndpointStatus,
  DeviceStatus,
  EventGroupStatus,
  ManagementActionStatus,
  ManagementGroupStatus,
  MessageSchemaReference,
  RuntimeHealth,
} from './models.ts';

/** Changes to one dataset, event or stream entry. Absent: keep; `null`: clear; a value: set. */
export interface OperationStatusUpdate {
  readonly error?: AdrConfigError | null;
  readonly messageSchemaReference?: MessageSchemaReference | null;
}

/** Changes to one management action entry. Absent: keep; `null`: clear; a value: set. */
export interface ManagementActionStatusUpdate {
  readonly error?: AdrConfigError | null;
  readonly requestMessageSchemaReference?: MessageSchemaReference | null;
  readonly responseMessageSchemaReference?: MessageSchemaReference | null;
}

/** Changes to a `config` status. Absent: keep; `null`: clear; a value: set. */
export interface ConfigStatusUpdate {
  readonly error?: AdrConfigError | null;
  readonly lastTransitionTime?: string | null;
  readonly version?: number | null;
}

/** Changes to a device inbound endpoint status. Absent: keep; `null`: clear; a value: set. */
export interface DeviceEndpointStatusUpdate {
  readonly error?: AdrConfigError | null;
}

type Patch<T> = { readonly [K in keyof T]?: T[K] | null };

function applyPatch<T extends object>(base: T, patch: Patch<T>): T {
  const changes = Object.entries(patch).filter(([, value]) => value !== undefined);
  const cleared = new Set(changes.filter(([, value]) => value === null).map(([key]) => key));
  const kept = Object.entries(base).filter(([key]) => !cleared.has(key));
  const set = changes.filter(([, value]) => value !== null);
  return Object.fromEntries([...kept, ...set]) as T;
}

function checkName(kind: string, value: unknown): string {
  if (typeof value !== 'string' || value === '')
    throw new TypeError(`${kind} must be a non-empty string, received ${typeof value}`);
  return value;
}

/** Replaces (or appends) the entry named `name`, collapsing duplicates into one. */
function upsert<E extends { readonly name: string }>(
  entries: readonly E[] | undefined,
  name: string,
  update: (existing: E | undefined) => E,
): E[] {
  const list = entries ?? [];
  const index = list.findIndex((entry) => entry.name === name);
  const next = update(index === -1 ? undefined : list[index]);
  if (index === -1) return [...list, next];
  return list.flatMap((entry, i) => (i === index ? [next] : entry.name === name ? [] : [entry]));
}

/**
 * Sets or clears fields of one dataset entry of an asset status; other entries are untouched and
 * there is always exactly one entry per name.
 *
 * @example
 * ```ts
 * import { setDatasetStatus } from '@aio-connector/core';
 * let status = setDatasetStatus({}, 'temperature', { error: { message: 'HTTP 503' } });
 * status = setDatasetStatus(status, 'temperature', { error: null }); // recovered
 * // { datasets: [{ name: 'temperature' }] }
 * ```
 */
export function setDatasetStatus(
  status: AssetStatus,
  datasetName: string,
  update: OperationStatusUpdate,
): AssetStatus {
  const name = checkName('datasetName', datasetName);
  return {
    ...status,
    datasets: upsert(status.datasets, name, (e) => applyPatch(e ?? { name }, update)),
  };
}

/**
 * Sets or clears fields of one stream entry of an asset status.
 *
 * @example
 * ```ts
 * import { setStreamStatus } from '@aio-connector/core';
 * setStreamStatus({}, 'video', { error: { message: 'camera offline' } });
 * ```
 */
export function setStreamStatus(
  status: AssetStatus,
  streamName: string,
  update: OperationStatusUpdate,
): AssetStatus {
  const name = checkName('streamName', streamName);
  return {
    ...status,
    streams: upsert(status.streams, name, (e) => applyPatch(e ?? { name }, update)),
  };
}

/**
 * Sets or clears fields of one event entry (inside its event group entry) of an asset status.
 *
 * @example
 * ```ts
 * import { setEventStatus } from '@aio-connector/core';
 * setEventStatus({}, 'alarms', 'overTemperature', { error: null });
 * // { eventGroups: [{ name: 'alarms', events: [{ name: 'overTemperature' }] }] }
 * ```
 */
export function setEventStatus(
  status: AssetStatus,
  eventGroupName: string,
  eventName: string,
  update: OperationStatusUpdate,
): AssetStatus {
  const group = checkName('eventGroupName', eventGroupName);
  const name = checkName('eventName', eventName);
  return {
    ...status,
    eventGroups: upsert<EventGroupStatus>(status.eventGroups, group, (g) => ({
      ...(g ?? { name: group }),
      events: upsert<DatasetEventStreamStatus>(g?.events, name, (e) =>
        applyPatch(e ?? { name }, update),
      ),
    })),
  };
}

/**
 * Sets or clears fields of one management action entry (inside its management group entry).
 *
 * @example
 * ```ts
 * import { setManagementActionStatus } from '@aio-connector/core';
 * setManagementActionStatus({}, 'control', 'reboot', { error: { message: 'unsupported' } });
 * ```
 */
export function setManagementActionStatus(
  status: AssetStatus,
  managementGroupName: string,
  actionName: string,
  update: ManagementActionStatusUpdate,
): AssetStatus {
  const group = checkName('managementGroupName', managementGroupName);
  const name = checkName('actionName', actionName);
  return {
    ...status,
    managementGroups: upsert<ManagementGroupStatus>(status.managementGroups, group, (g) => ({
      ...(g ?? { name: group }),
      actions: upsert<ManagementActionStatus>(g?.actions, name, (a) =>
        applyPatch(a ?? { name }, update),
      ),
    })),
  };
}

/**
 * Removes the entry of an event group (and all its events) from an asset status.
 *
 * @example
 * ```ts
 * import { clearEventGroupStatus } from '@aio-connector/core';
 * clearEventGroupStatus(status, 'alarms');
 * ```
 */
export function clearEventGroupStatus(status: AssetStatus, eventGroupName: string): AssetStatus {
  if (status.eventGroups === undefined) return status;
  return { ...status, eventGroups: status.eventGroups.filter((g) => g.name !== eventGroupName) };
}

/**
 * Removes the entries of datasets, events, streams and management actions that the asset no
 * longer defines (after an asset update), so the status does not keep errors of removed parts.
 *
 * @example
 * ```ts
 * import { pruneAssetStatus } from '@aio-connector/core';
 * const next = pruneAssetStatus(lastWritten, updatedAsset);
 * ```
 */
export function pruneAssetStatus(status: AssetStatus, asset: Asset): AssetStatus {
  const names = (list: readonly { readonly name: string }[] | undefined): Set<string> =>
    new Set((list ?? []).map((item) => item.name));
  const datasets = names(asset.datasets);
  const streams = names(asset.streams);
  const groups = new Map((asset.eventGroups ?? []).map((g) => [g.name, names(g.events)]));
  const managementGroups = new Map(
    (asset.managementGroups ?? []).map((g) => [g.name, names(g.actions)]),
  );
  const keep = <E extends { readonly name: string }>(
    list: readonly E[] | undefined,
    has: (name: string) => boolean,
  ): E[] | undefined => list?.filter((entry) => has(entry.name));
  const out: {
    -readonly [K in keyof AssetStatus]: AssetStatus[K];
  } = { ...status };
  const keptDatasets = keep(status.datasets, (n) => datasets.has(n));
  if (keptDatasets !== undefined) out.datasets = keptDatasets;
  const keptStreams = keep(status.streams, (n) => streams.has(n));
  if (keptStreams !== undefined) out.streams = keptStreams;
  const keptGroups = keep(status.eventGroups, (n) => groups.has(n));
  if (keptGroups !== undefined)
    out.eventGroups = keptGroups.map((g) => {
      const events = keep(g.events, (n) => groups.get(g.name)?.has(n) === true);
      return events === undefined ? g : { ...g, events };
    });
  const keptManagementGroups = keep(status.managementGroups, (n) => managementGroups.has(n));
  if (keptManagementGroups !== undefined)
    out.managementGroups = keptManagementGroups.map((g) => {
      const actions = keep(g.actions, (n) => managementGroups.get(g.name)?.has(n) === true);
      return actions === undefined ? g : { ...g, actions };
    });
  return out;
}

/**
 * Sets or clears fields of the `config` status of a device or asset.
 *
 * @example
 * ```ts
 * import { setConfigStatus } from '@aio-connector/core';
 * const next = setConfigStatus(current, {
 *   error: null,
 *   lastTransitionTime: new Date().toISOString(),
 *   version: asset.version ?? null,
 * });
 * ```
 */
export function setConfigStatus<S extends { readonly config?: ConfigStatus }>(
  status: S,
  update: ConfigStatusUpdate,
): S {
  return { ...status, config: applyPatch<ConfigStatus>(status.config ?? {}, update) };
}

/**
 * Sets or clears the status of one inbound endpoint of a device status (ADR merges endpoint
 * entries per endpoint, so only the connector's own endpoint needs to be sent).
 *
 * @example
 * ```ts
 * import { setDeviceEndpointStatus } from '@aio-connector/core';
 * setDeviceEndpointStatus(status, 'rest', { error: { message: 'connection refused' } });
 * setDeviceEndpointStatus(status, 'rest', { error: null }); // recovered
 * ```
 */
export function setDeviceEndpointStatus(
  status: DeviceStatus,
  endpointName: string,
  update: DeviceEndpointStatusUpdate,
): DeviceStatus {
  const name = checkName('endpointName', endpointName);
  const inbound = status.endpoints?.inbound ?? {};
  const current: DeviceEndpointStatus = Object.hasOwn(inbound, name) ? (inbound[name] ?? {}) : {};
  return {
    ...status,
    endpoints: {
      ...status.endpoints,
      inbound: { ...inbound, [name]: applyPatch(current, update) },
    },
  };
}

/**
 * Turns any thrown value into the `error` of a status entry: its message (URL credentials
 * stripped), and `code` when given.
 *
 * @example
 * ```ts
 * import { setDatasetStatus, toAdrConfigError } from '@aio-connector/core';
 * try {
 *   await sample();
 * } catch (error) {
 *   status = setDatasetStatus(status, 'temperature', { error: toAdrConfigError(error) });
 * }
 * ```
 */
export function toAdrConfigError(
  error: unknown,
  options: { readonly code?: string } = {},
): AdrConfigError {
  const message =
    error instanceof Error || isAioError(error)
      ? error.message
      : typeof error === 'string'
        ? error
        : String(error);
  return options.code === undefined
    ? { message: redactUrl(message) }
    : { code: options.code, message: redactUrl(message) };
}

/** A canonical form for comparison: no nulls, no `lastTransitionTime`, arrays as multisets. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value
      .map((item) => canonical(item))
      .map((item) => [JSON.stringify(item), item] as const)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, item]) => item);
  }
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[key];
      if (item === null || item === undefined || key === 'lastTransitionTime') continue;
      out[key] = canonical(item);
    }
    return out;
  }
  return value;
}

/**
 * Whether two device or asset statuses are the same for ADR, ignoring `lastTransitionTime`, the
 * order of entries, and `null` versus absent fields. Used to skip updates that would change
 * nothing but the timestamp.
 *
 * @example
 * ```ts
 * import { setConfigStatus, statusEquals } from '@aio-connector/core';
 * const next = setConfigStatus(current, { error: null, lastTransitionTime: new Date().toISOString() });
 * if (!statusEquals(current, next)) await adr.updateAssetStatus('oven', next);
 * ```
 */
export function statusEquals(
  a: DeviceStatus | AssetStatus | undefined,
  b: DeviceStatus | AssetStatus | undefined,
): boolean {
  return JSON.stringify(canonical(a ?? {})) === JSON.stringify(canonical(b ?? {}));
}

/** What to do with a new health report; see {@link compareHealth}. */
export type HealthDecision = 'send' | 'drop' | 'update-cache-only';

function time(text: string): number {
  return Date.parse(text);
}

function sameExceptTimestamp(a: RuntimeHealth, b: RuntimeHealth): boolean {
  return (
    a.status === b.status &&
    a.version === b.version &&
    (a.message ?? undefined) === (b.message ?? undefined) &&
    (a.reasonCode ?? undefined) === (b.reasonCode ?? undefined)
  );
}

function sameTimestamp(a: RuntimeHealth, b: RuntimeHealth): boolean {
  const ta = time(a.lastUpdateTime);
  const tb = time(b.lastUpdateTime);
  return Number.isNaN(ta) || Number.isNaN(tb) ? a.lastUpdateTime === b.lastUpdateTime : ta === tb;
}

function notOlder(next: RuntimeHealth, cached: RuntimeHealth): boolean {
  const tn = time(next.lastUpdateTime);
  const tc = time(cached.lastUpdateTime);
  return Number.isNaN(tn) || Number.isNaN(tc)
    ? next.lastUpdateTime >= cached.lastUpdateTime
    : tn >= tc;
}

/**
 * Decides what to do with a new runtime health report given the last one cached for the same
 * component (the rules of the official SDKs):
 * - nothing cached → `send` (and start periodic re-sending);
 * - identical, timestamp included → `drop`;
 * - for an older `version` of the definition → `drop`;
 * - identical except a newer (or equal) `lastUpdateTime` → `update-cache-only` (the periodic
 *   re-send carries the new timestamp);
 * - anything else → `send`.
 *
 * @example
 * ```ts
 * import { compareHealth } from '@aio-connector/core';
 * const decision = compareHealth(cache.get(key), health);
 * if (decision !== 'drop') cache.set(key, health);
 * if (decision === 'send') await publishHealth(health);
 * ```
 */
export function compareHealth(
  cached: RuntimeHealth | undefined,
  next: RuntimeHealth,
): HealthDecision {
  if (cached === undefined) return 'send';
  const same = sameExceptTimestamp(next, cached);
  if (same && sameTimestamp(next, cached)) return 'drop';
  if (next.version < cached.version) return 'drop';
  if (same && notOlder(next, cached)) return 'update-cache-only';
  return 'send';
}
