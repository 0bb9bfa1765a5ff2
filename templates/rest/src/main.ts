import {
  ConnectorSettings,
  createJsonLogger,
  exitCodes,
  readinessProbeMain,
} from '@aio-connector/core';
import {
  RestConnector,
  restConnectorOptionsFromConfiguration,
  type RestConnectorOptions,
} from '@aio-connector/rest';

// The pod's readiness probe runs `node dist/main.js readiness-probe` (see connector-metadata.json):
// it answers at once, 0 when the connector is ready, 1 when it is not, and exits.
readinessProbeMain();

// The options of the REST connector, in code. Every field is optional; see the README of
// @aio-connector/rest for all of them and their defaults.
const options: RestConnectorOptions = {
  // datasets that configure no samplingInterval are sampled this often
  defaultSamplingIntervalInMs: 10_000,
  // forward a sample only when it differs from the last one
  forwardOnlyOnChange: false,
  http: {
    requestTimeoutInMs: 30_000,
    maxResponseBytes: 16 * 1024 * 1024,
  },
};

let connector: RestConnector;
try {
  // The pod contract: environment variables and mounted files set by the Akri operator.
  const settings = await ConnectorSettings.fromEnvironment();
  // The connector template's additional configuration (connectorConfigurationKeys in
  // connector-metadata.json) overrides the options above at deployment time.
  const { options: configured, ignored } = restConnectorOptionsFromConfiguration(
    settings.additionalConfiguration,
  );
  const logger = createJsonLogger({ level: settings.logLevel ?? 'info' });
  if (ignored.length > 0) logger.warn({ keys: ignored }, 'unknown configuration keys ignored');
  connector = new RestConnector({
    ...options,
    ...configured,
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
