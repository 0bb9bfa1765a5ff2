import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import {
  configurationOf,
  isAioError,
  parseAsset,
  parseAssetStatus,
  parseDevice,
  parseDeviceStatus,
  parseRuntimeHealth,
  validateAsset,
  validateDevice,
  type Asset,
  type ConfigError,
} from '@aio-connector/core';

const fixtures = fileURLToPath(
  new URL('../../../../../shared/aio/adr-resources/', import.meta.url),
);
const haveFixtures = existsSync(fixtures);
if (!haveFixtures) console.warn(`skipping the fixture tests: ${fixtures} is absent`);

function thrown(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    return error as ConfigError;
  }
  throw new Error('expected an error');
}

const thermostat = {
  deviceRef: { deviceName: 'oven', endpointName: 'rest' },
  version: 3,
  uuid: 'a-uuid',
  defaultDatasetsConfiguration: '{ "samplingInterval": 4000, }',
  datasets: [
    {
      name: 'status',
      dataSource: '/status',
      datasetConfiguration: '{"samplingInterval": 1000}',
      destinations: [{ target: 'Mqtt', configuration: { topic: 'factory/oven', qos: 'Qos1' } }],
    },
    {
      name: 'temperature',
      dataPoints: [
        {
          name: 'current',
          dataSource: '/t',
          dataPointConfiguration: '{ "HttpRequestMethod": "GET", }',
        },
      ],
      destinations: [{ target: 'Kafka', configuration: { topic: 'x' } }],
    },
    { name: 'latest', destinations: [{ target: 'BrokerStateStore', configuration: { key: 'k' } }] },
  ],
};

describe('validateAsset / parseAsset', () => {
  it('returns the typed asset and keeps fields it does not know', () => {
    const json = structuredClone(thermostat);
    json.datasets.splice(1, 1);
    const asset = parseAsset(
      { ...json, futureField: { x: 1 }, datasets: [{ ...json.datasets[0], futureToo: true }] },
      { assetName: 'oven-asset' },
    );
    expect(asset.deviceRef).toEqual({ deviceName: 'oven', endpointName: 'rest' });
    expect(asset.datasets?.[0]?.destinations?.[0]).toEqual({
      target: 'Mqtt',
      configuration: { topic: 'factory/oven', qos: 'Qos1' },
    });
    expect(asset).toMatchObject({ futureField: { x: 1 } });
    expect(asset.datasets?.[0]).toMatchObject({ futureToo: true });
  });

  it('never lets a __proto__ key of untrusted JSON replace a prototype', () => {
    const json = JSON.parse(
      '{"deviceRef":{"deviceName":"d","endpointName":"e"},"__proto__":{"polluted":1},"attributes":{"__proto__":"x","a":"b"}}',
    ) as unknown;
    const asset = parseAsset(json, { assetName: 'a' });
    expect(Object.getPrototypeOf(asset)).toBe(Object.prototype);
    expect((asset as unknown as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(asset.attributes).toEqual({ a: 'b' });
  });

  it('names the asset and the field path of a bad enum value', () => {
    const error = thrown(() => parseAsset(thermostat, { assetName: 'thermostat' }));
    expect(isAioError(error) && error.code).toBe('ERR_AIO_CONFIG');
    expect(error.message).toBe(
      'asset "thermostat" datasets[1].destinations[0].target: expected one of BrokerStateStore|Mqtt|Storage, found "Kafka"',
    );
    expect(error.field).toBe('datasets[1].destinations[0].target');
    expect(error.source).toBe('asset "thermostat"');
  });

  it('keeps the healthy datasets and scopes each problem to its dataset', () => {
    const json = structuredClone(thermostat) as Record<string, unknown> & typeof thermostat;
    (json.datasets[2] as Record<string, unknown>)['destinations'] = [
      { target: 'BrokerStateStore', configuration: {} },
    ];
    const { asset, issues } = validateAsset(json, { assetName: 'thermostat' });
    expect(asset?.datasets?.map((d) => d.name)).toEqual(['status']);
    expect(issues.map((i) => [i.scope, i.field, i.problem])).toEqual([
      [
        { kind: 'dataset', datasetName: 'temperature' },
        'datasets[1].destinations[0].target',
        'expected one of BrokerStateStore|Mqtt|Storage, found "Kafka"',
      ],
      [
        { kind: 'dataset', datasetName: 'latest' },
        'datasets[2].destinations[0].configuration.key',
        'required when target is BrokerStateStore',
      ],
    ]);
  });

  it('collects every problem: required fields, types, enums, integers, configurations', () => {
    const { asset, issues } = validateAsset(
      {
        deviceRef: { deviceName: 'oven' },
        version: -1,
        enabled: 'yes',
        attributes: { a: 1 },
        datasets: [{ dataSource: '/x' }, { name: 'ds', datasetConfiguration: '{"a": }' }],
        eventGroups: [
          {
            name: 'alarms',
            events: [
              {
                name: 'hot',
                destinations: [{ target: 'BrokerStateStore', configuration: { key: 'k' } }],
              },
              { name: 'cold', eventConfiguration: '[1, 2]' },
              {
                name: 'ok',
                destinations: [{ target: 'Mqtt', configuration: { topic: 't', retain: 'Always' } }],
              },
            ],
          },
        ],
        streams: [
          {
            name: 's',
            destinations: [{ target: 'Mqtt', configuration: { ttl: 1.5, topic: 't' } }],
          },
        ],
        managementGroups: [
          { name: 'control', actions: [{ name: 'reboot', actionType: 'Execute' }] },
        ],
      },
      { assetName: 'a1' },
    );
    expect(asset).toBeUndefined();
    expect(issues.map((i) => `${i.field}: ${i.problem}`)).toEqual([
      'deviceRef.endpointName: required field is missing',
      'version: expected a non-negative integer, found -1',
      'enabled: expected true or false, found "yes"',
      'attributes.a: expected a string, found 1',
      'datasets[0].name: required field is missing',
      expect.stringMatching(/^datasets\[1\]\.datasetConfiguration: not valid JSON: /),
      'eventGroups[0].events[0].destinations[0].target: expected one of Mqtt|Storage, found "BrokerStateStore"',
      'eventGroups[0].events[1].eventConfiguration: not a JSON object (found an array)',
      'eventGroups[0].events[2].destinations[0].configuration.retain: expected one of Keep|Never, found "Always"',
      'streams[0].destinations[0].configuration.ttl: expected a non-negative integer, found 1.5',
      'managementGroups[0].actions[0].targetUri: required field is missing',
      'managementGroups[0].actions[0].actionType: expected one of Call|Read|Write, found "Execute"',
    ]);
    expect(issues[6]?.scope).toEqual({ kind: 'event', eventGroupName: 'alarms', eventName: 'hot' });
    expect(issues[11]?.scope).toEqual({
      kind: 'managementAction',
      managementGroupName: 'control',
      actionName: 'reboot',
    });
  });

  it('leaves out only the bad event of a group; a group-level problem takes the whole group', () => {
    const { asset, issues } = validateAsset(
      {
        deviceRef: { deviceName: 'd', endpointName: 'e' },
        eventGroups: [
          {
            name: 'g1',
            events: [{ name: 'good' }, { name: 'bad', destinations: 'nope' }],
          },
          {
            name: 'g2',
            defaultDestinations: [{ target: 'Mqtt' }],
            events: [{ name: 'e1' }, { name: 'e2' }],
          },
        ],
      },
      { assetName: 'a' },
    );
    expect(asset?.eventGroups).toEqual([{ name: 'g1', events: [{ name: 'good' }] }]);
    expect(issues.map((i) => i.scope)).toEqual([
      { kind: 'event', eventGroupName: 'g1', eventName: 'bad' },
      { kind: 'eventGroup', eventGroupName: 'g2', eventNames: ['e1', 'e2'] },
    ]);
    expect(issues[1]?.field).toBe('eventGroups[1].defaultDestinations[0].configuration');
  });

  it('rejects duplicate names, leaving out every entry with that name', () => {
    const { asset, issues } = validateAsset(
      {
        deviceRef: { deviceName: 'd', endpointName: 'e' },
        datasets: [{ name: 'a' }, { name: 'b' }, { name: 'a' }],
      },
      { assetName: 'x' },
    );
    expect(asset?.datasets).toEqual([{ name: 'b' }]);
    expect(issues).toHaveLength(1);
    expect(issues[0]?.message).toBe(
      'asset "x" datasets[2].name: duplicate name "a" (also at index 0); every entry with this name is left out',
    );
  });

  it('reads null as absent for optional fields, but not for required ones', () => {
    const asset = parseAsset(
      { deviceRef: { deviceName: 'd', endpointName: 'e' }, description: null, datasets: null },
      { assetName: 'x' },
    );
    expect(asset).toEqual({ deviceRef: { deviceName: 'd', endpointName: 'e' } });
    expect(thrown(() => parseAsset({ deviceRef: null }, { assetName: 'x' })).message).toBe(
      'asset "x" deviceRef: required field is missing',
    );
    expect(thrown(() => parseAsset('nope', { assetName: 'x' })).message).toBe(
      'asset "x": expected an object, found "nope"',
    );
  });

  it('with unknownFields: error, reports each unknown field with a suggestion', () => {
    const { issues } = validateAsset(
      {
        deviceRef: { deviceName: 'd', endpointName: 'e' },
        datasets: [{ name: 'a', datasource: '/x', frobnicate: 1 }],
      },
      { assetName: 'x', unknownFields: 'error' },
    );
    expect(issues.map((i) => `${i.field}: ${i.problem}`)).toEqual([
      'datasets[0].datasource: unknown field (not in the ADR Thing Model); did you mean "dataSource"?',
      'datasets[0].frobnicate: unknown field (not in the ADR Thing Model)',
    ]);
  });

  it('lists further problems in the thrown message and all of them in details', () => {
    const error = thrown(() => parseAsset({ deviceRef: {}, version: 'x' }, { assetName: 'x' }));
    expect(error.message).toBe(
      'asset "x" deviceRef.deviceName: required field is missing (and 2 more: deviceRef.endpointName: required field is missing; version: expected a non-negative integer, found "x")',
    );
    expect(error.details['issues']).toHaveLength(3);
  });

  it('checks its options', () => {
    expect(() => validateAsset({}, { assetName: '' })).toThrow(TypeError);
    expect(() => validateAsset({}, { assetName: 'a', unknownFields: 'drop' as 'keep' })).toThrow(
      RangeError,
    );
  });
});

describe('validateDevice / parseDevice', () => {
  const device = {
    enabled: true,
    version: 2,
    endpoints: {
      inbound: {
        'my-rest-endpoint': {
          address: 'http://rest:80',
          endpointType: 'rest-thermostat',
          additionalConfiguration: '{"key1": "value1", }',
          authentication: {
            method: 'UsernamePassword',
            usernamePasswordCredentials: { usernameSecretName: 's/u', passwordSecretName: 's/p' },
          },
          trustSettings: { trustList: 'trust' },
        },
      },
    },
  };

  it('parses a device and checks the endpoint the connector serves', () => {
    const parsed = parseDevice(device, { deviceName: 'oven', endpointName: 'my-rest-endpoint' });
    expect(parsed.endpoints?.inbound?.['my-rest-endpoint']?.authentication?.method).toBe(
      'UsernamePassword',
    );
    expect(
      thrown(() => parseDevice(device, { deviceName: 'oven', endpointName: 'other' })).message,
    ).toBe(
      'device "oven" endpoints.inbound.other: required field is missing (the inbound endpoint this connector serves)',
    );
  });

  it('names bad fields inside endpoint maps', () => {
    const bad = structuredClone(device);
    const endpoint: Partial<(typeof bad.endpoints.inbound)['my-rest-endpoint']> =
      bad.endpoints.inbound['my-rest-endpoint'];
    endpoint.authentication!.method = 'Kerberos';
    delete endpoint.address;
    const { device: result, issues } = validateDevice(bad, { deviceName: 'oven' });
    expect(result).toBeUndefined();
    expect(issues.map((i) => i.message)).toEqual([
      'device "oven" endpoints.inbound["my-rest-endpoint"].address: required field is missing',
      'device "oven" endpoints.inbound["my-rest-endpoint"].authentication.method: expected one of Anonymous|Certificate|UsernamePassword, found "Kerberos"',
    ]);
  });
});

describe('configurationOf', () => {
  const asset = parseAsset(
    {
      deviceRef: { deviceName: 'd', endpointName: 'e' },
      defaultDatasetsConfiguration: '{ "samplingInterval": 4000, }',
      datasets: [
        { name: 'ds', datasetConfiguration: '{ // ms\n "samplingInterval": 500, }' },
        { name: 'plain' },
      ],
    },
    { assetName: 'a' },
  );

  it('parses the stringified configurations leniently', () => {
    expect(configurationOf(asset.datasets![0]!)).toEqual({ samplingInterval: 500 });
    expect(configurationOf(asset.datasets![1]!)).toEqual({});
    expect(configurationOf(asset, 'defaultDatasetsConfiguration')).toEqual({
      samplingInterval: 4000,
    });
    expect(configurationOf(asset, 'defaultEventsConfiguration')).toEqual({});
  });

  it('names the element and the field when the text is not a JSON object', () => {
    const dataset = { name: 'ds', datasetConfiguration: 'samplingInterval=5' };
    const error = thrown(() => configurationOf(dataset));
    expect(error.message).toMatch(/^dataset "ds" datasetConfiguration is not valid JSON: /);
    expect(error.field).toBe('datasetConfiguration');
    const array = thrown(() => configurationOf({ name: 'p', dataPointConfiguration: '[1]' }));
    expect(array.message).toBe(
      'data point "p" dataPointConfiguration is not a JSON object (found an array)',
    );
    const custom = thrown(() =>
      configurationOf(
        { ...asset, defaultStreamsConfiguration: '{' } as Asset,
        'defaultStreamsConfiguration',
        {
          source: 'asset "a"',
        },
      ),
    );
    expect(custom.message).toMatch(/^asset "a" defaultStreamsConfiguration is not valid JSON/);
    expect(() => configurationOf(asset, 'datasets' as 'defaultDatasetsConfiguration')).toThrow(
      RangeError,
    );
  });
});

describe('status and health payloads', () => {
  it('drops nulls and validates shapes', () => {
    expect(
      parseAssetStatus({
        config: { error: null, version: 3, lastTransitionTime: '2026-01-02T03:04:05.1234567Z' },
        datasets: [{ name: 'a', error: { message: 'x' }, messageSchemaReference: null }],
      }),
    ).toEqual({
      config: { version: 3, lastTransitionTime: '2026-01-02T03:04:05.1234567Z' },
      datasets: [{ name: 'a', error: { message: 'x' } }],
    });
    expect(parseDeviceStatus({ endpoints: { inbound: { ep: {} } } })).toEqual({
      endpoints: { inbound: { ep: {} } },
    });
    try {
      parseAssetStatus({ datasets: [{ error: {} }] });
      expect.unreachable();
    } catch (error) {
      expect(isAioError(error) && error.code).toBe('ERR_AIO_PROTOCOL_INVALID_PAYLOAD');
      expect((error as Error).message).toBe(
        'asset status datasets[0].name: required field is missing',
      );
    }
    expect(() => parseRuntimeHealth({ version: 1, status: 'Down', lastUpdateTime: 'x' })).toThrow(
      'runtime health status: expected one of Available|Unavailable, found "Down"',
    );
  });
});

describe.skipIf(!haveFixtures)('the official fixtures', () => {
  const specs = (): { kind: string; name: string; spec: unknown }[] => {
    const out: { kind: string; name: string; spec: unknown }[] = [];
    for (const file of readdirSync(fixtures).filter((f) => f.endsWith('.yaml'))) {
      for (const doc of parseAllDocuments(readFileSync(`${fixtures}${file}`, 'utf8'))) {
        type Resource = { kind: string; metadata: { name: string }; spec: unknown };
        const value = doc.toJS() as Resource & { items?: Resource[] };
        for (const item of value.kind === 'List' ? (value.items ?? []) : [value])
          out.push({ kind: item.kind, name: item.metadata.name, spec: item.spec });
      }
    }
    return out;
  };

  it('parses every Device and Asset, trailing-comma configurations included', () => {
    const all = specs();
    expect(all.filter((s) => s.kind === 'Device')).toHaveLength(3);
    expect(all.filter((s) => s.kind === 'Asset')).toHaveLength(3);
    for (const { kind, name, spec } of all) {
      if (kind === 'Device') {
        const device = parseDevice(spec, { deviceName: name, unknownFields: 'error' });
        for (const endpoint of Object.values(device.endpoints?.inbound ?? {}))
          expect(configurationOf(endpoint)).toBeTypeOf('object');
      } else {
        const asset = parseAsset(spec, { assetName: name, unknownFields: 'error' });
        expect(configurationOf(asset, 'defaultDatasetsConfiguration')).toEqual({
          samplingInterval: 4000,
        });
        const points = asset.datasets?.[0]?.dataPoints ?? [];
        expect(points.length).toBe(2);
        for (const point of points)
          expect(Object.keys(configurationOf(point))[0]).toMatch(/RequestMethod$/);
      }
    }
  });
});
