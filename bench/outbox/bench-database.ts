/**
 * A fresh database for one benchmark run, named bench_outbox_<run> so a leftover is easy to spot
 * and drop; migrated with the server's own migrations (src/persistence/migrate.ts).
 */
import type { Pool } from 'pg';
import { createPool } from '../../src/persistence/database';
import { ensureDatabase } from '../../src/persistence/ensure-database';
import { migrate } from '../../src/persistence/migrate';
import { dropDatabase } from '../server-process';

export const DATABASE_SERVER = process.env.BENCH_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432';

export interface BenchDatabase {
  name: string;
  url: string;
  pool: Pool;
  drop(): Promise<void>;
}

export async function freshMigratedDatabase(name: string, poolSize: number): Promise<BenchDatabase> {
  const url = `${DATABASE_SERVER}/${name}`;
  await dropDatabase(`${DATABASE_SERVER}/postgres`, name);
  await ensureDatabase(url);
  const pool = createPool(url, poolSize);
  await migrate(pool);
  return {
    name,
    url,
    pool,
    async drop() {
      await pool.end().catch(() => undefined);
      await dropDatabase(`${DATABASE_SERVER}/postgres`, name);
    },
  };
}

/** A timestamp for names: 20261125t190005 (lower case: PostgreSQL folds unquoted names). */
export function runStamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').toLowerCase();
}
