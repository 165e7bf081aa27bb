/** Balances and their ledger. A debit is conditional: it never drives a balance below zero. */
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

/**
 * Takes `amount` if the balance covers it and writes the ledger row; returns the new balance, or
 * undefined (nothing changed) when it does not. The row lock of the UPDATE serializes
 * concurrent debits of one user, so the check and the change cannot interleave.
 */
export async function debit(
  tx: PoolClient,
  userId: string,
  amount: number,
  paymentId: string,
): Promise<number | undefined> {
  const { rows } = await tx.query<{ balance: number }>(
    `UPDATE balances SET balance = balance - $2, updated_at = now()
     WHERE user_id = $1 AND balance >= $2 RETURNING balance`,
    [userId, amount],
  );
  const balance = rows[0]?.balance;
  if (balance === undefined) return undefined;
  await tx.query(
    `INSERT INTO balance_ledger (user_id, delta, balance_after, kind, ref_id) VALUES ($1, $2, $3, 'PAYMENT', $4)`,
    [userId, -amount, balance, paymentId],
  );
  return balance;
}
