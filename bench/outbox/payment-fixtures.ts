/**
 * What a payment needs to exist before it can be paid, written straight with SQL (the schema of
 * src/persistence/migrations): one concert with `schedules` schedules, one user per payment with a
 * balance that covers it, and one HELD reservation per payment (one seat, expiring in an hour).
 * One user per payment, so no two payments update the same balance row (as in a real on-sale).
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';

const PRICE = 99_000;

export interface PaymentFixture {
  reservationId: string;
  userId: string;
  scheduleId: string;
  seatNos: number[];
  amount: number;
}

export async function createPaymentFixtures(pool: Pool, payments: number, schedules: number): Promise<PaymentFixture[]> {
  const concertId = randomUUID();
  const scheduleIds = Array.from({ length: schedules }, () => randomUUID());
  const seatCount = Math.max(1, Math.ceil(payments / schedules));
  const fixtures: PaymentFixture[] = Array.from({ length: payments }, (_, i) => ({
    reservationId: randomUUID(),
    userId: randomUUID(),
    scheduleId: scheduleIds[i % schedules]!,
    seatNos: [1 + Math.floor(i / schedules)],
    amount: PRICE,
  }));
  await pool.query(`INSERT INTO concerts (id, title, venue) VALUES ($1, 'bench outbox', 'bench')`, [concertId]);
  await pool.query(
    `INSERT INTO schedules (id, concert_id, starts_at, seat_count, price)
     SELECT id, $1, now() + interval '30 days' + n * interval '1 day', $3, $4 FROM unnest($2::uuid[]) WITH ORDINALITY AS t(id, n)`,
    [concertId, scheduleIds, seatCount, PRICE],
  );
  const CHUNK = 10_000;
  for (let start = 0; start < payments; start += CHUNK) {
    const part = fixtures.slice(start, start + CHUNK);
    await pool.query(`INSERT INTO balances (user_id, balance) SELECT unnest($1::uuid[]), $2`, [part.map((f) => f.userId), PRICE * 2]);
    await pool.query(
      `INSERT INTO reservations (id, user_id, schedule_id, seat_nos, amount, status, expires_at, created_at, updated_at)
       SELECT r, u, s, ARRAY[seat], $5, 'HELD', now() + interval '1 hour', now(), now()
       FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::int[]) AS t(r, u, s, seat)`,
      [part.map((f) => f.reservationId), part.map((f) => f.userId), part.map((f) => f.scheduleId), part.map((f) => f.seatNos[0]), PRICE],
    );
  }
  return fixtures;
}
