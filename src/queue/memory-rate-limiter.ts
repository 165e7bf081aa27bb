/**
 * Embedded mode's request counters: the RateLimiter of rate-limiter.ts held in process memory,
 * with its rules — fixed windows per rule and subject, the first request of a subject starts a
 * window of `windowMs`, every request in it counts (refused ones too), a refusal learns when the
 * window ends (Retry-After), a limit of 0 is off. The counts are this process's only, which is
 * all embedded mode has (one instance). It cannot fail, so every answer is `checked: true`.
 *
 * Memory is bounded by the requests of the longest window: a counter is dropped once its window
 * has ended. Windows start in order and (with one window length, as the app configures) end in
 * that order, so each call purges the ended ones from the front in O(ended); a longer window at
 * the front only delays the purge of shorter ones behind it until it ends.
 */
import { DeadlineMap } from './memory/deadline-map';
import { rateLimitKey, type RateLimiter } from './rate-limiter';

export interface MemoryRateLimiterOptions {
  /** Epoch ms; default Date.now. */
  now?: () => number;
}

export function createMemoryRateLimiter(options: MemoryRateLimiterOptions = {}): RateLimiter {
  const clock = options.now ?? Date.now;
  /** Key (as the Redis limiter names it) → requests counted in the window ending at the deadline. */
  const windows = new DeadlineMap<{ count: number }>();

  return {
    async take(rule, subject) {
      if (rule.limit <= 0) return { allowed: true, checked: false };
      const now = clock();
      windows.takeDue(now);
      const key = rateLimitKey('', rule, subject);
      let window = windows.get(key);
      if (!window || windows.isDue(key, now)) {
        window = { count: 0 };
        windows.set(key, window, now + Math.ceil(rule.windowMs));
      }
      window.count += 1;
      if (window.count <= rule.limit) return { allowed: true, checked: true };
      const endsInMs = windows.deadlineOf(key)! - now;
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(endsInMs / 1000)) };
    },
  };
}
