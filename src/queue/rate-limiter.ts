/**
 * Request counters in Redis, shared by every instance: a limit holds for the whole fleet, not per
 * process. Fixed windows: the first request of a subject starts a window of `windowMs`, every
 * request in it counts (refused ones too), and the window ends when its key expires — Redis's
 * clock, so instances with skewed clocks agree. A refused request learns exactly when its window
 * ends (the key's PTTL), which becomes `Retry-After`. The price of fixed windows is that a client
 * may spend two windows' worth across a window boundary; limits here are a brake on scripts and
 * runaway clients, not an invariant, so exact Retry-After and one round trip win over that.
 *
 * One key per subject, `<prefix>rl:<rule>:{<subject>}`: the hash tag spreads subjects across
 * cluster slots, and each check is one single-key script (INCR, plus PEXPIRE when the window
 * starts), atomic and one round trip.
 *
 * Fails OPEN: when Redis errors or does not answer within `failOpenAfterMs`, the request is let
 * through (design.md, "Failure semantics": holds with a cached ACTIVE token keep working while
 * Redis is down). The limiter never decides anything that matters for correctness.
 *
 * It knows nothing of HTTP: it answers "allowed" or "retry after N s"; the HTTP edge
 * (src/http/rate-limit.ts) turns a refusal into 429 RATE_LIMITED.
 */
import type Redis from 'ioredis';

export interface RateRule {
  /** Part of the key, e.g. `hold-token`. */
  name: string;
  /** Requests allowed per window; 0 switches the rule off. */
  limit: number;
  windowMs: number;
}

export type RateDecision =
  /** `checked` is false when Redis could not be asked and the request was let through. */
  | { allowed: true; checked: boolean; error?: unknown }
  | { allowed: false; retryAfterSeconds: number };

export interface RateLimiter {
  /** Counts one request of `subject` (no `{` or `}` in it) against `rule`. Never rejects. */
  take(rule: RateRule, subject: string): Promise<RateDecision>;
}

export interface RateLimiterOptions {
  /** Must not use ioredis' own `keyPrefix` option (keys are built here). */
  redis: Redis;
  keyPrefix: string;
  /** Longest a check waits for Redis before letting the request through (default 250 ms). */
  failOpenAfterMs?: number;
}

/**
 * A healthy Redis answers in well under a millisecond; past 250 ms it is in trouble, and a hold
 * must not wait for ioredis' own command timeout (2 s) on a check that cannot refuse it anyway.
 */
const DEFAULT_FAIL_OPEN_AFTER_MS = 250;

/** KEYS[1] counter; ARGV[1] window ms. Reply: { count in this window, ms until it ends }. */
const TAKE_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return { count, ttl }
`;

const COMMAND_NAME = 'ovationRateLimitTake';

type Take = (key: string, windowMs: number) => Promise<unknown>;

export class RateLimiterTimeoutError extends Error {
  constructor(ms: number) {
    super(`rate limiter: Redis did not answer within ${ms} ms`);
  }
}

export function rateLimitKey(keyPrefix: string, rule: Pick<RateRule, 'name'>, subject: string): string {
  return `${keyPrefix}rl:${rule.name}:{${subject}}`;
}

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { redis, keyPrefix } = options;
  const failOpenAfterMs = options.failOpenAfterMs ?? DEFAULT_FAIL_OPEN_AFTER_MS;
  if (redis.options.keyPrefix) throw new Error('rate limiter: the Redis client must not set keyPrefix');
  if (!(failOpenAfterMs > 0)) throw new RangeError('rate limiter: failOpenAfterMs must be positive');
  // Redefining is harmless: several limiters may share one client.
  redis.defineCommand(COMMAND_NAME, { lua: TAKE_SCRIPT, numberOfKeys: 1 });
  const command = (redis as unknown as Record<string, unknown>)[COMMAND_NAME];
  if (typeof command !== 'function') throw new Error(`rate limiter: command ${COMMAND_NAME} was not defined`);
  const take: Take = (key, windowMs) => (command as Take).call(redis, key, windowMs);

  return {
    async take(rule, subject) {
      if (rule.limit <= 0) return { allowed: true, checked: false };
      let count: number;
      let ttlMs: number;
      try {
        const reply = await withDeadline(take(rateLimitKey(keyPrefix, rule, subject), Math.ceil(rule.windowMs)), failOpenAfterMs);
        [count, ttlMs] = parseReply(reply);
      } catch (error) {
        return { allowed: true, checked: false, error };
      }
      if (count <= rule.limit) return { allowed: true, checked: true };
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(ttlMs / 1000)) };
    },
  };
}

function parseReply(reply: unknown): [number, number] {
  if (Array.isArray(reply) && reply.length === 2) {
    const [count, ttl] = reply.map(Number);
    if (Number.isFinite(count) && Number.isFinite(ttl)) return [count!, ttl!];
  }
  throw new Error(`rate limiter: unexpected script reply ${JSON.stringify(reply)}`);
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new RateLimiterTimeoutError(ms)), ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
