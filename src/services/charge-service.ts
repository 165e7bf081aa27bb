/**
 * Balance charges through the card gateway. The order is what keeps money safe:
 * 1. the charge is recorded PENDING (with the client's key) before the gateway is called;
 * 2. the gateway is asked, with our charge id as its idempotency key;
 * 3. its decision is settled: credit and APPROVED in one transaction, or DECLINED.
 * When the gateway's answer is lost (timeout, 5xx) the charge stays PENDING, the client hears
 * 202, and the reconciler learns the outcome later with the same key. When nothing was applied
 * (open breaker, full bulkhead, gateway refusing) the row is removed and the client hears 503.
 */
import { randomUUID } from 'node:crypto';
import { AppError } from './app-error';
import type { BalanceRepository } from '../persistence/balance-repository';
import type { ChargeRow, ChargeStore } from '../persistence/charge-store';
import { requestHash } from '../persistence/idempotency-store';
import { settleCharge } from '../payments/charge-settlement';
import type { GuardedGateway } from '../payments/guarded-gateway';
import { GatewayOutcomeUnknownError, GatewayUnavailableError, type GatewayDecision } from '../payments/payment-gateway';
import type { Replay } from './idempotency';

export interface ChargeTiming {
  /** Longest a request may spend asking the gateway (all attempts): the reconciler waits that long. */
  requestBudgetMs: number;
  /** When an unknown outcome is first re-asked about. */
  reconcileDelayMs: number;
}

export interface ChargeView {
  chargeId: string;
  amount: number;
  status: ChargeRow['status'];
  createdAt: string;
  settledAt: string | null;
}

export class ChargeService {
  constructor(
    private readonly charges: ChargeStore,
    private readonly balances: BalanceRepository,
    private readonly gateway: Pick<GuardedGateway, 'charge' | 'acceptsCalls'>,
    private readonly timing: ChargeTiming,
    private readonly breakerRetryAfterSeconds: number,
    private readonly observe: (status: 'APPROVED' | 'DECLINED' | 'PENDING' | 'UNAVAILABLE') => void = () => undefined,
  ) {}

  async charge(userId: string, amount: number, idempotencyKey: string): Promise<Replay> {
    try {
      const result = await this.chargeOnce(userId, amount, idempotencyKey);
      this.observe(result.statusCode === 202 ? 'PENDING' : 'APPROVED');
      return result;
    } catch (error) {
      if (error instanceof AppError && error.code === 'PAYMENT_DECLINED') this.observe('DECLINED');
      if (error instanceof AppError && error.code === 'PAYMENT_GATEWAY_UNAVAILABLE') this.observe('UNAVAILABLE');
      throw error;
    }
  }

  private async chargeOnce(userId: string, amount: number, idempotencyKey: string): Promise<Replay> {
    const hash = requestHash({ amount });
    const seen = await this.charges.findByKey(userId, idempotencyKey);
    if (seen) return this.answer(seen, hash);
    // An open breaker answers before anything is written or sent.
    if (!this.gateway.acceptsCalls) {
      throw new AppError('PAYMENT_GATEWAY_UNAVAILABLE', 'the payment gateway is failing; nothing was charged', {
        retryAfterSeconds: this.breakerRetryAfterSeconds,
      });
    }

    const chargeId = randomUUID();
    const fresh = { chargeId, userId, idempotencyKey, requestHash: hash, amount, leaseMs: this.timing.requestBudgetMs };
    if (!(await this.charges.insertPending(fresh))) {
      const winner = await this.charges.findByKey(userId, idempotencyKey);
      // The first request with this key was refused by the gateway and freed the key meanwhile.
      if (!winner) {
        throw new AppError('PAYMENT_GATEWAY_UNAVAILABLE', 'a request with this key was just refused by the gateway; nothing was charged', {
          retryAfterSeconds: 1,
        });
      }
      return this.answer(winner, hash);
    }

    // From here on a PENDING row exists: whatever fails, the reconciler finishes the charge, so the
    // client must never hear "nothing was applied" unless the row is gone.
    try {
      let decision: GatewayDecision;
      try {
        decision = await this.gateway.charge({ chargeId, userId, amount });
      } catch (error) {
        return await this.unanswered(chargeId, userId, error);
      }
      return await this.answer(await settleCharge(this.charges, chargeId, decision), hash);
    } catch (error) {
      if (error instanceof AppError) throw error;
      throw new AppError('OUTCOME_UNKNOWN', 'the charge could not be completed yet; it will be reconciled', {
        retryAfterSeconds: 2,
      });
    }
  }

  async status(userId: string, chargeId: string): Promise<ChargeView> {
    const row = await this.charges.find(userId, chargeId);
    if (!row) throw new AppError('CHARGE_NOT_FOUND');
    return {
      chargeId: row.chargeId,
      amount: row.amount,
      status: row.status,
      createdAt: row.createdAt.toISOString(),
      settledAt: row.settledAt?.toISOString() ?? null,
    };
  }

  private async unanswered(chargeId: string, userId: string, error: unknown): Promise<Replay> {
    if (error instanceof GatewayUnavailableError && (await this.charges.forget(chargeId))) {
      throw new AppError('PAYMENT_GATEWAY_UNAVAILABLE', `${error.message}; nothing was charged`, {
        retryAfterSeconds: error.retryAfterSeconds,
      });
    }
    if (!(error instanceof GatewayUnavailableError) && !(error instanceof GatewayOutcomeUnknownError)) throw error;
    await this.charges.postpone(chargeId, this.timing.reconcileDelayMs, { fromRequest: true });
    return { statusCode: 202, body: await this.pendingBody(userId, chargeId) };
  }

  /** The answer for a charge as it stands: the first result once settled, the truth while pending. */
  private async answer(row: ChargeRow, hash: string): Promise<Replay> {
    if (row.requestHash !== hash) {
      throw new AppError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used with a different request');
    }
    switch (row.status) {
      case 'APPROVED':
        return { statusCode: 200, body: { userId: row.userId, balance: row.balanceAfter, chargeId: row.chargeId, status: 'APPROVED' } };
      case 'DECLINED':
        throw new AppError('PAYMENT_DECLINED', `the card gateway declined the charge (${row.declineReason ?? 'declined'})`, {
          extensions: { chargeId: row.chargeId },
        });
      case 'PENDING':
        return { statusCode: 202, body: await this.pendingBody(row.userId, row.chargeId) };
    }
  }

  private async pendingBody(userId: string, chargeId: string) {
    return { userId, balance: await this.balances.balanceOf(userId), chargeId, status: 'PENDING' as const };
  }
}
