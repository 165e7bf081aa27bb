/**
 * Boots the real app (same composition root as main.ts) on a database of its own and a Redis key
 * prefix of its own. `restart()` builds a new app over the same data, as a server restart would.
 *
 * TEST_QUEUE=memory starts apps with REDIS_URL '' (embedded mode's in-process waiting line and
 * rate-limit counters); a suite may still pass REDIS_URL itself. An in-process line does not
 * survive `restart()`: every token is gone afterwards, as after a restart of an empty Redis.
 */
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { loadConfig, type Config } from '../../src/config';
import { createOvation, type Ovation } from '../../src/runtime';
import { createTestDatabase, type TestDatabase } from './test-database';
import { GENEROUS_RATE_LIMITS } from './rate-limits';

export const ADMIN_KEY = 'test-admin-key';

/** The waiting line the apps use: 'redis' (default) or 'memory' (TEST_QUEUE=memory, REDIS_URL unset). */
export const TEST_QUEUE: 'redis' | 'memory' = process.env.TEST_QUEUE === 'memory' ? 'memory' : 'redis';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Behavioural suites run against every engine (TEST_ENGINES=actor narrows it while developing).
 * Not the lock engine when TEST_QUEUE=memory: it locks seats in Redis, and loadConfig refuses it
 * without REDIS_URL.
 */
export const ENGINES = (process.env.TEST_ENGINES ?? 'actor,lock,sql')
  .split(',')
  .filter((engine) => !(TEST_QUEUE === 'memory' && engine === 'lock'));
const REDIS_URL = TEST_QUEUE === 'memory' ? '' : TEST_REDIS_URL;

export interface TestApp extends Ovation {
  config: Config;
  database: TestDatabase;
  /** `whileStopped` runs between the stop and the start (e.g. to let a deadline pass while no server runs). */
  restart(env?: Record<string, string>, whileStopped?: () => Promise<void>): Promise<void>;
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
    async restart(extra = {}, whileStopped) {
      await ovation.app.close();
      await whileStopped?.();
      config = configFor(extra);
      ovation = await createOvation(config, { poolSize: 10 });
    },
    async close() {
      if (closed) return;
      closed = true;
      await ovation.app.close();
      await database.drop();
      // The shared Redis only: a suite's private Redis goes away with it (and may be stopped now).
      if (config.redisUrl === TEST_REDIS_URL) await deleteKeys(TEST_REDIS_URL, prefix);
    },
  };
  return testApp;
}

async function deleteKeys(redisUrl: string, prefix: string): Promise<void> {
  const redis = new Redis(redisUrl);
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
