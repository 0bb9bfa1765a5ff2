import {
  ConnectorSettings,
  createJsonLogger,
  exitCodes,
  readinessProbeMain,
} from '@aio-connector/core';
import {
  SseConnector,
  sseConnectorOptionsFromConfiguration,
  type SseConnectorOptions,
} from '@aio-connector/sse';

// The pod's readiness probe runs `node dist/main.js readiness-probe` (see connector-metadata.json):
// it answers at once, 0 when the connector is ready, 1 when it is not, and exits.
readinessProbeMain();

// The options of the Server-Sent Events connector, in code. Every field is optional; see the
// README of @aio-connector/sse for all of them and their defaults.
const options: SseConnectorOptions = {
  // events larger than this are skipped and reported on the event's status
  maxEventBytes: 1024 * 1024,
  // reopen a stream that sends nothing, not even a comment heartbeat, for this long
  idleTimeoutInMs: 45_000,
  // reconnect after a drop with exponential backoff (the server's retry: wins when it sends one)
  reconnect: { minDelayInMs: 1_000, maxDelayInMs: 60_000 },
};

let connector: SseConnector;
try {
  // The pod contract: environment variables and mounted files set by the Akri operator.
  const settings = await ConnectorSettings.fromEnvironment();
  // The connector template's additional configuration (connectorConfigurationKeys in
  // connector-metadata.json) overrides the options above at deployment time.
  const { options: configured, ignored } = sseConnectorOptionsFromConfiguration(
    settings.additionalConfiguration,
  );
  const logger = createJsonLogger({ level: settings.logLevel ?? 'info' });
  if (ignored.length > 0) logger.warn({ keys: ignored }, 'unknown configuration keys ignored');
  connector = new SseConnector({
    ...options,
    ...configured,
    reconnect: { ...options.reconnect, ...configured.reconnect },
    http: { ...options.http, ...configured.http },
    settings,
    logger,
  });
} catch (error) {
  createJsonLogger().fatal({ err: error }, 'the connector cannot start');
  process.exit(exitCodes.startupFailure);
}

// Serves the assets allocated to this connector until SIGTERM. The exit code tells the operator
// why it stopped: 0 stopped, 1 could not start, 2 lost the broker session.
await connector.run();
