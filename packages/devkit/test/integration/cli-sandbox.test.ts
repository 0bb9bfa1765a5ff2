import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { eventually, startSubscriber } from '@aio-connector/testing';
import { Sandbox, SandboxMonitor, type SandboxEvent } from '@aio-connector/devkit';
import { memoryConnectorMain, memoryResources } from './cli-support.ts';

async function tempCopy(source: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'aio-sandbox-test-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  await cp(source, dir, { recursive: true });
  return dir;
}

describe('Sandbox (the programmatic API behind aio-connector dev)', () => {
  it('sends the real ADR notifications for edits and rewrites the mount', async () => {
    const resources = await tempCopy(memoryResources);
    const sandbox = new Sandbox({
      resources: [resources],
      connectors: [
        {
          name: 'memory',
          command: ['node', '--conditions=aio-connector-source', memoryConnectorMain],
          endpointTypes: ['Example.Memory'],
        },
      ],
      debounceInMs: 100,
    });
    onTestFinished(() => sandbox.stop());
    const events: SandboxEvent[] = [];
    sandbox.onEvent((event) => events.push(event));
    await sandbox.start();
    const monitor = await SandboxMonitor.start(sandbox);
    onTestFinished(() => monitor.close());
    const [connector] = sandbox.connectors;
    expect(connector).toMatchObject({ name: 'memory', connectorId: 'memory-0' });
    expect(connector!.env['CONNECTOR_ID']).toBe('memory-0');
    const names = connector!.env['ADR_RESOURCES_NAME_MOUNT_PATH']!;
    expect(await readFile(join(names, 'memory-device_memory'), 'utf8')).toBe('boiler\npump');

    const subscriber = await startSubscriber(sandbox.brokerUrl!, 'examples/memory/#');
    onTestFinished(() => subscriber.close());
    await subscriber.waitFor((m) => m.topic === 'examples/memory/pump/pressure', {
      timeoutInMs: 30_000,
    });
    // the connector asked for notifications on its assets
    await eventually(
      () => {
        expect(
          sandbox.adr!.requests.filter(
            (r) =>
              r.action === 'setNotificationPreferenceForAssetUpdates' && r.clientId === 'memory-0',
          ).length,
        ).toBeGreaterThanOrEqual(2);
      },
      { timeoutInMs: 20_000 },
    );
    await eventually(
      () => {
        const pressure = monitor.elements().find((e) => e.id === 'pump/pressure');
        expect(pressure).toMatchObject({
          destination: 'mqtt examples/memory/pump/pressure',
          connectors: ['memory'],
          schema: { version: '1' },
          health: { status: 'Available' },
        });
        expect(pressure!.messages).toBeGreaterThan(0);
      },
      { timeoutInMs: 30_000 },
    );

    // a new sampling interval: an assetUpdateEvent to the connector, with the new definition
    const file = join(resources, 'memory-assets.yaml');
    const text = await readFile(file, 'utf8');
    await writeFile(
      file,
      text.replace(
        /"samplingInterval": 1000 \}'(\s+datasets:\s+- name: pressure)/,
        '"samplingInterval": 250 }\'$1',
      ),
    );
    await eventually(
      () => {
        const update = sandbox.adr!.notifications.find(
          (n) => n.event === 'assetUpdateEvent' && n.clientId === 'memory-0',
        );
        expect(update?.topic).toBe(
          'akri/connector/resources/telemetry/memory-0/memory-device/memory/assetUpdateEvent',
        );
        expect(update?.payload).toMatchObject({
          assetUpdateEvent: {
            assetName: 'pump',
            asset: { defaultDatasetsConfiguration: '{ "samplingInterval": 250 }', version: 2 },
          },
        });
      },
      { timeoutInMs: 20_000 },
    );
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'resources',
        initial: false,
        changes: { added: [], changed: [{ kind: 'asset', name: 'pump' }], removed: [] },
      }),
    );

    // deleting the device empties the mount and removes it from ADR
    await rm(join(resources, 'memory-device.yaml'));
    await eventually(
      async () => {
        expect(await readdir(names)).toEqual([]);
        expect(sandbox.adr!.device('memory-device')).toBeUndefined();
      },
      { timeoutInMs: 20_000 },
    );
    expect(events.filter((event) => event.type === 'resources').at(-1)).toMatchObject({
      type: 'resources',
      devices: 0,
      warnings: expect.arrayContaining([
        expect.stringContaining(
          'asset "boiler" spec.deviceRef: device "memory-device" is not defined',
        ),
      ]),
    });
    const stateDir = sandbox.stateDir!;
    await monitor.close();
    await sandbox.stop();
    expect(existsSync(stateDir)).toBe(false);
    expect(sandbox.connectors[0]!.state).toBe('stopped');
  }, 90_000);
});
