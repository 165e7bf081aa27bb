/** Rebuilds a schedule's state from its latest snapshot plus the journal after it. */
import type { Pool } from 'pg';
import { applyEvent, emptyState, type ScheduleState, type SeatCatalogue } from '../domain/schedule-state';
import { fromSnapshot } from '../domain/schedule-snapshot';
import { latestSnapshot, loadJournal } from '../persistence/journal-store';

export interface Recovered {
  state: ScheduleState;
  snapshotSeq: number;
  snapshotAt: Date | undefined;
  /** Journal events replayed on top of the snapshot. */
  replayed: number;
}

export class ScheduleNotFoundError extends Error {}

export async function recoverSchedule(
  db: Pool,
  scheduleId: string,
  loadCatalogue: (scheduleId: string) => Promise<SeatCatalogue | undefined>,
  holdTtlMs: number,
): Promise<Recovered> {
  const catalogue = await loadCatalogue(scheduleId);
  if (!catalogue) throw new ScheduleNotFoundError(`schedule ${scheduleId} does not exist`);
  const snapshot = await latestSnapshot(db, scheduleId);
  const state = snapshot ? fromSnapshot(scheduleId, catalogue, snapshot.snapshot, holdTtlMs) : emptyState(scheduleId, catalogue);
  const entries = await loadJournal(db, scheduleId, state.seq);
  for (const entry of entries) {
    if (entry.seq !== state.seq + 1) {
      throw new Error(`journal of ${scheduleId} has a gap: expected seq ${state.seq + 1}, found ${entry.seq}`);
    }
    applyEvent(state, entry.event);
  }
  return { state, snapshotSeq: snapshot?.snapshot.seq ?? 0, snapshotAt: snapshot?.createdAt, replayed: entries.length };
}
