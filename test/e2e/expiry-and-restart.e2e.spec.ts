import { ENGINES, startTestApp, TEST_QUEUE, type TestApp } from '../support/test-app';
import { act, activeUser, charge, createConcert, hold, issueToken, payRequest, seatStatuses } from '../support/api-client';
import { eventually, untilPast } from '../support/eventually';


describe.each(ENGINES)('hold expiry (%s engine)', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RESERVATION_ENGINE: engine, HOLD_TTL_SECONDS: '1' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('when a hold outlives HOLD_TTL_SECONDS, then its seats are AVAILABLE, it is EXPIRED and paying for it is 409 RESERVATION_EXPIRED', async () => {
    const concert = await createConcert(t.app, { price: 10_000 });
    const scheduleId = concert.schedules[0]!.scheduleId;
    const { userId, token } = await activeUser(t.app, concert.concertId);
    await charge(t.app, userId, 10_000);
    const held = await hold(t.app, token, scheduleId, [5, 6]);
    expect(Date.parse(held.expiresAt) - Date.now()).toBeLessThanOrEqual(1_000);

    await untilPast(held.expiresAt);

    const paid = await act(t.app, payRequest(token, held.reservationId));
    expect(paid.status).toBe(409);
    expect(paid.body.code).toBe('RESERVATION_EXPIRED');
    // The expiry is journaled by the actor's timer (or the baselines' sweeper) just after expiresAt.
    const seats = await eventually(async () => {
      const map = await seatStatuses(t.app, scheduleId);
      return map.get(5) === 'AVAILABLE' && map.get(6) === 'AVAILABLE' ? map : undefined;
    });
    expect([seats.get(5), seats.get(6)]).toEqual(['AVAILABLE', 'AVAILABLE']);
    const { rows } = await t.services.db.query('SELECT status FROM reservations WHERE id = $1', [held.reservationId]);
    expect(rows[0].status).toBe('EXPIRED');
    if (engine === 'actor') {
      const { rows: journal } = await t.services.db.query(`SELECT type FROM journal WHERE schedule_id = $1 ORDER BY seq`, [
        scheduleId,
      ]);
      expect(journal.map((r) => r.type)).toEqual(['SeatsHeld', 'HoldExpired']);
    }
    expect((await act(t.app, { method: 'GET', url: `/v1/users/${userId}/balance` })).body.balance).toBe(10_000);
  });

  it('when 300 holds run out together, then every one of them expires and every seat is free again', async () => {
    const concert = await createConcert(t.app, { seatCount: 300 });
    const scheduleId = concert.schedules[0]!.scheduleId;
    const users = await Promise.all(Array.from({ length: 75 }, () => activeUser(t.app, concert.concertId)));
    const held = await Promise.all(users.flatMap((u, i) => [1, 2, 3, 4].map((k) => hold(t.app, u.token, scheduleId, [i * 4 + k]))));

    await untilPast(Math.max(...held.map((h) => Date.parse(h.expiresAt))));
    const seats = await eventually(async () => {
      const map = await seatStatuses(t.app, scheduleId);
      return [...map.values()].every((status) => status === 'AVAILABLE') ? map : undefined;
    });
    expect([...seats.values()].filter((status) => status !== 'AVAILABLE')).toEqual([]);
    const { rows } = await t.services.db.query(`SELECT count(*)::int AS n FROM reservations WHERE status = 'HELD'`);
    expect(rows[0].n).toBe(0);
  });

  it('when an expired seat is held again by someone else, then it succeeds', async () => {
    const concert = await createConcert(t.app);
    const scheduleId = concert.schedules[0]!.scheduleId;
    const first = await activeUser(t.app, concert.concertId);
    const firstHold = await hold(t.app, first.token, scheduleId, [9]);
    await untilPast(firstHold.expiresAt);
    const second = await activeUser(t.app, concert.concertId);
    // The actor frees it at expiresAt; the baselines' sweeper within a quarter of the hold's life.
    const again = await eventually(async () => {
      const answer = await act(t.app, {
        method: 'POST',
        url: '/v1/reservations',
        headers: { 'queue-token': second.token },
        body: { scheduleId, seatNos: [9] },
      });
      return answer.status === 201 ? answer : undefined;
    }, { timeoutMs: 2_000 });
    expect(again.body.seatNos).toEqual([9]);
  });
});

describe.each(ENGINES)('restart (%s engine)', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RESERVATION_ENGINE: engine });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('when the server restarts, then every hold and sale is still there', async () => {
    const concert = await createConcert(t.app, { price: 10_000 });
    const scheduleId = concert.schedules[0]!.scheduleId;
    const buyer = await activeUser(t.app, concert.concertId);
    const holder = await activeUser(t.app, concert.concertId);
    await charge(t.app, buyer.userId, 10_000);
    const bought = await hold(t.app, buyer.token, scheduleId, [1]);
    expect((await act(t.app, payRequest(buyer.token, bought.reservationId))).status).toBe(201);
    const held = await hold(t.app, holder.token, scheduleId, [2, 3]);
    const released = await hold(t.app, holder.token, scheduleId, [4]);
    expect(
      (await act(t.app, { method: 'DELETE', url: `/v1/reservations/${released.reservationId}`, headers: { 'queue-token': holder.token } }))
        .status,
    ).toBe(200);

    await t.restart();
    // The seats and reservations are in PostgreSQL; the waiting line is not. With Redis the tokens
    // outlive the server; an in-process line (TEST_QUEUE=memory) starts empty after a restart, as
    // an emptied Redis would, so there the holder joins the line again for a token of its own.
    const holderToken = TEST_QUEUE === 'memory' ? (await issueToken(t.app, holder.userId, concert.concertId)).token : holder.token;

    const seats = await seatStatuses(t.app, scheduleId);
    expect([1, 2, 3, 4, 5].map((n) => seats.get(n))).toEqual(['SOLD', 'HELD', 'HELD', 'AVAILABLE', 'AVAILABLE']);
    const taken = await act(t.app, {
      method: 'POST',
      url: '/v1/reservations',
      headers: { 'queue-token': buyer.token },
      body: { scheduleId, seatNos: [2] },
    });
    // The buyer's token was used by the payment (in memory mode, also forgotten by the restart).
    expect(taken.status).toBe(401);
    const other = await activeUser(t.app, concert.concertId);
    const refused = await act(t.app, {
      method: 'POST',
      url: '/v1/reservations',
      headers: { 'queue-token': other.token },
      body: { scheduleId, seatNos: [1, 2] },
    });
    expect(refused.status).toBe(409);
    expect(refused.body.seatNos).toEqual([1, 2]);
    // The recovered hold can still be paid for.
    await charge(t.app, holder.userId, 20_000);
    expect((await act(t.app, payRequest(holderToken, held.reservationId))).status).toBe(201);
  });
});
