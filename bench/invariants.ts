/**
 * What must hold after every run, whatever the engine, read from the engine's database with pg
 * (and, for the engine's own view, from its seat maps):
 *  - oversold: seats in more than one live (HELD, not past expiry) or CONFIRMED reservation — 0;
 *  - money: sum(charges) − sum(payments) = sum(balances), no negative balance, every balance equal
 *    to its ledger, every payment equal to its reservation's amount, every CONFIRMED reservation paid;
 *  - the lock and sql engines' seat rows agree with the reservations;
 *  - every schedule's seat map (the engine's view) shows exactly the database's SOLD and HELD seats.
 */
import type { Client } from 'pg';
import { reservationEngine, type EngineName } from './server-process';
import type { SetupApi } from './setup-api';
import type { InvariantResult } from './scenarios/types';

export interface InvariantReport {
  oversold: number;
  results: InvariantResult[];
}

const OVERSOLD = `
  WITH live AS (
    SELECT r.schedule_id, unnest(r.seat_nos) AS seat_no
      FROM reservations r
     WHERE r.status = 'CONFIRMED' OR (r.status = 'HELD' AND r.expires_at > now())
  )
  SELECT count(*)::int AS seats, coalesce(sum(claims), 0)::int AS claims
    FROM (SELECT schedule_id, seat_no, count(*) AS claims FROM live GROUP BY 1, 2 HAVING count(*) > 1) twice`;

const SOLD_TWICE = `
  SELECT count(*)::int AS seats
    FROM (SELECT r.schedule_id, n FROM reservations r, unnest(r.seat_nos) n
           WHERE r.status = 'CONFIRMED' GROUP BY 1, 2 HAVING count(*) > 1) twice`;

const MONEY = `
  SELECT (SELECT coalesce(sum(amount), 0) FROM charges)::bigint AS charged,
         (SELECT coalesce(sum(amount), 0) FROM payments)::bigint AS paid,
         (SELECT coalesce(sum(balance), 0) FROM balances)::bigint AS balances,
         (SELECT count(*) FROM balances WHERE balance < 0)::int AS negative,
         (SELECT count(*) FROM balances b
            LEFT JOIN (SELECT user_id, sum(delta) AS total FROM balance_ledger GROUP BY 1) l USING (user_id)
           WHERE coalesce(l.total, 0) <> b.balance)::int AS ledger_mismatch,
         (SELECT count(*) FROM payments p JOIN reservations r ON r.id = p.reservation_id
           WHERE p.amount <> r.amount OR r.status <> 'CONFIRMED' OR p.user_id <> r.user_id)::int AS payment_mismatch,
         (SELECT count(*) FROM reservations r
           WHERE r.status = 'CONFIRMED' AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.reservation_id = r.id))::int AS unpaid_confirmed,
         (SELECT count(*) FROM payments)::int AS payments`;

/** Seat rows (lock and sql engines) that say HELD/SOLD for a reservation that does not claim them, and the reverse. */
const SEAT_ROWS = `
  SELECT (SELECT count(*) FROM seats s
           WHERE s.status <> 'AVAILABLE' AND NOT EXISTS (
             SELECT 1 FROM reservations r
              WHERE r.id = s.reservation_id AND s.seat_no = ANY (r.seat_nos)
                AND r.status = CASE s.status WHEN 'SOLD' THEN 'CONFIRMED' ELSE 'HELD' END))::int AS stray,
         (SELECT count(*) FROM reservations r, unnest(r.seat_nos) n
           WHERE r.status = 'CONFIRMED' AND NOT EXISTS (
             SELECT 1 FROM seats s WHERE s.schedule_id = r.schedule_id AND s.seat_no = n
                AND s.status = 'SOLD' AND s.reservation_id = r.id))::int AS missing`;

const CLAIMED_SEATS = `
  SELECT r.schedule_id::text AS schedule_id, n AS seat_no, r.status
    FROM reservations r, unnest(r.seat_nos) n
   WHERE r.status = 'CONFIRMED' OR (r.status = 'HELD' AND r.expires_at > now())`;

function money(value: unknown): number {
  return Number(value);
}

export async function checkInvariants(db: Client, api: SetupApi, engine: EngineName): Promise<InvariantReport> {
  const results: InvariantResult[] = [];

  const oversold = (await db.query<{ seats: number; claims: number }>(OVERSOLD)).rows[0]!;
  results.push({
    name: 'no seat in two live or sold reservations (oversold = 0)',
    ok: oversold.seats === 0,
    detail: oversold.seats === 0 ? 'none' : `${oversold.seats} seats claimed ${oversold.claims} times`,
  });
  const soldTwice = (await db.query<{ seats: number }>(SOLD_TWICE)).rows[0]!;
  results.push({ name: 'no seat sold twice', ok: soldTwice.seats === 0, detail: `${soldTwice.seats} seats in two CONFIRMED reservations` });

  const m = (await db.query(MONEY)).rows[0] as Record<string, unknown>;
  const [charged, paid, balances] = [money(m['charged']), money(m['paid']), money(m['balances'])];
  results.push({
    name: 'money conserved: charges − payments = balances',
    ok: charged - paid === balances,
    detail: `${charged} − ${paid} = ${charged - paid}; balances sum to ${balances} (${m['payments']} payments)`,
  });
  results.push({ name: 'no negative balance', ok: m['negative'] === 0, detail: `${m['negative']} negative` });
  results.push({ name: 'every balance equals its ledger', ok: m['ledger_mismatch'] === 0, detail: `${m['ledger_mismatch']} mismatches` });
  results.push({
    name: 'payments match their reservations; every CONFIRMED one is paid',
    ok: m['payment_mismatch'] === 0 && m['unpaid_confirmed'] === 0,
    detail: `${m['payment_mismatch']} mismatched payments, ${m['unpaid_confirmed']} unpaid CONFIRMED`,
  });

  if (reservationEngine(engine) !== 'actor') {
    const seats = (await db.query<{ stray: number; missing: number }>(SEAT_ROWS)).rows[0]!;
    results.push({
      name: 'seat rows agree with reservations',
      ok: seats.stray === 0 && seats.missing === 0,
      detail: `${seats.stray} seat rows HELD/SOLD without their reservation, ${seats.missing} sold seats not SOLD`,
    });
  }

  results.push(await engineViewAgrees(db, api));
  return { oversold: oversold.seats, results };
}

/** Every schedule's seat map shows exactly the SOLD and HELD seats the database has. */
async function engineViewAgrees(db: Client, api: SetupApi): Promise<InvariantResult> {
  const expected = new Map<string, Map<number, string>>();
  for (const row of (await db.query<{ schedule_id: string; seat_no: number; status: string }>(CLAIMED_SEATS)).rows) {
    let seats = expected.get(row.schedule_id);
    if (!seats) expected.set(row.schedule_id, (seats = new Map()));
    seats.set(row.seat_no, row.status === 'CONFIRMED' ? 'SOLD' : 'HELD');
  }
  const schedules = (await db.query<{ id: string }>('SELECT id::text AS id FROM schedules')).rows;
  let differences = 0;
  const examples: string[] = [];
  for (const { id } of schedules) {
    const want = expected.get(id) ?? new Map<number, string>();
    const map = await api.seatMap(id);
    for (const seat of map.seats) {
      const should = want.get(seat.seatNo) ?? 'AVAILABLE';
      if (seat.status !== should) {
        differences++;
        if (examples.length < 3) examples.push(`schedule ${id} seat ${seat.seatNo}: map ${seat.status}, database ${should}`);
      }
    }
  }
  return {
    name: "the engine's seat maps agree with the database",
    ok: differences === 0,
    detail: differences === 0 ? `${schedules.length} schedules` : `${differences} seats differ, e.g. ${examples.join('; ')}`,
  };
}
