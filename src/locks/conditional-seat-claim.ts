/**
 * The sql engine's mechanism: claim seats with ONE conditional UPDATE (… WHERE status =
 * 'AVAILABLE'). PostgreSQL's row locks make concurrent claims of a seat queue up on the row and
 * re-check the condition after the winner commits, so exactly one of them matches; no lock
 * service, no read-then-write window. The same statement reports, for each seat it could not
 * claim, whether the seat exists at all (out of range) or is taken, saving a round trip on the
 * refusal path, which is the common path under contention.
 */
import type { PoolClient } from 'pg';
import { prepared } from './prepared';

const CLAIM = prepared(
  'claim-seats',
  `
WITH claimed AS (
  UPDATE seats SET status = 'HELD', reservation_id = $2
  WHERE schedule_id = $1 AND seat_no = ANY ($3::int[]) AND status = 'AVAILABLE'
  RETURNING seat_no, price
)
SELECT w.seat_no, c.price,
       CASE WHEN c.seat_no IS NULL
            THEN EXISTS (SELECT 1 FROM seats s WHERE s.schedule_id = $1 AND s.seat_no = w.seat_no)
       END AS seat_exists
FROM unnest($3::int[]) AS w(seat_no) LEFT JOIN claimed c ON c.seat_no = w.seat_no`,
);

export interface SeatClaim {
  /** Sum of the claimed seats' prices. */
  amount: number;
  /** Requested seats that do not exist on the schedule. */
  missing: number[];
  /** Requested seats that exist but were not AVAILABLE. */
  taken: number[];
}

/** `seatNos` distinct and ascending: the index scan then locks rows in that order. */
export async function claimAvailableSeats(
  tx: PoolClient,
  scheduleId: string,
  reservationId: string,
  seatNos: number[],
): Promise<SeatClaim> {
  const { rows } = await tx.query<{ seat_no: number; price: number | null; seat_exists: boolean | null }>(
    CLAIM([scheduleId, reservationId, seatNos]),
  );
  const claim: SeatClaim = { amount: 0, missing: [], taken: [] };
  for (const row of rows) {
    if (row.price !== null) claim.amount += row.price;
    else if (row.seat_exists) claim.taken.push(row.seat_no);
    else claim.missing.push(row.seat_no);
  }
  return claim;
}
