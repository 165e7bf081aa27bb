import { randomUUID } from 'node:crypto';
import { ENGINES, startTestApp, type TestApp } from '../support/test-app';
import { act, activeUser, charge, createConcert, hold, holdRequest, payRequest, seatStatuses } from '../support/api-client';

describe.each(ENGINES)('contention (%s engine)', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RESERVATION_ENGINE: engine, QUEUE_MAX_ACTIVE: '100000' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('when 200 users race for the same seat, then exactly one holds it and 199 get 409 SEAT_UNAVAILABLE', async () => {
    const concert = await createConcert(t.app, { seatCount: 50 });
    const scheduleId = concert.schedules[0]!.scheduleId;
    const users = await Promise.all(Array.from({ length: 200 }, () => activeUser(t.app, concert.concertId)));

    const responses = await Promise.all(users.map((u) => act(t.app, holdRequest(u.token, scheduleId, [13]))));

    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(199);
    expect(responses.filter((r) => r.status === 409).every((r) => r.body.code === 'SEAT_UNAVAILABLE')).toBe(true);
    const { rows } = await t.services.db.query(`SELECT count(*)::int AS n FROM reservations WHERE 13 = ANY(seat_nos)`);
    expect(rows[0].n).toBe(1);
  });

  it('when multi-seat holds overlap, then each is all or nothing', async () => {
    const concert = await createConcert(t.app, { seatCount: 10 });
    const scheduleId = concert.schedules[0]!.scheduleId;
    const a = await activeUser(t.app, concert.concertId);
    const b = await activeUser(t.app, concert.concertId);
    await hold(t.app, a.token, scheduleId, [3]);

    const refused = await act(t.app, holdRequest(b.token, scheduleId, [1, 2, 3]));

    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'SEAT_UNAVAILABLE', seatNos: [3] });
    const seats = await seatStatuses(t.app, scheduleId);
    expect([seats.get(1), seats.get(2), seats.get(3)]).toEqual(['AVAILABLE', 'AVAILABLE', 'HELD']);
  });

  it('when 50 payments from one balance race, then only what the balance covers is paid and it never goes below zero', async () => {
    const userId = randomUUID();
    const price = 10_000;
    const holds: { token: string; reservationId: string }[] = [];
    for (let i = 0; i < 50; i++) {
      const concert = await createConcert(t.app, { seatCount: 5, price });
      const { token } = await act(t.app, { method: 'POST', url: '/v1/queue/tokens', body: { userId, concertId: concert.concertId } }).then((r) => r.body);
      const held = await hold(t.app, token, concert.schedules[0]!.scheduleId, [1]);
      holds.push({ token, reservationId: held.reservationId });
    }
    await charge(t.app, userId, 20 * price);

    const responses = await Promise.all(holds.map((h) => act(t.app, payRequest(h.token, h.reservationId))));

    const paid = responses.filter((r) => r.status === 201);
    const refused = responses.filter((r) => r.status === 402);
    expect(paid).toHaveLength(20);
    expect(refused).toHaveLength(30);
    expect(refused.every((r) => r.body.code === 'INSUFFICIENT_BALANCE')).toBe(true);
    expect(Math.min(...paid.map((r) => r.body.balance))).toBe(0);
    const balance = await act(t.app, { method: 'GET', url: `/v1/users/${userId}/balance` });
    expect(balance.body.balance).toBe(0);
    const { rows } = await t.services.db.query(
      'SELECT sum(delta)::int AS total, min(balance_after)::int AS lowest FROM balance_ledger WHERE user_id = $1',
      [userId],
    );
    expect(rows[0]).toEqual({ total: 0, lowest: 0 });
  });
});
