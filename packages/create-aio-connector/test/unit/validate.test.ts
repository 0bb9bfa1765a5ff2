import { describe, expect, it } from 'vitest';
import {
  maxConnectorNameLength,
  toValidConnectorName,
  validateConnectorName,
  validateEndpointType,
  validateSdkVersion,
} from '../../src/validate.ts';

describe('validateConnectorName', () => {
  it.each(['thermostat', 'rest-thermostat-connector', 'a', '1st-floor', 'x'.repeat(63)])(
    'accepts %s',
    (name) => {
      expect(validateConnectorName(name)).toBeUndefined();
    },
  );

  it('rejects an empty name', () => {
    expect(validateConnectorName('')).toBe('the connector name is empty');
  });

  it('rejects upper case and suggests the lower-case name', () => {
    const problem = validateConnectorName('ThermostatConnector');
    expect(problem).toMatch(/upper-case letters/);
    expect(problem).toMatch(/try "thermostatconnector"/);
  });

  it.each([
    ['my_connector', 'my-connector'],
    ['my connector', 'my-connector'],
    ['-leading', 'leading'],
    ['trailing-', 'trailing'],
    ['.hidden', 'hidden'],
    ['@scope/name', 'scope-name'],
    ['dots.in.name', 'dots-in-name'],
  ])('rejects %s (npm and Kubernetes rules) and suggests %s', (name, suggestion) => {
    const problem = validateConnectorName(name);
    expect(problem).toMatch(/lower-case letters, digits and "-"/);
    expect(problem).toContain(`try "${suggestion}"`);
  });

  it('rejects a name longer than a Kubernetes name allows', () => {
    const name = 'x'.repeat(maxConnectorNameLength + 1);
    expect(validateConnectorName(name)).toMatch(/has 64 characters; at most 63/);
  });

  it('rejects the name of a Node.js built-in module', () => {
    expect(validateConnectorName('http')).toMatch(/built-in module.*try "http-connector"/);
  });
});

describe('toValidConnectorName', () => {
  it.each([
    ['My Thermostat_Connector', 'my-thermostat-connector'],
    ['Café Connector', 'cafe-connector'],
    ['  --odd***name--  ', 'odd-name'],
    ['@acme/thermostat', 'acme-thermostat'],
    ['fs', 'fs-connector'],
    ['***', ''],
  ])('%s → %s', (text, name) => {
    expect(toValidConnectorName(text)).toBe(name);
  });

  it('cuts at 63 characters without leaving a trailing dash', () => {
    const name = toValidConnectorName(`${'a'.repeat(62)} b`);
    expect(name).toBe('a'.repeat(62));
    expect(validateConnectorName(name)).toBeUndefined();
  });

  it('always gives a valid name or an empty string', () => {
    for (const text of ['Über-Gerät 2000!', 'node_modules', 'favicon.ico', '9', 'A'.repeat(100)]) {
      const name = toValidConnectorName(text);
      if (name !== '') expect(validateConnectorName(name), text).toBeUndefined();
    }
  });
});

describe('validateEndpointType', () => {
  it.each(['Microsoft.Rest', 'Contoso.Thermostat', 'Contoso.Modbus.Tcp', 'Contoso.Http-v2'])(
    'accepts %s',
    (type) => {
      expect(validateEndpointType(type)).toBeUndefined();
    },
  );

  it.each(['thermostat', 'Contoso.', '.Rest', 'Contoso 1.Rest', 'rest-thermostat', 'Contoso."x"'])(
    'rejects %s with the expected form',
    (type) => {
      expect(validateEndpointType(type)).toMatch(/use the form Vendor\.Type/);
    },
  );

  it('rejects an empty or very long endpoint type', () => {
    expect(validateEndpointType('')).toBe('the endpoint type is empty');
    expect(validateEndpointType(`A.${'b'.repeat(100)}`)).toMatch(/at most 100/);
  });
});

describe('validateSdkVersion', () => {
  it.each(['0.1.0', '1.0.0-beta.2', '^0.1.0', '~1.2.3', 'latest', 'next'])('accepts %s', (v) => {
    expect(validateSdkVersion(v)).toBeUndefined();
  });

  it.each(['0.1', 'v1.0.0', '>=1.0.0', '1.0.0 || 2.0.0', '', 'file:../core'])('rejects %s', (v) => {
    expect(validateSdkVersion(v)).toMatch(/is not valid/);
  });
});
