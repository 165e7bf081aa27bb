/**
 * Each test file gets its own database, cloned from a migrated template (fast: a file copy), so
 * files run in parallel and again and again without seeing each other's rows. The template's
 * name carries a hash of the migrations, and test databases carry their creation time, so
 * concurrent test runs on one server never drop each other's databases.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createPool } from '../../src/persistence/database';
import { migrate } from '../../src/persistence/migrate';
import { migrations } from '../../src/persistence/migrations';

export const TEMPLATE_DATABASE = `ovation_tpl_${createHash('sha1')
  .update(migrations.map((m) => `${m.version}:${m.sql}`).join('\n'))
  .digest('hex')
  .slice(0, 12)}`;
export const TEST_DATABASE_PREFIX = 'ovation_t_';
export const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function databaseUrl(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function withAdminClient<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** Epoch seconds in the name: a later run can tell an abandoned database from one in use. */
export function createdAt(name: string): number | undefined {
  const match = new RegExp(`^${TEST_DATABASE_PREFIX}(\\d+)_`).exec(name);
  return match ? Number(match[1]) : undefined;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `${TEST_DATABASE_PREFIX}${Math.floor(Date.now() / 1000)}_${randomBytes(4).toString('hex')}`;
  const clone = () => withAdminClient((client) => client.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DATABASE}`));
  await clone().catch(async (error: { code?: string }) => {
    // 3D000: the template is gone (a run of another branch, with other migrations, dropped it).
    if (error.code !== '3D000') throw error;
    await buildTemplate();
    await clone();
  });
  return {
    name,
    url: databaseUrl(name),
    drop: () => withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/** Migrates a fresh database and renames it to the template, so no run ever clones a half-migrated one. */
export async function buildTemplate(): Promise<void> {
  const building = `${TEMPLATE_DATABASE}_${process.pid}`;
  await withAdminClient((client) => client.query(`CREATE DATABASE ${building}`));
  const pool = createPool(databaseUrl(building), 1);
  try {
    await migrate(pool);
  } finally {
    await pool.end();
  }
  await withAdminClient(async (client) => {
    try {
      // When it was built: runs of other branches (other migrations) leave it alone while it is young.
      await client.query(`COMMENT ON DATABASE ${building} IS 'built ${Math.floor(Date.now() / 1000)}'`);
      await client.query(`ALTER DATABASE ${building} RENAME TO ${TEMPLATE_DATABASE}`);
    } catch {
      await client.query(`DROP DATABASE IF EXISTS ${building}`); // another run built it first
    }
  });
}
