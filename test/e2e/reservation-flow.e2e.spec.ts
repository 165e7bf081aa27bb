import { randomUUID } from 'node:crypto';
import { ENGINES, startTestApp, type TestApp } from '../support/test-app';
import { act, activeUser, charge, createConcert, hold, payRequest, seatStatuses } from '../support/api-client';

describe.each(ENGINES)('the whole reservation flow over HTTP (%s engine)', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RESERVATION_ENGINE: engine });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('when a user charges, holds and pays, then the seats are SOLD, the token expired, the reservation CONFIRMED, the balance debited once and the outbox has the confirmation', async () => {
    const concert = await createConcert(t.app, { seatCount: 50, price: 30_000 });
    const scheduleId = concert.schedules[0]!.scheduleId;
    const { userId, token } = await activeUser(t.app, concert.concertId);
    await charge(t.app, userId, 100_000);

    const held = await hold(t.app, token, scheduleId, [7, 8]);
    expect(held.amount).toBe(60_000);
    expect((await seatStatuses(t.app, scheduleId)).get(7)).toBe('HELD');

    const paid = await act(t.app, payRequest(token, held.reservationId));
    expect(paid.status).toBe(201);
    expect(paid.body).toMatchObject({ reservationId: held.reservationId, amount: 60_000, status: 'PAID', balance: 40_000 });

    const seats = await seatStatuses(t.app, scheduleId);
    expect([seats.get(7), seats.get(8), seats.get(9)]).toEqual(['SOLD', 'SOLD', 'AVAILABLE']);
    const tokenNow = await act(t.app, { method: 'GET', url: '/v1/queue/tokens/current', headers: { 'queue-token': token } });
    expect(tokenNow.status).toBe(401);
    expect(tokenNow.body.code).toBe('TOKEN_INVALID');
    const reservations = await act(t.app, { method: 'GET', url: `/v1/users/${userId}/reservations` });
    expect(reservations.body.reservations).toEqual([
      expect.objectContaining({ reservationId: held.reservationId, status: 'CONFIRMED', seatNos: [7, 8] }),
    ]);
    const balance = await act(t.app, { method: 'GET', url: `/v1/users/${userId}/balance` });
    expect(balance.body).toEqual({ userId, balance: 40_000 });

    const { rows: ledger } = await t.services.db.query('SELECT delta FROM balance_ledger WHERE user_id = $1 ORDER BY id', [userId]);
    expect(ledger.map((r) => r.delta)).toEqual([100_000, -60_000]);
    const { rows: outbox } = await t.services.db.query('SELECT message_key, payload FROM outbox');
    expect(outbox).toHaveLength(1);
    expect(outbox[0].message_key).toBe(scheduleId);
    expect(outbox[0].payload).toMatchObject({
      type: 'ReservationConfirmed',
      reservationId: held.reservationId,
      paymentId: paid.body.paymentId,
      userId,
      scheduleId,
      seatNos: [7, 8],
      amount: 60_000,
    });
  });

  it('when a concert is read without a token, then its schedules show the available seats', async () => {
    const concert = await createConcert(t.app, { seatCount: 10, schedules: 2 });
    const { token } = await activeUser(t.app, concert.concertId);
    await hold(t.app, token, concert.schedules[0]!.scheduleId, [1, 2, 3]);
    const response = await act(t.app, { method: 'GET', url: `/v1/concerts/${concert.concertId}/schedules` });
    expect(response.status).toBe(200);
    expect(response.body.schedules.map((s: { availableSeats: number }) => s.availableSeats)).toEqual([7, 10]);
    const list = await act(t.app, { method: 'GET', url: '/v1/concerts' });
    expect(list.body.concerts).toContainEqual(expect.objectContaining({ concertId: concert.concertId, venue: 'Olympic Hall' }));
  });

  it('when a user who never charged asks for the balance, then it is 0', async () => {
    const userId = randomUUID();
    const response = await act(t.app, { method: 'GET', url: `/v1/users/${userId}/balance` });
    expect(response.body).toEqual({ userId, balance: 0 });
  });
});
