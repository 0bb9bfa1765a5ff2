import { HttpError, classifyHttpStatus, displayUrl, parseRetryAfter } from '@aio-connector/core';

/** Options of {@link httpGet}. */
export interface HttpGetOptions {
  /** Aborts the request: the connector aborts it when the dataset stops. */
  readonly signal: AbortSignal;
  /** Request headers (e.g. `authorization`). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Time allowed for the whole request, in ms. Default: 10 000. */
  readonly timeoutInMs?: number;
}

/** The answer of a successful {@link httpGet}. */
export interface HttpGetResult {
  readonly status: number;
  /** The `content-type` header, or `application/octet-stream` when the server sent none. */
  readonly contentType: string;
  readonly body: Uint8Array;
}

/**
 * Sends one GET request and returns the response body. A status that is not 2xx, a network
 * failure or a timeout throws an `HttpError` whose `retryable` flag tells the connector whether
 * trying again can help: 408, 429 and 5xx (and network failures and timeouts) are retried with
 * backoff, honouring `Retry-After`; other 4xx (a wrong path, wrong credentials) fail at once and
 * are reported on the dataset's status in Azure Device Registry.
 */
export async function httpGet(url: URL, options: HttpGetOptions): Promise<HttpGetResult> {
  const { signal, headers = {}, timeoutInMs = 10_000 } = options;
  const where = `GET ${displayUrl(url)}`;
  const timeout = AbortSignal.timeout(timeoutInMs);
  let response: Response;
  let body: Uint8Array;
  try {
    response = await fetch(url, {
      headers: { accept: 'application/json', ...headers },
      signal: AbortSignal.any([signal, timeout]),
    });
    body = new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    // the dataset stopped: let the abort through as it is
    if (signal.aborted) throw error;
    if (timeout.aborted)
      throw new HttpError('ERR_AIO_HTTP_TIMEOUT', `${where} took longer than ${timeoutInMs} ms`, {
        method: 'GET',
        url,
        retryable: true,
        cause: error,
      });
    throw new HttpError('ERR_AIO_HTTP_NETWORK', `${where} failed: ${reasonOf(error)}`, {
      method: 'GET',
      url,
      retryable: true,
      cause: error,
    });
  }
  if (!response.ok) {
    const { retryable } = classifyHttpStatus(response.status);
    const retryAfterInMs = parseRetryAfter(response.headers.get('retry-after') ?? undefined);
    throw new HttpError(
      'ERR_AIO_HTTP_STATUS',
      `${where} answered ${response.status} ${response.statusText}`,
      {
        method: 'GET',
        url,
        status: response.status,
        statusText: response.statusText,
        bodyExcerpt: new TextDecoder().decode(body.subarray(0, 512)),
        retryable,
        ...(retryAfterInMs === undefined ? {} : { retryAfterInMs }),
      },
    );
  }
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? 'application/octet-stream',
    body,
  };
}

/** `fetch` reports network failures as "fetch failed" with the reason (ECONNREFUSED, ...) as cause. */
function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? error.cause.message : error.message;
}
