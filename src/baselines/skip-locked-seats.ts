/**
 * The sql engine's claim of best-available seats: lock the chosen seats that are still AVAILABLE,
 * skipping rows another transaction has locked (it is taking them, or giving them back; either way
 * they are not ours to wait for). Fewer rows than asked means the choice must be made again
 * without the missing seats (best-seat-search.ts). Rows come locked in ascending seat order.
 */
import type { PoolClient } from 'pg';
import { prepared } from './prepared';

const LOCK_FREE_SKIPPING_LOCKED = prepared(
  'lock-free-seats-skip-locked',
  `SELECT seat_no, price FROM seats
   WHERE schedule_id = $1 AND seat_no = ANY ($2::int[]) AND status = 'AVAILABLE'
   ORDER BY seat_no FOR UPDATE SKIP LOCKED`,
);

export interface LockedSeats {
  seatNos: Set<number>;
  amount: number;
}

export async function lockFreeSeatsSkippingLocked(tx: PoolClient, scheduleId: string, seatNos: number[]): Promise<LockedSeats> {
  const { rows } = await tx.query<{ seat_no: number; price: number }>(LOCK_FREE_SKIPPING_LOCKED([scheduleId, seatNos]));
  return { seatNos: new Set(rows.map((row) => row.seat_no)), amount: rows.reduce((sum, row) => sum + row.price, 0) };
}
