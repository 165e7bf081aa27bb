/**
 * The benchmark harness: `npm run bench -- --scenario <name> --engines actor,lock,sql …`.
 * For each scenario, runs each engine one after another on its own fresh server and database,
 * with the same parameters, from a separate load-generator process; checks the invariants; prints
 * one table per scenario with a column per engine and the ratio to the actor engine; writes JSON
 * and an HTML report on request. Exit code 1 when an engine did not run or an invariant broke.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { describeParams, paramsFor, parseArgs, USAGE, UsageError, type CliOptions } from './args';
import { runEngine } from './engine-run';
import { redisServerAvailable, startPrivateRedis, type PrivateRedis } from './private-redis';
import { renderHtml } from './report/html';
import { combineRepeats } from './report/repeats';
import { summaryMarkdown } from './report/summary';
import { formatTable } from './report/table';
import type { EngineResult, Machine, RunReport } from './report/types';
import { buildServer, REPO_ROOT, SERVER_NODE_FLAGS, serverEntryFromDist, ServerProcess, TMP_DIR } from './server-process';
import { BARE_ENGINE, BareServer } from './bare-server-process';
import { scenarios } from './scenarios';

const POSTGRES_URL = process.env['BENCH_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const SHARED_REDIS_URL = 'redis://127.0.0.1:6379';
const RESULTS_DIR = join(REPO_ROOT, 'bench', 'results');

const log = (line: string) => console.log(line);

function machine(): Machine {
  const cores = cpus();
  return {
    cpus: cores.length,
    model: cores[0]?.model.trim() ?? 'unknown',
    node: process.version,
    memory_gb: Math.round(totalmem() / 2 ** 30),
    os: `${type()} ${release()}`,
    loadavg_at_start: loadavg().map((v) => Math.round(v * 100) / 100),
  };
}

/** The checked-out commit, read from .git (no git command). */
function commit(): string | null {
  try {
    const head = readFileSync(join(REPO_ROOT, '.git', 'HEAD'), 'utf8').trim();
    if (!head.startsWith('ref: ')) return head;
    const ref = head.slice(5);
    const loose = join(REPO_ROOT, '.git', ref);
    if (existsSync(loose)) return readFileSync(loose, 'utf8').trim();
    const packed = readFileSync(join(REPO_ROOT, '.git', 'packed-refs'), 'utf8');
    return packed.split('\n').find((line) => line.endsWith(` ${ref}`))?.split(' ')[0] ?? null;
  } catch {
    return null;
  }
}

function runIdNow(): string {
  const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${stamp}_${randomBytes(2).toString('hex')}`;
}

function withScenario(file: string, scenario: string): string {
  return file.replace(/\{scenario\}/g, scenario);
}

function write(file: string, content: string): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, content);
  log(`  wrote ${relative(process.cwd(), file) || file}`);
}

/** actor ÷ engine for the headline numbers; every engine ÷ bare (the HTTP ceiling) when bare ran. */
function addRatios(results: EngineResult[]): void {
  const div = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : null);
  const bare = results.find((r) => r.engine === BARE_ENGINE && r.status === 'ok');
  if (bare) {
    for (const r of results) {
      if (r.status === 'ok') r.over_bare = { ok_per_s: div(r.ok_per_s, bare.ok_per_s), req_per_s: div(r.req_per_s, bare.req_per_s) };
    }
  }
  const actor = results.find((r) => r.engine === 'actor' && r.status === 'ok');
  if (!actor) return;
  for (const r of results) {
    if (r === actor || r.status !== 'ok') continue;
    r.actor_over_engine = {
      ok_per_s: div(actor.ok_per_s, r.ok_per_s),
      req_per_s: div(actor.req_per_s, r.req_per_s),
      p95: div(actor.latency_ms.p95, r.latency_ms.p95),
      p99: div(actor.latency_ms.p99, r.latency_ms.p99),
    };
  }
}

async function runAll(options: CliOptions): Promise<number> {
  const runId = runIdNow();
  const host = machine();
  const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`;
  log(`ovation bench · run ${runId}`);
  log(`machine: ${host.cpus} × ${host.model}, ${host.memory_gb} GiB, Node ${host.node}, load average ${host.loadavg_at_start.join(' / ')}`);

  let entry: string | undefined;
  let build = 'external target';
  if (!options.target) {
    if (options.build) {
      log('building the server for this run (tsc -p tsconfig.build.json) …');
      const built = await buildServer(runId);
      entry = built.entry;
      build = `tsc -p tsconfig.build.json → bench/results/tmp/build-${runId} (${built.seconds.toFixed(0)} s)`;
    } else {
      entry = serverEntryFromDist();
      build = 'dist/src/main.js as found (--no-build)';
    }
  }

  let privateRedis: PrivateRedis | undefined;
  let redisUrl = options.redisUrl ?? SHARED_REDIS_URL;
  if (!options.redisUrl && !options.target && redisServerAvailable()) {
    privateRedis = await startPrivateRedis();
    redisUrl = privateRedis.url;
    log(`private Redis for this run: ${redisUrl}`);
  }
  const adminKey = options.adminKey ?? (options.target ? 'dev-admin-key' : `bench-${randomBytes(8).toString('hex')}`);

  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    log('\ninterrupted: stopping the servers, dropping their databases …');
    void ServerProcess.cleanUpAll()
      .then(() => BareServer.stopAll())
      .then(() => privateRedis?.stop())
      .finally(() => {
        if (entry && options.build) rmSync(dirname(dirname(entry)), { recursive: true, force: true });
        process.exit(130);
      });
  });

  let failures = 0;
  try {
    for (const scenario of options.scenarios) {
      const params = paramsFor(scenario, options.given);
      log('');
      log(`== ${scenario.name}: ${scenario.summary}`);
      log(`   ${describeParams(scenario, params)} · ok = ${scenario.okMeans}`);
      const runs = new Map<string, EngineResult[]>(options.engines.map((engine) => [engine, []]));
      for (let round = 1; round <= options.repeat && !interrupted; round++) {
        const order = round % 2 === 1 ? options.engines : [...options.engines].reverse();
        for (const engine of order) {
          if (interrupted) break;
          log(`-- ${engine}${options.repeat > 1 ? ` (round ${round} of ${options.repeat})` : ''}`);
          const result = await runEngine({
            scenario,
            params,
            engine,
            runId,
            adminKey,
            databaseBaseUrl: POSTGRES_URL,
            redisUrl,
            privateRedis: privateRedis !== undefined,
            log,
            ...(entry ? { entry } : {}),
            ...(options.target
              ? { target: { url: options.target, ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}), ...(options.serverPids ? { pids: options.serverPids } : {}) } }
              : {}),
          });
          if (result.status === 'ok' && (result.cpu_pct.load_generator > 80 || result.load_generator.loop_delay_p99_ms > 50)) {
            log(`  ! the load generator was busy (CPU ${result.cpu_pct.load_generator}%, loop delay p99 ${result.load_generator.loop_delay_p99_ms} ms): latencies include its delay`);
          }
          if (result.status === 'ok') {
            log(`   ${result.req_per_s} req/s, ${result.ok_per_s} ok/s, p95 ${result.latency_ms.p95} ms, p99 ${result.latency_ms.p99} ms, 5xx ${result.errors_5xx}, oversold ${result.oversold}`);
          }
          runs.get(engine)!.push(result);
        }
      }
      const results = options.engines.filter((engine) => runs.get(engine)!.length > 0).map((engine) => combineRepeats(runs.get(engine)!));
      for (const result of results) if (result.status !== 'ok' || result.invariants.some((i) => !i.ok)) failures++;
      addRatios(results);
      const report: RunReport = {
        scenario: scenario.name,
        summary: scenario.summary,
        ok_means: scenario.okMeans,
        machine: host,
        params,
        command,
        started_at: new Date().toISOString(),
        run_id: runId,
        commit: commit(),
        server: { node_flags: SERVER_NODE_FLAGS, env: scenario.serverEnv(params), build },
        redis: privateRedis ? 'private' : 'shared',
        ...(scenario.reference ? { reference: scenario.reference } : {}),
        ...(scenario.reportByRequest ? { request_rows: true } : {}),
        results,
      };
      log('');
      log(`${scenario.name} — ${describeParams(scenario, params)}${scenario.reference ? ' · "original" = the report we start from' : ''}`);
      log(formatTable(report));
      for (const r of results) {
        if (r.status !== 'ok') log(`! ${r.engine}: ${r.status}: ${(r.error ?? '').split('\n')[0]}`);
        for (const skipped of r.invariants.filter((i) => i.skipped)) log(`- ${r.engine}: ${skipped.name} skipped: ${skipped.detail}`);
        for (const sample of r.error_samples.slice(0, 3)) log(`! ${r.engine}: ${sample.request} → ${sample.status} ${sample.body}`);
      }
      const date = new Date().toISOString().slice(0, 10);
      const json = JSON.stringify(report, null, 2);
      if (options.json) write(withScenario(options.json, scenario.name), json);
      if (options.html) write(withScenario(options.html, scenario.name), renderHtml(report));
      if (options.save) {
        write(join(RESULTS_DIR, `${scenario.name}-${date}.json`), json);
        write(join(RESULTS_DIR, `${scenario.name}-${date}.html`), renderHtml(report));
      }
    }
  } finally {
    await privateRedis?.stop();
    if (entry && options.build) rmSync(dirname(dirname(entry)), { recursive: true, force: true });
  }
  return failures === 0 ? 0 : 1;
}

function list(): void {
  for (const scenario of Object.values(scenarios)) {
    const params = paramsFor(scenario, {});
    log(`${scenario.name}: ${scenario.summary}`);
    log(`  ok = ${scenario.okMeans}; options: ${describeParams(scenario, params)}`);
  }
}

async function main(): Promise<number> {
  const options = parseArgs(process.argv.slice(2));
  switch (options.mode) {
    case 'help':
      log(USAGE);
      return 0;
    case 'list':
      list();
      return 0;
    case 'summary':
      log(summaryMarkdown(options.files));
      return 0;
    case 'run':
      mkdirSync(TMP_DIR, { recursive: true });
      return runAll(options);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`bench: ${error.message}\n\n${USAGE}`);
      process.exit(2);
    }
    console.error('bench failed:', error);
    process.exit(1);
  },
);
