/**
 * Everything the server under soak talks to, each of its own so faults hurt nobody else:
 *  - a fresh database on the shared PostgreSQL (CREATE DATABASE; the server migrates it), reached
 *    by the server through a TCP proxy (cut, heal, reset) and by the checks directly;
 *  - a private Redis (killed and restarted empty);
 *  - a private Kafka broker (stopped and started) with the run's own topic;
 *  - the card gateway simulator (outages, timeouts, a little latency and a few errors).
 * `teardown()` undoes all of it, whatever state it is in, once.
 */
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { Client, Pool } from 'pg';
import { startGatewaySimulator, type GatewaySimulator, type SimulatorKnobs } from '../../src/payments/gateway-simulator';
import { startPrivateKafka, type PrivateKafka } from '../../test/support/kafka-broker';
import { startPrivateRedis, type PrivateRedis } from '../../test/support/private-redis';
import { startTcpProxy, type TcpProxy } from '../../test/support/tcp-proxy';

export const ADMIN_URL = process.env['SOAK_DATABASE_ADMIN_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The gateway's everyday behaviour; faults change it for a while and put this back. */
export const GATEWAY_BASELINE: Partial<SimulatorKnobs> = {
  latencyMs: 30,
  latencyJitterMs: 20,
  errorRate: 0.01,
  declineRate: 0.02,
  timeoutRate: 0.002,
  hangMs: 3_000,
  outage: false,
};

export interface Environment {
  runId: string;
  databaseName: string;
  /** Direct URL (no proxy): the checks' view. */
  databaseUrl: string;
  /** Through the proxy: what the server uses. */
  serverDatabaseUrl: string;
  db: Pool;
  proxy: TcpProxy;
  redis: PrivateRedis;
  kafka: PrivateKafka;
  topic: string;
  gateway: GatewaySimulator;
  teardown(): Promise<string[]>;
}

async function withAdmin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: ADMIN_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function databaseUrl(name: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

async function createTopic(brokers: string, topic: string): Promise<void> {
  const admin = new Kafka({ clientId: 'ovation-soak-admin', brokers: [brokers], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: 3, replicationFactor: 1 }] });
  } finally {
    await admin.disconnect();
  }
}

export async function startEnvironment(seed: number, log: (message: string) => void): Promise<Environment> {
  const runId = `${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '')}_${randomBytes(3).toString('hex')}`;
  const undo: Array<{ what: string; run: () => Promise<unknown> }> = [];
  let tornDown: Promise<string[]> | undefined;
  const teardown = (): Promise<string[]> =>
    (tornDown ??= (async () => {
      const problems: string[] = [];
      for (const step of undo.reverse()) {
        try {
          await step.run();
        } catch (error) {
          problems.push(`${step.what}: ${(error as Error).message}`);
        }
      }
      return problems;
    })());

  try {
    const databaseName = `soak_${runId}`.toLowerCase();
    await withAdmin((client) => client.query(`CREATE DATABASE ${databaseName}`));
    undo.push({ what: `drop database ${databaseName}`, run: () => withAdmin((c) => c.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`)) });
    const direct = databaseUrl(databaseName);
    const target = new URL(ADMIN_URL);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    undo.push({ what: 'close the PostgreSQL proxy', run: () => proxy.close() });
    const db = new Pool({ connectionString: direct, max: 3 });
    db.on('error', () => undefined);
    undo.push({ what: 'close the checks’ pool', run: () => db.end() });
    log(`database ${databaseName}; server reaches it through the proxy on ${proxy.address}`);

    const redis = await startPrivateRedis();
    undo.push({ what: 'remove the private Redis', run: () => redis.remove() });
    log(`private Redis on ${redis.url}`);

    const kafkaStarted = Date.now();
    const kafka = await startPrivateKafka();
    undo.push({ what: 'remove the private Kafka broker', run: () => kafka.remove() });
    const topic = `soak.confirmed.${runId}`;
    await createTopic(kafka.brokers, topic);
    log(`private Kafka on ${kafka.brokers} (up in ${((Date.now() - kafkaStarted) / 1000).toFixed(1)} s), topic ${topic}`);

    const gateway = await startGatewaySimulator({ ...GATEWAY_BASELINE, seed });
    undo.push({ what: 'close the gateway simulator', run: () => gateway.close() });
    log(`gateway simulator on ${gateway.url}`);

    return { runId, databaseName, databaseUrl: direct, serverDatabaseUrl: proxy.urlFor(direct), db, proxy, redis, kafka, topic, gateway, teardown };
  } catch (error) {
    const problems = await teardown();
    if (problems.length > 0) console.error(`[soak] clean-up after a failed start: ${problems.join('; ')}`);
    throw error;
  }
}
