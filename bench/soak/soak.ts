/**
 * The soak command (not part of CI): the real server as a child process against PostgreSQL behind a
 * TCP proxy, a private Redis, a private Kafka broker and the gateway simulator, a mixed load of
 * buyers for --minutes, a fault every ~60–90 s, then — everything healed and settled — the
 * invariants from the database, the seat maps, the gateway and Kafka. Markdown on stdout, --json
 * for the whole result; exit 1 if an invariant fails, 2 if the soak itself could not run.
 *
 *   npx ts-node --transpile-only bench/soak/soak.ts --minutes 10 [--buyers 40] [--seed 42] [--engine actor] [--json out.json]
 *
 * Everything it starts (server, proxy, Redis, Kafka, simulator, database, build dir) is removed on
 * exit, on an error and on Ctrl-C. The server's log stays in bench/results/tmp/ (not committed).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { freePort, REPO_ROOT, TMP_DIR } from '../server-process';
import { Recorder, SoakClient } from './client';
import { startEnvironment, type Environment } from './environment';
import { FaultInjector, healAll } from './faults';
import { readOptions, UsageError, type SoakOptions } from './flags';
import { answerChecks } from './honesty';
import { confirmationChecks, moneyChecks, seatChecks } from './invariants';
import { createCatalogue, startLoad } from './load';
import { MemorySampler } from './memory';
import { faultOutcomes, markdown, routeStats } from './report';
import { Rng } from './rng';
import { buildServer, SoakServer } from './server';
import { settle } from './settle';
import { check, type InvariantResult } from './types';

const ADMIN_KEY = 'soak-admin-key';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let began = Date.now();
const log = (message: string): void => console.error(`[soak +${((Date.now() - began) / 1000).toFixed(1)} s] ${message}`);

/** Everything to undo, idempotent; run on the way out whatever happened. */
const cleanup = {
  steps: [] as Array<() => Promise<unknown> | unknown>,
  running: undefined as Promise<void> | undefined,
  run(): Promise<void> {
    return (this.running ??= (async () => {
      for (const step of this.steps.reverse()) {
        try {
          await step();
        } catch (error) {
          console.error(`[soak] clean-up: ${(error as Error).message}`);
        }
      }
    })());
  },
};

function serverEnv(options: SoakOptions, env: Environment): Record<string, string> {
  return {
    NODE_ENV: 'production',
    DATABASE_URL: env.serverDatabaseUrl,
    REDIS_URL: env.redis.url,
    REDIS_KEY_PREFIX: 'soak:',
    KAFKA_BROKERS: env.kafka.brokers,
    KAFKA_TOPIC_CONFIRMED: env.topic,
    PAYMENT_GATEWAY_URL: env.gateway.url,
    PAYMENT_GATEWAY_TIMEOUT_MS: '1500',
    CHARGE_RECONCILE_INTERVAL_MS: '2000',
    RESERVATION_ENGINE: options.engine,
    HOLD_TTL_SECONDS: String(options.holdTtlSeconds),
    // The line is used for real: a few buyers of each concert wait for a slot.
    QUEUE_MAX_ACTIVE: String(Math.max(2, Math.ceil((0.8 * options.buyers) / options.concerts))),
    QUEUE_ACTIVE_TTL_SECONDS: '120',
    ADMIN_API_KEY: ADMIN_KEY,
    // warn keeps the log small (no request lines); SOAK_SERVER_LOG_LEVEL=info to see everything.
    LOG_LEVEL: process.env['SOAK_SERVER_LOG_LEVEL'] ?? 'warn',
    // Every buyer comes from 127.0.0.1: the per-address issue limit would count them as one.
    RATE_LIMIT_TOKEN_ISSUE_PER_IP: '100000',
  };
}

async function main(): Promise<number> {
  const options = readOptions();
  began = Date.now();
  const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', 't');
  const loadAtStart = os.loadavg();
  const loadAvg = loadAtStart.map((l) => l.toFixed(2)).join(' ');
  log(`soak of the ${options.engine} engine: ${options.minutes} min, ${options.buyers} buyers, seed ${options.seed}; machine: ${os.cpus().length} CPUs, load ${loadAvg}`);

  let entry: string | undefined;
  let buildNote = 'ts-node (transpile-only) of src/main.ts';
  if (options.server === 'build') {
    const buildDir = join(TMP_DIR, `soak-build-${stamp}`);
    cleanup.steps.push(() => rmSync(buildDir, { recursive: true, force: true }));
    const build = await buildServer(buildDir);
    entry = build.entry;
    buildNote = `tsc build of src/ (${build.seconds.toFixed(1)} s)${build.warnings ? ', with type errors elsewhere in the tree (emitted anyway)' : ''}`;
    log(`server built in ${build.seconds.toFixed(1)} s${build.warnings ? `; tsc reported:\n${build.warnings}` : ''}`);
  }

  const env = await startEnvironment(options.seed, log);
  cleanup.steps.push(() => env.teardown().then((problems) => problems.forEach((p) => console.error(`[soak] clean-up: ${p}`))));
  mkdirSync(TMP_DIR, { recursive: true });
  const logFile = join(TMP_DIR, `soak-${env.runId}.log`);
  const server = new SoakServer({ entry, port: await freePort(), env: serverEnv(options, env), logFile });
  cleanup.steps.push(() => server.close());
  const readyMs = await server.start();
  log(`server up on ${server.url} in ${readyMs} ms (log: ${logFile})`);

  const rng = new Rng(options.seed);
  const catalogue = await createCatalogue(
    server.url,
    { concerts: options.concerts, schedulesPerConcert: options.schedulesPerConcert, seatsPerSchedule: options.seatsPerSchedule, adminKey: ADMIN_KEY },
    rng,
  );
  log(`${options.concerts} concerts × ${options.schedulesPerConcert} schedules × ${options.seatsPerSchedule} seats; HOLD_TTL_SECONDS=${options.holdTtlSeconds}`);

  const recorder = new Recorder();
  const client = new SoakClient(server.url, recorder);
  const sampler = new MemorySampler(server);
  cleanup.steps.push(() => sampler.stop());
  const faults = new FaultInjector(env, server, rng.fork(7_777), log);
  cleanup.steps.push(() => faults.stop());

  const loadStart = Date.now();
  const loadEnd = loadStart + options.minutes * 60_000;
  sampler.start();
  const load = startLoad(client, catalogue, options.buyers, rng);
  cleanup.steps.push(() => void load.stop()); // on an interruption: do not wait for the buyers
  log(`load started; faults from +${options.firstFaultSeconds.toFixed(0)} s, one every ~${options.faultEverySeconds.toFixed(0)} s`);
  const faultRun = faults.run({ firstFaultSeconds: options.firstFaultSeconds, faultEverySeconds: options.faultEverySeconds, loadSeconds: options.minutes * 60 }, loadStart);
  let lastProgress = Date.now();
  while (Date.now() < loadEnd) {
    await sleep(Math.min(1_000, loadEnd - Date.now()));
    if (Date.now() - lastProgress >= 30_000) {
      lastProgress = Date.now();
      const c = load.counters();
      log(`${recorder.answers.length} requests; ${c.holds} holds, ${c.payments} payments, ${c.cancels} cancels, ${c.charges} charges`);
    }
  }
  faults.stop();
  sampler.stop();
  log('load window over: stopping the buyers (unknown outcomes are replayed first)');
  await Promise.all([load.stop(), faultRun]);
  const loadStopped = Date.now();
  const counters = load.counters();
  log(`buyers stopped; ${recorder.answers.length} requests in ${((loadStopped - loadStart) / 1000).toFixed(0)} s`);

  const healProblems = await healAll(env, server);
  log(`everything healed${healProblems.length ? ` (problems: ${healProblems.join('; ')})` : ''}; settling`);
  const settled = await settle(env.db, env.gateway, options.holdTtlSeconds, log);
  await faults.settled();

  const invariants: InvariantResult[] = [];
  invariants.push(...(await seatChecks(env.db, server.url, settled)));
  invariants.push(...(await moneyChecks(env.db, env.gateway, settled)));
  const confirmations = await confirmationChecks(env.db, env.kafka.brokers, env.topic, settled);
  invariants.push(...confirmations.results);
  invariants.push(...(await answerChecks(env.db, recorder.answers, faults.records, loadStart)));
  invariants.push(
    check(
      'server',
      'the server never exited by itself (only the one SIGKILL on purpose)',
      server.crashes.length === 0,
      server.crashes.length === 0 ? `${server.incarnation} starts, ${server.incarnation - 1} of them after the planned kill` : `${server.crashes.length} crashes`,
      server.crashes.map((c) => ({ at: new Date(c.at).toISOString(), code: c.code, signal: c.signal, tail: c.tail.slice(-2_000) })),
    ),
    check('server', 'every fault was injected as planned', faults.records.every((f) => !f.error) && healProblems.length === 0, `${faults.records.length} injected, ${faults.skipped.length} skipped for lack of time`, [
      ...faults.records.filter((f) => f.error).map((f) => `${f.kind}: ${f.error}`),
      ...healProblems,
    ]),
  );
  const trend = sampler.trend();
  invariants.push(
    trend
      ? { group: 'memory', name: 'memory flat (RSS and heap growth ≤ 20 % between the first and last thirds)', ok: !trend.flagged || trend.inconclusive, detail: trend.detail, ...(trend.inconclusive ? { inconclusive: true } : {}) }
      : { group: 'memory', name: 'memory flat (RSS and heap growth ≤ 20 % between the first and last thirds)', ok: true, inconclusive: true, detail: 'too few samples' },
  );
  const stopped = await server.stop();
  invariants.push(check('server', 'the server stopped cleanly on SIGTERM (exit 0)', stopped.graceful, `${stopped.graceful ? 'exit 0' : 'not graceful'} in ${stopped.ms} ms`));

  const outcomes = faultOutcomes(faults.records, recorder.answers, loadStart);
  const routes = routeStats(recorder.answers);
  const seconds = (loadStopped - loadStart) / 1000;
  const busy = sampler.samples.flatMap((s) => (s.machineBusyPct === undefined ? [] : [s.machineBusyPct]));
  const serverCpu = sampler.samples.flatMap((s) => (s.serverCpuPct === undefined ? [] : [s.serverCpuPct]));
  const avg = (values: number[]): number => Math.round((values.reduce((a, b) => a + b, 0) / Math.max(1, values.length)) * 10) / 10;
  const command = `npx ts-node --transpile-only bench/soak/soak.ts ${process.argv.slice(2).join(' ')}`.trim();
  const context = [
    `command: \`${command}\` (${new Date(loadStart).toISOString()})`,
    `engine ${options.engine}; ${options.buyers} buyers; ${options.minutes} min of load; seed ${options.seed}; ${options.concerts} concerts × ${options.schedulesPerConcert} schedules × ${options.seatsPerSchedule} seats; HOLD_TTL_SECONDS=${options.holdTtlSeconds}`,
    `machine: ${os.cpus().length} CPUs (shared with other engineers' work), load average ${loadAvg} at the start, ${avg(busy)} % busy on average during the load; server ${avg(serverCpu)} % of a core; Node ${process.version}; server: ${buildNote}`,
    `${recorder.answers.length.toLocaleString('en-US')} requests in ${seconds.toFixed(0)} s (${(recorder.answers.length / seconds).toFixed(1)}/s); ${counters.cycles} buyer cycles: ${counters.holds} holds, ${counters.payments} payments, ${counters.cancels} cancels, ${counters.abandoned} holds left to expire, ${counters.charges} approved top-ups`,
    `settling: charges ${settled.chargesSettledMs === null ? 'NOT settled' : `settled in ${(settled.chargesSettledMs / 1000).toFixed(1)} s`}, outbox ${settled.outboxDrainedMs === null ? 'NOT drained' : `drained in ${(settled.outboxDrainedMs / 1000).toFixed(1)} s`}; Kafka: ${confirmations.kafka.eventIds} eventIds, ${confirmations.kafka.records} records read (${confirmations.kafka.duplicates} duplicates)`,
    `server log: ${server.errorLineCount} error lines, ${server.warnLineCount} warnings (${logFile.replace(`${REPO_ROOT}/`, '')})`,
  ];
  const errorGroups = [...server.errorGroups.entries()].sort((a, b) => b[1] - a[1]);
  const extra =
    errorGroups.length > 0
      ? [
          `Server error log lines by message (503s are logged at error level; kafkajs logs the broker's absence):\n\n| lines | message |\n|---:|---|\n` +
            errorGroups.slice(0, 12).map(([message, n]) => `| ${n} | ${message.replace(/\|/g, '\\|')} |`).join('\n'),
        ]
      : [];
  const summary = markdown({
    title: `Soak ${new Date(loadStart).toISOString().slice(0, 10)}: ${options.engine} engine, ${options.minutes} min`,
    context,
    routes,
    faults: outcomes,
    skipped: faults.skipped,
    invariants,
    memory: trend,
    extra,
  });
  console.log(summary);
  const ok = invariants.every((i) => i.ok);
  if (options.json) {
    mkdirSync(dirname(options.json), { recursive: true });
    writeFileSync(
      options.json,
      `${JSON.stringify(
        {
          name: 'soak',
          ok,
          command,
          startedAt: new Date(loadStart).toISOString(),
          machine: { cpus: os.cpus().length, loadAverageAtStart: loadAtStart, machineBusyPctAvg: avg(busy), node: process.version, shared: true },
          options,
          server: { build: buildNote, incarnations: server.incarnation, crashes: server.crashes, errorLines: server.errorLineCount, warnLines: server.warnLineCount, errorSamples: server.errorLines.slice(0, 10), errorGroups: Object.fromEntries(errorGroups), stop: stopped, cpuPctAvg: avg(serverCpu) },
          load: { seconds: Math.round(seconds), requests: recorder.answers.length, reqPerS: Math.round((recorder.answers.length / seconds) * 10) / 10, buyers: counters, routes },
          faults: outcomes,
          skippedFaults: faults.skipped,
          settle: settled,
          kafka: confirmations.kafka,
          memory: { trend, samples: sampler.samples },
          invariants,
        },
        null,
        2,
      )}\n`,
    );
    log(`result written to ${options.json}`);
  }
  return ok ? 0 : 1;
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log(`${signal}: cleaning up (again to force)`);
    void cleanup.run().finally(() => process.exit(130));
  });
}

main()
  .then(async (code) => {
    await cleanup.run();
    log(code === 0 ? 'done: every invariant holds' : 'done: invariants FAILED');
    process.exit(code);
  })
  .catch(async (error: unknown) => {
    console.error(error instanceof UsageError ? error.message : `[soak] ${(error as Error).stack ?? String(error)}`);
    await cleanup.run();
    process.exit(2);
  });
