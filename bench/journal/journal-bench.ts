/**
 * Durable holds per second through the actor engine's journal: group commit against the
 * one-transaction-per-command writer (JOURNAL_MAX_BATCH=1), on ONE hot schedule and spread over
 * 100 schedules, measured in the same run. In-process (no HTTP), so that it measures the actor
 * and its journal, not Fastify; every hold is committed to PostgreSQL before it counts.
 *
 *   npx ts-node --transpile-only bench/journal/journal-bench.ts [--seconds 10] [--clients 256] [--json file]
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { ActorEngine } from '../../src/actors/actor-engine';
import { CatalogueRepository } from '../../src/persistence/catalogue-repository';
import { freshDatabase } from './bench-db';
import { machine, percentiles, type Percentiles } from './stats';

interface Args {
  seconds: number;
  clients: number;
  json?: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { seconds: 10, clients: 256 };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--seconds') args.seconds = Number(value);
    else if (flag === '--clients') args.clients = Number(value);
    else if (flag === '--json') args.json = value;
    else throw new Error(`unknown flag ${flag} (expected --seconds, --clients, --json)`);
  }
  if (!(args.seconds > 0) || !(args.clients > 0)) throw new Error('--seconds and --clients must be positive numbers');
  return args;
}

interface RunResult {
  writer: string;
  schedules: number;
  holds: number;
  holdsPerSecond: number;
  commits: number;
  commitsPerSecond: number;
  avgBatch: number;
  maxBatch: number;
  latencyMs: Percentiles;
  failures: number;
}

/** Enough seats that no run sells out: 100,000 on the hot schedule, 5,000 on each of 100. */
const seatsPerSchedule = (schedules: number) => (schedules === 1 ? 100_000 : 5_000);

async function run(writer: 'group commit' | 'per command', schedules: number, args: Args): Promise<RunResult> {
  const db = await freshDatabase(24);
  try {
    const catalogue = new CatalogueRepository(db.pool);
    const concert = await catalogue.createConcert({
      title: 'journal bench',
      schedules: Array.from({ length: schedules }, (_, i) => ({
        startsAt: new Date(Date.UTC(2027, 0, 1 + i)).toISOString(),
        seatCount: seatsPerSchedule(schedules),
        price: 1_000,
      })),
    });
    let commits = 0;
    let events = 0;
    let maxBatch = 0;
    const engine = new ActorEngine({
      db: db.pool,
      loadCatalogue: (id) => catalogue.loadSeatCatalogue(id),
      settings: {
        holdTtlMs: 600_000,
        holdMaxMs: 900_000,
        maxSeatsPerUser: 4,
        outboxTopic: 'bench',
        snapshotEveryEvents: Number(process.env.BENCH_SNAPSHOT_EVERY ?? 10_000),
        snapshotEveryMs: 60_000,
        writer: { maxBatch: writer === 'group commit' ? 1_024 : 1, lingerMs: 0 },
      },
      commitsInFlight: 4,
      mailboxCapacity: 100_000,
      requestTimeoutMs: 30_000,
      idleMs: 600_000,
      observer: {
        committed: (n) => {
          commits++;
          events += n;
          maxBatch = Math.max(maxBatch, n);
        },
      },
    });
    await engine.start();
    const scheduleIds = concert.schedules.map((s) => s.scheduleId);
    await Promise.all(scheduleIds.map((id) => engine.availableSeats(id))); // recover every actor first
    const nextSeat = new Map(scheduleIds.map((id) => [id, 1]));

    const latencies: number[] = [];
    let failures = 0;
    let measuring = false;
    const deadline = { warmup: Date.now() + 1_000, end: Date.now() + 1_000 + args.seconds * 1_000 };
    let measuredFrom = 0;
    const client = async (index: number) => {
      let round = 0;
      while (Date.now() < deadline.end) {
        const scheduleId = scheduleIds[(index + round++) % scheduleIds.length]!;
        const seat = nextSeat.get(scheduleId)!;
        if (seat > seatsPerSchedule(schedules)) break;
        nextSeat.set(scheduleId, seat + 1);
        const started = performance.now();
        const result = await engine
          .hold({ reservationId: randomUUID(), userId: randomUUID(), scheduleId, seatNos: [seat] })
          .catch(() => undefined);
        if (!measuring && Date.now() >= deadline.warmup) {
          measuring = true;
          measuredFrom = Date.now();
          commits = 0;
          events = 0;
          maxBatch = 0;
          latencies.length = 0;
          failures = 0;
        }
        if (result?.ok) latencies.push(performance.now() - started);
        else failures++;
      }
    };
    await Promise.all(Array.from({ length: args.clients }, (_, i) => client(i)));
    const elapsed = (Date.now() - measuredFrom) / 1000;
    await engine.stop();
    return {
      writer,
      schedules,
      holds: latencies.length,
      holdsPerSecond: Math.round(latencies.length / elapsed),
      commits,
      commitsPerSecond: Math.round(commits / elapsed),
      avgBatch: Math.round((events / Math.max(1, commits)) * 10) / 10,
      maxBatch,
      latencyMs: percentiles(latencies),
      failures,
    };
  } finally {
    await db.drop();
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const env = machine();
  console.log(`journal bench: ${env.cpus} cores (${env.model}), node ${env.node}, ${args.clients} clients, ${args.seconds} s per run`);
  const results: RunResult[] = [];
  for (const schedules of (process.env.BENCH_SCHEDULES ?? '1,100').split(',').map(Number)) {
    for (const writer of ['per command', 'group commit'] as const) {
      const result = await run(writer, schedules, args);
      results.push(result);
      console.log(
        `${String(schedules).padStart(3)} schedule(s)  ${writer.padEnd(12)}  ${String(result.holdsPerSecond).padStart(6)} holds/s` +
          `  p50 ${result.latencyMs.p50} ms  p95 ${result.latencyMs.p95} ms  p99 ${result.latencyMs.p99} ms` +
          `  ${result.commitsPerSecond} commits/s  avg batch ${result.avgBatch} (max ${result.maxBatch})  failures ${result.failures}`,
      );
    }
    const [perCommand, group] = results.slice(-2);
    console.log(`    → group commit / per command: ×${(group!.holdsPerSecond / Math.max(1, perCommand!.holdsPerSecond)).toFixed(1)}`);
  }
  if (args.json) {
    writeFileSync(args.json, JSON.stringify({ benchmark: 'journal', machine: env, params: args, results }, null, 2));
    console.log(`wrote ${args.json}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
