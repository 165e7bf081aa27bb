/**
 * One scenario on one engine: fresh server and database, setup through the API, the load from a
 * separate process, CPU and database/Redis counters over exactly the window the load generator
 * measures, the invariants, then stop and clean up. Whatever breaks is reported in the result,
 * never thrown past the caller: the other engines still run.
 */
import { Client } from 'pg';
import Redis from 'ioredis';
import { checkInvariants } from './invariants';
import { dbSnapshot, redisDelta, redisSnapshot, type DbSnapshot, type RedisSnapshot } from './db-stats';
import { runLoadGenerator, type LoadResult } from './load/spawn';
import { cpuPerOk, findPostmasterPid, postgresClusterCpuSeconds } from './cpu-per-op';
import {
  corePct,
  cpuDelta,
  machineBusyPct,
  machineCpu,
  processCpuSeconds,
  processCpuSecondsPrecise,
  processRssMb,
  round1,
  round2,
  type MachineCpu,
} from './proc-stats';
import { emptyLatency, latencyMs, type EngineResult } from './report/types';
import { ServerProcess, StartError, type EngineName } from './server-process';
import { ClusterServer, clusterSize } from './cluster-server';
import { BARE_ENGINE, BareServer } from './bare-server-process';
import { scrapeMetrics, metricsDelta, type MetricsSnapshot } from './server-metrics';
import { SetupApi } from './setup-api';
import type { AnyScenario, InvariantResult, LoadProfile, ScenarioParams } from './scenarios/types';

export interface EngineRunOptions {
  scenario: AnyScenario;
  params: ScenarioParams;
  engine: string;
  runId: string;
  adminKey: string;
  databaseBaseUrl: string;
  redisUrl: string;
  privateRedis: boolean;
  log: (line: string) => void;
  /** Start our own server from this entry point … */
  entry?: string;
  /** … or load a running one (server CPU only with its pids — several for a cluster —, invariants only with its database URL). */
  target?: { url: string; databaseUrl?: string; pids?: number[] };
}

interface WindowEdge {
  at: number;
  metrics: MetricsSnapshot;
  serverCpu: number | undefined;
  /** The same, from the scheduler's ns clock (CPU per successful operation). */
  serverCpuPrecise: number | undefined;
  postgresClusterCpu: number | undefined;
  machine: MachineCpu;
  db: DbSnapshot | undefined;
  redis: RedisSnapshot | undefined;
}

const SETTLE_MS = 500;
const QUIET_PCT = 15;
const QUIET_WAIT_MS = 30_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function timeLimitMs(profile: LoadProfile): number {
  const base = 120_000 + profile.warmupMs;
  const stages = (list: { durationMs: number }[]) => list.reduce((sum, stage) => sum + stage.durationMs, 0);
  switch (profile.kind) {
    case 'constant':
      return base + profile.durationMs;
    case 'ramping':
      return base + stages(profile.stages) + 2 * profile.gracefulRampDownMs;
    case 'arrival-rate':
      return base + stages(profile.stages) + 2 * profile.gracefulStopMs;
  }
}

function failed(engine: string, status: 'failed-to-start' | 'failed', error: string, background: number): EngineResult {
  return {
    engine,
    status,
    error,
    duration_s: 0,
    http_reqs: 0,
    req_per_s: 0,
    ok: 0,
    ok_per_s: 0,
    conflicts: 0,
    errors_5xx: 0,
    transport_errors: 0,
    http_req_failed_rate: 0,
    checks: { passed: 0, failed: 0, by_name: {} },
    oversold: null,
    latency_ms: emptyLatency(),
    latency_by_request: [],
    cpu_pct: { server: null, server_peak_1s: null, load_generator: 0, database: null, redis: null, machine: 0, machine_before_start: background },
    load_generator: { loop_delay_p99_ms: 0, loop_delay_max_ms: 0, peak_vus: 0, iteration_errors: 0, iteration_error_samples: [] },
    db: null,
    redis: null,
    server_rss_mb: null,
    server_metrics: {},
    thresholds: [],
    invariants: [],
    statuses: {},
    error_samples: [],
    scenario_metrics: {},
    server_log: null,
    latency_curve: [],
    per_second: [],
  };
}

/**
 * Busy share of the machine over one second before anything of ours starts; waits (up to
 * QUIET_WAIT_MS) for the previous engine's aftermath or a neighbour's burst to pass, so that every
 * engine starts on a machine as quiet as it gets.
 */
async function backgroundLoad(log: (line: string) => void): Promise<number> {
  const deadline = Date.now() + QUIET_WAIT_MS;
  for (;;) {
    const before = machineCpu();
    await sleep(1000);
    const busy = machineBusyPct(before, machineCpu());
    if (busy <= QUIET_PCT) return busy;
    if (Date.now() > deadline) {
      log(`  ! the machine is ${busy}% busy before the run (other processes): numbers will be noisy`);
      return busy;
    }
  }
}

/** CPU seconds of several processes (a cluster's instances and its front); undefined if one is gone. */
function summed(pids: number[], read: (pid: number) => number | undefined): number | undefined {
  let total = 0;
  for (const pid of pids) {
    const seconds = read(pid);
    if (seconds === undefined) return undefined;
    total += seconds;
  }
  return total;
}

export async function runEngine(options: EngineRunOptions): Promise<EngineResult> {
  const { scenario, params, engine, log } = options;
  const background = await backgroundLoad(log);

  // bare (bench/bare/bare-server.ts): the HTTP ceiling, no database and no Redis: what it cannot
  // have (database counters, PostgreSQL and Redis figures, invariants) is skipped, not measured as 0.
  const bare = engine === BARE_ENGINE;
  let server: ServerProcess | ClusterServer | BareServer | undefined;
  if (options.entry && bare) {
    try {
      log(`  starting the bare server (Fastify, no engine: the HTTP ceiling) …`);
      server = await BareServer.start({ entry: options.entry, runId: options.runId, label: scenario.name.replace(/-/g, '_'), adminKey: options.adminKey });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`  ✗ ${engine}: failed to start: ${message.split('\n').slice(0, 6).join('\n    ')}`);
      return failed(engine, error instanceof StartError ? 'failed-to-start' : 'failed', message, background);
    }
  } else if (options.entry) {
    const instances = clusterSize(engine);
    const common = {
      entry: options.entry,
      runId: options.runId,
      label: scenario.name.replace(/-/g, '_'),
      databaseBaseUrl: options.databaseBaseUrl,
      redisUrl: options.redisUrl,
      adminKey: options.adminKey,
      env: scenario.serverEnv(params),
    };
    try {
      log(`  starting the ${engine} server${instances ? `s (${instances} instances behind the round-robin front)` : ''} …`);
      server = instances ? await ClusterServer.start({ ...common, instances }) : await ServerProcess.start({ ...common, engine: engine as EngineName });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`  ✗ ${engine}: failed to start: ${message.split('\n').slice(0, 6).join('\n    ')}`);
      return failed(engine, error instanceof StartError ? 'failed-to-start' : 'failed', message, background);
    }
  }
  const baseUrl = server?.url ?? options.target!.url;
  const databaseUrl = server?.databaseUrl ?? options.target?.databaseUrl;
  const databaseName = databaseUrl ? decodeURIComponent(new URL(databaseUrl).pathname.slice(1)) : undefined;
  const serverPids = server ? (server instanceof ClusterServer ? server.pids : [server.pid]) : (options.target?.pids ?? []);
  const hasServerCpu = serverPids.length > 0;
  const api = new SetupApi(baseUrl, options.adminKey);

  // The PostgreSQL of the engine's database (embedded mode: the server's own) for CHECKPOINT and stats.
  const monitor = new Client({ connectionString: server?.adminUrl ?? options.databaseBaseUrl.replace(/\/[^/]*$/, '/postgres') });
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 2, lazyConnect: true });
  let result: EngineResult;
  try {
    await monitor.connect();
    await redis.connect();
    const postmasterPid = await findPostmasterPid(monitor);
    log(`  setup …`);
    const setupStarted = Date.now();
    const setup = await scenario.setup(api, params);
    // Every engine starts its load with no dirty pages left by the setup or the previous engine.
    await monitor.query('CHECKPOINT').catch((error: unknown) => log(`  ! CHECKPOINT failed: ${String(error)}`));
    log(`  setup done in ${((Date.now() - setupStarted) / 1000).toFixed(1)} s; load …`);

    const edge = async (): Promise<WindowEdge> => ({
      at: performance.now(),
      metrics: await scrapeMetrics(baseUrl),
      serverCpu: hasServerCpu ? summed(serverPids, processCpuSeconds) : undefined,
      serverCpuPrecise: hasServerCpu ? summed(serverPids, processCpuSecondsPrecise) : undefined,
      postgresClusterCpu: postmasterPid && !bare ? postgresClusterCpuSeconds(postmasterPid) : undefined,
      machine: machineCpu(),
      db: databaseName ? await dbSnapshot(monitor, databaseName) : undefined,
      redis: bare ? undefined : await redisSnapshot(redis),
    });
    let opened: Promise<WindowEdge> | undefined;
    let closed: Promise<WindowEdge> | undefined;
    let peak = 0;
    let lastSample: { at: number; cpu: number } | undefined;
    const sampler = setInterval(() => {
      if (!opened || closed || !hasServerCpu) return;
      const cpu = summed(serverPids, processCpuSeconds);
      const at = performance.now();
      if (cpu !== undefined && lastSample) peak = Math.max(peak, corePct(cpu - lastSample.cpu, at - lastSample.at));
      if (cpu !== undefined) lastSample = { at, cpu };
    }, 1000);
    let load: LoadResult;
    try {
      load = await runLoadGenerator({ scenario: scenario.name, target: baseUrl, params, setup }, timeLimitMs(scenario.profile(params)), (phase) => {
        if (phase === 'measure') opened = edge();
        if (phase === 'drain' && opened) closed = edge();
      });
    } finally {
      clearInterval(sampler);
    }
    const start = await opened;
    const end = await closed;
    await sleep(SETTLE_MS);

    const invariants: InvariantResult[] = [];
    let oversold: number | null = null;
    let afterRunMetrics: Record<string, number> = {};
    if (databaseUrl) {
      const db = new Client({ connectionString: databaseUrl });
      await db.connect();
      try {
        const report = await checkInvariants(db, api, engine as EngineName);
        oversold = report.oversold;
        invariants.push(...report.results);
        if (scenario.verify) invariants.push(...(await scenario.verify({ db, setup, params, api, ok: load.stats.ok })));
        if (scenario.afterRun) afterRunMetrics = await scenario.afterRun({ db, setup, params, api, ok: load.stats.ok });
      } finally {
        await db.end();
      }
    } else if (bare) {
      invariants.push({ name: 'invariants', ok: true, skipped: true, detail: 'bare has no database: it keeps no seat, hold or money to check' });
    } else {
      invariants.push({ name: 'invariants', ok: true, skipped: true, detail: 'no database URL for the target' });
    }
    result = compose(options, load, start, end, invariants, oversold, background, hasServerCpu ? peak : undefined);
    result.scenario_metrics = { ...result.scenario_metrics, ...afterRunMetrics };
    for (const invariant of invariants) if (!invariant.ok) log(`  ✗ ${invariant.name}: ${invariant.detail}`);
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    log(`  ✗ ${engine}: the run failed: ${message.split('\n')[0]}`);
    result = failed(engine, 'failed', message, background);
  } finally {
    await monitor.end().catch(() => undefined);
    redis.disconnect();
  }

  if (server) {
    const rss = summed(serverPids, processRssMb);
    const exit = await server.stop();
    await server.cleanUp(options.databaseBaseUrl, options.redisUrl).catch((error: unknown) => log(`  ! clean-up: ${String(error)}`));
    result.server_rss_mb = rss ?? null;
    result.server_log = { file: server.logFile, warnings: exit.warnings, samples: exit.warningSamples };
    if (exit.code !== 0) log(`  ! the ${engine} server exited with ${exit.signal ?? `code ${exit.code}`} on SIGTERM`);
  }
  return result;
}

function compose(
  options: EngineRunOptions,
  load: LoadResult,
  start: WindowEdge | undefined,
  end: WindowEdge | undefined,
  invariants: InvariantResult[],
  oversold: number | null,
  background: number,
  serverPeak: number | undefined,
): EngineResult {
  const { stats, usage } = load;
  const seconds = stats.durationMs / 1000;
  const perSecond = (count: number) => (seconds > 0 ? round1(count / seconds) : 0);
  const perOk = (count: number) => (stats.ok > 0 ? round2(count / stats.ok) : null);
  const wallMs = start && end ? end.at - start.at : 0;
  const serverCpu = start?.serverCpu !== undefined && end?.serverCpu !== undefined ? corePct(end.serverCpu - start.serverCpu, wallMs) : null;
  const db =
    start?.db && end?.db
      ? {
          xacts: end.db.xacts - start.db.xacts,
          xacts_per_ok: perOk(end.db.xacts - start.db.xacts),
          rollbacks: end.db.rollbacks - start.db.rollbacks,
          tuples_read_per_ok: perOk(end.db.tuplesRead - start.db.tuplesRead),
          tuples_written_per_ok: perOk(end.db.tuplesWritten - start.db.tuplesWritten),
        }
      : null;
  const redisCommands = start?.redis && end?.redis ? redisDelta(start.redis, end.redis) : undefined;
  const redisCpu =
    start?.redis?.cpuSeconds !== undefined && end?.redis?.cpuSeconds !== undefined ? corePct(end.redis.cpuSeconds - start.redis.cpuSeconds, wallMs) : null;
  const p95 = stats.latency.p95;
  const spent = <T>(pick: (edge: WindowEdge) => T | undefined, minus: (after: T, before: T) => number): number | undefined => {
    const before = start ? pick(start) : undefined;
    const after = end ? pick(end) : undefined;
    return before === undefined || after === undefined ? undefined : minus(after, before);
  };
  const difference = (after: number, before: number) => after - before;
  const cpuUsPerOk = cpuPerOk(
    {
      server: spent((e) => e.serverCpuPrecise, difference),
      postgresBackends: spent((e) => e.db?.backendCpu, (after, before) => cpuDelta(before, after)),
      postgresCluster: spent((e) => e.postgresClusterCpu, difference),
      redis: spent((e) => e.redis?.cpuSeconds, difference),
      loadGenerator: usage.cpuMicros / 1e6,
    },
    stats.ok,
  );
  // bare has no PostgreSQL: its whole cost per operation is its server's (so `actor/bare` on that
  // row is the engine's cost of a cycle over what HTTP alone costs), while its PostgreSQL rows stay '–'.
  if (options.engine === BARE_ENGINE) cpuUsPerOk.server_and_postgres = cpuUsPerOk.server;
  return {
    engine: options.engine,
    status: 'ok',
    duration_s: round2(seconds),
    http_reqs: stats.requests,
    req_per_s: perSecond(stats.requests),
    ok: stats.ok,
    ok_per_s: perSecond(stats.ok),
    conflicts: stats.conflicts,
    errors_5xx: stats.errors5xx,
    transport_errors: stats.transportErrors,
    http_req_failed_rate: stats.requests > 0 ? Math.round((stats.failed / stats.requests) * 10000) / 10000 : 0,
    checks: { passed: stats.checksPassed, failed: stats.checksFailed, by_name: stats.checks },
    oversold,
    latency_ms: latencyMs(stats.latency),
    latency_by_request: stats.byName,
    cpu_pct: {
      server: serverCpu,
      server_peak_1s: serverPeak === undefined ? null : round1(serverPeak),
      load_generator: usage.cpuPct,
      database: start?.db && end?.db ? corePct(cpuDelta(start.db.backendCpu, end.db.backendCpu), wallMs) : null,
      redis: redisCpu,
      machine: start && end ? machineBusyPct(start.machine, end.machine) : 0,
      machine_before_start: background,
    },
    cpu_us_per_ok: cpuUsPerOk,
    load_generator: {
      loop_delay_p99_ms: usage.loopDelayP99Ms,
      loop_delay_max_ms: usage.loopDelayMaxMs,
      peak_vus: usage.peakVus,
      iteration_errors: usage.iterationErrors,
      iteration_error_samples: usage.iterationErrorSamples,
      ...(usage.arrivals
        ? {
            iterations: {
              planned: usage.arrivals.planned,
              started: usage.arrivals.started,
              dropped_iterations: usage.arrivals.dropped,
              unstarted: usage.arrivals.unstarted,
              interrupted: usage.arrivals.interrupted,
              vus_max: usage.arrivals.vusMax,
            },
          }
        : {}),
    },
    db,
    redis: redisCommands
      ? { commands: redisCommands.calls, commands_per_ok: perOk(redisCommands.calls), top: redisCommands.top, private: options.privateRedis }
      : null,
    server_rss_mb: null,
    server_metrics: start && end ? metricsDelta(start.metrics, end.metrics) : {},
    thresholds: (options.scenario.thresholds ?? []).map((t) => ({
      name: `${t.metric} < ${t.belowMs} ms`,
      ok: (t.metric === 'p95' ? p95 : stats.latency.p99) < t.belowMs,
    })),
    invariants,
    statuses: stats.statuses,
    error_samples: stats.errorSamples,
    scenario_metrics: stats.metrics,
    server_log: null,
    latency_curve: stats.curve,
    // Only whole seconds: a last, partial one would read as a collapse.
    per_second: stats.seconds.slice(0, Math.max(1, Math.floor(seconds))).map((s) => ({
      requests: s.requests,
      ok: s.ok,
      conflicts: s.conflicts,
      failed: s.failed,
      avg_ms: s.requests > 0 ? round2(s.latencySumMs / s.requests) : 0,
    })),
  };
}

