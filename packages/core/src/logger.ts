/**
 * The logger interface of the SDK: a subset of pino's API, so a pino logger can be passed as is.
 * Libraries never print; the default logger is silent.
 *
 * @module
 */

/** A log method: an optional object of bindings first, then a message. */
export interface LogFn {
  (message: string): void;
  (bindings: Readonly<Record<string, unknown>>, message?: string): void;
}

/**
 * A pino-compatible logger.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * const connector = new MyConnector({ logger: pino({ level: 'info' }) });
 * ```
 */
export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  child(bindings: Readonly<Record<string, unknown>>): Logger;
}

const noop = (): void => undefined;

/**
 * A logger that discards everything. The default of every component.
 *
 * @example
 * ```ts
 * import { silentLogger } from '@aio-connector/core';
 * silentLogger.info('never printed');
 * ```
 */
export const silentLogger: Logger = Object.freeze({
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  fatal: noop,
  child: () => silentLogger,
});

/** The log levels, lowest first. */
export const logLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;

/** A log level name, or `silent`. */
export type LogLevel = (typeof logLevels)[number] | 'silent';

const secretKey = /pass(word)?|secret|token|authorization|cookie|credential|private.?key|^key$/i;

/**
 * Returns a copy of `value` in which every property whose name looks like a secret (password,
 * token, authorization, key, ...) is replaced by `"[redacted]"`, and credentials embedded in URLs
 * are stripped. Used on everything the SDK logs or attaches to errors.
 *
 * @example
 * ```ts
 * import { redact } from '@aio-connector/core';
 * redact({ user: 'u', password: 'p' }); // { user: 'u', password: '[redacted]' }
 * ```
 */
export function redact(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[truncated]';
  if (typeof value === 'string') return redactUrl(value);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((item) => redact(item, depth + 1));
  if (ArrayBuffer.isView(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = secretKey.test(key) && item != null ? '[redacted]' : redact(item, depth + 1);
  }
  return out;
}

/**
 * Strips a `user:password@` part from a URL-like string.
 *
 * @example
 * ```ts
 * import { redactUrl } from '@aio-connector/core';
 * redactUrl('https://u:p@host/x'); // 'https://[redacted]@host/x'
 * ```
 */
export function redactUrl(text: string): string {
  return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)[^/\s@]+@/gi, '$1[redacted]@');
}

/**
 * Creates a small logger that writes one JSON line per record to a stream (default: stderr). Used
 * by the CLIs and by `run()` when no logger is given; libraries should accept a logger instead.
 *
 * @example
 * ```ts
 * import { createJsonLogger } from '@aio-connector/core';
 * const logger = createJsonLogger({ level: 'debug' });
 * logger.child({ asset: 'a1' }).info({ count: 3 }, 'sampled');
 * ```
 */
export function createJsonLogger(
  options: {
    readonly level?: LogLevel;
    readonly bindings?: Readonly<Record<string, unknown>>;
    readonly write?: (line: string) => void;
  } = {},
): Logger {
  const level = options.level ?? 'info';
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const threshold = level === 'silent' ? Infinity : logLevels.indexOf(level);
  const make = (bindings: Readonly<Record<string, unknown>>): Logger => {
    const method = (name: (typeof logLevels)[number]): LogFn => {
      const index = logLevels.indexOf(name);
      if (index < threshold) return noop;
      return (first: unknown, message?: string) => {
        const record: Record<string, unknown> = {
          level: name,
          time: new Date().toISOString(),
          ...bindings,
        };
        if (typeof first === 'string') record['msg'] = first;
        else {
          Object.assign(record, redact(first));
          if (message !== undefined) record['msg'] = message;
        }
        for (const [key, item] of Object.entries(record)) {
          if (item instanceof Error)
            record[key] = {
              message: redactUrl(item.message),
              name: item.name,
              ...('code' in item ? { code: item.code } : {}),
            };
        }
        write(`${JSON.stringify(record)}\n`);
      };
    };
    return {
      trace: method('trace'),
      debug: method('debug'),
      info: method('info'),
      warn: method('warn'),
      error: method('error'),
      fatal: method('fatal'),
      child: (more) => make({ ...bindings, ...(redact(more) as Record<string, unknown>) }),
    };
  };
  return make(options.bindings ?? {});
}
