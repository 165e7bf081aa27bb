/**
 * The actor engine's journal and snapshots. A batch of events and the reservation rows they
 * change are written by ONE statement (data-modifying CTEs): one round trip, atomic without
 * BEGIN/COMMIT. The primary key (schedule_id, seq) fences a second writer: it gets a unique
 * violation instead of overwriting.
 */
import type { Pool, PoolClient } from 'pg';
import type { ScheduleEvent } from '../domain/schedule-events';
import type { ScheduleSnapshot } from '../domain/schedule-snapshot';

export interface JournalEntry {
  seq: number;
  event: ScheduleEvent;
}

interface NewReservation {
  id: string;
  userId: string;
  seatNos: number[];
  amount: number;
  status: string;
  expiresAt: number;
  at: number;
}

/** The reservation rows a batch inserts or updates; a hold ended in the same batch is inserted ended. */
function reservationChanges(entries: JournalEntry[]) {
  const inserted = new Map<string, NewReservation>();
  const updated = new Map<string, { status: string; at: number }>();
  for (const { event } of entries) {
    if (event.type === 'SeatsHeld') {
      inserted.set(event.reservationId, {
        id: event.reservationId,
        userId: event.userId,
        seatNos: event.seatNos,
        amount: event.amount,
        status: 'HELD',
        expiresAt: event.expiresAt,
        at: event.at,
      });
      continue;
    }
    if (event.type === 'SeatsSold') throw new Error('SeatsSold is journaled by the payment transaction');
    const status = event.type === 'HoldReleased' ? 'CANCELLED' : 'EXPIRED';
    const fresh = inserted.get(event.reservationId);
    if (fresh) fresh.status = status;
    else updated.set(event.reservationId, { status, at: event.at });
  }
  return { inserted: [...inserted.values()], updated: [...updated.entries()] };
}

const APPEND_BATCH = `
WITH journal_rows AS (
  INSERT INTO journal (schedule_id, seq, type, payload)
  SELECT $1, e.seq, e.type, e.payload::jsonb FROM unnest($2::bigint[], $3::text[], $4::text[]) AS e(seq, type, payload)
), new_reservations AS (
  INSERT INTO reservations (id, user_id, schedule_id, seat_nos, amount, status, expires_at, created_at, updated_at)
  SELECT r.id, r.user_id, $1, r.seat_nos::int[], r.amount, r.status, to_timestamp(r.expires_at / 1000.0),
         to_timestamp(r.at / 1000.0), to_timestamp(r.at / 1000.0)
  FROM unnest($5::uuid[], $6::uuid[], $7::text[], $8::bigint[], $9::text[], $10::float8[], $11::float8[])
       AS r(id, user_id, seat_nos, amount, status, expires_at, at)
)
UPDATE reservations SET status = u.status, updated_at = to_timestamp(u.at / 1000.0)
FROM unnest($12::uuid[], $13::text[], $14::float8[]) AS u(id, status, at)
WHERE reservations.id = u.id AND reservations.status = 'HELD'`;

export async function appendEvents(db: Pool, scheduleId: string, entries: JournalEntry[]): Promise<void> {
  const { inserted, updated } = reservationChanges(entries);
  await db.query(APPEND_BATCH, [
    scheduleId,
    entries.map((e) => e.seq),
    entries.map((e) => e.event.type),
    entries.map((e) => JSON.stringify(e.event)),
    inserted.map((r) => r.id),
    inserted.map((r) => r.userId),
    inserted.map((r) => `{${r.seatNos.join(',')}}`),
    inserted.map((r) => r.amount),
    inserted.map((r) => r.status),
    inserted.map((r) => r.expiresAt),
    inserted.map((r) => r.at),
    updated.map(([id]) => id),
    updated.map(([, u]) => u.status),
    updated.map(([, u]) => u.at),
  ]);
}

/** One event inside the caller's transaction (the payment transaction journals SeatsSold). */
export async function appendEventInTx(tx: PoolClient, scheduleId: string, entry: JournalEntry): Promise<void> {
  await tx.query('INSERT INTO journal (schedule_id, seq, type, payload) VALUES ($1, $2, $3, $4)', [
    scheduleId,
    entry.seq,
    entry.event.type,
    JSON.stringify(entry.event),
  ]);
}

export async function loadJournal(db: Pool, scheduleId: string, afterSeq: number): Promise<JournalEntry[]> {
  const { rows } = await db.query<{ seq: number; payload: ScheduleEvent }>(
    'SELECT seq, payload FROM journal WHERE schedule_id = $1 AND seq > $2 ORDER BY seq',
    [scheduleId, afterSeq],
  );
  return rows.map((row) => ({ seq: row.seq, event: row.payload }));
}

export async function saveSnapshot(db: Pool | PoolClient, scheduleId: string, snapshot: ScheduleSnapshot): Promise<void> {
  await db.query(
    `INSERT INTO snapshots (schedule_id, seq, state) VALUES ($1, $2, $3)
     ON CONFLICT (schedule_id, seq) DO NOTHING`,
    [scheduleId, snapshot.seq, JSON.stringify(snapshot)],
  );
  // Older snapshots are covered by this one.
  await db.query('DELETE FROM snapshots WHERE schedule_id = $1 AND seq < $2', [scheduleId, snapshot.seq]);
}

export async function latestSnapshot(
  db: Pool,
  scheduleId: string,
): Promise<{ snapshot: ScheduleSnapshot; createdAt: Date } | undefined> {
  const { rows } = await db.query<{ state: ScheduleSnapshot; created_at: Date }>(
    'SELECT state, created_at FROM snapshots WHERE schedule_id = $1 ORDER BY seq DESC LIMIT 1',
    [scheduleId],
  );
  const row = rows[0];
  return row && { snapshot: row.state, createdAt: row.created_at };
}
