/**
 * Release of a hold by its owner, shared by both baselines (the lock engine wraps it in its
 * Redis lock on the reservation). One conditional statement: the reservation row is updated only
 * if it is this user's live hold, and its seats are freed in the same statement, so it is atomic
 * without BEGIN/COMMIT and costs one round trip. Reservation row first, then its seats: the same
 * order as payment and the sweeper.
 */
import type { Pool } from 'pg';
import { queryKnowingOutcome } from '../persistence/database';
import type { ReleaseResult } from '../engine/reservation-engine';
import { findReservationRow, liveHoldRejection, RESERVATION_COLUMNS, toReservation, type ReservationRow } from './reservation-rows';
import { prepared } from './prepared';

const RELEASE = prepared(
  'release-hold',
  `
WITH released AS (
  UPDATE reservations SET status = 'CANCELLED', updated_at = $3, cancel_idempotency_key = $4
  WHERE id = $1 AND user_id = $2 AND status = 'HELD' AND expires_at > $3
  RETURNING ${RESERVATION_COLUMNS}
), freed AS (
  UPDATE seats SET status = 'AVAILABLE', reservation_id = NULL
  FROM released
  WHERE seats.schedule_id = released.schedule_id AND seats.seat_no = ANY (released.seat_nos)
    AND seats.reservation_id = released.id
)
SELECT * FROM released`,
);

export async function releaseHold(
  db: Pool,
  reservationId: string,
  userId: string,
  now: number,
  idempotencyKey?: string,
): Promise<ReleaseResult> {
  // A lost answer is not "nothing applied": the release may have committed.
  const { rows } = await queryKnowingOutcome<ReservationRow>(db, RELEASE([reservationId, userId, new Date(now), idempotencyKey ?? null]));
  const released = rows[0];
  if (released) return { ok: true, reservation: toReservation(released) };
  // Nothing matched: read why. A hold never becomes live again and its owner and expiry never
  // change, so the reason read now is the reason the update missed.
  const rejection = liveHoldRejection(await findReservationRow(db, reservationId), userId, now);
  return { ok: false, rejection: rejection ?? { code: 'RESERVATION_NOT_HELD' } };
}
