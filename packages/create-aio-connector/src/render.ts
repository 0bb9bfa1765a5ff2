/**
 * Placeholder substitution in template files: `{{name}}` is replaced by the value of `name`.
 * Nothing else is interpreted (no conditions, no loops), so a template stays a plain project file.
 *
 * @module
 */

const placeholder = /\{\{\s*([A-Za-z][A-Za-z0-9]*)\s*\}\}/gu;

/**
 * Replaces every `{{name}}` in `text` with `values[name]`. Throws a `RangeError` naming the
 * placeholder (and `where`, when given) for a placeholder that has no value, so a template can
 * never produce a file with a placeholder left in it.
 *
 * @example
 * ```ts
 * import { renderTemplate } from 'create-aio-connector';
 * renderTemplate('"name": "{{connectorName}}"', { connectorName: 'thermostat' });
 * // '"name": "thermostat"'
 * ```
 */
export function renderTemplate(
  text: string,
  values: Readonly<Record<string, string>>,
  where?: string,
): string {
  if (typeof text !== 'string') throw new TypeError(`text must be a string, found ${typeof text}`);
  return text.replace(placeholder, (_match, name: string) => {
    const value = Object.hasOwn(values, name) ? values[name] : undefined;
    if (typeof value !== 'string')
      throw new RangeError(
        `unknown placeholder {{${name}}}${where === undefined ? '' : ` in ${where}`}; known: ${Object.keys(values).join(', ')}`,
      );
    return value;
  });
}

/**
 * The placeholders used in `text`, each once, in order of first use.
 *
 * @example
 * ```ts
 * import { placeholdersOf } from 'create-aio-connector';
 * placeholdersOf('{{a}} {{b}} {{a}}'); // ['a', 'b']
 * ```
 */
export function placeholdersOf(text: string): string[] {
  return [...new Set(Array.from(text.matchAll(placeholder), (match) => match[1] ?? ''))];
}
