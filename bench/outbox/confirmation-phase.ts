/**
 * One phase of the confirmation latency benchmark: the real server (its relay ON with
 * KAFKA_BROKERS, or OFF without) on a fresh database, payments written at a fixed rate with the
 * real money statement by this process (payment-writer.ts), and — relay ON — a consumer process
 * that notes when each confirmation arrives. The server's relay is not nudged by these direct-SQL
 * payments: it finds them by its own loop (at once after a batch with rows, else every
 * OUTBOX_IDLE_POLL_MS).
 */
import type { ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { Client } from 'pg';
import { createPool } from '../../src/persistence/database';
import { dbSnapshot } from '../db-stats';
import { percentiles, type Percentiles } from '../journal/stats';
import { corePct, cpuDelta, machineBusyPct, machineCpu, processCpuSeconds, round1 } from '../proc-stats';
import { metricsDelta, scrapeMetrics } from '../server-metrics';
import { ServerProcess } from '../server-process';
import type { ConsumerCommand, ConsumerReport } from './confirm-consumer';
import { DATABASE_SERVER } from './bench-database';
import { endChild, forkChild, nextMessage } from './fork-child';
import { brokerCpuSeconds, createTopic, deleteGroups, deleteTopics } from './kafka-topic';
import { createPaymentFixtures } from './payment-fixtures';
import { writePayments, type WriterResult } from './payment-writer';
import { waitForQuietMachine } from './quiet-machine';
import { sampleWaitEvents, type WaitSampler } from './wait-events';
import { walPer, walStats, type WalStats } from './wal-stats';

export interface PhaseSettings {
  run: string;
  serverEntry: string;
  brokers: string;
  redisUrl: string;
  rate: number;
  warmupS: number;
  durationS: number;
  maxInFlight: number;
  connections: number;
  schedules: number;
  idlePollMs: number;
  batchSize: number;
  partitions: number;
  confirmTimeoutS: number;
  /** PGOPTIONS of the server (its only database work here is the relay's). */
  serverPgOptions: string;
}

export interface PhaseResult {
  relay: 'on' | 'off';
  database: string;
  topic: string;
  paymentsDue: number;
  committed: number;
  dropped: number;
  failed: number;
  failureSamples: string[];
  achievedPerSecond: number;
  lastCommitAfterWindowMs: number;
  /** The writer's BEGIN … COMMIT. */
  commitMs: Percentiles;
  /** Due time → COMMIT acknowledged (adds waiting for a connection, and the writer's own lateness). */
  dueToCommitMs: Percentiles;
  confirmation?: {
    /** COMMIT acknowledged → the consumer has the record. */
    latencyMs: Percentiles;
    /** COMMIT acknowledged → Kafka timestamp of the record (the relay's producer sent its batch; ms clock). */
    relayPickupMs: Percentiles;
    /** Kafka timestamp → the consumer has it. */
    deliveryMs: Percentiles;
    received: number;
    missing: number;
    duplicates: number;
    withoutEventId: number;
  };
  relayMetrics: Record<string, number>;
  /** % of one core over the window; `others` = the machine's busy time minus ours (PostgreSQL's own background processes and other people's work). */
  cpuPct: { server: number; postgresBackends: number; broker?: number; writer: number; consumer?: number; machine: number; others: number; machineBeforePhase: number };
  /** pg_stat_wal over the window ÷ committed payments (cluster-wide counters). */
  walPerPayment: WalStats;
  /** Active backends of the database sampled every 100 ms over the window: CPU or their wait event. */
  postgresActivity: { samples: number; byState: Record<string, number> };
  writerLoopDelayP99Ms: number;
  serverWarnings: number;
  serverWarningSamples: string[];
}

interface Edge {
  server: number;
  consumer?: number;
  db: Awaited<ReturnType<typeof dbSnapshot>>;
  broker?: number;
  machine: ReturnType<typeof machineCpu>;
}

function cpuShares(open: Edge, close: Edge, windowMs: number, writer: number, machineBeforePhase: number): PhaseResult['cpuPct'] {
  const server = corePct(close.server - open.server, windowMs);
  const postgresBackends = corePct(cpuDelta(open.db.backendCpu, close.db.backendCpu), windowMs);
  const broker = open.broker === undefined || close.broker === undefined ? undefined : corePct(close.broker - open.broker, windowMs);
  const consumer = open.consumer === undefined || close.consumer === undefined ? undefined : corePct(close.consumer - open.consumer, windowMs);
  const machine = machineBusyPct(open.machine, close.machine);
  const ours = server + postgresBackends + (broker ?? 0) + writer + (consumer ?? 0);
  return { server, postgresBackends, broker, writer, consumer, machine, others: round1(Math.max(0, (machine * cpus().length) - ours)), machineBeforePhase };
}

export async function runPhase(relay: 'on' | 'off', settings: PhaseSettings): Promise<PhaseResult> {
  const topic = `bench.outbox.confirm.${settings.run}.${relay}`;
  const group = `bench-confirm-${settings.run}-${relay}`;
  const server = await ServerProcess.start({
    engine: 'actor',
    entry: settings.serverEntry,
    runId: `outbox_${settings.run}`,
    label: `relay_${relay}`,
    databaseBaseUrl: `${DATABASE_SERVER}/postgres`,
    redisUrl: settings.redisUrl,
    adminKey: 'bench-admin-key',
    env: {
      LOG_LEVEL: 'warn',
      OUTBOX_IDLE_POLL_MS: String(settings.idlePollMs),
      OUTBOX_BATCH_SIZE: String(settings.batchSize),
      ...(settings.serverPgOptions ? { PGOPTIONS: settings.serverPgOptions } : {}),
      ...(relay === 'on' ? { KAFKA_BROKERS: settings.brokers, KAFKA_TOPIC_CONFIRMED: topic } : {}),
    },
  });
  const pool = createPool(server.databaseUrl, settings.connections);
  const monitor = new Client({ connectionString: server.databaseUrl });
  let consumer: ChildProcess | undefined;
  let exit: Awaited<ReturnType<ServerProcess['stop']>> | undefined;
  try {
    if (relay === 'on') await createTopic(settings.brokers, topic, settings.partitions);
    await monitor.connect();
    const payments = Math.floor(settings.rate * settings.warmupS) + Math.floor(settings.rate * settings.durationS);
    const fixtures = await createPaymentFixtures(pool, payments, settings.schedules);
    await monitor.query('VACUUM ANALYZE');
    await monitor.query('CHECKPOINT');

    const machineBeforePhase = await waitForQuietMachine();
    let progress = 0;
    if (relay === 'on') {
      consumer = forkChild(__dirname, 'confirm-consumer', { BROKERS: settings.brokers, TOPIC: topic, GROUP: group });
      consumer.on('message', (m: ConsumerReport) => {
        if (m.type === 'progress') progress = m.received;
      });
      await nextMessage<ConsumerReport, true>(
        consumer,
        (m) => {
          if (m.type === 'fatal') throw new Error(`consumer: ${m.message}`);
          return m.type === 'ready' ? true : undefined;
        },
        60_000,
        'consumer start',
      );
    }

    // Counters at the window's edges (taken in the writer's timer callbacks).
    const edges: (Edge & { at: number; metrics: Map<string, number>; wal: WalStats })[] = [];
    let sampler: WaitSampler | undefined;
    let activity: PhaseResult['postgresActivity'] = { samples: 0, byState: {} };
    const snapshot = async (edge: 'open' | 'close') => {
      const at = performance.now();
      const [machineNow, serverCpu, consumerCpu, brokerCpu] = [machineCpu(), server.cpuSeconds() ?? 0, consumer && processCpuSeconds(consumer.pid!), brokerCpuSeconds()];
      if (edge === 'close' && sampler) activity = await sampler.stop();
      const [db, metrics, wal] = await Promise.all([dbSnapshot(monitor, server.databaseName), scrapeMetrics(server.url), walStats(monitor)]);
      edges.push({ at, server: serverCpu, consumer: consumerCpu, db, broker: brokerCpu, machine: machineNow, metrics, wal });
      if (edge === 'open') sampler = sampleWaitEvents(monitor, server.databaseName, 100);
    };
    const pendingSnapshots: Promise<void>[] = [];
    const written: WriterResult = await writePayments({
      pool,
      fixtures,
      topic,
      rate: settings.rate,
      warmupS: settings.warmupS,
      durationS: settings.durationS,
      maxInFlight: settings.maxInFlight,
      onWindow: (edge) => pendingSnapshots.push(snapshot(edge)),
    });
    await Promise.all(pendingSnapshots);
    const [open, close] = edges as [(typeof edges)[0], (typeof edges)[0]];
    const windowMs = close.at - open.at;

    let confirmation: PhaseResult['confirmation'];
    if (consumer) {
      // Every committed payment, warm-up included, must arrive; then collect the receipts.
      const deadline = performance.now() + settings.confirmTimeoutS * 1000;
      while (progress < written.committedIds.length && performance.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      consumer.send({ type: 'collect' } satisfies ConsumerCommand);
      const report = await nextMessage<ConsumerReport, Extract<ConsumerReport, { type: 'receipts' }>>(
        consumer,
        (m) => (m.type === 'receipts' ? m : undefined),
        30_000,
        'consumer receipts',
      );
      const byPayment = new Map(report.receipts.map((r) => [r[0], r] as const));
      const latency: number[] = [];
      const pickup: number[] = [];
      const delivery: number[] = [];
      let missing = 0;
      for (const sample of written.measured) {
        const receipt = byPayment.get(sample.paymentId);
        if (!receipt) {
          missing++;
          continue;
        }
        latency.push(receipt[1] - sample.commitEpoch);
        pickup.push(receipt[2] - sample.commitEpoch);
        delivery.push(receipt[1] - receipt[2]);
      }
      confirmation = {
        latencyMs: percentiles(latency),
        relayPickupMs: percentiles(pickup),
        deliveryMs: percentiles(delivery),
        received: report.receipts.length,
        missing,
        duplicates: report.duplicates,
        withoutEventId: report.withoutEventId,
      };
    }

    exit = await server.stop();
    return {
      relay,
      database: server.databaseName,
      topic: relay === 'on' ? topic : '(relay off: rows stay in the outbox)',
      paymentsDue: written.due,
      committed: written.measured.length,
      dropped: written.dropped,
      failed: written.failed,
      failureSamples: written.failureSamples,
      achievedPerSecond: round1(written.measured.length / settings.durationS),
      lastCommitAfterWindowMs: written.lastCommitAfterWindowMs,
      commitMs: percentiles(written.measured.map((s) => s.commit - s.begin)),
      dueToCommitMs: percentiles(written.measured.map((s) => s.commit - s.intended)),
      confirmation,
      relayMetrics: Object.fromEntries(Object.entries(metricsDelta(open.metrics, close.metrics)).filter(([name]) => name.includes('outbox'))),
      cpuPct: cpuShares(open, close, windowMs, written.writerCpuPct, machineBeforePhase),
      walPerPayment: walPer(open.wal, close.wal, written.measured.length),
      postgresActivity: activity,
      writerLoopDelayP99Ms: written.loopDelayP99Ms,
      serverWarnings: exit.warnings,
      serverWarningSamples: exit.warningSamples,
    };
  } finally {
    if (consumer) await endChild(consumer);
    await pool.end().catch(() => undefined);
    await monitor.end().catch(() => undefined);
    if (!exit) await server.stop().catch(() => undefined);
    await server.cleanUp(`${DATABASE_SERVER}/postgres`, settings.redisUrl).catch((e: unknown) => console.error(`clean-up of ${server.databaseName}: ${(e as Error).message}`));
    if (relay === 'on') {
      await deleteGroups(settings.brokers, [group]).catch(() => undefined);
      await deleteTopics(settings.brokers, [topic]).catch((e: unknown) => console.error(`could not delete topic ${topic}: ${(e as Error).message}`));
    }
  }
}
