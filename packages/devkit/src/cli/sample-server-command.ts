/**
 * `aio-connector sample-server`: runs a sample southbound server until Ctrl-C.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import type {
  SampleServerAuth,
  SampleServerRequest,
  SampleServerTls,
} from '../sample-servers/sample-http.ts';
import { startThermostatEventServer } from '../sample-servers/thermostat-event-server.ts';
import { startThermostatServer } from '../sample-servers/thermostat-server.ts';
import { UsageError, type CommandSpec, type ParsedArgs } from './args.ts';
import { clock, palette, wantsColour } from './format.ts';

/** The arguments of `aio-connector sample-server`. */
export const sampleServerCommand: CommandSpec = {
  name: 'sample-server',
  usage: '[options] thermostat',
  brief: 'run the thermostat sample server (REST API or SSE stream)',
  summary: `Runs the thermostat sample server: the REST API of the official AIO REST thermostat sample
(/api/thermostat/current, /api/thermostat/desired, /api/thermostat/status, /api/sensor/env,
/api/factory/location, /thermostat), or with --sse a Server-Sent Events stream of
thermostat_status_changed and alarm events. Anonymous, Basic or mutual TLS authentication.
Prints every request it receives.`,
  minPositionals: 1,
  maxPositionals: 1,
  options: [
    {
      name: 'sse',
      type: 'boolean',
      description: 'Serve the Server-Sent Events stream instead of the REST API',
    },
    {
      name: 'host',
      type: 'string',
      valueName: 'HOST',
      description: 'The interface to listen on. Default: 127.0.0.1',
    },
    {
      name: 'port',
      short: 'p',
      type: 'number',
      valueName: 'PORT',
      description: 'The port. Default: 8080 (REST), 8081 (--sse); 0 picks a free one',
    },
    {
      name: 'auth',
      type: 'string',
      valueName: 'KIND',
      description: 'anonymous, basic or mtls. Default: anonymous (mtls needs --cert, --key, --ca)',
    },
    {
      name: 'username',
      type: 'string',
      valueName: 'NAME',
      description: 'Basic authentication user name',
    },
    {
      name: 'password',
      type: 'string',
      valueName: 'TEXT',
      description: 'Basic authentication password',
    },
    {
      name: 'cert',
      type: 'string',
      valueName: 'FILE',
      description: 'Serve HTTPS with this PEM certificate (chain)',
    },
    {
      name: 'key',
      type: 'string',
      valueName: 'FILE',
      description: 'The PEM private key of --cert',
    },
    {
      name: 'ca',
      type: 'string',
      valueName: 'FILE',
      description: 'PEM CA certificates client certificates must chain to (mtls)',
    },
    {
      name: 'path',
      type: 'string',
      valueName: 'PATH',
      description: '--sse: the stream path. Default: /events',
    },
    {
      name: 'interval',
      type: 'number',
      valueName: 'MS',
      description: '--sse: milliseconds between events. Default: 1000',
    },
    { name: 'quiet', short: 'q', type: 'boolean', description: 'Do not print the requests' },
  ],
  epilog: `Examples:
  aio-connector sample-server thermostat --port 8080
  aio-connector sample-server thermostat --sse --port 8081 --auth basic --username demo --password secret
  aio-connector sample-server thermostat --auth mtls --cert server.pem --key server.key --ca ca.pem

Exit codes: 0 stopped with Ctrl-C; 1 cannot start (port in use, unreadable files); 2 wrong
command line.`,
};

async function readPem(file: string | undefined): Promise<string | undefined> {
  return file === undefined ? undefined : readFile(file, 'utf8');
}

/** Runs `aio-connector sample-server`; resolves with the exit code. */
export async function runSampleServer(args: ParsedArgs): Promise<number> {
  const out = process.stdout;
  const err = process.stderr;
  const c = palette(wantsColour(out));
  const o = args.options;
  const kind = args.positionals[0];
  if (kind !== 'thermostat')
    throw new UsageError(
      `unknown sample server ${JSON.stringify(kind)}: the only one is "thermostat"`,
      'sample-server',
    );
  const sse = o['sse'] === true;
  const authKind = (o['auth'] as string | undefined) ?? 'anonymous';
  if (!['anonymous', 'basic', 'mtls'].includes(authKind))
    throw new UsageError(
      `--auth must be anonymous, basic or mtls, received ${authKind}`,
      'sample-server',
    );
  const username = o['username'] as string | undefined;
  const password = o['password'] as string | undefined;
  if (authKind === 'basic' && (username === undefined || password === undefined))
    throw new UsageError('--auth basic needs --username and --password', 'sample-server');
  const certFile = o['cert'] as string | undefined;
  const keyFile = o['key'] as string | undefined;
  if ((certFile === undefined) !== (keyFile === undefined))
    throw new UsageError('--cert and --key go together', 'sample-server');
  if (authKind === 'mtls' && (certFile === undefined || o['ca'] === undefined))
    throw new UsageError('--auth mtls needs --cert, --key and --ca', 'sample-server');
  const port = (o['port'] as number | undefined) ?? (sse ? 8081 : 8080);
  if (port < 0 || port > 65_535)
    throw new UsageError(`--port must be from 0 to 65535, received ${port}`, 'sample-server');
  if (!sse && (o['path'] !== undefined || o['interval'] !== undefined))
    throw new UsageError('--path and --interval apply to --sse', 'sample-server');
  let tls: SampleServerTls | undefined;
  try {
    const [cert, key, ca] = await Promise.all([
      readPem(certFile),
      readPem(keyFile),
      readPem(o['ca'] as string | undefined),
    ]);
    if (cert !== undefined && key !== undefined)
      tls = { cert, key, ...(ca === undefined ? {} : { ca }) };
  } catch (error) {
    err.write(`aio-connector sample-server: ${(error as Error).message}\n`);
    return 1;
  }
  const auth: SampleServerAuth =
    authKind === 'basic'
      ? { kind: 'basic', username: username as string, password: password as string }
      : authKind === 'mtls'
        ? { kind: 'mtls' }
        : { kind: 'anonymous' };
  const onRequest =
    o['quiet'] === true
      ? undefined
      : (request: SampleServerRequest): void => {
          out.write(
            `${c.dim(clock(request.receivedAt.getTime()))} ${request.method} ${request.path}${request.search}${request.clientCertificateSubject === undefined ? '' : c.dim(` (client certificate ${request.clientCertificateSubject})`)}\n`,
          );
        };
  const common = {
    port,
    auth,
    ...(o['host'] === undefined ? {} : { host: o['host'] as string }),
    ...(tls === undefined ? {} : { tls }),
    ...(onRequest === undefined ? {} : { onRequest }),
  };
  let close: () => Promise<void>;
  try {
    if (sse) {
      const interval = o['interval'] as number | undefined;
      const server = await startThermostatEventServer({
        ...common,
        ...(o['path'] === undefined ? {} : { path: o['path'] as string }),
        ...(interval === undefined ? {} : { intervalInMs: interval }),
      });
      out.write(`thermostat event stream (${authKind}) at ${c.bold(server.url)}\n`);
      close = () => server.close();
    } else {
      const server = await startThermostatServer(common);
      out.write(
        `thermostat REST API (${authKind}) at ${c.bold(server.url)}  e.g. ${server.url}/api/thermostat/status\n`,
      );
      close = () => server.close();
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    err.write(
      `aio-connector sample-server: cannot start: ${code === 'EADDRINUSE' ? `port ${port} is in use by another program (choose one with --port)` : (error as Error).message}\n`,
    );
    return 1;
  }
  out.write(`${c.dim('Ctrl-C stops it')}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => {
      resolve();
    });
    process.once('SIGTERM', () => {
      resolve();
    });
  });
  await close();
  return 0;
}
