/**
 * From the ADR destinations of a dataset, event or stream to the resolved destinations the
 * forwarder sends to: defaults applied, tokens substituted, topics validated.
 *
 * @module
 */
import { ConfigError } from '../errors.ts';
import type { QoS } from '../mqtt/mqtt-client.ts';
import {
  resolveDestinationKey,
  resolveDestinationTopic,
  type DestinationTokens,
} from '../services/adr/destinations.ts';
import type { DatasetDestination, EventStreamDestination } from '../services/adr/models.ts';
import type { ResolvedDestination } from './forwarder.ts';

/** Defaults applied where a destination leaves a field out. */
export interface DestinationDefaults {
  /**
   * QoS when `configuration.qos` is absent. Default: 1. (The .NET SDK falls back to 0 — the
   * default value of its enum — and the Rust SDK to 1; QoS 1 is what makes store-and-forward
   * lossless.)
   */
  readonly qos?: QoS;
  /** Message expiry in seconds when `ttl` is absent or 0. Default: 10 (both official SDKs). */
  readonly messageExpiryInSeconds?: number;
  /** Accept topics with a leading `/` (the official test asset uses one). Default: true. */
  readonly allowLeadingSlash?: boolean;
}

/**
 * Resolves destinations. Returns the resolved list; throws a `ConfigError` naming `source` and the
 * field for the first destination that cannot work (unknown token, bad topic, missing topic or
 * key, a `Storage` target — not supported by this SDK, as in the .NET SDK).
 *
 * @example
 * ```ts
 * import { resolveDestinations } from '@aio-connector/core';
 * resolveDestinations(
 *   [{ target: 'Mqtt', configuration: { topic: 'factory/{assetName}', qos: 'Qos1' } }],
 *   { assetName: 'oven' },
 *   'asset "oven" dataset "temperature"',
 * );
 * ```
 */
export function resolveDestinations(
  destinations: readonly (DatasetDestination | EventStreamDestination)[],
  tokens: DestinationTokens,
  source: string,
  defaults: DestinationDefaults = {},
): ResolvedDestination[] {
  return destinations.map((destination, index) => {
    const field = `destinations[${index}]`;
    const { configuration } = destination;
    switch (destination.target) {
      case 'Mqtt': {
        if (configuration.topic === undefined)
          throw new ConfigError(
            `${source} ${field}.configuration.topic is required for an Mqtt destination`,
            {
              source,
              field: `${field}.configuration.topic`,
            },
          );
        const topic = resolveDestinationTopic(configuration.topic, tokens, {
          source,
          field: `${field}.configuration.topic`,
          allowLeadingSlash: defaults.allowLeadingSlash ?? true,
        });
        const ttl = configuration.ttl;
        return {
          target: 'Mqtt',
          topic,
          qos:
            configuration.qos === undefined
              ? (defaults.qos ?? 1)
              : configuration.qos === 'Qos1'
                ? 1
                : 0,
          retain: configuration.retain === 'Keep',
          messageExpiryInSeconds:
            ttl !== undefined && ttl > 0 ? Math.ceil(ttl) : (defaults.messageExpiryInSeconds ?? 10),
        };
      }
      case 'BrokerStateStore': {
        if (configuration.key === undefined)
          throw new ConfigError(
            `${source} ${field}.configuration.key is required for a BrokerStateStore destination`,
            { source, field: `${field}.configuration.key` },
          );
        return {
          target: 'BrokerStateStore',
          key: resolveDestinationKey(configuration.key, tokens, {
            source,
            field: `${field}.configuration.key`,
          }),
        };
      }
      default:
        throw new ConfigError(
          `${source} ${field}.target: ${destination.target} destinations are not supported by this connector (use Mqtt or BrokerStateStore)`,
          { source, field: `${field}.target` },
        );
    }
  });
}
