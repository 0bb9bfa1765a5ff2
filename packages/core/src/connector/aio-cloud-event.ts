/**
 * The CloudEvent headers AIO connectors attach to forwarded data (binary mode, as MQTT 5 user
 * properties): the `source`, `type`, `subject`, `time` and `dataschema` rules of the AIO connector
 * contract, plus the `aiodeviceref` / `aioassetref` extensions.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { UserProperty } from '../mqtt/mqtt-client.ts';

/** A registered schema, as the schema registry returned it. */
export interface SchemaReference {
  readonly namespace: string;
  readonly name: string;
  readonly version: string;
}

/** What the headers are built from. */
export interface AioCloudEventInput {
  /** What is forwarded. */
  readonly kind: 'dataset' | 'event' | 'stream';
  readonly deviceName: string;
  readonly inboundEndpointName: string;
  readonly device: { readonly externalDeviceId?: string; readonly uuid?: string };
  readonly assetName: string;
  readonly asset: { readonly externalAssetId?: string; readonly uuid?: string };
  /** Dataset, stream or event name. */
  readonly name: string;
  /** Event group name (events only). */
  readonly eventGroupName?: string;
  /** The dataset's or event's `dataSource`. */
  readonly dataSource?: string;
  /** The dataset's, event's or stream's `typeRef`. */
  readonly typeRef?: string;
  /** Overrides the device part of `source` (a protocol-specific identifier of the data). */
  readonly protocolSpecificIdentifier?: string;
  /** The registered schema of the data, if any. */
  readonly schema?: SchemaReference;
  /** Event time (the HLC time of the message). */
  readonly time: Date;
  /** Event id. Default: a random UUID. */
  readonly id?: string;
  /**
   * Separator between the device uuid and the endpoint name in `aiodeviceref`: `_` (the .NET SDK,
   * default) or `/` (the Rust SDK).
   */
  readonly deviceRefSeparator?: '_' | '/';
}

const uriChars = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]*$/;

function normalizedId(value: string): string {
  return value.replace(/[-{}]/g, '').toLowerCase();
}

function notBlank(value: string | undefined): value is string {
  return value !== undefined && value.trim() !== '';
}

/** `source`: `ms-aio:<id>[/<dataSource without leading '/'>]`. */
export function cloudEventSource(input: AioCloudEventInput): string {
  const { device } = input;
  let id: string;
  if (notBlank(input.protocolSpecificIdentifier)) id = input.protocolSpecificIdentifier;
  else if (
    notBlank(device.externalDeviceId) &&
    !(notBlank(device.uuid) && normalizedId(device.externalDeviceId) === normalizedId(device.uuid))
  )
    id = device.externalDeviceId;
  else id = input.deviceName;
  const base = `ms-aio:${id}`;
  const dataSource = input.dataSource?.replace(/^\/+/, '');
  if (!notBlank(dataSource)) return base;
  const candidate = `${base}/${dataSource}`;
  return uriChars.test(candidate) ? candidate : base;
}

/** `type`: `DataSet[/typeRef]`, `Event[/typeRef]` or `Stream[/typeRef]`. */
export function cloudEventType(input: AioCloudEventInput): string {
  const prefix = input.kind === 'dataset' ? 'DataSet' : input.kind === 'event' ? 'Event' : 'Stream';
  return notBlank(input.typeRef) ? `${prefix}/${input.typeRef}` : prefix;
}

/** `subject`: `<asset>/<dataset>`, `<asset>/<group>/<event>` or `<asset>/<stream>`. */
export function cloudEventSubject(input: AioCloudEventInput): string {
  const { asset } = input;
  const assetId =
    notBlank(asset.externalAssetId) &&
    !(notBlank(asset.uuid) && normalizedId(asset.externalAssetId) === normalizedId(asset.uuid))
      ? asset.externalAssetId
      : input.assetName;
  return input.kind === 'event'
    ? `${assetId}/${input.eventGroupName ?? ''}/${input.name}`
    : `${assetId}/${input.name}`;
}

/** `time` at second precision: `2026-08-20T10:11:12Z`. */
export function cloudEventTime(time: Date): string {
  return `${time.toISOString().slice(0, 19)}Z`;
}

/** `dataschema`: `aio-sr://{namespace}/{name}:{version}`. */
export function schemaUri(schema: SchemaReference): string {
  return `aio-sr://${schema.namespace}/${schema.name}:${schema.version}`;
}

/**
 * The CloudEvent user properties of one forwarded message, in the order the .NET SDK sends them:
 * `specversion`, `id`, `type`, `source`, `time`, `subject`, `dataschema` (when a schema is
 * registered), then `aiodeviceref` and `aioassetref` (when the device/asset has a uuid).
 *
 * @example
 * ```ts
 * import { aioCloudEventProperties } from '@aio-connector/core';
 * aioCloudEventProperties({
 *   kind: 'dataset', deviceName: 'my-thermostat', inboundEndpointName: 'rest',
 *   device: { uuid: 'd-1' }, assetName: 'thermostat', asset: { uuid: 'a-1' },
 *   name: 'status', dataSource: '/api/thermostat', time: new Date(),
 * });
 * ```
 */
export function aioCloudEventProperties(input: AioCloudEventInput): UserProperty[] {
  const props: UserProperty[] = [
    ['specversion', '1.0'],
    ['id', input.id ?? randomUUID()],
    ['type', cloudEventType(input)],
    ['source', cloudEventSource(input)],
    ['time', cloudEventTime(input.time)],
    ['subject', cloudEventSubject(input)],
  ];
  if (input.schema) props.push(['dataschema', schemaUri(input.schema)]);
  if (notBlank(input.device.uuid))
    props.push([
      'aiodeviceref',
      `ms-aio:${input.device.uuid}${input.deviceRefSeparator ?? '_'}${input.inboundEndpointName}`,
    ]);
  if (notBlank(input.asset.uuid)) props.push(['aioassetref', `ms-aio:${input.asset.uuid}`]);
  return props;
}
