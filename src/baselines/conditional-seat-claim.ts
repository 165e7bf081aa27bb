/**
 * The sql engine's mechanism: claim seats with ONE conditional UPDATE (… WHERE status =
 * 'AVAILABLE'). PostgreSQL's row locks make concurrent claims of a seat queue up on the row and
 * re-check the condition after the winner commits, so exactly one of them matches; no lock
 * service, no read-then-write window. Fewer rows updated than requested means some seat was
 * taken (the caller has ruled out seats that do not exist): the caller rolls back.
 */
import type { PoolClient } from 'pg';
import { prepared } from './prepared';

const CLAIM = prepared(
  'claim-seats',
  `UPDATE seats SET status = 'HELD', reservation_id = $2
   WHERE schedule_id = $1 AND seat_no = ANY ($3::int[]) AND status = 'AVAILABLE'
   RETURNING seat_no, price`,
);

export interface SeatClaim {
  /** Sum of the claimed seats' prices. */
  amount: number;
  /** Requested seats that were not AVAILABLE (nothing claimed is kept if any). */
  taken: number[];
}

/** `seatNos` distinct and ascending: the primary-key scan then locks rows in that order. */
export async function claimAvailableSeats(
  tx: PoolClient,
  scheduleId: string,
  reservationId: string,
  seatNos: number[],
): Promise<SeatClaim> {
  const { rows } = await tx.query<{ seat_no: number; price: number }>(CLAIM([scheduleId, reservationId, seatNos]));
  const claimed = new Set<number>();
  let amount = 0;
  for (const row of rows) {
    claimed.add(row.seat_no);
    amount += row.price;
  }
  return { amount, taken: seatNos.filter((seatNo) => !claimed.has(seatNo)) };
}
