/**
 * Scale-out fencing against a real PostgreSQL (migration 007), with the real ClusterNode,
 * ActorEngine and ClusterEngine. Only Kafka's group membership is scripted here (the test says
 * who was assigned what, and when a heartbeat succeeded); the three-process tests in
 * test/e2e/cluster*.e2e.spec.ts run the real consumer group.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { ActorEngine } from '../../src/actors/actor-engine';
import { ClusterEngine } from '../../src/cluster/cluster-engine';
import { ClusterNode } from '../../src/cluster/cluster-node';
import { EngineForwarder } from '../../src/cluster/engine-forwarder';
import { NotOwnerError } from '../../src/cluster/engine-wire';
import type { MembershipEvents } from '../../src/cluster/kafka-membership';
import { partitionOf } from '../../src/cluster/partitioner';
import { EngineUnavailableError } from '../../src/engine/engine-unavailable-error';
import type { HoldResult, PayRequest } from '../../src/engine/reservation-engine';
import { CatalogueRepository, loadSeatCatalogue } from '../../src/persistence/catalogue-repository';
import { createPool } from '../../src/persistence/database';
import { claimPartitions, fenceCheckSql } from '../../src/persistence/partition-owners-store';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { eventually } from '../support/eventually';

const PARTITIONS = 4;
const ALL = [0, 1, 2, 3];
const SESSION = { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_000 };

interface Member {
  url: string;
  node: ClusterNode;
  engine: ClusterEngine;
  /** The group gave this member `partitions`; its SyncGroup and last heartbeat were sent at `sentAt`. */
  assign(partitions: number[], sentAt?: number): Promise<void>;
  stop(): Promise<void>;
}

async function startMember(db: Pool, port: number): Promise<Member> {
  const url = `http://127.0.0.1:${port}`; // nothing listens there: forwards to it are refused
  let events: MembershipEvents | undefined;
  let local: ActorEngine | undefined;
  const node = new ClusterNode({
    db,
    selfUrl: url,
    incarnation: randomUUID(),
    partitions: PARTITIONS,
    session: SESSION,
    join: async (reported) => {
      events = reported;
      return { stop: async () => undefined };
    },
    directoryRefreshMs: 60_000,
    actors: {
      releaseSchedules: (matches) => local!.releaseSchedules(matches),
      wakeHolders: (matches) => local!.wakeHolders(matches),
    },
    log: () => undefined,
  });
  local = new ActorEngine({
    db,
    fencing: node,
    loadCatalogue: (scheduleId) => loadSeatCatalogue(db, scheduleId),
    settings: {
      holdTtlMs: 60_000,
      holdMaxMs: 120_000,
      maxSeatsPerUser: 4,
      outboxTopic: 'reservations.confirmed',
      snapshotEveryEvents: 1_000,
      snapshotEveryMs: 600_000,
      writer: { maxBatch: 256, lingerMs: 0 },
    },
    commitsInFlight: 2,
    mailboxCapacity: 1_000,
    requestTimeoutMs: 2_000,
    idleMs: 600_000,
  });
  const forwarder = new EngineForwarder({ selfUrl: url, secret: 'x'.repeat(16), connectTimeoutMs: 500, answerTimeoutMs: 5_000, connectionsPerOwner: 2 });
  const engine = new ClusterEngine(local, node, forwarder, db);
  await engine.start();
  return {
    url,
    node,
    engine,
    async assign(partitions, sentAt = Date.now()) {
      events!.assigned(partitions, sentAt);
      events!.heartbeat(sentAt, 1);
      await node.settled();
      await node.directory.refresh();
    },
    stop: () => engine.stop(),
  };
}

describe('ownership fencing (real PostgreSQL)', () => {
  let database: TestDatabase;
  let db: Pool;
  let scheduleIds: string[];
  const members: Member[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    db = createPool(database.url, 10);
    const concert = await new CatalogueRepository(db).createConcert({
      title: 'Fenced',
      venue: 'Hall',
      schedules: Array.from({ length: 4 }, (_, i) => ({ startsAt: new Date(Date.UTC(2099, 0, 1 + i)).toISOString(), seatCount: 10, price: 100 })),
    });
    scheduleIds = concert.schedules.map((s) => s.scheduleId);
  });

  afterAll(async () => {
    for (const member of members) await member.stop().catch(() => undefined);
    await db.end();
    await database.drop();
  });

  const member = async (port: number) => {
    const started = await startMember(db, port);
    members.push(started);
    return started;
  };
  const holdRequest = (scheduleId: string, seatNos: number[], userId = randomUUID()) => ({ reservationId: randomUUID(), userId, scheduleId, seatNos });
  const count = async (sql: string, values: unknown[]) => Number((await db.query<{ n: string }>(sql, values)).rows[0]!.n);

  it('when another member claims the partition, the old owner cannot commit: its hold is 503 and nothing of it is written, and the new owner recovers what the old one committed', async () => {
    const scheduleId = scheduleIds[0]!;
    const old = await member(41_001);
    await old.assign(ALL);
    const first = await old.engine.hold(holdRequest(scheduleId, [1]));
    expect(first.ok).toBe(true);

    const next = await member(41_002);
    await next.assign(ALL); // the old owner was not told (paused, or partitioned from Kafka)
    const epochs = await db.query('SELECT partition, epoch, owner_url FROM partition_owners ORDER BY partition');
    expect(epochs.rows.every((row) => row.owner_url === next.url && Number(row.epoch) === 2)).toBe(true);
    expect(old.node.serves(scheduleId)).toBe(true); // it still believes it owns the schedule…
    await old.node.directory.refresh();
    expect(old.node.status().members).toEqual([
      { url: old.url, partitions: [] }, // the map says it owns nothing any more
      { url: next.url, partitions: ALL },
    ]);

    const stale = holdRequest(scheduleId, [2]);
    const refused = await old.engine.hold(stale).then(
      () => undefined,
      (error: unknown) => error,
    );
    // …and the database refused it: the fault happened, and it was answered 503 (nothing applied).
    expect(refused).toBeInstanceOf(EngineUnavailableError);
    expect((refused as Error).message).toMatch(/ownership fenced/);
    expect(await count('SELECT count(*) AS n FROM reservations WHERE id = $1', [stale.reservationId])).toBe(0);
    expect(await count('SELECT count(*) AS n FROM journal WHERE schedule_id = $1', [scheduleId])).toBe(1);

    // The new owner read the journal after its claim: seat 1 is taken, seat 2 is free.
    const again = await next.engine.hold(holdRequest(scheduleId, [1]));
    expect(again).toMatchObject({ ok: false, rejection: { code: 'SEAT_UNAVAILABLE' } });
    expect((await next.engine.hold(holdRequest(scheduleId, [2]))).ok).toBe(true);
    expect(await count('SELECT count(*) AS n FROM journal WHERE schedule_id = $1', [scheduleId])).toBe(2);
  });

  it('when a stale owner takes a payment, the transaction is refused: no money moves and the hold stays HELD', async () => {
    const scheduleId = scheduleIds[1]!;
    const [old, next] = [await member(41_003), await member(41_004)];
    await old.assign(ALL);
    const userId = randomUUID();
    await db.query('INSERT INTO balances (user_id, balance) VALUES ($1, 1000)', [userId]);
    const held = (await old.engine.hold(holdRequest(scheduleId, [3], userId))) as Extract<HoldResult, { ok: true }>;
    expect(held.ok).toBe(true);

    await next.assign(ALL);
    const payment: PayRequest = {
      reservation: held.reservation,
      userId,
      paymentId: randomUUID(),
      idempotency: { scope: `payments:${userId}`, key: randomUUID(), requestHash: 'h' },
    };
    const refused = await old.engine.pay(payment).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(EngineUnavailableError);
    expect((refused as Error).message).toMatch(/ownership fenced/);
    expect(await count('SELECT balance AS n FROM balances WHERE user_id = $1', [userId])).toBe(1000);
    expect(await count('SELECT count(*) AS n FROM payments WHERE reservation_id = $1', [held.reservation.reservationId])).toBe(0);
    expect((await db.query('SELECT status FROM reservations WHERE id = $1', [held.reservation.reservationId])).rows[0].status).toBe('HELD');

    // The owner takes the same payment.
    const paid = await next.engine.pay({ ...payment, paymentId: randomUUID() });
    expect(paid.ok).toBe(true);
    expect(await count('SELECT balance AS n FROM balances WHERE user_id = $1', [userId])).toBe(900);
  });

  it('when a commit holds the fence, a claim of its partition waits for it, then fences what comes after', async () => {
    const partition = 3;
    const owner = { url: 'http://a', incarnation: randomUUID(), generation: 1 };
    const epoch = (await claimPartitions(db, [partition], owner)).get(partition)!;
    const commit = await db.connect();
    try {
      await commit.query(`BEGIN; ${fenceCheckSql({ partition, epoch })}`);
      let claimedAt = 0;
      const claim = claimPartitions(db, [partition], { url: 'http://b', incarnation: randomUUID(), generation: 2 }).then((epochs) => {
        claimedAt = Date.now();
        return epochs;
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(claimedAt).toBe(0); // blocked by the commit's FOR SHARE lock
      const committedAt = Date.now();
      await commit.query('COMMIT');
      expect((await claim).get(partition)).toBe(epoch + 1);
      expect(claimedAt).toBeGreaterThanOrEqual(committedAt);
      const late = await commit.query(fenceCheckSql({ partition, epoch })).then(
        () => 'passed',
        (error: { code?: string }) => error.code,
      );
      expect(late).toBe('OVF01');
    } finally {
      commit.release();
    }
  });

  it('when a member’s lease ran out (paused past its session), it decides nothing: 503 and no actor runs the command', async () => {
    const scheduleId = scheduleIds[2]!;
    const paused = await member(41_005);
    await paused.assign(ALL, Date.now() - SESSION.sessionTimeoutMs); // its last heartbeat was sent a session ago
    expect(paused.node.status().self).toMatchObject({ state: 'serving', leaseLive: false });
    const request = holdRequest(scheduleId, [4]);
    await expect(paused.engine.hold(request)).rejects.toBeInstanceOf(NotOwnerError);
    await expect(paused.engine.seatMapJson(scheduleId)).rejects.toBeInstanceOf(NotOwnerError);
    expect(await count('SELECT count(*) AS n FROM journal WHERE schedule_id = $1', [scheduleId])).toBe(0);
    expect(paused.engine.actors()).toEqual([]);
  });

  it('when a partition moves, the new owner wakes the schedules with live holds so they expire on time', async () => {
    const scheduleId = scheduleIds[3]!;
    const partition = partitionOf(scheduleId, PARTITIONS);
    const [old, next] = [await member(41_006), await member(41_007)];
    await old.assign(ALL);
    expect((await old.engine.hold(holdRequest(scheduleId, [5]))).ok).toBe(true);
    await next.assign([partition]);
    const { rows } = await db.query<{ schedule_id: string }>("SELECT DISTINCT schedule_id FROM reservations WHERE status = 'HELD'");
    const holders = rows.map((row) => row.schedule_id).filter((id) => partitionOf(id, PARTITIONS) === partition);
    expect(holders).toContain(scheduleId);
    // Exactly the holders of the partition it gained, recovered with their holds (timers armed).
    await eventually(async () => (next.engine.actors().every((a) => a.journalSeq > 0) ? true : undefined));
    expect(next.engine.actors().map((a) => a.scheduleId).sort()).toEqual(holders.sort());
    expect(next.engine.actors().find((a) => a.scheduleId === scheduleId)).toMatchObject({ activeHolds: 1 });
  });

  it('when the partition’s owner is gone, a call for it is 503 and nothing is applied', async () => {
    const scheduleId = scheduleIds[0]!;
    const caller = await member(41_008);
    await caller.assign([]); // owns nothing; the map names a member that no longer listens
    const request = holdRequest(scheduleId, [9]);
    await expect(caller.engine.hold(request)).rejects.toBeInstanceOf(NotOwnerError);
    expect(await count('SELECT count(*) AS n FROM reservations WHERE id = $1', [request.reservationId])).toBe(0);
  });
});
