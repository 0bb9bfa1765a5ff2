/**
 * One `HttpEndpointClient` per device endpoint, shared by the datasets that sample it: made on
 * first use with the credentials read from the mounts at that moment, replaced after an
 * authentication or TLS failure (so rotated secrets are picked up), and closed when the last
 * dataset using it stops.
 *
 * @module
 */
import {
  AioError,
  HttpEndpointClient,
  abortError,
  isAioError,
  isHttpError,
  type AssetContext,
  type HttpEndpointClientOptions,
  type Logger,
} from '@aio-connector/core';

/** A client handed out for one sample; release it when the sample is done. */
export interface EndpointClientLease {
  readonly client: HttpEndpointClient;
  /**
   * Reports the outcome of a request: after an authentication (401, 407) or TLS failure the client
   * is replaced, and the next lease reads the credentials again.
   */
  observe(error: unknown): void;
  release(): void;
}

/** The datasets' handle on their endpoint's shared client. */
export interface EndpointClientRegistration {
  /** Lends the endpoint's client, making it (and reading credentials) when there is none. */
  lease(signal: AbortSignal): Promise<EndpointClientLease>;
  /** Gives the registration back; the client closes when no dataset uses it. */
  unregister(): Promise<void>;
}

interface Generation {
  readonly client: HttpEndpointClient;
  leases: number;
  stale: boolean;
}

interface Entry {
  readonly key: string;
  registrations: number;
  current: Generation | undefined;
  creating: Promise<Generation> | undefined;
  readonly controller: AbortController;
  readonly closing: Set<Promise<void>>;
}

/** What the pool needs to make a client for an endpoint. */
export interface EndpointClientSpec {
  readonly asset: AssetContext;
  readonly options: Omit<HttpEndpointClientOptions, 'credentials' | 'logger' | 'source'>;
  readonly logger: Logger;
}

/** Whether a failure suggests the credentials or trust list changed. */
function isCredentialFailure(error: unknown): boolean {
  if (!isHttpError(error)) return false;
  if (error.code === 'ERR_AIO_HTTP_TLS') return true;
  return error.code === 'ERR_AIO_HTTP_STATUS' && (error.status === 401 || error.status === 407);
}

/** The shared clients of one connector, by device endpoint (and its definition). */
export class EndpointClients {
  readonly #entries = new Map<string, Entry>();

  /** Registers a dataset with the client of its asset's endpoint. */
  register(spec: EndpointClientSpec): EndpointClientRegistration {
    const { asset } = spec;
    const key = JSON.stringify([asset.deviceName, asset.endpointName, asset.endpoint]);
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = {
        key,
        registrations: 0,
        current: undefined,
        creating: undefined,
        controller: new AbortController(),
        closing: new Set(),
      };
      this.#entries.set(key, entry);
    }
    entry.registrations += 1;
    const owner = entry;
    let registered = true;
    return {
      lease: (signal) => this.#lease(owner, spec, signal),
      unregister: async () => {
        if (!registered) return;
        registered = false;
        owner.registrations -= 1;
        if (owner.registrations > 0) return;
        this.#entries.delete(owner.key);
        owner.controller.abort(new AioError('ERR_AIO_CLOSED', 'no dataset uses the endpoint'));
        const current = owner.current ?? (await owner.creating?.catch(() => undefined));
        owner.current = undefined;
        if (current !== undefined) {
          current.stale = true;
          this.#closeWhenIdle(owner, current);
        }
        await Promise.all(owner.closing);
      },
    };
  }

  async #lease(
    entry: Entry,
    spec: EndpointClientSpec,
    signal: AbortSignal,
  ): Promise<EndpointClientLease> {
    let generation = entry.current;
    if (generation === undefined) {
      entry.creating ??= this.#create(entry, spec).finally(() => {
        entry.creating = undefined;
      });
      const creating = entry.creating;
      generation = await raceAbort(creating, signal);
    }
    const leased = generation;
    leased.leases += 1;
    let released = false;
    return {
      client: leased.client,
      observe: (error) => {
        if (!isCredentialFailure(error) || leased.stale) return;
        leased.stale = true;
        if (entry.current === leased) entry.current = undefined;
        spec.logger.debug(
          { code: isAioError(error) ? error.code : undefined },
          'authentication or TLS failure: the endpoint credentials will be read again',
        );
      },
      release: () => {
        if (released) return;
        released = true;
        leased.leases -= 1;
        if (leased.stale) this.#closeWhenIdle(entry, leased);
      },
    };
  }

  async #create(entry: Entry, spec: EndpointClientSpec): Promise<Generation> {
    const { asset } = spec;
    const credentials = await asset.readCredentials({ signal: entry.controller.signal });
    const client = new HttpEndpointClient(asset.endpoint.address, {
      ...spec.options,
      credentials,
      source: `device "${asset.deviceName}" endpoint "${asset.endpointName}"`,
      logger: spec.logger,
    });
    const generation: Generation = { client, leases: 0, stale: false };
    if (entry.controller.signal.aborted) {
      generation.stale = true;
      this.#closeWhenIdle(entry, generation);
      throw new AioError('ERR_AIO_CLOSED', 'the endpoint is no longer sampled');
    }
    entry.current = generation;
    spec.logger.debug(
      { origin: client.origin, authentication: client.authenticationMethod },
      'endpoint client created',
    );
    return generation;
  }

  #closeWhenIdle(entry: Entry, generation: Generation): void {
    if (generation.leases > 0 || generation.client.closed) return;
    const closing = generation.client.close({ signal: AbortSignal.timeout(10_000) });
    entry.closing.add(closing);
    void closing.finally(() => entry.closing.delete(closing));
  }
}

function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  const operation = 'reading the endpoint credentials';
  if (signal.aborted) return Promise.reject(abortError(signal, operation));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(abortError(signal, operation));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
