/**
 * Text helpers of the CLI: ANSI colours (only for terminals), times, durations, and a compact form
 * of the JSON log lines connectors write.
 *
 * @module
 */

/** Colour functions; identity functions when colour is off. */
export interface Palette {
  readonly red: (text: string) => string;
  readonly green: (text: string) => string;
  readonly yellow: (text: string) => string;
  readonly cyan: (text: string) => string;
  readonly dim: (text: string) => string;
  readonly bold: (text: string) => string;
}

const wrap =
  (open: number, close: number) =>
  (text: string): string =>
    `\u001b[${open}m${text}\u001b[${close}m`;

/** A palette with colours, or without. */
export function palette(colour: boolean): Palette {
  if (!colour) {
    const same = (text: string): string => text;
    return { red: same, green: same, yellow: same, cyan: same, dim: same, bold: same };
  }
  return {
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    cyan: wrap(36, 39),
    dim: wrap(2, 22),
    bold: wrap(1, 22),
  };
}

/** Whether to colour a stream: a TTY, unless `NO_COLOR` is set (or `FORCE_COLOR` forces it). */
export function wantsColour(stream: NodeJS.WriteStream): boolean {
  if (process.env['NO_COLOR'] !== undefined && process.env['NO_COLOR'] !== '') return false;
  if (process.env['FORCE_COLOR'] !== undefined && process.env['FORCE_COLOR'] !== '0') return true;
  return stream.isTTY;
}

/** `HH:MM:SS.mmm` in local time. */
export function clock(time: number = Date.now()): string {
  const date = new Date(time);
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}

/** A duration for people: `850 ms`, `2.5 s`, `3 min`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.round(ms / 60_000)} min`;
}

/** Cuts text to `width` characters with an ellipsis. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return '';
  return text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text;
}

/** The visible length of text with ANSI escapes. */
export function visibleLength(text: string): number {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').length;
}

/** Pads text with ANSI escapes to a visible width. */
export function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - visibleLength(text)));
}

/** A log line of a connector, condensed. */
export interface LogLine {
  /** `trace` … `fatal`, or `undefined` for a line that is not a JSON log record. */
  readonly level: string | undefined;
  readonly text: string;
}

const skippedKeys = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'v']);

function short(value: unknown): string {
  if (typeof value === 'string') return /\s/.test(value) ? JSON.stringify(value) : value;
  if (typeof value === 'object' && value !== null && 'message' in value) {
    const error = value as { message?: unknown; code?: unknown };
    return JSON.stringify(
      `${typeof error.code === 'string' ? `${error.code}: ` : ''}${String(error.message)}`,
    );
  }
  return JSON.stringify(value) ?? String(value);
}

/**
 * Condenses a JSON log record (`{"level":"info","time":…,"msg":"…",…}`) into
 * `info connector running clientId=rest-0`; other lines are kept as they are.
 */
export function condenseLogLine(line: string): LogLine {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return { level: undefined, text: line };
  let record: unknown;
  try {
    record = JSON.parse(trimmed);
  } catch {
    return { level: undefined, text: line };
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record))
    return { level: undefined, text: line };
  const fields = record as Record<string, unknown>;
  const rawLevel = fields['level'];
  const level =
    typeof rawLevel === 'string'
      ? rawLevel
      : typeof rawLevel === 'number'
        ? ((
            {
              10: 'trace',
              20: 'debug',
              30: 'info',
              40: 'warn',
              50: 'error',
              60: 'fatal',
            } as Record<number, string>
          )[rawLevel] ?? String(rawLevel))
        : undefined;
  const parts: string[] = [];
  if (typeof fields['msg'] === 'string') parts.push(fields['msg']);
  for (const [key, value] of Object.entries(fields)) {
    if (skippedKeys.has(key) || value === undefined) continue;
    parts.push(`${key}=${truncate(short(value), 160)}`);
  }
  return { level, text: `${level ?? 'log'} ${parts.join(' ')}` };
}
