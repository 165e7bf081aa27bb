/**
 * The actor engine's journal and snapshots. A batch of events and the reservation rows they
 * change are written by ONE statement (data-modifying CTEs): one round trip, atomic without
 * BEGIN/COMMIT. The primary key (schedule_id, seq) fences a second writer: it gets a unique
 * violation instead of overwriting.
 */
import type { Pool, PoolClient } from 'pg';
import type { ScheduleEvent } from '../domain/schedule-events';
import type { ScheduleSnapshot } from '../domain/schedule-snapshot';
import { queryKnowingOutcome } from './database';
import type { Fence } from './partition-owners-store';

export interface JournalEntry {
  seq: number;
  event: ScheduleEvent;
}

interface NewReservation {
  id: string;
  scheduleId: string;
  userId: string;
  seatNos: number[];
  amount: number;
  status: string;
  expiresAt: number;
  at: number;
  idempotencyKey: string | null;
  requestHash: string | null;
  cancelKey: string | null;
}

/** The events one schedule appends in a batch, in order. */
export interface ScheduleBatch {
  scheduleId: string;
  entries: JournalEntry[];
  /** In a cluster: the owner's epoch for the schedule's partition, checked in the same statement. */
  fence?: Fence | undefined;
}

/** A change of an existing row: its end (status), or a new expiry (an extension), or both. */
interface ReservationUpdate {
  status: string | null;
  expiresAt: number | null;
  at: number;
  cancelKey: string | null;
}

/**
 * The reservation rows a batch inserts or updates, one change per row (a statement may not update
 * a row twice): a hold ended or extended in the same batch is inserted ended or extended, and an
 * extension followed by an end in one batch is one update.
 */
function reservationChanges(batches: ScheduleBatch[]) {
  const inserted = new Map<string, NewReservation>();
  const updated = new Map<string, ReservationUpdate>();
  for (const { scheduleId, entries } of batches) {
    for (const { event } of entries) {
      if (event.type === 'SeatsHeld') {
        inserted.set(event.reservationId, {
          id: event.reservationId,
          scheduleId,
          userId: event.userId,
          seatNos: event.seatNos,
          amount: event.amount,
          status: 'HELD',
          expiresAt: event.expiresAt,
          at: event.at,
          idempotencyKey: event.idempotencyKey ?? null,
          requestHash: event.requestHash ?? null,
          cancelKey: null,
        });
        continue;
      }
      if (event.type === 'SeatsSold' || event.type === 'PaymentDeclined') {
        throw new Error(`${event.type} is journaled by the payment transaction`);
      }
      const fresh = inserted.get(event.reservationId);
      const earlier = updated.get(event.reservationId);
      if (event.type === 'HoldExtended') {
        if (fresh) fresh.expiresAt = event.expiresAt;
        else updated.set(event.reservationId, { status: null, cancelKey: null, ...earlier, expiresAt: event.expiresAt, at: event.at });
        continue;
      }
      const status = event.type === 'HoldReleased' ? 'CANCELLED' : 'EXPIRED';
      const cancelKey = event.type === 'HoldReleased' ? (event.idempotencyKey ?? null) : null;
      if (fresh) Object.assign(fresh, { status, cancelKey });
      else updated.set(event.reservationId, { expiresAt: null, ...earlier, status, at: event.at, cancelKey });
    }
  }
  return { inserted: [...inserted.values()], updated: [...updated.entries()] };
}

/**
 * The fence (a cluster's ownership epochs, migration 007) is read by the journal insert, so it is
 * checked, and its rows locked, before anything is written; a stale owner's statement fails whole.
 */
const APPEND_BATCH = `
WITH fence AS MATERIALIZED (
  SELECT ovation_assert_fences($21::int[], $22::bigint[]) AS ok
), journal_rows AS (
  INSERT INTO journal (schedule_id, seq, type, payload)
  SELECT e.schedule_id, e.seq, e.type, e.payload::jsonb
  FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[]) AS e(schedule_id, seq, type, payload), fence
  WHERE fence.ok
), new_reservations AS (
  INSERT INTO reservations (id, user_id, schedule_id, seat_nos, amount, status, expires_at, created_at, updated_at,
                            idempotency_key, request_hash, cancel_idempotency_key)
  SELECT r.id, r.user_id, r.schedule_id, r.seat_nos::int[], r.amount, r.status, to_timestamp(r.expires_at / 1000.0),
         to_timestamp(r.at / 1000.0), to_timestamp(r.at / 1000.0), r.idempotency_key, r.request_hash, r.cancel_key
  FROM unnest($5::uuid[], $6::uuid[], $7::uuid[], $8::text[], $9::bigint[], $10::text[], $11::float8[], $12::float8[],
              $16::text[], $17::text[], $18::text[])
       AS r(id, user_id, schedule_id, seat_nos, amount, status, expires_at, at, idempotency_key, request_hash, cancel_key)
)
UPDATE reservations SET status = coalesce(u.status, reservations.status), updated_at = to_timestamp(u.at / 1000.0),
       cancel_idempotency_key = u.cancel_key,
       expires_at = coalesce(to_timestamp(u.expires_at / 1000.0), reservations.expires_at)
FROM unnest($13::uuid[], $14::text[], $15::float8[], $19::text[], $20::float8[]) AS u(id, status, at, cancel_key, expires_at)
WHERE reservations.id = u.id AND reservations.status = 'HELD'`;

/**
 * Appends the batches of one or many schedules in one statement: all of it commits, or none.
 * A lost answer throws StatementOutcomeUnknownError: then it is not known which.
 */
export async function appendEvents(db: Pool, batches: ScheduleBatch[]): Promise<void> {
  const rows = batches.flatMap(({ scheduleId, entries }) => entries.map((entry) => ({ scheduleId, ...entry })));
  const { inserted, updated } = reservationChanges(batches);
  const fences = batches.flatMap(({ fence }) => (fence ? [fence] : []));
  // Named: PostgreSQL parses and plans this statement once per connection, not on every commit.
  await queryKnowingOutcome(db, { name: 'journal-append-batch', text: APPEND_BATCH, values: [
    rows.map((r) => r.scheduleId),
    rows.map((r) => r.seq),
    rows.map((r) => r.event.type),
    rows.map((r) => JSON.stringify(r.event)),
    inserted.map((r) => r.id),
    inserted.map((r) => r.userId),
    inserted.map((r) => r.scheduleId),
    inserted.map((r) => `{${r.seatNos.join(',')}}`),
    inserted.map((r) => r.amount),
    inserted.map((r) => r.status),
    inserted.map((r) => r.expiresAt),
    inserted.map((r) => r.at),
    updated.map(([id]) => id),
    updated.map(([, u]) => u.status),
    updated.map(([, u]) => u.at),
    inserted.map((r) => r.idempotencyKey),
    inserted.map((r) => r.requestHash),
    inserted.map((r) => r.cancelKey),
    updated.map(([, u]) => u.cancelKey),
    updated.map(([, u]) => u.expiresAt),
    fences.map((f) => f.partition),
    fences.map((f) => f.epoch),
  ] });
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
