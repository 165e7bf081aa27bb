/** Once per `npm test`: a freshly migrated template database, and no leftovers of earlier runs. */
import { createPool } from '../../src/persistence/database';
import { migrate } from '../../src/persistence/migrate';
import { databaseUrl, TEMPLATE_DATABASE, withAdminClient } from './test-database';

export default async function globalSetup(): Promise<void> {
  await withAdminClient(async (client) => {
    const { rows } = await client.query<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE 'ovation\\_t\\_%' OR datname = $1`,
      [TEMPLATE_DATABASE],
    );
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${TEMPLATE_DATABASE}`);
  });
  const pool = createPool(databaseUrl(TEMPLATE_DATABASE), 1);
  try {
    await migrate(pool);
  } finally {
    await pool.end();
  }
}
