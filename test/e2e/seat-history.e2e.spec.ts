import { ADMIN_KEY, ENGINES, startTestApp, type TestApp } from '../support/test-app';
import { act, activeUser, charge, createConcert, hold, payRequest } from '../support/api-client';

describe.each(ENGINES)('seat history (%s engine)', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RESERVATION_ENGINE: engine });
  });
  afterAll(async () => {
    await t?.close();
  });

  const historyOf = (scheduleId: string, seatNo: number | string, key: string | null = ADMIN_KEY) =>
    act(t.app, {
      method: 'GET',
      url: `/v1/admin/schedules/${scheduleId}/seats/${seatNo}/history`,
      headers: key === null ? {} : { 'x-admin-key': key },
    });

  it('when a seat is held, cancelled, held by someone else, extended and paid for, then its history tells exactly that, oldest first', async () => {
    const concert = await createConcert(t.app, { price: 10_000 });
    const scheduleId = concert.schedules[0]!.scheduleId;
    const first = await activeUser(t.app, concert.concertId);
    const second = await activeUser(t.app, concert.concertId);
    const neighbour = await activeUser(t.app, concert.concertId);

    const cancelled = await hold(t.app, first.token, scheduleId, [7, 8]);
    expect((await act(t.app, { method: 'DELETE', url: `/v1/reservations/${cancelled.reservationId}`, headers: { 'queue-token': first.token } })).status).toBe(200);
    await hold(t.app, neighbour.token, scheduleId, [9]); // another seat: not in seat 7's history
    const bought = await hold(t.app, second.token, scheduleId, [7]);
    const extended = await act(t.app, { method: 'POST', url: `/v1/reservations/${bought.reservationId}/extension`, headers: { 'queue-token': second.token } });
    expect(extended.status).toBe(200);
    await charge(t.app, second.userId, 10_000);
    expect((await act(t.app, payRequest(second.token, bought.reservationId))).status).toBe(201);

    const history = await historyOf(scheduleId, 7);

    expect(history.status).toBe(200);
    expect(history.body).toMatchObject({ scheduleId, seatNo: 7 });
    const told = history.body.events.map((e: { type: string; reservationId: string; userId: string }) => [e.type, e.reservationId, e.userId]);
    const a = [cancelled.reservationId, first.userId];
    const b = [bought.reservationId, second.userId];
    if (engine === 'actor') {
      // From the journal: every decision, with its sequence number (seat 9's hold is seq 3).
      expect(history.body.source).toBe('journal');
      expect(told).toEqual([['HELD', ...a], ['CANCELLED', ...a], ['HELD', ...b], ['EXTENDED', ...b], ['SOLD', ...b]]);
      expect(history.body.events.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 4, 5, 6]);
    } else {
      // Derived from reservation rows: they keep no record of extensions.
      expect(history.body.source).toBe('reservations');
      expect(told).toEqual([['HELD', ...a], ['CANCELLED', ...a], ['HELD', ...b], ['SOLD', ...b]]);
      expect(history.body.events.map((e: { seq: number }) => e.seq)).toEqual([1, 2, 3, 4]);
    }
    const times = history.body.events.map((e: { at: string }) => Date.parse(e.at));
    expect([...times].sort((x, y) => x - y)).toEqual(times);
    expect((await historyOf(scheduleId, 1)).body.events).toEqual([]);
  });

  it('when the schedule or seat does not exist, the seat number is not one, or the admin key is wrong, then 404 / 400 / 403', async () => {
    const concert = await createConcert(t.app, { seatCount: 10 });
    const scheduleId = concert.schedules[0]!.scheduleId;

    const noSchedule = await historyOf('00000000-0000-4000-8000-000000000000', 1);
    const noSeat = await historyOf(scheduleId, 11);
    const zero = await historyOf(scheduleId, 0);
    const word = await historyOf(scheduleId, 'seven');
    const noKey = await historyOf(scheduleId, 1, null);
    const wrongKey = await historyOf(scheduleId, 1, 'wrong-admin-key');

    expect([noSchedule.status, noSchedule.body.code]).toEqual([404, 'SCHEDULE_NOT_FOUND']);
    expect([noSeat.status, noSeat.body.code]).toEqual([404, 'SEAT_NOT_FOUND']);
    expect([zero.status, zero.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect([word.status, word.body.code]).toEqual([400, 'VALIDATION_FAILED']);
    expect([noKey.status, noKey.body.code]).toEqual([403, 'ADMIN_KEY_INVALID']);
    expect([wrongKey.status, wrongKey.body.code]).toEqual([403, 'ADMIN_KEY_INVALID']);
  });
});
