/** The confirmation record of the transactional outbox (api.md, "Kafka"). */
import { randomUUID } from 'node:crypto';

export interface ReservationConfirmed {
  eventId: string;
  type: 'ReservationConfirmed';
  reservationId: string;
  paymentId: string;
  userId: string;
  scheduleId: string;
  seatNos: number[];
  amount: number;
  confirmedAt: string;
}

/** The record a payment writes to the outbox; `eventId` is stable so consumers can deduplicate. */
export function confirmationRecord(
  payment: Omit<ReservationConfirmed, 'eventId' | 'type' | 'confirmedAt'> & { confirmedAt: Date },
): ReservationConfirmed {
  const { reservationId, paymentId, userId, scheduleId, seatNos, amount, confirmedAt } = payment;
  return {
    eventId: randomUUID(),
    type: 'ReservationConfirmed',
    reservationId,
    paymentId,
    userId,
    scheduleId,
    seatNos,
    amount,
    confirmedAt: confirmedAt.toISOString(),
  };
}

/** How the relay reads and marks outbox rows, and how operators see its lag. */
export const OUTBOX_SQL = {
  /**
   * Claims and marks the oldest unpublished rows in one statement, inside the relay's transaction:
   * the new versions commit only once the broker has acknowledged them (a failed publish rolls
   * them back), and until then the row locks make another relay skip them. One statement and one
   * row version per record instead of a SELECT … FOR UPDATE (which writes a lock per row) plus an
   * UPDATE. RETURNING does not keep the subquery's order: the relay sorts by id.
   */
  claimAndMark: `UPDATE outbox SET published_at = now()
                 WHERE id IN (SELECT id FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
                 RETURNING id, topic, message_key AS key, headers, payload::text AS value`,
  /** Oldest first along the primary key, a bounded chunk per call. */
  prune: `DELETE FROM outbox WHERE id IN (
            SELECT id FROM outbox WHERE published_at < now() - $1 * interval '1 hour' ORDER BY id LIMIT $2)`,
  lag: `SELECT count(*)::int AS pending, coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest
        FROM outbox WHERE published_at IS NULL`,
} as const;
