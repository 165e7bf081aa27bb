/**
 * The behavioural suites again, in embedded mode (the npm start default): the embedded PostgreSQL
 * of src/persistence/embedded (a data folder of this run) and the in-process waiting line, so the
 * two modes cannot drift. Test workers inherit the environment set here.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../../src/persistence/embedded/embedded-postgres';

declare global {
  // eslint-disable-next-line no-var -- read by embedded-global-teardown.ts in the same process
  var ovationEmbeddedPostgres: { server: EmbeddedPostgres; dataDir: string } | undefined;
}

export default async function embeddedGlobalSetup(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ovation-embedded-tests-'));
  const server = await startEmbeddedPostgres(dataDir, () => undefined);
  globalThis.ovationEmbeddedPostgres = { server, dataDir };
  process.env.TEST_DATABASE_ADMIN_URL = server.adminUrl;
  process.env.TEST_QUEUE = 'memory';
  // Loaded only now: test-database.ts reads TEST_DATABASE_ADMIN_URL when it is first imported.
  const { default: globalSetup } = await import('./global-setup');
  await globalSetup();
}
