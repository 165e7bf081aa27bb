/**
 * Available seats of a schedule from the reservations projection (written in the same statement as
 * every journal event): the seat count minus the seats of live holds and sales. For listings of
 * schedules whose actor is not in memory, so a listing never spawns an actor (and loads a seat
 * catalogue) per schedule. One index probe per schedule (reservations_by_schedule).
 */
import type { Pool } from 'pg';

const AVAILABLE = `
SELECT s.seat_count - coalesce((
  SELECT sum(cardinality(r.seat_nos)) FROM reservations r
  WHERE r.schedule_id = s.id AND (r.status = 'CONFIRMED' OR (r.status = 'HELD' AND r.expires_at > now()))
), 0)::int AS available
FROM schedules s WHERE s.id = $1`;

export async function availableSeatsFromReservations(db: Pool, scheduleId: string): Promise<number> {
  const { rows } = await db.query<{ available: number }>(AVAILABLE, [scheduleId]);
  const available = rows[0]?.available;
  // Callers list schedules they just read from the catalogue: a missing one is a bug, not a 404.
  if (available === undefined) throw new Error(`schedule ${scheduleId} does not exist`);
  return available;
}
