/**
 * `aio-connector sub`: prints MQTT messages with their MQTT 5 properties (CloudEvent headers,
 * schema reference, AIO system properties) — a developer's `mosquitto_sub -F`.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { connect, type IClientOptions, type IPublishPacket } from 'mqtt';
import { UsageError, type CommandSpec, type ParsedArgs } from './args.ts';
import { palette, wantsColour, type Palette } from './format.ts';
import { readDevSession } from './session-file.ts';

/** The arguments of `aio-connector sub`. */
export const subCommand: CommandSpec = {
  name: 'sub',
  usage: '[options] <topic filter>...',
  brief: 'print MQTT messages with their MQTT 5 properties',
  summary: `Subscribes to topic filters and prints every message with its MQTT 5 properties: content type,
payload format, message expiry, response topic, correlation data, and the user properties that
carry the CloudEvent headers (specversion, type, source, id, time, subject, dataschema — the
schema reference) and the AIO system properties (__ts, __srcId, __protVer, ...).
Without --broker it uses $AIO_CONNECTOR_BROKER, or the broker of the running "aio-connector dev".`,
  minPositionals: 1,
  maxPositionals: Infinity,
  options: [
    {
      name: 'broker',
      short: 'b',
      type: 'string',
      valueName: 'URL',
      description: 'The broker: mqtt://host:port or mqtts://host:port',
    },
    {
      name: 'ca',
      type: 'string',
      valueName: 'FILE',
      description: 'A PEM CA certificate to trust for an mqtts:// broker',
    },
    {
      name: 'qos',
      type: 'number',
      valueName: '0|1',
      description: 'Subscription QoS. Default: 0',
    },
    {
      name: 'count',
      short: 'n',
      type: 'number',
      valueName: 'N',
      description: 'Exit after N messages',
    },
    {
      name: 'timeout',
      type: 'number',
      valueName: 'SECONDS',
      description: 'Exit after this long (exit code 3 when fewer than --count messages came)',
    },
    {
      name: 'json',
      type: 'boolean',
      description: 'One JSON object per message (payload as text, or base64 for binary)',
    },
    {
      name: 'max-payload',
      type: 'number',
      valueName: 'CHARS',
      description: 'Cut printed payloads to this many characters. Default: 2000',
    },
  ],
  epilog: `Examples:
  aio-connector sub '#'
  aio-connector sub 'examples/memory/#' --count 5 --json

Exit codes: 0 done (Ctrl-C, or --count reached); 1 cannot connect or subscribe; 2 wrong command
line; 3 --timeout reached before --count messages.`,
};

const decoder = new TextDecoder('utf-8', { fatal: true });

function text(payload: Buffer): string | undefined {
  try {
    return decoder.decode(payload);
  } catch {
    return undefined;
  }
}

function userProperties(packet: IPublishPacket): [string, string][] {
  const out: [string, string][] = [];
  for (const [name, value] of Object.entries(packet.properties?.userProperties ?? {})) {
    if (Array.isArray(value)) for (const item of value) out.push([name, item]);
    else out.push([name, value]);
  }
  return out;
}

/** One message as JSON (for `--json`). */
export function messageAsJson(packet: IPublishPacket): Record<string, unknown> {
  const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
  const body = text(payload);
  const p = packet.properties ?? {};
  return {
    topic: packet.topic,
    qos: packet.qos,
    retain: packet.retain,
    ...(p.contentType === undefined ? {} : { contentType: p.contentType }),
    ...(p.payloadFormatIndicator === undefined
      ? {}
      : { payloadFormatIndicator: p.payloadFormatIndicator ? 1 : 0 }),
    ...(p.messageExpiryInterval === undefined
      ? {}
      : { messageExpiryInterval: p.messageExpiryInterval }),
    ...(p.responseTopic === undefined ? {} : { responseTopic: p.responseTopic }),
    ...(p.correlationData === undefined
      ? {}
      : { correlationData: Buffer.from(p.correlationData).toString('hex') }),
    userProperties: userProperties(packet),
    ...(body === undefined ? { payloadBase64: payload.toString('base64') } : { payload: body }),
  };
}

/** One message for people: a header line, the properties, the payload. */
export function formatMessage(packet: IPublishPacket, c: Palette, maxPayload: number): string {
  const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
  const p = packet.properties ?? {};
  const lines = [
    `${c.bold(packet.topic)}  ${c.dim(`qos ${packet.qos}${packet.retain ? ' retained' : ''} · ${payload.byteLength} bytes`)}`,
  ];
  const mqtt: string[] = [];
  if (p.contentType !== undefined) mqtt.push(`content-type: ${p.contentType}`);
  if (p.payloadFormatIndicator !== undefined)
    mqtt.push(`payload-format: ${p.payloadFormatIndicator ? 'utf-8' : 'bytes'}`);
  if (p.messageExpiryInterval !== undefined) mqtt.push(`expiry: ${p.messageExpiryInterval} s`);
  if (p.responseTopic !== undefined) mqtt.push(`response-topic: ${p.responseTopic}`);
  if (p.correlationData !== undefined)
    mqtt.push(`correlation-data: ${Buffer.from(p.correlationData).toString('hex')}`);
  if (mqtt.length > 0) lines.push(`  ${c.dim(mqtt.join('  '))}`);
  for (const [name, value] of userProperties(packet))
    lines.push(`  ${c.cyan(name)}: ${name === 'dataschema' ? c.green(value) : value}`);
  const body = text(payload);
  const shown =
    body === undefined
      ? c.dim(`<binary> ${payload.subarray(0, Math.ceil(maxPayload / 2)).toString('hex')}`)
      : body.length > maxPayload
        ? `${body.slice(0, maxPayload)}${c.dim(`… (${body.length - maxPayload} more characters)`)}`
        : body;
  lines.push(`  ${shown.replace(/\n/g, '\n  ')}`);
  return `${lines.join('\n')}\n`;
}

/** Runs `aio-connector sub`; resolves with the exit code. */
export async function runSub(args: ParsedArgs): Promise<number> {
  const out = process.stdout;
  const err = process.stderr;
  const o = args.options;
  const url =
    (o['broker'] as string | undefined) ??
    (process.env['AIO_CONNECTOR_BROKER'] || undefined) ??
    readDevSession()?.brokerUrl;
  if (url === undefined)
    throw new UsageError(
      'no broker: pass --broker mqtt://host:port, set AIO_CONNECTOR_BROKER, or start "aio-connector dev" first',
      'sub',
    );
  if (!/^mqtts?:\/\/[^/]+/.test(url))
    throw new UsageError(
      `--broker expects mqtt://host:port or mqtts://host:port, received ${url}`,
      'sub',
    );
  const qos = (o['qos'] as number | undefined) ?? 0;
  if (qos !== 0 && qos !== 1) throw new UsageError('--qos must be 0 or 1', 'sub');
  const count = o['count'] as number | undefined;
  if (count !== undefined && count < 1) throw new UsageError('--count must be at least 1', 'sub');
  const timeout = o['timeout'] as number | undefined;
  if (timeout !== undefined && timeout < 1)
    throw new UsageError('--timeout must be at least 1', 'sub');
  const maxPayload = (o['max-payload'] as number | undefined) ?? 2000;
  if (maxPayload < 1) throw new UsageError('--max-payload must be at least 1', 'sub');
  const json = o['json'] === true;
  const c = palette(wantsColour(out));
  const connectOptions: IClientOptions = {
    protocolVersion: 5,
    clientId: `aio-connector-sub-${Math.random().toString(36).slice(2, 10)}`,
    clean: true,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    ...(o['ca'] === undefined ? {} : { ca: await readFile(o['ca'] as string, 'utf8') }),
  };
  const client = connect(url, connectOptions);
  let received = 0;
  let settle!: (code: number) => void;
  const done = new Promise<number>((resolve) => {
    settle = resolve;
  });
  client.on('message', (_topic, _payload, packet) => {
    if (count !== undefined && received >= count) return;
    received += 1;
    out.write(
      json ? `${JSON.stringify(messageAsJson(packet))}\n` : formatMessage(packet, c, maxPayload),
    );
    if (count !== undefined && received >= count) settle(0);
  });
  let connected = false;
  client.on('connect', () => {
    const first = !connected;
    connected = true;
    client.subscribe(args.positionals as string[], { qos }, (error, granted) => {
      const refused = granted?.filter((grant) => grant.qos >= 0x80) ?? [];
      if (error !== null && error !== undefined) {
        err.write(`aio-connector sub: cannot subscribe: ${error.message}\n`);
        settle(1);
      } else if (refused.length > 0) {
        err.write(
          `aio-connector sub: the broker refused ${refused.map((grant) => grant.topic).join(', ')}\n`,
        );
        settle(1);
      } else if (first && !json)
        err.write(`${c.dim(`subscribed to ${args.positionals.join(' ')} on ${url}`)}\n`);
    });
  });
  client.on('error', (error) => {
    if (!connected) {
      err.write(`aio-connector sub: cannot connect to ${url}: ${error.message}\n`);
      settle(1);
    }
  });
  const connectTimer = setTimeout(() => {
    if (!connected) {
      err.write(`aio-connector sub: cannot connect to ${url}: no answer within 10 s\n`);
      settle(1);
    }
  }, 10_000);
  const timeoutTimer =
    timeout === undefined
      ? undefined
      : setTimeout(() => {
          settle(count !== undefined && received < count ? 3 : 0);
        }, timeout * 1000);
  const onSignal = (): void => {
    settle(0);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const code = await done;
  clearTimeout(connectTimer);
  clearTimeout(timeoutTimer);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  await client.endAsync(true).catch(() => undefined);
  return code;
}
