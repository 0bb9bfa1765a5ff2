/**
 * End-to-end harness of the REST connector tests: the connector sandbox (broker, ADR / schema
 * registry / state store emulators, an Akri mount), device and asset builders, a connector that
 * is stopped when the test finishes, a recording logger, and status and health readers.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import type {
  AdrConfigError,
  Asset,
  AssetDataset,
  Device,
  InboundEndpoint,
  Logger,
  RuntimeHealth,
} from '@aio-connector/core';
import { RestConnector, type RestConnectorOptions } from '@aio-connector/rest';
import type { Subscriber } from '@aio-connector/testing';
import {
  startConnectorSandbox,
  type ConnectorSandbox,
} from '../../../../core/test/integration/support/connector-sandbox.ts';

export const deviceName = 'thermostat-device';
export const endpointName = 'rest-endpoint';
export const assetName = 'thermostat';

/** A device with one REST inbound endpoint. */
export function restDevice(address: string, endpoint: Partial<InboundEndpoint> = {}): Device {
  return {
    enabled: true,
    uuid: 'd0d0-0001',
    version: 1,
    endpoints: {
      inbound: {
        [endpointName]: { address, endpointType: 'Microsoft.Rest', version: '1', ...endpoint },
      },
    },
  };
}

/** A dataset forwarding to `rest/{datasetName}`. */
export function restDataset(
  name: string,
  dataSource: string | undefined,
  extra: Partial<AssetDataset> = {},
): AssetDataset {
  return {
    name,
    ...(dataSource === undefined ? {} : { dataSource }),
    destinations: [{ target: 'Mqtt', configuration: { topic: `rest/${name}`, qos: 'Qos1' } }],
    ...extra,
  };
}

/** An asset of the test device with the given datasets. */
export function restAsset(
  datasets: readonly AssetDataset[],
  overrides: Partial<Asset> = {},
): Asset {
  return {
    deviceRef: { deviceName, endpointName },
    uuid: 'a5a5-0001',
    version: 1,
    defaultDatasetsConfiguration: '{ "samplingInterval": 200, }',
    datasets: [...datasets],
    ...overrides,
  };
}

/** A log line recorded by {@link recordingLogger}. */
export interface LogRecord {
  readonly level: string;
  readonly message: string;
  readonly bindings: Readonly<Record<string, unknown>>;
}

/** A logger that keeps every record (with its child bindings). */
export function recordingLogger(): { logger: Logger; records: LogRecord[] } {
  const records: LogRecord[] = [];
  const make = (bindings: Readonly<Record<string, unknown>>): Logger => {
    const at =
      (level: string) =>
      (first: string | Readonly<Record<string, unknown>>, message?: string): void => {
        if (typeof first === 'string') records.push({ level, message: first, bindings });
        else records.push({ level, message: message ?? '', bindings: { ...bindings, ...first } });
      };
    return {
      trace: at('trace'),
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      fatal: at('fatal'),
      child: (more) => make({ ...bindings, ...more }),
    };
  };
  return { logger: make({}), records };
}

export interface RestHarness {
  readonly sandbox: ConnectorSandbox;
  /** Subscribed to `rest/#` before the connector starts. */
  readonly subscriber: Subscriber;
  /** Starts a REST connector on the sandbox; it is stopped when the test finishes. */
  start(options?: RestConnectorOptions): Promise<RestConnector>;
  /** The error the connector reported on a dataset's ADR status, if any. */
  datasetError(dataset: string, asset?: string): AdrConfigError | undefined;
  /** The error the connector reported on the device endpoint's ADR status, if any. */
  endpointError(): AdrConfigError | null | undefined;
  /** The runtime health reports of a dataset, oldest first. */
  datasetHealth(dataset: string): RuntimeHealth[];
  /** Parsed JSON payloads received on `rest/{dataset}`. */
  json(dataset: string): unknown[];
}

/**
 * Starts a sandbox with the device and asset(s) (named {@link assetName} unless given as a
 * record), device endpoint secrets and trust lists; everything is closed when the test finishes.
 */
export async function startRestHarness(setup: {
  readonly device: Device;
  readonly assets: Asset | Readonly<Record<string, Asset>>;
  readonly secrets?: Readonly<Record<string, string>>;
  readonly trustLists?: Readonly<Record<string, string>>;
}): Promise<RestHarness> {
  const assets: Readonly<Record<string, Asset>> =
    'deviceRef' in setup.assets ? { [assetName]: setup.assets as Asset } : setup.assets;
  const sandbox = await startConnectorSandbox({
    devices: { [deviceName]: setup.device },
    assets,
    ...(setup.secrets === undefined ? {} : { secrets: setup.secrets }),
  });
  onTestFinished(() => sandbox.close());
  const trustDir = sandbox.mount.env['DEVICE_ENDPOINT_TLS_TRUST_BUNDLE_CA_CERT_MOUNT_PATH'];
  for (const [name, pem] of Object.entries(setup.trustLists ?? {})) {
    if (trustDir === undefined) throw new Error('the mount has no trust bundle folder');
    await mkdir(join(trustDir, name), { recursive: true });
    await writeFile(join(trustDir, name, 'ca.crt'), pem);
  }
  const subscriber = await sandbox.subscribe('rest/#');
  return {
    sandbox,
    subscriber,
    start: async (options = {}) => {
      const connector = new RestConnector({
        settings: await sandbox.settingsFor('connector-0'),
        healthIntervalInMs: 60_000,
        mountMonitor: { debounceInMs: 50, rescanIntervalInMs: 500 },
        ...options,
      });
      onTestFinished(() => connector.stop());
      await connector.start();
      return connector;
    },
    datasetError: (dataset, asset = assetName) =>
      sandbox.adr.assetStatus(asset)?.datasets?.find((d) => d.name === dataset)?.error,
    endpointError: () =>
      sandbox.adr.deviceStatus(deviceName, endpointName)?.endpoints?.inbound?.[endpointName]?.error,
    datasetHealth: (dataset) =>
      sandbox.adr
        .health()
        .flatMap((event) => event.entries)
        .filter((entry) => entry.datasetName === dataset)
        .map((entry) => entry.runtimeHealth),
    json: (dataset) =>
      subscriber.messages
        .filter((message) => message.topic === `rest/${dataset}`)
        .map((message) => JSON.parse(message.payload.toString('utf8')) as unknown),
  };
}
