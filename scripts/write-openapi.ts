/** Writes docs/openapi.yaml from the route schemas (npm run openapi). A test checks it is current. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config';
import { createOvation } from '../src/runtime';

async function main(): Promise<void> {
  const { app } = await createOvation(loadConfig({ ...process.env, LOG_LEVEL: 'silent' }));
  try {
    await app.ready();
    const target = path.resolve(__dirname, '../docs/openapi.yaml');
    writeFileSync(target, app.swagger({ yaml: true }));
    console.log(`wrote ${target}`);
  } finally {
    await app.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
