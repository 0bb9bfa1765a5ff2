#!/usr/bin/env node
/**
 * The container entry point of the REST connector (`aio-rest-connector`): answers the readiness
 * probe (`aio-rest-connector readiness-probe`), otherwise reads the Akri pod contract, takes the
 * REST options from the connector's additional configuration, and runs until SIGTERM.
 *
 * @module
 */
import {
  ConnectorSettings,
  createJsonLogger,
  exitCodes,
  readinessProbeMain,
} from '@aio-connector/core';
import { RestConnector } from './rest-connector.ts';
import { restConnectorOptionsFromConfiguration } from './rest-connector-configuration.ts';

readinessProbeMain();

const bootstrap = createJsonLogger({ level: 'info' });
let connector: RestConnector | undefined;
try {
  const settings = await ConnectorSettings.fromEnvironment(process.env, { logger: bootstrap });
  const logger = createJsonLogger({ level: settings.logLevel ?? 'info' });
  const { options, ignored } = restConnectorOptionsFromConfiguration(
    settings.additionalConfiguration,
  );
  if (ignored.length > 0)
    logger.warn(
      { keys: ignored },
      'unknown keys in the additional connector configuration ignored',
    );
  connector = new RestConnector({ ...options, settings, logger });
} catch (error) {
  bootstrap.fatal({ err: error }, 'the REST connector cannot start');
  process.exitCode = exitCodes.startupFailure;
}
if (connector !== undefined) process.exitCode = await connector.run();
