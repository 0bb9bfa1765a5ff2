#!/usr/bin/env node
/**
 * The container entry point of the SSE connector (`aio-sse-connector`): answers the readiness
 * probe (`aio-sse-connector readiness-probe`), otherwise reads the Akri pod contract, takes the SSE
 * options from the connector's additional configuration, and runs until SIGTERM.
 *
 * @module
 */
import {
  ConnectorSettings,
  createJsonLogger,
  exitCodes,
  readinessProbeMain,
} from '@aio-connector/core';
import { SseConnector } from './sse-connector.ts';
import { sseConnectorOptionsFromConfiguration } from './sse-configuration.ts';

readinessProbeMain();

const bootstrap = createJsonLogger({ level: 'info' });
let connector: SseConnector | undefined;
try {
  const settings = await ConnectorSettings.fromEnvironment(process.env, { logger: bootstrap });
  const logger = createJsonLogger({ level: settings.logLevel ?? 'info' });
  const { options, ignored } = sseConnectorOptionsFromConfiguration(
    settings.additionalConfiguration,
  );
  if (ignored.length > 0)
    logger.warn(
      { keys: ignored },
      'unknown keys in the additional connector configuration ignored',
    );
  connector = new SseConnector({ ...options, settings, logger });
} catch (error) {
  bootstrap.fatal({ err: error }, 'the SSE connector cannot start');
  process.exitCode = exitCodes.startupFailure;
}
if (connector !== undefined) process.exitCode = await connector.run();
