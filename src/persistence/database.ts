import { DatabaseError, Pool, types, type PoolClient, type QueryConfig, type QueryResult, type QueryResultRow } from 'pg';

// bigint (int8) columns hold money and sequence numbers well inside 2^53: read them as numbers.
types.setTypeParser(types.builtins.INT8, (value) => Number(value));

/**
 * Every wait on PostgreSQL is bounded, so a hung link becomes an error in seconds instead of a
 * request that waits for the kernel to give up on TCP (~15 min):
 * - the server cancels a statement after STATEMENT_TIMEOUT_MS (an error it reports: nothing applied);
 * - the client gives up on an answer after QUERY_TIMEOUT_MS (a link that went silent: the outcome
 *   of a statement that was sent is then unknown, see StatementOutcomeUnknownError);
 * - TCP keep-alive notices a dead peer on idle connections; acquiring a connection waits at most
 *   CONNECT_TIMEOUT_MS; an open transaction left idle is ended by the server.
 */
export const DB_TIMEOUTS = {
  connectMs: 3_000,
  statementMs: 4_000,
  queryMs: 5_000,
  idleInTransactionMs: 60_000,
  keepAliveInitialDelayMs: 5_000,
} as const;

export function createPool(connectionString: string, max: number): Pool {
  const pool = new Pool({
    connectionString,
    max,
    idleTimeoutMillis: 30_000,
    connectionTimeoutMillis: DB_TIMEOUTS.connectMs,
    statement_timeout: DB_TIMEOUTS.statementMs,
    query_timeout: DB_TIMEOUTS.queryMs,
    idle_in_transaction_session_timeout: DB_TIMEOUTS.idleInTransactionMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: DB_TIMEOUTS.keepAliveInitialDelayMs,
  });
  // An idle client that loses its connection emits here; without a listener it would crash.
  pool.on('error', () => undefined);
  // So does a checked-out one (pg emits 'error' on the client besides failing its query): the
  // failure reaches the caller through the query; the event alone must not exit the process.
  pool.on('connect', (client) => client.on('error', () => undefined));
  return pool;
}

/** Runs `work` in one transaction; rolls back on any throw. A lost COMMIT answer is StatementOutcomeUnknownError. */
export async function inTransaction<T>(pool: Pool, work: (tx: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let committing = false;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    committing = true;
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (error) {
    // Before COMMIT was sent the transaction cannot have committed; a COMMIT without an answer may have.
    if (committing && !isServerRefusal(error)) {
      client.release(true);
      throw new StatementOutcomeUnknownError(error);
    }
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
 * A statement was sent and no answer came back (the link dropped or went silent): it may have
 * committed or not. Only the journal can tell, later.
 */
export class StatementOutcomeUnknownError extends Error {
  constructor(cause: unknown) {
    super(`the outcome of a statement is unknown: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/**
 * True when PostgreSQL itself answered with an error: the statement (and, outside a transaction
 * block, its implicit transaction) did not commit. A crash report (57P02) or a connection-class
 * error (08xxx) says the server went away mid-way: not an answer about the statement.
 */
export function isServerRefusal(error: unknown): boolean {
  return error instanceof DatabaseError && error.code !== '57P02' && !error.code?.startsWith('08');
}

/**
 * Runs one autocommit statement that writes, and says which of the two ways it failed: a refusal
 * by the server or a failure to connect (nothing applied; rethrown as is), or an answer lost after
 * sending (StatementOutcomeUnknownError: the edge answers OUTCOME_UNKNOWN, never "not applied").
 */
export async function queryKnowingOutcome<R extends QueryResultRow = QueryResultRow>(
  pool: Pool,
  text: string | QueryConfig,
  values: unknown[] = [],
): Promise<QueryResult<R>> {
  const client = await pool.connect();
  try {
    const result = typeof text === 'string' ? await client.query<R>(text, values) : await client.query<R>(text);
    client.release();
    return result;
  } catch (error) {
    client.release(isServerRefusal(error) ? undefined : true);
    if (isServerRefusal(error)) throw error;
    throw new StatementOutcomeUnknownError(error);
  }
}

/**
 * Failures that say nothing about the request, only that the database is unreachable, restarting
 * or overloaded for a moment: the caller may retry. (SQLSTATE class 08, admin shutdown/crash,
 * too many connections, serialization failure, deadlock, statement timeout; or the driver losing
 * the socket, timing out, or not getting a connection.)
 */
export function isTransientDatabaseError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (
    typeof code === 'string' &&
    (/^08/.test(code) || ['57P01', '57P02', '57P03', '53300', '40001', '40P01', '57014'].includes(code))
  ) {
    return true;
  }
  const message = (error as { message?: unknown }).message;
  return (
    typeof message === 'string' &&
    /Connection terminated|timeout exceeded when trying to connect|Query read timeout|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|Client has encountered a connection error|Connection is not open|connect ETIMEDOUT/.test(
      message,
    )
  );
}
