import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  AdrMountMonitor,
  isAioError,
  type AdrMountEvent,
  type AdrMountMonitorOptions,
  type Logger,
} from '@aio-connector/core';

const fixture = fileURLToPath(
  new URL('../../../../../shared/aio/mount-files/adr-resources/', import.meta.url),
);

function format(event: AdrMountEvent): string {
  const asset = 'assetName' in event ? `/${event.assetName}` : '';
  return `${event.type} ${event.deviceName}/${event.endpointName}${asset}`;
}

/** Polls `check` until it returns true; fails after the deadline with `what`. */
async function eventually(check: () => boolean, what: string, timeoutInMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutInMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'adr-mount-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Starts a monitor and collects its events in the background until the test ends. */
function watchEvents(dir: string, options: AdrMountMonitorOptions = {}) {
  const monitor = new AdrMountMonitor(dir, { rescanIntervalInMs: 0, debounceInMs: 50, ...options });
  const events: string[] = [];
  const controller = new AbortController();
  const done = (async () => {
    for await (const event of monitor.start({ signal: controller.signal }))
      events.push(format(event));
  })();
  onTestFinished(async () => {
    controller.abort();
    await monitor.stop();
    await done;
  });
  const waitFor = (line: string): Promise<void> =>
    eventually(() => events.includes(line), `"${line}" (events so far: ${events.join(', ')})`);
  return { monitor, events, done, waitFor };
}

/**
 * Writes `files` the way the kubelet updates a projected volume: a new `..<stamp>` folder, `..data`
 * re-pointed to it by an atomic rename, then the visible symlinks added and removed, then the old
 * folder deleted.
 */
async function project(dir: string, files: Record<string, string>, stamp: string): Promise<void> {
  const folder = `..${stamp}`;
  await mkdir(join(dir, folder));
  for (const [name, content] of Object.entries(files))
    await writeFile(join(dir, folder, name), content);
  await symlink(folder, join(dir, '..data_tmp'));
  await rename(join(dir, '..data_tmp'), join(dir, '..data'));
  const visible = (await readdir(dir)).filter((name) => !name.startsWith('..'));
  for (const name of Object.keys(files))
    if (!visible.includes(name)) await symlink(join('..data', name), join(dir, name));
  for (const name of visible) if (!(name in files)) await unlink(join(dir, name));
  for (const name of await readdir(dir))
    if (name.startsWith('..') && name !== folder && name !== '..data')
      await rm(join(dir, name), { recursive: true, force: true });
}

describe('AdrMountMonitor', () => {
  it.skipIf(!existsSync(fixture))(
    'reads the official mount fixture, skipping the .. entries',
    async () => {
      const { monitor, events, waitFor } = watchEvents(fixture);
      await waitFor('assetCreated SomeDeviceName/SomeInboundEndpointName/SomeAssetName2');
      expect(events).toEqual([
        'deviceCreated SomeDeviceName/SomeInboundEndpointName',
        'assetCreated SomeDeviceName/SomeInboundEndpointName/SomeAssetName1',
        'assetCreated SomeDeviceName/SomeInboundEndpointName/SomeAssetName2',
      ]);
      expect(monitor.snapshot()).toEqual([
        {
          deviceName: 'SomeDeviceName',
          endpointName: 'SomeInboundEndpointName',
          assetNames: ['SomeAssetName1', 'SomeAssetName2'],
        },
      ]);
    },
  );

  it('reports each device before its assets, then asset lines added and removed', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'oven_rest'), '  a1 \n\n a2\r\na1');
    await writeFile(join(dir, 'fridge_my_tcp_endpoint'), '');
    await writeFile(join(dir, 'README'), 'no underscore: not a device');
    await writeFile(join(dir, '..data'), 'k8s artefact');
    await writeFile(join(dir, '.hidden_file'), 'x');
    await mkdir(join(dir, 'folder_x'));
    const { events, waitFor } = watchEvents(dir);
    await waitFor('assetCreated oven/rest/a2');
    expect(events).toEqual([
      'deviceCreated fridge/my_tcp_endpoint',
      'deviceCreated oven/rest',
      'assetCreated oven/rest/a1',
      'assetCreated oven/rest/a2',
    ]);

    events.length = 0;
    await writeFile(join(dir, 'oven_rest'), 'a2\na3');
    await waitFor('assetCreated oven/rest/a3');
    expect(events).toEqual(['assetDeleted oven/rest/a1', 'assetCreated oven/rest/a3']);

    events.length = 0;
    await writeFile(join(dir, 'grill_http'), 'g1');
    await waitFor('assetCreated grill/http/g1');
    expect(events).toEqual(['deviceCreated grill/http', 'assetCreated grill/http/g1']);
  });

  it('deletes the assets of a deleted device file before the device', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'oven_rest'), 'a1\na2');
    await writeFile(join(dir, 'grill_http'), 'g1');
    const { events, waitFor } = watchEvents(dir);
    await waitFor('assetCreated oven/rest/a2');
    events.length = 0;
    await unlink(join(dir, 'oven_rest'));
    await waitFor('deviceDeleted oven/rest');
    expect(events).toEqual([
      'assetDeleted oven/rest/a1',
      'assetDeleted oven/rest/a2',
      'deviceDeleted oven/rest',
    ]);
  });

  it('turns a Kubernetes atomic symlink swap into exactly the right changes', async () => {
    const dir = await tempDir();
    await project(dir, { dev1_ep: 'a1\na2', dev2_ep_x: 'b1' }, '2026_01_01_00_00_00.1');
    const { monitor, events, waitFor } = watchEvents(dir);
    await waitFor('assetCreated dev2/ep_x/b1');
    expect(events).toEqual([
      'deviceCreated dev1/ep',
      'assetCreated dev1/ep/a1',
      'assetCreated dev1/ep/a2',
      'deviceCreated dev2/ep_x',
      'assetCreated dev2/ep_x/b1',
    ]);

    events.length = 0;
    await project(dir, { dev1_ep: 'a2\na3', dev3_ep: 'c1' }, '2026_01_01_00_00_01.2');
    await waitFor('assetCreated dev3/ep/c1');
    // a later change proves that nothing else was queued behind the swap
    await project(
      dir,
      { dev1_ep: 'a2\na3', dev3_ep: 'c1', zz_sentinel: '' },
      '2026_01_01_00_00_02.3',
    );
    await waitFor('deviceCreated zz/sentinel');
    expect(events).toEqual([
      'assetDeleted dev1/ep/a1',
      'assetDeleted dev2/ep_x/b1',
      'deviceDeleted dev2/ep_x',
      'assetCreated dev1/ep/a3',
      'deviceCreated dev3/ep',
      'assetCreated dev3/ep/c1',
      'deviceCreated zz/sentinel',
    ]);
    expect(monitor.snapshot().map((entry) => entry.deviceName)).toEqual(['dev1', 'dev3', 'zz']);
  });

  it('never reports a device or asset twice when changes race the first read', async () => {
    const dir = await tempDir();
    const devices = Array.from({ length: 40 }, (_, i) => `d${String(i).padStart(2, '0')}_ep`);
    for (const name of devices) await writeFile(join(dir, name), 'x\ny\nz');
    const { events, waitFor } = watchEvents(dir, { debounceInMs: 0 });
    // rewrite every file while the first read is in progress: each write is a watcher event
    for (const name of devices) await writeFile(join(dir, name), 'x\ny\nz\n');
    await writeFile(join(dir, 'zz_sentinel'), '');
    await waitFor('deviceCreated zz/sentinel');
    expect(events).toHaveLength(devices.length * 4 + 1);
    expect(new Set(events).size).toBe(events.length);
    expect(events.filter((line) => line.includes('Deleted'))).toEqual([]);
  });

  it('believes an empty device file only when a second read confirms it', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'oven_rest'), 'a1\na2');
    const records: string[] = [];
    const record = (_: unknown, message?: string): void => {
      if (message !== undefined) records.push(message);
    };
    const logger: Logger = {
      trace: record,
      debug: record,
      info: record,
      warn: record,
      error: record,
      fatal: record,
      child: () => logger,
    };
    const emptyRead = 'device file read empty; reading it again to confirm';
    // a long debounce gives the test time to act between the first and the confirming read
    const { events, waitFor } = watchEvents(dir, { debounceInMs: 1_500, logger });
    await waitFor('assetCreated oven/rest/a2');

    // a writer that truncates, then writes: the empty read is not believed
    await writeFile(join(dir, 'oven_rest'), '');
    await eventually(() => records.includes(emptyRead), 'the first empty read');
    await writeFile(join(dir, 'oven_rest'), 'a1\na2');
    await writeFile(join(dir, 'grill_http'), '');
    await waitFor('deviceCreated grill/http');
    expect(events.filter((line) => line.startsWith('asset')).length).toBe(2);

    // a file that stays empty: its assets go after the second read
    records.length = 0;
    await writeFile(join(dir, 'oven_rest'), '\n');
    await waitFor('assetDeleted oven/rest/a2');
    expect(records).toContain(emptyRead);
    expect(events.slice(-2)).toEqual(['assetDeleted oven/rest/a1', 'assetDeleted oven/rest/a2']);
  });

  it('finds changes by periodic re-reading when notifications are off', async () => {
    const dir = await tempDir();
    const { events, waitFor } = watchEvents(dir, { watch: false, rescanIntervalInMs: 100 });
    await writeFile(join(dir, 'oven_rest'), 'a1');
    await waitFor('assetCreated oven/rest/a1');
    expect(events).toEqual(['deviceCreated oven/rest', 'assetCreated oven/rest/a1']);
  });

  it('ends the iteration on abort, on stop() and on break, and starts only once', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'oven_rest'), 'a1');

    const aborted = new AdrMountMonitor(dir);
    const controller = new AbortController();
    const iterator = aborted.start({ signal: controller.signal });
    expect((await iterator.next()).value).toEqual({
      type: 'deviceCreated',
      deviceName: 'oven',
      endpointName: 'rest',
    });
    const pending = iterator.next(); // a1
    await pending;
    const waiting = iterator.next(); // nothing more to report: waits
    controller.abort();
    expect(await waiting).toEqual({ done: true, value: undefined });
    expect(() => aborted.start()).toThrow(/only once/);

    const stopped = new AdrMountMonitor(dir);
    const second = stopped.start();
    await second.next();
    await stopped.stop();
    await stopped.stop();
    expect(await second.next()).toEqual({ done: true, value: undefined });

    await using broken = new AdrMountMonitor(dir);
    for await (const event of broken.start()) {
      expect(event.type).toBe('deviceCreated');
      break;
    }
    expect(() => broken.start()).toThrow(/only once/);

    const early = new AdrMountMonitor(dir);
    expect(await early.start({ signal: AbortSignal.abort() }).next()).toEqual({
      done: true,
      value: undefined,
    });
  });

  it('fails with a ConfigError when the directory does not exist', async () => {
    const dir = join(await tempDir(), 'missing');
    const monitor = new AdrMountMonitor(dir);
    onTestFinished(() => monitor.stop());
    const error = await monitor
      .start()
      .next()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isAioError(error) && error.code).toBe('ERR_AIO_CONFIG');
    expect((error as Error).message).toContain(`the ADR resources mount ${dir} cannot be read`);
  });

  it('checks its options', () => {
    expect(() => new AdrMountMonitor('')).toThrow(TypeError);
    expect(() => new AdrMountMonitor('/x', { debounceInMs: -1 })).toThrow(RangeError);
    expect(
      () => new AdrMountMonitor('/x', { rescanIntervalInMs: '5' as unknown as number }),
    ).toThrow(TypeError);
    expect(() => new AdrMountMonitor('/x', { watch: 1 as unknown as boolean })).toThrow(TypeError);
    expect(() => new AdrMountMonitor('/x', { logger: {} as Logger })).toThrow(TypeError);
  });
});
