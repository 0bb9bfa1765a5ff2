/**
 * Parses JSON text while remembering where every value and property name starts, so that a JSON
 * pointer can be turned back into a line and column. Syntax errors are reported with the line
 * and column of the offending character and words that say how to fix it (trailing comma,
 * comment, single quotes, unquoted name, unclosed bracket, …). The parsed value itself comes from
 * `JSON.parse`, so it is exactly what every other JSON reader sees.
 *
 * @module
 */

/** A place in the text: 1-based line and column (UTF-16 code units). */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/** A property name that appears twice in the same object (the last one wins). */
export interface DuplicateKey {
  /** The path of the property: names and array indexes. */
  readonly path: readonly (string | number)[];
  /** The JSON pointer of the property. */
  readonly pointer: string;
  /** Where the earlier occurrence is. */
  readonly first: SourcePosition;
  /** Where the occurrence that wins is. */
  readonly position: SourcePosition;
}

/** Positions of the values of a parsed document, by JSON pointer. */
export interface JsonSourceMap {
  /** Where the value at `pointer` starts, or the nearest enclosing value that exists. */
  valueAt(pointer: string): SourcePosition | undefined;
  /** Where the property name of the member at `pointer` starts (`undefined` for array items). */
  keyAt(pointer: string): SourcePosition | undefined;
}

/** What {@link parseJsonSource} returns. */
export type JsonSourceParse =
  | {
      readonly ok: true;
      readonly value: unknown;
      readonly map: JsonSourceMap;
      readonly duplicateKeys: readonly DuplicateKey[];
    }
  | { readonly ok: false; readonly message: string; readonly position: SourcePosition };

const maxDepth = 1000;

class SyntaxFailure extends Error {
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

function pointerStep(pointer: string, key: string | number): string {
  return `${pointer}/${String(key).replaceAll('~', '~0').replaceAll('/', '~1')}`;
}

function lineStartsOf(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || (c === 0x0d && text.charCodeAt(i + 1) !== 0x0a)) starts.push(i + 1);
  }
  return starts;
}

function positionOf(starts: readonly number[], offset: number): SourcePosition {
  let low = 0;
  let high = starts.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if ((starts[middle] ?? 0) <= offset) low = middle;
    else high = middle - 1;
  }
  return { line: low + 1, column: offset - (starts[low] ?? 0) + 1 };
}

function showChar(text: string, offset: number): string {
  if (offset >= text.length) return 'the end of the file';
  const c = text.codePointAt(offset) ?? 0;
  if (c < 0x20) return `the control character U+${c.toString(16).padStart(4, '0').toUpperCase()}`;
  const word = /[A-Za-z_$][\w$]*/uy;
  word.lastIndex = offset;
  const match = word.exec(text);
  return match === null ? `'${String.fromCodePoint(c)}'` : `'${match[0]}'`;
}

/**
 * Parses `text` as JSON (a leading byte-order mark is ignored) and maps every value to its
 * position, or reports the first syntax error with its position.
 *
 * @example
 * ```ts
 * const parsed = parseJsonSource('{\n  "name": 1\n}');
 * if (parsed.ok) parsed.map.valueAt('/name'); // { line: 2, column: 11 }
 * ```
 */
export function parseJsonSource(input: string): JsonSourceParse {
  const text = input.startsWith('\uFEFF') ? input.slice(1) : input;
  const starts = lineStartsOf(text);
  const values = new Map<string, number>();
  const keys = new Map<string, number>();
  const duplicateKeys: DuplicateKey[] = [];
  let i = 0;

  const fail = (message: string, offset = i): never => {
    throw new SyntaxFailure(message, offset);
  };
  const skipWhitespace = (): void => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else return;
    }
  };
  const at = (offset: number): string => {
    const { line, column } = positionOf(starts, offset);
    return `line ${line} column ${column}`;
  };
  const unexpected = (expected: string): never => {
    const c = text[i];
    if (c === '/' && (text[i + 1] === '/' || text[i + 1] === '*'))
      fail('comments are not allowed in JSON');
    if (c === "'") fail('strings must use double quotes ("), not single quotes');
    const shown = showChar(text, i);
    if (/^'(?:True|False|Null|TRUE|FALSE|NULL)'$/u.test(shown))
      fail(`expected ${expected}, found ${shown}: JSON writes true, false and null in lower case`);
    if (/^'(?:undefined|NaN|Infinity)'$/u.test(shown))
      fail(`expected ${expected}, found ${shown}, which JSON does not have`);
    return fail(`expected ${expected}, found ${shown}`);
  };

  const parseString = (): void => {
    const open = i;
    i++;
    for (;;) {
      if (i >= text.length) fail(`the string that starts at ${at(open)} is not closed`);
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c === 0x5c) {
        const next = text[i + 1] ?? '';
        if (next === 'u') {
          if (!/^[0-9A-Fa-f]{4}$/u.test(text.slice(i + 2, i + 6)))
            fail('"\\u" must be followed by 4 hexadecimal digits');
          i += 6;
        } else if ('"\\/bfnrt'.includes(next) && next !== '') i += 2;
        else fail(`invalid escape "\\${next}" in a string (write "\\\\" for a backslash)`);
        continue;
      }
      if (c < 0x20) {
        fail(
          c === 0x0a || c === 0x0d
            ? `the string that starts at ${at(open)} is not closed on its line (write "\\n" for a line break)`
            : 'control characters in a string must be escaped (for a tab write "\\t")',
        );
      }
      i++;
    }
  };

  const numberPattern = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/uy;
  const numberish = /[-+0-9.eE]+/uy;
  const parseNumber = (): void => {
    numberPattern.lastIndex = i;
    const match = numberPattern.exec(text);
    numberish.lastIndex = i;
    const token = numberish.exec(text)?.[0] ?? '';
    if (match === null || match[0].length !== token.length) {
      fail(
        `invalid number "${token}" (JSON numbers have no leading zeros, no leading "+" and digits on both sides of ".")`,
      );
    }
    i += token.length;
  };

  const parseLiteral = (): void => {
    for (const literal of ['true', 'false', 'null']) {
      if (text.startsWith(literal, i) && !/[\w$]/u.test(text[i + literal.length] ?? '')) {
        i += literal.length;
        return;
      }
    }
    unexpected('a value');
  };

  const parseValue = (pointer: string, path: readonly (string | number)[]): void => {
    const depth = path.length;
    skipWhitespace();
    if (i >= text.length) fail('unexpected end of the file: a value is missing');
    if (depth > maxDepth) fail(`values are nested more than ${maxDepth} levels deep`);
    values.set(pointer, i);
    const c = text[i];
    if (c === '{') parseObject(pointer, path);
    else if (c === '[') parseArray(pointer, path);
    else if (c === '"') parseString();
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) parseNumber();
    else if (c === 't' || c === 'f' || c === 'n') parseLiteral();
    else unexpected('a value');
  };

  const parseObject = (pointer: string, path: readonly (string | number)[]): void => {
    const open = i;
    i++;
    const seen = new Map<string, number>();
    skipWhitespace();
    if (text[i] === '}') {
      i++;
      return;
    }
    for (;;) {
      skipWhitespace();
      if (text[i] !== '"') {
        if (i >= text.length) fail(`the object that starts at ${at(open)} is not closed with '}'`);
        if (text[i] === '}') fail("trailing comma before '}' (JSON does not allow it)");
        if (/[A-Za-z_$]/u.test(text[i] ?? ''))
          fail(`property names must be in double quotes, found ${showChar(text, i)}`);
        unexpected('a property name in double quotes');
      }
      const keyOffset = i;
      parseString();
      const key = JSON.parse(text.slice(keyOffset, i)) as string;
      skipWhitespace();
      if (text[i] !== ':') unexpected(`':' after the property name ${JSON.stringify(key)}`);
      i++;
      const child = pointerStep(pointer, key);
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        duplicateKeys.push({
          path: [...path, key],
          pointer: child,
          first: positionOf(starts, earlier),
          position: positionOf(starts, keyOffset),
        });
      }
      seen.set(key, keyOffset);
      keys.set(child, keyOffset);
      parseValue(child, [...path, key]);
      skipWhitespace();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') {
        i++;
        return;
      }
      if (i >= text.length) fail(`the object that starts at ${at(open)} is not closed with '}'`);
      if (text[i] === '"') fail(`missing ',' after the value of ${JSON.stringify(key)}`);
      unexpected(`',' or '}' after the value of ${JSON.stringify(key)}`);
    }
  };

  const parseArray = (pointer: string, path: readonly (string | number)[]): void => {
    const open = i;
    i++;
    skipWhitespace();
    if (text[i] === ']') {
      i++;
      return;
    }
    for (let index = 0; ; index++) {
      skipWhitespace();
      if (text[i] === ']') fail("trailing comma before ']' (JSON does not allow it)");
      parseValue(pointerStep(pointer, index), [...path, index]);
      skipWhitespace();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ']') {
        i++;
        return;
      }
      if (i >= text.length) fail(`the array that starts at ${at(open)} is not closed with ']'`);
      if (text[i] !== '}' && text[i] !== ':') fail(`missing ',' after item [${index}]`);
      unexpected(`',' or ']' after item [${index}]`);
    }
  };

  try {
    skipWhitespace();
    if (i >= text.length) fail('the file is empty: expected a JSON object');
    parseValue('', []);
    skipWhitespace();
    if (i < text.length) unexpected('the end of the file after the JSON value');
  } catch (error) {
    if (!(error instanceof SyntaxFailure)) throw error;
    return { ok: false, message: error.message, position: positionOf(starts, error.offset) };
  }

  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, message: (error as Error).message, position: { line: 1, column: 1 } };
  }

  const map: JsonSourceMap = {
    valueAt(pointer) {
      for (let p = pointer; ; p = p.slice(0, p.lastIndexOf('/'))) {
        const offset = values.get(p);
        if (offset !== undefined) return positionOf(starts, offset);
        if (p === '') return undefined;
      }
    },
    keyAt(pointer) {
      const offset = keys.get(pointer);
      return offset === undefined ? undefined : positionOf(starts, offset);
    },
  };
  return { ok: true, value, map, duplicateKeys };
}
