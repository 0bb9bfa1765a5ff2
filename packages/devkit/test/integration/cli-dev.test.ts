import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { eventually, startSubscriber, type ReceivedMessage } from '@aio-connector/testing';
import {
  memoryConnectorMain,
  memoryResources,
  portAccepts,
  processExists,
  repoRoot,
  runCli,
} from './cli-support.ts';

async function tempCopy(source: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'aio-dev-test-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  await cp(source, dir, { recursive: true });
  return dir;
}

const tankAsset = `apiVersion: namespaces.deviceregistry.microsoft.com/v1
kind: Asset
metadata:
  name: tank
spec:
  deviceRef:
    deviceName: memory-device
    endpointName: memory
  defaultDatasetsConfiguration: '{ "samplingInterval": 500 }'
  datasets:
    - name: level
      dataSource: sine
      destinations:
        - target: Mqtt
          configuration:
            topic: examples/memory/{assetName}/{datasetName}
`;

const on = (topic: string) => (message: ReceivedMessage) => message.topic === topic;

describe('aio-connector dev (spawned, as a user runs it)', () => {
  it('runs the example connector, follows YAML edits, and stops cleanly on SIGINT', async () => {
    const resources = await tempCopy(memoryResources);
    const cli = runCli([
      'dev',
      '--resources',
      resources,
      '--connector',
      `memory=node --conditions=aio-connector-source ${memoryConnectorMain}`,
      '--summary-interval',
      '0',
    ]);
    const [, url, port] = await cli.waitFor(/broker (mqtt:\/\/127\.0\.0\.1:(\d+)) \(embedded\)/);
    const [, pid] = await cli.waitFor(/connector memory started \(pid (\d+)\)/);
    const [, stateDir] = await cli.waitFor(/mount folders in (\S+)/);
    expect(existsSync(join(stateDir!, 'memory', 'adr_resources_names'))).toBe(true);

    const subscriber = await startSubscriber(url!, 'examples/memory/#');
    onTestFinished(() => subscriber.close());
    // data from both assets, with the properties of the pod contract's connector
    const [temperature] = await subscriber.waitFor(on('examples/memory/boiler/temperatures'), {
      timeoutInMs: 30_000,
    });
    await subscriber.waitFor(on('examples/memory/pump/pressure'), { timeoutInMs: 30_000 });
    const body = JSON.parse(temperature!.payload.toString('utf8'));
    expect(body).toEqual({
      waterTemperature: expect.any(Number),
      flueTemperature: expect.any(Number),
      timestamp: expect.any(String),
    });
    expect(temperature!.userProperties).toEqual(expect.arrayContaining([['__srcId', 'memory-0']]));
    // the state store destination, as the live view saw the SET on the wire
    await cli.waitFor(
      /boiler\/cycles → state store examples-memory-boiler-cycles: first message \{"value":\d+/,
    );
    await cli.waitFor(
      /boiler\/temperatures → mqtt examples\/memory\/boiler\/temperatures: schema v1/,
    );

    // edit the YAML: a new asset appears, a deleted one stops
    const mark = cli.mark();
    const assetsFile = join(resources, 'memory-assets.yaml');
    const withoutPump = (await readFile(assetsFile, 'utf8')).split('\n---\n')[0]!;
    await writeFile(join(resources, 'tank.yaml'), tankAsset);
    await writeFile(assetsFile, withoutPump);
    await cli.waitFor(/reloaded .*removed asset "pump"/, { from: mark });
    await cli.waitFor(/reloaded .*added asset "tank"|added asset "tank"/, { from: mark });
    const tankCount = (): number =>
      subscriber.messages.filter(on('examples/memory/tank/level')).length;
    const pumpCount = (): number =>
      subscriber.messages.filter(on('examples/memory/pump/pressure')).length;
    await eventually(
      () => {
        expect(tankCount()).toBeGreaterThanOrEqual(2);
      },
      { timeoutInMs: 30_000 },
    );
    // messages still in flight at the removal may arrive; after that, none
    const pumpAfterRemoval = pumpCount();
    const tankNow = tankCount();
    await eventually(
      () => {
        expect(tankCount()).toBeGreaterThanOrEqual(tankNow + 4);
      },
      {
        timeoutInMs: 30_000,
      },
    );
    expect(pumpCount()).toBe(pumpAfterRemoval);

    // a broken edit is reported with file and line, and the previous definitions stay
    const brokenMark = cli.mark();
    await writeFile(join(resources, 'tank.yaml'), `${tankAsset}  bogusField: 1\n`);
    await cli.waitFor(/tank\.yaml:\d+: .*bogusField/, { from: brokenMark });
    const tankBefore = tankCount();
    await eventually(
      () => {
        expect(tankCount()).toBeGreaterThan(tankBefore + 1);
      },
      {
        timeoutInMs: 30_000,
      },
    );

    // Ctrl-C: everything stops, nothing is left behind
    cli.child.kill('SIGINT');
    expect(await cli.exited).toBe(0);
    expect(cli.stdout()).toMatch(/connector memory stopped with code 0/);
    expect(cli.stdout()).toMatch(/sandbox +stopped/);
    expect(processExists(Number(pid))).toBe(false);
    expect(await portAccepts(Number(port))).toBe(false);
    expect(existsSync(stateDir!)).toBe(false);
  }, 90_000);

  const haveConnectors =
    existsSync(join(repoRoot, 'packages/rest/src/main.ts')) &&
    existsSync(join(repoRoot, 'packages/sse/src/main.ts'));
  if (!haveConnectors)
    console.warn(
      'skipping the demo test: packages/rest/src/main.ts or packages/sse/src/main.ts is absent',
    );

  it.skipIf(!haveConnectors)(
    'runs the demo: the REST and SSE connectors against the sample servers',
    async () => {
      const cli = runCli([
        'dev',
        '--config',
        'examples/demo/sandbox.yaml',
        '--summary-interval',
        '0',
      ]);
      const [, url, port] = await cli.waitFor(/broker (mqtt:\/\/127\.0\.0\.1:(\d+)) \(embedded\)/);
      const [, restPid] = await cli.waitFor(/connector rest started \(pid (\d+)\)/);
      const [, ssePid] = await cli.waitFor(/connector sse started \(pid (\d+)\)/);
      const [, serverPort] = await cli.waitFor(
        /sample server thermostat \(thermostat\) at http:\/\/127\.0\.0\.1:(\d+)/,
      );
      const subscriber = await startSubscriber(url!, 'demo/#');
      onTestFinished(() => subscriber.close());
      const [status] = await subscriber.waitFor(on('demo/thermostat/status'), {
        timeoutInMs: 40_000,
      });
      expect(Object.keys(JSON.parse(status!.payload.toString('utf8'))).sort()).toEqual([
        'currentTemperature',
        'desiredTemperature',
      ]);
      const [event] = await subscriber.waitFor(on('demo/thermostat/events/status'), {
        timeoutInMs: 40_000,
      });
      expect(JSON.parse(event!.payload.toString('utf8'))).toHaveProperty('currentTemperature');
      await cli.waitFor(/state store demo-thermostat-environment: first message \{"temperature"/, {
        timeoutInMs: 40_000,
      });
      cli.child.kill('SIGINT');
      expect(await cli.exited).toBe(0);
      expect(processExists(Number(restPid))).toBe(false);
      expect(processExists(Number(ssePid))).toBe(false);
      expect(await portAccepts(Number(port))).toBe(false);
      expect(await portAccepts(Number(serverPort))).toBe(false);
    },
    90_000,
  );
});
