/**
 * Balances and their ledger. Credits are here; the debit is part of the payment statement
 * (payment-transaction.ts), conditional so that it never drives a balance below zero.
 */
import type { Pool, PoolClient } from 'pg';

export class BalanceRepository {
  constructor(private readonly db: Pool) {}

  async balanceOf(userId: string): Promise<number> {
    const { rows } = await this.db.query<{ balance: number }>('SELECT balance FROM balances WHERE user_id = $1', [
      userId,
    ]);
    return rows[0]?.balance ?? 0;
  }
}

/** Adds `amount` and writes the ledger row; returns the new balance. Inside the caller's transaction. */
export async function credit(tx: PoolClient, userId: string, amount: number, chargeId: string): Promise<number> {
  const { rows } = await tx.query<{ balance: number }>(
    `INSERT INTO balances (user_id, balance) VALUES ($1, $2)
     ON CONFLICT (user_id) DO UPDATE SET balance = balances.balance + EXCLUDED.balance, updated_at = now()
     RETURNING balance`,
    [userId, amount],
  );
  const balance = rows[0]!.balance;
  await tx.query(
    `INSERT INTO balance_ledger (user_id, delta, balance_after, kind, ref_id) VALUES ($1, $2, $3, 'CHARGE', $4)`,
    [userId, amount, balance, chargeId],
  );
  return balance;
}
