/**
 * Finishes charges whose outcome the request did not learn (a timeout, a crash between the
 * gateway's approval and our credit). At start-up and then every interval it claims the PENDING
 * charges that are due and asks the gateway about each with the same key:
 * - the gateway knows it → settle (credit exactly once, or record the decline);
 * - the gateway never received it → send it again with the same key (idempotent there, so a
 *   late-arriving first attempt cannot make it twice); the client was told PENDING or
 *   OUTCOME_UNKNOWN, never "nothing was charged", so completing it is what was promised;
 * - the gateway cannot answer → ask again later, backing off.
 * A charge is never given up: an alert on ovation_charges_pending_oldest_age_seconds is.
 */
import type { ChargeStore } from '../persistence/charge-store';
import { settleCharge } from './charge-settlement';
import type { PaymentGateway } from './payment-gateway';

export interface ChargeReconcilerOptions {
  charges: ChargeStore;
  gateway: PaymentGateway;
  intervalMs: number;
  /** How long one check of a charge may take before another instance may try it. */
  leaseMs: number;
  onError: (error: unknown, chargeId?: string) => void;
  onSettled?: (status: 'APPROVED' | 'DECLINED') => void;
}

export interface ChargeReconciler {
  start(): void;
  /** One pass over every due charge; resolves when done. */
  runOnce(): Promise<void>;
  stop(): Promise<void>;
}

const CLAIM_BATCH = 50;
const MAX_BACKOFF_MS = 10 * 60_000;

export function createChargeReconciler(options: ChargeReconcilerOptions): ChargeReconciler {
  const { charges, gateway, intervalMs, leaseMs } = options;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let started = false;
  let closing = false;

  const check = async (charge: { chargeId: string; userId: string; amount: number; checks: number }) => {
    try {
      const known = await gateway.lookup(charge.chargeId);
      const decision = known ?? (await gateway.charge({ chargeId: charge.chargeId, userId: charge.userId, amount: charge.amount }));
      const settled = await settleCharge(charges, charge.chargeId, decision);
      if (settled.status !== 'PENDING') options.onSettled?.(settled.status);
    } catch (error) {
      options.onError(error, charge.chargeId);
      const backoff = Math.min(intervalMs * 2 ** Math.min(charge.checks - 1, 20), MAX_BACKOFF_MS);
      await charges.postpone(charge.chargeId, backoff).catch((e: unknown) => options.onError(e, charge.chargeId));
    }
  };

  const pass = async () => {
    while (!closing) {
      const due = await charges.claimDue(CLAIM_BATCH, leaseMs);
      await Promise.all(due.map(check));
      if (due.length < CLAIM_BATCH) return;
    }
  };

  const runOnce = (): Promise<void> => {
    running ??= pass()
      .catch((error: unknown) => options.onError(error))
      .finally(() => (running = undefined));
    return running;
  };

  const schedule = () => {
    if (closing) return;
    timer = setTimeout(() => void runOnce().finally(schedule), intervalMs);
  };

  return {
    start() {
      if (started) return;
      started = true;
      void runOnce().finally(schedule);
    },
    runOnce,
    async stop() {
      closing = true;
      clearTimeout(timer);
      await running;
    },
  };
}
