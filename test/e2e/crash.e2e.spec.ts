/**
 * The durability claim end to end: the server is killed with SIGKILL under concurrent load,
 * restarted, and every hold and payment that got a 2xx is there; no seat is in two live
 * reservations; no balance changed without a payment.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/test-database';
import { startServer, type ServerProcess } from '../support/server-process';
import { ADMIN_KEY } from '../support/test-app';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are checked by the assertions
async function call(url: string, method: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: await response.json().catch(() => undefined) };
}

describe('crash safety', () => {
  let database: TestDatabase;
  let server: ServerProcess | undefined;
  let env: Record<string, string>;
  beforeAll(async () => {
    database = await createTestDatabase();
    env = {
      DATABASE_URL: database.url,
      REDIS_KEY_PREFIX: `test:${randomUUID()}:`,
      ADMIN_API_KEY: ADMIN_KEY,
      LOG_LEVEL: 'silent',
      QUEUE_MAX_ACTIVE: '10000',
    };
  });
  afterAll(async () => {
    await server?.kill('SIGKILL');
    await database?.drop();
  });

  it('when the server is killed with SIGKILL under load and restarted, then every acknowledged hold and payment survived', async () => {
    server = await startServer(env);
    const { url } = server;
    const concert = await call(`${url}/v1/admin/concerts`, 'POST', {
      title: 'Crash test',
      schedules: [0, 1].map((d) => ({ startsAt: new Date(Date.UTC(2099, 1, 1 + d)).toISOString(), seatCount: 300, price: 1_000 })),
    }, { 'x-admin-key': ADMIN_KEY });
    const scheduleIds: string[] = concert.body.schedules.map((s: { scheduleId: string }) => s.scheduleId);
    const users = await Promise.all(
      Array.from({ length: 60 }, async () => {
        const userId = randomUUID();
        const token = (await call(`${url}/v1/queue/tokens`, 'POST', { userId, concertId: concert.body.concertId })).body.token;
        await call(`${url}/v1/users/${userId}/balance/charges`, 'POST', { amount: 1_000_000 }, { 'idempotency-key': randomUUID() });
        return { userId, token: token as string };
      }),
    );

    const acknowledgedHolds: string[] = [];
    const acknowledgedPayments: string[] = [];
    let stop = false;
    const vu = async (user: { userId: string; token: string }, index: number) => {
      let round = 0;
      while (!stop) {
        const scheduleId = scheduleIds[(index + round) % 2]!;
        const seat = 1 + ((index * 7 + round * 13) % 300);
        round++;
        try {
          const held = await call(`${url}/v1/reservations`, 'POST', { scheduleId, seatNos: [seat] }, { 'queue-token': user.token });
          if (held.status !== 201) continue;
          acknowledgedHolds.push(held.body.reservationId);
          if (round % 2 === 0) continue; // keep half of the holds
          const paid = await call(`${url}/v1/payments`, 'POST', { reservationId: held.body.reservationId }, {
            'queue-token': user.token,
            'idempotency-key': randomUUID(),
          });
          if (paid.status === 201) {
            acknowledgedPayments.push(paid.body.paymentId);
            // The payment expired the token: take a new one to go on.
            user.token = (await call(`${url}/v1/queue/tokens`, 'POST', { userId: user.userId, concertId: concert.body.concertId })).body.token;
          }
        } catch {
          await new Promise((resolve) => setTimeout(resolve, 20)); // the server is gone
        }
      }
    };
    const load = users.map((user, index) => vu(user, index));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await server.kill('SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 200));
    stop = true;
    await Promise.all(load);
    expect(acknowledgedHolds.length).toBeGreaterThan(50);
    expect(acknowledgedPayments.length).toBeGreaterThan(5);

    server = await startServer(env);
    const db = new Pool({ connectionString: database.url, max: 2 });
    try {
      const { rows: reservations } = await db.query(`SELECT id, status FROM reservations WHERE id = ANY($1::uuid[])`, [acknowledgedHolds]);
      expect(reservations).toHaveLength(acknowledgedHolds.length);
      const { rows: payments } = await db.query(
        `SELECT p.id, r.status FROM payments p JOIN reservations r ON r.id = p.reservation_id WHERE p.id = ANY($1::uuid[])`,
        [acknowledgedPayments],
      );
      expect(payments).toHaveLength(acknowledgedPayments.length);
      expect(payments.every((p) => p.status === 'CONFIRMED')).toBe(true);

      const { rows: doubled } = await db.query(
        `SELECT schedule_id, seat, count(*) FROM reservations, unnest(seat_nos) AS seat
         WHERE status IN ('HELD', 'CONFIRMED') GROUP BY schedule_id, seat HAVING count(*) > 1`,
      );
      expect(doubled).toEqual([]);
      const { rows: money } = await db.query(
        `SELECT (SELECT count(*) FROM payments)::int AS payments,
                (SELECT count(*) FROM balance_ledger WHERE kind = 'PAYMENT')::int AS debits,
                (SELECT coalesce(sum(amount), 0) FROM charges)::bigint - (SELECT coalesce(sum(amount), 0) FROM payments)::bigint AS expected,
                (SELECT coalesce(sum(balance), 0) FROM balances)::bigint AS actual,
                (SELECT count(*) FROM balances WHERE balance < 0)::int AS negative`,
      );
      expect(money[0].payments).toBe(money[0].debits);
      expect(money[0].actual).toBe(money[0].expected);
      expect(money[0].negative).toBe(0);

      // The recovered actors agree with the database, seat by seat.
      for (const scheduleId of scheduleIds) {
        const map = await call(`${server.url}/v1/schedules/${scheduleId}/seats`, 'GET');
        const { rows } = await db.query(
          `SELECT seat, status FROM reservations, unnest(seat_nos) AS seat WHERE schedule_id = $1 AND status IN ('HELD', 'CONFIRMED')`,
          [scheduleId],
        );
        const expected = new Map(rows.map((r) => [r.seat, r.status === 'CONFIRMED' ? 'SOLD' : 'HELD']));
        for (const seat of map.body.seats) expect([seat.seatNo, seat.status]).toEqual([seat.seatNo, expected.get(seat.seatNo) ?? 'AVAILABLE']);
      }
    } finally {
      await db.end();
    }
  }, 120_000);
});
