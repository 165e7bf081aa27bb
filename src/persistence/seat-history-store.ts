/**
 * A seat's history (GET /v1/admin/schedules/{id}/seats/{seatNo}/history), an admin read.
 *
 * Actor engine: from the journal, the record of every decision. The holds that named the seat are
 * found by their SeatsHeld payload, then every later event of those reservations, in journal
 * order. It reads the schedule's journal (a primary-key range scan): fine for an occasional admin
 * question, not for a hot path. PaymentDeclined changes no seat and is left out.
 *
 * Baselines: they keep no journal, only the reservation rows, which record a hold's creation and
 * its end (CANCELLED, EXPIRED, or CONFIRMED = sold) with times, but not its extensions (a row keeps
 * its latest expiry only). Their history is derived from those rows and says so (`source`);
 * `seq` is then the event's place in the list.
 */
import type { Pool } from 'pg';
import type { SeatHistory, SeatHistoryEvent } from '../engine/reservation-engine';

const JOURNAL_TYPES: Record<string, SeatHistoryEvent['type']> = {
  SeatsHeld: 'HELD',
  HoldExtended: 'EXTENDED',
  HoldReleased: 'CANCELLED',
  HoldExpired: 'EXPIRED',
  SeatsSold: 'SOLD',
};

const FROM_JOURNAL = `
WITH holds AS (
  SELECT payload->>'reservationId' AS reservation_id, payload->>'userId' AS user_id FROM journal
  WHERE schedule_id = $1 AND type = 'SeatsHeld' AND payload->'seatNos' @> to_jsonb(ARRAY[$2::int])
)
SELECT j.seq::int AS seq, j.type, holds.reservation_id, holds.user_id, (j.payload->>'at')::float8 AS at
FROM journal j JOIN holds ON j.payload->>'reservationId' = holds.reservation_id
WHERE j.schedule_id = $1 AND j.type = ANY ($3::text[])
ORDER BY j.seq`;

export async function seatHistoryFromJournal(db: Pool, scheduleId: string, seatNo: number): Promise<SeatHistory> {
  const { rows } = await db.query<{ seq: number; type: string; reservation_id: string; user_id: string; at: number }>(
    FROM_JOURNAL,
    [scheduleId, seatNo, Object.keys(JOURNAL_TYPES)],
  );
  return {
    source: 'journal',
    events: rows.map((row) => ({
      seq: row.seq,
      type: JOURNAL_TYPES[row.type]!,
      reservationId: row.reservation_id,
      userId: row.user_id,
      at: new Date(row.at).toISOString(),
    })),
  };
}

const FROM_RESERVATIONS = `
SELECT id, user_id, status, created_at, updated_at, expires_at FROM reservations
WHERE schedule_id = $1 AND $2::int = ANY (seat_nos)
ORDER BY created_at, id`;

const END_TYPES: Record<string, SeatHistoryEvent['type'] | undefined> = { CANCELLED: 'CANCELLED', EXPIRED: 'EXPIRED', CONFIRMED: 'SOLD' };

export async function seatHistoryFromReservations(db: Pool, scheduleId: string, seatNo: number): Promise<SeatHistory> {
  const { rows } = await db.query<{ id: string; user_id: string; status: string; created_at: Date; updated_at: Date }>(
    FROM_RESERVATIONS,
    [scheduleId, seatNo],
  );
  const events: Omit<SeatHistoryEvent, 'seq'>[] = [];
  for (const row of rows) {
    events.push({ type: 'HELD', reservationId: row.id, userId: row.user_id, at: row.created_at.toISOString() });
    const end = END_TYPES[row.status];
    if (end) events.push({ type: end, reservationId: row.id, userId: row.user_id, at: row.updated_at.toISOString() });
  }
  // A seat is held by one reservation at a time, so ordering by time interleaves them correctly;
  // the sort is stable, so a hold and its end at the same millisecond keep their order.
  events.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  return { source: 'reservations', events: events.map((event, index) => ({ seq: index + 1, ...event })) };
}
