/**
 * `EventDrivenTelemetryConnector`: the base of connectors that hold a connection per asset and
 * forward what arrives (TCP streams, subscriptions, server-sent events). Implement one method,
 * `whileAssetAvailable`; the base supervises it.
 *
 * @module
 */
import { isAioError } from '../errors.ts';
import { computeBackoff, sleep } from '../retry.ts';
import { ConnectorBase, type AssetRunnerTools, type ConnectorOptions } from './connector-base.ts';
import type { AssetContext } from './contexts.ts';

/** A run of the hook that lasts this long counts as healthy: the restart backoff starts over. */
const healthyRunInMs = 60_000;

/**
 * The base class of event-driven connectors.
 *
 * `whileAssetAvailable` runs once per available asset and should keep running (reading its
 * source and calling `asset.forwardEvent` / `asset.forwardDataset`) until `signal` aborts — when
 * the asset is updated (it is then called again with the new definition) or deleted, when
 * leadership is lost, or on shutdown; the base awaits it before moving on. If it throws, the base
 * reports the failure as `Unavailable` health of the asset's events and datasets and calls it
 * again after an exponential backoff with jitter. Returning normally (without an abort) ends the
 * asset's work until its next update.
 *
 * @example
 * ```ts
 * import { EventDrivenTelemetryConnector, type AssetContext } from '@aio-connector/core';
 * import { connect } from 'node:net';
 * import { once } from 'node:events';
 *
 * class TcpConnector extends EventDrivenTelemetryConnector {
 *   protected override async whileAssetAvailable(asset: AssetContext, { signal }: { signal: AbortSignal }) {
 *     const [host, port] = asset.endpoint.address.split(':');
 *     const socket = connect({ host, port: Number(port), signal });
 *     await once(socket, 'connect');
 *     for await (const chunk of socket) await asset.forwardEvent('alarms', 'overTemp', chunk as Buffer);
 *   }
 * }
 * await new TcpConnector().run();
 * ```
 */
export abstract class EventDrivenTelemetryConnector extends ConnectorBase {
  constructor(options: ConnectorOptions = {}) {
    super(options, (asset, signal, tools) => this.#supervise(asset, signal, tools));
  }

  /**
   * Serves one asset until `signal` aborts. Throw on failure: the base restarts it with backoff.
   */
  protected abstract whileAssetAvailable(
    asset: AssetContext,
    options: { readonly signal: AbortSignal },
  ): Promise<void>;

  async #supervise(
    asset: AssetContext,
    signal: AbortSignal,
    tools: AssetRunnerTools,
  ): Promise<void> {
    let attempt = 0;
    while (!signal.aborted) {
      const started = performance.now();
      try {
        await this.whileAssetAvailable(asset, { signal });
        if (!signal.aborted)
          asset.logger.info('whileAssetAvailable returned; the asset is idle until it is updated');
        return;
      } catch (error) {
        if (signal.aborted) return;
        attempt = performance.now() - started >= healthyRunInMs ? 1 : attempt + 1;
        const delayInMs = computeBackoff(
          attempt,
          {
            minDelayInMs: tools.retry.minDelayInMs ?? 1_000,
            maxDelayInMs: tools.retry.maxDelayInMs ?? 60_000,
            ...(tools.retry.jitter === undefined ? {} : { jitter: tools.retry.jitter }),
            ...(tools.retry.maxRetryAfterInMs === undefined
              ? {}
              : { maxRetryAfterInMs: tools.retry.maxRetryAfterInMs }),
          },
          error,
        );
        const message = error instanceof Error ? error.message : String(error);
        asset.logger.warn(
          { err: error, attempt, delayInMs },
          'whileAssetAvailable failed; restarting',
        );
        tools.telemetry.recordRetry({
          'aio.asset': asset.assetName,
          'aio.operation': 'whileAssetAvailable',
        });
        const health = {
          status: 'Unavailable',
          message: `the connector lost the asset and restarts in ${Math.round(delayInMs / 1_000)} s: ${message}`,
          reasonCode: isAioError(error) ? error.code : 'ConnectorRestart',
        } as const;
        for (const event of asset.events) event.reportHealth(health);
        for (const dataset of asset.datasets) dataset.reportHealth(health);
        for (const stream of asset.streams) stream.reportHealth(health);
        try {
          await sleep(delayInMs, signal);
        } catch {
          return;
        }
      }
    }
  }
}
