/**
 * Outbox relay throughput: how fast the real relay empties a backlog into Kafka.
 *
 * A fresh database bench_outbox_<run> (server migrations), N unpublished outbox rows shaped like a
 * payment's (prefill.ts), a fresh topic on the shared broker; then the relay starts in its OWN
 * process (relay-process.ts: the production relay and Kafka publisher, default settings) and the
 * clock runs until `SELECT count(*) FROM outbox WHERE published_at IS NULL` reads 0. Reported:
 * records/s, the relay's batches, and CPU of the relay process, its PostgreSQL backends and the
 * broker over the drain. Everything it created is removed at the end (database, topic, process).
 *
 *   npx ts-node --transpile-only bench/outbox/relay-throughput.ts [--rows 50000] [--json file]
 */
import { Client } from 'pg';
import { cpuByPid, cpuDelta, corePct, machineBusyPct, machineCpu, processCpuSeconds, round1, round2 } from '../proc-stats';
import { freshMigratedDatabase, runStamp, DATABASE_SERVER } from './bench-database';
import { endChild, forkChild, nextMessage } from './fork-child';
import { parseFlags } from './flags';
import { brokerCpuSeconds, createTopic, DEFAULT_BROKERS, deleteTopics, topicRecordCount } from './kafka-topic';
import { prefillOutbox } from './prefill';
import { waitForQuietMachine } from './quiet-machine';
import type { RelayCommand, RelayReport } from './relay-process';
import { describeMachine, machineLine, markdownTable, writeJson } from './report';

const flags = parseFlags('usage: npx ts-node --transpile-only bench/outbox/relay-throughput.ts [flags]', {
  rows: { default: 50_000, help: 'outbox rows to pre-fill and relay' },
  schedules: { default: 100, help: 'distinct message keys (schedule ids)' },
  partitions: { default: 1, help: 'partitions of the fresh topic (the shared broker auto-creates with 1)' },
  'batch-size': { default: 500, help: 'OUTBOX_BATCH_SIZE of the relay' },
  'idle-poll-ms': { default: 50, help: 'OUTBOX_IDLE_POLL_MS of the relay' },
  'poll-ms': { default: 50, help: 'how often the benchmark counts unpublished rows' },
  'timeout-s': { default: 120, help: 'give up when the backlog is not drained by then' },
  'relay-node-flags': { default: '', help: 'extra Node flags of the relay process, e.g. --relay-node-flags="--cpu-prof --cpu-prof-dir=bench/results/tmp" (values starting with a dash need the = form)' },
  brokers: { default: DEFAULT_BROKERS, help: 'Kafka bootstrap brokers (shared broker)' },
  json: { default: '', help: 'write the result as JSON to this file' },
});

async function pendingRows(monitor: Client): Promise<number> {
  const { rows } = await monitor.query<{ n: string }>('SELECT count(*) AS n FROM outbox WHERE published_at IS NULL');
  return Number(rows[0]?.n ?? 0);
}

async function main(): Promise<void> {
  const machine = await describeMachine(DATABASE_SERVER);
  console.log(machineLine(machine));
  const run = runStamp();
  const topic = `bench.outbox.relay.${run}`;
  const db = await freshMigratedDatabase(`bench_outbox_${run}`, 4);
  const monitor = new Client({ connectionString: db.url });
  let relay: ReturnType<typeof forkChild> | undefined;
  try {
    await monitor.connect();
    await createTopic(flags.brokers, topic, flags.partitions);
    const fillStarted = performance.now();
    await prefillOutbox(db.pool, flags.rows, flags.schedules, topic);
    await monitor.query('VACUUM ANALYZE outbox');
    await monitor.query('CHECKPOINT');
    console.log(`pre-filled ${flags.rows} rows in ${round1((performance.now() - fillStarted) / 1000)} s (database ${db.name}, topic ${topic})`);

    relay = forkChild(
      __dirname,
      'relay-process',
      {
        DATABASE_URL: db.url,
        KAFKA_BROKERS: flags.brokers,
        OUTBOX_BATCH_SIZE: String(flags['batch-size']),
        OUTBOX_IDLE_POLL_MS: String(flags['idle-poll-ms']),
        LOG_LEVEL: 'warn',
      },
      flags['relay-node-flags'].split(' ').filter(Boolean),
    );
    const child = relay;
    await nextMessage<RelayReport, true>(
      child,
      (m) => {
        if (m.type === 'fatal') throw new Error(`relay process: ${m.message}`);
        return m.type === 'ready' ? true : undefined;
      },
      60_000,
      'relay process start',
    );
    const batches: { records: number; publishSeconds: number; at: number }[] = [];
    child.on('message', (m: RelayReport) => {
      if (m.type === 'batch') batches.push(m);
    });

    const machineBefore = await waitForQuietMachine();
    const relayCpu0 = processCpuSeconds(child.pid!) ?? 0;
    const broker0 = brokerCpuSeconds();
    const machine0 = machineCpu();
    const started = performance.now();
    const startedEpoch = performance.timeOrigin + started;
    child.send({ type: 'start' } satisfies RelayCommand);

    let pending = flags.rows;
    let backendPids = new Map<number, number>();
    while (pending > 0) {
      if (performance.now() - started > flags['timeout-s'] * 1000) throw new Error(`not drained within ${flags['timeout-s']} s: ${pending} rows left`);
      await new Promise((resolve) => setTimeout(resolve, flags['poll-ms']));
      pending = await pendingRows(monitor);
      // The relay's backends (the monitor's own is excluded), read while they are alive.
      const pids = await monitor.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db.name]);
      backendPids = cpuByPid(pids.rows.map((r) => r.pid));
    }
    const drainedMs = performance.now() - started;
    const relayCpu = (processCpuSeconds(child.pid!) ?? 0) - relayCpu0;
    const brokerCpu = broker0 === undefined ? undefined : (brokerCpuSeconds() ?? broker0) - broker0;
    const machineBusy = machineBusyPct(machine0, machineCpu());
    const backendCpu = cpuDelta(new Map(), backendPids);

    child.send({ type: 'stop' } satisfies RelayCommand);
    const stopped = await nextMessage<RelayReport, Extract<RelayReport, { type: 'stopped' }>>(child, (m) => (m.type === 'stopped' ? m : undefined), 30_000, 'relay stop');
    const inKafka = await topicRecordCount(flags.brokers, topic);

    // Exact drain time from the relay's own batch reports (the count poll adds up to poll-ms);
    // CPU shares are over the polled interval, the one the CPU was read over.
    const lastBatchMs = batches.length > 0 ? batches[batches.length - 1]!.at - startedEpoch : drainedMs;
    const firstBatchMs = batches.length > 0 ? batches[0]!.at - startedEpoch : 0;
    const publishSeconds = batches.reduce((sum, b) => sum + b.publishSeconds, 0);
    const result = {
      scenario: 'outbox-relay-throughput',
      machine,
      params: { ...flags, relayIn: 'its own child process (bench/outbox/relay-process.ts: production createOutboxRelay + createKafkaPublisher)' },
      database: db.name,
      topic,
      rows: flags.rows,
      drainedSeconds: round2(lastBatchMs / 1000),
      drainedSecondsByCountPoll: round2(drainedMs / 1000),
      recordsPerSecond: Math.round(flags.rows / (lastBatchMs / 1000)),
      firstBatchAfterMs: round1(firstBatchMs),
      batches: stopped.batches,
      avgBatch: round1(flags.rows / Math.max(1, stopped.batches)),
      publishFailures: stopped.failures,
      avgPublishMs: round1((publishSeconds * 1000) / Math.max(1, batches.length)),
      publishShareOfDrainPct: round1((publishSeconds * 100000) / lastBatchMs),
      recordsInKafka: inKafka,
      relayCpuPct: corePct(relayCpu, drainedMs),
      relayCpuMicrosPerRecord: round1((relayCpu * 1e6) / flags.rows),
      postgresBackendsCpuPct: corePct(backendCpu, drainedMs),
      brokerCpuPct: brokerCpu === undefined ? undefined : corePct(brokerCpu, drainedMs),
      machineCpuPct: machineBusy,
      machineCpuPctBefore: machineBefore,
    };
    console.log(
      `\n${markdownTable(
        ['rows', 'drain s', 'records/s', 'batches', 'avg batch', 'avg publish ms', 'publish % of drain', 'relay CPU % (1 core)', 'relay CPU µs/record', 'PG backends CPU %', 'broker CPU %', 'machine CPU %', 'machine % before', 'records in Kafka'],
        [[result.rows, result.drainedSeconds, result.recordsPerSecond, result.batches, result.avgBatch, result.avgPublishMs, result.publishShareOfDrainPct, result.relayCpuPct, result.relayCpuMicrosPerRecord, result.postgresBackendsCpuPct, result.brokerCpuPct, result.machineCpuPct, result.machineCpuPctBefore, result.recordsInKafka]],
      )}\n`,
    );
    if (inKafka < flags.rows) console.error(`WARNING: only ${inKafka} of ${flags.rows} records are in the topic`);
    if (flags.json) writeJson(flags.json, result);
  } finally {
    if (relay) await endChild(relay, 10_000);
    await monitor.end().catch(() => undefined);
    await db.drop();
    await deleteTopics(flags.brokers, [topic]).catch((error: unknown) => console.error(`could not delete topic ${topic}: ${(error as Error).message}`));
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
