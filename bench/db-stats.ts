/**
 * Counters of the engine's database and of Redis, read at the edges of the measurement window.
 *
 * PostgreSQL: pg_stat_database of the engine's database (pg_stat_statements is not loaded here).
 * A busy backend publishes its counters at most once a second, so both edges lag by up to ~1 s of
 * traffic; under steady load the two lags cancel out. CPU of the database: the backends connected
 * to the engine's database, from /proc.
 * Redis: INFO commandstats (all clients of that Redis: exact on the harness's private Redis,
 * approximate on a shared one) and the CPU of the redis-server process.
 */
import type { Client } from 'pg';
import type Redis from 'ioredis';
import { cpuByPid, processCpuSecondsPrecise } from './proc-stats';

export interface DbSnapshot {
  xacts: number;
  rollbacks: number;
  tuplesRead: number;
  tuplesWritten: number;
  backendCpu: Map<number, number>;
}

export async function dbSnapshot(monitor: Client, databaseName: string): Promise<DbSnapshot> {
  const stats = await monitor.query<Record<string, string>>(
    `SELECT xact_commit, xact_rollback, tup_returned, tup_fetched, tup_inserted, tup_updated, tup_deleted
       FROM pg_stat_database WHERE datname = $1`,
    [databaseName],
  );
  const row = stats.rows[0] ?? {};
  const n = (key: string) => Number(row[key] ?? 0);
  const pids = await monitor.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [databaseName]);
  return {
    xacts: n('xact_commit') + n('xact_rollback'),
    rollbacks: n('xact_rollback'),
    tuplesRead: n('tup_returned') + n('tup_fetched'),
    tuplesWritten: n('tup_inserted') + n('tup_updated') + n('tup_deleted'),
    backendCpu: cpuByPid(pids.rows.map((r) => r.pid)),
  };
}

export interface RedisSnapshot {
  calls: number;
  byCommand: Map<string, number>;
  cpuSeconds: number | undefined;
}

export async function redisSnapshot(redis: Redis): Promise<RedisSnapshot> {
  const [commandstats, server] = await Promise.all([redis.info('commandstats'), redis.info('server')]);
  const byCommand = new Map<string, number>();
  let calls = 0;
  for (const match of commandstats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    const [, name, count] = match;
    // The harness's own INFO calls are not the engine's.
    if (name === undefined || name === 'info') continue;
    byCommand.set(name, Number(count));
    calls += Number(count);
  }
  const pid = /^process_id:(\d+)/m.exec(server);
  return { calls, byCommand, cpuSeconds: pid ? processCpuSecondsPrecise(Number(pid[1])) : undefined };
}

/** Commands between two snapshots, most frequent first. */
export function redisDelta(before: RedisSnapshot, after: RedisSnapshot): { calls: number; top: Record<string, number> } {
  const deltas = [...after.byCommand.entries()]
    .map(([name, count]) => [name, count - (before.byCommand.get(name) ?? 0)] as const)
    .filter(([, count]) => count > 0)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8);
  return { calls: after.calls - before.calls, top: Object.fromEntries(deltas) };
}
