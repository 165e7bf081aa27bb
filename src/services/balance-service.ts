/**
 * Balance reads and charges. A charge: replay if the key was seen, else ask the gateway (with the
 * key), then credit + ledger + charge row + idempotency record in one transaction.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { Problem } from '../http/problem';
import { inTransaction } from '../persistence/database';
import { BalanceRepository, credit } from '../persistence/balance-repository';
import { IdempotencyStore, recordResponse, requestHash } from '../persistence/idempotency-store';
import { GatewayUnavailableError, type PaymentGateway } from '../payments/payment-gateway';
import { replayOrRefuse, type Replay } from './idempotency';

export interface ChargeReceipt {
  userId: string;
  balance: number;
  chargeId: string;
}

const KEY_TAKEN = Symbol('key taken');

export class BalanceService {
  private readonly balances: BalanceRepository;
  private readonly idempotency: IdempotencyStore;

  constructor(
    private readonly db: Pool,
    private readonly gateway: PaymentGateway,
  ) {
    this.balances = new BalanceRepository(db);
    this.idempotency = new IdempotencyStore(db);
  }

  async balance(userId: string): Promise<{ userId: string; balance: number }> {
    return { userId, balance: await this.balances.balanceOf(userId) };
  }

  async charge(userId: string, amount: number, idempotencyKey: string): Promise<Replay> {
    const scope = `charge:${userId}`;
    const hash = requestHash({ amount });
    const seen = await this.idempotency.find(scope, idempotencyKey);
    if (seen) return replayOrRefuse(seen, hash);

    const approval = await this.gateway.charge({ userId, amount, idempotencyKey }).catch((error: unknown) => {
      if (error instanceof GatewayUnavailableError) {
        throw new Problem('PAYMENT_GATEWAY_UNAVAILABLE', error.message, { retryAfterSeconds: error.retryAfterSeconds });
      }
      throw error;
    });

    const chargeId = randomUUID();
    const receipt = await inTransaction(this.db, async (tx) => {
      const balance = await credit(tx, userId, amount, chargeId);
      await tx.query('INSERT INTO charges (id, user_id, amount, gateway_ref) VALUES ($1, $2, $3, $4)', [
        chargeId,
        userId,
        amount,
        approval.gatewayRef,
      ]);
      const body: ChargeReceipt = { userId, balance, chargeId };
      const recorded = await recordResponse(tx, scope, idempotencyKey, { requestHash: hash, statusCode: 200, body });
      // A concurrent request with the same key committed first: undo ours, answer with theirs.
      if (!recorded) throw KEY_TAKEN;
      return body;
    }).catch(async (error: unknown) => {
      if (error !== KEY_TAKEN) throw error;
      return undefined;
    });
    if (receipt) return { statusCode: 200, body: receipt };
    const winner = await this.idempotency.find(scope, idempotencyKey);
    if (!winner) throw new Error('idempotency record vanished');
    return replayOrRefuse(winner, hash);
  }
}
