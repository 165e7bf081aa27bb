/**
 * What one hop between instances costs: a 2-instance cluster (the run's build), one schedule; the
 * same requests sent straight to the schedule's owner and to the other instance (which forwards
 * them), phase after phase, with the CPU of both processes read from /proc around each phase.
 * Two request types: a seat-map read, and a hold of a seat that is already held (the owner's
 * actor decides it and refuses it, 409: a write op's hop without state piling up).
 *
 *   npx ts-node --transpile-only bench/cluster/forward-cost.ts [--seconds 5] [--connections 16] [--save]
 *
 * Needs DATABASE_URL's server (default postgres://postgres@127.0.0.1:5432), Redis and Kafka
 * (npm run services:up). Forwarding cost = (µs of CPU of both instances per request when
 * forwarded) − (the same sent straight to the owner), and the latency it adds (p50, p99).
 */
import autocannon from 'autocannon';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { startLocalCluster } from '../../scripts/cluster/local-cluster';
import { processCpuSecondsPrecise } from '../proc-stats';
import { buildServer, dropDatabase, REPO_ROOT } from '../server-process';

const argv = process.argv.slice(2);
const option = (name: string, fallback: number) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : fallback);
const seconds = option('--seconds', 5);
const connections = option('--connections', 16);
const save = argv.includes('--save');
const ADMIN = 'forward-cost-admin';
const POSTGRES = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

interface Phase {
  request: 'seat map' | 'hold (409)';
  via: 'owner' | 'other (forwarded)';
  req_per_s: number;
  p50_ms: number;
  p99_ms: number;
  non_2xx_4xx: number;
  owner_cpu_us_per_req: number;
  other_cpu_us_per_req: number;
  total_cpu_us_per_req: number;
}

async function json(url: string, init: RequestInit = {}): Promise<any> {
  const response = await fetch(url, { ...init, headers: { 'content-type': 'application/json', 'x-admin-key': ADMIN, ...(init.headers ?? {}) } });
  const body = await response.json();
  if (!response.ok) throw new Error(`${init.method ?? 'GET'} ${url} → ${response.status} ${JSON.stringify(body)}`);
  return body;
}

async function main(): Promise<void> {
  const runId = `fc${Date.now().toString(36)}`;
  const built = await buildServer(runId);
  const database = `bench_${runId}`;
  const databaseUrl = POSTGRES.replace(/\/[^/]*$/, `/${database}`);
  const cluster = await startLocalCluster({
    instances: 2,
    serverEntry: built.entry,
    logDir: join(REPO_ROOT, 'bench', 'results', 'tmp', runId),
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      REDIS_KEY_PREFIX: `bench:${runId}:`,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
      ADMIN_API_KEY: ADMIN,
      LOG_LEVEL: 'warn',
      CLUSTER_GROUP_ID: `bench-${runId}`,
      CLUSTER_TOPIC: `bench.ownership.${runId}`,
      QUEUE_MAX_ACTIVE: '100000',
      RATE_LIMIT_TOKEN_ISSUE_PER_USER: '0',
      RATE_LIMIT_TOKEN_ISSUE_PER_IP: '0',
      RATE_LIMIT_HOLDS_PER_TOKEN: '0',
    },
  });
  try {
    const [a, b] = cluster.instances as [(typeof cluster.instances)[0], (typeof cluster.instances)[0]];
    const concert = await json(`${a.url}/v1/admin/concerts`, {
      method: 'POST',
      body: JSON.stringify({ title: 'Forward cost', venue: 'Hall', schedules: [{ startsAt: '2099-01-01T19:00:00Z', seatCount: 100, price: 100 }] }),
    });
    const scheduleId: string = concert.schedules[0].scheduleId;
    const { schedule } = await json(`${a.url}/v1/admin/cluster?scheduleId=${scheduleId}`);
    const [owner, other] = schedule.ownerUrl === a.url ? [a, b] : [b, a];
    const userId = randomUUID();
    const token = await json(`${owner.url}/v1/queue/tokens`, { method: 'POST', body: JSON.stringify({ userId, concertId: concert.concertId }) });
    if (token.status !== 'ACTIVE') throw new Error('the token is not ACTIVE');
    const holdBody = JSON.stringify({ scheduleId, seatNos: [1] });
    await json(`${owner.url}/v1/reservations`, { method: 'POST', headers: { 'queue-token': token.token }, body: holdBody });

    const phases: Phase[] = [];
    for (const request of ['seat map', 'hold (409)'] as const) {
      for (const [via, target] of [['owner', owner], ['other (forwarded)', other]] as const) {
        const options =
          request === 'seat map'
            ? { url: `${target.url}/v1/schedules/${scheduleId}/seats` }
            : { url: `${target.url}/v1/reservations`, method: 'POST' as const, headers: { 'content-type': 'application/json', 'queue-token': token.token }, body: holdBody };
        await autocannon({ ...options, connections, duration: 1 }); // warm-up
        const before = [processCpuSecondsPrecise(owner.pid)!, processCpuSecondsPrecise(other.pid)!];
        const result = await autocannon({ ...options, connections, duration: seconds });
        const after = [processCpuSecondsPrecise(owner.pid)!, processCpuSecondsPrecise(other.pid)!];
        const total = result.requests.total;
        const perRequest = (index: number) => Math.round(((after[index]! - before[index]!) * 1e6) / total);
        const expected = request === 'seat map' ? 200 : 409;
        phases.push({
          request,
          via,
          req_per_s: Math.round(total / seconds),
          p50_ms: result.latency.p50,
          p99_ms: result.latency.p99,
          non_2xx_4xx: total - (result.statusCodeStats?.[String(expected) as '200']?.count ?? 0),
          owner_cpu_us_per_req: perRequest(0),
          other_cpu_us_per_req: perRequest(1),
          total_cpu_us_per_req: perRequest(0) + perRequest(1),
        });
      }
    }
    const cost = (request: Phase['request']) => {
      const [direct, forwarded] = phases.filter((p) => p.request === request);
      return {
        request,
        cpu_us_per_forwarded_request: forwarded!.total_cpu_us_per_req - direct!.total_cpu_us_per_req,
        added_p50_ms: Math.round((forwarded!.p50_ms - direct!.p50_ms) * 100) / 100,
        added_p99_ms: Math.round((forwarded!.p99_ms - direct!.p99_ms) * 100) / 100,
      };
    };
    const report = {
      benchmark: 'forward-cost',
      command: `npx ts-node --transpile-only bench/cluster/forward-cost.ts --seconds ${seconds} --connections ${connections}`,
      machine: { cpus: cpus().length, model: cpus()[0]?.model.trim(), node: process.version, loadavg_at_start: loadavg() },
      started_at: new Date().toISOString(),
      phases,
      forwarding: [cost('seat map'), cost('hold (409)')],
    };
    console.table(phases);
    console.table(report.forwarding);
    if (phases.some((p) => p.non_2xx_4xx > 0)) console.log('! some answers were not the expected status: see non_2xx_4xx');
    if (save) {
      const dir = join(REPO_ROOT, 'bench', 'results');
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `forward-cost-${report.started_at.slice(0, 10)}.json`);
      writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
      console.log(`saved ${file}`);
    }
  } finally {
    await cluster.stop();
    await dropDatabase(POSTGRES, database).catch(() => undefined);
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error('forward-cost failed:', error);
    process.exit(1);
  },
);
