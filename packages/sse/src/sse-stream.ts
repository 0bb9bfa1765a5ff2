/**
 * `SseStream`: one Server-Sent Events stream of a device endpoint, kept open. It reconnects after
 * every drop with exponential backoff and jitter (never sooner than the server's `retry:`, which
 * is capped), resumes with `Last-Event-ID`, closes a stream that went silent (idle watchdog), and
 * treats 204 and non-retryable failures (4xx, wrong content type, TLS) as a stop, tried again on a
 * slow schedule. Messages are handed over one at a time: while the handler has not finished with
 * one, the body is not read (backpressure reaches the server through TCP flow control).
 *
 * @module
 */
import { Buffer } from 'node:buffer';
import {
  AioError,
  HttpEndpointClient,
  computeBackoff,
  displayUrl,
  isAioError,
  isHttpError,
  resolveHttpDataSource,
  silentLogger,
  sleep,
  type HttpStream,
  type Logger,
} from '@aio-connector/core';
import {
  SseDecoder,
  resolveDecoderCaps,
  type SseDecoded,
  type SseMessage,
  type SseSkipped,
} from './sse-decoder.ts';
import { SseStreamError } from './sse-stream-error.ts';

/** The reconnection backoff of an {@link SseStream}. Every field is optional. */
export interface SseReconnectOptions {
  /**
   * The first delay after a drop, in ms, when the server sent no `retry:` (the server's value
   * replaces it). Default: 1 000.
   */
  readonly minDelayInMs?: number | undefined;
  /** The largest delay between attempts, in ms. Default: 60 000. */
  readonly maxDelayInMs?: number | undefined;
  /** Growth factor of the delay after each failed attempt. Default: 2. */
  readonly factor?: number | undefined;
  /** Jitter ratio in [0, 1] (the delay never goes below the server's `retry:`). Default: 0.5. */
  readonly jitter?: number | undefined;
}

/** Options of {@link SseStream}. Every field is optional. */
export interface SseStreamOptions {
  /**
   * The stream's path (with query) on the endpoint, or an absolute URL on its origin, as a
   * dataSource. Default: `''` (the endpoint address itself).
   */
  readonly url?: string | undefined;
  /**
   * Resume from this event id (sent as `Last-Event-ID`; CR, LF and NUL are a `RangeError`).
   * Default: `''` (from now).
   */
  readonly lastEventId?: string | undefined;
  /** The largest event accepted, in bytes; larger ones are skipped. Default: 1 MiB. */
  readonly maxEventBytes?: number | undefined;
  /**
   * The most bytes accepted without a line break; more closes the stream
   * (`ERR_AIO_SSE_BUFFER_OVERFLOW`) and it is reopened. Default: 4 × `maxEventBytes`.
   */
  readonly maxBufferedBytes?: number | undefined;
  /**
   * Close and reopen the stream when no byte (not even a comment) arrives for this long while
   * waiting for data, in ms; 0 = never. Default: 45 000.
   */
  readonly idleTimeoutInMs?: number | undefined;
  /** The largest `retry:` delay of the server that is honoured, in ms. Default: 60 000. */
  readonly maxRetryInMs?: number | undefined;
  /**
   * After a 204 or a failure that retrying does not fix (4xx, wrong content type, TLS), try again
   * this often, in ms; 0 = never (the stream stays stopped until it is run again). Default:
   * 300 000.
   */
  readonly slowRetryInMs?: number | undefined;
  /** The reconnection backoff. */
  readonly reconnect?: SseReconnectOptions | undefined;
  /** Extra request headers (`Authorization` comes from the endpoint credentials). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
  /** Time allowed until the response headers, in ms. Default: the client's (30 000). */
  readonly headersTimeoutInMs?: number | undefined;
  /** Where connections (debug), retries (debug, then info) and stops (warn) are logged. */
  readonly logger?: Logger | undefined;
  /** Told about every state change: to report health, for example. */
  readonly onStateChange?: ((state: SseStreamState) => void) | undefined;
}

/** The state of an {@link SseStream}, as told to {@link SseStreamOptions.onStateChange}. */
export type SseStreamState =
  | { readonly status: 'connecting'; readonly attempt: number; readonly lastEventId: string }
  | { readonly status: 'open'; readonly url: string; readonly lastEventId: string }
  | {
      /** The stream failed and is reopened after `delayInMs`. */
      readonly status: 'reconnecting';
      readonly error: AioError;
      readonly attempt: number;
      readonly delayInMs: number;
    }
  | {
      /**
       * A 204 or a failure retrying does not fix: the stream is tried again after `delayInMs`
       * (the slow schedule), or never when `undefined`.
       */
      readonly status: 'stopped';
      readonly error: AioError;
      readonly delayInMs: number | undefined;
    }
  | { readonly status: 'closed' };

/**
 * Where an {@link SseStream} gets its HTTP client for each connection attempt, when it should not
 * keep one client for good: the SSE connector reads the endpoint credentials again (rotated
 * secrets) after an authentication or TLS failure.
 */
export interface SseClientSource {
  /** The endpoint address the clients are made for. */
  readonly address: string;
  /**
   * The client for the next attempt. `renew` is `true` after an authentication failure (401,
   * 407), a TLS failure, or a failure to make the client: make a new one with fresh credentials.
   */
  client(options: {
    readonly renew: boolean;
    readonly signal: AbortSignal;
  }): HttpEndpointClient | Promise<HttpEndpointClient>;
}

/** What an {@link SseStream} hands to its handler: a message, or an event skipped for its size. */
export type SseStreamItem = SseMessage | SseSkipped;

/** Receives the items of a stream, one at a time; the next one waits until it settles. */
export type SseStreamHandler = (
  item: SseStreamItem,
  options: { readonly signal: AbortSignal },
) => void | Promise<void>;

/** Counters of an {@link SseStream}, since it was made. */
export interface SseStreamStats {
  /** Whether a response is streaming now. */
  readonly connected: boolean;
  /** Responses opened (status 200, `text/event-stream`). */
  readonly connections: number;
  /** Failed or ended connections followed by a new attempt. */
  readonly reconnects: number;
  /** Messages handed to the handler. */
  readonly messages: number;
  /** Events skipped for their size. */
  readonly skipped: number;
  /** Comment lines (heartbeats) received. */
  readonly comments: number;
  /** Body bytes received. */
  readonly bytes: number;
  /** The last event id handled (`''` = none): what the next connection resumes from. */
  readonly lastEventId: string;
  /** The `retry:` of the server in force (capped), if it sent one. */
  readonly serverRetryInMs: number | undefined;
}

/**
 * The defaults of {@link SseStreamOptions}.
 *
 * @example
 * ```ts
 * import { defaultSseStreamOptions } from '@aio-connector/sse';
 * console.log(defaultSseStreamOptions.reconnect.minDelayInMs); // 1000
 * ```
 */
export const defaultSseStreamOptions = Object.freeze({
  idleTimeoutInMs: 45_000,
  maxRetryInMs: 60_000,
  slowRetryInMs: 300_000,
  reconnect: Object.freeze({ minDelayInMs: 1_000, maxDelayInMs: 60_000, factor: 2, jitter: 0.5 }),
});

const maxTimerInMs = 2_147_483_647;
const eventStreamType = 'text/event-stream';

function checkNumber(
  name: string,
  value: unknown,
  min: number,
  max: number,
  integer = true,
): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || Number.isNaN(value))
    throw new TypeError(`${name} must be a number, received ${typeof value}`);
  if (value < min || value > max || (integer && !Number.isInteger(value)))
    throw new RangeError(
      `${name} must be ${integer ? 'an integer ' : ''}between ${min} and ${max}, received ${value}`,
    );
  return value;
}

function checkObject(name: string, value: unknown): void {
  if (typeof value !== 'object' || value === null)
    throw new TypeError(
      `${name} must be an object, received ${value === null ? 'null' : typeof value}`,
    );
}

/** The resolved timing options shared by {@link SseStream} and the SSE connector. */
export interface ResolvedSseStreamTiming {
  readonly maxEventBytes: number;
  readonly maxBufferedBytes: number;
  readonly idleTimeoutInMs: number;
  readonly maxRetryInMs: number;
  readonly slowRetryInMs: number;
  readonly reconnect: Required<{ [K in keyof SseReconnectOptions]: number }>;
}

/** Checks the timing and size options of a stream and resolves their defaults. */
export function resolveSseStreamTiming(
  options: Pick<
    SseStreamOptions,
    | 'maxEventBytes'
    | 'maxBufferedBytes'
    | 'idleTimeoutInMs'
    | 'maxRetryInMs'
    | 'slowRetryInMs'
    | 'reconnect'
  >,
  prefix = '',
): ResolvedSseStreamTiming {
  const d = defaultSseStreamOptions;
  const reconnect = options.reconnect ?? {};
  checkObject(`${prefix}reconnect`, reconnect);
  const minDelayInMs =
    checkNumber(`${prefix}reconnect.minDelayInMs`, reconnect.minDelayInMs, 0, maxTimerInMs) ??
    d.reconnect.minDelayInMs;
  const maxDelayInMs =
    checkNumber(`${prefix}reconnect.maxDelayInMs`, reconnect.maxDelayInMs, 0, maxTimerInMs) ??
    Math.max(d.reconnect.maxDelayInMs, minDelayInMs);
  if (maxDelayInMs < minDelayInMs)
    throw new RangeError(
      `${prefix}reconnect.maxDelayInMs (${maxDelayInMs}) must be at least reconnect.minDelayInMs (${minDelayInMs})`,
    );
  const caps = resolveDecoderCaps(options);
  return Object.freeze({
    ...caps,
    idleTimeoutInMs:
      checkNumber(`${prefix}idleTimeoutInMs`, options.idleTimeoutInMs, 0, maxTimerInMs) ??
      d.idleTimeoutInMs,
    maxRetryInMs:
      checkNumber(`${prefix}maxRetryInMs`, options.maxRetryInMs, 0, maxTimerInMs) ?? d.maxRetryInMs,
    slowRetryInMs:
      checkNumber(`${prefix}slowRetryInMs`, options.slowRetryInMs, 0, maxTimerInMs) ??
      d.slowRetryInMs,
    reconnect: Object.freeze({
      minDelayInMs,
      maxDelayInMs,
      factor:
        checkNumber(`${prefix}reconnect.factor`, reconnect.factor, 1, 100, false) ??
        d.reconnect.factor,
      jitter:
        checkNumber(`${prefix}reconnect.jitter`, reconnect.jitter, 0, 1, false) ??
        d.reconnect.jitter,
    }),
  });
}

/**
 * Whether an event id can be sent as `Last-Event-ID`: one without CR, LF or NUL (the decoder never
 * produces another; a saved one may be).
 *
 * @internal
 */
export function isSendableEventId(id: string): boolean {
  return !/[\r\n\0]/.test(id);
}

/** A `Last-Event-ID` header value: the id's UTF-8 bytes, as HTTP carries them. */
function headerValue(id: string): string {
  return Buffer.from(id, 'utf8').toString('latin1');
}

/** Why a connection ended. */
interface Outcome {
  readonly error: AioError | undefined;
  /** The connection delivered something (a message, an id, a heartbeat): the backoff starts over. */
  readonly delivered: boolean;
}

/** Carries an error the handler threw through the read loop. */
class HandlerFailure extends Error {
  readonly error: unknown;
  constructor(error: unknown) {
    super('the stream handler failed', { cause: error });
    this.error = error;
  }
}

/**
 * One Server-Sent Events stream, kept open until its `signal` aborts.
 *
 * @example
 * ```ts
 * import { HttpEndpointClient } from '@aio-connector/core';
 * import { SseStream } from '@aio-connector/sse';
 *
 * await using client = new HttpEndpointClient('http://127.0.0.1:8080');
 * const stream = new SseStream(client, {
 *   url: '/events',
 *   idleTimeoutInMs: 30_000,
 *   onStateChange: (state) => console.log(state.status),
 * });
 * await stream.run(
 *   (item) => {
 *     if (item.kind === 'message') console.log(item.event, item.data, item.lastEventId);
 *   },
 *   { signal: AbortSignal.timeout(60_000) },
 * );
 * ```
 */
export class SseStream {
  /** The stream's dataSource (path or URL), as given. */
  readonly url: string;
  readonly #source: SseClientSource;
  #renew = false;
  readonly #timing: ResolvedSseStreamTiming;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #headersTimeoutInMs: number | undefined;
  readonly #logger: Logger;
  readonly #onStateChange: ((state: SseStreamState) => void) | undefined;
  readonly #decoder: SseDecoder;
  readonly #displayUrl: string;
  #lastEventId: string;
  #serverRetryInMs: number | undefined;
  #running = false;
  #connected = false;
  #connections = 0;
  #reconnects = 0;
  #messages = 0;
  #skipped = 0;

  /**
   * @param client The endpoint's HTTP client (the stream does not close it), or a source of
   *   clients.
   */
  constructor(client: HttpEndpointClient | SseClientSource, options: SseStreamOptions = {}) {
    if (typeof client !== 'object' || client === null)
      throw new TypeError('client must be an HttpEndpointClient or an SseClientSource');
    let source: SseClientSource;
    if (client instanceof HttpEndpointClient) {
      const fixed = client;
      source = { address: fixed.address, client: () => fixed };
    } else if (typeof client.client === 'function' && typeof client.address === 'string')
      source = client;
    else throw new TypeError('client must be an HttpEndpointClient or an SseClientSource');
    checkObject('options', options);
    if (options.url !== undefined && typeof options.url !== 'string')
      throw new TypeError(`options.url must be a string, received ${typeof options.url}`);
    if (options.lastEventId !== undefined && typeof options.lastEventId !== 'string')
      throw new TypeError(
        `options.lastEventId must be a string, received ${typeof options.lastEventId}`,
      );
    if (options.lastEventId !== undefined && !isSendableEventId(options.lastEventId))
      throw new RangeError(
        'options.lastEventId must not contain CR, LF or NUL: it is sent as the Last-Event-ID header',
      );
    if (options.onStateChange !== undefined && typeof options.onStateChange !== 'function')
      throw new TypeError('options.onStateChange must be a function');
    if (
      options.headers !== undefined &&
      (typeof options.headers !== 'object' || options.headers === null)
    )
      throw new TypeError('options.headers must be an object of header names to strings');
    this.#timing = resolveSseStreamTiming(options, 'options.');
    this.#headersTimeoutInMs = checkNumber(
      'options.headersTimeoutInMs',
      options.headersTimeoutInMs,
      0,
      maxTimerInMs,
    );
    this.url = options.url ?? '';
    this.#source = source;
    this.#headers = { ...options.headers };
    this.#logger = options.logger ?? silentLogger;
    this.#onStateChange = options.onStateChange;
    this.#lastEventId = options.lastEventId ?? '';
    let display: string;
    try {
      display = displayUrl(resolveHttpDataSource(source.address, this.url));
    } catch {
      display = this.url;
    }
    this.#displayUrl = display;
    this.#decoder = new SseDecoder({
      maxEventBytes: this.#timing.maxEventBytes,
      maxBufferedBytes: this.#timing.maxBufferedBytes,
      lastEventId: this.#lastEventId,
    });
  }

  /** The stream URL as shown in logs and errors (no credentials, secret query values hidden). */
  get displayUrl(): string {
    return this.#displayUrl;
  }

  /** The last event id handled (`''` = none): the next connection resumes from it. */
  get lastEventId(): string {
    return this.#lastEventId;
  }

  /** Counters since the stream was made. */
  get stats(): SseStreamStats {
    const decoded = this.#decoder.stats;
    return {
      connected: this.#connected,
      connections: this.#connections,
      reconnects: this.#reconnects,
      messages: this.#messages,
      skipped: this.#skipped,
      comments: decoded.comments,
      bytes: decoded.bytes,
      lastEventId: this.#lastEventId,
      serverRetryInMs: this.#serverRetryInMs,
    };
  }

  /**
   * Keeps the stream open and hands every message (and every event skipped for its size) to
   * `handler`, until `signal` aborts; then resolves. Rejects only when `handler` throws (the
   * stream is closed first). Run it once at a time.
   */
  async run(handler: SseStreamHandler, options: { readonly signal: AbortSignal }): Promise<void> {
    if (typeof handler !== 'function') throw new TypeError('handler must be a function');
    checkObject('options', options);
    const { signal } = options;
    if (!(signal instanceof AbortSignal))
      throw new TypeError('options.signal must be an AbortSignal');
    if (this.#running)
      throw new AioError('ERR_AIO_INVALID_ARGUMENT', 'the stream is already running');
    this.#running = true;
    let attempt = 0;
    try {
      while (!signal.aborted) {
        this.#emit({ status: 'connecting', attempt: attempt + 1, lastEventId: this.#lastEventId });
        const outcome = await this.#connect(handler, signal);
        if (signal.aborted || outcome.error === undefined) break;
        const error = outcome.error;
        attempt = outcome.delivered ? 1 : attempt + 1;
        if (!error.retryable) {
          const delayInMs =
            this.#timing.slowRetryInMs === 0 ? undefined : this.#timing.slowRetryInMs;
          this.#logger.warn(
            { url: this.displayUrl, code: error.code, err: error, retryInMs: delayInMs },
            'event stream stopped',
          );
          this.#emit({ status: 'stopped', error, delayInMs });
          if (delayInMs === undefined) {
            await waitForAbort(signal);
            break;
          }
          attempt = 0;
          if (!(await pause(delayInMs, signal))) break;
          this.#reconnects += 1;
          continue;
        }
        const delayInMs = this.#delay(attempt, error);
        const log = attempt >= 3 ? this.#logger.info : this.#logger.debug;
        log.call(
          this.#logger,
          { url: this.displayUrl, code: error.code, err: error, attempt, delayInMs },
          'event stream lost; reconnecting',
        );
        this.#emit({ status: 'reconnecting', error, attempt, delayInMs });
        if (!(await pause(delayInMs, signal))) break;
        this.#reconnects += 1;
      }
    } catch (failure) {
      throw failure instanceof HandlerFailure ? failure.error : failure;
    } finally {
      this.#running = false;
      this.#connected = false;
      this.#emit({ status: 'closed' });
    }
  }

  /** The delay before reconnection attempt `attempt` (from 1): backoff from the server's retry. */
  #delay(attempt: number, error: AioError): number {
    const { reconnect } = this.#timing;
    let base = this.#serverRetryInMs ?? reconnect.minDelayInMs;
    let step = attempt;
    if (base === 0 && attempt > 1) {
      // `retry: 0` asks for an immediate reconnection; once that fails, nothing would grow from 0:
      // back off as if the server had not sent one
      base = reconnect.minDelayInMs;
      step = attempt - 1;
    }
    const delay = computeBackoff(
      step,
      {
        minDelayInMs: base,
        maxDelayInMs: Math.max(base, reconnect.maxDelayInMs),
        factor: reconnect.factor,
        jitter: reconnect.jitter,
        maxRetryAfterInMs: Math.max(this.#timing.maxRetryInMs, reconnect.maxDelayInMs),
      },
      error,
    );
    return Math.max(delay, this.#serverRetryInMs ?? 0);
  }

  async #connect(handler: SseStreamHandler, signal: AbortSignal): Promise<Outcome> {
    const headers: Record<string, string> = { 'cache-control': 'no-cache', ...this.#headers };
    if (this.#lastEventId !== '') headers['last-event-id'] = headerValue(this.#lastEventId);
    let stream: HttpStream;
    try {
      const renew = this.#renew;
      this.#renew = true; // until a response arrives: a client that cannot be made is made again
      const client = await this.#source.client({ renew, signal });
      stream = await client.stream({
        url: this.url,
        headers,
        expectContentType: eventStreamType,
        bodyTimeoutInMs: 0,
        ...(this.#headersTimeoutInMs === undefined
          ? {}
          : { headersTimeoutInMs: this.#headersTimeoutInMs }),
        signal,
      });
    } catch (error) {
      const failure = toAioError(error);
      this.#renew = this.#renew && isCredentialFailure(failure);
      return { error: failure, delivered: false };
    }
    this.#renew = false;
    if (stream.status === 204) {
      stream.cancel();
      return {
        error: new SseStreamError(
          'ERR_AIO_SSE_NO_CONTENT',
          `${this.displayUrl} answered 204 No Content: the server asks clients not to reconnect`,
          { url: stream.url, lastEventId: this.#lastEventId },
        ),
        delivered: false,
      };
    }
    this.#connections += 1;
    this.#connected = true;
    this.#decoder.reset({ lastEventId: this.#lastEventId });
    this.#logger.debug(
      { url: this.displayUrl, lastEventId: this.#lastEventId },
      'event stream open',
    );
    this.#emit({ status: 'open', url: stream.url, lastEventId: this.#lastEventId });
    try {
      return await this.#read(stream, handler, signal);
    } finally {
      this.#connected = false;
      stream.cancel();
    }
  }

  async #read(
    stream: HttpStream,
    handler: SseStreamHandler,
    signal: AbortSignal,
  ): Promise<Outcome> {
    const iterator = stream.body[Symbol.asyncIterator]();
    const idleTimeoutInMs = this.#timing.idleTimeoutInMs;
    const commentsBefore = this.#decoder.stats.comments;
    let delivered = false;
    let idle = false;
    try {
      for (;;) {
        let timer: NodeJS.Timeout | undefined;
        if (idleTimeoutInMs > 0) {
          // watches the wait for data only: time spent in the handler (backpressure) is not idle
          timer = setTimeout(() => {
            idle = true;
            stream.cancel();
          }, idleTimeoutInMs);
          timer.unref();
        }
        let next: IteratorResult<Uint8Array>;
        try {
          next = await iterator.next();
        } finally {
          clearTimeout(timer);
        }
        if (next.done === true) break;
        for (const item of this.#decoder.push(next.value)) {
          const failure = await this.#handle(item, handler, signal);
          // a bare `retry:` is no progress: a server that sends only that and closes is failing
          if (item.kind !== 'retry') delivered = true;
          if (failure !== undefined) return { error: failure, delivered };
          if (signal.aborted) return { error: undefined, delivered };
        }
        if (!delivered && this.#decoder.stats.comments > commentsBefore) delivered = true;
      }
    } catch (error) {
      if (error instanceof HandlerFailure) throw error;
      if (signal.aborted) return { error: undefined, delivered };
      return { error: toAioError(error), delivered };
    }
    if (signal.aborted) return { error: undefined, delivered };
    if (idle)
      return {
        error: new SseStreamError(
          'ERR_AIO_SSE_IDLE_TIMEOUT',
          `${this.displayUrl} sent nothing for ${idleTimeoutInMs} ms (no event, no heartbeat)`,
          {
            url: stream.url,
            lastEventId: this.#lastEventId,
            details: { idleTimeoutInMs },
          },
        ),
        delivered,
      };
    return {
      error: new SseStreamError(
        'ERR_AIO_SSE_STREAM_ENDED',
        `${this.displayUrl}: the server ended the stream`,
        { url: stream.url, lastEventId: this.#lastEventId },
      ),
      delivered,
    };
  }

  /** Handles one decoded item; returns the error that ends the connection, if any. */
  async #handle(
    item: SseDecoded,
    handler: SseStreamHandler,
    signal: AbortSignal,
  ): Promise<AioError | undefined> {
    switch (item.kind) {
      case 'message':
      case 'skipped':
        try {
          await handler(item, { signal });
        } catch (error) {
          if (signal.aborted) return undefined;
          throw new HandlerFailure(error);
        }
        if (signal.aborted) return undefined;
        if (item.kind === 'message') this.#messages += 1;
        else this.#skipped += 1;
        this.#lastEventId = item.lastEventId;
        return undefined;
      case 'id':
        this.#lastEventId = item.lastEventId;
        return undefined;
      case 'retry':
        this.#serverRetryInMs = Math.min(item.retryInMs, this.#timing.maxRetryInMs);
        return undefined;
      case 'error':
        this.#lastEventId = item.lastEventId;
        return new SseStreamError(item.error.code, `${this.displayUrl}: ${item.error.message}`, {
          url: this.displayUrl,
          lastEventId: this.#lastEventId,
          details: item.error.details,
        });
    }
  }

  #emit(state: SseStreamState): void {
    try {
      this.#onStateChange?.(state);
    } catch (error) {
      this.#logger.warn({ err: error }, 'onStateChange threw');
    }
  }
}

/** Whether a failure suggests the credentials or the trust list changed. */
function isCredentialFailure(error: AioError): boolean {
  if (error.code === 'ERR_AIO_HTTP_TLS' || error.code === 'ERR_AIO_CONFIG') return true;
  return (
    isHttpError(error) &&
    error.code === 'ERR_AIO_HTTP_STATUS' &&
    (error.status === 401 || error.status === 407)
  );
}

function toAioError(error: unknown): AioError {
  if (isAioError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  // a bad argument (a header value, a client option) does not get better by retrying
  if (error instanceof TypeError || error instanceof RangeError)
    return new AioError('ERR_AIO_INVALID_ARGUMENT', message, { cause: error });
  return new AioError('ERR_AIO_HTTP_NETWORK', message, { cause: error, retryable: true });
}

/** Sleeps; `false` when `signal` aborted. */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, signal);
    return true;
  } catch {
    return false;
  }
}

function waitForAbort(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    signal.addEventListener(
      'abort',
      () => {
        resolve();
      },
      { once: true },
    );
  });
}
