/**
 * One target of the gateway benchmark: the real server on a fresh database, its gateway either
 * the HTTP simulator (PAYMENT_GATEWAY_URL, behind the cockatiel policies with their defaults) or
 * the built-in sandbox (unset), loaded by the charge worker. Measured over the window: charges per
 * second, latency, statuses, the server's gateway metrics and breaker, the simulator's counters,
 * CPU per process.
 */
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { Client } from 'pg';
import { dbSnapshot, type DbSnapshot } from '../db-stats';
import type { LatencySummary } from '../load/protocol';
import { corePct, cpuDelta, machineBusyPct, machineCpu, processCpuSeconds, round1, round2, type MachineCpu } from '../proc-stats';
import { ServerProcess } from '../server-process';
import type { GatewaySimulator, SimulatorCounters } from '../../src/payments/gateway-simulator';
import { DATABASE_SERVER } from '../outbox/bench-database';
import { endChild, forkChild, nextMessage } from '../outbox/fork-child';
import { waitForQuietMachine } from '../outbox/quiet-machine';
import { watchBreaker, type BreakerWatch } from './breaker-watch';
import type { ChargeJob, ChargeResult, WorkerReport } from './charge-worker';
import { family, familyDelta, scrapeSeries, type Series } from './prometheus-text';

export type Target = 'simulator' | 'sandbox';

export interface RunSettings {
  run: string;
  serverEntry: string;
  redisUrl: string;
  vus: number;
  warmupS: number;
  durationS: number;
  amount: number;
  requestTimeoutMs: number;
}

export interface TargetResult {
  target: Target;
  database: string;
  chargesPerSecond: number;
  approvedPerSecond: number;
  requests: number;
  statusCounts: Record<string, number>;
  latencyMs: LatencySummary;
  breaker: { stateAtEnd: number; worstDuringWindow: number; samples: number; notClosedSamples: number };
  /** ovation_gateway_calls_total over the window, by "operation,outcome" labels. */
  gatewayCalls: Record<string, number>;
  /** ovation_charges_total over the window, by status. */
  chargesAnswered: Record<string, number>;
  /** Mean of ovation_gateway_call_seconds (operation charge) over the window, all attempts included. */
  gatewayCallAvgMs?: number;
  /** The simulator's counters over the window (simulator target only); attempts per charge = its requests ÷ charges created. */
  simulator?: SimulatorCounters & { attemptsPerCharge: number };
  cpuPct: { server: number; postgresBackends: number; loadGenerator: number; simulator?: number; machine: number; others: number; machineBeforeRun: number };
  loadGenLoopDelayP99Ms: number;
  errorSamples: { status: number; body: string }[];
  serverWarnings: number;
  serverWarningSamples: string[];
}

interface Edge {
  at: number;
  server: number;
  loadGen: number;
  own: NodeJS.CpuUsage;
  machine: MachineCpu;
  db: DbSnapshot;
  series: Series;
  simulator?: SimulatorCounters;
}

export async function runTarget(target: Target, simulator: GatewaySimulator | undefined, settings: RunSettings): Promise<TargetResult> {
  const machineBeforeRun = await waitForQuietMachine();
  simulator?.reset();
  const server = await ServerProcess.start({
    engine: 'actor',
    entry: settings.serverEntry,
    runId: `gateway_${settings.run}`,
    label: target,
    databaseBaseUrl: `${DATABASE_SERVER}/postgres`,
    redisUrl: settings.redisUrl,
    adminKey: 'bench-admin-key',
    env: { LOG_LEVEL: 'warn', ...(target === 'simulator' && simulator ? { PAYMENT_GATEWAY_URL: simulator.url } : {}) },
  });
  const monitor = new Client({ connectionString: server.databaseUrl });
  const worker = forkChild(__dirname, 'charge-worker', {});
  let exit: Awaited<ReturnType<ServerProcess['stop']>> | undefined;
  try {
    await monitor.connect();
    const edges: Edge[] = [];
    let breaker: BreakerWatch | undefined;
    let watched = { samples: 0, worst: 0, notClosedSamples: 0 };
    const pending: Promise<void>[] = [];
    const snapshot = async (edge: 'open' | 'close') => {
      const at = performance.now();
      const cpu = { server: server.cpuSeconds() ?? 0, loadGen: processCpuSeconds(worker.pid!) ?? 0, own: process.cpuUsage(), machine: machineCpu(), simulator: simulator?.counters() };
      if (edge === 'close' && breaker) watched = await breaker.stop();
      const [db, series] = await Promise.all([dbSnapshot(monitor, server.databaseName), scrapeSeries(server.url)]);
      edges.push({ at, ...cpu, db, series });
      if (edge === 'open') breaker = watchBreaker(server.url, 500);
    };
    worker.on('message', (m: WorkerReport) => {
      if (m.type === 'window') pending.push(snapshot(m.edge));
    });
    const job: ChargeJob = {
      target: server.url,
      vus: settings.vus,
      warmupS: settings.warmupS,
      durationS: settings.durationS,
      userIds: Array.from({ length: settings.vus }, () => randomUUID()),
      amount: settings.amount,
      keyPrefix: `bench-${settings.run}`,
      requestTimeoutMs: settings.requestTimeoutMs,
    };
    worker.send(job);
    const result: ChargeResult = await nextMessage<WorkerReport, ChargeResult>(
      worker,
      (m) => {
        if (m.type === 'fatal') throw new Error(`charge worker: ${m.message}`);
        return m.type === 'result' ? m.result : undefined;
      },
      (settings.warmupS + settings.durationS) * 1000 + 60_000,
      'charge worker',
    );
    await Promise.all(pending);
    const [open, close] = edges as [Edge, Edge];
    const windowMs = close.at - open.at;
    const end = await scrapeSeries(server.url);
    exit = await server.stop();

    const seconds = result.durationMs / 1000;
    const callSeconds = familyDelta(open.series, close.series, 'ovation_gateway_call_seconds_sum')['operation="charge"'] ?? 0;
    const callCount = familyDelta(open.series, close.series, 'ovation_gateway_call_seconds_count')['operation="charge"'] ?? 0;
    const simulatorDelta = target === 'simulator' && open.simulator && close.simulator ? counterDelta(open.simulator, close.simulator) : undefined;
    const ownCpu = (close.own.user + close.own.system - open.own.user - open.own.system) / 1e6;
    const cpu = {
      server: corePct(close.server - open.server, windowMs),
      postgresBackends: corePct(cpuDelta(open.db.backendCpu, close.db.backendCpu), windowMs),
      loadGenerator: corePct(close.loadGen - open.loadGen, windowMs),
      simulator: simulator ? corePct(ownCpu, windowMs) : undefined,
      machine: machineBusyPct(open.machine, close.machine),
    };
    const ours = cpu.server + cpu.postgresBackends + cpu.loadGenerator + (cpu.simulator ?? 0);
    return {
      target,
      database: server.databaseName,
      chargesPerSecond: round1(result.requests / seconds),
      approvedPerSecond: round1((result.statusCounts['200'] ?? 0) / seconds),
      requests: result.requests,
      statusCounts: result.statusCounts,
      latencyMs: result.latency,
      breaker: {
        stateAtEnd: Object.values(family(end, 'ovation_breaker_state'))[0] ?? -1,
        worstDuringWindow: watched.worst,
        samples: watched.samples,
        notClosedSamples: watched.notClosedSamples,
      },
      gatewayCalls: familyDelta(open.series, close.series, 'ovation_gateway_calls_total'),
      chargesAnswered: familyDelta(open.series, close.series, 'ovation_charges_total'),
      gatewayCallAvgMs: callCount > 0 ? round2((callSeconds / callCount) * 1000) : undefined,
      simulator: simulatorDelta && {
        ...simulatorDelta,
        // Both from the simulator (the load generator's window edges differ by the requests in flight).
        attemptsPerCharge: Math.round((simulatorDelta.requests / Math.max(1, simulatorDelta.chargesCreated)) * 10_000) / 10_000,
      },
      cpuPct: { ...cpu, others: round1(Math.max(0, cpu.machine * cpus().length - ours)), machineBeforeRun },
      loadGenLoopDelayP99Ms: result.loopDelayP99Ms,
      errorSamples: result.errorSamples,
      serverWarnings: exit.warnings,
      serverWarningSamples: exit.warningSamples,
    };
  } finally {
    await endChild(worker);
    await monitor.end().catch(() => undefined);
    if (!exit) await server.stop().catch(() => undefined);
    await server.cleanUp(`${DATABASE_SERVER}/postgres`, settings.redisUrl).catch((e: unknown) => console.error(`clean-up of ${server.databaseName}: ${(e as Error).message}`));
  }
}

function counterDelta(before: SimulatorCounters, after: SimulatorCounters): SimulatorCounters {
  const result = { ...after };
  for (const key of Object.keys(result) as (keyof SimulatorCounters)[]) result[key] = after[key] - before[key];
  return result;
}
