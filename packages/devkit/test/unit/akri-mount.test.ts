import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectorSettings } from '@aio-connector/core';
import { writeAkriMount } from '../../src/sandbox/akri-mount.ts';

let dir: string;
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeAkriMount', () => {
  it('writes a mount the SDK reads back as the pod contract', async () => {
    dir = await mkdtemp(join(tmpdir(), 'akri-'));
    const mount = await writeAkriMount({
      dir,
      connectorId: 'rest-connector-0',
      broker: { host: '127.0.0.1', port: 18_883, satToken: 'header.payload.sig' },
      endpoints: [
        { deviceName: 'my-thermostat', endpointName: 'my_rest_endpoint', assets: ['a1', 'a2'] },
      ],
      secrets: { 'rest-secrets/username': 'user', 'rest-secrets/password': 'pass' },
      additionalConfiguration: '{ "x": 1, }',
      logLevel: 'debug',
    });
    const settings = await ConnectorSettings.fromEnvironment(mount.env);
    expect(settings.connectorId).toBe('rest-connector-0');
    expect(settings.mqtt).toMatchObject({
      hostname: '127.0.0.1',
      port: 18_883,
      clientId: 'rest-connector-0',
      useTls: false,
      satFile: mount.env['BROKER_SAT_MOUNT_PATH'],
    });
    expect(settings.additionalConfiguration).toEqual({ x: 1 });
    expect(settings.logLevel).toBe('debug');
    const names = mount.env['ADR_RESOURCES_NAME_MOUNT_PATH']!;
    expect(await readdir(names)).toEqual(['my-thermostat_my_rest_endpoint']);
    expect(await readFile(join(names, 'my-thermostat_my_rest_endpoint'), 'utf8')).toBe('a1\na2');
    const credentials = await settings.readEndpointCredentials({
      deviceName: 'my-thermostat',
      inboundEndpointName: 'my_rest_endpoint',
      authentication: {
        method: 'UsernamePassword',
        usernamePasswordCredentials: {
          usernameSecretName: 'rest-secrets/username',
          passwordSecretName: 'rest-secrets/password',
        },
      },
    });
    expect(credentials).toMatchObject({ method: 'UsernamePassword', username: 'user' });
    expect(credentials.method === 'UsernamePassword' && credentials.password).toBe('pass');

    await mount.setEndpoints([{ deviceName: 'other', endpointName: 'ep', assets: ['b'] }]);
    expect(await readdir(names)).toEqual(['other_ep']);
  });

  it('refuses secret names that leave the secrets folder', async () => {
    dir = await mkdtemp(join(tmpdir(), 'akri-'));
    await expect(
      writeAkriMount({
        dir,
        connectorId: 'c',
        broker: { host: 'h', port: 1 },
        secrets: { '../x': 'y' },
      }),
    ).rejects.toBeInstanceOf(RangeError);
  });
});
