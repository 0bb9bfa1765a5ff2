/**
 * Checks that a value is a JSON Schema draft-07 document: the rules of the draft-07 meta-schema,
 * which connector metadata applies to every `…ConfigurationSchema` it carries. Keyword values
 * must have the right types (`minLength` a non-negative integer, `type` a type name or a list of
 * distinct type names, `enum` a non-empty list of distinct values, `items` a schema or a non-empty
 * list of schemas, …); sub-schemas are checked recursively. Unknown keywords are allowed, as in
 * draft-07, with a warning when one looks like a misspelt keyword. `format` values (`uri`,
 * `regex`) are annotations here, as draft-07 allows: an invalid regular expression in `pattern`
 * or `patternProperties` is a warning, not an error.
 *
 * @module
 */
import {
  anything,
  array,
  boolean,
  closestName,
  describeValue,
  integer,
  isObject,
  jsonEqual,
  listOf,
  showValue,
  string,
  type Check,
  type Findings,
  type Path,
} from './schema-walker.ts';

const simpleTypes = ['array', 'boolean', 'integer', 'null', 'number', 'object', 'string'];

/** Type names people write by habit from programming languages. */
const typeAliases: Readonly<Record<string, string>> = {
  int: 'integer',
  long: 'integer',
  bool: 'boolean',
  float: 'number',
  double: 'number',
  decimal: 'number',
  str: 'string',
  text: 'string',
  list: 'array',
  dict: 'object',
  map: 'object',
};

function number(options: { readonly positive?: boolean } = {}): Check {
  const expected = options.positive === true ? 'a number greater than 0' : 'a number';
  return {
    expected,
    validate(value, path, findings) {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        findings.error(path, 'type', `must be ${expected}, found ${describeValue(value)}`);
      } else if (options.positive === true && value <= 0) {
        findings.error(path, 'minimum', `must be ${expected}, found ${value}`);
      }
    },
  };
}

const typeName: Check = {
  expected: `a type name (${listOf(simpleTypes)})`,
  validate(value, path, findings) {
    if (typeof value === 'string' && simpleTypes.includes(value)) return;
    const alias = typeof value === 'string' ? typeAliases[value.toLowerCase()] : undefined;
    const near = alias ?? (typeof value === 'string' ? closestName(value, simpleTypes) : undefined);
    findings.error(
      path,
      'enum',
      `must be ${typeName.expected}, found ${showValue(value)}${near === undefined ? '' : ` (did you mean ${JSON.stringify(near)}?)`}`,
    );
  },
};

const typeNames = array(typeName, {
  minItems: 1,
  unique: true,
  expected: 'a non-empty array of distinct type names',
});

const typeKeyword: Check = {
  expected: `${typeName.expected} or a non-empty array of distinct type names`,
  validate(value, path, findings) {
    if (Array.isArray(value)) typeNames.validate(value, path, findings);
    else typeName.validate(value, path, findings);
  },
};

const nonNegativeInteger = integer({ minimum: 0 });

const stringArray = array(string(), {
  unique: true,
  expected: 'an array of distinct strings',
});

/** A JSON Schema draft-07 document (an object or `true` / `false`), checked recursively. */
export const jsonSchemaDraft07: Check = {
  expected: 'a JSON Schema (an object, or true or false)',
  validate: validateSchema,
};

const schemaArray = array(jsonSchemaDraft07, {
  minItems: 1,
  expected: 'a non-empty array of JSON Schemas',
});

const schemaOrSchemaArray: Check = {
  expected: 'a JSON Schema or a non-empty array of JSON Schemas',
  validate(value, path, findings) {
    if (Array.isArray(value)) schemaArray.validate(value, path, findings);
    else if (typeof value === 'boolean' || isObject(value))
      jsonSchemaDraft07.validate(value, path, findings);
    else
      findings.error(
        path,
        'type',
        `must be ${schemaOrSchemaArray.expected}, found ${describeValue(value)}`,
      );
  },
};

function mapOf(values: Check, expected: string): Check {
  return {
    expected,
    validate(value, path, findings) {
      if (!isObject(value)) {
        findings.error(path, 'type', `must be ${expected}, found ${describeValue(value)}`);
        return;
      }
      for (const [key, child] of Object.entries(value)) {
        if (child !== undefined) values.validate(child, [...path, key], findings);
      }
    },
  };
}

const dependency: Check = {
  expected: 'a JSON Schema or an array of distinct property names',
  validate(value, path, findings) {
    if (Array.isArray(value)) stringArray.validate(value, path, findings);
    else if (typeof value === 'boolean' || isObject(value))
      jsonSchemaDraft07.validate(value, path, findings);
    else
      findings.error(path, 'type', `must be ${dependency.expected}, found ${describeValue(value)}`);
  },
};

const enumKeyword: Check = {
  expected: 'a non-empty array of distinct values',
  validate(value, path, findings) {
    if (!Array.isArray(value)) {
      findings.error(
        path,
        'type',
        `must be ${enumKeyword.expected}, found ${describeValue(value)}`,
      );
      return;
    }
    if (value.length === 0)
      findings.error(path, 'min-items', 'must list at least 1 value, found an empty array');
    for (let j = 1; j < value.length; j++) {
      const i = value.findIndex((item, k) => k < j && jsonEqual(item, value[j]));
      if (i >= 0) {
        findings.error(
          [...path, j],
          'unique-items',
          `repeats value [${i}] (${showValue(value[j])}): the values must all differ`,
        );
      }
    }
  },
};

const schemaMap = mapOf(jsonSchemaDraft07, 'an object whose values are JSON Schemas');
const text = string();

/** The draft-07 keywords and the rule for the value of each. */
const keywords: Readonly<Record<string, Check>> = {
  $id: text,
  $schema: text,
  $ref: text,
  $comment: text,
  title: text,
  description: text,
  default: anything,
  readOnly: boolean,
  writeOnly: anything,
  examples: array(anything, { expected: 'an array' }),
  multipleOf: number({ positive: true }),
  maximum: number(),
  exclusiveMaximum: number(),
  minimum: number(),
  exclusiveMinimum: number(),
  maxLength: nonNegativeInteger,
  minLength: nonNegativeInteger,
  pattern: text,
  additionalItems: jsonSchemaDraft07,
  items: schemaOrSchemaArray,
  maxItems: nonNegativeInteger,
  minItems: nonNegativeInteger,
  uniqueItems: boolean,
  contains: jsonSchemaDraft07,
  maxProperties: nonNegativeInteger,
  minProperties: nonNegativeInteger,
  required: stringArray,
  additionalProperties: jsonSchemaDraft07,
  definitions: schemaMap,
  properties: schemaMap,
  patternProperties: schemaMap,
  dependencies: mapOf(
    dependency,
    'an object whose values are JSON Schemas or arrays of property names',
  ),
  propertyNames: jsonSchemaDraft07,
  const: anything,
  enum: enumKeyword,
  type: typeKeyword,
  format: text,
  contentMediaType: text,
  contentEncoding: text,
  if: jsonSchemaDraft07,
  then: jsonSchemaDraft07,
  else: jsonSchemaDraft07,
  allOf: schemaArray,
  anyOf: schemaArray,
  oneOf: schemaArray,
  not: jsonSchemaDraft07,
};

/** Keywords of later drafts, with their draft-07 spelling. */
const laterDraftKeywords: Readonly<Record<string, string>> = {
  $defs: 'draft-07 names it "definitions"',
  dependentRequired: 'draft-07 names it "dependencies"',
  dependentSchemas: 'draft-07 names it "dependencies"',
  prefixItems: 'draft-07 writes it as "items" with an array of schemas',
};

function validateSchema(value: unknown, path: Path, findings: Findings): void {
  if (typeof value === 'boolean') return;
  if (!isObject(value)) {
    findings.error(
      path,
      'type',
      `must be ${jsonSchemaDraft07.expected}, found ${describeValue(value)}`,
    );
    return;
  }
  for (const key of Object.keys(value)) {
    const child = value[key];
    const check = Object.hasOwn(keywords, key) ? keywords[key] : undefined;
    if (check !== undefined) {
      if (child !== undefined) check.validate(child, [...path, key], findings);
      continue;
    }
    const later = laterDraftKeywords[key];
    const near = closestName(key, Object.keys(keywords), { containment: false });
    if (later !== undefined || near !== undefined) {
      findings.warning(
        [...path, key],
        'sdk-schema-keyword',
        `is not a JSON Schema draft-07 keyword, so it is ignored; ${later ?? `did you mean ${JSON.stringify(near)}?`}`,
        true,
      );
    }
  }
  const pattern = value['pattern'];
  if (typeof pattern === 'string') checkRegex(pattern, [...path, 'pattern'], false, findings);
  const patternProperties = value['patternProperties'];
  if (isObject(patternProperties)) {
    for (const key of Object.keys(patternProperties))
      checkRegex(key, [...path, 'patternProperties', key], true, findings);
  }
}

/**
 * Warns when `source` is not a valid ECMAScript regular expression. JSON Schema compiles patterns
 * with the `u` flag (the default); pass `''` for a looser check.
 */
export function checkRegex(
  source: string,
  path: Path,
  onKey: boolean,
  findings: Findings,
  flags = 'u',
): void {
  try {
    new RegExp(source, flags);
  } catch (error) {
    findings.warning(
      path,
      'sdk-regex',
      `is not a valid regular expression: ${(error as Error).message}`,
      onKey,
    );
  }
}
