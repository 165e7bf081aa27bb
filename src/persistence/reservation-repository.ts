/** Reads of reservations (the projection every engine keeps in step with its decisions). */
import type { Pool } from 'pg';

export type ReservationStatus = 'HELD' | 'CONFIRMED' | 'EXPIRED' | 'CANCELLED';

export interface Reservation {
  reservationId: string;
  userId: string;
  scheduleId: string;
  seatNos: number[];
  status: ReservationStatus;
  amount: number;
  expiresAt: string;
}

/** A reservations row as the driver returns it (shared with the baselines, which lock rows). */
export interface ReservationRow {
  id: string;
  user_id: string;
  schedule_id: string;
  seat_nos: number[];
  status: ReservationStatus;
  amount: number;
  expires_at: Date;
}

export const RESERVATION_COLUMNS = 'id, user_id, schedule_id, seat_nos, status, amount, expires_at';

/**
 * A hold past its expiry is EXPIRED even if its expiry has not been journaled yet (a timer
 * a few milliseconds late, or a schedule whose actor is passivated): readers see the truth.
 */
function toReservation(row: ReservationRow, now: number): Reservation {
  const expired = row.status === 'HELD' && row.expires_at.getTime() <= now;
  return {
    reservationId: row.id,
    userId: row.user_id,
    scheduleId: row.schedule_id,
    seatNos: row.seat_nos,
    status: expired ? 'EXPIRED' : row.status,
    amount: row.amount,
    expiresAt: row.expires_at.toISOString(),
  };
}

export class ReservationRepository {
  constructor(private readonly db: Pool) {}

  async find(reservationId: string, now = Date.now()): Promise<Reservation | undefined> {
    const { rows } = await this.db.query<ReservationRow>(`SELECT ${RESERVATION_COLUMNS} FROM reservations WHERE id = $1`, [
      reservationId,
    ]);
    return rows[0] && toReservation(rows[0], now);
  }

  /** The hold a user made with this Idempotency-Key, as first answered (HELD), with its request hash. */
  async findByHoldKey(userId: string, key: string): Promise<{ reservation: Reservation; requestHash: string } | undefined> {
    const { rows } = await this.db.query<ReservationRow & { request_hash: string }>(
      `SELECT ${RESERVATION_COLUMNS}, request_hash FROM reservations WHERE user_id = $1 AND idempotency_key = $2`,
      [userId, key],
    );
    const row = rows[0];
    return row && { reservation: { ...toReservation(row, 0), status: 'HELD' }, requestHash: row.request_hash };
  }

  /** The reservation a user cancelled with this Idempotency-Key. */
  async findByCancelKey(userId: string, key: string, now = Date.now()): Promise<Reservation | undefined> {
    const { rows } = await this.db.query<ReservationRow>(
      `SELECT ${RESERVATION_COLUMNS} FROM reservations WHERE user_id = $1 AND cancel_idempotency_key = $2`,
      [userId, key],
    );
    return rows[0] && toReservation(rows[0], now);
  }

  async listByUser(userId: string, now = Date.now()): Promise<Reservation[]> {
    const { rows } = await this.db.query<ReservationRow>(
      `SELECT ${RESERVATION_COLUMNS} FROM reservations WHERE user_id = $1 ORDER BY created_at, id`,
      [userId],
    );
    return rows.map((row) => toReservation(row, now));
  }
}
