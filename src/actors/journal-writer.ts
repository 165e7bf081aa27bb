/**
 * The journal writer of one schedule actor: a serial queue of work, committed in order.
 *
 * Group commit: while one commit is in flight, appended events pile up; the next commit takes
 * them all (up to maxBatch) in one statement, which the GroupCommitter may join with other
 * schedules' batches. At low load a lone event commits at once; at high load batches grow by
 * themselves, so no timer trades latency for throughput.
 *
 * Transactional work (a payment: balance debit + journal event + outbox) takes its place in the
 * same queue, so a schedule's events keep one order. Consecutive transactional work shares ONE
 * transaction (one WAL flush for many payments); each piece guards its own business refusal
 * with a savepoint, so only infrastructure failures fail the group.
 *
 * A failed commit fails the writer: that work and everything queued behind it is rejected
 * (nobody is told "yes" for an event that was not committed) until the actor, which applied
 * those events optimistically, has dropped its state, recovered and called `reset`.
 */
import type { Pool, PoolClient } from 'pg';
import { CommitFailedError, CommitOutcomeUnknownError } from './actor-errors';
import { isServerRefusal, StatementOutcomeUnknownError } from '../persistence/database';
import type { JournalEntry } from '../persistence/journal-store';
import type { GroupCommitter } from './group-committer';
import { fenceCheckSql, type Fence } from '../persistence/partition-owners-store';

export interface JournalWriterOptions {
  maxBatch: number;
  /** Wait this long for more events before a commit (0: commit as soon as the writer is free). */
  lingerMs: number;
}

export interface JournalWriterObserver {
  failed?(error: unknown): void;
}

/** See runTransactionalOnce: bounds how long a paused owner's payment can delay a failover. */
export const FENCED_IDLE_IN_TRANSACTION_MS = 2_000;

interface AppendWork {
  kind: 'append';
  entries: JournalEntry[];
  resolve(): void;
  reject(error: Error): void;
}

interface TransactionalWork {
  kind: 'transactional';
  run(tx: PoolClient): Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

type Work = AppendWork | TransactionalWork;

export class JournalWriter {
  private readonly queue: Work[] = [];
  private running = false;
  private failure: Error | undefined;
  /** In a cluster, the epoch the actor's state was recovered under: every commit proves it. */
  private fence: Fence | undefined;
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

  /**
   * Runs `work` inside a transaction, after everything queued before it has committed; resolves
   * with its value once that transaction has committed. `work` must leave the transaction usable
   * (a business refusal rolls back to its own savepoint); a throw fails the writer.
   */
  transaction<T>(work: (tx: PoolClient) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.enqueue({ kind: 'transactional', run: work, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  /** Resolves when nothing is queued or in flight. */
  whenIdle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Called by the actor after it recovered from the database (under `fence`, in a cluster): accept work again. */
  reset(fence?: Fence): void {
    this.failure = undefined;
    this.fence = fence;
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
        if (head.kind === 'transactional') {
          const group = this.takeTransactionalGroup();
          await this.commit(group, () => this.runTransactional(group));
        } else {
          const batch = this.takeAppendBatch();
          const entries = batch.flatMap((work) => work.entries);
          await this.commit(batch, async () => {
            if (entries.length > 0) await this.committer.commit(this.scheduleId, entries, this.fence);
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

  private takeTransactionalGroup(): TransactionalWork[] {
    const group: TransactionalWork[] = [];
    while (this.queue.length > 0 && group.length < this.options.maxBatch) {
      const next = this.queue[0]!;
      if (next.kind !== 'transactional') break;
      group.push(next);
      this.queue.shift();
    }
    return group;
  }

  /**
   * Payments of several users share the transaction, so two schedules' groups can lock two
   * balances in opposite orders; PostgreSQL then aborts one (deadlock). The whole transaction
   * rolled back, so running it again is safe.
   */
  private async runTransactional(group: TransactionalWork[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.runTransactionalOnce(group);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (attempt >= 3 || (code !== '40P01' && code !== '40001')) throw error;
      }
    }
  }

  private async runTransactionalOnce(group: TransactionalWork[]): Promise<void> {
    const client = await this.db.connect();
    let committing = false;
    try {
      // The fence rides with BEGIN (one round trip); its shared lock lasts to COMMIT. A new
      // owner's claim waits for that lock, so a process paused mid-transaction must not hold it
      // for the pool's 60 s: the server ends the transaction after 2 s idle (it is ms long).
      await client.query(this.fence ? `BEGIN; SET LOCAL idle_in_transaction_session_timeout = ${FENCED_IDLE_IN_TRANSACTION_MS}; ${fenceCheckSql(this.fence)}` : 'BEGIN');
      const values: unknown[] = [];
      for (const work of group) values.push(await work.run(client));
      committing = true;
      await client.query('COMMIT');
      client.release();
      group.forEach((work, index) => work.resolve(values[index]));
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      // A broken connection must not go back to the pool.
      client.release(error instanceof Error ? error : true);
      // Until COMMIT is sent nothing can commit; a COMMIT without an answer may have.
      if (committing && !isServerRefusal(error)) throw new StatementOutcomeUnknownError(error);
      throw error;
    }
  }

  private async commit(works: Work[], action: () => Promise<void>): Promise<void> {
    try {
      await action();
    } catch (error) {
      const actor = `schedule ${this.scheduleId}`;
      // Work never sent was not applied, whatever happened to the commit in flight.
      this.failure = new CommitFailedError(actor, error);
      const inFlight = error instanceof StatementOutcomeUnknownError ? new CommitOutcomeUnknownError(actor, error) : this.failure;
      for (const work of works) work.reject(inFlight);
      for (const work of this.queue.splice(0)) work.reject(this.failure);
      this.observer.failed?.(error);
    }
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
