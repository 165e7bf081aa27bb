/**
 * Boots the real app (same composition root as main.ts) on a database of its own and a Redis key
 * prefix of its own. `restart()` builds a new app over the same data, as a server restart would.
 */
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { loadConfig, type Config } from '../../src/config';
import { createOvation, type Ovation } from '../../src/runtime';
import { createTestDatabase, type TestDatabase } from './test-database';
import { GENEROUS_RATE_LIMITS } from './rate-limits';

export const ADMIN_KEY = 'test-admin-key';

/** Behavioural suites run against every engine (TEST_ENGINES=actor narrows it while developing). */
export const ENGINES = (process.env.TEST_ENGINES ?? 'actor,lock,sql').split(',');
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestApp extends Ovation {
  config: Config;
  database: TestDatabase;
  restart(env?: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

export async function startTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  const prefix = `test:${randomUUID()}:`;
  const configFor = (extra: Record<string, string>) =>
    loadConfig({
      DATABASE_URL: database.url,
      REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      ADMIN_API_KEY: ADMIN_KEY,
      LOG_LEVEL: 'silent',
      ...GENEROUS_RATE_LIMITS,
      ...env,
      ...extra,
    });
  let config = configFor({});
  let ovation = await createOvation(config, { poolSize: 10 });
  let closed = false;

  const testApp: TestApp = {
    get app() {
      return ovation.app;
    },
    get services() {
      return ovation.services;
    },
    get config() {
      return config;
    },
    database,
    async restart(extra = {}) {
      await ovation.app.close();
      config = configFor(extra);
      ovation = await createOvation(config, { poolSize: 10 });
    },
    async close() {
      if (closed) return;
      closed = true;
      await ovation.app.close();
      await database.drop();
      await deleteKeys(prefix);
    },
  };
  return testApp;
}

async function deleteKeys(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}
