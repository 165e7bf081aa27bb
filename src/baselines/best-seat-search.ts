/**
 * Best-available on the baselines: the pure choice of src/domain/best-available.ts over the free
 * seats read from the seats table, then an attempt to claim exactly those seats by the engine's
 * own mechanism (sql: SELECT … FOR UPDATE SKIP LOCKED; lock: Redis seat locks without waiting).
 * Seats that turn out taken or being taken by a concurrent hold are removed from the free set and
 * the choice is made again, so a buyer gets the best block left rather than a refusal because
 * someone else was faster. Each round removes at least one seat, so the search ends; it answers
 * "no such block" only when the free set, as far as this hold could see it, has none.
 */
import type { Pool, PoolClient } from 'pg';
import { pickBestSeats, type BestSeatsRequest, type SeatLayout } from '../domain/best-available';
import { prepared } from './prepared';

const FREE_SEATS = prepared(
  'free-seats',
  `SELECT coalesce(array_agg(seat_no ORDER BY seat_no), '{}') AS free FROM seats WHERE schedule_id = $1 AND status = 'AVAILABLE'`,
);

export async function freeSeats(db: Pool | PoolClient, scheduleId: string): Promise<Set<number>> {
  const { rows } = await db.query<{ free: number[] }>(FREE_SEATS([scheduleId]));
  return new Set(rows[0]?.free ?? []);
}

/** What an attempt to claim the chosen seats found: the result, or the seats it could not have. */
export type Attempt<T> = { done: true; value: T } | { done: false; unavailable: number[] };

export async function searchBestSeats<T>(
  layout: SeatLayout,
  free: Set<number>,
  best: BestSeatsRequest,
  attempt: (seatNos: number[]) => Promise<Attempt<T>>,
): Promise<T | undefined> {
  for (;;) {
    const chosen = pickBestSeats(layout, (seatNo) => free.has(seatNo), best);
    if (!chosen) return undefined;
    const outcome = await attempt(chosen);
    if (outcome.done) return outcome.value;
    // Defensive: an attempt that names no seat would otherwise be tried again for ever.
    for (const seatNo of outcome.unavailable.length > 0 ? outcome.unavailable : chosen) free.delete(seatNo);
  }
}
