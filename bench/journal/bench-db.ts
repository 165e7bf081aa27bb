/** A fresh, migrated database for one benchmark run, dropped afterwards. */
import { randomBytes } from 'node:crypto';
import { Client, type Pool } from 'pg';
import { createPool } from '../../src/persistence/database';
import { ensureDatabase } from '../../src/persistence/ensure-database';
import { migrate } from '../../src/persistence/migrate';

const SERVER = process.env.BENCH_DATABASE_SERVER ?? 'postgres://postgres@127.0.0.1:5432';

export interface BenchDatabase {
  pool: Pool;
  drop(): Promise<void>;
}

export async function freshDatabase(poolSize: number): Promise<BenchDatabase> {
  const name = `ovation_bench_${randomBytes(4).toString('hex')}`;
  const url = `${SERVER}/${name}`;
  await ensureDatabase(url);
  const pool = createPool(url, poolSize);
  await migrate(pool);
  return {
    pool,
    async drop() {
      await pool.end();
      const admin = new Client({ connectionString: `${SERVER}/postgres` });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}
