/**
 * CloudEvents 1.0 in MQTT binary content mode: the attributes travel as MQTT user properties
 * (`specversion`, `id`, `type`, `source`, `time`, `subject`, `dataschema`, plus extension
 * attributes) and `datacontenttype` is the MQTT Content Type.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { ProtocolError } from '../errors.ts';
import type { UserProperty } from '../mqtt/mqtt-client.ts';
import { getUserProperty, invalidConfiguration } from './user-properties.ts';

/** A CloudEvent read from a received message. */
export interface CloudEvent {
  readonly specVersion: string;
  readonly id: string;
  /** A URI-reference identifying the context of the event. */
  readonly source: string;
  readonly type: string;
  /** RFC 3339 timestamp, as sent. */
  readonly time?: string | undefined;
  readonly subject?: string | undefined;
  /** An absolute URI of the data's schema. */
  readonly dataSchema?: string | undefined;
  /** The MQTT Content Type of the message. */
  readonly dataContentType?: string | undefined;
}

/** The CloudEvent to attach to an outgoing message. Only `source` is required. */
export interface CloudEventInit {
  /** A non-empty URI-reference (`ms-aio:device-1/api/env`, `aio://cluster/oven`). */
  readonly source: string;
  /** Default: `ms.aio.telemetry` (telemetry), `ms.aio.rpc.request` / `ms.aio.rpc.response` (commands). */
  readonly type?: string;
  /** Default: `'1.0'`. */
  readonly specVersion?: string;
  /** Default: a random UUID. */
  readonly id?: string;
  /**
   * A `Date` (sent at second precision, `yyyy-MM-ddTHH:mm:ssZ`) or an RFC 3339 string (sent as
   * is). Default: the current time.
   */
  readonly time?: Date | string;
  /** Default: the topic the message is published to. */
  readonly subject?: string;
  /** An absolute URI. Default: none. */
  readonly dataSchema?: string;
  /** Extension attributes (lowercase alphanumeric names, such as `aiodeviceref`). Default: none. */
  readonly extensions?: Readonly<Record<string, string>>;
}

/**
 * The user property names of the CloudEvent attributes, in the order they are sent.
 *
 * @example
 * ```ts
 * import { cloudEventAttributeNames } from '@aio-connector/core';
 * cloudEventAttributeNames[0]; // 'specversion'
 * ```
 */
export const cloudEventAttributeNames = Object.freeze([
  'specversion',
  'id',
  'type',
  'source',
  'time',
  'subject',
  'dataschema',
] as const);

const uriCharacters = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?#[\]]|%[0-9A-Fa-f]{2})*$/;
const schemePrefix = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const ipLiteralAuthority =
  /^(?:[A-Za-z][A-Za-z0-9+.-]*:)?\/\/(?:[^/?#@[\]]*@)?\[[0-9A-Za-z:.]+\](?::\d*)?(?:[/?#]|$)/;
const rfc3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;
const mediaType = /^([-a-z]+)\/([-a-z0-9.]+)(\+([-a-z0-9.]+))?(;.*)?$/;
const extensionName = /^[a-z0-9]{1,20}$/;

/**
 * Whether `text` is an RFC 3986 URI-reference (absolute or relative). With `absolute`, a scheme
 * is required.
 *
 * @example
 * ```ts
 * import { isUriReference } from '@aio-connector/core';
 * isUriReference('ms-aio:device-1/api'); // true
 * isUriReference('::::'); // false
 * isUriReference('relative/path', { absolute: true }); // false
 * ```
 */
export function isUriReference(
  text: string,
  options: { readonly absolute?: boolean } = {},
): boolean {
  if (typeof text !== 'string' || !uriCharacters.test(text)) return false;
  if (text.indexOf('#') !== text.lastIndexOf('#')) return false;
  if ((text.includes('[') || text.includes(']')) && !ipLiteralAuthority.test(text)) return false;
  if (schemePrefix.test(text)) return true;
  if (options.absolute === true) return false;
  const firstSegment = text.split(/[/?#]/, 1)[0] ?? '';
  return !firstSegment.includes(':');
}

/**
 * Whether `text` is an RFC 3339 date-time (`2026-08-20T10:11:12Z`, with optional fraction and
 * offset).
 *
 * @example
 * ```ts
 * import { isRfc3339 } from '@aio-connector/core';
 * isRfc3339('1955-11-12T22:04:00Z'); // true
 * isRfc3339('11/12/1955 22:04:00 UTC'); // false
 * ```
 */
export function isRfc3339(text: string): boolean {
  const match = typeof text === 'string' ? rfc3339.exec(text) : null;
  if (!match) return false;
  const [, year, month, day, hour, minute, second, offsetHour, offsetMinute] = match.map(Number);
  if (month === undefined || month < 1 || month > 12) return false;
  const daysInMonth = new Date(Date.UTC(year ?? 0, month, 0)).getUTCDate();
  if (day === undefined || day < 1 || day > daysInMonth) return false;
  if ((hour ?? 0) > 23 || (minute ?? 0) > 59 || (second ?? 0) > 60) return false;
  if (
    offsetHour !== undefined &&
    !Number.isNaN(offsetHour) &&
    (offsetHour > 23 || (offsetMinute ?? 0) > 59)
  )
    return false;
  return true;
}

/**
 * Whether `contentType` is a media type a CloudEvent may carry as `datacontenttype`
 * (`type/subtype[+suffix][;parameters]`, lowercase).
 *
 * @example
 * ```ts
 * import { isCloudEventContentType } from '@aio-connector/core';
 * isCloudEventContentType('application/json'); // true
 * isCloudEventContentType('non.conforming'); // false
 * ```
 */
export function isCloudEventContentType(contentType: string): boolean {
  return typeof contentType === 'string' && mediaType.test(contentType);
}

/**
 * Formats a time as a CloudEvent `time` at second precision: `2026-08-20T10:11:12Z`.
 *
 * @example
 * ```ts
 * import { formatCloudEventTime } from '@aio-connector/core';
 * formatCloudEventTime(new Date('2026-08-20T10:11:12.987Z')); // '2026-08-20T10:11:12Z'
 * ```
 */
export function formatCloudEventTime(time: Date): string {
  return time.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** What a component knows when it attaches a CloudEvent. */
export interface CloudEventContext {
  /** The `type` used when the init has none. */
  readonly defaultType: string;
  /** The topic, used as `subject` when the init has none. */
  readonly topic: string;
  /** The MQTT Content Type of the message (`datacontenttype`). */
  readonly contentType: string | undefined;
  /** The current time in ms since the epoch. Default: `Date.now()`. */
  readonly now?: number;
  /** The command the message belongs to, reported in errors. */
  readonly commandName?: string | undefined;
}

/**
 * Validates a CloudEvent and returns its user properties, in the order `specversion`, `id`, `type`,
 * `source`, `time`, `subject`, `dataschema`, extensions. Throws a `ProtocolError` of kind `invalid
 * configuration` (property `cloudEvent`) when an attribute is invalid: an empty string is invalid
 * for every attribute (leave it out to get the default), `source` must be a URI-reference,
 * `dataschema` an absolute URI, `time` RFC 3339, and the content type a media type.
 *
 * @example
 * ```ts
 * import { cloudEventToUserProperties } from '@aio-connector/core';
 * const properties = cloudEventToUserProperties(
 *   { source: 'ms-aio:device-1', dataSchema: 'aio-sr://ns/name:1' },
 *   { defaultType: 'ms.aio.telemetry', topic: 'factory/line1', contentType: 'application/json' },
 * );
 * ```
 */
export function cloudEventToUserProperties(
  init: CloudEventInit,
  context: CloudEventContext,
): UserProperty[] {
  const fail = (attribute: string, value: unknown, reason: string): ProtocolError =>
    invalidConfiguration(
      'cloudEvent',
      value,
      `CloudEvent attribute '${attribute}' ${reason}`,
      context.commandName,
    );
  if (typeof init !== 'object' || init === null)
    throw invalidConfiguration(
      'cloudEvent',
      init,
      'cloudEvent must be an object',
      context.commandName,
    );
  const text = (attribute: string, value: unknown): string | undefined => {
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw fail(attribute, value, 'must be a string');
    if (value.trim().length === 0) throw fail(attribute, value, 'must not be empty');
    return value;
  };
  const source = text('source', init.source);
  if (source === undefined) throw fail('source', source, 'is required');
  if (!isUriReference(source)) throw fail('source', source, 'is not a URI-reference');
  const type = text('type', init.type) ?? context.defaultType;
  const specVersion = text('specversion', init.specVersion) ?? '1.0';
  const id = text('id', init.id) ?? randomUUID();
  const subject = text('subject', init.subject) ?? context.topic;
  const dataSchema = text('dataschema', init.dataSchema);
  if (dataSchema !== undefined && !isUriReference(dataSchema, { absolute: true }))
    throw fail('dataschema', dataSchema, 'is not an absolute URI');
  let time: string;
  if (init.time === undefined) time = formatCloudEventTime(new Date(context.now ?? Date.now()));
  else if (init.time instanceof Date) {
    if (Number.isNaN(init.time.getTime())) throw fail('time', init.time, 'is an invalid date');
    time = formatCloudEventTime(init.time);
  } else {
    const value = text('time', init.time) ?? '';
    if (!isRfc3339(value)) throw fail('time', value, 'is not an RFC 3339 date-time');
    time = value;
  }
  if (context.contentType !== undefined && !isCloudEventContentType(context.contentType))
    throw fail('datacontenttype', context.contentType, 'is not a valid media type');
  const properties: UserProperty[] = [
    ['specversion', specVersion],
    ['id', id],
    ['type', type],
    ['source', source],
    ['time', time],
    ['subject', subject],
  ];
  if (dataSchema !== undefined) properties.push(['dataschema', dataSchema]);
  for (const [name, value] of Object.entries(init.extensions ?? {})) {
    if (
      !extensionName.test(name) ||
      (cloudEventAttributeNames as readonly string[]).includes(name) ||
      name === 'datacontenttype'
    )
      throw fail(name, name, 'is not a valid extension attribute name');
    if (typeof value !== 'string') throw fail(name, value, 'must be a string');
    properties.push([name, value]);
  }
  return properties;
}

/**
 * Reads the CloudEvent of a received message. Returns `undefined` when the message carries none
 * (no `specversion`, `id`, `type` or `source` property) and throws a `ProtocolError` of kind
 * `invalid header` naming the attribute when it carries an invalid one: `specversion` must be
 * `1.0`; `id`, `type` and a URI-reference `source` are required; `time` must be RFC 3339, `subject`
 * non-empty, `dataschema` an absolute URI and the content type a media type.
 *
 * @example
 * ```ts
 * import { parseCloudEvent } from '@aio-connector/core';
 * const event = parseCloudEvent(
 *   [['specversion', '1.0'], ['id', '1'], ['type', 'DataSet'], ['source', 'ms-aio:dev']],
 *   'application/json',
 * );
 * event?.type; // 'DataSet'
 * ```
 */
export function parseCloudEvent(
  userProperties: readonly UserProperty[] | undefined,
  contentType: string | undefined,
): CloudEvent | undefined {
  const get = (name: string): string | undefined => getUserProperty(userProperties, name);
  const specVersion = get('specversion');
  const id = get('id');
  const type = get('type');
  const source = get('source');
  if (specVersion === undefined && id === undefined && type === undefined && source === undefined)
    return undefined;
  const invalid = (
    headerName: string,
    headerValue: string | undefined,
    reason: string,
  ): ProtocolError =>
    new ProtocolError('invalid header', `CloudEvent attribute '${headerName}' ${reason}`, {
      headerName,
      ...(headerValue === undefined ? {} : { headerValue }),
    });
  if (specVersion !== '1.0') throw invalid('specversion', specVersion, 'must be 1.0');
  if (id === undefined || id.length === 0) throw invalid('id', id, 'is required');
  if (type === undefined || type.length === 0) throw invalid('type', type, 'is required');
  if (source === undefined || source.length === 0 || !isUriReference(source))
    throw invalid('source', source, 'is not a URI-reference');
  const time = get('time');
  if (time !== undefined && !isRfc3339(time)) throw invalid('time', time, 'is not RFC 3339');
  const subject = get('subject');
  if (subject !== undefined && subject.length === 0) throw invalid('subject', subject, 'is empty');
  const dataSchema = get('dataschema');
  if (
    dataSchema !== undefined &&
    (dataSchema.length === 0 || !isUriReference(dataSchema, { absolute: true }))
  )
    throw invalid('dataschema', dataSchema, 'is not an absolute URI');
  if (contentType !== undefined && !isCloudEventContentType(contentType))
    throw invalid('datacontenttype', contentType, 'is not a valid media type');
  return Object.freeze({
    specVersion,
    id,
    source,
    type,
    time,
    subject,
    dataSchema,
    dataContentType: contentType,
  });
}
