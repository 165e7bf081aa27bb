/**
 * The fault schedule: one fault at a time, the first after `firstFaultSeconds`, then one every
 * `faultEverySeconds` (± 15 %, seeded; planned times, so one long fault does not push the rest)
 * or 5 s after the previous one healed, whichever is later;
 * none starts in the last 10 s of the load. The server is SIGKILLed once, first (so the memory
 * trend has the longest incarnation after it); the others follow in turn, cycling:
 *   kafka-stop (20 s), pg-cut (3–8 s, proxy.cut/heal), gateway-outage (10 s), redis-kill
 *   (restarted empty after 2–5 s: every token lost), gateway-timeouts (10 s of 60 % hanging
 *   charges and 30 % errors), pg-reset (every PostgreSQL connection reset).
 */
import type { Pool } from 'pg';
import type { Environment } from './environment';
import { GATEWAY_BASELINE } from './environment';
import type { Rng } from './rng';
import type { SoakServer } from './server';

export type FaultKind = 'server-kill' | 'kafka-stop' | 'pg-cut' | 'gateway-outage' | 'redis-kill' | 'gateway-timeouts' | 'pg-reset';

const FIRST: FaultKind = 'server-kill';
const CYCLE: readonly FaultKind[] = ['kafka-stop', 'pg-cut', 'gateway-outage', 'redis-kill', 'gateway-timeouts', 'pg-reset'];

export interface FaultRecord {
  kind: FaultKind;
  /** Epoch ms. */
  startedAt: number;
  /** When the fault was healed (the thing is back). */
  endedAt: number;
  detail: string;
  /** The injection itself failed (e.g. the broker did not come back). */
  error?: string;
  /** kafka-stop: from the broker's return until the outbox had nothing unpublished. */
  outboxDrainedMs?: number;
  /** server-kill: from SIGKILL until /health/ready answered 200 again. */
  restartMs?: number;
}

export interface FaultPlan {
  firstFaultSeconds: number;
  faultEverySeconds: number;
  loadSeconds: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class FaultInjector {
  readonly records: FaultRecord[] = [];
  readonly skipped: FaultKind[] = [];
  private readonly pending: Promise<unknown>[] = [];
  private stopped = false;

  constructor(
    private readonly env: Environment,
    private readonly server: SoakServer,
    private readonly rng: Rng,
    private readonly log: (message: string) => void,
  ) {}

  /** Runs the schedule from `loadStart` (epoch ms) until the load's end; resolves when done. */
  async run(plan: FaultPlan, loadStart: number): Promise<void> {
    const loadEnd = loadStart + plan.loadSeconds * 1000;
    let next = loadStart + plan.firstFaultSeconds * 1000;
    let lastEnd = 0;
    for (let i = 0; !this.stopped; i++) {
      const kind = i === 0 ? FIRST : CYCLE[(i - 1) % CYCLE.length]!;
      const startAt = Math.max(next, lastEnd + 5_000);
      if (startAt > loadEnd - 10_000) {
        if (i < 1 + CYCLE.length) this.skipped.push(...[FIRST, ...CYCLE].slice(i));
        break;
      }
      while (Date.now() < startAt && !this.stopped) await sleep(Math.min(250, startAt - Date.now()));
      if (this.stopped) break;
      const record = await this.inject(kind, loadStart);
      lastEnd = record.endedAt;
      // From the plan, not from when this one started: a late fault does not push all the others.
      next += plan.faultEverySeconds * 1000 * (0.85 + 0.3 * this.rng.next());
    }
  }

  stop(): void {
    this.stopped = true;
  }

  /** Waits for the measurements that outlive their fault (outbox drain after Kafka). */
  async settled(): Promise<void> {
    await Promise.allSettled(this.pending);
  }

  private async inject(kind: FaultKind, loadStart: number): Promise<FaultRecord> {
    const record: FaultRecord = { kind, startedAt: Date.now(), endedAt: 0, detail: '' };
    const at = (t: number): string => `${new Date(t).toISOString()} (+${((t - loadStart) / 1000).toFixed(1)} s)`;
    this.log(`fault ${kind}: start at ${at(record.startedAt)}`);
    try {
      await this.apply(kind, record);
    } catch (error) {
      record.error = (error as Error).message.slice(0, 1_000);
      this.log(`fault ${kind}: injection failed: ${record.error}`);
    }
    record.endedAt ||= Date.now();
    this.records.push(record);
    this.log(`fault ${kind}: healed at ${at(record.endedAt)} after ${((record.endedAt - record.startedAt) / 1000).toFixed(1)} s; ${record.detail}`);
    return record;
  }

  private async apply(kind: FaultKind, record: FaultRecord): Promise<void> {
    const { proxy, redis, kafka, gateway } = this.env;
    switch (kind) {
      case 'server-kill': {
        await this.server.kill();
        const restartMs = await this.server.start();
        record.endedAt = Date.now();
        record.restartMs = record.endedAt - record.startedAt;
        record.detail = `SIGKILL, restarted on the same port, ready ${restartMs} ms after the spawn`;
        return;
      }
      case 'pg-cut': {
        const seconds = this.rng.int(3, 8);
        const open = proxy.connections;
        proxy.cut();
        await sleep(seconds * 1000);
        proxy.heal();
        record.detail = `link to PostgreSQL cut for ${seconds} s (${open} connections open), then healed (late bytes delivered)`;
        return;
      }
      case 'pg-reset': {
        const open = proxy.connections;
        proxy.resetAll();
        record.detail = `${open} PostgreSQL connections reset (RST)`;
        return;
      }
      case 'redis-kill': {
        const seconds = this.rng.int(2, 5);
        await redis.kill();
        await sleep(seconds * 1000);
        await redis.start();
        record.detail = `redis-server SIGKILLed, restarted empty after ${seconds} s (every token lost)`;
        return;
      }
      case 'kafka-stop': {
        await kafka.stop();
        const stoppedAt = Date.now();
        await sleep(20_000);
        await kafka.start();
        record.endedAt = Date.now();
        record.detail = `broker stopped (SIGTERM) for ${((record.endedAt - stoppedAt) / 1000).toFixed(1)} s including its restart`;
        this.pending.push(this.measureDrain(this.env.db, record));
        return;
      }
      case 'gateway-outage': {
        gateway.setKnobs({ outage: true });
        await sleep(10_000);
        gateway.setKnobs({ outage: false });
        record.detail = 'gateway answered 503 to everything for 10 s';
        return;
      }
      case 'gateway-timeouts': {
        // Hanging new charges alone are resolved by the request's own retries (a replay of the key
        // answers at once); with errors on the retries too, some requests end 202 PENDING and the
        // reconciler has to finish them.
        gateway.setKnobs({ timeoutRate: 0.6, errorRate: 0.3 });
        await sleep(10_000);
        gateway.setKnobs({ timeoutRate: GATEWAY_BASELINE.timeoutRate ?? 0, errorRate: GATEWAY_BASELINE.errorRate ?? 0 });
        record.detail = `for 10 s 60 % of the new charges were recorded but answered only after ${GATEWAY_BASELINE.hangMs} ms, and 30 % of all gateway calls failed with 500`;
        return;
      }
    }
  }

  /** After Kafka is back: how long until nothing is left unpublished in the outbox (≤ 120 s). */
  private async measureDrain(db: Pool, record: FaultRecord): Promise<void> {
    const back = Date.now();
    while (Date.now() - back < 120_000) {
      try {
        const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL');
        if (rows[0]!.n === 0) {
          record.outboxDrainedMs = Date.now() - back;
          return;
        }
      } catch {
        // the check's own connection is direct, not through the proxy; retry anyway
      }
      await sleep(500);
    }
  }
}

/** Puts everything back (before the final checks, and on the way out). */
export async function healAll(env: Environment, server: SoakServer): Promise<string[]> {
  const problems: string[] = [];
  env.proxy.heal();
  env.proxy.refuse(false);
  env.gateway.setKnobs(GATEWAY_BASELINE);
  const step = async (what: string, run: () => Promise<unknown>): Promise<void> => {
    try {
      await run();
    } catch (error) {
      problems.push(`${what}: ${(error as Error).message.slice(0, 500)}`);
    }
  };
  if (!env.redis.running) await step('restart Redis', () => env.redis.start());
  await step('start Kafka', () => env.kafka.start());
  if (!server.running) await step('start the server', () => server.start());
  return problems;
}
