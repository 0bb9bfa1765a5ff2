import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startEmbeddedBroker } from '../../src/sandbox/embedded-broker.ts';
import { portAccepts, repoRoot, runCli } from './cli-support.ts';

async function tempDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'aio-cli-tools-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  return dir;
}

describe('aio-connector validate', () => {
  it('accepts the example definitions', async () => {
    const cli = runCli([
      'validate',
      'examples/demo/resources',
      'examples/memory-connector/resources',
    ]);
    expect(await cli.exited).toBe(0);
    expect(cli.stdout()).toContain('4 YAML files: 3 devices, 4 assets');
    expect(cli.stdout()).toMatch(/0 errors, 0 warnings/);
  });

  it('reports every problem with file, line and what was expected, and exits 1', async () => {
    const dir = await tempDir({
      'asset.yaml': `apiVersion: namespaces.deviceregistry.microsoft.com/v1
kind: Asset
metadata:
  name: a1
spec:
  deviceRef: { deviceName: d1, endpointName: e1 }
  datasets:
    - name: ds
      destinations:
        - target: Mqtt
          configuration: { topic: t, qos: 2 }
`,
      'connector-metadata.json': '{\n  "name": 7\n}\n',
    });
    const cli = runCli(['validate', dir]);
    expect(await cli.exited).toBe(1);
    const out = cli.stdout();
    expect(out).toContain(
      `${join(dir, 'asset.yaml')}:11: error: asset "a1" spec.datasets[0].destinations[0].configuration.qos:`,
    );
    expect(out).toMatch(
      new RegExp(
        `${join(dir, 'connector-metadata.json').replace(/[.]/g, '\\.')}:2:\\d+: error: name: `,
      ),
    );
  });

  it('treats warnings as errors with --strict', async () => {
    const dir = await tempDir({
      'asset.yaml': `apiVersion: namespaces.deviceregistry.microsoft.com/v1
kind: Asset
metadata:
  name: orphan
spec:
  deviceRef: { deviceName: missing, endpointName: e1 }
`,
    });
    const relaxed = runCli(['validate', dir]);
    expect(await relaxed.exited).toBe(0);
    expect(relaxed.stdout()).toContain(
      'warning: asset "orphan" spec.deviceRef: device "missing" is not defined',
    );
    const strict = runCli(['validate', '--strict', dir]);
    expect(await strict.exited).toBe(1);
  });
});

describe('aio-connector sub', () => {
  it('prints messages with their MQTT 5 properties', async () => {
    const broker = await startEmbeddedBroker();
    onTestFinished(() => broker.close());
    const cli = runCli(['sub', 'factory/#', '--broker', broker.url, '--count', '2', '--json']);
    const publisher = await connectAsync(broker.url, { protocolVersion: 5 });
    onTestFinished(() => publisher.endAsync());
    // publish until the subscriber has seen two (it may subscribe after the first)
    let sent = 0;
    const timer = setInterval(() => {
      sent += 1;
      void publisher.publishAsync(`factory/oven/${sent}`, Buffer.from(`{"t":${sent}}`), {
        qos: 1,
        properties: {
          contentType: 'application/json',
          payloadFormatIndicator: true,
          messageExpiryInterval: 10,
          userProperties: {
            specversion: '1.0',
            dataschema: 'aio-sr://DefaultSRNamespace/ABC:1',
            __srcId: 'oven-0',
          },
        },
      });
    }, 200);
    onTestFinished(() => {
      clearInterval(timer);
    });
    expect(await cli.exited).toBe(0);
    const lines = cli
      .stdout()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      topic: expect.stringMatching(/^factory\/oven\/\d+$/),
      qos: 0,
      contentType: 'application/json',
      payloadFormatIndicator: 1,
      messageExpiryInterval: expect.any(Number),
      userProperties: expect.arrayContaining([
        ['specversion', '1.0'],
        ['dataschema', 'aio-sr://DefaultSRNamespace/ABC:1'],
        ['__srcId', 'oven-0'],
      ]),
      payload: expect.stringMatching(/^\{"t":\d+\}$/),
    });
  });

  it('exits 1 when the broker does not answer', async () => {
    const broker = await startEmbeddedBroker();
    const url = broker.url;
    await broker.close();
    const cli = runCli(['sub', '#', '--broker', url]);
    expect(await cli.exited).toBe(1);
    expect(cli.stderr()).toContain(`cannot connect to ${url}`);
  });
});

describe('aio-connector sample-server', () => {
  it('serves the thermostat with Basic authentication until SIGINT', async () => {
    const cli = runCli([
      'sample-server',
      'thermostat',
      '--port',
      '0',
      '--auth',
      'basic',
      '--username',
      'demo',
      '--password',
      'secret',
    ]);
    const [, url, port] = await cli.waitFor(/at (http:\/\/127\.0\.0\.1:(\d+))/);
    const denied = await fetch(`${url!}/api/thermostat/status`);
    expect(denied.status).toBe(401);
    const allowed = await fetch(`${url!}/api/thermostat/status`, {
      headers: { authorization: `Basic ${Buffer.from('demo:secret').toString('base64')}` },
    });
    expect(allowed.status).toBe(200);
    expect(await allowed.json()).toHaveProperty('currentTemperature');
    await cli.waitFor(/GET \/api\/thermostat\/status/);
    cli.child.kill('SIGINT');
    expect(await cli.exited).toBe(0);
    expect(await portAccepts(Number(port))).toBe(false);
  });

  it('serves the event stream with --sse', async () => {
    const cli = runCli([
      'sample-server',
      'thermostat',
      '--sse',
      '--port',
      '0',
      '--interval',
      '100',
    ]);
    const [, url] = await cli.waitFor(/at (http:\/\/127\.0\.0\.1:\d+\/events)/);
    const response = await fetch(url!);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes('event: thermostat_status_changed')) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    await reader.cancel();
    expect(text).toContain('event: thermostat_status_changed');
    cli.child.kill('SIGINT');
    expect(await cli.exited).toBe(0);
  });

  it('prints the help of each command', async () => {
    for (const command of ['dev', 'validate', 'sub', 'sample-server']) {
      const cli = runCli([command, '--help'], { cwd: repoRoot });
      expect(await cli.exited).toBe(0);
      expect(cli.stdout()).toContain(`Usage: aio-connector ${command} `);
      expect(cli.stdout()).toContain('Exit codes:');
    }
  });
});
