import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  type Asset,
  type AssetDataset,
  type InboundEndpoint,
} from '@aio-connector/core';
import {
  planRestDataset,
  restConfigurationKeys,
  restEndpointSettings,
  type RestDatasetPlan,
} from '@aio-connector/rest';

const endpoint: InboundEndpoint = {
  address: 'http://thermostat.local:8080',
  endpointType: 'Microsoft.Rest',
};

function plan(
  dataset: AssetDataset,
  assetOverrides: Partial<Asset> = {},
  at: InboundEndpoint = endpoint,
): RestDatasetPlan {
  const asset: Asset = {
    deviceRef: { deviceName: 'd', endpointName: 'e' },
    datasets: [dataset],
    ...assetOverrides,
  };
  return planRestDataset({ assetName: 'thermostat', asset, dataset, endpoint: at });
}

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('planRestDataset', () => {
  it('plans one GET to address + dataSource for a dataset without data points', () => {
    const result = plan({ name: 'status', dataSource: '/api/thermostat/status?unit=F' });
    expect(result).toEqual({
      merge: false,
      warnings: [],
      requests: [
        {
          dataPointName: undefined,
          dataSource: '/api/thermostat/status?unit=F',
          url: 'http://thermostat.local:8080/api/thermostat/status?unit=F',
          method: 'GET',
          headers: {},
          body: undefined,
          timeoutInMs: undefined,
          maxResponseBytes: undefined,
        },
      ],
    });
  });

  it('requests the address itself when the dataset has no dataSource, keeping the address path', () => {
    const based = { ...endpoint, address: 'http://thermostat.local:8080/v2' };
    expect(plan({ name: 'root' }, {}, based).requests[0]!.url).toBe(
      'http://thermostat.local:8080/v2',
    );
    expect(plan({ name: 'x', dataSource: 'api/x' }, {}, based).requests[0]!.url).toBe(
      'http://thermostat.local:8080/v2/api/x',
    );
  });

  it('plans one request per data point of the official thermostat asset (trailing commas accepted)', () => {
    const result = plan(
      {
        name: 'thermostat_status',
        dataSource: '/thermostat',
        dataPoints: [
          {
            name: 'currentTemperature',
            dataSource: '/api/thermostat/current',
            dataPointConfiguration: '{\n   "HttpRequestMethod": "GET",\n}',
          },
          {
            name: 'desiredTemperature',
            dataSource: '/api/thermostat/desired',
            dataPointConfiguration: '{\n   "HttpRequestMethod": "GET",\n}',
          },
        ],
      },
      { defaultDatasetsConfiguration: '{\n   "samplingInterval": 4000,\n}' },
    );
    expect(result.merge).toBe(true);
    expect(result.warnings).toEqual([]);
    expect(result.requests.map((r) => [r.dataPointName, r.method, r.url])).toEqual([
      ['currentTemperature', 'GET', 'http://thermostat.local:8080/api/thermostat/current'],
      ['desiredTemperature', 'GET', 'http://thermostat.local:8080/api/thermostat/desired'],
    ]);
  });

  it('layers settings: asset defaults, then the dataset, then the data point; headers add up', () => {
    const result = plan(
      {
        name: 'ds',
        datasetConfiguration: JSON.stringify({
          headers: { Accept: 'application/json', 'X-Level': 'dataset' },
          timeoutInMs: 2000,
          maxResponseBytes: 4096,
        }),
        dataPoints: [
          { name: 'a', dataSource: '/a' },
          {
            name: 'b',
            dataSource: '/b',
            dataPointConfiguration: JSON.stringify({
              httprequestmethod: 'post',
              body: 'on',
              headers: { 'x-level': 'point' },
              timeout: 'PT0.5S',
            }),
          },
        ],
      },
      {
        defaultDatasetsConfiguration: JSON.stringify({
          timeoutInMs: 9000,
          headers: { 'X-Site': '7' },
        }),
      },
      { ...endpoint, additionalConfiguration: '{"headers": {"X-Endpoint": "e1"}}' },
    );
    const [a, b] = result.requests;
    expect(a).toMatchObject({
      method: 'GET',
      headers: { 'x-endpoint': 'e1', accept: 'application/json', 'x-level': 'dataset' },
      body: undefined,
      timeoutInMs: 2000,
      maxResponseBytes: 4096,
    });
    expect(b).toMatchObject({
      method: 'POST',
      headers: {
        'x-endpoint': 'e1',
        accept: 'application/json',
        'x-level': 'point',
        'content-type': 'text/plain; charset=utf-8',
      },
      body: 'on',
      timeoutInMs: 500,
    });
  });

  it('serializes a JSON body and sets the JSON content type unless the headers set one', () => {
    const json = plan({
      name: 'p',
      datasetConfiguration: '{"HttpRequestMethod": "POST", "body": {"power": "on"}}',
    }).requests[0]!;
    expect(json.body).toBe('{"power":"on"}');
    expect(json.headers['content-type']).toBe('application/json');
    const own = plan({
      name: 'p',
      datasetConfiguration:
        '{"HttpRequestMethod": "POST", "body": "a=1", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}',
    }).requests[0]!;
    expect(own.headers['content-type']).toBe('application/x-www-form-urlencoded');
  });

  it('warns about unknown keys, and about sampling keys on data points', () => {
    const result = plan(
      {
        name: 'ds',
        datasetConfiguration: '{"HttpMethod": "GET", "samplingIntervalInMilliseconds": 100}',
        dataPoints: [
          {
            name: 'a',
            dataSource: '/a',
            dataPointConfiguration: '{"samplingInterval": 5, "unit": "C"}',
          },
        ],
      },
      { defaultDatasetsConfiguration: '{"SamplingInterval": 1000, "retries": 3}' },
    );
    expect(result.warnings).toEqual([
      'asset "thermostat" defaultDatasetsConfiguration: unknown key "retries" ignored (the REST connector reads HttpRequestMethod, headers, body, timeoutInMs, timeout, maxResponseBytes and the sampling interval)',
      'asset "thermostat" dataset "ds" datasetConfiguration: unknown key "HttpMethod" ignored (the REST connector reads HttpRequestMethod, headers, body, timeoutInMs, timeout, maxResponseBytes and the sampling interval)',
      'asset "thermostat" dataset "ds" dataPoints[0].dataPointConfiguration: "samplingInterval" ignored (data points are sampled with their dataset; set the interval on the dataset)',
      'asset "thermostat" dataset "ds" dataPoints[0].dataPointConfiguration: unknown key "unit" ignored (the REST connector reads HttpRequestMethod, headers, body, timeoutInMs and timeout)',
    ]);
  });

  it.each([
    [
      { name: 'x', dataSource: 'https://thermostat.local:8080/a' },
      'dataSource',
      /must be a path or a URL on the endpoint's origin/,
    ],
    [
      { name: 'x', dataSource: 'http://user:pw@thermostat.local:8080/a' },
      'dataSource',
      /must not carry credentials/,
    ],
    [
      { name: 'x', datasetConfiguration: '{"HttpRequestMethod": "DELETE"}' },
      'datasetConfiguration.HttpRequestMethod',
      /must be "GET" or "POST", found "DELETE"/,
    ],
    [
      { name: 'x', datasetConfiguration: '{"body": "x"}' },
      'datasetConfiguration.body',
      /needs "HttpRequestMethod": "POST" \(the request is a GET\)/,
    ],
    [
      { name: 'x', datasetConfiguration: '{"headers": ["a"]}' },
      'datasetConfiguration.headers',
      /must be an object of header names to values/,
    ],
    [
      { name: 'x', datasetConfiguration: '{"headers": {"bad name": "1"}}' },
      'datasetConfiguration.headers',
      /invalid header name "bad name"/,
    ],
    [
      { name: 'x', datasetConfiguration: '{"headers": {"Host": "other"}}' },
      'datasetConfiguration.headers',
      /must not set "Host"/,
    ],
    [
      { name: 'x', datasetConfiguration: '{"headers": {"x-a": "1\\r\\nx-b: 2"}}' },
      'datasetConfiguration.headers',
      /must not contain CR, LF or NUL/,
    ],
    [
      { name: 'x', datasetConfiguration: '{"timeoutInMs": 0}' },
      'datasetConfiguration.timeoutInMs',
      /must be a number of milliseconds between 1 and 2147483647, found 0/,
    ],
    [
      { name: 'x', datasetConfiguration: '{"timeout": "PTS"}' },
      'datasetConfiguration.timeout',
      /ISO 8601 duration/,
    ],
    [
      { name: 'x', datasetConfiguration: '{"maxResponseBytes": 1.5}' },
      'datasetConfiguration.maxResponseBytes',
      /positive whole number of bytes/,
    ],
    [{ name: 'x', datasetConfiguration: '[1]' }, 'datasetConfiguration', /JSON object|object/],
    [
      {
        name: 'x',
        dataPoints: [
          { name: 'a', dataSource: '/a' },
          { name: 'a', dataSource: '/b' },
        ],
      },
      'dataPoints[1].name',
      /two data points named "a"/,
    ],
    [
      { name: 'x', dataPoints: [{ name: 'a', dataSource: '  ' }] },
      'dataPoints[0].dataSource',
      /data point "a" has no dataSource/,
    ],
    [
      {
        name: 'x',
        dataPoints: [
          { name: 'a', dataSource: '/a', dataPointConfiguration: '{"HttpRequestMethod": 1}' },
        ],
      },
      'dataPoints[0].dataPointConfiguration.HttpRequestMethod',
      /found 1/,
    ],
  ] satisfies [AssetDataset, string, RegExp][])(
    'rejects %j with a ConfigError naming %s',
    (dataset, field, message) => {
      const error = configError(() => plan(dataset));
      expect(error.code).toBe('ERR_AIO_CONFIG');
      expect(error.field).toBe(field);
      expect(error.message).toMatch(message);
    },
  );

  it('names the asset field when the bad value comes from the defaults', () => {
    const error = configError(() =>
      plan({ name: 'x' }, { defaultDatasetsConfiguration: '{"HttpRequestMethod": "PATCH"}' }),
    );
    expect(error.source).toBe('asset "thermostat"');
    expect(error.field).toBe('defaultDatasetsConfiguration.HttpRequestMethod');
  });
});

describe('restEndpointSettings', () => {
  it('reads headers, tlsServerName and maxResponseBytes, and warns about other keys', () => {
    const settings = restEndpointSettings(
      {
        ...endpoint,
        additionalConfiguration:
          '{"headers": {"X-Key": 7}, "tlsServerName": " thermostat.local ", "maxResponseBytes": "2048", "key1": "value1",}',
      },
      'device "d" endpoint "e"',
    );
    expect(settings).toEqual({
      headers: { 'x-key': '7' },
      tlsServerName: 'thermostat.local',
      maxResponseBytes: 2048,
      warnings: [
        'device "d" endpoint "e" additionalConfiguration: unknown key "key1" ignored (the REST connector reads headers, tlsServerName, maxResponseBytes)',
      ],
    });
    expect(restConfigurationKeys.endpoint).toEqual([
      'headers',
      'tlsServerName',
      'maxResponseBytes',
    ]);
  });

  it('rejects unusable values with a ConfigError naming the field', () => {
    const error = configError(() =>
      restEndpointSettings({ ...endpoint, additionalConfiguration: '{"tlsServerName": ""}' }, 'ep'),
    );
    expect(error.field).toBe('additionalConfiguration.tlsServerName');
    expect(() =>
      restEndpointSettings({ ...endpoint, additionalConfiguration: 'not json' }),
    ).toThrow(ConfigError);
  });
});
