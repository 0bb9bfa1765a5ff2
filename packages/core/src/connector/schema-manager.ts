/**
 * Message schemas of forwarded data: inferred from the payloads (the default) or given explicitly
 * by the connector, registered with the schema registry on first forward and again whenever an
 * inferred schema widens. The registry is behind the small {@link SchemaRegistryTarget} interface
 * so the target can change (schema registry `;2` today, the Edge Registry next).
 *
 * @module
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { AioError } from '../errors.ts';
import { silentLogger, type Logger } from '../logger.ts';
import { noopTelemetry, type Telemetry } from '../telemetry.ts';
import type { SchemaReference } from './aio-cloud-event.ts';
import { JsonSchemaInferrer } from './schema-inference.ts';

/** A schema format the registry knows. */
export type SchemaFormat = 'JsonSchema/draft-07' | 'Delta/1.0';

/** A schema to register. */
export interface MessageSchema {
  /** The schema document (JSON text for `JsonSchema/draft-07`). */
  readonly content: string;
  /** Default: `JsonSchema/draft-07`. */
  readonly format?: SchemaFormat;
  /** Default: `"1"`. */
  readonly version?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly displayName?: string;
  readonly description?: string;
}

/** Where schemas are registered. */
export interface SchemaRegistryTarget {
  /** Registers a schema and returns the registry's identity for it (keep that, not a local id). */
  register(
    schema: Required<Pick<MessageSchema, 'content' | 'format' | 'version'>> & MessageSchema,
    options?: { readonly signal?: AbortSignal },
  ): Promise<SchemaReference>;
}

/** What to do with a payload that does not match an explicit schema. */
export type SchemaMismatchPolicy = 'forward' | 'drop';

/** Options of {@link SchemaManager}. */
export interface SchemaManagerOptions {
  /** Where to register. Without one, schemas are inferred/validated but never registered. */
  readonly registry?: SchemaRegistryTarget;
  /** Default: `forward` (forward anyway and report). */
  readonly mismatchPolicy?: SchemaMismatchPolicy;
  /** Wait after a failed registration before trying again, in ms. Default: 30 000. */
  readonly registrationRetryInMs?: number;
  readonly logger?: Logger;
  readonly telemetry?: Telemetry;
}

/** The outcome of {@link SchemaManager.prepare}. */
export interface SchemaDecision {
  /** The registered schema to reference in `dataschema` and the status, if any. */
  readonly schema?: SchemaReference;
  /** The schema reference changed (first registration or a new version): report it. */
  readonly changed: boolean;
  /** Forward the payload. `false` only with the `drop` mismatch policy. */
  readonly forward: boolean;
  /** A problem to report on the dataset's or event's status (mismatch, registration failure). */
  readonly problem?: AioError;
}

interface Entry {
  readonly explicit: MessageSchema | undefined;
  readonly inferrer: JsonSchemaInferrer | undefined;
  readonly validate: ValidateFunction | undefined;
  /** Content waiting to be registered. */
  pending: string | undefined;
  registered: SchemaReference | undefined;
  registering: Promise<void> | undefined;
  retryAt: number;
  versions: number;
  lastProblem: AioError | undefined;
}

function parseJson(payload: Uint8Array): { ok: true; value: unknown } | { ok: false } {
  try {
    return {
      ok: true,
      value: JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload)),
    };
  } catch {
    return { ok: false };
  }
}

/**
 * Schemas per forwarded data stream (one key per dataset or event).
 *
 * @example
 * ```ts
 * import { SchemaManager } from '@aio-connector/core';
 * const schemas = new SchemaManager({ registry });
 * const decision = await schemas.prepare('dev_ep_asset_ds', payload);
 * if (decision.forward) await forward(payload, decision.schema);
 * ```
 */
export class SchemaManager {
  readonly #entries = new Map<string, Entry>();
  readonly #registry: SchemaRegistryTarget | undefined;
  readonly #mismatchPolicy: SchemaMismatchPolicy;
  readonly #retryInMs: number;
  readonly #logger: Logger;
  readonly #telemetry: Telemetry;
  readonly #ajv = new Ajv({ strict: false, allErrors: false });

  constructor(options: SchemaManagerOptions = {}) {
    const policy = options.mismatchPolicy ?? 'forward';
    if (policy !== 'forward' && policy !== 'drop')
      throw new RangeError(`mismatchPolicy must be forward or drop, received ${policy as string}`);
    this.#registry = options.registry;
    this.#mismatchPolicy = policy;
    this.#retryInMs = options.registrationRetryInMs ?? 30_000;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'schemas' });
    this.#telemetry = options.telemetry ?? noopTelemetry;
  }

  /**
   * Declares the schema of a key: an explicit schema (validated as JSON Schema when it is one) or
   * `undefined` for inference. Replaces what the key had (call it again after an asset update).
   * Throws `ERR_AIO_SCHEMA_INVALID` for an explicit JSON Schema that does not compile.
   */
  define(key: string, schema: MessageSchema | undefined): void {
    this.#entries.set(key, this.#create(key, schema));
  }

  #create(key: string, schema: MessageSchema | undefined): Entry {
    let validate: ValidateFunction | undefined;
    if (schema && (schema.format ?? 'JsonSchema/draft-07') === 'JsonSchema/draft-07') {
      try {
        validate = this.#ajv.compile(JSON.parse(schema.content) as object);
      } catch (error) {
        throw new AioError(
          'ERR_AIO_SCHEMA_INVALID',
          `the message schema for ${key} is not a valid JSON Schema: ${(error as Error).message}`,
          { cause: error },
        );
      }
    }
    return {
      explicit: schema,
      inferrer: schema ? undefined : new JsonSchemaInferrer(),
      validate,
      pending: schema?.content,
      registered: undefined,
      registering: undefined,
      retryAt: 0,
      versions: 0,
      lastProblem: undefined,
    };
  }

  /** Forgets a key (its dataset or event is gone). */
  delete(key: string): void {
    this.#entries.delete(key);
  }

  /** The registered schema of a key, if any. */
  registered(key: string): SchemaReference | undefined {
    return this.#entries.get(key)?.registered;
  }

  /**
   * Looks at a payload before it is forwarded: infers or validates, registers the (new) schema
   * when needed, and says what to reference and whether to forward.
   */
  async prepare(
    key: string,
    payload: Uint8Array,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<SchemaDecision> {
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = this.#create(key, undefined);
      this.#entries.set(key, entry);
    }
    let problem: AioError | undefined;
    let forward = true;
    if (entry.inferrer) {
      const parsed = parseJson(payload);
      if (parsed.ok) {
        const widened = entry.inferrer.observe(parsed.value);
        if (widened !== undefined) {
          entry.pending = widened;
          entry.retryAt = 0;
        }
      }
    } else if (entry.validate) {
      const parsed = parseJson(payload);
      const ok = parsed.ok && entry.validate(parsed.value);
      if (!ok) {
        const reason = parsed.ok
          ? this.#ajv.errorsText(entry.validate.errors, { dataVar: 'payload' })
          : 'the payload is not JSON';
        problem = new AioError(
          'ERR_AIO_SCHEMA_MISMATCH',
          `payload of ${key} does not match its message schema: ${reason}`,
          { details: { key, policy: this.#mismatchPolicy } },
        );
        forward = this.#mismatchPolicy === 'forward';
      }
    }
    const before = entry.registered;
    await this.#register(key, entry, options.signal);
    problem ??= entry.registered === undefined ? entry.lastProblem : undefined;
    return {
      ...(entry.registered === undefined ? {} : { schema: entry.registered }),
      changed: entry.registered !== before,
      forward,
      ...(problem === undefined ? {} : { problem }),
    };
  }

  async #register(key: string, entry: Entry, signal: AbortSignal | undefined): Promise<void> {
    if (!this.#registry || entry.pending === undefined) return;
    if (entry.registering) {
      await entry.registering;
      return;
    }
    if (performance.now() < entry.retryAt) return;
    const content = entry.pending;
    const version = entry.explicit?.version ?? String(entry.versions + 1);
    entry.registering = (async () => {
      try {
        const reference = await (this.#registry as SchemaRegistryTarget).register(
          {
            ...entry.explicit,
            content,
            format: entry.explicit?.format ?? 'JsonSchema/draft-07',
            version,
          },
          signal === undefined ? {} : { signal },
        );
        if (entry.pending === content) entry.pending = undefined;
        entry.registered = reference;
        entry.versions += 1;
        entry.lastProblem = undefined;
        this.#telemetry.recordSchemaRegistration({ 'aio.schema.key': key }, true);
        this.#logger.info({ schemaKey: key, schema: reference }, 'message schema registered');
      } catch (error) {
        if (signal?.aborted) {
          // the forward that started it gave up: not the registry's failure; the next one retries
          this.#logger.debug({ schemaKey: key }, 'message schema registration aborted');
          return;
        }
        entry.retryAt = performance.now() + this.#retryInMs;
        entry.lastProblem = new AioError(
          'ERR_AIO_SCHEMA_REGISTRATION',
          `registering the message schema of ${key} failed: ${(error as Error).message}`,
          { cause: error, retryable: true },
        );
        this.#telemetry.recordSchemaRegistration({ 'aio.schema.key': key }, false);
        this.#logger.warn(
          { schemaKey: key, err: error },
          'message schema registration failed; forwarding without a schema reference',
        );
      } finally {
        entry.registering = undefined;
      }
    })();
    await entry.registering;
  }
}
