/**
 * Transactions whose work decides at the end whether to commit: a business refusal rolls back
 * without an exception, an exception rolls back and propagates.
 */
import type { Pool, PoolClient } from 'pg';
import { isServerRefusal, StatementOutcomeUnknownError } from '../persistence/database';

export interface TxOutcome<T> {
  commit: boolean;
  value: T;
}

/**
 * `begin` may carry statements without parameters after BEGIN (one round trip for both, by the
 * simple query protocol), e.g. the advisory lock of the per-user limit.
 */
export async function runTransaction<T>(
  db: Pool,
  work: (tx: PoolClient) => Promise<TxOutcome<T>>,
  begin = 'BEGIN',
): Promise<T> {
  const client = await db.connect();
  // A connection whose ROLLBACK failed is in an unknown state: destroy it rather than reuse it.
  let broken: Error | undefined;
  let committing = false;
  try {
    await client.query(begin);
    const outcome = await work(client);
    committing = outcome.commit;
    await client.query(outcome.commit ? 'COMMIT' : 'ROLLBACK');
    return outcome.value;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => {
      broken = rollbackError;
    });
    // A COMMIT that got no answer may have committed (as for the actor engine's journal).
    if (committing && !isServerRefusal(error)) throw new StatementOutcomeUnknownError(error);
    throw error;
  } finally {
    client.release(broken);
  }
}

const DEADLOCK_DETECTED = '40P01';

function isDeadlock(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: string }).code === DEADLOCK_DETECTED;
}

/**
 * Seat rows are locked in ascending order everywhere we control the order, but a sweeper's join
 * update or a bitmap scan may visit rows in another order; PostgreSQL then aborts one side with
 * a deadlock. That is not the client's problem: run the (rolled back) transaction again.
 */
export async function retryOnDeadlock<T>(work: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isDeadlock(error) || attempt >= attempts) throw error;
    }
  }
}

/** A business refusal inside a transaction: roll back and answer with the rejection. */
export function refuse<R>(rejection: R): TxOutcome<{ ok: false; rejection: R }> {
  return { commit: false, value: { ok: false, rejection } };
}
