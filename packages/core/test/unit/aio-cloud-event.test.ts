import { describe, expect, it } from 'vitest';
import {
  aioCloudEventProperties,
  cloudEventSource,
  cloudEventSubject,
  type AioCloudEventInput,
} from '../../src/connector/aio-cloud-event.ts';

const base: AioCloudEventInput = {
  kind: 'dataset',
  deviceName: 'my-rest-thermostat-device-name',
  inboundEndpointName: 'my-rest-thermostat-endpoint-name',
  device: { uuid: '1234-5678-9012-3456' },
  assetName: 'my-rest-thermostat-asset',
  asset: { uuid: '223e4567-e89b-12d3-a456-426614174111' },
  name: 'weather-sensor-dataset',
  dataSource: '/api/sensor/env',
  time: new Date('2026-08-20T10:11:12.987Z'),
  id: 'fixed-id',
  schema: { namespace: 'DefaultSRNamespace', name: '8695A113', version: '1.0' },
};

describe('AIO CloudEvent headers', () => {
  it('matches the official integration-test expectations for a dataset', () => {
    expect(aioCloudEventProperties(base)).toEqual([
      ['specversion', '1.0'],
      ['id', 'fixed-id'],
      ['type', 'DataSet'],
      ['source', 'ms-aio:my-rest-thermostat-device-name/api/sensor/env'],
      ['time', '2026-08-20T10:11:12Z'],
      ['subject', 'my-rest-thermostat-asset/weather-sensor-dataset'],
      ['dataschema', 'aio-sr://DefaultSRNamespace/8695A113:1.0'],
      ['aiodeviceref', 'ms-aio:1234-5678-9012-3456_my-rest-thermostat-endpoint-name'],
      ['aioassetref', 'ms-aio:223e4567-e89b-12d3-a456-426614174111'],
    ]);
  });

  it('uses the event group in subject and Event/typeRef in type; TCP sample source', () => {
    const props = new Map(
      aioCloudEventProperties({
        ...base,
        kind: 'event',
        deviceName: 'my-tcp-thermostat',
        eventGroupName: 'my-event-group',
        name: 'thermostat_status_changed',
        dataSource: '80',
        typeRef: 'dtmi:x;1',
      }),
    );
    expect(props.get('type')).toBe('Event/dtmi:x;1');
    expect(props.get('source')).toBe('ms-aio:my-tcp-thermostat/80');
    expect(props.get('subject')).toBe(
      'my-rest-thermostat-asset/my-event-group/thermostat_status_changed',
    );
  });

  it('prefers the protocol-specific id, then an external device id that is not the uuid', () => {
    expect(cloudEventSource({ ...base, protocolSpecificIdentifier: 'opc.tcp://x' })).toBe(
      'ms-aio:opc.tcp://x/api/sensor/env',
    );
    expect(cloudEventSource({ ...base, device: { externalDeviceId: 'ext-7', uuid: 'u' } })).toBe(
      'ms-aio:ext-7/api/sensor/env',
    );
    // the same id as the uuid, compared without case, dashes or braces → device name
    expect(
      cloudEventSource({ ...base, device: { externalDeviceId: '{ABCD-EF}', uuid: 'abcdef' } }),
    ).toBe('ms-aio:my-rest-thermostat-device-name/api/sensor/env');
    expect(cloudEventSubject({ ...base, asset: { externalAssetId: 'A-1', uuid: 'a1' } })).toBe(
      'my-rest-thermostat-asset/weather-sensor-dataset',
    );
    expect(cloudEventSubject({ ...base, asset: { externalAssetId: 'pump-7' } })).toBe(
      'pump-7/weather-sensor-dataset',
    );
  });

  it('leaves out a data source that would not form a URI, and the refs without uuids', () => {
    const { schema: _schema, ...withoutSchema } = base;
    expect(cloudEventSource({ ...base, dataSource: 'has space' })).toBe(
      'ms-aio:my-rest-thermostat-device-name',
    );
    const names = aioCloudEventProperties({ ...withoutSchema, device: {}, asset: {} }).map(
      ([n]) => n,
    );
    expect(names).toEqual(['specversion', 'id', 'type', 'source', 'time', 'subject']);
  });

  it('supports the Rust aiodeviceref separator', () => {
    const props = new Map(aioCloudEventProperties({ ...base, deviceRefSeparator: '/' }));
    expect(props.get('aiodeviceref')).toBe(
      'ms-aio:1234-5678-9012-3456/my-rest-thermostat-endpoint-name',
    );
  });
});
