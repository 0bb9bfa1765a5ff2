#!/usr/bin/env node
// The entry point of the memory connector: runs it from the Akri pod contract (environment
// variables and mounted files) until SIGTERM or SIGINT; `readiness-probe` answers the probe.
import { readinessProbeMain } from '@aio-connector/core';
import { MemoryConnector } from './memory-connector.ts';

readinessProbeMain();
await new MemoryConnector().run();
