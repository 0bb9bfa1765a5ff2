/**
 * JSON Schema (draft-07) inference from payloads, merging across samples: the schema only ever
 * widens (a new property, a number where an integer was, a property that went missing is no longer
 * required), and each widening produces new schema content to register.
 *
 * @module
 */
import { createSchema, extendSchema, type Schema } from 'genson-js';

/** The `$schema` of inferred schemas. */
export const draft07 = 'http://json-schema.org/draft-07/schema#';

/**
 * Serializes JSON with object keys sorted at every level, so equal schemas always give equal
 * bytes (and the registry's content hash is stable).
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item !== null && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(
          Object.entries(item as Record<string, unknown>).sort(([a], [b]) =>
            a < b ? -1 : a > b ? 1 : 0,
          ),
        )
      : item,
  );
}

/** Sorts every `required` list, so the order properties first appeared in does not matter. */
function sortRequired(schema: Schema): Schema {
  const out: Schema = { ...schema };
  if (schema.required) out.required = [...schema.required].sort();
  if (schema.items) out.items = sortRequired(schema.items);
  if (schema.anyOf) out.anyOf = schema.anyOf.map(sortRequired);
  if (schema.properties)
    out.properties = Object.fromEntries(
      Object.entries(schema.properties).map(([name, item]) => [name, sortRequired(item)]),
    );
  return out;
}

/**
 * Infers a draft-07 JSON Schema from a stream of JSON values.
 *
 * @example
 * ```ts
 * import { JsonSchemaInferrer } from '@aio-connector/core';
 * const inferrer = new JsonSchemaInferrer();
 * inferrer.observe({ t: 1 });   // first schema content (string)
 * inferrer.observe({ t: 2 });   // undefined: nothing new
 * inferrer.observe({ t: 2.5 }); // widened: integer → number
 * ```
 */
export class JsonSchemaInferrer {
  #schema: Schema | undefined;
  #content: string | undefined;

  /** The current schema content (canonical JSON), if any value was observed. */
  get content(): string | undefined {
    return this.#content;
  }

  /**
   * Merges `value` into the schema. Returns the new content when the schema changed (the first
   * value, or a widening), `undefined` otherwise.
   */
  observe(value: unknown): string | undefined {
    const next =
      this.#schema === undefined ? createSchema(value) : extendSchema(this.#schema, value);
    const content = canonicalJson({ $schema: draft07, ...sortRequired(next) });
    if (content === this.#content) return undefined;
    this.#schema = next;
    this.#content = content;
    return content;
  }
}
