/**
 * The journal writer of one schedule actor: a serial queue of work, committed in order.
 *
 * Group commit: while one commit is in flight, appended events pile up; the next commit takes
 * them all (up to maxBatch) in one statement, which the GroupCommitter may join with other
 * schedules' batches. At low load a lone event commits at once; at high load batches grow by
 * themselves, so no timer trades latency for throughput.
 *
 * Exclusive work (a payment: balance debit + journal event + outbox in one transaction) takes
 * its place in the same queue, so a schedule's events keep one order.
 *
 * A failed commit fails the writer: that work and everything queued behind it is rejected
 * (nobody is told "yes" for an event that was not committed) until the actor, which applied
 * those events optimistically, has dropped its state, recovered and called `reset`.
 */
import type { Pool, PoolClient } from 'pg';
import { CommitFailedError } from './actor-errors';
import type { JournalEntry } from '../persistence/journal-store';
import type { GroupCommitter } from './group-committer';

export interface JournalWriterOptions {
  maxBatch: number;
  /** Wait this long for more events before a commit (0: commit as soon as the writer is free). */
  lingerMs: number;
}

export interface JournalWriterObserver {
  failed?(error: unknown): void;
}

/** What an exclusive transaction returns: commit it or roll it back, and the value either way. */
export interface TransactionResult<T> {
  commit: boolean;
  value: T;
}

interface AppendWork {
  kind: 'append';
  entries: JournalEntry[];
  resolve(): void;
  reject(error: Error): void;
}

interface ExclusiveWork {
  kind: 'exclusive';
  run(tx: PoolClient): Promise<void>;
  reject(error: Error): void;
}

type Work = AppendWork | ExclusiveWork;

export class JournalWriter {
  private readonly queue: Work[] = [];
  private running = false;
  private failure: Error | undefined;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly db: Pool,
    private readonly committer: GroupCommitter,
    private readonly scheduleId: string,
    private readonly options: JournalWriterOptions,
    private readonly observer: JournalWriterObserver = {},
  ) {}

  get failed(): boolean {
    return this.failure !== undefined;
  }

  get queued(): number {
    return this.queue.length;
  }

  get idle(): boolean {
    return !this.running && this.queue.length === 0;
  }

  append(entries: JournalEntry[]): Promise<void> {
    if (entries.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.enqueue({ kind: 'append', entries, resolve, reject });
    });
  }

  /** Resolves when everything queued before it has committed; rejects if any of it fails. */
  barrier(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.enqueue({ kind: 'append', entries: [], resolve, reject });
    });
  }

  /** Runs `work` in its own transaction, after everything queued before it has committed. */
  transaction<T>(work: (tx: PoolClient) => Promise<TransactionResult<T>>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const run = async (tx: PoolClient) => {
        await tx.query('BEGIN');
        const result = await work(tx);
        await tx.query(result.commit ? 'COMMIT' : 'ROLLBACK');
        resolve(result.value);
      };
      this.enqueue({ kind: 'exclusive', run, reject });
    });
  }

  /** Resolves when nothing is queued or in flight. */
  whenIdle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Called by the actor after it recovered from the database: accept work again. */
  reset(): void {
    this.failure = undefined;
  }

  private enqueue(work: Work): void {
    if (this.failure) {
      work.reject(this.failure);
      return;
    }
    this.queue.push(work);
    if (!this.running) void this.pump();
  }

  private async pump(): Promise<void> {
    this.running = true;
    try {
      if (this.options.lingerMs > 0) await delay(this.options.lingerMs);
      while (this.queue.length > 0 && !this.failure) {
        const head = this.queue[0]!;
        if (head.kind === 'exclusive') {
          this.queue.shift();
          await this.commit([head], () => this.runExclusive(head));
        } else {
          const batch = this.takeAppendBatch();
          const entries = batch.flatMap((work) => work.entries);
          await this.commit(batch, async () => {
            if (entries.length > 0) await this.committer.commit(this.scheduleId, entries);
            for (const work of batch) work.resolve();
          });
        }
      }
    } finally {
      this.running = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private takeAppendBatch(): AppendWork[] {
    const batch: AppendWork[] = [];
    let events = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (next.kind !== 'append') break;
      if (batch.length > 0 && events + next.entries.length > this.options.maxBatch) break;
      this.queue.shift();
      batch.push(next);
      events += next.entries.length;
    }
    return batch;
  }

  private async runExclusive(work: ExclusiveWork): Promise<void> {
    const client = await this.db.connect();
    try {
      await work.run(client);
      client.release();
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      // A broken connection must not go back to the pool.
      client.release(error instanceof Error ? error : true);
      throw error;
    }
  }

  private async commit(works: Work[], action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (error) {
      this.failure = new CommitFailedError(`schedule ${this.scheduleId}`, error);
      for (const work of works) work.reject(this.failure);
      for (const work of this.queue.splice(0)) work.reject(this.failure);
      this.observer.failed?.(error);
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
