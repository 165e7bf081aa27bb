/**
 * What operators read (issue "Operators"): the actor metrics move with what the actors really did,
 * per-schedule series stay bounded to the hottest N, one scrape reads each source once, and
 * GET /v1/admin/actors sorts by heat and the other figures. Real PostgreSQL and Redis.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { act, activeUser, charge, createConcert, hold, holdRequest, issueToken, payRequest } from '../support/api-client';
import { eventually, untilPast } from '../support/eventually';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/test-app';

/** The value of one sample line of the exposition, e.g. `name{a="b"}`; undefined when absent. */
function sample(exposition: string, series: string): number | undefined {
  const line = exposition.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function scrape(t: TestApp): Promise<string> {
  const response = await t.app.inject({ method: 'GET', url: '/metrics' });
  expect(response.statusCode).toBe(200);
  return response.body;
}

const adminActors = (t: TestApp, query = '') =>
  act(t.app, { method: 'GET', url: `/v1/admin/actors${query}`, headers: { 'x-admin-key': ADMIN_KEY } });

describe('operator metrics and the actors admin endpoint (actor engine)', () => {
  let t: TestApp;
  let concertId: string;
  let hot: string;
  let cold: string;

  beforeAll(async () => {
    t = await startTestApp({ RESERVATION_ENGINE: 'actor', HOLD_TTL_SECONDS: '2', QUEUE_MAX_ACTIVE: '30', METRICS_TOP_ACTORS: '1' });
    const concert = await createConcert(t.app, { seatCount: 50, schedules: 2 });
    concertId = concert.concertId;
    [hot, cold] = concert.schedules.map((s) => s.scheduleId) as [string, string];
  });

  afterAll(async () => {
    await t?.close();
  });

  it('when holds, conflicts, a payment and expiries happen, then the counters and gauges say exactly that', async () => {
    const before = await scrape(t);
    const users = await Promise.all(Array.from({ length: 12 }, () => activeUser(t.app, concertId)));
    // Ten holds on the hot schedule, one on the cold one, one lost race on the hot one.
    const holds = await Promise.all(users.slice(0, 10).map((u, i) => hold(t.app, u.token, hot, [i + 1])));
    await hold(t.app, users[10]!.token, cold, [1]);
    const conflict = await act(t.app, holdRequest(users[11]!.token, hot, [1]));
    expect(conflict.status).toBe(409);
    // One payment that confirms, one that fails for want of balance.
    await charge(t.app, users[0]!.userId, 1_000_000);
    expect((await act(t.app, payRequest(users[0]!.token, holds[0]!.reservationId))).status).toBe(201);
    expect((await act(t.app, payRequest(users[1]!.token, holds[1]!.reservationId))).body.code).toBe('INSUFFICIENT_BALANCE');

    const during = await scrape(t);
    const held = (e: string) => sample(e, 'ovation_actor_messages_total{command="Hold",outcome="held"}') ?? 0;
    expect(held(during) - held(before)).toBe(11);
    expect(sample(during, 'ovation_actor_messages_total{command="Hold",outcome="SEAT_UNAVAILABLE"}')).toBe(1);
    expect(sample(during, 'ovation_actor_messages_total{command="Pay",outcome="paid"}')).toBe(1);
    expect(sample(during, 'ovation_actor_messages_total{command="Pay",outcome="INSUFFICIENT_BALANCE"}')).toBe(1);
    expect(sample(during, 'ovation_payment_seconds_count{outcome="CONFIRMED"}')).toBe(1);
    expect(sample(during, 'ovation_payment_failures_total{outcome="INSUFFICIENT_BALANCE"}')).toBe(1);
    expect(sample(during, 'ovation_actors_live')).toBe(2);
    expect(sample(during, 'ovation_holds_active')).toBe(10); // 9 left on the hot schedule, 1 on the cold one
    expect(sample(during, 'ovation_actor_processing_seconds_count{command="Hold"}')).toBeGreaterThanOrEqual(12);
    expect(sample(during, `ovation_queue_active{concert_id="${concertId}"}`)).toBe(11); // the payer's token ended
    expect(sample(during, `ovation_queue_admitted_total{concert_id="${concertId}"}`)).toBe(12);
    expect(sample(during, 'http_request_duration_seconds_count{method="POST",route="/v1/reservations",status_class="2xx"}')).toBe(11);
    expect(sample(during, 'http_request_duration_seconds_count{method="POST",route="/v1/reservations",status_class="4xx"}')).toBe(1);
    // METRICS_TOP_ACTORS=1: per-schedule series for the hottest actor only.
    expect(during).toContain(`ovation_actor_held_seats{schedule_id="${hot}"} 9`);
    expect(during).not.toContain(`schedule_id="${cold}"`);

    // Every live hold expires (HOLD_TTL_SECONDS=2) and is counted once.
    await untilPast(Math.max(...holds.map((h) => Date.parse(h.expiresAt))));
    const after = await eventually(async () => {
      const body = await scrape(t);
      return sample(body, 'ovation_holds_active') === 0 && body;
    });
    expect(sample(after, 'ovation_holds_expired_total')).toBe(10);
  });

  it('when actors are listed, then they sort by heat (default) or another figure, highest first, with a limit', async () => {
    // Make the hot schedule clearly hotter right now.
    const users = await Promise.all(Array.from({ length: 8 }, () => activeUser(t.app, concertId)));
    await Promise.all(users.map((u, i) => hold(t.app, u.token, hot, [20 + i])));

    const byHeat = await adminActors(t);
    expect(byHeat.status).toBe(200);
    expect(byHeat.body.total).toBe(2);
    expect(byHeat.body.actors.map((a: { scheduleId: string }) => a.scheduleId)).toEqual([hot, cold]);
    expect(byHeat.body.actors[0].heat).toBeGreaterThan(byHeat.body.actors[1].heat);
    expect(byHeat.body.actors[0]).toEqual(
      expect.objectContaining({ activeHolds: 8, heldSeats: 8, soldSeats: 1, mailboxDepth: 0, journalSeq: expect.any(Number) }),
    );

    const limited = await adminActors(t, '?sort=soldSeats&limit=1');
    expect(limited.body).toEqual({ total: 2, actors: [expect.objectContaining({ scheduleId: hot, soldSeats: 1 })] });

    for (const bad of ['?sort=userId', '?limit=0', '?limit=1001', '?limit=abc', '?sort=heat&extra=1']) {
      const refused = await adminActors(t, bad);
      expect([bad, refused.status, refused.body.code]).toEqual([bad, 400, 'VALIDATION_FAILED']);
    }
    expect((await act(t.app, { method: 'GET', url: '/v1/admin/actors' })).body.code).toBe('ADMIN_KEY_INVALID');
  });

  it('when /metrics is scraped, then the engine and the waiting line are each read once', async () => {
    const counted = <T extends object, K extends keyof T>(target: T, key: K) => {
      const original = target[key] as unknown as (...args: unknown[]) => unknown;
      const calls = { n: 0 };
      target[key] = ((...args: unknown[]) => {
        calls.n += 1;
        return original.apply(target, args);
      }) as T[K];
      return { calls, restore: () => (target[key] = original as T[K]) };
    };
    const actors = counted(t.services.engine, 'actors');
    const stats = counted(t.services.queue, 'stats');
    try {
      await scrape(t);
      expect(actors.calls.n).toBe(1);
      expect(stats.calls.n).toBe(1);
    } finally {
      actors.restore();
      stats.restore();
    }
  });
});

describe('queue metrics when Redis does not answer', () => {
  it('when the line cannot be read, then the scrape still succeeds, leaves the line out and counts the failed read', async () => {
    // A Redis that refuses connections: the app starts against the real one, then loses it.
    const t = await startTestApp({ RESERVATION_ENGINE: 'sql' });
    try {
      const concert = await createConcert(t.app);
      await issueToken(t.app, randomUUID(), concert.concertId);
      const healthy = await scrape(t);
      expect(sample(healthy, `ovation_queue_waiting{concert_id="${concert.concertId}"}`)).toBe(0);
      if (!t.services.redis) return expect(t.services.modes.queue).toBe('memory'); // TEST_QUEUE=memory: no Redis to lose
      t.services.redis.disconnect(); // the fault: the link is gone (and stays gone: no reconnect)
      const degraded = await scrape(t);
      expect(degraded).not.toContain('ovation_queue_waiting{');
      expect(sample(degraded, 'ovation_actors_live')).toBe(0);
      // The failure counter was written out before the line's read failed: the next scrape shows it.
      expect(sample(await scrape(t), 'ovation_scrape_read_failures_total{source="queue"}')).toBeGreaterThanOrEqual(1);
    } finally {
      await t.close();
    }
  });
});

describe('money metrics when PostgreSQL does not answer', () => {
  it('when the outbox and charge tables are locked, then the scrape answers within the bound, their figures read NaN and the failed reads are counted', async () => {
    const t = await startTestApp({ RESERVATION_ENGINE: 'sql' });
    const locker = new Client({ connectionString: t.database.url });
    try {
      expect(sample(await scrape(t), 'ovation_outbox_pending')).toBe(0);
      await locker.connect();
      // The fault: another session holds both tables, so the lag and backlog reads wait on it.
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE outbox, charges IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      const stuck = await scrape(t);
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(sample(stuck, 'ovation_outbox_pending')).toBeNaN();
      expect(sample(stuck, 'ovation_charges_pending')).toBeNaN();
      expect(sample(stuck, 'ovation_actors_live')).toBe(0);
      const { rows } = await locker.query<{ waiting: number }>(
        `SELECT count(*)::int AS waiting FROM pg_locks WHERE NOT granted AND relation IN ('outbox'::regclass, 'charges'::regclass)`,
      );
      expect(rows[0]!.waiting).toBeGreaterThanOrEqual(1); // the reads really were blocked
      await locker.query('ROLLBACK');
      const after = await scrape(t);
      expect(sample(after, 'ovation_scrape_read_failures_total{source="outbox"}')).toBe(1);
      expect(sample(after, 'ovation_scrape_read_failures_total{source="charges"}')).toBe(1);
      expect(sample(after, 'ovation_outbox_pending')).toBe(0);
    } finally {
      await locker.end().catch(() => undefined);
      await t.close();
    }
  });
});
