/**
 * The load generator of the gateway benchmark (its own process, forked by charge-throughput.ts):
 * `vus` closed-loop virtual users, each with its own keep-alive connection (the harness's
 * HttpConnection) and one request in flight, charging its own user's balance with a fresh
 * Idempotency-Key every time. Latencies and counts come from the harness's Recorder, so the
 * window rules are the harness's: a request counts when it starts after the warm-up and completes
 * before the window closes.
 *
 * IPC: receives one `ChargeJob`; reports `window` open/close (the parent samples CPU and metrics
 * at the same instants) and the `result`.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { HttpConnection } from '../load/http-client';
import type { LatencySummary } from '../load/protocol';
import { Recorder } from '../load/recorder';

export interface ChargeJob {
  target: string;
  vus: number;
  warmupS: number;
  durationS: number;
  /** One user per VU (no two VUs credit the same balance row). */
  userIds: string[];
  amount: number;
  /** Makes keys unique across runs on the same database. */
  keyPrefix: string;
  requestTimeoutMs: number;
}

export interface ChargeResult {
  durationMs: number;
  requests: number;
  /** Every status in the window, 0 = no response. */
  statusCounts: Record<string, number>;
  latency: LatencySummary;
  /** Per second of the window: completed requests. */
  perSecond: number[];
  loadGenCpuPct: number;
  loopDelayP99Ms: number;
  errorSamples: { status: number; body: string }[];
}

export type WorkerReport = { type: 'window'; edge: 'open' | 'close' } | { type: 'result'; result: ChargeResult } | { type: 'fatal'; message: string };

const send = (report: WorkerReport) => new Promise<void>((resolve) => (process.send ? process.send(report, undefined, {}, () => resolve()) : resolve()));

async function run(job: ChargeJob): Promise<ChargeResult> {
  const url = new URL(job.target);
  const recorder = new Recorder();
  const statusCounts = new Map<number, number>();
  const errorSamples: { status: number; body: string }[] = [];
  let stopping = false;
  const vu = async (id: number) => {
    const connection = new HttpConnection(url.hostname, Number(url.port), job.requestTimeoutMs);
    const body = JSON.stringify({ amount: job.amount });
    const path = `/v1/users/${job.userIds[id]}/balance/charges`;
    for (let n = 0; !stopping; n++) {
      const started = performance.now();
      let status = 0;
      let text = '';
      try {
        const response = await connection.request('POST', path, body, `idempotency-key: ${job.keyPrefix}-${id}-${n}\r\n`);
        status = response.status;
        if (status !== 200 && status !== 202) text = response.body.toString('utf8').slice(0, 300);
      } catch (error) {
        text = (error as Error).message;
      }
      const counted = recorder.request('charge', started, performance.now(), status, status !== 200 && status !== 202, undefined);
      if (counted) {
        statusCounts.set(status, (statusCounts.get(status) ?? 0) + 1);
        if (text !== '' && errorSamples.length < 10) errorSamples.push({ status, body: text });
      }
      if (status === 0) await new Promise((resolve) => setTimeout(resolve, 50)); // no hot spin on a dead server
    }
    connection.close();
  };
  const loops = Array.from({ length: job.vus }, (_, id) => vu(id));
  await new Promise((resolve) => setTimeout(resolve, job.warmupS * 1000));
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  const cpuAtOpen = process.cpuUsage();
  recorder.start(performance.now());
  await send({ type: 'window', edge: 'open' });
  await new Promise((resolve) => setTimeout(resolve, job.durationS * 1000));
  recorder.stop(performance.now());
  const cpu = process.cpuUsage(cpuAtOpen);
  loopDelay.disable();
  await send({ type: 'window', edge: 'close' });
  stopping = true;
  await Promise.all(loops);
  const stats = recorder.result();
  return {
    durationMs: stats.durationMs,
    requests: stats.requests,
    statusCounts: Object.fromEntries([...statusCounts].sort((a, b) => a[0] - b[0])),
    latency: stats.latency,
    perSecond: stats.seconds.map((s) => s.requests),
    loadGenCpuPct: Math.round(((cpu.user + cpu.system) / 1000 / stats.durationMs) * 1000) / 10,
    loopDelayP99Ms: Math.round(loopDelay.percentile(99) / 1e4) / 100,
    errorSamples,
  };
}

process.once('message', (job: ChargeJob) => {
  run(job).then(
    async (result) => {
      await send({ type: 'result', result });
      process.exit(0);
    },
    async (error: unknown) => {
      await send({ type: 'fatal', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      process.exit(1);
    },
  );
});
process.on('disconnect', () => process.exit(2));
