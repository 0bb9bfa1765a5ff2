#!/usr/bin/env node
/**
 * The `create-aio-connector` executable (`npm create aio-connector`, `npx create-aio-connector`).
 *
 * @module
 */
import { main } from './cli.ts';

process.exitCode = await main(process.argv.slice(2));
