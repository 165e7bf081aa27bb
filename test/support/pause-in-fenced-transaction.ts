/**
 * Freezes an instance (SIGSTOP) at a moment it has a fenced transaction open (a payment: its
 * first statement locked its partition's row of partition_owners FOR SHARE) — the worst moment
 * for the others: that lock stays while the process is frozen, and the next owner's claim of the
 * partition is an UPDATE of that row. Healthy transactions are open for milliseconds, so one
 * still open 200 ms after the stop belongs to the frozen process. Tries again (SIGCONT, a short
 * run, SIGSTOP) until it catches one; the short pauses stay far below the session timeout, so
 * ownership does not move meanwhile.
 */
import type { Pool } from 'pg';
import type { InstanceProcess } from '../../scripts/cluster/instance-process';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with the time of the SIGSTOP that caught a fenced transaction (the process stays stopped). */
export async function pauseInFencedTransaction(instance: InstanceProcess, db: Pool, { attempts = 40 } = {}): Promise<number> {
  for (let attempt = 1; attempt <= attempts; attempt++) {
    await instance.kill('SIGSTOP');
    const stoppedAt = Date.now();
    await pause(300);
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid
       WHERE a.datname = current_database() AND l.relation = 'partition_owners'::regclass
         AND a.state LIKE 'idle in transaction%' AND now() - a.state_change > interval '200 ms'`,
    );
    if (rows[0]!.n > 0) return stoppedAt;
    await instance.kill('SIGCONT');
    await pause(150 + Math.random() * 100);
  }
  throw new Error(`instance ${instance.index} never had a fenced transaction open when stopped (${attempts} tries): is the payment load running?`);
}
