/**
 * Expiry of the baselines: a periodic sweep turns HELD reservations past `expires_at` into
 * EXPIRED and frees their seats. Each batch is one statement (atomic without BEGIN/COMMIT). It
 * claims rows with FOR UPDATE SKIP LOCKED, so several instances sweep side by side without
 * waiting for each other, and a reservation locked by a payment or release in progress is left
 * for the next round (that transaction decides it, seeing the expiry itself).
 */
import type { Pool } from 'pg';
import { prepared } from './prepared';

const EXPIRE_BATCH = prepared(
  'expire-batch',
  `
WITH due AS (
  SELECT id FROM reservations
  WHERE status = 'HELD' AND expires_at <= $1
  ORDER BY expires_at
  LIMIT $2
  FOR UPDATE SKIP LOCKED
), expired AS (
  UPDATE reservations SET status = 'EXPIRED', updated_at = $1
  FROM due WHERE reservations.id = due.id
  RETURNING reservations.id, reservations.schedule_id, reservations.seat_nos
), freed AS (
  UPDATE seats SET status = 'AVAILABLE', reservation_id = NULL
  FROM expired
  WHERE seats.schedule_id = expired.schedule_id AND seats.seat_no = ANY (expired.seat_nos)
    AND seats.reservation_id = expired.id
)
SELECT schedule_id, count(*)::int AS expired FROM expired GROUP BY schedule_id`,
);

/** Expires up to `limit` due holds; returns how many per schedule. */
export async function expireDueHolds(db: Pool, now: number, limit: number): Promise<Map<string, number>> {
  const { rows } = await db.query<{ schedule_id: string; expired: number }>(EXPIRE_BATCH([new Date(now), limit]));
  return new Map(rows.map((row) => [row.schedule_id, row.expired]));
}

export interface ExpirySweeperOptions {
  db: Pool;
  intervalMs: number;
  now: () => number;
  /** Rows per statement: short transactions, short row locks. */
  batchSize?: number;
  /** Batches per round at most, so one round cannot run for ever behind a flood of holds. */
  maxBatches?: number;
  /** Schedules whose seats changed (the lock engine invalidates their cached seat maps). */
  onExpired?: (scheduleIds: string[]) => Promise<void>;
  onError: (error: unknown) => void;
}

export class ExpirySweeper {
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;

  constructor(private readonly options: ExpirySweeperOptions) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.options.intervalMs);
    // The sweeper alone must not keep the process alive.
    this.timer.unref();
    // Catch up at once with holds that ran out while no instance was sweeping.
    this.tick();
  }

  /** Stops the timer and waits for a round in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.round;
  }

  /** One round now (also what the timer runs); resolves when it is done. */
  sweepNow(): Promise<void> {
    this.tick();
    return this.round ?? Promise.resolve();
  }

  private tick(): void {
    // Rounds never overlap: a slow round makes the next tick a no-op, not a second sweeper.
    if (this.round) return;
    this.round = this.sweep()
      .catch((error: unknown) => this.options.onError(error))
      .finally(() => {
        this.round = undefined;
      });
  }

  private async sweep(): Promise<void> {
    const { db, now, onExpired } = this.options;
    const batchSize = this.options.batchSize ?? 500;
    const maxBatches = this.options.maxBatches ?? 20;
    for (let batch = 0; batch < maxBatches; batch++) {
      const expired = await expireDueHolds(db, now(), batchSize);
      if (expired.size > 0 && onExpired) await onExpired([...expired.keys()]);
      let count = 0;
      for (const n of expired.values()) count += n;
      if (count < batchSize) return;
    }
  }
}
