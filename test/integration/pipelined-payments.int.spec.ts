import { randomUUID } from 'node:crypto';
import { ADMIN_KEY, startTestApp, type TestApp } from '../support/test-app';
import { eventually } from '../support/eventually';
import { act, activeUser, charge, createConcert, hold, holdRequest, payRequest, seatStatuses } from '../support/api-client';

describe('pipelined payments on the actor engine', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ QUEUE_MAX_ACTIVE: '10000' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('when payments and holds interleave on one schedule, then the journal stays dense and a restart rebuilds the same seats', async () => {
    const concert = await createConcert(t.app, { seatCount: 200, price: 1_000 });
    const scheduleId = concert.schedules[0]!.scheduleId;
    const buyers = await Promise.all(Array.from({ length: 40 }, () => activeUser(t.app, concert.concertId)));
    // Half of the buyers can pay, half cannot: declined payments must not leave holes in the order.
    await Promise.all(buyers.map((b, i) => (i % 2 === 0 ? charge(t.app, b.userId, 1_000) : Promise.resolve())));
    const held = await Promise.all(buyers.map((b, i) => hold(t.app, b.token, scheduleId, [i + 1])));
    const others = await Promise.all(Array.from({ length: 40 }, () => activeUser(t.app, concert.concertId)));

    const [payments, holds] = await Promise.all([
      Promise.all(buyers.map((b, i) => act(t.app, payRequest(b.token, held[i]!.reservationId)))),
      Promise.all(others.map((o, i) => act(t.app, holdRequest(o.token, scheduleId, [100 + i])))),
    ]);

    expect(payments.map((p) => p.status)).toEqual(buyers.map((_, i) => (i % 2 === 0 ? 201 : 402)));
    expect(holds.every((h) => h.status === 201)).toBe(true);
    const { rows } = await t.services.db.query('SELECT seq, type FROM journal WHERE schedule_id = $1 ORDER BY seq', [scheduleId]);
    expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
    expect(rows.filter((r) => r.type === 'SeatsSold')).toHaveLength(20);
    expect(rows.filter((r) => r.type === 'PaymentDeclined')).toHaveLength(20);

    const before = await seatStatuses(t.app, scheduleId);
    await t.restart();
    expect(await seatStatuses(t.app, scheduleId)).toEqual(before);
    expect([...before.values()].filter((s) => s === 'SOLD')).toHaveLength(20);
    expect([...before.values()].filter((s) => s === 'HELD')).toHaveLength(60);
  });

  it('when a hold is cancelled while its payment is in flight, then exactly one of them wins and the money matches', async () => {
    const concert = await createConcert(t.app, { price: 1_000 });
    const scheduleId = concert.schedules[0]!.scheduleId;
    const buyer = await activeUser(t.app, concert.concertId);
    await charge(t.app, buyer.userId, 1_000);
    const held = await hold(t.app, buyer.token, scheduleId, [5]);

    const timed = async <T>(work: Promise<T>) => {
      const startedAt = performance.now();
      const value = await work;
      return { value, startedAt, endedAt: performance.now() };
    };
    const [payment, cancel] = await Promise.all([
      timed(act(t.app, payRequest(buyer.token, held.reservationId))),
      timed(act(t.app, { method: 'DELETE', url: `/v1/reservations/${held.reservationId}`, headers: { 'queue-token': buyer.token } })),
    ]);
    const [paid, cancelled] = [payment.value, cancel.value];
    // The race was real: each request started before the other had its answer.
    expect(payment.startedAt < cancel.endedAt && cancel.startedAt < payment.endedAt).toBe(true);

    const seat = (await seatStatuses(t.app, scheduleId)).get(5);
    const balance = (await act(t.app, { method: 'GET', url: `/v1/users/${buyer.userId}/balance` })).body.balance;
    if (paid.status === 201) {
      expect([cancelled.status, seat, balance]).toEqual([409, 'SOLD', 0]);
    } else {
      expect([cancelled.status, seat, balance]).toEqual([200, 'AVAILABLE', 1_000]);
    }
  });

  it('when many users pay for their own holds at once on one schedule, then every payment lands once', async () => {
    const concert = await createConcert(t.app, { seatCount: 100, price: 500 });
    const scheduleId = concert.schedules[0]!.scheduleId;
    const buyers = await Promise.all(Array.from({ length: 100 }, () => activeUser(t.app, concert.concertId)));
    await Promise.all(buyers.map((b) => charge(t.app, b.userId, 500)));
    const held = await Promise.all(buyers.map((b, i) => hold(t.app, b.token, scheduleId, [i + 1])));
    const key = () => randomUUID();

    const paid = await Promise.all(buyers.map((b, i) => act(t.app, payRequest(b.token, held[i]!.reservationId, key()))));

    expect(paid.every((p) => p.status === 201 && p.body.balance === 0)).toBe(true);
    const users = buyers.map((b) => b.userId);
    const { rows } = await t.services.db.query(
      `SELECT (SELECT count(*) FROM payments WHERE user_id = ANY($1::uuid[]))::int AS payments,
              (SELECT sum(balance) FROM balances WHERE user_id = ANY($1::uuid[]))::int AS balances,
              (SELECT count(*) FROM outbox WHERE payload->>'scheduleId' = $2)::int AS confirmations`,
      [users, scheduleId],
    );
    expect(rows[0]).toEqual({ payments: 100, balances: 0, confirmations: 100 });
    expect([...(await seatStatuses(t.app, scheduleId)).values()].every((s) => s === 'SOLD')).toBe(true);
  });

  it('when only payments stream through a schedule, then snapshots are still taken and a restart rebuilds the same seats', async () => {
    await t.restart({ QUEUE_MAX_ACTIVE: '10000', SNAPSHOT_EVERY_EVENTS: '10' });
    const concert = await createConcert(t.app, { seatCount: 80, price: 500 });
    const scheduleId = concert.schedules[0]!.scheduleId;
    const buyers = await Promise.all(Array.from({ length: 80 }, () => activeUser(t.app, concert.concertId)));
    await Promise.all(buyers.map((b) => charge(t.app, b.userId, 500)));
    const held = await Promise.all(buyers.map((b, i) => hold(t.app, b.token, scheduleId, [i + 1])));
    const actorInfo = async () =>
      (await act(t.app, { method: 'GET', url: '/v1/admin/actors', headers: { 'x-admin-key': ADMIN_KEY } })).body.actors.find(
        (a: { scheduleId: string }) => a.scheduleId === scheduleId,
      );
    const afterHolds = await actorInfo();
    expect(afterHolds.journalSeq).toBe(80);

    // Every payment is in flight at once: before the fix no snapshot was ever taken in such a stream.
    const paid = await Promise.all(buyers.map((b, i) => act(t.app, payRequest(b.token, held[i]!.reservationId))));
    expect(paid.every((p) => p.status === 201)).toBe(true);
    const afterPayments = await eventually(async () => {
      const info = await actorInfo();
      return info.snapshotSeq > afterHolds.journalSeq ? info : undefined;
    }, { timeoutMs: 5_000 });
    expect(afterPayments.journalSeq).toBe(160);
    expect(afterPayments.snapshotSeq).toBeGreaterThan(80);

    const before = await seatStatuses(t.app, scheduleId);
    await t.restart({ QUEUE_MAX_ACTIVE: '10000', SNAPSHOT_EVERY_EVENTS: '10' });
    expect(await seatStatuses(t.app, scheduleId)).toEqual(before);
    expect([...before.values()].every((status) => status === 'SOLD')).toBe(true);
  });
});
