import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import {
  LeaderElectionClient,
  LeasedLock,
  MqttSession,
  StateStoreClient,
  StateStoreServiceError,
  compareHlc,
  encodeSetRequest,
  parseHlc,
  stateStoreTopics,
  type LeadershipChange,
  type LeaderElectionClientOptions,
} from '@aio-connector/core';
import { startStateStoreService } from '@aio-connector/devkit';
import {
  eventually,
  startSubscriber,
  startTestBroker,
  type TestBroker,
} from '@aio-connector/testing';

const uniqueId = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;
const text = (bytes: Uint8Array | undefined): string | undefined =>
  bytes === undefined ? undefined : new TextDecoder().decode(bytes);

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker();
});

afterAll(async () => {
  await broker.close();
});

async function connect(clientId = uniqueId('candidate')): Promise<MqttSession> {
  const session = new MqttSession(
    { hostname: broker.host, port: broker.port, clientId, useTls: false },
    { reconnect: { minDelayInMs: 50, maxDelayInMs: 500 } },
  );
  onTestFinished(() => {
    session.destroy();
  });
  await session.connect({ signal: AbortSignal.timeout(10_000) });
  return session;
}

async function service(): Promise<void> {
  const running = await startStateStoreService(await connect(uniqueId('statestore-service')));
  onTestFinished(() => running.close());
}

interface Candidate {
  readonly session: MqttSession;
  readonly store: StateStoreClient;
  readonly election: LeaderElectionClient;
  readonly events: LeadershipChange[];
}

async function candidate(
  positionId: string,
  options: Omit<LeaderElectionClientOptions, 'positionId'> = {},
): Promise<Candidate> {
  const session = await connect();
  const store = new StateStoreClient(session);
  const election = new LeaderElectionClient(store, { positionId, ...options });
  const events: LeadershipChange[] = [];
  election.onLeadershipChange((event) => events.push(event));
  onTestFinished(async () => {
    await election.close();
    await store.close();
  });
  return { session, store, election, events };
}

describe('LeaderElectionClient on the state store emulator', () => {
  it('elects exactly one leader, hands over within a term when the leader dies, and fences the old leader', async () => {
    await service();
    const positionId = uniqueId('position');
    const termInMs = 3_000;
    const renewalInMs = 1_000;
    const requests = await startSubscriber(broker.url, stateStoreTopics.request);
    onTestFinished(() => requests.close());
    const a = await candidate(positionId, { termInMs, renewalInMs });
    const b = await candidate(positionId, { termInMs, renewalInMs });
    expect(a.election.candidateName).toBe(a.session.clientId);

    await a.election.campaign({ signal: AbortSignal.timeout(10_000) });
    expect(a.election.isLeader).toBe(true);
    expect(a.election.leader).toBe(a.session.clientId);
    const tokenA = a.election.fencingToken!;
    expect(tokenA).toBeDefined();
    const acquireRequest = Buffer.from(
      encodeSetRequest(positionId, a.session.clientId, {
        condition: 'onlyIfEqualOrNotSet',
        expiresInMs: termInMs,
      }),
    );
    const [acquire] = await requests.waitFor((m) => Buffer.from(m.payload).equals(acquireRequest));
    expect(acquire!.contentType).toBe('application/octet-stream');

    const bCampaign = b.election.campaign({ signal: AbortSignal.timeout(30_000) });
    let bLeadsAt = 0;
    void bCampaign.then(() => {
      bLeadsAt = performance.now();
    });
    await eventually(() => {
      expect(b.election.leader).toBe(a.session.clientId);
    });
    expect(b.election.isLeader).toBe(false);
    expect(b.events).toContainEqual({ leader: a.session.clientId, isLeader: false });

    // the leader renews: its fencing token moves on while it stays leader
    await eventually(
      () => {
        expect(compareHlc(parseHlc(a.election.fencingToken!), parseHlc(tokenA))).toBeGreaterThan(0);
      },
      { timeoutInMs: 10_000 },
    );
    expect(b.election.isLeader).toBe(false);

    // the leader writes a protected resource with its token
    const resource = uniqueId('resource');
    const renewedTokenA = a.election.fencingToken!;
    await a.store.set(resource, 'by-a', { fencingToken: renewedTokenA });

    // kill the leader's process: no resign, no more renewals
    const killedAt = performance.now();
    a.session.destroy();
    await bCampaign;
    const takeoverInMs = bLeadsAt - killedAt;
    expect(b.election.isLeader).toBe(true);
    expect(b.election.leader).toBe(b.session.clientId);
    expect(takeoverInMs).toBeLessThan(termInMs + 3_000);

    // both sides heard about it
    await eventually(
      () => {
        expect(a.election.isLeader).toBe(false);
      },
      {
        timeoutInMs: termInMs + 3_000,
      },
    );
    expect(a.events.at(-1)?.isLeader).toBe(false);
    expect(a.events).toContainEqual({ leader: a.session.clientId, isLeader: true });
    expect(b.events.at(-1)).toEqual({ leader: b.session.clientId, isLeader: true });

    // the new leader's token fences the old one out
    const tokenB = b.election.fencingToken!;
    expect(compareHlc(parseHlc(tokenB), parseHlc(renewedTokenA))).toBeGreaterThan(0);
    expect((await b.store.set(resource, 'by-b', { fencingToken: tokenB })).applied).toBe(true);
    const late = b.store.set(resource, 'late-by-a', { fencingToken: renewedTokenA });
    await expect(late).rejects.toBeInstanceOf(StateStoreServiceError);
    await expect(late).rejects.toMatchObject({ kind: 'fencing token lower version' });
    expect(text((await b.store.get(resource)).value)).toBe('by-b');
    console.info(
      `leader election: takeover after the leader was killed took ${Math.round(takeoverInMs)} ms (term ${termInMs} ms)`,
    );
  });

  it('hands over at once when the leader resigns', async () => {
    await service();
    const positionId = uniqueId('position');
    const a = await candidate(positionId);
    const b = await candidate(positionId);
    await a.election.campaign();
    const bCampaign = b.election.campaign({ signal: AbortSignal.timeout(20_000) });
    await eventually(() => {
      expect(b.election.leader).toBe(a.session.clientId);
    });

    const resignedAt = performance.now();
    expect(await a.election.resign()).toBe(true);
    expect(a.election.isLeader).toBe(false);
    expect(a.election.fencingToken).toBeUndefined();
    await bCampaign;
    const handoverInMs = performance.now() - resignedAt;
    // the default term is 10 s: a handover this fast came from the DELETE notification
    expect(handoverInMs).toBeLessThan(5_000);
    expect(b.election.isLeader).toBe(true);
    await eventually(() => {
      expect(a.election.leader).toBe(b.session.clientId);
    });
    expect(a.events).toEqual([
      { leader: a.session.clientId, isLeader: true },
      { leader: a.session.clientId, isLeader: false },
      { leader: undefined, isLeader: false },
      { leader: b.session.clientId, isLeader: false },
    ]);
    console.info(`leader election: handover after resign took ${Math.round(handoverInMs)} ms`);
  });

  it('lets another candidate take over within one term when the leader closes without resigning', async () => {
    await service();
    const positionId = uniqueId('position');
    const termInMs = 2_000;
    const a = await candidate(positionId, { termInMs, renewalInMs: 1_000 });
    const b = await candidate(positionId, { termInMs, renewalInMs: 1_000 });
    await a.election.campaign();
    const bCampaign = b.election.campaign({ signal: AbortSignal.timeout(20_000) });
    await eventually(() => {
      expect(b.election.leader).toBe(a.session.clientId);
    });

    const closedAt = performance.now();
    await a.election.close();
    expect(a.election.isLeader).toBe(false);
    await bCampaign;
    expect(performance.now() - closedAt).toBeLessThan(termInMs + 3_000);
    expect(b.election.isLeader).toBe(true);
    await expect(a.election.campaign()).rejects.toMatchObject({ code: 'ERR_AIO_CLOSED' });
  });

  it('rejects a pending campaign when aborted or closed', async () => {
    await service();
    const positionId = uniqueId('position');
    const a = await candidate(positionId);
    const b = await candidate(positionId);
    await a.election.campaign();
    const controller = new AbortController();
    const aborted = b.election.campaign({ signal: controller.signal });
    await eventually(() => {
      expect(b.election.leader).toBe(a.session.clientId);
    });
    controller.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ERR_AIO_ABORTED' });
    const closed = expect(b.election.campaign()).rejects.toMatchObject({ code: 'ERR_AIO_CLOSED' });
    await b.election.close();
    await closed;
    expect(a.election.isLeader).toBe(true);
  });
});

describe('LeasedLock on the state store emulator', () => {
  it('guards a read-modify-write with a fenced write and hands the lock over on release', async () => {
    await service();
    const lockName = uniqueId('lock');
    const counter = uniqueId('counter');
    const workers = await Promise.all(
      [1, 2, 3].map(async () => {
        const store = new StateStoreClient(await connect(uniqueId('worker')));
        const lock = new LeasedLock(store, lockName);
        onTestFinished(async () => {
          await lock.close();
          await store.close();
        });
        return { store, lock };
      }),
    );
    const seed = workers[0]!.store;
    await seed.set(counter, '0');
    await Promise.all(
      workers.map(async ({ store, lock }) => {
        for (let round = 0; round < 2; round += 1) {
          const { fencingToken } = await lock.acquire({
            durationInMs: 5_000,
            signal: AbortSignal.timeout(25_000),
          });
          const current = Number(text((await store.get(counter)).value));
          await store.set(counter, String(current + 1), { fencingToken });
          expect(await lock.release()).toBe(true);
        }
      }),
    );
    expect(text((await seed.get(counter)).value)).toBe('6');
    expect(await workers[0]!.lock.getHolder()).toBeUndefined();
  });
});
