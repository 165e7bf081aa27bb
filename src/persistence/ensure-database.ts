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
    if ((error as { code?: string }).code !== '42P04') throw error; // created meanwhile by another instance
  } finally {
    await admin.end();
  }
}
