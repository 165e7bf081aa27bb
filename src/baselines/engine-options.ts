/** Constructor options of the two baseline engines, and their defaults. */
import type Redis from 'ioredis';
import type { Pool } from 'pg';

export interface BaselineEngineOptions {
  /** The caller's pool: an engine never creates its own (the composition root sizes it). */
  db: Pool;
  holdTtlMs: number;
  /** An extension never moves a hold's expiry past its creation + this. */
  holdMaxMs: number;
  /** Seats one user may hold at once on one schedule (the actor engine's rule). */
  maxSeatsPerUser: number;
  outboxTopic: string;
  /** How often the expiry sweeper runs (default 1000 ms). */
  sweepIntervalMs?: number;
  /** Clock for expiry decisions (epoch ms); tests move it. Default Date.now. */
  now?: () => number;
  /** Errors of background work (sweeper, cache invalidation). Default console.error. */
  onBackgroundError?: (error: unknown, context: string) => void;
}

export interface LockEngineOptions extends BaselineEngineOptions {
  redis: Redis;
  /** Prefix of every Redis key the engine writes. */
  keyPrefix: string;
  /** Lifetime of a Redis lock: must outlast the PostgreSQL transaction it guards (default 5000 ms). */
  lockTtlMs?: number;
  /** How long an operation waits for a busy lock before giving up (default 300 ms). */
  lockWaitMs?: number;
  /** Safety net only (invalidation is by DEL): a cached seat map lives at most this long (default 60 s). */
  seatMapCacheTtlMs?: number;
}

export const DEFAULT_SWEEP_INTERVAL_MS = 1_000;
export const DEFAULT_LOCK_TTL_MS = 5_000;
export const DEFAULT_LOCK_WAIT_MS = 300;
export const DEFAULT_SEAT_MAP_CACHE_TTL_MS = 60_000;

export function defaultBackgroundError(error: unknown, context: string): void {
  console.error(`reservation engine: ${context} failed`, error);
}
