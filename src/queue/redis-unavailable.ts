/**
 * Redis being down, restarting or slow must answer 503, never 500 (design.md, "Failure
 * semantics"): every error of a Redis call that is not Redis refusing the command itself — a
 * closed or unwritable connection, a command timeout, ioredis giving up on retries — becomes
 * RedisUnavailableError. So do the replies of a Redis that is loading its data or busy.
 */
import { ReplyError } from 'ioredis';
import { EngineOutcomeUnknownError } from '../engine/outcome-unknown-error';
import { EngineUnavailableError } from '../engine/engine-unavailable-error';

export class RedisUnavailableError extends EngineUnavailableError {
  constructor(cause: unknown) {
    super(`Redis is unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, 1);
  }
}

const TRANSIENT_REPLIES = /^(LOADING|BUSY|TRYAGAIN|CLUSTERDOWN|MASTERDOWN|READONLY)/;

export function asRedisUnavailable(error: unknown): unknown {
  // Already a "not now" of its own (e.g. the pre-queue draw's database failing): kept as it is.
  if (error instanceof EngineUnavailableError) return error;
  if (error instanceof ReplyError && !TRANSIENT_REPLIES.test((error as Error).message)) return error;
  if (error instanceof TypeError || error instanceof RangeError) return error; // our own bugs
  return new RedisUnavailableError(error);
}

/** Runs a Redis call; connection-level failures become RedisUnavailableError. */
export async function onRedis<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw asRedisUnavailable(error);
  }
}

/**
 * For a call that writes: a command that timed out was sent and may have run (Redis answers
 * late, it does not roll back), so its outcome is unknown, not "nothing applied". The queue's
 * writes are idempotent (issuing again returns the same token), so a retry tells the truth.
 */
export async function onRedisWrite<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof Error && /Command timed out/.test(error.message)) {
      throw new EngineOutcomeUnknownError('the waiting line did not answer in time; the same request again tells the outcome', 1);
    }
    throw asRedisUnavailable(error);
  }
}
