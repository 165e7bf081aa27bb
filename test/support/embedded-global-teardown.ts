import { rmSync } from 'node:fs';

export default async function embeddedGlobalTeardown(): Promise<void> {
  const embedded = globalThis.ovationEmbeddedPostgres;
  if (!embedded) return;
  await embedded.server.stop();
  rmSync(embedded.dataDir, { recursive: true, force: true });
}
