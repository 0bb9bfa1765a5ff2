import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { configurationOf, isAioError, type ConfigError } from '@aio-connector/core';
import { loadResources } from '@aio-connector/devkit';

const fixtures = fileURLToPath(
  new URL('../../../../../shared/aio/adr-resources/', import.meta.url),
);
const haveFixtures = existsSync(fixtures);
if (!haveFixtures) console.warn(`skipping the fixture tests: ${fixtures} is absent`);

async function files(entries: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'resources-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(entries)) await writeFile(join(dir, name), text);
  return dir;
}

async function failure(promise: Promise<unknown>): Promise<ConfigError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isAioError(error) && error.code).toBe('ERR_AIO_CONFIG');
  return error as ConfigError;
}

const device = (
  name = 'oven',
  extra = '',
) => `apiVersion: namespaces.deviceregistry.microsoft.com/v1
kind: Device
metadata:
  name: ${name}
spec:
  endpoints:
    inbound:
      rest:
        address: http://127.0.0.1:8080
        endpointType: rest${extra}
`;

describe.skipIf(!haveFixtures)('loadResources: the official fixtures', () => {
  it('loads every file: devices, assets, lists, trailing-comma configurations', async () => {
    const { devices, assets, warnings } = await loadResources(fixtures);
    expect([...devices.keys()]).toEqual(['my-thermostat', 'test-thermostat', 'unique-thermostat']);
    expect([...assets.keys()]).toEqual([
      'my-coap-thermostat-asset',
      'unique-rest-thermostat-asset', // rest-asset-for-update.yaml sorts before rest-asset.yaml
      'my-rest-thermostat-asset',
    ]);
    expect(warnings).toEqual([]);

    const thermostat = devices.get('my-thermostat')!;
    expect(thermostat.location).toEqual({
      file: join(fixtures, 'my-thermostat-device.yaml'),
      line: 4,
    });
    expect(thermostat.namespace).toBe('azure-iot-operations');
    const endpoint = thermostat.device.endpoints!.inbound!['my-rest-endpoint']!;
    expect(endpoint.authentication?.usernamePasswordCredentials?.usernameSecretName).toBe(
      'rest-server-auth-creds/username',
    );
    expect(configurationOf(endpoint)).toEqual({ key1: 'value1', nested: { key2: 2 } });
    expect(devices.get('test-thermostat')!.location.line).toBe(35);

    const rest = assets.get('my-rest-thermostat-asset')!;
    expect(rest.asset.deviceRef).toEqual({
      deviceName: 'my-thermostat',
      endpointName: 'my-rest-endpoint',
    });
    expect(configurationOf(rest.asset, 'defaultDatasetsConfiguration')).toEqual({
      samplingInterval: 4000,
    });
    expect(rest.asset.datasets![0]!.dataPoints!.map((p) => configurationOf(p))).toEqual([
      { HttpRequestMethod: 'GET' },
      { HttpRequestMethod: 'GET' },
    ]);
    expect(assets.get('unique-rest-thermostat-asset')!.location).toEqual({
      file: join(fixtures, 'rest-asset-for-update.yaml'),
      line: 1,
    });
  });

  it('warns, with the line, about the leading-slash topics the official SDKs reject when asked to', async () => {
    const { warnings } = await loadResources(fixtures, { allowLeadingSlash: false });
    expect(warnings.map((w) => `${w.file.slice(fixtures.length)}:${w.line}`)).toEqual([
      'coap-asset.yaml:31',
      'rest-asset-for-update.yaml:28',
      'rest-asset.yaml:31',
    ]);
    expect(warnings[2]?.message).toBe(
      'asset "my-rest-thermostat-asset" spec.datasets[0].destinations[0].configuration.topic "/mqtt/machine/status": starts with "/" (an empty first level; set allowLeadingSlash to accept it); the connector will report this destination as a configuration error',
    );
  });
});

describe('loadResources', () => {
  it('reads multi-document files, skipping other kinds and empty documents with warnings', async () => {
    const dir = await files({
      'all.yml': `${device()}---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
---
---
apiVersion: namespaces.deviceregistry.microsoft.com/v1
kind: Asset
metadata:
  name: oven-asset
spec:
  deviceRef: { deviceName: oven, endpointName: rest }
  datasets:
    - name: temperature
      destinations:
        - target: Mqtt
          configuration: { topic: "factory/{assetName}/{datasetName}", qos: Qos1 }
---
apiVersion: deviceregistry.microsoft.com/v1beta2
kind: Asset
metadata:
  name: legacy
spec: {}
`,
      'notes.txt': 'not read: directories load *.yaml and *.yml only',
    });
    const { devices, assets, warnings } = await loadResources([dir]);
    expect([...devices.keys()]).toEqual(['oven']);
    expect(assets.get('oven-asset')?.location).toEqual({ file: join(dir, 'all.yml'), line: 18 });
    expect(
      assets.get('oven-asset')?.asset.datasets?.[0]?.destinations?.[0]?.configuration.qos,
    ).toBe('Qos1');
    expect(warnings).toEqual([
      {
        file: join(dir, 'all.yml'),
        line: 12,
        message: 'skipped ConfigMap "settings": only Device and Asset resources are loaded',
      },
      {
        file: join(dir, 'all.yml'),
        line: 30,
        message:
          'skipped Asset "legacy": apiVersion "deviceregistry.microsoft.com/v1beta2" (the older, non-namespaced ADR API) is not supported; use namespaces.deviceregistry.microsoft.com/v1',
      },
    ]);
  });

  it('reports a YAML syntax error with its line', async () => {
    const dir = await files({
      'broken.yaml': `${device()}---
apiVersion: namespaces.deviceregistry.microsoft.com/v1
kind: Asset
metadata:
  name: a
spec:
  deviceRef: { deviceName: oven, endpointName: rest
`,
    });
    const error = await failure(loadResources(join(dir, 'broken.yaml')));
    expect(error.message).toMatch(
      new RegExp(`^${join(dir, 'broken.yaml')}:17: YAML syntax error: `),
    );
  });

  it('names file, line and field path of a bad enum value', async () => {
    const dir = await files({
      'rest-asset.yaml': `apiVersion: namespaces.deviceregistry.microsoft.com/v1
kind: Asset
metadata:
  name: thermostat
spec:
  deviceRef:
    deviceName: oven
    endpointName: rest
  datasets:
    - name: status
      dataSource: /status
      destinations:
        - configuration: { topic: t }
          target: Kafka
`,
    });
    const error = await failure(loadResources(dir));
    expect(error.message).toBe(
      `${join(dir, 'rest-asset.yaml')}:14: asset "thermostat" spec.datasets[0].destinations[0].target: expected one of BrokerStateStore|Mqtt|Storage, found "Kafka"`,
    );
    expect(error.details['problems']).toEqual([
      {
        file: join(dir, 'rest-asset.yaml'),
        line: 14,
        message:
          'asset "thermostat" spec.datasets[0].destinations[0].target: expected one of BrokerStateStore|Mqtt|Storage, found "Kafka"',
      },
    ]);
  });

  it('rejects fields the Thing Model does not define, suggesting the right one', async () => {
    const dir = await files({
      'd.yaml': `${device()}  manufactuer: Contoso
`,
    });
    const error = await failure(loadResources(dir));
    expect(error.message).toBe(
      `${join(dir, 'd.yaml')}:11: device "oven" spec.manufactuer: unknown field (not in the ADR Thing Model); did you mean "manufacturer"?`,
    );
  });

  it('reports a missing deviceRef at the spec line, and every problem of every file at once', async () => {
    const dir = await files({
      'a.yaml': `apiVersion: namespaces.deviceregistry.microsoft.com/v1
kind: Asset
metadata:
  name: no-ref
spec:
  datasets: [{ name: d }]
`,
      'b.yaml': `${device('bad_name')}---
${device('oven')}---
${device('oven')}`,
    });
    const error = await failure(loadResources(dir));
    expect(error.message).toBe(
      [
        '3 problems in the Device and Asset definitions:',
        `${join(dir, 'a.yaml')}:5: asset "no-ref" spec.deviceRef: required field is missing`,
        `${join(dir, 'b.yaml')}:4: device "bad_name" metadata.name: not a valid Kubernetes name (lower case letters, digits, "-" and ".")`,
        `${join(dir, 'b.yaml')}:26: device "oven" is defined twice (first at ${join(dir, 'b.yaml')}:12)`,
      ].join('\n'),
    );
  });

  it('warns about assets whose device or endpoint is not loaded', async () => {
    const dir = await files({
      'x.yaml': `${device()}---
apiVersion: namespaces.deviceregistry.microsoft.com/v1
kind: Asset
metadata: { name: a1 }
spec: { deviceRef: { deviceName: oven, endpointName: tcp } }
---
apiVersion: namespaces.deviceregistry.microsoft.com/v1
kind: Asset
metadata: { name: a2 }
spec: { deviceRef: { deviceName: grill, endpointName: rest } }
`,
    });
    const { assets, warnings } = await loadResources(dir);
    expect(assets.size).toBe(2);
    expect(warnings.map((w) => `${w.line}: ${w.message}`)).toEqual([
      '12: asset "a1" spec.deviceRef: device "oven" has no inbound endpoint "tcp"',
      '17: asset "a2" spec.deviceRef: device "grill" is not defined in the files loaded',
    ]);
  });

  it('fails clearly on a missing path and checks its arguments', async () => {
    const error = await failure(loadResources('/nonexistent/resources.yaml'));
    expect(error.message).toMatch(/^cannot read \/nonexistent\/resources\.yaml: /);
    await expect(loadResources([''])).rejects.toThrow(TypeError);
    await expect(
      loadResources('x', { allowLeadingSlash: 1 as unknown as boolean }),
    ).rejects.toThrow(TypeError);
    await expect(loadResources('x', { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'ERR_AIO_ABORTED',
    });
  });
});
