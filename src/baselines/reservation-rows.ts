/** The reservations table as the baselines read and lock it, and who may act on a row. */
import type { Pool, PoolClient } from 'pg';
import type { EngineRejection } from '../engine/reservation-engine';
import {
  RESERVATION_COLUMNS,
  type Reservation,
  type ReservationRow,
  type ReservationStatus,
} from '../persistence/reservation-repository';
import { prepared } from './prepared';

export { RESERVATION_COLUMNS, type ReservationRow } from '../persistence/reservation-repository';

const FIND_ROW = prepared('find-reservation', `SELECT ${RESERVATION_COLUMNS} FROM reservations WHERE id = $1`);
const LOCK_ROW = prepared('lock-reservation', `SELECT ${RESERVATION_COLUMNS} FROM reservations WHERE id = $1 FOR UPDATE`);

export async function findReservationRow(db: Pool | PoolClient, reservationId: string): Promise<ReservationRow | undefined> {
  const { rows } = await db.query<ReservationRow>(FIND_ROW([reservationId]));
  return rows[0];
}

/** Row lock until the end of the transaction: no payment, release or sweep can interleave. */
export async function lockReservationRow(tx: PoolClient, reservationId: string): Promise<ReservationRow | undefined> {
  const { rows } = await tx.query<ReservationRow>(LOCK_ROW([reservationId]));
  return rows[0];
}

/**
 * Why `userId` may not release or pay for this reservation at `now`, or undefined when it may.
 * Ownership is checked first so a stranger learns nothing about someone else's reservation. A
 * hold past its expiry is expired even if the sweeper has not reached it yet.
 */
export function liveHoldRejection(
  row: ReservationRow | undefined,
  userId: string,
  now: number,
): EngineRejection | undefined {
  if (!row) return { code: 'RESERVATION_NOT_FOUND' };
  if (row.user_id !== userId) return { code: 'NOT_OWNER' };
  if (row.status === 'EXPIRED') return { code: 'RESERVATION_EXPIRED' };
  if (row.status !== 'HELD') return { code: 'RESERVATION_NOT_HELD' };
  if (row.expires_at.getTime() <= now) return { code: 'RESERVATION_EXPIRED' };
  return undefined;
}

export function toReservation(row: ReservationRow, status: ReservationStatus = row.status): Reservation {
  return {
    reservationId: row.id,
    userId: row.user_id,
    scheduleId: row.schedule_id,
    seatNos: row.seat_nos,
    status,
    amount: row.amount,
    expiresAt: row.expires_at.toISOString(),
  };
}
