/** How the composition root connects to Redis. */
/**
 * Every Redis wait is bounded: a command that gets no answer in 2 s fails, commands are not queued
 * while the connection is down (they fail at once: 503, and holds with a cached token go on),
 * keep-alive notices a dead peer, and the client reconnects by itself every second at most.
 */
export const REDIS_OPTIONS = {
  lazyConnect: true,
  enableAutoPipelining: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  commandTimeout: 2_000,
  connectTimeout: 2_000,
  keepAlive: 5_000,
  retryStrategy: (attempt: number) => Math.min(100 * attempt, 1_000),
} as const;
