import { Pool, types, type PoolClient } from 'pg';

// bigint (int8) columns hold money and sequence numbers well inside 2^53: read them as numbers.
types.setTypeParser(types.builtins.INT8, (value) => Number(value));

export function createPool(connectionString: string, max: number): Pool {
  const pool = new Pool({
    connectionString,
    max,
    idleTimeoutMillis: 30_000,
    // A hung connection must fail (and let an actor recover, or a shutdown finish), not block forever.
    connectionTimeoutMillis: 10_000,
    statement_timeout: 30_000,
  });
  // An idle client that loses its connection emits here; without a listener it would crash.
  pool.on('error', () => undefined);
  return pool;
}

/** Runs `work` in one transaction; rolls back on any throw. */
export async function inTransaction<T>(pool: Pool, work: (tx: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (error) {
    // A connection whose ROLLBACK fails is broken: destroy it rather than return it to the pool.
    const broken = await client.query('ROLLBACK').then(
      () => false,
      () => true,
    );
    client.release(broken);
    throw error;
  }
}


/**
 * Failures that say nothing about the request, only that the database is unreachable, restarting
 * or overloaded for a moment: the caller may retry. (SQLSTATE class 08, admin shutdown/crash,
 * too many connections, serialization failure, deadlock; or the driver losing the socket.)
 */
export function isTransientDatabaseError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (/^08/.test(code) || ['57P01', '57P02', '57P03', '53300', '40001', '40P01'].includes(code))) {
    return true;
  }
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' && /Connection terminated|timeout exceeded when trying to connect|ECONNREFUSED|ECONNRESET/.test(message);
}
