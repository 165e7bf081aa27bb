import type { Pool, QueryConfig } from 'pg';
import { migrations } from './migrations';

/** Arbitrary constant: serializes migrations of concurrently starting instances. */
const MIGRATION_LOCK_KEY = 7_240_311;
const MIGRATION_QUERY_TIMEOUT_MS = 3_600_000;

/** pg reads `query_timeout` per query too; its types do not declare it. */
function slow(text: string, values: unknown[] = []): QueryConfig {
  return { text, values, query_timeout: MIGRATION_QUERY_TIMEOUT_MS } as QueryConfig;
}

/** Applies pending migrations, each in its own transaction. Safe to run on every start-up. */
export async function migrate(pool: Pool): Promise<number[]> {
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    // A migration may rewrite a large table: no statement timeout for this session, and an hour
    // before the client gives up on an answer.
    await client.query(slow('SET statement_timeout = 0'));
    await client.query(slow('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]));
    await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
    const done = new Set(rows.map((r) => r.version));
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      await client.query('BEGIN');
      try {
        await client.query(slow(migration.sql));
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
          migration.version,
          migration.name,
        ]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
      applied.push(migration.version);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    client.release();
  }
  return applied;
}
