/**
 * Confirmation latency at a target payment rate: how long after a payment commits does its
 * ReservationConfirmed record reach a Kafka consumer, through the real server's outbox relay?
 *
 * Two phases in one run, each on its own fresh database and server (built once from this tree):
 * relay OFF (server without KAFKA_BROKERS) and relay ON (the server's relay publishes to a fresh
 * topic on the shared broker). In both, this process writes payments at `--rate` per second
 * (open model, the real money statement, see payment-writer.ts), so the payment commit latency
 * with and without the relay is a ratio from the same run. Relay ON adds a consumer process that
 * times each confirmation (confirm-consumer.ts). Goal: confirmation p99 < 100 ms at 1,000/s.
 *
 *   npx ts-node --transpile-only bench/outbox/confirmation-latency.ts [--rate 1000] [--duration 20] [--json file]
 */
import { buildServer, serverEntryFromDist, ServerProcess, TMP_DIR } from '../server-process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { DATABASE_SERVER, runStamp } from './bench-database';
import { runPhase, type PhaseResult } from './confirmation-phase';
import { parseFlags, UsageError } from './flags';
import { DEFAULT_BROKERS } from './kafka-topic';
import { describeMachine, machineLine, markdownTable, writeJson } from './report';

const GOAL = { p99BelowMs: 100, atRate: 1_000 };

const flags = parseFlags('usage: npx ts-node --transpile-only bench/outbox/confirmation-latency.ts [flags]', {
  rate: { default: 1_000, help: 'payments started per second (open model)' },
  duration: { default: 20, help: 'measured seconds per phase' },
  warmup: { default: 2, help: 'seconds at the same rate before the window (not measured)' },
  'max-in-flight': { default: 64, help: 'payments in flight at most; a payment due beyond that is dropped and counted' },
  connections: { default: 32, help: "the writer's PostgreSQL pool size" },
  schedules: { default: 100, help: 'schedules the payments spread over (the record key)' },
  'idle-poll-ms': { default: 50, help: "the server's OUTBOX_IDLE_POLL_MS" },
  'batch-size': { default: 500, help: "the server's OUTBOX_BATCH_SIZE" },
  partitions: { default: 1, help: 'partitions of the fresh topic (the shared broker auto-creates with 1)' },
  'server-pgoptions': { default: '', help: 'PGOPTIONS of the server process (experiments, e.g. --server-pgoptions="-c synchronous_commit=off"; the server does no other database work here)' },
  phases: { default: 'off,on', help: 'relay phases in order: off,on | on,off | on | off' },
  'confirm-timeout-s': { default: 30, help: 'how long to wait for the last confirmations after the writer' },
  brokers: { default: DEFAULT_BROKERS, help: 'Kafka bootstrap brokers (shared broker)' },
  'redis-url': { default: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', help: 'Redis of the servers (keys under a bench prefix, deleted afterwards)' },
  'no-build': { default: false, help: 'run dist/src/main.js as it is instead of building this tree' },
  json: { default: '', help: 'write the result as JSON to this file' },
});

function phaseRows(results: PhaseResult[]) {
  return results.map((r) => [
    r.relay,
    r.paymentsDue,
    r.achievedPerSecond,
    r.dropped,
    r.failed,
    r.commitMs.p50,
    r.commitMs.p99,
    r.dueToCommitMs.p99,
    r.confirmation?.latencyMs.p50,
    r.confirmation?.latencyMs.p95,
    r.confirmation?.latencyMs.p99,
    r.confirmation?.latencyMs.max,
    r.confirmation?.missing,
    r.cpuPct.server,
    r.cpuPct.postgresBackends,
    r.cpuPct.broker,
    r.cpuPct.writer,
    r.cpuPct.consumer,
    r.cpuPct.others,
    r.cpuPct.machine,
    r.cpuPct.machineBeforePhase,
  ]);
}

async function main(): Promise<void> {
  const order = flags.phases.split(',').map((p) => p.trim());
  if (order.length === 0 || order.some((p) => p !== 'on' && p !== 'off')) throw new UsageError('--phases must list on and/or off');
  const machine = await describeMachine(DATABASE_SERVER);
  console.log(machineLine(machine));
  const run = runStamp();
  const build = flags['no-build'] ? undefined : await buildServer(`outbox-${run}`);
  const serverEntry = build?.entry ?? serverEntryFromDist();
  if (build) console.log(`built the server in ${build.seconds} s`);
  const results: PhaseResult[] = [];
  try {
    for (const relay of order as ('on' | 'off')[]) {
      console.log(`phase relay ${relay.toUpperCase()}: ${flags.rate}/s for ${flags.warmup} + ${flags.duration} s …`);
      results.push(
        await runPhase(relay, {
          run,
          serverEntry,
          brokers: flags.brokers,
          redisUrl: flags['redis-url'],
          rate: flags.rate,
          warmupS: flags.warmup,
          durationS: flags.duration,
          maxInFlight: flags['max-in-flight'],
          connections: flags.connections,
          schedules: flags.schedules,
          idlePollMs: flags['idle-poll-ms'],
          batchSize: flags['batch-size'],
          partitions: flags.partitions,
          confirmTimeoutS: flags['confirm-timeout-s'],
          serverPgOptions: flags['server-pgoptions'],
        }),
      );
    }
  } finally {
    if (build) rmSync(join(TMP_DIR, `build-outbox-${run}`), { recursive: true, force: true });
  }

  console.log(
    `\n${markdownTable(
      ['relay', 'payments due', 'achieved /s', 'dropped', 'failed', 'commit p50 ms', 'commit p99 ms', 'due→commit p99 ms', 'confirm p50 ms', 'confirm p95 ms', 'confirm p99 ms', 'confirm max ms', 'missing', 'server CPU %', 'PG CPU %', 'broker CPU %', 'writer CPU %', 'consumer CPU %', 'others CPU %', 'machine CPU %', 'machine % before'],
      phaseRows(results),
    )}\n`,
  );
  const on = results.find((r) => r.relay === 'on');
  const off = results.find((r) => r.relay === 'off');
  const ratio = on && off ? { commitP50: round3(on.commitMs.p50 / off.commitMs.p50), commitP99: round3(on.commitMs.p99 / off.commitMs.p99) } : undefined;
  if (ratio) console.log(`payment commit latency, relay on ÷ off: p50 ${ratio.commitP50}×, p99 ${ratio.commitP99}×`);
  if (on?.confirmation) {
    const c = on.confirmation;
    console.log(`confirmation split (p50 / p99 ms): commit → relay sends ${c.relayPickupMs.p50} / ${c.relayPickupMs.p99}; sent → consumer ${c.deliveryMs.p50} / ${c.deliveryMs.p99}`);
    console.log(`relay (server /metrics over the window): ${JSON.stringify(on.relayMetrics)}`);
  }
  for (const r of results) console.log(`WAL per payment, relay ${r.relay} (pg_stat_wal, cluster-wide): ${JSON.stringify(r.walPerPayment)}`);
  for (const r of results) console.log(`PostgreSQL active backends, relay ${r.relay} (${r.postgresActivity.samples} samples): ${JSON.stringify(r.postgresActivity.byState)}`);
  const goalMet = on?.confirmation !== undefined && on.confirmation.missing === 0 && on.confirmation.latencyMs.p99 < GOAL.p99BelowMs && on.achievedPerSecond >= GOAL.atRate * 0.99 && flags.rate >= GOAL.atRate;
  if (on) console.log(`goal (confirmation p99 < ${GOAL.p99BelowMs} ms at ${GOAL.atRate}/s): ${goalMet ? 'MET' : 'MISSED'}`);
  if (flags.json) {
    writeJson(flags.json, {
      scenario: 'outbox-confirmation-latency',
      machine,
      params: { ...flags, serverIdlePollMs: flags['idle-poll-ms'], relayIn: 'the real server (src/main.ts, built), not nudged by direct-SQL payments' },
      goal: { ...GOAL, met: goalMet },
      commitLatencyRatioOnOverOff: ratio,
      results,
    });
  }
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;

// Ctrl-C: stop the servers and drop their databases before leaving.
process.once('SIGINT', () => void ServerProcess.cleanUpAll().finally(() => process.exit(130)));

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
