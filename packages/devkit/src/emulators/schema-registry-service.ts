/**
 * The schema registry emulator: answers `put` and `get` on `adr/dtmi:ms:adr:SchemaRegistry;2/…`
 * like the AIO schema registry, keeping the schemas in memory.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import {
  CommandExecutor,
  schemaRegistryErrorCodes,
  schemaRegistryFormats,
  schemaRegistryTopics,
  silentLogger,
  type CommandRequest,
  type Logger,
  type MqttClient,
  type Schema,
} from '@aio-connector/core';

/** Options of {@link startSchemaRegistryService}. Every field is optional. */
export interface SchemaRegistryServiceOptions {
  /** The namespace assigned to every schema. Default: `'DefaultSRNamespace'`. */
  readonly namespace?: string;
  /** Default: silent. */
  readonly logger?: Logger;
}

/** A request the emulator received. */
export interface SchemaRegistryServiceRequest {
  readonly operation: 'put' | 'get';
  /** The request body, as parsed JSON. */
  readonly payload: unknown;
  /** The invoker's client id (`__srcId`). */
  readonly invokerClientId: string | undefined;
}

/** A running schema registry emulator. */
export interface SchemaRegistryService {
  /** The registered schemas: name → version → schema. */
  readonly schemas: Map<string, Map<string, Schema>>;
  /** Every request received, in order. */
  readonly requests: readonly SchemaRegistryServiceRequest[];
  /** Stops answering. Safe to call twice. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The error body of the schema registry. */
interface ErrorBody {
  readonly code: number;
  readonly message: string;
  readonly target?: string;
}

type Response = { readonly schema: Schema } | { readonly error: ErrorBody };

/** The `target` values of the service's error bodies. */
const targets = Object.freeze({
  schemaType: 'SchemaType',
  format: 'Format',
  version: 'Version',
  name: 'Name',
  tags: 'Tags',
  description: 'Description',
  displayName: 'DisplayName',
  schemaContent: 'SchemaContent',
  schema: 'SchemaArmResource',
} as const);

const versionPattern = /^\d+(?:\.\d+)*$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function badRequest(message: string, target?: string): Response {
  return {
    error: {
      code: schemaRegistryErrorCodes.badRequest,
      message,
      ...(target === undefined ? {} : { target }),
    },
  };
}

function notFound(message: string, target: string): Response {
  return { error: { code: schemaRegistryErrorCodes.notFound, message, target } };
}

function checkVersion(value: unknown): Response | undefined {
  if (typeof value !== 'string' || !versionPattern.test(value))
    return badRequest(
      `Schema version '${typeof value === 'string' ? value : (JSON.stringify(value) ?? '')}' has invalid format. Version must be a number.`,
      targets.version,
    );
  return undefined;
}

function checkOptionalString(
  body: Record<string, unknown>,
  field: 'description' | 'displayName',
): Response | undefined {
  const value = body[field];
  if (value === undefined || value === null || typeof value === 'string') return undefined;
  return badRequest(`The ${field} must be a string.`, targets[field]);
}

/**
 * The SHA-256 of the content as 64 upper-case hex digits: the name the service assigns.
 *
 * @example
 * ```ts
 * import { schemaNameOf } from '@aio-connector/devkit';
 * schemaNameOf('{"type":"object"}').length; // 64
 * ```
 */
export function schemaNameOf(content: string): string {
  if (typeof content !== 'string') throw new TypeError('content must be a string');
  return createHash('sha256').update(content, 'utf8').digest('hex').toUpperCase();
}

/**
 * Starts the schema registry emulator on an MQTT client and resolves once both command executors
 * are subscribed.
 *
 * - `put` validates the request like the service (format `JsonSchema/draft-07` or `Delta/1.0`,
 *   schema type `MessageSchema`, non-empty content — valid JSON for JSON Schema —, a version of
 *   digits such as `1` or `1.0`, string tags) and answers `{"error":{code:400,message,target}}`
 *   otherwise. A valid schema gets `name` = the SHA-256 of its content (upper-case hex, also its
 *   `hash`) and the namespace `DefaultSRNamespace`. Putting the same content and version again
 *   returns the schema already stored.
 * - `get` answers `{"schema":…}` or `{"error":{code:404,…}}`.
 *
 * @example
 * ```ts
 * import { MqttSession, SchemaRegistryClient } from '@aio-connector/core';
 * import { startSchemaRegistryService } from '@aio-connector/devkit';
 * declare const serviceSession: MqttSession;
 * declare const clientSession: MqttSession;
 * const service = await startSchemaRegistryService(serviceSession);
 * const registry = new SchemaRegistryClient(clientSession);
 * const schema = await registry.put({ schemaContent: '{"type":"object"}', format: 'JsonSchema/draft-07' });
 * console.log(service.schemas.get(schema.name)?.get('1'));
 * await service.close();
 * ```
 */
export async function startSchemaRegistryService(
  client: MqttClient,
  options: SchemaRegistryServiceOptions = {},
): Promise<SchemaRegistryService> {
  if (typeof client !== 'object' || client === null || typeof client.publish !== 'function')
    throw new TypeError('client must be an MqttClient');
  if (typeof options !== 'object' || options === null)
    throw new TypeError('options must be an object');
  const namespace = options.namespace ?? 'DefaultSRNamespace';
  if (typeof namespace !== 'string') throw new TypeError('namespace must be a string');
  if (namespace.length === 0) throw new RangeError('namespace must not be empty');
  const logger = (options.logger ?? silentLogger).child({ component: 'schema-registry-service' });
  const schemas = new Map<string, Map<string, Schema>>();
  const requests: SchemaRegistryServiceRequest[] = [];

  const record = (operation: 'put' | 'get', request: CommandRequest<unknown>): void => {
    requests.push(
      Object.freeze({
        operation,
        payload: request.payload,
        invokerClientId: request.invokerClientId,
      }),
    );
  };

  const put = (body: unknown): Response => {
    if (!isObject(body)) return badRequest('The request must be a JSON object.');
    const { format, schemaType, schemaContent, version, tags } = body;
    if (
      typeof format !== 'string' ||
      !(schemaRegistryFormats as readonly string[]).includes(format)
    )
      return badRequest(
        `Invalid schema format: '${typeof format === 'string' ? format : (JSON.stringify(format) ?? '')}'. Supported formats are ${schemaRegistryFormats.join(', ')}.`,
        targets.format,
      );
    if (schemaType !== 'MessageSchema')
      return badRequest(
        `Invalid schema type: '${typeof schemaType === 'string' ? schemaType : (JSON.stringify(schemaType) ?? '')}'. The only supported schema type is MessageSchema.`,
        targets.schemaType,
      );
    if (typeof schemaContent !== 'string' || schemaContent.trim().length === 0)
      return badRequest('Schema content cannot be empty.', targets.schemaContent);
    if (format === 'JsonSchema/draft-07') {
      let document: unknown;
      try {
        document = JSON.parse(schemaContent);
      } catch {
        return badRequest('Schema content is not valid JSON.', targets.schemaContent);
      }
      if (!isObject(document) && typeof document !== 'boolean')
        return badRequest('Schema content is not a JSON Schema.', targets.schemaContent);
    }
    const versionError = checkVersion(version);
    if (versionError !== undefined) return versionError;
    if (
      tags !== undefined &&
      tags !== null &&
      (!isObject(tags) || Object.values(tags).some((tag) => typeof tag !== 'string'))
    )
      return badRequest('Schema tags must be an object of strings.', targets.tags);
    const stringError =
      checkOptionalString(body, 'description') ?? checkOptionalString(body, 'displayName');
    if (stringError !== undefined) return stringError;

    const name = schemaNameOf(schemaContent);
    const versions = schemas.get(name) ?? new Map<string, Schema>();
    const existing = versions.get(version as string);
    if (existing !== undefined) return { schema: existing };
    const schema: Schema = Object.freeze({
      name,
      namespace,
      format,
      schemaType,
      version: version as string,
      schemaContent,
      hash: name,
      ...(typeof body['description'] === 'string' ? { description: body['description'] } : {}),
      ...(typeof body['displayName'] === 'string' ? { displayName: body['displayName'] } : {}),
      ...(isObject(tags) ? { tags: Object.freeze({ ...(tags as Record<string, string>) }) } : {}),
    });
    versions.set(schema.version, schema);
    schemas.set(name, versions);
    logger.info({ name, version: schema.version }, 'schema registered');
    return { schema };
  };

  const get = (body: unknown): Response => {
    if (!isObject(body)) return badRequest('The request must be a JSON object.');
    const { name, version } = body;
    if (typeof name !== 'string' || name.length === 0)
      return badRequest('Schema name cannot be empty.', targets.name);
    const versionError = checkVersion(version);
    if (versionError !== undefined) return versionError;
    const versions = schemas.get(name);
    if (versions === undefined) return notFound(`Schema '${name}' not found`, targets.schema);
    const schema = versions.get(version as string);
    if (schema === undefined)
      return notFound(`Schema '${name}' version '${version as string}' not found`, targets.version);
    return { schema };
  };

  const putExecutor = new CommandExecutor<unknown, Response>(
    client,
    'put',
    schemaRegistryTopics.put,
    (request) => {
      record('put', request);
      return { payload: put(request.payload) };
    },
    { logger },
  );
  const getExecutor = new CommandExecutor<unknown, Response>(
    client,
    'get',
    schemaRegistryTopics.get,
    (request) => {
      record('get', request);
      return { payload: get(request.payload) };
    },
    { logger },
  );
  try {
    await Promise.all([putExecutor.start(), getExecutor.start()]);
  } catch (error) {
    await Promise.allSettled([putExecutor.stop(), getExecutor.stop()]);
    throw error;
  }
  logger.debug('schema registry emulator started');

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= Promise.allSettled([putExecutor.stop(), getExecutor.stop()]).then(() => undefined);
    return closing;
  };
  return { schemas, requests, close, [Symbol.asyncDispose]: close };
}
