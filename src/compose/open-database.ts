import type { Config } from '../config';
import { ensureDatabase } from '../persistence/ensure-database';
import { startEmbeddedPostgres } from '../persistence/embedded/embedded-postgres';

/**
 * The configured PostgreSQL (its database created if missing), or, with DATABASE_URL unset,
 * embedded mode's own server (data under DATA_DIR), stopped when the app closes.
 */
export async function openDatabase(config: Config): Promise<{ url: string; mode: 'external' | 'embedded'; close(): Promise<void> }> {
  if (config.databaseUrl !== undefined) {
    await ensureDatabase(config.databaseUrl);
    return { url: config.databaseUrl, mode: 'external', close: async () => undefined };
  }
  const embedded = await startEmbeddedPostgres(config.dataDir, (message) => console.error(message));
  const url = embedded.databaseUrl('ovation');
  try {
    await ensureDatabase(url);
  } catch (error) {
    await embedded.stop();
    throw error;
  }
  return { url, mode: 'embedded', close: () => embedded.stop() };
}
