/**
 * The reservation row of a new hold, written only if the user stays within the per-user limit.
 *
 * Race-freedom of the limit: the count and the insert must not interleave with another hold of
 * the same user on the same schedule (two holds each counting 3 of 4 would both insert). We take
 * a transaction-scoped advisory lock on hash(schedule, user) at BEGIN. It serializes exactly the
 * transactions that can break the rule — one user's holds on one schedule — and nothing else; it
 * needs no row to exist (locking the user's reservation rows could not stop a new row from
 * appearing, and SERIALIZABLE would abort unrelated holds). It is released by COMMIT/ROLLBACK,
 * after the commit is visible, and the count runs in a later statement (a new snapshot in READ
 * COMMITTED), so it sees every hold committed by the previous owner of the lock.
 */
import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import type { HoldIdempotency } from '../engine/reservation-engine';
import type { Reservation } from '../persistence/reservation-repository';
import { prepared } from './prepared';

/** BEGIN plus the advisory lock in one round trip (the key is our own integer, not user input). */
export function beginWithUserHoldLock(scheduleId: string, userId: string): string {
  const digest = createHash('sha256').update(`${scheduleId}/${userId}`).digest();
  // A collision of two (schedule, user) pairs only makes them wait for each other; never wrong.
  const key = digest.readBigInt64BE(0);
  return `BEGIN; SELECT pg_advisory_xact_lock(${key.toString()})`;
}

export interface NewHold {
  reservationId: string;
  userId: string;
  scheduleId: string;
  /** As requested (the reservation keeps the client's order). */
  seatNos: number[];
  amount: number;
  now: number;
  holdTtlMs: number;
  idempotency?: HoldIdempotency | undefined;
}

export interface HoldInsertResult {
  inserted: boolean;
  /** Seats the user held on the schedule before this hold. */
  held: number;
}

const WITHIN_LIMIT = `
held AS (
  SELECT coalesce(sum(cardinality(seat_nos)), 0)::int AS seats FROM reservations
  WHERE schedule_id = $3 AND user_id = $2 AND status = 'HELD' AND expires_at > $6
), inserted AS (
  INSERT INTO reservations (id, user_id, schedule_id, seat_nos, amount, status, expires_at, created_at, updated_at,
                            idempotency_key, request_hash)
  SELECT $1, $2, $3, $4::int[], $5, 'HELD', $7, $6, $6, $9, $10 FROM held
  WHERE held.seats + cardinality($4::int[]) <= $8
  RETURNING id
)`;

const RESULT = `SELECT held.seats AS held, EXISTS (SELECT 1 FROM inserted) AS inserted FROM held`;

const INSERT_ONLY = prepared('insert-hold', `WITH ${WITHIN_LIMIT} ${RESULT}`);

/** Same, and the seats (already locked and checked by the caller) become HELD if the row went in. */
const INSERT_AND_MARK_SEATS = prepared(
  'insert-hold-mark-seats',
  `WITH ${WITHIN_LIMIT}, marked AS (
  UPDATE seats SET status = 'HELD', reservation_id = $1
  WHERE schedule_id = $3 AND seat_no = ANY ($4::int[]) AND EXISTS (SELECT 1 FROM inserted)
) ${RESULT}`,
);

/**
 * Must run after `beginWithUserHoldLock` in the same transaction. `markSeats` folds the seat
 * update into the same statement for engines that checked the seats with SELECT … FOR UPDATE.
 */
export async function insertHoldWithinLimit(
  tx: PoolClient,
  hold: NewHold,
  maxSeatsPerUser: number,
  options: { markSeats: boolean },
): Promise<HoldInsertResult> {
  const { rows } = await tx.query<{ held: number; inserted: boolean }>(
    (options.markSeats ? INSERT_AND_MARK_SEATS : INSERT_ONLY)([
      hold.reservationId,
      hold.userId,
      hold.scheduleId,
      hold.seatNos,
      hold.amount,
      new Date(hold.now),
      new Date(hold.now + hold.holdTtlMs),
      maxSeatsPerUser,
      hold.idempotency?.key ?? null,
      hold.idempotency?.requestHash ?? null,
    ]),
  );
  const row = rows[0]!;
  return { inserted: row.inserted, held: row.held };
}

const HELD_SEATS = prepared(
  'held-seats',
  `SELECT coalesce(sum(cardinality(seat_nos)), 0)::int AS seats FROM reservations
   WHERE schedule_id = $1 AND user_id = $2 AND status = 'HELD' AND expires_at > $3`,
);

/**
 * Seats the user holds on the schedule now. A best-available hold checks the limit with it before
 * it chooses seats (the actor engine's order: a user at the limit hears 422, not "no seats"); the
 * insert above re-checks it under the advisory lock, which is what makes the limit race-free.
 */
export async function heldSeats(db: Pool | PoolClient, scheduleId: string, userId: string, now: number): Promise<number> {
  const { rows } = await db.query<{ seats: number }>(HELD_SEATS([scheduleId, userId, new Date(now)]));
  return rows[0]?.seats ?? 0;
}

/** What hold() answers once the row is committed. */
export function heldReservation(hold: NewHold): Reservation {
  return {
    reservationId: hold.reservationId,
    userId: hold.userId,
    scheduleId: hold.scheduleId,
    seatNos: hold.seatNos,
    status: 'HELD',
    amount: hold.amount,
    expiresAt: new Date(hold.now + hold.holdTtlMs).toISOString(),
  };
}
