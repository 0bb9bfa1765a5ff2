/**
 * The official REST thermostat device and asset definitions (`../shared/aio/adr-resources/`), as
 * `kubectl apply` would take them, run end to end against a local thermostat server: only the
 * device address is pointed at the local server (with the Basic credentials the device names).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { RestConnector } from '@aio-connector/rest';
import type { Device } from '@aio-connector/core';
import { loadResources, startThermostatServer } from '@aio-connector/devkit';
import { eventually } from '@aio-connector/testing';
import { startConnectorSandbox } from '../../../core/test/integration/support/connector-sandbox.ts';

const resources = fileURLToPath(
  new URL('../../../../../shared/aio/adr-resources/', import.meta.url),
);
const haveResources = existsSync(resources);
if (!haveResources)
  console.warn(`skipping the official thermostat definitions: ${resources} is absent`);

const pairs = [
  { device: 'my-thermostat-device.yaml', asset: 'rest-asset.yaml' },
  { device: 'thermostat-device-for-update.yaml', asset: 'rest-asset-for-update.yaml' },
] as const;

describe.skipIf(!haveResources)('the official REST thermostat definitions', () => {
  for (const pair of pairs)
    it(`samples ${pair.asset} on ${pair.device} and forwards the merged data points`, async () => {
      const loaded = await loadResources([
        `${resources}${pair.device}`,
        `${resources}${pair.asset}`,
      ]);
      const [assetName, { asset }] = [...loaded.assets].find(
        ([, a]) => a.asset.datasets?.some((d) => d.dataPoints !== undefined) ?? false,
      )!;
      const { deviceName, endpointName } = asset.deviceRef;
      const loadedDevice = loaded.devices.get(deviceName)!.device;
      const endpoint = loadedDevice.endpoints!.inbound![endpointName]!;
      const credentials = endpoint.authentication!.usernamePasswordCredentials!;

      const server = await startThermostatServer({
        stepInMs: 3_600_000,
        initialState: { currentTemperature: 73.25, desiredTemperature: 70 },
        auth: { kind: 'basic', username: 'thermostat-user', password: 'thermostat-password' },
      });
      onTestFinished(() => server.close());
      const device: Device = {
        ...loadedDevice,
        endpoints: {
          ...loadedDevice.endpoints,
          inbound: {
            ...loadedDevice.endpoints!.inbound,
            [endpointName]: { ...endpoint, address: server.url },
          },
        },
      };
      const sandbox = await startConnectorSandbox({
        devices: { [deviceName]: device },
        assets: { [assetName]: asset },
        secrets: {
          [credentials.usernameSecretName]: 'thermostat-user',
          [credentials.passwordSecretName]: 'thermostat-password',
        },
      });
      onTestFinished(() => sandbox.close());
      const topic = asset.datasets![0]!.destinations![0]!.configuration.topic!;
      expect(topic).toBe('/mqtt/machine/status');
      const subscriber = await sandbox.subscribe(topic);
      const connector = new RestConnector({ settings: await sandbox.settingsFor('connector-0') });
      onTestFinished(() => connector.stop());
      await connector.start();

      // samplingInterval 4000 (defaultDatasetsConfiguration), first tick within one interval
      await subscriber.waitFor(1, { timeoutInMs: 25_000 });
      const message = subscriber.messages[0]!;
      expect(JSON.parse(message.payload.toString('utf8'))).toEqual({
        currentTemperature: 73.25,
        desiredTemperature: 70,
      });
      expect(message.contentType).toBe('application/json');
      const props = new Map(message.userProperties);
      expect(props.get('source')).toBe(`ms-aio:${deviceName}/thermostat`);
      expect(props.get('subject')).toBe(`${assetName}/thermostat_status`);
      expect(
        server.requests.map((r) => `${r.method} ${r.path} ${r.headers['authorization']}`).sort(),
      ).toEqual(
        expect.arrayContaining([
          'GET /api/thermostat/current Basic [redacted]',
          'GET /api/thermostat/desired Basic [redacted]',
        ]),
      );
      await eventually(() => {
        const status = sandbox.adr.assetStatus(assetName);
        expect(status?.config?.error).toBeUndefined();
        expect(status?.datasets?.[0]).toMatchObject({
          name: 'thermostat_status',
          messageSchemaReference: { schemaVersion: '1' },
        });
        expect(status?.datasets?.[0]?.error).toBeUndefined();
      });
      const [, versions] = [...sandbox.registry.schemas.entries()][0]!;
      expect(JSON.parse(versions.get('1')!.schemaContent)).toMatchObject({
        type: 'object',
        properties: {
          currentTemperature: { type: 'number' },
          desiredTemperature: { type: 'integer' },
        },
      });
    });
});
