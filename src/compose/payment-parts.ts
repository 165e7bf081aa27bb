/** The card gateway behind its policies, the charge store and the reconciler, from the configuration. */
import type { Pool } from 'pg';
import type { Config } from '../config';
import { createChargeReconciler } from '../payments/charge-reconciler';
import { GuardedGateway } from '../payments/guarded-gateway';
import { HttpGateway } from '../payments/http-gateway';
import type { PaymentGateway } from '../payments/payment-gateway';
import { SandboxGateway } from '../payments/sandbox-gateway';
import { ChargeStore } from '../persistence/charge-store';

/** Longest a charge request may spend on the gateway, every attempt and backoff included, with room to spare. */
export function gatewayBudgetMs(config: Config): number {
  const { timeoutMs, retries, retryMaxMs } = config.gateway;
  return 2 * ((retries + 1) * timeoutMs + retries * retryMaxMs) + 1_000;
}

export function paymentParts(config: Config, db: Pool, override: PaymentGateway | undefined) {
  const raw = override ?? (config.gateway.url === undefined ? new SandboxGateway() : new HttpGateway(config.gateway.url));
  const gateway = new GuardedGateway(raw, config.gateway);
  const charges = new ChargeStore(db);
  const reconciler = (onError: (error: unknown, chargeId?: string) => void, onSettled: (status: 'APPROVED' | 'DECLINED') => void) =>
    createChargeReconciler({
      charges,
      gateway,
      intervalMs: config.chargeReconcileIntervalMs,
      leaseMs: gatewayBudgetMs(config),
      onError,
      onSettled,
    });
  return { gateway, charges, reconciler };
}
