/**
 * Once per `npm test`: make sure the migrated template exists (built under another name and
 * renamed, so no run ever clones a half-migrated one), and clear leftovers of runs that died
 * hours ago. Databases of runs still going are left alone.
 */
import { createPool } from '../../src/persistence/database';
import { migrate } from '../../src/persistence/migrate';
import { createdAt, databaseUrl, TEMPLATE_DATABASE, TEST_DATABASE_PREFIX, withAdminClient } from './test-database';

const ABANDONED_AFTER_SECONDS = 3 * 3600;

export default async function globalSetup(): Promise<void> {
  const exists = await withAdminClient(async (client) => {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [TEMPLATE_DATABASE]);
    return rowCount === 1;
  });
  if (!exists) await buildTemplate();
  await dropLeftovers();
}

async function buildTemplate(): Promise<void> {
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
      await client.query(`ALTER DATABASE ${building} RENAME TO ${TEMPLATE_DATABASE}`);
    } catch {
      await client.query(`DROP DATABASE IF EXISTS ${building}`); // another run built it first
    }
  });
}

async function dropLeftovers(): Promise<void> {
  const now = Date.now() / 1000;
  await withAdminClient(async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE 'ovation\\_t\\_%' OR (datname LIKE 'ovation\\_tpl\\_%' AND datname <> $1)`,
      [TEMPLATE_DATABASE],
    );
    for (const { datname } of rows) {
      const born = createdAt(datname);
      const abandoned = datname.startsWith(TEST_DATABASE_PREFIX) ? born === undefined || now - born > ABANDONED_AFTER_SECONDS : true;
      if (abandoned) await client.query(`DROP DATABASE IF EXISTS ${datname}`).catch(() => undefined); // in use: next time
    }
  });
}
