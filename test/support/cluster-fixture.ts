/**
 * A three-instance cluster of the real server for one test: its own database, Redis key prefix,
 * ownership group and topic (so runs and files never share a group), behind the round-robin
 * front of `npm run cluster`. Instance logs are kept under .ovation/cluster/test-runs/ for the
 * post-mortem of a failed run; runs older than a day are cleared at the next start.
 */
import { randomBytes } from 'node:crypto';
import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { Pool } from 'pg';
import { DEFAULT_LOG_DIR, startLocalCluster, type LocalCluster } from '../../scripts/cluster/local-cluster';
import { SHARED_KAFKA_BROKERS } from './kafka-broker';
import { GENEROUS_RATE_LIMITS } from './rate-limits';
import { ADMIN_KEY, TEST_REDIS_URL } from './test-app';
import { createTestDatabase, type TestDatabase } from './test-database';

const RUNS_DIR = path.join(DEFAULT_LOG_DIR, 'test-runs');
const KEEP_LOGS_MS = 24 * 3600_000;

export interface ClusterFixture {
  cluster: LocalCluster;
  database: TestDatabase;
  db: Pool;
  /** The environment every instance got (without process.env). */
  env: Record<string, string>;
  logDir: string;
  /** The end of every instance's log, for failure messages. */
  logs(): string;
  close(): Promise<void>;
}

async function clearOldRuns(): Promise<void> {
  const runs = await readdir(RUNS_DIR).catch(() => [] as string[]);
  await Promise.all(
    runs.map(async (run) => {
      const dir = path.join(RUNS_DIR, run);
      const { mtimeMs } = await stat(dir);
      if (Date.now() - mtimeMs > KEEP_LOGS_MS) await rm(dir, { recursive: true, force: true });
    }),
  );
}

/** The shared broker keeps no test's topics (12 partitions each would pile up run after run). */
async function deleteTopics(topics: string[]): Promise<void> {
  const admin = new Kafka({ clientId: 'ovation-test-cleanup', brokers: SHARED_KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING }).admin();
  try {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const ours = topics.filter((topic) => existing.has(topic));
    if (ours.length > 0) await admin.deleteTopics({ topics: ours, timeout: 10_000 });
  } catch {
    // Housekeeping only: a topic left behind harms no other test.
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export async function startClusterFixture(name: string, extraEnv: Record<string, string> = {}): Promise<ClusterFixture> {
  await clearOldRuns();
  const id = randomBytes(4).toString('hex');
  const database = await createTestDatabase();
  const env: Record<string, string> = {
    ...GENEROUS_RATE_LIMITS,
    DATABASE_URL: database.url,
    REDIS_URL: TEST_REDIS_URL,
    KAFKA_BROKERS: SHARED_KAFKA_BROKERS,
    KAFKA_TOPIC_CONFIRMED: `test.confirmed.${id}`,
    REDIS_KEY_PREFIX: `test:cluster:${id}:`,
    ADMIN_API_KEY: ADMIN_KEY,
    LOG_LEVEL: 'warn',
    QUEUE_MAX_ACTIVE: '100000',
    CLUSTER_GROUP_ID: `ovation-test-${name}-${id}`,
    CLUSTER_TOPIC: `ovation.ownership.test-${name}-${id}`,
    CLUSTER_PARTITIONS: '12',
    ...extraEnv,
  };
  const logDir = path.join(RUNS_DIR, `${name}-${id}`);
  let cluster: LocalCluster;
  try {
    cluster = await startLocalCluster({ instances: 3, env: { ...process.env, ...env }, logDir });
  } catch (error) {
    await database.drop();
    throw error;
  }
  const db = new Pool({ connectionString: database.url, max: 4 });
  return {
    cluster,
    database,
    db,
    env,
    logDir,
    logs: () => cluster.instances.map((i) => `--- instance ${i.index} (${i.url}) ---\n${i.logTail(4_096)}`).join('\n'),
    async close() {
      await cluster.stop();
      await db.end();
      await database.drop();
      await deleteTopics([env.CLUSTER_TOPIC!, env.KAFKA_TOPIC_CONFIRMED!]);
    },
  };
}
