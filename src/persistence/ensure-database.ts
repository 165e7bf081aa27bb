/** Creates the configured database if the server does not have it yet (first start on a new machine). */
import { Client, type ClientConfig } from 'pg';
import { DB_TIMEOUTS } from './database';

/** A start-up against an unreachable server fails in seconds instead of hanging. */
const bounded = (connectionString: string): ClientConfig => ({
  connectionString,
  connectionTimeoutMillis: DB_TIMEOUTS.connectMs,
  query_timeout: 30_000,
});

export async function ensureDatabase(connectionString: string): Promise<void> {
  const url = new URL(connectionString);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (name === '' || name === 'postgres') return;
  const probe = new Client(bounded(connectionString));
  try {
    await probe.connect();
    return;
  } catch (error) {
    // 3D000: invalid_catalog_name, the database does not exist. Anything else is the caller's to see.
    if ((error as { code?: string }).code !== '3D000') throw error;
  } finally {
    await probe.end().catch(() => undefined);
  }
  url.pathname = '/postgres';
  const admin = new Client(bounded(url.toString()));
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } catch (error) {
    // Created meanwhile by another instance: 42P04 (duplicate_database) when its CREATE committed
    // first, 23505 (unique violation on pg_database's name index) when both ran at the same moment,
    // as several instances of `npm run cluster` starting on a new database do.
    const code = (error as { code?: string }).code;
    if (code !== '42P04' && code !== '23505') throw error;
  } finally {
    await admin.end();
  }
}
