import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { ADMIN_KEY, ENGINES, startTestApp, type TestApp } from '../support/test-app';
import { act, activeUser, charge, hold, payRequest, type Request } from '../support/api-client';

interface Seat {
  seatNo: number;
  row: number;
  grade: string;
  status: string;
}

async function concertWithRows(app: FastifyInstance, schedule: Record<string, unknown>) {
  const created = await act(app, {
    method: 'POST',
    url: '/v1/admin/concerts',
    headers: { 'x-admin-key': ADMIN_KEY },
    body: { title: `Rows ${randomUUID().slice(0, 8)}`, schedules: [{ startsAt: '2027-03-01T19:00:00Z', price: 10_000, ...schedule }] },
  });
  if (created.status !== 201) throw new Error(`concert: ${created.status} ${JSON.stringify(created.body)}`);
  return { concertId: created.body.concertId as string, scheduleId: created.body.schedules[0].scheduleId as string };
}

const bestRequest = (token: string, scheduleId: string, best: Record<string, unknown>, headers: Record<string, string> = {}): Request => ({
  method: 'POST',
  url: '/v1/reservations',
  headers: { 'queue-token': token, ...headers },
  body: { scheduleId, best },
});

async function seatMap(app: FastifyInstance, scheduleId: string): Promise<Seat[]> {
  return (await act(app, { method: 'GET', url: `/v1/schedules/${scheduleId}/seats` })).body.seats;
}

/** Free seats alone between taken seats or a row's edge. */
function strandedSingles(seats: Seat[]): number[] {
  const free = (i: number, row: number) => seats[i]?.row === row && seats[i]?.status === 'AVAILABLE';
  return seats.filter((s, i) => s.status === 'AVAILABLE' && !free(i - 1, s.row) && !free(i + 1, s.row)).map((s) => s.seatNo);
}

describe.each(ENGINES)('best-available seats (%s engine)', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RESERVATION_ENGINE: engine, QUEUE_MAX_ACTIVE: '100000' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('when 200 buyers race for 2 adjacent seats on 50 seats in rows of 10, then 25 win, no seat twice, every sale is adjacent and no single seat is stranded', async () => {
    const { concertId, scheduleId } = await concertWithRows(t.app, { seatCount: 50, rowLength: 10 });
    const buyers = await Promise.all(Array.from({ length: 200 }, () => activeUser(t.app, concertId)));

    const answers = await Promise.all(buyers.map((b) => act(t.app, bestRequest(b.token, scheduleId, { quantity: 2 }))));

    const won = answers.filter((a) => a.status === 201);
    const lost = answers.filter((a) => a.status !== 201);
    expect(won).toHaveLength(25);
    expect(lost.every((a) => a.status === 409 && a.body.code === 'SEAT_UNAVAILABLE')).toBe(true);
    const seatsTaken = won.flatMap((a) => a.body.seatNos as number[]);
    expect(new Set(seatsTaken).size).toBe(50);
    // Pay for every hold: each sale is two consecutive seats of one row.
    await Promise.all(
      won.map(async (a) => {
        const buyer = buyers.find((b) => b.userId === a.body.userId)!;
        await charge(t.app, buyer.userId, a.body.amount);
        expect((await act(t.app, payRequest(buyer.token, a.body.reservationId))).status).toBe(201);
      }),
    );
    const seats = await seatMap(t.app, scheduleId);
    const rowOf = new Map(seats.map((s) => [s.seatNo, s.row]));
    for (const a of won) {
      const [first, second] = a.body.seatNos as number[];
      expect(second).toBe(first! + 1);
      expect(rowOf.get(first!)).toBe(rowOf.get(second!));
    }
    expect(seats.every((s) => s.status === 'SOLD')).toBe(true);
    expect(strandedSingles(seats)).toEqual([]);
    const { rows } = await t.services.db.query(
      `SELECT seat_no, count(*)::int AS n FROM reservations, unnest(seat_nos) AS seat_no
       WHERE schedule_id = $1 AND status IN ('HELD', 'CONFIRMED') GROUP BY seat_no HAVING count(*) > 1`,
      [scheduleId],
    );
    expect(rows).toEqual([]);
  });

  it('when a row has seats 1 and 5 taken, then 2 seats are 6–7 (2–3 would strand 4); 3 seats are 2–4; 6 seats come from the next row', async () => {
    const { concertId, scheduleId } = await concertWithRows(t.app, { seatCount: 20, rowLength: 10 });
    const other = await activeUser(t.app, concertId);
    await hold(t.app, other.token, scheduleId, [1, 5]);
    const buyer = await activeUser(t.app, concertId);

    const two = await act(t.app, bestRequest(buyer.token, scheduleId, { quantity: 2 }));
    expect(two.status).toBe(201);
    expect(two.body.seatNos).toEqual([6, 7]);

    const three = await activeUser(t.app, concertId);
    expect((await act(t.app, bestRequest(three.token, scheduleId, { quantity: 3 }))).body.seatNos).toEqual([2, 3, 4]);
    const four = await activeUser(t.app, concertId);
    expect((await act(t.app, bestRequest(four.token, scheduleId, { quantity: 4 }))).body.seatNos).toEqual([11, 12, 13, 14]);
  });

  it('when rows, sections and grades are given, then the seat map shows each row and best respects the grade and adjacency', async () => {
    // Rows: 1–4 | 5–8 (VIP, rows of 2: 5–6, 7–8) | 9–12 …
    const { concertId, scheduleId } = await concertWithRows(t.app, {
      seatCount: 12,
      rowLength: 4,
      sections: [{ grade: 'VIP', fromSeat: 5, toSeat: 8, price: 50_000, rowLength: 2 }],
    });
    const seats = await seatMap(t.app, scheduleId);
    expect(seats.map((s) => s.row)).toEqual([1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 4, 4]);
    const buyer = await activeUser(t.app, concertId);

    const vip = await act(t.app, bestRequest(buyer.token, scheduleId, { quantity: 2, grade: 'VIP' }));
    expect(vip.status).toBe(201);
    expect(vip.body).toMatchObject({ seatNos: [5, 6], amount: 100_000, status: 'HELD' });
    // No 3 adjacent VIP seats in one row (rows of 2): refused, nothing held.
    const second = await activeUser(t.app, concertId);
    const none = await act(t.app, bestRequest(second.token, scheduleId, { quantity: 3, grade: 'VIP' }));
    expect(none.status).toBe(409);
    expect(none.body.code).toBe('SEAT_UNAVAILABLE');
    // Not adjacent: the lowest-numbered free seats of the grade.
    const apart = await act(t.app, bestRequest(second.token, scheduleId, { quantity: 2, grade: 'VIP', adjacent: false }));
    expect(apart.body.seatNos).toEqual([7, 8]);
    const unknown = await act(t.app, bestRequest(second.token, scheduleId, { quantity: 1, grade: 'BALCONY' }));
    expect(unknown.status).toBe(409);
  });

  it('when both or neither of seatNos and best are given, or quantity is over the limit, then 400 / 422 and nothing is held', async () => {
    const { concertId, scheduleId } = await concertWithRows(t.app, { seatCount: 10 });
    const buyer = await activeUser(t.app, concertId);
    const both = await act(t.app, { ...bestRequest(buyer.token, scheduleId, { quantity: 1 }), body: { scheduleId, seatNos: [1], best: { quantity: 1 } } });
    const neither = await act(t.app, { ...bestRequest(buyer.token, scheduleId, {}), body: { scheduleId } });
    const zero = await act(t.app, bestRequest(buyer.token, scheduleId, { quantity: 0 }));
    const extra = await act(t.app, bestRequest(buyer.token, scheduleId, { quantity: 1, near: 'stage' }));
    const tooMany = await act(t.app, bestRequest(buyer.token, scheduleId, { quantity: 5 }));
    expect([both, neither, zero, extra].map((a) => [a.status, a.body.code])).toEqual(Array(4).fill([400, 'VALIDATION_FAILED']));
    expect([tooMany.status, tooMany.body.code]).toEqual([422, 'LIMIT_EXCEEDED']);
    expect((await seatMap(t.app, scheduleId)).every((s) => s.status === 'AVAILABLE')).toBe(true);
  });

  it('when a best hold is replayed with its Idempotency-Key, then the same seats come back once; another body with the key is 409', async () => {
    const { concertId, scheduleId } = await concertWithRows(t.app, { seatCount: 10 });
    const buyer = await activeUser(t.app, concertId);
    const key = { 'idempotency-key': randomUUID() };

    const first = await act(t.app, bestRequest(buyer.token, scheduleId, { quantity: 2 }, key));
    const replay = await act(t.app, bestRequest(buyer.token, scheduleId, { quantity: 2 }, key));
    const other = await act(t.app, bestRequest(buyer.token, scheduleId, { quantity: 1 }, key));

    expect(first.status).toBe(201);
    expect(replay.status).toBe(201);
    expect(replay.body).toEqual(first.body);
    expect([other.status, other.body.code]).toEqual([409, 'IDEMPOTENCY_KEY_REUSED']);
    const held = (await seatMap(t.app, scheduleId)).filter((s) => s.status === 'HELD').map((s) => s.seatNo);
    expect(held).toEqual(first.body.seatNos);
  });
});
