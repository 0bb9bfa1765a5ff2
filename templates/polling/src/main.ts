import { readinessProbeMain } from '@aio-connector/core';
import { HttpPollingConnector } from './http-polling-connector.ts';

// The pod's readiness probe runs `node dist/main.js readiness-probe` (see connector-metadata.json):
// it answers at once, 0 when the connector is ready, 1 when it is not, and exits.
readinessProbeMain();

// Reads the Akri pod contract (environment variables and mounted files), connects to the MQTT
// broker, serves the assets allocated to this connector and stops gracefully on SIGTERM. The exit
// code tells the operator why it stopped: 0 stopped, 1 could not start, 2 lost the broker session.
await new HttpPollingConnector().run();
