import { randomUUID } from 'node:crypto';
import { ADMIN_KEY, ENGINES, startTestApp, type TestApp } from '../support/test-app';
import { act, activeUser, createConcert, hold, type Request } from '../support/api-client';

describe.each(ENGINES)('bad input gets a clear 4xx problem and changes nothing (%s engine)', (engine) => {
  let t: TestApp;
  let scheduleId: string;
  let concertId: string;
  let token: string;
  let userId: string;
  let reservationId: string;

  beforeAll(async () => {
    t = await startTestApp({ RESERVATION_ENGINE: engine, MAX_SEATS_PER_HOLD: '4' });
    const concert = await createConcert(t.app, { seatCount: 50 });
    concertId = concert.concertId;
    scheduleId = concert.schedules[0]!.scheduleId;
    ({ token, userId } = await activeUser(t.app, concertId));
    reservationId = (await hold(t.app, token, scheduleId, [50])).reservationId;
  });
  afterAll(async () => {
    await t?.close();
  });

  const reserve = (body: unknown, headers: Record<string, string> = { 'queue-token': token }): Request => ({
    method: 'POST',
    url: '/v1/reservations',
    headers,
    body,
  });
  const admin = (body: unknown, key = ADMIN_KEY): Request => ({
    method: 'POST',
    url: '/v1/admin/concerts',
    headers: { 'x-admin-key': key },
    body,
  });
  const schedule = { startsAt: '2027-05-01T19:00:00Z', seatCount: 10, price: 1000 };

  const cases: [string, () => Request, number, string][] = [
    ['an unknown field in the body', () => reserve({ scheduleId, seatNos: [1], extra: true }), 400, 'VALIDATION_FAILED'],
    ['a seat number of the wrong type', () => reserve({ scheduleId, seatNos: ['1'] }), 400, 'VALIDATION_FAILED'],
    ['an empty seat list', () => reserve({ scheduleId, seatNos: [] }), 400, 'VALIDATION_FAILED'],
    ['a duplicate seat', () => reserve({ scheduleId, seatNos: [1, 1] }), 400, 'VALIDATION_FAILED'],
    ['seat 0', () => reserve({ scheduleId, seatNos: [0] }), 400, 'VALIDATION_FAILED'],
    ['a seat beyond the schedule', () => reserve({ scheduleId, seatNos: [51] }), 400, 'VALIDATION_FAILED'],
    ['more seats than MAX_SEATS_PER_HOLD', () => reserve({ scheduleId, seatNos: [1, 2, 3, 4, 5] }), 422, 'LIMIT_EXCEEDED'],
    ['a schedule id that is not a UUID', () => reserve({ scheduleId: 'abc', seatNos: [1] }), 400, 'VALIDATION_FAILED'],
    ['an unknown schedule', () => reserve({ scheduleId: randomUUID(), seatNos: [1] }), 404, 'SCHEDULE_NOT_FOUND'],
    ['a missing token', () => reserve({ scheduleId, seatNos: [1] }, {}), 401, 'TOKEN_MISSING'],
    ['a forged token', () => reserve({ scheduleId, seatNos: [1] }, { 'queue-token': `${concertId}.AAAAAAAAAAAAAAAAAAAAAA` }), 401, 'TOKEN_INVALID'],
    ['a malformed token', () => reserve({ scheduleId, seatNos: [1] }, { 'queue-token': 'nonsense' }), 401, 'TOKEN_INVALID'],
    ['a body that is not JSON', () => ({ ...reserve('{"scheduleId":'), headers: { 'queue-token': token, 'content-type': 'application/json' } }), 400, 'VALIDATION_FAILED'],
    ['a wrong admin key', () => admin({ title: 'x', schedules: [schedule] }, 'wrong-key'), 403, 'ADMIN_KEY_INVALID'],
    ['no schedules', () => admin({ title: 'x', schedules: [] }), 400, 'VALIDATION_FAILED'],
    ['a seat count over 100000', () => admin({ title: 'x', schedules: [{ ...schedule, seatCount: 100001 }] }), 400, 'VALIDATION_FAILED'],
    ['a float price', () => admin({ title: 'x', schedules: [{ ...schedule, price: 10.5 }] }), 400, 'VALIDATION_FAILED'],
    ['a bad start time', () => admin({ title: 'x', schedules: [{ ...schedule, startsAt: 'tomorrow' }] }), 400, 'VALIDATION_FAILED'],
    ['a section beyond the seats', () => admin({ title: 'x', schedules: [{ ...schedule, sections: [{ grade: 'VIP', fromSeat: 5, toSeat: 11, price: 5 }] }] }), 400, 'VALIDATION_FAILED'],
    ['overlapping sections', () => admin({ title: 'x', schedules: [{ ...schedule, sections: [{ grade: 'A', fromSeat: 1, toSeat: 5, price: 5 }, { grade: 'B', fromSeat: 5, toSeat: 6, price: 5 }] }] }), 400, 'VALIDATION_FAILED'],
    ['a bad UUID in a path', () => ({ method: 'GET', url: '/v1/users/not-a-uuid/balance' }), 400, 'VALIDATION_FAILED'],
    ['an unknown route', () => ({ method: 'GET', url: '/v1/nothing' }), 404, 'NOT_FOUND'],
    ['a charge without Idempotency-Key', () => ({ method: 'POST', url: `/v1/users/${userId}/balance/charges`, body: { amount: 10 } }), 400, 'VALIDATION_FAILED'],
    ['an Idempotency-Key over 64 characters', () => ({ method: 'POST', url: `/v1/users/${userId}/balance/charges`, headers: { 'idempotency-key': 'k'.repeat(65) }, body: { amount: 10 } }), 400, 'VALIDATION_FAILED'],
    ['a charge of 0', () => ({ method: 'POST', url: `/v1/users/${userId}/balance/charges`, headers: { 'idempotency-key': 'a' }, body: { amount: 0 } }), 400, 'VALIDATION_FAILED'],
    ['a charge over 10,000,000', () => ({ method: 'POST', url: `/v1/users/${userId}/balance/charges`, headers: { 'idempotency-key': 'b' }, body: { amount: 10_000_001 } }), 400, 'VALIDATION_FAILED'],
    ['a negative charge', () => ({ method: 'POST', url: `/v1/users/${userId}/balance/charges`, headers: { 'idempotency-key': 'c' }, body: { amount: -5 } }), 400, 'VALIDATION_FAILED'],
    ['a payment for an unknown reservation', () => ({ method: 'POST', url: '/v1/payments', headers: { 'queue-token': token, 'idempotency-key': 'd' }, body: { reservationId: randomUUID() } }), 404, 'RESERVATION_NOT_FOUND'],
    ['a payment without balance', () => ({ method: 'POST', url: '/v1/payments', headers: { 'queue-token': token, 'idempotency-key': 'e' }, body: { reservationId } }), 402, 'INSUFFICIENT_BALANCE'],
    ['a token on the token endpoint that is unknown', () => ({ method: 'GET', url: '/v1/queue/tokens/current', headers: { 'queue-token': `${concertId}.BBBBBBBBBBBBBBBBBBBBBB` } }), 401, 'TOKEN_INVALID'],
    ['a token request without a token', () => ({ method: 'GET', url: '/v1/queue/tokens/current' }), 401, 'TOKEN_MISSING'],
    ['a token request with a bad user id', () => ({ method: 'POST', url: '/v1/queue/tokens', body: { userId: 'me', concertId } }), 400, 'VALIDATION_FAILED'],
  ];

  const table = cases.map(([what, request, status, code]) => [what, status, code, request] as const);
  it.each(table)('when the request has %s, then %i %s as problem+json', async (_what, status, code, request) => {
    const response = await act(t.app, request());
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.body).toMatchObject({ status, code, title: expect.any(String), type: expect.any(String) });
  });

  it('after all the bad requests, then nothing changed: one hold, no payment, no balance, one concert', async () => {
    const { rows } = await t.services.db.query(
      `SELECT (SELECT count(*) FROM reservations)::int AS reservations, (SELECT count(*) FROM payments)::int AS payments,
              (SELECT count(*) FROM balances)::int AS balances, (SELECT count(*) FROM concerts)::int AS concerts,
              (SELECT count(*) FROM journal)::int AS events,
              (SELECT count(*) FROM seats WHERE status <> 'AVAILABLE')::int AS taken_seat_rows`,
    );
    // The actor engine journals its one hold and the declined payment (it fills the payment's
    // place in the order; it changes no seat); the baselines keep the hold in the seat rows.
    const [events, takenSeatRows] = engine === 'actor' ? [2, 0] : [0, 1];
    expect(rows[0]).toEqual({ reservations: 1, payments: 0, balances: 0, concerts: 1, events, taken_seat_rows: takenSeatRows });
  });

  it('when someone else cancels a hold, then 403 NOT_OWNER and the hold stays', async () => {
    const other = await activeUser(t.app, concertId);
    const response = await act(t.app, { method: 'DELETE', url: `/v1/reservations/${reservationId}`, headers: { 'queue-token': other.token } });
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('NOT_OWNER');
    const mine = await act(t.app, { method: 'GET', url: `/v1/users/${userId}/reservations` });
    expect(mine.body.reservations[0].status).toBe('HELD');
  });
});
