/**
 * Once per `npm test`: make sure the migrated template exists (built under another name and
 * renamed, so no run ever clones a half-migrated one), and clear leftovers of runs that died
 * hours ago. Databases of runs still going are left alone.
 */
import { buildTemplate, createdAt, TEMPLATE_DATABASE, TEST_DATABASE_PREFIX, withAdminClient } from './test-database';

const ABANDONED_AFTER_SECONDS = 3 * 3600;

export default async function globalSetup(): Promise<void> {
  const exists = await withAdminClient(async (client) => {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [TEMPLATE_DATABASE]);
    return rowCount === 1;
  });
  if (!exists) await buildTemplate();
  await dropLeftovers();
}

async function dropLeftovers(): Promise<void> {
  const now = Date.now() / 1000;
  await withAdminClient(async (client) => {
    const { rows } = await client.query<{ datname: string; comment: string | null }>(
      `SELECT datname, shobj_description(oid, 'pg_database') AS comment FROM pg_database
       WHERE datname LIKE 'ovation\\_t\\_%' OR (datname LIKE 'ovation\\_tpl\\_%' AND datname <> $1)`,
      [TEMPLATE_DATABASE],
    );
    for (const { datname, comment } of rows) {
      // Another template may belong to a run of another branch on this server (other migrations):
      // dropping it would fail that run's next clone, so only templates built hours ago go.
      const born = datname.startsWith(TEST_DATABASE_PREFIX) ? createdAt(datname) : templateBuiltAt(comment);
      const abandoned = born === undefined || now - born > ABANDONED_AFTER_SECONDS;
      if (abandoned) await client.query(`DROP DATABASE IF EXISTS ${datname}`).catch(() => undefined); // in use: next time
    }
  });
}

function templateBuiltAt(comment: string | null): number | undefined {
  const match = /^built (\d+)$/.exec(comment ?? '');
  // No build time: one being built right now, or one from before build times were recorded (a few MB): left alone.
  return match ? Number(match[1]) : Number.POSITIVE_INFINITY;
}
