/**
 * `aio-connector dev`: runs connectors against a local imitation of an AIO cluster.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { isAioError } from '@aio-connector/core';
import { loadSandboxConfig, parseConnectorArgument } from '../sandbox/sandbox-config.ts';
import { SandboxMonitor } from '../sandbox/sandbox-monitor.ts';
import {
  Sandbox,
  type SandboxConnector,
  type SandboxOptions,
  type SandboxEvent,
} from '../sandbox/sandbox.ts';
import { UsageError, type CommandSpec, type ParsedArgs } from './args.ts';
import { wantsColour } from './format.ts';
import { LiveView } from './live-view.ts';
import { removeDevSession, writeDevSession } from './session-file.ts';

/** The arguments of `aio-connector dev`. */
export const devCommand: CommandSpec = {
  name: 'dev',
  usage: '[options] [resource file or folder]... [-- <command to run the connector>]',
  maxPositionals: Infinity,
  brief: 'run connectors against a local imitation of an AIO cluster',
  summary: `Runs connectors against a complete local imitation of an Azure IoT Operations cluster: an
MQTT 5 broker, the ADR, schema registry and state store services, sample servers, and a real
Akri mount folder per connector, written from Device and Asset YAML (the files you would
kubectl apply). Each connector runs with the pod contract's environment variables and is
restarted with backoff when it exits. Editing the YAML files while it runs updates the
definitions and sends the connectors the real notifications.`,
  allowRest: true,
  options: [
    {
      name: 'config',
      short: 'c',
      type: 'string',
      valueName: 'FILE',
      description:
        'A sandbox configuration file (YAML): resources, secrets, broker,\nconnectors, sample servers. The options below add to it.',
    },
    {
      name: 'resources',
      short: 'r',
      type: 'string',
      repeatable: true,
      valueName: 'PATH',
      description: 'A Device/Asset YAML file, or a folder of them (arguments are\nresources too)',
    },
    {
      name: 'secrets',
      type: 'string',
      valueName: 'DIR',
      description:
        'The folder of device endpoint secrets (<DIR>/<secret>/<key>)\nand trust lists (<DIR>/<trust list>)',
    },
    {
      name: 'connector',
      type: 'string',
      repeatable: true,
      valueName: 'SPEC',
      description:
        'A connector to run: NAME=COMMAND, or NAME:TYPE,...=COMMAND to give it\nonly the device endpoints of those endpoint types',
    },
    {
      name: 'name',
      type: 'string',
      valueName: 'NAME',
      description: 'The name of the connector given after "--". Default: connector',
    },
    {
      name: 'endpoint-type',
      type: 'string',
      repeatable: true,
      valueName: 'TYPE',
      description: 'An endpoint type the connector given after "--" serves. Default: all',
    },
    {
      name: 'broker',
      type: 'string',
      valueName: 'URL',
      description:
        'Use this broker (mqtt://host:port or mqtts://host:port) instead of the\nembedded one',
    },
    {
      name: 'broker-ca',
      type: 'string',
      repeatable: true,
      valueName: 'FILE',
      description: 'A PEM CA certificate of an mqtts:// broker',
    },
    {
      name: 'port',
      short: 'p',
      type: 'number',
      valueName: 'PORT',
      description: 'The port of the embedded broker. Default: a free one',
    },
    {
      name: 'state-dir',
      type: 'string',
      valueName: 'DIR',
      description:
        'Where to write the mount folders. Default: a temporary folder,\nremoved on exit',
    },
    {
      name: 'watch',
      type: 'boolean',
      description:
        'Reload the resource files and secrets when they change. Default: on\n(--no-watch turns it off)',
    },
    {
      name: 'plain',
      type: 'boolean',
      description: 'Write log lines instead of the live table, even on a terminal',
    },
    {
      name: 'verbose',
      short: 'v',
      type: 'boolean',
      description:
        'Show every connector log line in the live table (not only\nwarnings and errors)',
    },
    {
      name: 'summary-interval',
      type: 'number',
      valueName: 'SECONDS',
      description:
        'Log lines: a summary of every dataset and event this often;\n0 = never. Default: 10',
    },
    {
      name: 'stop-timeout',
      type: 'number',
      valueName: 'SECONDS',
      description: 'How long a connector may take to stop before it is killed. Default: 10',
    },
  ],
  epilog: `Examples:
  aio-connector dev --resources ./resources -- node dist/main.js
  aio-connector dev -r resources --secrets secrets \\
    --connector "rest:Microsoft.Rest=node dist/main.js" --connector "sse:Microsoft.Sse=node sse.js"
  aio-connector dev --config examples/demo/sandbox.yaml

Each connector gets CONNECTOR_ID <name>-0 and the device endpoints of its endpoint types (all
endpoints no other connector claims when it lists none). Device endpoint addresses equal to a
sample server's "address" are pointed at the local server.

Exit codes: 0 stopped with Ctrl-C or SIGTERM; 1 could not start (port in use, resource file
errors, a missing secret, a bad configuration); 2 wrong command line.`,
};

async function buildOptions(args: ParsedArgs): Promise<SandboxOptions> {
  const o = args.options;
  const configFile = o['config'] as string | undefined;
  const base: SandboxOptions =
    configFile === undefined ? {} : (await loadSandboxConfig(configFile)).options;
  const connectors: SandboxConnector[] = [...(base.connectors ?? [])];
  for (const spec of (o['connector'] as string[] | undefined) ?? []) {
    try {
      connectors.push(parseConnectorArgument(spec));
    } catch (error) {
      throw new UsageError(`--connector: ${(error as Error).message}`, 'dev');
    }
  }
  if (args.rest !== undefined) {
    if (args.rest.length === 0) throw new UsageError('"--" must be followed by a command', 'dev');
    const types = (o['endpoint-type'] as string[] | undefined) ?? [];
    connectors.push({
      name: (o['name'] as string | undefined) ?? 'connector',
      command: args.rest,
      ...(types.length === 0 ? {} : { endpointTypes: types }),
    });
  } else if (o['name'] !== undefined || o['endpoint-type'] !== undefined)
    throw new UsageError('--name and --endpoint-type apply to a command given after "--"', 'dev');
  const brokerUrl = (o['broker'] as string | undefined) ?? base.broker?.url;
  if (brokerUrl !== undefined && !/^mqtts?:\/\/[^/]+/.test(brokerUrl))
    throw new UsageError(
      `--broker expects mqtt://host:port or mqtts://host:port, received ${brokerUrl}`,
      'dev',
    );
  const port = o['port'] as number | undefined;
  if (port !== undefined && (port < 0 || port > 65_535))
    throw new UsageError(`--port must be from 0 to 65535, received ${port}`, 'dev');
  if (port !== undefined && o['broker'] !== undefined)
    throw new UsageError('--port is for the embedded broker; it cannot go with --broker', 'dev');
  const cas: string[] = [...(base.broker?.caCertificates ?? [])];
  for (const file of (o['broker-ca'] as string[] | undefined) ?? [])
    cas.push(await readFile(file, 'utf8'));
  const stopTimeout = o['stop-timeout'] as number | undefined;
  if (stopTimeout !== undefined && stopTimeout < 0)
    throw new UsageError('--stop-timeout must not be negative', 'dev');
  const resources = [
    ...(base.resources ?? []),
    ...((o['resources'] as string[] | undefined) ?? []),
    ...args.positionals,
  ];
  const secrets = (o['secrets'] as string | undefined) ?? base.secrets;
  const stateDir = o['state-dir'] as string | undefined;
  return {
    ...base,
    resources,
    ...(secrets === undefined ? {} : { secrets }),
    broker: {
      ...base.broker,
      ...(brokerUrl === undefined ? {} : { url: brokerUrl }),
      ...(port === undefined ? {} : { port }),
      ...(cas.length === 0 ? {} : { caCertificates: cas }),
    },
    connectors,
    ...(stateDir === undefined ? {} : { stateDir }),
    watch: (o['watch'] as boolean | undefined) ?? true,
    ...(stopTimeout === undefined ? {} : { stopTimeoutInMs: stopTimeout * 1000 }),
  };
}

/** Runs `aio-connector dev`; resolves with the exit code. */
export async function runDev(args: ParsedArgs): Promise<number> {
  const out = process.stdout;
  const err = process.stderr;
  let options: SandboxOptions;
  try {
    options = await buildOptions(args);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    err.write(`aio-connector dev: ${(error as Error).message}\n`);
    return 1;
  }
  const interactive = out.isTTY && args.options['plain'] !== true;
  const summarySeconds = args.options['summary-interval'] as number | undefined;
  const sandbox = new Sandbox(options);
  const view = new LiveView({
    sandbox,
    out,
    interactive,
    colour: wantsColour(out),
    ...(summarySeconds === undefined ? {} : { summaryIntervalInMs: summarySeconds * 1000 }),
    verbose: args.options['verbose'] === true,
  });
  sandbox.onEvent((event: SandboxEvent) => {
    view.handle(event);
  });
  let stopRequested: (() => void) | undefined;
  const stopSignal = new Promise<string>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      signals += 1;
      if (signals === 1) {
        resolve(signal);
        stopRequested?.();
      } else
        view.note(
          `already stopping; a connector that does not stop is killed after its stop timeout`,
          'warn',
        );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('SIGHUP', onSignal);
  });
  let signalled = false;
  void stopSignal.then(() => {
    signalled = true;
  });
  try {
    await sandbox.start();
  } catch (error) {
    view.stop();
    const message = isAioError(error) ? error.message : String(error);
    err.write(`aio-connector dev: cannot start: ${message}\n`);
    return 1;
  }
  let monitor: SandboxMonitor | undefined;
  try {
    monitor = await SandboxMonitor.start(sandbox);
  } catch (error) {
    view.note(`the live view cannot subscribe to the broker: ${(error as Error).message}`, 'warn');
  }
  if (sandbox.brokerUrl !== undefined)
    await writeDevSession({ pid: process.pid, brokerUrl: sandbox.brokerUrl }).catch(
      () => undefined,
    );
  view.note(`mount folders in ${sandbox.stateDir ?? '?'}`);
  view.note(`watch the data with: aio-connector sub '#' --broker ${sandbox.brokerUrl ?? ''}`);
  view.start(monitor);
  if (!signalled)
    await new Promise<void>((resolve) => {
      stopRequested = resolve;
    });
  await monitor?.close().catch(() => undefined);
  await sandbox.stop();
  view.stop();
  await removeDevSession().catch(() => undefined);
  return 0;
}
