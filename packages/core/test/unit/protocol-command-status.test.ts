import { describe, expect, it } from 'vitest';
import {
  commandStatus,
  formatIsoDuration,
  parseIsoDuration,
  parseMajorVersions,
  remoteCommandError,
} from '@aio-connector/core';

describe('status to error mapping (error-model.md appendix 2)', () => {
  const cases: {
    status: number;
    props: [string, string][];
    kind: string;
    facts: Record<string, unknown>;
  }[] = [
    {
      status: 400,
      props: [
        ['__propName', '__srcId'],
        ['__propVal', '//invalid'],
      ],
      kind: 'invalid header',
      facts: { headerName: '__srcId', headerValue: '//invalid' },
    },
    {
      status: 400,
      props: [['__propName', 'Correlation Data']],
      kind: 'missing header',
      facts: { headerName: 'Correlation Data', headerValue: undefined },
    },
    { status: 400, props: [], kind: 'invalid payload', facts: {} },
    {
      status: 408,
      props: [
        ['__propName', 'ExecutionTimeout'],
        ['__propVal', 'PT1S'],
      ],
      kind: 'timeout',
      facts: { timeoutName: 'ExecutionTimeout', timeoutInMs: 1000 },
    },
    {
      status: 415,
      props: [
        ['__propName', 'Content Type'],
        ['__propVal', 'raw/0'],
      ],
      kind: 'invalid header',
      facts: { headerName: 'Content Type', headerValue: 'raw/0' },
    },
    {
      status: 500,
      props: [
        ['__apErr', 'true'],
        ['__stMsg', 'boom'],
      ],
      kind: 'execution error',
      facts: { isApplicationError: true, message: 'boom' },
    },
    {
      status: 500,
      props: [['__apErr', 'TRUE']],
      kind: 'execution error',
      facts: { isApplicationError: true },
    },
    {
      status: 500,
      props: [
        ['__apErr', 'False'],
        ['__propName', 'Buffer'],
      ],
      kind: 'internal logic error',
      facts: { propertyName: 'Buffer', isApplicationError: false },
    },
    { status: 500, props: [], kind: 'unknown error', facts: {} },
    {
      status: 503,
      props: [['__propName', 'MaxClockDrift']],
      kind: 'invalid state',
      facts: { propertyName: 'MaxClockDrift' },
    },
    {
      status: 505,
      props: [
        ['__supProtMajVer', '2 3 4'],
        ['__requestProtVer', '1.0'],
      ],
      kind: 'unsupported version',
      facts: { protocolVersion: '1.0', supportedMajorProtocolVersions: [2, 3, 4] },
    },
    {
      status: 422,
      props: [
        ['__propName', 'requestHeader'],
        ['__propVal', 'requestValue'],
      ],
      kind: 'unknown error',
      facts: { propertyName: 'requestHeader', propertyValue: 'requestValue' },
    },
    { status: 418, props: [], kind: 'unknown error', facts: {} },
  ];

  for (const { status, props, kind, facts } of cases)
    it(`${status} ${JSON.stringify(props)} -> ${kind}`, () => {
      const error = remoteCommandError(status, props, 'cmd');
      expect(error.kind).toBe(kind);
      expect(error.isRemote).toBe(true);
      expect(error.isShallow).toBe(false);
      expect(error.statusCode).toBe(status);
      expect(error.commandName).toBe('cmd');
      for (const [key, value] of Object.entries(facts))
        expect(error[key as keyof typeof error], key).toEqual(value);
    });

  it('uses __stMsg as the message when present and a default otherwise', () => {
    expect(remoteCommandError(505, [['__stMsg', 'not supported']]).message).toBe('not supported');
    expect(remoteCommandError(500, [], 'getAsset').message).toContain('500');
  });

  it('marks 503 retryable, like the retry policy expects', () => {
    expect(remoteCommandError(commandStatus.serviceUnavailable, []).retryable).toBe(true);
    expect(remoteCommandError(commandStatus.badRequest, []).retryable).toBe(false);
  });
});

describe('ISO 8601 durations', () => {
  it('formats as the executors send them', () => {
    expect(formatIsoDuration(1000)).toBe('PT1S');
    expect(formatIsoDuration(0)).toBe('PT0S');
    expect(formatIsoDuration(90_500)).toBe('PT1M30.5S');
    expect(formatIsoDuration(3_600_000)).toBe('PT1H');
    expect(formatIsoDuration(86_400_000 + 7_200_000)).toBe('P1DT2H');
  });

  it('parses back', () => {
    for (const ms of [1000, 0, 90_500, 3_600_000, 93_600_000])
      expect(parseIsoDuration(formatIsoDuration(ms))).toBe(ms);
    expect(parseIsoDuration('P1W')).toBe(604_800_000);
    expect(parseIsoDuration('PT0.001S')).toBe(1);
    for (const bad of ['P', 'PT', '1S', 'soon', 'P1Y'])
      expect(parseIsoDuration(bad), bad).toBeUndefined();
  });

  it('parses supported major version lists', () => {
    expect(parseMajorVersions('1')).toEqual([1]);
    expect(parseMajorVersions(' 2 3  4 ')).toEqual([2, 3, 4]);
    expect(parseMajorVersions('one')).toBeUndefined();
    expect(parseMajorVersions(undefined)).toBeUndefined();
  });
});
