import type * as NodeFs from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { AdrMountMonitor } from '../../src/services/adr/mount-monitor.ts';

// the node has run out of inotify watches (a common state of busy Kubernetes nodes)
vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof NodeFs>();
  return {
    ...actual,
    watch: () => {
      throw Object.assign(
        new Error("ENOSPC: System limit for number of file watchers reached, watch '/mount'"),
        { code: 'ENOSPC', syscall: 'watch' },
      );
    },
  };
});

describe('AdrMountMonitor without file system notifications', () => {
  it('reads the mount and follows it by re-reading when the directory cannot be watched (ENOSPC)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'adr-mount-watch-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'oven_rest'), 'oven-asset\n');
    const monitor = new AdrMountMonitor(dir, { debounceInMs: 10, rescanIntervalInMs: 50 });
    onTestFinished(() => monitor.stop());
    const events = monitor.start();
    expect((await events.next()).value).toEqual({
      type: 'deviceCreated',
      deviceName: 'oven',
      endpointName: 'rest',
    });
    expect((await events.next()).value).toEqual({
      type: 'assetCreated',
      deviceName: 'oven',
      endpointName: 'rest',
      assetName: 'oven-asset',
    });
    // a change is still seen, by the periodic re-read
    await writeFile(join(dir, 'oven_rest'), 'oven-asset\nfridge-asset\n');
    expect((await events.next()).value).toEqual({
      type: 'assetCreated',
      deviceName: 'oven',
      endpointName: 'rest',
      assetName: 'fridge-asset',
    });
  });
});
