/**
 * Charge rows: written PENDING before the gateway is called, settled once afterwards. A charge is
 * credited at most once because only the transaction that moves it out of PENDING credits it
 * (and the ledger's unique (kind, ref_id) is the last line). The row is also the charge's
 * idempotency record: (user_id, idempotency_key) is unique.
 */
import type { Pool } from 'pg';
import { inTransaction, queryKnowingOutcome } from './database';
import { credit } from './balance-repository';

export type ChargeStatus = 'PENDING' | 'APPROVED' | 'DECLINED';

export interface ChargeRow {
  chargeId: string;
  userId: string;
  amount: number;
  requestHash: string | null;
  status: ChargeStatus;
  declineReason: string | null;
  /** The balance right after this charge was credited (APPROVED only). */
  balanceAfter: number | null;
  createdAt: Date;
  settledAt: Date | null;
  checks: number;
}

export interface NewCharge {
  chargeId: string;
  userId: string;
  idempotencyKey: string;
  requestHash: string;
  amount: number;
  /** No reconciler looks at the charge before this many ms: the request is still asking the gateway. */
  leaseMs: number;
}

const COLUMNS = `id AS "chargeId", user_id AS "userId", amount, request_hash AS "requestHash", status,
  decline_reason AS "declineReason", balance_after AS "balanceAfter", created_at AS "createdAt",
  settled_at AS "settledAt", checks`;

export class ChargeStore {
  constructor(private readonly db: Pool) {}

  async findByKey(userId: string, idempotencyKey: string): Promise<ChargeRow | undefined> {
    const { rows } = await this.db.query<ChargeRow>(
      `SELECT ${COLUMNS} FROM charges WHERE user_id = $1 AND idempotency_key = $2`,
      [userId, idempotencyKey],
    );
    return rows[0];
  }

  async find(userId: string, chargeId: string): Promise<ChargeRow | undefined> {
    const { rows } = await this.db.query<ChargeRow>(`SELECT ${COLUMNS} FROM charges WHERE id = $1 AND user_id = $2`, [
      chargeId,
      userId,
    ]);
    return rows[0];
  }

  /** False when a charge with this key exists already (a concurrent request won). */
  async insertPending(charge: NewCharge): Promise<boolean> {
    // A lost answer must not read as "nothing applied": the row may exist and would be charged.
    const { rowCount } = await queryKnowingOutcome(
      this.db,
      `INSERT INTO charges (id, user_id, idempotency_key, request_hash, amount, status, next_check_at)
       VALUES ($1, $2, $3, $4, $5, 'PENDING', now() + $6 * interval '1 millisecond')
       ON CONFLICT (user_id, idempotency_key) DO NOTHING`,
      [charge.chargeId, charge.userId, charge.idempotencyKey, charge.requestHash, charge.amount, charge.leaseMs],
    );
    return rowCount === 1;
  }

  /** Credits the charge if it is still PENDING; returns the row as it is afterwards. */
  async approve(chargeId: string, gatewayRef: string): Promise<ChargeRow> {
    await inTransaction(this.db, async (tx) => {
      const { rows } = await tx.query<{ user_id: string; amount: number }>(
        `UPDATE charges SET status = 'APPROVED', gateway_ref = $2, settled_at = now(), next_check_at = NULL
         WHERE id = $1 AND status = 'PENDING' RETURNING user_id, amount`,
        [chargeId, gatewayRef],
      );
      const settled = rows[0];
      if (!settled) return; // settled before, by the request or by the reconciler
      const balance = await credit(tx, settled.user_id, settled.amount, chargeId);
      await tx.query('UPDATE charges SET balance_after = $2 WHERE id = $1', [chargeId, balance]);
    });
    return this.get(chargeId);
  }

  async decline(chargeId: string, gatewayRef: string, reason: string): Promise<ChargeRow> {
    await this.db.query(
      `UPDATE charges SET status = 'DECLINED', gateway_ref = $2, decline_reason = $3, settled_at = now(), next_check_at = NULL
       WHERE id = $1 AND status = 'PENDING'`,
      [chargeId, gatewayRef, reason],
    );
    return this.get(chargeId);
  }

  /**
   * Removes a PENDING charge the gateway never applied, so its key can be used again. Not once the
   * reconciler has claimed it (checks > 0): the reconciler may be asking the gateway right now.
   */
  async forget(chargeId: string): Promise<boolean> {
    const { rowCount } = await this.db.query(`DELETE FROM charges WHERE id = $1 AND status = 'PENDING' AND checks = 0`, [
      chargeId,
    ]);
    return rowCount === 1;
  }

  /**
   * Hands a charge whose outcome is unknown to the reconciler, after `delayMs`. From the request
   * path (`fromRequest`) only while no reconciler has claimed it: shortening its lease would let a
   * second check start while the first is still asking the gateway.
   */
  async postpone(chargeId: string, delayMs: number, { fromRequest = false } = {}): Promise<void> {
    await this.db.query(
      `UPDATE charges SET next_check_at = now() + $2 * interval '1 millisecond'
       WHERE id = $1 AND status = 'PENDING' AND (NOT $3 OR checks = 0)`,
      [chargeId, delayMs, fromRequest],
    );
  }

  /**
   * Claims up to `limit` PENDING charges that are due, and leases them for `leaseMs` (several
   * instances never ask about the same charge at once); each claim counts as one check.
   */
  async claimDue(limit: number, leaseMs: number): Promise<ChargeRow[]> {
    const { rows } = await this.db.query<ChargeRow>(
      `UPDATE charges SET next_check_at = now() + $2 * interval '1 millisecond', checks = checks + 1
       WHERE id IN (SELECT id FROM charges WHERE status = 'PENDING' AND next_check_at <= now()
                    ORDER BY next_check_at LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING ${COLUMNS}`,
      [limit, leaseMs],
    );
    return rows;
  }

  /** For metrics: PENDING charges and the age of the oldest. */
  async pendingSummary(): Promise<{ count: number; oldestAgeSeconds: number }> {
    const { rows } = await this.db.query<{ count: number; oldest: number | null }>(
      `SELECT count(*)::int AS count, extract(epoch FROM now() - min(created_at))::float8 AS oldest
       FROM charges WHERE status = 'PENDING'`,
    );
    return { count: rows[0]!.count, oldestAgeSeconds: rows[0]!.oldest ?? 0 };
  }

  private async get(chargeId: string): Promise<ChargeRow> {
    const { rows } = await this.db.query<ChargeRow>(`SELECT ${COLUMNS} FROM charges WHERE id = $1`, [chargeId]);
    if (!rows[0]) throw new Error(`charge ${chargeId} vanished`);
    return rows[0];
  }
}
