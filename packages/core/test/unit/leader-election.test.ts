import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  AioError,
  ConfigError,
  LeaderElectionClient,
  LeasedLock,
  ProtocolError,
  StateStoreServiceError,
  compareHlc,
  defaultLeaseRetryOptions,
  encodeHlc,
  parseHlc,
  type LeaseStore,
  type LeadershipChange,
  type StateStoreKeyNotification,
  type StateStoreSetOptions,
} from '@aio-connector/core';

const decoder = new TextDecoder();
const keyText = (key: Uint8Array | string): string =>
  typeof key === 'string' ? key : decoder.decode(key);

interface Entry {
  value: string;
  version: string;
  expiresAt: number | undefined;
}

interface Call {
  readonly op: 'SET' | 'GET' | 'VDEL' | 'KEYNOTIFY' | 'STOP';
  readonly key: string;
  readonly value?: string;
  readonly condition?: string;
  readonly expiresInMs?: number;
}

/** An in-memory state store shared by fake clients; the clock is the (faked) wall clock. */
class FakeKeyValueStore {
  readonly entries = new Map<string, Entry>();
  readonly calls: Call[] = [];
  /** Errors thrown by the next SET requests, in order. */
  readonly setFailures: Error[] = [];
  /** When true, no notification is delivered (a lost KEYNOTIFY registration). */
  silent = false;
  readonly #watchers = new Map<string, Set<FakeClient>>();
  #counter = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  client(clientId: string): FakeClient {
    return new FakeClient(this, clientId);
  }

  version(): string {
    this.#counter += 1;
    return encodeHlc({ timestamp: Date.now(), counter: this.#counter, nodeId: 'kv' });
  }

  current(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry?.expiresAt !== undefined && Date.now() >= entry.expiresAt) {
      this.entries.delete(key);
      this.notify(key, { operation: 'DELETE', version: this.version() });
      return undefined;
    }
    return entry;
  }

  /** Writes without conditions, as another holder would. */
  write(key: string, value: string, expiresInMs?: number): string {
    const version = this.version();
    this.entries.set(key, {
      value,
      version,
      expiresAt: expiresInMs === undefined ? undefined : Date.now() + expiresInMs,
    });
    this.notify(key, { operation: 'SET', value, version });
    this.schedule();
    return version;
  }

  remove(key: string): void {
    this.entries.delete(key);
    this.notify(key, { operation: 'DELETE', version: this.version() });
  }

  watch(key: string, client: FakeClient, on: boolean): void {
    const set = this.#watchers.get(key) ?? new Set();
    if (on) set.add(client);
    else set.delete(client);
    this.#watchers.set(key, set);
  }

  notify(
    key: string,
    change: { operation: 'SET' | 'DELETE'; value?: string; version: string },
  ): void {
    if (this.silent) return;
    const bytes = new TextEncoder().encode(key);
    const notification: StateStoreKeyNotification = {
      key: bytes,
      keyText: key,
      operation: change.operation,
      ...(change.value === undefined ? {} : { value: new TextEncoder().encode(change.value) }),
      version: change.version,
    };
    for (const client of this.#watchers.get(key) ?? []) {
      queueMicrotask(() => {
        client.deliver(notification);
      });
    }
  }

  /** Expires keys on time, like the service. */
  schedule(): void {
    clearTimeout(this.#timer);
    const next = Math.min(...[...this.entries.values()].map((e) => e.expiresAt ?? Infinity));
    if (next === Infinity) return;
    this.#timer = setTimeout(
      () => {
        for (const key of [...this.entries.keys()]) this.current(key);
        this.schedule();
      },
      Math.max(0, next - Date.now()),
    );
  }
}

class FakeClient implements LeaseStore {
  readonly clientId: string;
  readonly #kv: FakeKeyValueStore;
  readonly #listeners = new Set<(n: StateStoreKeyNotification) => void>();

  constructor(kv: FakeKeyValueStore, clientId: string) {
    this.#kv = kv;
    this.clientId = clientId;
  }

  deliver(notification: StateStoreKeyNotification): void {
    for (const listener of this.#listeners) listener(notification);
  }

  async set(
    key: Uint8Array | string,
    value: Uint8Array | string,
    options: StateStoreSetOptions = {},
  ) {
    const k = keyText(key);
    const v = keyText(value);
    this.#kv.calls.push({
      op: 'SET',
      key: k,
      value: v,
      ...(options.condition === undefined ? {} : { condition: options.condition }),
      ...(options.expiresInMs === undefined ? {} : { expiresInMs: options.expiresInMs }),
    });
    await Promise.resolve();
    const failure = this.#kv.setFailures.shift();
    if (failure !== undefined) throw failure;
    const entry = this.#kv.current(k);
    if (entry !== undefined && options.condition === 'onlyIfEqualOrNotSet' && entry.value !== v)
      return { applied: false, version: entry.version };
    return { applied: true, version: this.#kv.write(k, v, options.expiresInMs) };
  }

  async get(key: Uint8Array | string) {
    const k = keyText(key);
    this.#kv.calls.push({ op: 'GET', key: k });
    await Promise.resolve();
    const entry = this.#kv.current(k);
    return entry === undefined
      ? { value: undefined, version: undefined }
      : { value: new TextEncoder().encode(entry.value), version: entry.version };
  }

  async vdel(key: Uint8Array | string, value: Uint8Array | string) {
    const k = keyText(key);
    const v = keyText(value);
    this.#kv.calls.push({ op: 'VDEL', key: k, value: v });
    await Promise.resolve();
    const entry = this.#kv.current(k);
    if (entry === undefined) return 0 as const;
    if (entry.value !== v) return -1 as const;
    this.#kv.remove(k);
    return 1 as const;
  }

  async observe(key: Uint8Array | string) {
    this.#kv.calls.push({ op: 'KEYNOTIFY', key: keyText(key) });
    await Promise.resolve();
    this.#kv.watch(keyText(key), this, true);
  }

  async unobserve(key: Uint8Array | string) {
    this.#kv.calls.push({ op: 'STOP', key: keyText(key) });
    await Promise.resolve();
    this.#kv.watch(keyText(key), this, false);
  }

  onNotification(listener: (n: StateStoreKeyNotification) => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }
}

const timeout = (): ProtocolError =>
  new ProtocolError('timeout', 'no response', { timeoutName: 'timeoutInMs', timeoutInMs: 10_000 });

function elect(
  kv: FakeKeyValueStore,
  clientId: string,
  options: { termInMs?: number; renewalInMs?: number } = {},
): { election: LeaderElectionClient; events: LeadershipChange[] } {
  const election = new LeaderElectionClient(kv.client(clientId), {
    positionId: 'position',
    ...options,
  });
  const events: LeadershipChange[] = [];
  election.onLeadershipChange((event) => events.push(event));
  return { election, events };
}

const sets = (kv: FakeKeyValueStore, value?: string): Call[] =>
  kv.calls.filter((c) => c.op === 'SET' && (value === undefined || c.value === value));

describe('LeaderElectionClient (fake state store, fake timers)', () => {
  let kv: FakeKeyValueStore;
  const open: LeaderElectionClient[] = [];

  beforeEach(() => {
    vi.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
    });
    kv = new FakeKeyValueStore();
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    for (const election of open.splice(0)) await election.close();
    vi.useRealTimers();
  });

  function track<T extends { election: LeaderElectionClient }>(candidate: T): T {
    open.push(candidate.election);
    return candidate;
  }

  it('acquires with SET NEX PX term and renews every renewal period', async () => {
    const { election, events } = track(elect(kv, 'alpha'));
    await election.campaign();
    expect(election.isLeader).toBe(true);
    expect(election.leader).toBe('alpha');
    expect(events).toEqual([{ leader: 'alpha', isLeader: true }]);
    expect(kv.calls.slice(0, 3)).toEqual([
      { op: 'KEYNOTIFY', key: 'position' },
      { op: 'GET', key: 'position' },
      {
        op: 'SET',
        key: 'position',
        value: 'alpha',
        condition: 'onlyIfEqualOrNotSet',
        expiresInMs: 10_000,
      },
    ]);
    const first = election.fencingToken!;

    await vi.advanceTimersByTimeAsync(8_999);
    expect(sets(kv)).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(sets(kv)).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(9_000 * 3);
    expect(sets(kv)).toHaveLength(5);
    expect(election.isLeader).toBe(true);
    expect(compareHlc(parseHlc(election.fencingToken!), parseHlc(first))).toBeGreaterThan(0);
    expect(events).toHaveLength(1);
    expect(
      sets(kv).every((c) => c.condition === 'onlyIfEqualOrNotSet' && c.expiresInMs === 10_000),
    ).toBe(true);
  });

  it('reports the loss at once when a renewal is not applied', async () => {
    const { election, events } = track(elect(kv, 'alpha'));
    await election.campaign();
    kv.silent = true; // the takeover is not notified: only the renewal can tell
    await vi.advanceTimersByTimeAsync(9_500);
    kv.silent = false;
    kv.entries.set('position', { value: 'beta', version: kv.version(), expiresAt: undefined });
    await vi.advanceTimersByTimeAsync(9_000);
    expect(election.isLeader).toBe(false);
    expect(election.fencingToken).toBeUndefined();
    expect(events.at(-1)).toEqual({ leader: 'beta', isLeader: false });
    const renewals = sets(kv).length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(sets(kv)).toHaveLength(renewals);
  });

  it('reports the loss as soon as another holder is seen', async () => {
    const { election, events } = track(elect(kv, 'alpha'));
    await election.campaign();
    kv.write('position', 'intruder');
    await vi.advanceTimersByTimeAsync(0);
    expect(election.isLeader).toBe(false);
    expect(events).toEqual([
      { leader: 'alpha', isLeader: true },
      { leader: 'intruder', isLeader: false },
    ]);
  });

  it('retries a failed renewal, then gives the lease up before it expires', async () => {
    const { election, events } = track(elect(kv, 'alpha'));
    await election.campaign();
    kv.setFailures.push(...Array.from({ length: 6 }, timeout));
    await vi.advanceTimersByTimeAsync(9_000 + 500);
    expect(sets(kv).length).toBe(1 + 6);
    expect(election.isLeader).toBe(false);
    expect(events.at(-1)).toEqual({ leader: 'alpha', isLeader: false });
  });

  it('gives the lease up when the term runs out without a renewal', async () => {
    const { election } = track(elect(kv, 'alpha', { termInMs: 10_000, renewalInMs: 9_000 }));
    await election.campaign();
    // renewals never answer
    const pending = new Promise<never>(() => undefined);
    vi.spyOn(FakeClient.prototype, 'set').mockImplementation(() => pending);
    await vi.advanceTimersByTimeAsync(9_999);
    expect(election.isLeader).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(election.isLeader).toBe(false);
  });

  it('campaigns until the position is deleted, then takes it after a short backoff', async () => {
    const a = track(elect(kv, 'alpha'));
    const b = track(elect(kv, 'beta'));
    await a.election.campaign();
    let leads = false;
    const campaign = b.election.campaign().then(() => {
      leads = true;
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(b.election.leader).toBe('alpha');
    expect(b.events).toEqual([{ leader: 'alpha', isLeader: false }]);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(leads).toBe(false);

    expect(await a.election.resign()).toBe(true);
    expect(kv.calls.filter((c) => c.op === 'VDEL')).toEqual([
      { op: 'VDEL', key: 'position', value: 'alpha' },
    ]);
    await vi.advanceTimersByTimeAsync(defaultLeaseRetryOptions.maxDelayInMs);
    await campaign;
    expect(leads).toBe(true);
    expect(b.election.isLeader).toBe(true);
    expect(b.events).toEqual([
      { leader: 'alpha', isLeader: false },
      { leader: undefined, isLeader: false },
      { leader: 'beta', isLeader: true },
    ]);
    await vi.advanceTimersByTimeAsync(0);
    expect(a.election.leader).toBe('beta');
  });

  it('takes over within one term of a dead leader even if no notification arrives', async () => {
    const a = track(elect(kv, 'alpha'));
    const b = track(elect(kv, 'beta'));
    await a.election.campaign();
    const campaign = b.election.campaign();
    await vi.advanceTimersByTimeAsync(0);
    const diedAt = Date.now();
    await a.election.close(); // stops renewing, does not resign
    kv.silent = true;
    let tookOverAt = 0;
    void campaign.then(() => {
      tookOverAt = Date.now();
    });
    await vi.advanceTimersByTimeAsync(20_000);
    await campaign;
    expect(b.election.isLeader).toBe(true);
    // the key expires at most one term after the last renewal; a poll every quarter term sees it
    expect(tookOverAt - diedAt).toBeLessThanOrEqual(10_000 + 2_500);
    expect(kv.calls.filter((c) => c.op === 'VDEL')).toEqual([]);
  });

  it('retries retryable request failures with the lease policy', async () => {
    const { election } = track(elect(kv, 'alpha'));
    kv.setFailures.push(timeout(), timeout());
    const campaign = election.campaign();
    await vi.advanceTimersByTimeAsync(1_000);
    await campaign;
    expect(election.isLeader).toBe(true);
    expect(sets(kv)).toHaveLength(3);
  });

  it('rejects with the last error once the retries are used up, and at once for a service error', async () => {
    const { election } = track(elect(kv, 'alpha'));
    kv.setFailures.push(...Array.from({ length: 6 }, timeout));
    const exhausted = expect(election.campaign()).rejects.toMatchObject({
      code: 'ERR_AIO_PROTOCOL_TIMEOUT',
    });
    await vi.advanceTimersByTimeAsync(2_000);
    await exhausted;
    expect(sets(kv)).toHaveLength(1 + defaultLeaseRetryOptions.retries);

    kv.calls.length = 0;
    kv.setFailures.push(new StateStoreServiceError('ERR not authorized'));
    await expect(election.campaign()).rejects.toMatchObject({ kind: 'not authorized' });
    expect(sets(kv)).toHaveLength(1);
  });

  it('ignores notifications older than what it already knows', async () => {
    const { election, events } = track(elect(kv, 'alpha'));
    const stale = kv.version();
    await election.campaign();
    // a DELETE from before the acquisition arrives late
    kv.notify('position', { operation: 'DELETE', version: stale });
    await vi.advanceTimersByTimeAsync(0);
    expect(election.isLeader).toBe(true);
    expect(events).toEqual([{ leader: 'alpha', isLeader: true }]);
  });

  it('close stops renewing, does not resign and rejects a pending campaign', async () => {
    const a = track(elect(kv, 'alpha'));
    const b = track(elect(kv, 'beta'));
    await a.election.campaign();
    const pending = expect(b.election.campaign()).rejects.toMatchObject({ code: 'ERR_AIO_CLOSED' });
    await vi.advanceTimersByTimeAsync(0);
    await b.election.close();
    await pending;
    await b.election.close();
    const renewals = sets(kv, 'alpha').length;
    await a.election.close();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(sets(kv, 'alpha')).toHaveLength(renewals);
    expect(kv.calls.some((c) => c.op === 'VDEL')).toBe(false);
    expect(a.election.isLeader).toBe(false);
    expect(kv.calls.filter((c) => c.op === 'STOP')).toHaveLength(2);
  });

  it('validates its options', () => {
    const client = kv.client('c');
    expect(() => new LeaderElectionClient(client, undefined as never)).toThrow(TypeError);
    expect(() => new LeaderElectionClient(client, {} as never)).toThrow(TypeError);
    expect(() => new LeaderElectionClient(client, { positionId: '' })).toThrow(RangeError);
    expect(() => new LeaderElectionClient(client, { positionId: 'p', termInMs: 0 })).toThrow(
      RangeError,
    );
    expect(
      () => new LeaderElectionClient(client, { positionId: 'p', termInMs: '1' as never }),
    ).toThrow(TypeError);
    expect(
      () =>
        new LeaderElectionClient(client, { positionId: 'p', termInMs: 5_000, renewalInMs: 5_000 }),
    ).toThrow(ConfigError);
    expect(() => new LeaderElectionClient(client, { positionId: 'p', candidateName: '' })).toThrow(
      RangeError,
    );
    const defaults = new LeaderElectionClient(client, { positionId: 'p' });
    expect([defaults.termInMs, defaults.renewalInMs, defaults.candidateName]).toEqual([
      10_000,
      9_000,
      'c',
    ]);
    const short = new LeaderElectionClient(client, { positionId: 'p', termInMs: 2_000 });
    expect(short.renewalInMs).toBe(1_800);
  });
});

describe('LeasedLock (fake state store, fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
    });
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes holder:session, reports the holder and releases only its own lease', async () => {
    const kv = new FakeKeyValueStore();
    const lock = new LeasedLock(kv.client('app'), 'lock', { sessionId: 's1' });
    expect(lock.holderName).toBe('app:s1');
    expect(await lock.tryAcquire({ durationInMs: 1_000 })).toMatchObject({ acquired: true });
    expect(await lock.getHolder()).toBe('app:s1');
    const other = new LeasedLock(kv.client('app'), 'lock', { sessionId: 's2' });
    expect(await other.tryAcquire({ durationInMs: 1_000 })).toEqual({ acquired: false });
    expect(other.holder).toBe('app:s1');
    expect(await other.release()).toBe(false);
    expect(kv.entries.get('lock')?.value).toBe('app:s1');
    // without renewal the lease lapses after its duration
    await vi.advanceTimersByTimeAsync(1_000);
    expect(lock.isHeld).toBe(false);
    await lock.close();
    await other.close();
    await expect(lock.tryAcquire()).rejects.toBeInstanceOf(AioError);
  });

  it('validates acquire options', async () => {
    const kv = new FakeKeyValueStore();
    const lock = new LeasedLock(kv.client('app'), 'lock');
    await expect(lock.tryAcquire({ durationInMs: 0 })).rejects.toBeInstanceOf(RangeError);
    await expect(
      lock.tryAcquire({ durationInMs: 1_000, renewalInMs: 1_000 }),
    ).rejects.toBeInstanceOf(RangeError);
    await expect(lock.acquire({ durationInMs: 'x' as never })).rejects.toBeInstanceOf(TypeError);
    expect(() => new LeasedLock(kv.client('app'), '')).toThrow(RangeError);
    expect(kv.calls).toEqual([]);
    await lock.close();
  });
});
