/**
 * Group commit across schedules. Every schedule's journal writer hands its next batch here; the
 * batches that arrive while commits are in flight go out together in one statement (one round
 * trip, one WAL flush), so a hundred quiet schedules cost about what one busy schedule costs.
 *
 * If a combined commit is refused, each schedule's part is retried on its own: a fenced or broken
 * schedule fails alone instead of taking its neighbours down with it. Retrying is safe because
 * the server refused the combined statement, which was atomic: none of it was written. If its
 * answer was lost instead, nobody can tell, and every part fails as "outcome unknown".
 */
import type { Pool } from 'pg';
import { StatementOutcomeUnknownError } from '../persistence/database';
import { appendEvents, type JournalEntry, type ScheduleBatch } from '../persistence/journal-store';
import type { Fence } from '../persistence/partition-owners-store';

export interface GroupCommitterOptions {
  /** Commits in flight at once (each on its own connection). */
  maxInFlight: number;
  /** Events per statement at most. */
  maxEvents: number;
}

export interface GroupCommitObserver {
  committed?(events: number, schedules: number, seconds: number): void;
}

interface Waiting {
  batch: ScheduleBatch;
  resolve(): void;
  reject(error: unknown): void;
}

export class GroupCommitter {
  private waiting: Waiting[] = [];
  private inFlight = 0;

  constructor(
    private readonly db: Pool,
    private readonly options: GroupCommitterOptions,
    private readonly observer: GroupCommitObserver = {},
  ) {}

  commit(scheduleId: string, entries: JournalEntry[], fence?: Fence): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ batch: { scheduleId, entries, fence }, resolve, reject });
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < this.options.maxInFlight && this.waiting.length > 0) {
      const group = this.takeGroup();
      this.inFlight++;
      void this.commitGroup(group).finally(() => {
        this.inFlight--;
        this.flush();
      });
    }
  }

  private takeGroup(): Waiting[] {
    let events = 0;
    let count = 0;
    for (const item of this.waiting) {
      if (count > 0 && events + item.batch.entries.length > this.options.maxEvents) break;
      events += item.batch.entries.length;
      count++;
    }
    return this.waiting.splice(0, count);
  }

  private async commitGroup(group: Waiting[]): Promise<void> {
    const started = process.hrtime.bigint();
    try {
      await appendEvents(this.db, group.map((item) => item.batch));
      const events = group.reduce((n, item) => n + item.batch.entries.length, 0);
      this.observer.committed?.(events, group.length, Number(process.hrtime.bigint() - started) / 1e9);
      for (const item of group) item.resolve();
    } catch (error) {
      // A lost answer may hide a commit: retrying the parts could then fail on the fence and
      // report "not applied" for events that are in the journal. Everyone hears "unknown".
      if (group.length === 1 || error instanceof StatementOutcomeUnknownError) {
        for (const item of group) item.reject(error);
        return;
      }
      await Promise.all(group.map((item) => this.commitGroup([item])));
    }
  }
}
