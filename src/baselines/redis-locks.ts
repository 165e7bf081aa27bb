/**
 * Redis locks as the report's system took them: `SET key token NX PX ttl` with a random token,
 * released by a compare-and-delete script so a lock that expired and was taken by someone else
 * is never deleted by its former owner.
 *
 * Several keys are taken one by one in the order given (callers pass ascending seat order), each
 * with a bounded wait: retry with jittered exponential backoff until `waitMs` has passed since
 * the first attempt, then give up and free what was taken. Ordered acquisition means no two
 * requests wait for each other in a circle; the bound means a request never waits long.
 *
 * A lock is only a gate that keeps contenders away from PostgreSQL. Safety does not rest on it
 * (a lock can expire under a stalled owner): the transaction behind it locks and re-checks the
 * rows (SELECT … FOR UPDATE), so a late second owner waits for the row and sees the truth.
 */
import { randomBytes } from 'node:crypto';
import { asRedisUnavailable, onRedis } from '../queue/redis-unavailable';
import type Redis from 'ioredis';

const RELEASE_COMMAND = 'ovationLockRelease';

const RELEASE_SCRIPT = `
local released = 0
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    released = released + redis.call('DEL', key)
  end
end
return released`;

const FIRST_BACKOFF_MS = 2;
const MAX_BACKOFF_MS = 25;

export interface LockLease {
  keys: string[];
  token: string;
}

export type Acquisition = { ok: true; lease: LockLease } | { ok: false; busyIndex: number };

type ReleaseInvoker = (keyCount: number, ...keysThenToken: string[]) => Promise<number>;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Full jitter between half and all of the backoff, so waiters do not retry in lock step. */
const jittered = (backoffMs: number) => backoffMs / 2 + Math.random() * (backoffMs / 2);

export class RedisLocks {
  private readonly releaseScript: ReleaseInvoker;

  constructor(
    private readonly redis: Redis,
    private readonly ttlMs: number,
    private readonly waitMs: number,
  ) {
    // Redefining is harmless (several engines may share one client); EVALSHA with EVAL fallback.
    redis.defineCommand(RELEASE_COMMAND, { lua: RELEASE_SCRIPT });
    const command = (redis as unknown as Record<string, ReleaseInvoker>)[RELEASE_COMMAND]!;
    this.releaseScript = (...args) => command.apply(redis, args);
  }

  /**
   * Takes every key in the given order, or none: `busyIndex` is the key that stayed busy. `waitMs`
   * 0 tries each key once (best-available seats: a busy seat is one to choose around, not wait for).
   */
  async acquireInOrder(keys: string[], waitMs = this.waitMs): Promise<Acquisition> {
    const lease: LockLease = { keys: [], token: randomBytes(16).toString('base64url') };
    const deadline = Date.now() + waitMs;
    let backoffMs = FIRST_BACKOFF_MS;
    try {
      for (let index = 0; index < keys.length; index++) {
        const key = keys[index]!;
        for (;;) {
          if ((await this.redis.set(key, lease.token, 'PX', this.ttlMs, 'NX')) === 'OK') break;
          const left = deadline - Date.now();
          if (left <= 0) {
            await this.release(lease);
            return { ok: false, busyIndex: index };
          }
          await sleep(Math.min(left, jittered(backoffMs)));
          backoffMs = Math.min(backoffMs * 2, MAX_BACKOFF_MS);
        }
        lease.keys.push(key);
      }
      return { ok: true, lease };
    } catch (error) {
      // Redis failed half-way: free what we hold (best effort; the TTL frees the rest).
      await this.release(lease).catch(() => undefined);
      throw asRedisUnavailable(error);
    }
  }

  /** Frees the lease's keys still owned by its token; one round trip for all of them. */
  async release(lease: LockLease): Promise<void> {
    if (lease.keys.length === 0) return;
    await onRedis(() => this.releaseScript(lease.keys.length, ...lease.keys, lease.token));
  }
}
