/**
 * The lock engine's seat-map cache, as the report's system had it: the serialized map of a
 * schedule in Redis, filled from PostgreSQL on a miss and deleted on every change.
 *
 * The classic race of such a cache: a reader queries the database, a writer commits and deletes
 * the key, then the reader stores its stale map, which would stay until the next change. So
 * each schedule has a version counter: invalidation deletes the map and bumps the version (one
 * MULTI), and a fill stores its map only if the version is still the one read before the query
 * (a script). A fill that lost the race is simply not cached. The TTL is a safety net only, for
 * an invalidation lost to a Redis failure after a commit.
 */
import type Redis from 'ioredis';
import { onRedis } from '../queue/redis-unavailable';
import { scheduleLockKeys } from './lock-keys';

const FILL_COMMAND = 'ovationSeatMapFill';

const FILL_SCRIPT = `
if (redis.call('GET', KEYS[2]) or '0') == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0`;

type FillInvoker = (mapKey: string, versionKey: string, version: string, json: string, ttlMs: number) => Promise<number>;

export class SeatMapCache {
  private readonly fillScript: FillInvoker;

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly ttlMs: number,
  ) {
    redis.defineCommand(FILL_COMMAND, { lua: FILL_SCRIPT, numberOfKeys: 2 });
    const command = (redis as unknown as Record<string, FillInvoker>)[FILL_COMMAND]!;
    this.fillScript = (...args) => command.apply(redis, args);
  }

  /** The cached map, or `load()`'s, cached unless an invalidation raced it. */
  async get(scheduleId: string, load: () => Promise<string>): Promise<string> {
    const keys = scheduleLockKeys(this.keyPrefix, scheduleId);
    const [cached, version] = await onRedis(() => this.redis.mget(keys.seatMap, keys.seatMapVersion));
    if (cached !== null && cached !== undefined) return cached;
    const json = await load();
    await onRedis(() => this.fillScript(keys.seatMap, keys.seatMapVersion, version ?? '0', json, this.ttlMs));
    return json;
  }

  async invalidate(scheduleId: string): Promise<void> {
    const keys = scheduleLockKeys(this.keyPrefix, scheduleId);
    const results = await this.redis.multi().del(keys.seatMap).incr(keys.seatMapVersion).exec();
    const failure = results?.find(([error]) => error !== null)?.[0];
    if (!results || failure) throw failure ?? new Error('seat map invalidation was aborted');
  }
}
