/**
 * After the load, with every fault healed: bounded waits until the system is at rest, so that the
 * invariants judge a finished state — PENDING charges settled by the reconciler, the outbox
 * published, every hold past its expiry journaled as EXPIRED.
 */
import type { Pool } from 'pg';
import type { GatewaySimulator } from '../../src/payments/gateway-simulator';

export interface PendingCharge {
  chargeId: string;
  amount: number;
  ageSeconds: number;
  checks: number;
  nextCheckInSeconds: number | null;
  /** What the gateway knows about it (its idempotency key is our charge id). */
  gateway: string;
}

export interface SettleReport {
  chargesSettledMs: number | null;
  pendingCharges: PendingCharge[];
  outboxDrainedMs: number | null;
  outboxUnpublished: number;
  holdsExpiredMs: number | null;
  holdsPastExpiry: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<number | null> {
  const started = Date.now();
  for (;;) {
    try {
      if (await check()) return Date.now() - started;
    } catch {
      // the database may still be recovering; ask again
    }
    if (Date.now() - started > timeoutMs) return null;
    await sleep(1_000);
  }
}

async function count(db: Pool, sql: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(sql);
  return rows[0]!.n;
}

const PENDING_CHARGES = "SELECT count(*)::int AS n FROM charges WHERE status = 'PENDING'";
const UNPUBLISHED = 'SELECT count(*)::int AS n FROM outbox WHERE published_at IS NULL';
/** Holds past their expiry (with a grace for the timer and the journal commit) still HELD. */
const PAST_EXPIRY = "SELECT count(*)::int AS n FROM reservations WHERE status = 'HELD' AND expires_at < now() - interval '5 seconds'";

export async function settle(db: Pool, gateway: GatewaySimulator, holdTtlSeconds: number, log: (message: string) => void): Promise<SettleReport> {
  const chargesSettledMs = await waitFor(async () => (await count(db, PENDING_CHARGES)) === 0, 180_000);
  log(chargesSettledMs === null ? 'charges: some still PENDING after 180 s' : `charges: none PENDING (${chargesSettledMs} ms)`);
  const outboxDrainedMs = await waitFor(async () => (await count(db, UNPUBLISHED)) === 0, 120_000);
  log(outboxDrainedMs === null ? 'outbox: rows still unpublished after 120 s' : `outbox: all published (${outboxDrainedMs} ms)`);
  // Every hold still HELD expires within the TTL: wait for the latest one (+ 6 s), then for the journal.
  const started = Date.now();
  const latest = await db
    .query<{ wait: number | null }>("SELECT extract(epoch FROM max(expires_at) - now())::float8 AS wait FROM reservations WHERE status = 'HELD'")
    .then((r) => r.rows[0]?.wait ?? 0, () => holdTtlSeconds);
  await sleep(Math.min((holdTtlSeconds + 10) * 1000, Math.max(0, ((latest ?? 0) + 6) * 1000)));
  const holdsExpiredMs = (await waitFor(async () => (await count(db, PAST_EXPIRY)) === 0, 20_000)) === null ? null : Date.now() - started;
  log(holdsExpiredMs === null ? 'holds: some still HELD past expiry' : `holds: every hold past its expiry is EXPIRED (${holdsExpiredMs} ms)`);

  const known = new Map(gateway.charges().map((c) => [c.idempotencyKey, c]));
  const { rows } = await db.query<{ id: string; amount: string; age: number; checks: number; next_in: number | null }>(
    `SELECT id::text, amount, extract(epoch FROM now() - created_at)::float8 AS age, checks,
            extract(epoch FROM next_check_at - now())::float8 AS next_in
       FROM charges WHERE status = 'PENDING' ORDER BY created_at`,
  );
  const pendingCharges = rows.map((row) => {
    const atGateway = known.get(row.id);
    return {
      chargeId: row.id,
      amount: Number(row.amount),
      ageSeconds: Math.round(row.age),
      checks: row.checks,
      nextCheckInSeconds: row.next_in === null ? null : Math.round(row.next_in),
      gateway: atGateway ? `${atGateway.status} at the gateway` : 'never received by the gateway',
    };
  });
  return {
    chargesSettledMs,
    pendingCharges,
    outboxDrainedMs,
    outboxUnpublished: await count(db, UNPUBLISHED),
    holdsExpiredMs,
    holdsPastExpiry: await count(db, PAST_EXPIRY),
  };
}
