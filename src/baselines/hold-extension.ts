/**
 * Extension of a hold by its owner, shared by both baselines (the lock engine wraps it in its
 * Redis lock on the reservation). One conditional statement, like a release: the row's expiry
 * moves to now + TTL, never past created_at + the maximum and never earlier, only if it is this
 * user's live hold below its maximum. Seats do not change, so the seat rows are not touched.
 */
import type { Pool } from 'pg';
import { queryKnowingOutcome } from '../persistence/database';
import type { ExtendResult } from '../engine/reservation-engine';
import { findReservationRow, liveHoldRejection, RESERVATION_COLUMNS, toReservation, type ReservationRow } from './reservation-rows';
import { prepared } from './prepared';

const MS = "interval '1 millisecond'";

const EXTEND = prepared(
  'extend-hold',
  `UPDATE reservations
   SET expires_at = greatest(expires_at, least($3 + $4 * ${MS}, created_at + $5 * ${MS})), updated_at = $3
   WHERE id = $1 AND user_id = $2 AND status = 'HELD' AND expires_at > $3 AND expires_at < created_at + $5 * ${MS}
   RETURNING ${RESERVATION_COLUMNS}`,
);

const CAP = prepared('hold-cap', `SELECT created_at + $2 * ${MS} AS cap FROM reservations WHERE id = $1`);

export async function extendHold(
  db: Pool,
  reservationId: string,
  userId: string,
  now: number,
  limits: { holdTtlMs: number; holdMaxMs: number },
): Promise<ExtendResult> {
  // A lost answer is not "nothing applied": the extension may have committed.
  const { rows } = await queryKnowingOutcome<ReservationRow>(
    db,
    EXTEND([reservationId, userId, new Date(now), limits.holdTtlMs, limits.holdMaxMs]),
  );
  const extended = rows[0];
  if (extended) return { ok: true, reservation: toReservation(extended) };
  // Nothing matched: read why. Owner and creation never change and a hold never becomes live
  // again, so what is read now is why the update missed (or it is at its maximum).
  const row = await findReservationRow(db, reservationId);
  const rejection = liveHoldRejection(row, userId, now);
  if (rejection || !row) return { ok: false, rejection: rejection ?? { code: 'RESERVATION_NOT_FOUND' } };
  const { rows: cap } = await db.query<{ cap: Date }>(CAP([reservationId, limits.holdMaxMs]));
  if (cap[0] && row.expires_at.getTime() >= cap[0].cap.getTime()) {
    return { ok: false, rejection: { code: 'HOLD_EXTENSION_LIMIT', expiresAt: row.expires_at.getTime() } };
  }
  return { ok: false, rejection: { code: 'RESERVATION_NOT_HELD' } };
}
