/**
 * A lenient JSON reader for the stringified configuration fields of ADR definitions
 * (`datasetConfiguration`, `defaultDatasetsConfiguration`, `additionalConfiguration`, ...): the
 * official samples write them with trailing commas (`'{ "samplingInterval": 4000, }'`), and people
 * write comments. Everything else is strict JSON.
 *
 * @module
 */
import { ConfigError } from './errors.ts';

/**
 * Removes `//` and `/* *\/` comments and trailing commas (a comma followed only by whitespace or
 * comments before `}` or `]`) outside of strings. The result has the same line structure.
 */
export function stripLenientJson(text: string): string {
  let out = '';
  let pendingComma = -1; // index in `out` of a comma that may turn out to be trailing
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === '"') {
      const start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      out += text.slice(start, i + 1);
      pendingComma = -1;
    } else if (ch === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      if (i < text.length) out += '\n';
    } else if (ch === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const comment = end === -1 ? text.slice(i) : text.slice(i, end + 2);
      out += comment.replace(/[^\n]/g, ' ');
      i = end === -1 ? text.length : end + 1;
    } else if (ch === ',') {
      // only a comma that follows a value can be a trailing comma; `{,}` stays invalid
      pendingComma = /[{[,]$/.test(out.trimEnd()) ? -1 : out.length;
      out += ch;
    } else if ((ch === '}' || ch === ']') && pendingComma !== -1) {
      out = `${out.slice(0, pendingComma)} ${out.slice(pendingComma + 1)}${ch}`;
      pendingComma = -1;
    } else {
      if (!/\s/.test(ch)) pendingComma = -1;
      out += ch;
    }
  }
  return out;
}

/**
 * Parses lenient JSON (strict JSON plus trailing commas and comments). Throws a `ConfigError`
 * naming `source` and `field` when the text is not valid, with the parser's reason.
 *
 * @example
 * ```ts
 * import { parseLenientJson } from '@aio-connector/core';
 * parseLenientJson('{ "HttpRequestMethod": "GET", }'); // { HttpRequestMethod: 'GET' }
 * ```
 */
export function parseLenientJson(
  text: string,
  where: { readonly source?: string; readonly field?: string } = {},
): unknown {
  try {
    return JSON.parse(stripLenientJson(text)) as unknown;
  } catch (error) {
    const name = [where.source, where.field].filter(Boolean).join(' ') || 'value';
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`${name} is not valid JSON: ${reason}`, {
      cause: error,
      ...(where.source === undefined ? {} : { source: where.source }),
      ...(where.field === undefined ? {} : { field: where.field }),
    });
  }
}

/**
 * Parses an optional stringified JSON object (a `*Configuration` field). Absent, empty or
 * whitespace-only text gives `{}`; anything that is not a JSON object throws a `ConfigError`.
 *
 * @example
 * ```ts
 * import { parseConfigurationObject } from '@aio-connector/core';
 * parseConfigurationObject('{ "samplingInterval": 4000, }', { field: 'defaultDatasetsConfiguration' });
 * ```
 */
export function parseConfigurationObject(
  text: string | undefined | null,
  where: { readonly source?: string; readonly field?: string } = {},
): Record<string, unknown> {
  if (text == null || text.trim() === '') return {};
  const value = parseLenientJson(text, where);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const name = [where.source, where.field].filter(Boolean).join(' ') || 'value';
    throw new ConfigError(
      `${name} must be a JSON object, found ${Array.isArray(value) ? 'an array' : typeof value}`,
      {
        ...(where.source === undefined ? {} : { source: where.source }),
        ...(where.field === undefined ? {} : { field: where.field }),
      },
    );
  }
  return value as Record<string, unknown>;
}
