/**
 * The lock engine's database step of a hold, as the report's system did it: read the seat rows
 * with SELECT … FOR UPDATE (in ascending seat order: ORDER BY under the row locking) and check
 * them in the application before writing.
 */
import type { PoolClient } from 'pg';
import { prepared } from './prepared';

export interface SeatCheck {
  amount: number;
  /** Defensive only: the engine has ruled out seats beyond the schedule's seat count already. */
  missing: number[];
  taken: number[];
}

const LOCK_SEATS = prepared(
  'lock-seats',
  `SELECT seat_no, status, price FROM seats
   WHERE schedule_id = $1 AND seat_no = ANY ($2::int[])
   ORDER BY seat_no FOR UPDATE`,
);

/** `seatNos` distinct and ascending. */
export async function lockAndCheckSeats(tx: PoolClient, scheduleId: string, seatNos: number[]): Promise<SeatCheck> {
  const { rows } = await tx.query<{ seat_no: number; status: string; price: number }>(
    LOCK_SEATS([scheduleId, seatNos]),
  );
  const found = new Map(rows.map((row) => [row.seat_no, row]));
  const check: SeatCheck = { amount: 0, missing: [], taken: [] };
  for (const seatNo of seatNos) {
    const row = found.get(seatNo);
    if (!row) check.missing.push(seatNo);
    else if (row.status !== 'AVAILABLE') check.taken.push(seatNo);
    else check.amount += row.price;
  }
  return check;
}
