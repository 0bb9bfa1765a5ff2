import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { Asset, Device } from '@aio-connector/core';
import {
  assignEndpoints,
  diffDefinitions,
  mapAddresses,
  readEndpointSecrets,
} from '../../src/sandbox/sandbox-resources.ts';

const device = (endpoints: Record<string, Record<string, unknown>>): Device =>
  ({ endpoints: { inbound: endpoints } }) as unknown as Device;
const asset = (deviceName: string, endpointName: string): Asset => ({
  deviceRef: { deviceName, endpointName },
});

describe('assignEndpoints', () => {
  const devices = new Map([
    [
      'thermostat',
      device({
        rest: { address: 'http://t', endpointType: 'Microsoft.Rest' },
        events: { address: 'http://t', endpointType: 'Microsoft.Sse' },
      }),
    ],
    ['plc', device({ opc: { address: 'opc.tcp://p', endpointType: 'Contoso.Opc' } })],
  ]);
  const assets = new Map([
    ['a-rest', asset('thermostat', 'rest')],
    ['a-sse', asset('thermostat', 'events')],
    ['a-sse-2', asset('thermostat', 'events')],
    ['a-plc', asset('plc', 'opc')],
    ['orphan', asset('nowhere', 'x')],
  ]);

  it('gives each connector the endpoints of its types, and the rest to a connector without types', () => {
    const { byConnector, warnings } = assignEndpoints({ devices, assets }, [
      { name: 'rest', endpointTypes: ['Microsoft.Rest'] },
      { name: 'sse', endpointTypes: ['Microsoft.Sse'] },
      { name: 'any' },
    ]);
    expect(byConnector.get('rest')).toEqual([
      { deviceName: 'thermostat', endpointName: 'rest', assets: ['a-rest'] },
    ]);
    expect(byConnector.get('sse')).toEqual([
      { deviceName: 'thermostat', endpointName: 'events', assets: ['a-sse', 'a-sse-2'] },
    ]);
    expect(byConnector.get('any')).toEqual([
      { deviceName: 'plc', endpointName: 'opc', assets: ['a-plc'] },
    ]);
    expect(warnings).toEqual([
      'asset "orphan" is served by no connector: device "nowhere" has no inbound endpoint "x"',
    ]);
  });

  it('warns about endpoints no connector serves', () => {
    const { byConnector, warnings } = assignEndpoints({ devices, assets: new Map() }, [
      { name: 'rest', endpointTypes: ['Microsoft.Rest'] },
    ]);
    expect(byConnector.get('rest')).toEqual([
      { deviceName: 'thermostat', endpointName: 'rest', assets: [] },
    ]);
    expect(warnings).toEqual([
      'device "thermostat" endpoint "events" (type Microsoft.Sse) is served by no connector',
      'device "plc" endpoint "opc" (type Contoso.Opc) is served by no connector',
    ]);
  });
});

describe('mapAddresses', () => {
  it('points endpoints with a sample server origin at the local server, keeping the path', () => {
    const devices = new Map([
      [
        'd',
        device({
          a: { address: 'http://thermostat.demo.svc.cluster.local', endpointType: 'x' },
          b: { address: 'http://thermostat.demo.svc.cluster.local:80/base?q=1', endpointType: 'x' },
          c: { address: 'http://other.local:80', endpointType: 'x' },
          d: { address: 'not a url', endpointType: 'x' },
        }),
      ],
    ]);
    const mapped = mapAddresses(devices, [
      { from: 'http://thermostat.demo.svc.cluster.local', to: 'http://127.0.0.1:41234' },
    ]);
    const inbound = mapped.get('d')!.endpoints!.inbound!;
    expect(inbound['a']!.address).toBe('http://127.0.0.1:41234');
    expect(inbound['b']!.address).toBe('http://127.0.0.1:41234/base?q=1');
    expect(inbound['c']!.address).toBe('http://other.local:80');
    expect(inbound['d']!.address).toBe('not a url');
    expect(devices.get('d')!.endpoints!.inbound!['a']!.address).toBe(
      'http://thermostat.demo.svc.cluster.local',
    );
  });
});

describe('diffDefinitions', () => {
  it('lists added, changed and removed devices and assets, ignoring key order', () => {
    const before = {
      devices: new Map([['d1', { enabled: true, attributes: { a: '1', b: '2' } }]]),
      assets: new Map([
        ['a1', asset('d1', 'e')],
        ['a2', asset('d1', 'e')],
      ]),
    };
    const after = {
      devices: new Map([['d1', { attributes: { b: '2', a: '1' }, enabled: true }]]),
      assets: new Map([
        ['a1', { ...asset('d1', 'e'), enabled: false }],
        ['a3', asset('d1', 'e')],
      ]),
    };
    expect(diffDefinitions(before, after)).toEqual({
      added: [{ kind: 'asset', name: 'a3' }],
      changed: [{ kind: 'asset', name: 'a1' }],
      removed: [{ kind: 'asset', name: 'a2' }],
    });
  });
});

describe('readEndpointSecrets', () => {
  async function folder(files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'sandbox-secrets-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    for (const [name, text] of Object.entries(files)) {
      await mkdir(join(dir, name, '..'), { recursive: true });
      await writeFile(join(dir, name), text);
    }
    return dir;
  }
  const devices = new Map([
    [
      'thermostat',
      device({
        rest: {
          address: 'https://t',
          endpointType: 'Microsoft.Rest',
          authentication: {
            method: 'UsernamePassword',
            usernamePasswordCredentials: {
              usernameSecretName: 'creds/username',
              passwordSecretName: 'creds/password',
            },
          },
          trustSettings: { trustList: 'thermostat-ca' },
        },
      }),
    ],
  ]);
  const endpoints = [{ deviceName: 'thermostat', endpointName: 'rest' }];

  it('reads the secrets and the trust list (a file or a folder of PEM files)', async () => {
    const dir = await folder({
      'creds/username': 'user',
      'creds/password': 'pass',
      'thermostat-ca/a.pem': 'PEM A',
      'thermostat-ca/b.pem': 'PEM B',
    });
    const { secrets, trustLists } = await readEndpointSecrets(dir, devices, endpoints);
    expect(Object.fromEntries(Object.entries(secrets).map(([k, v]) => [k, v.toString()]))).toEqual({
      'creds/username': 'user',
      'creds/password': 'pass',
    });
    expect(trustLists).toEqual({ 'thermostat-ca': ['PEM A', 'PEM B'] });
  });

  it('names the device, the secret and the file that is missing', async () => {
    const dir = await folder({ 'creds/username': 'user' });
    await expect(readEndpointSecrets(dir, devices, endpoints)).rejects.toThrow(
      `2 secrets are missing:\ndevice "thermostat" endpoint "rest" needs the secret "creds/password": the file ${join(dir, 'creds/password')} does not exist\ndevice "thermostat" endpoint "rest" needs the trust list "thermostat-ca": the file ${join(dir, 'thermostat-ca')} does not exist`,
    );
    await expect(readEndpointSecrets(undefined, devices, endpoints)).rejects.toThrow(
      'device "thermostat" endpoint "rest" needs the secret "creds/username", but no secrets folder is configured',
    );
  });
});
