/**
 * First results of requests made with an Idempotency-Key. A key belongs to a scope (the
 * operation and the user), so two users can pick the same key without seeing each other.
 */
import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';

export interface StoredResponse {
  requestHash: string;
  statusCode: number;
  body: unknown;
}

export function requestHash(request: unknown): string {
  return createHash('sha256').update(JSON.stringify(request)).digest('hex');
}

export class IdempotencyStore {
  constructor(private readonly db: Pool) {}

  async find(scope: string, key: string): Promise<StoredResponse | undefined> {
    const { rows } = await this.db.query<{ request_hash: string; status_code: number; response: unknown }>(
      'SELECT request_hash, status_code, response FROM idempotency_keys WHERE scope = $1 AND key = $2',
      [scope, key],
    );
    const row = rows[0];
    return row && { requestHash: row.request_hash, statusCode: row.status_code, body: row.response };
  }
}

/**
 * Records the result in the caller's transaction. Returns false when the key was taken
 * meanwhile (a concurrent request with the same key won); the caller then rolls back.
 */
export async function recordResponse(
  tx: PoolClient,
  scope: string,
  key: string,
  response: StoredResponse,
): Promise<boolean> {
  const { rowCount } = await tx.query(
    `INSERT INTO idempotency_keys (scope, key, request_hash, status_code, response)
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (scope, key) DO NOTHING`,
    [scope, key, response.requestHash, response.statusCode, JSON.stringify(response.body)],
  );
  return rowCount === 1;
}
