/**
 * The actor engine as a cluster for the harness: engine label `actor-x<n>` = n instances of the
 * run's build behind the round-robin front of `npm run cluster` (scripts/cluster), on a fresh
 * database, its own ownership group and topic, the run's Redis and the Kafka of
 * `npm run services:up` (KAFKA_BROKERS, default 127.0.0.1:9092). `actor-x1` is one instance
 * behind the same front: the baseline of the forwarding cost, since only the hop differs.
 *
 * The front runs in the harness's own process (not the load generator's): its CPU is not the
 * server's; the server's CPU is the sum over the instances.
 */
import { Kafka, logLevel } from 'kafkajs';
import { join } from 'node:path';
import { startLocalCluster, type LocalCluster } from '../scripts/cluster/local-cluster';
import { execFileSync } from 'node:child_process';
import { deleteKeys, dropDatabase, REPO_ROOT, StartError, TMP_DIR, type ServerExit } from './server-process';

const LOCAL_KAFKA = '127.0.0.1:9092';

export const CLUSTER_ENGINE = /^actor-x([1-9])$/;

export function clusterSize(engine: string): number | undefined {
  const match = CLUSTER_ENGINE.exec(engine);
  return match ? Number(match[1]) : undefined;
}

export interface ClusterServerOptions {
  instances: number;
  entry: string;
  runId: string;
  label: string;
  databaseBaseUrl: string;
  redisUrl: string;
  adminKey: string;
  env: Record<string, string>;
}

export class ClusterServer {
  private constructor(
    private readonly cluster: LocalCluster,
    readonly databaseUrl: string,
    readonly databaseName: string,
    readonly keyPrefix: string,
    readonly topic: string,
    readonly logFile: string,
    private readonly kafkaBrokers: string,
  ) {}

  get url(): string {
    return this.cluster.frontUrl;
  }

  /** Every instance: the server's CPU is theirs together. */
  get pids(): number[] {
    return this.cluster.instances.map((instance) => instance.pid);
  }

  get adminUrl(): string {
    return this.databaseUrl.replace(/\/[^/]*$/, '/postgres');
  }

  static async start(options: ClusterServerOptions): Promise<ClusterServer> {
    const name = `bench_${options.runId}_${options.label}_x${options.instances}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
    const databaseUrl = `${options.databaseBaseUrl.replace(/\/[^/]*$/, '')}/${name}`;
    await dropDatabase(options.databaseBaseUrl, name);
    const keyPrefix = `bench:${options.runId}:${options.label}:x${options.instances}:`;
    const topic = `bench.ownership.${options.runId}.${options.label}.x${options.instances}`;
    const kafkaBrokers = process.env.KAFKA_BROKERS ?? LOCAL_KAFKA;
    // The local broker of `npm run services:up`, started when it is not running (idempotent).
    if (kafkaBrokers === LOCAL_KAFKA) execFileSync('bash', [join(REPO_ROOT, 'scripts', 'kafka.sh'), 'start'], { stdio: 'ignore', timeout: 120_000 });
    const logDir = join(TMP_DIR, `${options.runId}-${options.label}-x${options.instances}`);
    try {
      const cluster = await startLocalCluster({
        instances: options.instances,
        serverEntry: options.entry,
        logDir,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          NODE_ENV: 'production',
          DATABASE_URL: databaseUrl,
          REDIS_URL: options.redisUrl,
          REDIS_KEY_PREFIX: keyPrefix,
          KAFKA_BROKERS: kafkaBrokers,
          RESERVATION_ENGINE: 'actor',
          ADMIN_API_KEY: options.adminKey,
          LOG_LEVEL: 'warn',
          CLUSTER_GROUP_ID: `bench-${options.runId}-${options.label}-x${options.instances}`,
          CLUSTER_TOPIC: topic,
          // As ServerProcess: the benchmarks measure the engine, not the rate limits.
          RATE_LIMIT_TOKEN_ISSUE_PER_USER: '0',
          RATE_LIMIT_TOKEN_ISSUE_PER_IP: '0',
          RATE_LIMIT_HOLDS_PER_TOKEN: '0',
          ...options.env,
        },
      });
      return new ClusterServer(cluster, databaseUrl, name, keyPrefix, topic, join(logDir, 'instance-1.log'), kafkaBrokers);
    } catch (error) {
      await dropDatabase(options.databaseBaseUrl, name).catch(() => undefined);
      throw new StartError(error instanceof Error ? error.message : String(error));
    }
  }

  async stop(): Promise<ServerExit> {
    await this.cluster.stop();
    const exits = await Promise.all(this.cluster.instances.map((instance) => instance.exited));
    const failed = exits.find((code) => code !== 0);
    return {
      code: failed === undefined ? 0 : typeof failed === 'number' ? failed : null,
      signal: typeof failed === 'string' ? failed : null,
      warnings: 0,
      warningSamples: [],
    };
  }

  /** Drops the database, the Redis keys and the ownership topic of this cluster. */
  async cleanUp(databaseBaseUrl: string, redisUrl: string): Promise<void> {
    await dropDatabase(databaseBaseUrl, this.databaseName);
    await deleteKeys(redisUrl, this.keyPrefix);
    const admin = new Kafka({ clientId: 'ovation-bench', brokers: this.kafkaBrokers.split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      await admin.deleteTopics({ topics: [this.topic], timeout: 10_000 });
    } finally {
      await admin.disconnect();
    }
  }
}
