/**
 * What the benchmark database's backends are doing, sampled every `everyMs` from pg_stat_activity
 * (pg_stat_statements is not loaded on this server): "CPU" for an active backend with no wait
 * event, else its wait event (IO:WALSync, LWLock:WALWrite, Lock:transactionid, …). Idle backends
 * are not counted. Cheap enough (one query per sample) to leave on during a measurement.
 */
import type { Client } from 'pg';

export interface WaitSampler {
  /** Samples per state, most frequent first, and how many samples were taken. */
  stop(): Promise<{ samples: number; byState: Record<string, number> }>;
}

export function sampleWaitEvents(monitor: Client, databaseName: string, everyMs: number): WaitSampler {
  const counts = new Map<string, number>();
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await monitor.query<{ state: string }>(
        `SELECT CASE WHEN wait_event IS NULL THEN 'CPU' ELSE wait_event_type || ':' || wait_event END
                || CASE WHEN query ILIKE '%outbox SET published_at%' OR query ILIKE '%FOR UPDATE SKIP LOCKED%' THEN ' (relay)' ELSE '' END AS state
           FROM pg_stat_activity
          WHERE datname = $1 AND pid <> pg_backend_pid() AND state = 'active'`,
        [databaseName],
      );
      samples++;
      for (const row of rows) counts.set(row.state, (counts.get(row.state) ?? 0) + 1);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { samples, byState: Object.fromEntries([...counts].sort((a, b) => b[1] - a[1])) };
    },
  };
}
