import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  clearEventGroupStatus,
  compareHealth,
  parseAsset,
  pruneAssetStatus,
  setConfigStatus,
  setDatasetStatus,
  setDeviceEndpointStatus,
  setEventStatus,
  setManagementActionStatus,
  setStreamStatus,
  statusEquals,
  toAdrConfigError,
  type AssetStatus,
  type RuntimeHealth,
} from '@aio-connector/core';

const schema = { schemaName: 'ABC', schemaRegistryNamespace: 'ns', schemaVersion: '1' };

describe('asset status entries', () => {
  it('sets an error, then clears it by leaving the field out (the wire encoding of "cleared")', () => {
    let status: AssetStatus = {};
    status = setDatasetStatus(status, 'temperature', {
      error: { message: 'HTTP 503' },
      messageSchemaReference: schema,
    });
    expect(status).toEqual({
      datasets: [
        { name: 'temperature', error: { message: 'HTTP 503' }, messageSchemaReference: schema },
      ],
    });
    status = setDatasetStatus(status, 'temperature', { error: null });
    expect(status).toEqual({ datasets: [{ name: 'temperature', messageSchemaReference: schema }] });
    expect(JSON.stringify(status)).toBe(
      '{"datasets":[{"name":"temperature","messageSchemaReference":{"schemaName":"ABC","schemaRegistryNamespace":"ns","schemaVersion":"1"}}]}',
    );
  });

  it('keeps one entry per name, in place, and never mutates its input', () => {
    const input: AssetStatus = {
      config: { version: 1 },
      datasets: [
        { name: 'a' },
        { name: 'b', error: { message: 'x' } },
        { name: 'b' },
        { name: 'c' },
      ],
    };
    const frozen = structuredClone(input);
    const next = setDatasetStatus(input, 'b', { error: { message: 'y' } });
    expect(next.datasets).toEqual([
      { name: 'a' },
      { name: 'b', error: { message: 'y' } },
      { name: 'c' },
    ]);
    expect(next.config).toEqual({ version: 1 });
    expect(input).toEqual(frozen);
  });

  it('creates a healthy entry when nothing is set', () => {
    expect(setStreamStatus({}, 'video', { error: null })).toEqual({ streams: [{ name: 'video' }] });
  });

  it('nests events under their group and actions under their management group', () => {
    let status = setEventStatus({}, 'alarms', 'hot', { error: { message: 'no topic' } });
    status = setEventStatus(status, 'alarms', 'cold', {});
    status = setEventStatus(status, 'alarms', 'hot', {
      error: null,
      messageSchemaReference: schema,
    });
    status = setEventStatus(status, 'other', 'x', {});
    expect(status.eventGroups).toEqual([
      {
        name: 'alarms',
        events: [{ name: 'hot', messageSchemaReference: schema }, { name: 'cold' }],
      },
      { name: 'other', events: [{ name: 'x' }] },
    ]);
    expect(clearEventGroupStatus(status, 'alarms').eventGroups).toEqual([
      { name: 'other', events: [{ name: 'x' }] },
    ]);

    let actions = setManagementActionStatus({}, 'control', 'reboot', { error: { code: '400' } });
    actions = setManagementActionStatus(actions, 'control', 'reboot', {
      error: null,
      requestMessageSchemaReference: schema,
    });
    expect(actions).toEqual({
      managementGroups: [
        { name: 'control', actions: [{ name: 'reboot', requestMessageSchemaReference: schema }] },
      ],
    });
  });

  it('prunes the entries of parts the asset no longer defines', () => {
    const asset = parseAsset(
      {
        deviceRef: { deviceName: 'd', endpointName: 'e' },
        datasets: [{ name: 'keep' }],
        eventGroups: [{ name: 'g', events: [{ name: 'e1' }] }],
      },
      { assetName: 'a' },
    );
    const status: AssetStatus = {
      config: { version: 2 },
      datasets: [{ name: 'keep' }, { name: 'gone', error: { message: 'old' } }],
      eventGroups: [
        { name: 'g', events: [{ name: 'e1' }, { name: 'e2' }] },
        { name: 'h', events: [] },
      ],
      streams: [{ name: 's' }],
    };
    expect(pruneAssetStatus(status, asset)).toEqual({
      config: { version: 2 },
      datasets: [{ name: 'keep' }],
      eventGroups: [{ name: 'g', events: [{ name: 'e1' }] }],
      streams: [],
    });
  });

  it('rejects empty names', () => {
    expect(() => setDatasetStatus({}, '', {})).toThrow(TypeError);
    expect(() => setEventStatus({}, 'g', '', {})).toThrow(TypeError);
  });
});

describe('config and device endpoint status', () => {
  it('sets and clears config fields of device and asset statuses', () => {
    const status = setConfigStatus(
      { config: { error: { message: 'bad' }, version: 1 } },
      { error: null, version: 2, lastTransitionTime: '2026-01-01T00:00:00Z' },
    );
    expect(status).toEqual({ config: { version: 2, lastTransitionTime: '2026-01-01T00:00:00Z' } });
  });

  it('sets the error of one inbound endpoint and keeps the others', () => {
    let status = setDeviceEndpointStatus(
      { endpoints: { inbound: { other: { error: { message: 'x' } } } } },
      'rest',
      { error: { message: 'connection refused' } },
    );
    expect(status.endpoints?.inbound).toEqual({
      other: { error: { message: 'x' } },
      rest: { error: { message: 'connection refused' } },
    });
    status = setDeviceEndpointStatus(status, 'rest', { error: null });
    expect(status.endpoints?.inbound?.['rest']).toEqual({});
  });

  it('turns errors into status errors without URL credentials', () => {
    expect(toAdrConfigError(new ConfigError('GET https://u:p@host/x failed'))).toEqual({
      message: 'GET https://[redacted]@host/x failed',
    });
    expect(toAdrConfigError('boom', { code: '500' })).toEqual({ code: '500', message: 'boom' });
  });
});

describe('statusEquals', () => {
  it('ignores lastTransitionTime, entry order and null versus absent', () => {
    const a: AssetStatus = {
      config: { lastTransitionTime: '2026-01-01T00:00:00Z', version: 1 },
      datasets: [
        { name: 'x' },
        { name: 'y', error: { message: 'e', details: [{ code: '1' }, { code: '2' }] } },
      ],
    };
    const b = {
      config: { lastTransitionTime: '2026-02-02T00:00:00Z', version: 1, error: null },
      datasets: [
        { name: 'y', error: { details: [{ code: '2' }, { code: '1' }], message: 'e' } },
        { name: 'x' },
      ],
    } as unknown as AssetStatus;
    expect(statusEquals(a, b)).toBe(true);
  });

  it('sees every real change', () => {
    const base: AssetStatus = { config: { version: 1 }, datasets: [{ name: 'x' }] };
    expect(statusEquals(base, setDatasetStatus(base, 'x', { error: { message: 'e' } }))).toBe(
      false,
    );
    expect(statusEquals(base, setConfigStatus(base, { version: 2 }))).toBe(false);
    expect(statusEquals(base, { ...base, datasets: [] })).toBe(false);
    expect(statusEquals(base, { config: { version: 1 } })).toBe(false);
    expect(statusEquals(undefined, {})).toBe(true);
  });
});

describe('compareHealth', () => {
  const health = (over: Partial<RuntimeHealth> = {}): RuntimeHealth => ({
    version: 2,
    status: 'Available',
    lastUpdateTime: '2026-01-01T00:00:10Z',
    ...over,
  });

  it('sends the first report', () => {
    expect(compareHealth(undefined, health())).toBe('send');
  });

  it('drops an identical report and one for an older version', () => {
    expect(compareHealth(health(), health())).toBe('drop');
    expect(
      compareHealth(health(), health({ version: 1, status: 'Unavailable', message: 'x' })),
    ).toBe('drop');
  });

  it('only refreshes the cache when just the timestamp moved forward', () => {
    expect(compareHealth(health(), health({ lastUpdateTime: '2026-01-01T00:00:20Z' }))).toBe(
      'update-cache-only',
    );
    expect(compareHealth(health(), health({ lastUpdateTime: '2026-01-01T00:00:10.000Z' }))).toBe(
      'drop',
    );
  });

  it('sends a change of status, message, reason or a newer version', () => {
    expect(compareHealth(health(), health({ status: 'Unavailable' }))).toBe('send');
    expect(compareHealth(health(), health({ message: 'slow' }))).toBe('send');
    expect(compareHealth(health(), health({ reasonCode: 'Timeout' }))).toBe('send');
    expect(compareHealth(health(), health({ version: 3 }))).toBe('send');
    // same content with an older timestamp is sent, as the official SDKs do
    expect(compareHealth(health(), health({ lastUpdateTime: '2026-01-01T00:00:05Z' }))).toBe(
      'send',
    );
  });
});
