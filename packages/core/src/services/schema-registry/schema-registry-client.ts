/**
 * `SchemaRegistryClient`: the client of the AIO schema registry (`adr/dtmi:ms:adr:SchemaRegistry;2`),
 * where connectors register the message schemas of the data they forward.
 *
 * Requests are the bare JSON objects of the service (`application/json`, payload format indicator
 * 1); answers are `{"schema":{…}}` or `{"error":{code,message,…}}` in a 200 response. The service
 * assigns the schema `name` (the SHA-256 of the content, as 64 upper-case hex digits) and its
 * `namespace`: keep the returned schema, never a locally computed id.
 *
 * @module
 */
import { AioError, ProtocolError, isAioError } from '../../errors.ts';
import { silentLogger, type Logger } from '../../logger.ts';
import type { MqttClient } from '../../mqtt/mqtt-client.ts';
import { CommandInvoker } from '../../protocol/command-invoker.ts';
import type { HybridLogicalClock } from '../../protocol/hlc.ts';

/**
 * The MQTT topics of the schema registry.
 *
 * @example
 * ```ts
 * import { schemaRegistryTopics } from '@aio-connector/core';
 * schemaRegistryTopics.put; // 'adr/dtmi:ms:adr:SchemaRegistry;2/put'
 * ```
 */
export const schemaRegistryTopics = Object.freeze({
  put: 'adr/dtmi:ms:adr:SchemaRegistry;2/put',
  get: 'adr/dtmi:ms:adr:SchemaRegistry;2/get',
} as const);

/**
 * The schema formats the registry accepts.
 *
 * @example
 * ```ts
 * import { schemaRegistryFormats } from '@aio-connector/core';
 * schemaRegistryFormats.includes('JsonSchema/draft-07'); // true
 * ```
 */
export const schemaRegistryFormats = Object.freeze(['JsonSchema/draft-07', 'Delta/1.0'] as const);

/** A schema format: JSON Schema draft-07 or Delta 1.0. */
export type SchemaRegistryFormat = (typeof schemaRegistryFormats)[number];

/** The kind of schema; the registry knows message schemas only. */
export type SchemaRegistrySchemaType = 'MessageSchema';

/**
 * The error codes of the schema registry (`error.code`).
 *
 * @example
 * ```ts
 * import { schemaRegistryErrorCodes } from '@aio-connector/core';
 * schemaRegistryErrorCodes.notFound; // 404
 * ```
 */
export const schemaRegistryErrorCodes = Object.freeze({
  badRequest: 400,
  notFound: 404,
  internalError: 500,
} as const);

/** A registered schema, as the service returns it. */
export interface Schema {
  /** The name the service assigned (the SHA-256 of the content, upper-case hex). */
  readonly name: string;
  /** The schema registry namespace. */
  readonly namespace: string;
  readonly format: string;
  readonly schemaType: string;
  readonly version: string;
  readonly schemaContent: string;
  /** The hash of the content, when the service reports it. */
  readonly hash?: string;
  readonly description?: string;
  readonly displayName?: string;
  readonly tags?: Readonly<Record<string, string>>;
}

/** What {@link SchemaRegistryClient.put} registers. `schemaContent` and `format` are required. */
export interface SchemaPutRequest {
  /** The schema document (JSON text for `JsonSchema/draft-07`). Required, not empty. */
  readonly schemaContent: string;
  /** Required. */
  readonly format: SchemaRegistryFormat;
  /** Default: `'MessageSchema'`. */
  readonly schemaType?: SchemaRegistrySchemaType;
  /** Default: `'1'`. */
  readonly version?: string;
  /** Default: none. */
  readonly tags?: Readonly<Record<string, string>>;
  /** Default: none. */
  readonly description?: string;
  /** Default: none. */
  readonly displayName?: string;
}

/** What {@link SchemaRegistryClient.get} looks up. `name` is required. */
export interface SchemaGetRequest {
  /** The name the service assigned. Required. */
  readonly name: string;
  /** Default: `'1'`. */
  readonly version?: string;
}

/** Options of {@link SchemaRegistryClient}. Every field is optional. */
export interface SchemaRegistryClientOptions {
  /**
   * How long to wait for each response, in ms; also the request's message expiry (rounded up to
   * whole seconds). Default: 10 000.
   */
  readonly timeoutInMs?: number;
  /** The application's clock, stamped into `__ts`. Default: the shared clock of the process. */
  readonly hlc?: HybridLogicalClock;
  /** Default: silent. */
  readonly logger?: Logger;
}

/** Options of each request. Every field is optional. */
export interface SchemaRegistryRequestOptions {
  /** Cancels the request: it rejects with a `ProtocolError` of kind `cancellation`. */
  readonly signal?: AbortSignal;
  /** Overrides the client's `timeoutInMs` for this request. */
  readonly timeoutInMs?: number;
}

/** The facts an error body of the schema registry carries besides its code and message. */
export interface SchemaRegistryErrorDetails {
  readonly code?: string;
  readonly message?: string;
  readonly correlationId?: string;
}

/** Options of {@link SchemaRegistryError}. */
export interface SchemaRegistryErrorInit {
  /** The service's error code: 400, 404, 500. */
  readonly errorCode: number;
  /** The operation that failed. */
  readonly operation: 'put' | 'get';
  /** The field the error is about (`Format`, `Version`, `SchemaContent`, …). */
  readonly target?: string;
  readonly serviceDetails?: SchemaRegistryErrorDetails;
  readonly innerError?: SchemaRegistryErrorDetails;
  readonly cause?: unknown;
}

/**
 * An error answered by the schema registry (`{"error":{code,message,…}}`). Code
 * `ERR_AIO_SCHEMA_REGISTRY`; retryable for the service's internal errors (500) only.
 *
 * @example
 * ```ts
 * import { SchemaRegistryError } from '@aio-connector/core';
 * const error = new SchemaRegistryError('Schema content cannot be empty.', {
 *   errorCode: 400,
 *   operation: 'put',
 *   target: 'SchemaContent',
 * });
 * console.log(error.code, error.errorCode, error.retryable); // ERR_AIO_SCHEMA_REGISTRY 400 false
 * ```
 */
export class SchemaRegistryError extends AioError {
  /** The service's error code: 400 bad request, 404 not found, 500 internal error. */
  readonly errorCode: number;
  readonly operation: 'put' | 'get';
  readonly target: string | undefined;
  readonly serviceDetails: SchemaRegistryErrorDetails | undefined;
  readonly innerError: SchemaRegistryErrorDetails | undefined;

  constructor(message: string, init: SchemaRegistryErrorInit) {
    super('ERR_AIO_SCHEMA_REGISTRY', `schema registry ${init.operation} failed: ${message}`, {
      retryable: init.errorCode >= 500,
      ...(init.cause === undefined ? {} : { cause: init.cause }),
      details: {
        errorCode: init.errorCode,
        operation: init.operation,
        target: init.target,
        serviceDetails: init.serviceDetails,
      },
    });
    this.name = 'SchemaRegistryError';
    this.errorCode = init.errorCode;
    this.operation = init.operation;
    this.target = init.target;
    this.serviceDetails = init.serviceDetails;
    this.innerError = init.innerError;
  }
}

interface PutBody {
  readonly format: string;
  readonly schemaType: string;
  readonly schemaContent: string;
  readonly version: string;
  readonly description?: string;
  readonly displayName?: string;
  readonly tags?: Readonly<Record<string, string>>;
}

interface GetBody {
  readonly name: string;
  readonly version: string;
}

type ResponseBody = unknown;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string`);
  return value;
}

function checkTags(value: unknown): Readonly<Record<string, string>> | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) throw new TypeError('tags must be an object of strings');
  for (const [name, tag] of Object.entries(value))
    if (typeof tag !== 'string') throw new TypeError(`tags.${name} must be a string`);
  return { ...(value as Record<string, string>) };
}

function checkVersion(value: unknown): string {
  const version = optionalString(value, 'version') ?? '1';
  if (version.length === 0) throw new RangeError('version must not be empty');
  return version;
}

function checkTimeout(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number') throw new TypeError('timeoutInMs must be a number');
  if (!Number.isFinite(value) || value < 1 || value > 0xffff_ffff * 1000)
    throw new RangeError(
      `timeoutInMs must be between 1 and ${0xffff_ffff * 1000}, received ${value}`,
    );
  return value;
}

function details(value: unknown): SchemaRegistryErrorDetails | undefined {
  if (!isObject(value)) return undefined;
  const out: { code?: string; message?: string; correlationId?: string } = {};
  if (typeof value['code'] === 'string') out.code = value['code'];
  if (typeof value['message'] === 'string') out.message = value['message'];
  if (typeof value['correlationId'] === 'string') out.correlationId = value['correlationId'];
  return out;
}

function invalidPayload(operation: string, reason: string): ProtocolError {
  return new ProtocolError(
    'invalid payload',
    `the schema registry ${operation} response ${reason}`,
    {
      commandName: operation,
    },
  );
}

function readError(body: Record<string, unknown>, operation: 'put' | 'get'): SchemaRegistryError {
  const error = body['error'];
  if (!isObject(error) || typeof error['code'] !== 'number' || !Number.isInteger(error['code']))
    throw invalidPayload(operation, 'has an error without an integer code');
  const message = typeof error['message'] === 'string' ? error['message'] : 'no message';
  const serviceDetails = details(error['details']);
  const innerError = details(error['innerError']);
  return new SchemaRegistryError(message, {
    errorCode: error['code'],
    operation,
    ...(typeof error['target'] === 'string' ? { target: error['target'] } : {}),
    ...(serviceDetails === undefined ? {} : { serviceDetails }),
    ...(innerError === undefined ? {} : { innerError }),
  });
}

const requiredSchemaFields = [
  'name',
  'namespace',
  'format',
  'schemaType',
  'version',
  'schemaContent',
] as const;

function readSchema(value: unknown, operation: 'put' | 'get'): Schema {
  if (!isObject(value)) throw invalidPayload(operation, 'has no schema object');
  for (const field of requiredSchemaFields)
    if (typeof value[field] !== 'string')
      throw invalidPayload(operation, `has a schema without a string '${field}'`);
  const schema: Record<string, unknown> = {};
  for (const field of requiredSchemaFields) schema[field] = value[field];
  for (const field of ['hash', 'description', 'displayName'] as const) {
    const item = value[field];
    if (item === undefined || item === null) continue;
    if (typeof item !== 'string')
      throw invalidPayload(operation, `has a schema whose '${field}' is not a string`);
    schema[field] = item;
  }
  const tags = value['tags'];
  if (tags !== undefined && tags !== null) {
    if (!isObject(tags) || Object.values(tags).some((tag) => typeof tag !== 'string'))
      throw invalidPayload(operation, 'has a schema whose tags are not strings');
    schema['tags'] = Object.freeze({ ...tags });
  }
  return Object.freeze(schema) as unknown as Schema;
}

/** A remote 422 is how older services reported invalid requests; callers see a bad request. */
function legacyBadRequest(error: unknown, operation: 'put' | 'get'): unknown {
  if (
    isAioError(error) &&
    error instanceof ProtocolError &&
    error.isRemote &&
    error.statusCode === 422
  )
    return new SchemaRegistryError(error.message, {
      errorCode: schemaRegistryErrorCodes.badRequest,
      operation,
      cause: error,
      ...(error.propertyName === undefined ? {} : { target: error.propertyName }),
    });
  return error;
}

/**
 * The schema registry client.
 *
 * `put` and `get` reject with a `SchemaRegistryError` (`ERR_AIO_SCHEMA_REGISTRY`) for an error
 * body from the service (except "not found" on `get`, which resolves `undefined`, as does the empty
 * payload older services send), a `ProtocolError` for the RPC layer (`timeout` — retryable —,
 * `cancellation`, `mqtt error`, `invalid payload` for an answer that is not a schema), and
 * `ERR_AIO_CLOSED` after `close()`. Arguments of the wrong type throw `TypeError`, out of range
 * `RangeError`.
 *
 * @example
 * ```ts
 * import { SchemaRegistryClient } from '@aio-connector/core';
 * declare const session: import('@aio-connector/core').MqttClient;
 * const registry = new SchemaRegistryClient(session);
 * const schema = await registry.put({
 *   schemaContent: JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', type: 'object' }),
 *   format: 'JsonSchema/draft-07',
 * });
 * console.log(`aio-sr://${schema.namespace}/${schema.name}:${schema.version}`);
 * const again = await registry.get({ name: schema.name, version: schema.version });
 * await registry.close();
 * ```
 */
export class SchemaRegistryClient {
  readonly #put: CommandInvoker<PutBody>;
  readonly #get: CommandInvoker<GetBody>;
  readonly #logger: Logger;
  #closing: Promise<void> | undefined;

  constructor(client: MqttClient, options: SchemaRegistryClientOptions = {}) {
    if (typeof client !== 'object' || client === null)
      throw new TypeError('client must be an MqttClient');
    if (typeof options !== 'object' || options === null)
      throw new TypeError('options must be an object');
    const timeoutInMs = checkTimeout(options.timeoutInMs) ?? 10_000;
    if (options.hlc !== undefined && typeof options.hlc.updateNow !== 'function')
      throw new TypeError('hlc must be a HybridLogicalClock');
    this.#logger = (options.logger ?? silentLogger).child({ component: 'schema-registry' });
    const common = {
      timeoutInMs,
      logger: this.#logger,
      ...(options.hlc === undefined ? {} : { hlc: options.hlc }),
    };
    this.#put = new CommandInvoker<PutBody>(client, 'put', schemaRegistryTopics.put, common);
    this.#get = new CommandInvoker<GetBody>(client, 'get', schemaRegistryTopics.get, common);
  }

  /**
   * Registers a schema and returns it as the service stored it, with the name and namespace the
   * service assigned. Registering identical content and version again returns the same schema.
   *
   * @example
   * ```ts
   * declare const registry: import('@aio-connector/core').SchemaRegistryClient;
   * const schema = await registry.put(
   *   { schemaContent: '{"type":"object"}', format: 'JsonSchema/draft-07', version: '1' },
   *   { signal: AbortSignal.timeout(30_000) },
   * );
   * ```
   */
  async put(
    request: SchemaPutRequest,
    options: SchemaRegistryRequestOptions = {},
  ): Promise<Schema> {
    const body = putBody(request);
    const response = await this.#invoke(this.#put, body, options, 'put');
    if (!isObject(response)) throw invalidPayload('put', 'is not a JSON object');
    if (response['error'] !== undefined && response['error'] !== null)
      throw readError(response, 'put');
    const schema = readSchema(response['schema'], 'put');
    this.#logger.debug(
      { name: schema.name, namespace: schema.namespace, version: schema.version },
      'schema registered',
    );
    return schema;
  }

  /**
   * Looks a schema up by name and version; resolves `undefined` when the registry does not have
   * it.
   *
   * @example
   * ```ts
   * declare const registry: import('@aio-connector/core').SchemaRegistryClient;
   * const schema = await registry.get({ name: '8695A113…', version: '1' });
   * if (schema === undefined) console.log('not registered');
   * ```
   */
  async get(
    request: SchemaGetRequest,
    options: SchemaRegistryRequestOptions = {},
  ): Promise<Schema | undefined> {
    if (!isObject(request)) throw new TypeError('request must be an object');
    const name = optionalString(request.name, 'name');
    if (name === undefined) throw new TypeError('name must be a string');
    if (name.length === 0) throw new RangeError('name must not be empty');
    const response = await this.#invoke(
      this.#get,
      { name, version: checkVersion(request.version) },
      options,
      'get',
    );
    if (response === undefined || response === null) return undefined;
    if (!isObject(response)) throw invalidPayload('get', 'is not a JSON object');
    if (response['error'] !== undefined && response['error'] !== null) {
      const error = readError(response, 'get');
      if (error.errorCode === schemaRegistryErrorCodes.notFound) return undefined;
      throw error;
    }
    if (response['schema'] === undefined || response['schema'] === null) return undefined;
    return readSchema(response['schema'], 'get');
  }

  /**
   * Stops the invokers; requests in flight reject. Safe to call twice.
   *
   * @example
   * ```ts
   * declare const registry: import('@aio-connector/core').SchemaRegistryClient;
   * await registry.close();
   * ```
   */
  close(): Promise<void> {
    this.#closing ??= Promise.allSettled([this.#put.stop(), this.#get.stop()]).then(
      () => undefined,
    );
    return this.#closing;
  }

  /** Same as {@link SchemaRegistryClient.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #invoke<T>(
    invoker: CommandInvoker<T>,
    body: T,
    options: SchemaRegistryRequestOptions,
    operation: 'put' | 'get',
  ): Promise<ResponseBody> {
    if (typeof options !== 'object' || options === null)
      throw new TypeError('options must be an object');
    if (this.#closing !== undefined)
      throw new AioError('ERR_AIO_CLOSED', 'the schema registry client is closed');
    const timeoutInMs = checkTimeout(options.timeoutInMs);
    try {
      const response = await invoker.invoke(body, {
        ...(timeoutInMs === undefined ? {} : { timeoutInMs }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
      return response.payload;
    } catch (error) {
      throw legacyBadRequest(error, operation);
    }
  }
}

function putBody(request: SchemaPutRequest): PutBody {
  if (!isObject(request)) throw new TypeError('request must be an object');
  const schemaContent = optionalString(request.schemaContent, 'schemaContent');
  if (schemaContent === undefined) throw new TypeError('schemaContent must be a string');
  if (schemaContent.trim().length === 0) throw new RangeError('schemaContent must not be empty');
  const format: unknown = request.format;
  if (typeof format !== 'string') throw new TypeError('format must be a string');
  if (!(schemaRegistryFormats as readonly string[]).includes(format))
    throw new RangeError(
      `format must be one of ${schemaRegistryFormats.join(', ')}, received ${format}`,
    );
  const schemaType = optionalString(request.schemaType, 'schemaType') ?? 'MessageSchema';
  if (schemaType !== 'MessageSchema')
    throw new RangeError(`schemaType must be MessageSchema, received ${schemaType}`);
  const description = optionalString(request.description, 'description');
  const displayName = optionalString(request.displayName, 'displayName');
  const tags = checkTags(request.tags);
  return {
    format,
    schemaType,
    schemaContent,
    version: checkVersion(request.version),
    ...(description === undefined ? {} : { description }),
    ...(displayName === undefined ? {} : { displayName }),
    ...(tags === undefined ? {} : { tags }),
  };
}

/** A schema to register through {@link schemaRegistryTarget}. */
export interface SchemaRegistration {
  readonly content: string;
  readonly format: SchemaRegistryFormat;
  readonly version: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly displayName?: string;
  readonly description?: string;
}

/** The registry's identity of a registered schema. */
export interface RegisteredSchemaReference {
  readonly namespace: string;
  readonly name: string;
  readonly version: string;
}

/** What the connector's schema manager registers schemas with. */
export interface SchemaRegistrationTarget {
  register(
    schema: SchemaRegistration,
    options?: { readonly signal?: AbortSignal },
  ): Promise<RegisteredSchemaReference>;
}

/**
 * Adapts a {@link SchemaRegistryClient} to the connector's schema manager: `register` puts the
 * schema and returns the namespace, name and version the service assigned.
 *
 * @example
 * ```ts
 * import { SchemaRegistryClient, schemaRegistryTarget } from '@aio-connector/core';
 * declare const session: import('@aio-connector/core').MqttClient;
 * const target = schemaRegistryTarget(new SchemaRegistryClient(session));
 * const { namespace, name, version } = await target.register({
 *   content: '{"type":"object"}',
 *   format: 'JsonSchema/draft-07',
 *   version: '1',
 * });
 * ```
 */
export function schemaRegistryTarget(
  registry: Pick<SchemaRegistryClient, 'put'>,
): SchemaRegistrationTarget {
  if (typeof registry !== 'object' || registry === null || typeof registry.put !== 'function')
    throw new TypeError('registry must be a SchemaRegistryClient');
  return Object.freeze({
    async register(
      schema: SchemaRegistration,
      options: { readonly signal?: AbortSignal } = {},
    ): Promise<RegisteredSchemaReference> {
      if (!isObject(schema)) throw new TypeError('schema must be an object');
      const registered = await registry.put(
        {
          schemaContent: schema.content,
          format: schema.format,
          version: schema.version,
          ...(schema.tags === undefined ? {} : { tags: schema.tags }),
          ...(schema.displayName === undefined ? {} : { displayName: schema.displayName }),
          ...(schema.description === undefined ? {} : { description: schema.description }),
        },
        options.signal === undefined ? {} : { signal: options.signal },
      );
      return {
        namespace: registered.namespace,
        name: registered.name,
        version: registered.version,
      };
    },
  });
}
