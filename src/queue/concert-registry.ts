import type Redis from 'ioredis';
import { concertRegistryKey } from './keys';
import { isUuid } from './token-format';

/**
 * The set of concerts with waiting or active tokens. It lives outside the
 * concerts' hash tags, so it is maintained with separate commands.
 */
export interface ConcertRegistry {
  add(concertId: string): Promise<void>;
  remove(concertId: string): Promise<void>;
  list(): Promise<string[]>;
}

export function createConcertRegistry(redis: Redis, keyPrefix: string): ConcertRegistry {
  const key = concertRegistryKey(keyPrefix);
  return {
    async add(concertId) {
      await redis.sadd(key, concertId);
    },
    async remove(concertId) {
      await redis.srem(key, concertId);
    },
    async list() {
      const members = await redis.smembers(key);
      return members.filter(isUuid);
    },
  };
}
