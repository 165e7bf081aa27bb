/**
 * Payments at a fixed rate (open model): payment i is due at t0 + i / rate whatever the latency of
 * the others, as buyers do not wait for each other. Each one is the REAL money statement
 * (recordPayment of src/persistence/payment-transaction.ts) in BEGIN … COMMIT on a pool connection.
 * When `maxInFlight` payments are already running, a due payment is dropped and counted (a
 * closed loop would instead slow the arrivals down and hide the overload).
 *
 * Times: `intended` (due), `begin` (BEGIN sent, a connection in hand), `commit` (COMMIT acknowledged);
 * the commit is also kept as epoch ms (performance.timeOrigin + now) so another process can compare.
 */
import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Pool } from 'pg';
import { recordPayment } from '../../src/persistence/payment-transaction';
import type { PaymentFixture } from './payment-fixtures';

export interface WriterOptions {
  pool: Pool;
  fixtures: readonly PaymentFixture[];
  topic: string;
  rate: number;
  warmupS: number;
  durationS: number;
  maxInFlight: number;
  /** Called when the measurement window opens and closes (at their scheduled times). */
  onWindow(edge: 'open' | 'close'): void;
}

export interface PaymentSample {
  paymentId: string;
  intended: number;
  begin: number;
  commit: number;
  commitEpoch: number;
}

export interface WriterResult {
  /** Payments due in the window that committed (warm-up ones are not in here). */
  measured: PaymentSample[];
  /** Every committed payment id, warm-up included (the consumer must see all of them). */
  committedIds: string[];
  due: number;
  dropped: number;
  failed: number;
  failureSamples: string[];
  /** When the last measured payment committed, relative to the window's scheduled end (ms; > 0 = late). */
  lastCommitAfterWindowMs: number;
  loopDelayP99Ms: number;
  writerCpuPct: number;
}

const now = () => performance.now();

export function writePayments(options: WriterOptions): Promise<WriterResult> {
  const { pool, fixtures, rate, maxInFlight } = options;
  const warmupCount = Math.floor(rate * options.warmupS);
  const total = warmupCount + Math.floor(rate * options.durationS);
  if (fixtures.length < total) throw new Error(`${total} payments need as many fixtures (have ${fixtures.length})`);
  const interval = 1000 / rate;
  const measured: PaymentSample[] = [];
  const committedIds: string[] = [];
  const failureSamples: string[] = [];
  let issued = 0;
  let inFlight = 0;
  let dropped = 0;
  let failed = 0;
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  let cpuAtOpen = process.cpuUsage();

  const pay = async (index: number, intended: number) => {
    const fixture = fixtures[index]!;
    const paymentId = randomUUID();
    let client;
    try {
      client = await pool.connect();
    } catch (error) {
      failed++;
      if (failureSamples.length < 5) failureSamples.push(`connect: ${(error as Error).message}`);
      return;
    }
    const begin = now();
    try {
      await client.query('BEGIN');
      const outcome = await recordPayment(client, {
        paymentId,
        reservationId: fixture.reservationId,
        userId: fixture.userId,
        scheduleId: fixture.scheduleId,
        seatNos: fixture.seatNos,
        amount: fixture.amount,
        confirmedAt: new Date(),
        outboxTopic: options.topic,
        idempotency: { scope: `payment:${fixture.userId}`, key: `bench-${index}`, requestHash: 'bench' },
      });
      if (!outcome.ok) throw new Error(`payment refused: ${outcome.code}`);
      await client.query('COMMIT');
      const commit = now();
      committedIds.push(paymentId);
      if (index >= warmupCount) measured.push({ paymentId, intended, begin, commit, commitEpoch: performance.timeOrigin + commit });
      client.release();
    } catch (error) {
      failed++;
      if (failureSamples.length < 5) failureSamples.push((error as Error).message);
      await client.query('ROLLBACK').catch(() => undefined);
      client.release(true);
    }
  };

  return new Promise<WriterResult>((resolve) => {
    const t0 = now() + 10;
    const windowOpen = t0 + warmupCount * interval;
    const windowClose = t0 + total * interval;
    let writerCpuPct = 0;
    let closed = false;
    setTimeout(() => {
      cpuAtOpen = process.cpuUsage();
      loopDelay.enable();
      options.onWindow('open');
    }, windowOpen - now());
    setTimeout(() => {
      const cpu = process.cpuUsage(cpuAtOpen);
      writerCpuPct = Math.round(((cpu.user + cpu.system) / 1000 / (windowClose - windowOpen)) * 1000) / 10;
      loopDelay.disable();
      options.onWindow('close');
      closed = true;
      finishIfDone();
    }, windowClose - now());

    const finishIfDone = () => {
      if (issued < total || inFlight > 0 || !closed) return;
      const lastCommit = measured.reduce((latest, s) => Math.max(latest, s.commit), windowOpen);
      resolve({
        measured,
        committedIds,
        due: total - warmupCount,
        dropped,
        failed,
        failureSamples,
        lastCommitAfterWindowMs: Math.round(lastCommit - windowClose),
        loopDelayP99Ms: Math.round(loopDelay.percentile(99) / 1e4) / 100,
        writerCpuPct,
      });
    };

    // Starts every payment that is due by now; sleeps until the next one is due (timers: ~1 ms grain).
    const tick = () => {
      const due = Math.min(total, Math.floor((now() - t0) / interval) + 1);
      while (issued < due) {
        const index = issued++;
        const intended = t0 + index * interval;
        if (inFlight >= maxInFlight) {
          if (index >= warmupCount) dropped++;
          continue;
        }
        inFlight++;
        void pay(index, intended).finally(() => {
          inFlight--;
          finishIfDone();
        });
      }
      if (issued < total) setTimeout(tick, Math.max(0, t0 + issued * interval - now()));
    };
    setTimeout(tick, Math.max(0, t0 - now()));
  });
}
