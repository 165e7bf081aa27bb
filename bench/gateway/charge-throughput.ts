/**
 * Charges per second through HTTP with a real (simulated) card gateway behind the server's
 * cockatiel policies, against the built-in sandbox gateway in the same run as the baseline.
 *
 * The simulator (src/payments/gateway-simulator.ts) runs in this process: 20 ms ± 5 ms latency,
 * 1 % of requests answered 500 (nothing recorded; the server's retry tries again with the same
 * key). Each target gets the real server (built once from this tree) on a fresh database, and
 * `--vus` closed-loop virtual users (charge-worker.ts, its own process) POST
 * /v1/users/{id}/balance/charges with fresh Idempotency-Keys. The breaker's defaults (failure
 * rate 0.5 over 10 s, at least 10 calls, 2 retries) are left alone: the run checks that it stays
 * closed at 1 % errors.
 *
 *   npx ts-node --transpile-only bench/gateway/charge-throughput.ts [--vus 32] [--duration 20] [--json file]
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startGatewaySimulator, type GatewaySimulator } from '../../src/payments/gateway-simulator';
import { buildServer, serverEntryFromDist, ServerProcess, TMP_DIR } from '../server-process';
import { DATABASE_SERVER, runStamp } from '../outbox/bench-database';
import { parseFlags, UsageError } from '../outbox/flags';
import { describeMachine, machineLine, markdownTable, writeJson } from '../outbox/report';
import { runTarget, type Target, type TargetResult } from './gateway-run';

const flags = parseFlags('usage: npx ts-node --transpile-only bench/gateway/charge-throughput.ts [flags]', {
  vus: { default: 32, help: 'closed-loop virtual users (one request in flight each)' },
  duration: { default: 20, help: 'measured seconds per target' },
  warmup: { default: 2, help: 'seconds of the same load before the window (not measured)' },
  'latency-ms': { default: 20, help: 'simulator: median latency of an answer' },
  'jitter-ms': { default: 5, help: 'simulator: latency uniform in ± this' },
  'error-rate': { default: 0.01, help: 'simulator: fraction of requests answered 500' },
  seed: { default: 42, help: "simulator: seed of its fault choices" },
  amount: { default: 1_000, help: 'KRW per charge' },
  targets: { default: 'simulator,sandbox', help: 'targets in order: simulator,sandbox | sandbox,simulator | one of them' },
  'request-timeout-ms': { default: 10_000, help: 'a charge with no answer by then counts as status 0' },
  'redis-url': { default: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', help: 'Redis of the servers (keys under a bench prefix, deleted afterwards)' },
  'no-build': { default: false, help: 'run dist/src/main.js as it is instead of building this tree' },
  json: { default: '', help: 'write the result as JSON to this file' },
});

const BREAKER_NAMES = ['closed', 'half-open', 'open'];

function rows(results: TargetResult[]) {
  return results.map((r) => [
    r.target,
    r.chargesPerSecond,
    r.approvedPerSecond,
    r.latencyMs.med,
    r.latencyMs.p95,
    r.latencyMs.p99,
    r.latencyMs.max,
    r.statusCounts['200'] ?? 0,
    r.statusCounts['202'] ?? 0,
    r.statusCounts['402'] ?? 0,
    r.statusCounts['503'] ?? 0,
    Object.entries(r.statusCounts).filter(([s]) => !['200', '202', '402', '503'].includes(s)).map(([s, n]) => `${s}: ${n}`).join(', ') || '0',
    `${BREAKER_NAMES[r.breaker.stateAtEnd] ?? r.breaker.stateAtEnd} (worst ${BREAKER_NAMES[r.breaker.worstDuringWindow]})`,
    r.cpuPct.server,
    r.cpuPct.postgresBackends,
    r.cpuPct.loadGenerator,
    r.cpuPct.simulator,
    r.cpuPct.others,
    r.cpuPct.machineBeforeRun,
  ]);
}

async function main(): Promise<void> {
  const order = flags.targets.split(',').map((t) => t.trim());
  if (order.length === 0 || order.some((t) => t !== 'simulator' && t !== 'sandbox')) throw new UsageError('--targets must list simulator and/or sandbox');
  const machine = await describeMachine(DATABASE_SERVER);
  console.log(machineLine(machine));
  const run = runStamp();
  const build = flags['no-build'] ? undefined : await buildServer(`gateway-${run}`);
  const serverEntry = build?.entry ?? serverEntryFromDist();
  let simulator: GatewaySimulator | undefined;
  const results: TargetResult[] = [];
  try {
    simulator = await startGatewaySimulator({ port: 0, latencyMs: flags['latency-ms'], latencyJitterMs: flags['jitter-ms'], errorRate: flags['error-rate'], seed: flags.seed });
    for (const target of order as Target[]) {
      console.log(`${target}: ${flags.vus} VUs, ${flags.warmup} + ${flags.duration} s …`);
      results.push(
        await runTarget(target, simulator, {
          run,
          serverEntry,
          redisUrl: flags['redis-url'],
          vus: flags.vus,
          warmupS: flags.warmup,
          durationS: flags.duration,
          amount: flags.amount,
          requestTimeoutMs: flags['request-timeout-ms'],
        }),
      );
    }
  } finally {
    await simulator?.close();
    if (build) rmSync(join(TMP_DIR, `build-gateway-${run}`), { recursive: true, force: true });
  }

  console.log(
    `\n${markdownTable(
      ['gateway', 'charges/s', 'approved/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', '200', '202', '402', '503', 'other', 'breaker at end', 'server CPU %', 'PG CPU %', 'load-gen CPU %', 'simulator CPU %', 'others CPU %', 'machine % before'],
      rows(results),
    )}\n`,
  );
  for (const r of results) {
    console.log(`${r.target}: gateway calls ${JSON.stringify(r.gatewayCalls)}; charges answered ${JSON.stringify(r.chargesAnswered)}; gateway call avg ${r.gatewayCallAvgMs ?? '-'} ms`);
    if (r.simulator) console.log(`${r.target}: simulator counters over the window ${JSON.stringify(r.simulator)}`);
  }
  const sim = results.find((r) => r.target === 'simulator');
  const sandbox = results.find((r) => r.target === 'sandbox');
  const ratio = sim && sandbox ? { chargesPerSecond: round3(sim.chargesPerSecond / sandbox.chargesPerSecond), p50: round3(sim.latencyMs.med / sandbox.latencyMs.med), p99: round3(sim.latencyMs.p99 / sandbox.latencyMs.p99) } : undefined;
  if (ratio) console.log(`simulator ÷ sandbox: charges/s ${ratio.chargesPerSecond}×, p50 ${ratio.p50}×, p99 ${ratio.p99}×`);
  const breakerClosed = sim ? sim.breaker.worstDuringWindow === 0 && sim.breaker.stateAtEnd === 0 && (sim.gatewayCalls['operation="charge",outcome="rejected_open"'] ?? 0) === 0 : undefined;
  if (sim) console.log(`breaker stayed closed at ${flags['error-rate'] * 100} % errors: ${breakerClosed ? 'YES' : 'NO'} (${sim.breaker.samples} samples every 500 ms, ${sim.breaker.notClosedSamples} not closed)`);
  if (flags.json) writeJson(flags.json, { scenario: 'gateway-charges', machine, params: flags, simulatorOverSandbox: ratio, breakerStayedClosed: breakerClosed, results });
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;

// Ctrl-C: stop the servers and drop their databases before leaving.
process.once('SIGINT', () => void ServerProcess.cleanUpAll().finally(() => process.exit(130)));

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
