/**
 * Defaults and validation shared by both waiting lines (Redis: token-queue.ts, process memory:
 * memory-token-queue.ts), so that the same settings mean the same thing in either.
 */
import { isUuid } from './token-format';
import type { QueueDrawStore } from './queue-draws';
import type { TokenQueueSettings } from './types';

/** A day: a client that lost the 201 of its payment can replay it for that long. */
export const DEFAULT_USED_TOKEN_RETENTION_SECONDS = 86_400;
/** api.md: a WAITING token that is not polled for this long loses its place. */
export const DEFAULT_WAITING_TTL_SECONDS = 60;
export const DEFAULT_ADMISSION_INTERVAL_MS = 250;
/** The wait estimate counts admissions from the line over this window (wait-estimate.ts). */
export const ADMISSION_RATE_WINDOW_MS = 60_000;

/** The settings with every default filled in and every duration in ms. */
export interface ResolvedQueueSettings {
  maxActive: number;
  activeTtlSeconds: number;
  activeTtlMs: number;
  waitingTtlMs: number;
  retentionMs: number;
  admissionIntervalMs: number;
  now: () => number;
  onAdmissionError: (error: unknown) => void;
  draws: QueueDrawStore | undefined;
}

export function resolveQueueSettings(settings: TokenQueueSettings): ResolvedQueueSettings {
  validateQueueSettings(settings);
  return {
    maxActive: settings.maxActive,
    activeTtlSeconds: settings.activeTtlSeconds,
    activeTtlMs: settings.activeTtlSeconds * 1000,
    waitingTtlMs: (settings.waitingTtlSeconds ?? DEFAULT_WAITING_TTL_SECONDS) * 1000,
    retentionMs: (settings.usedTokenRetentionSeconds ?? DEFAULT_USED_TOKEN_RETENTION_SECONDS) * 1000,
    admissionIntervalMs: settings.admissionIntervalMs ?? DEFAULT_ADMISSION_INTERVAL_MS,
    now: settings.now ?? Date.now,
    onAdmissionError: settings.onAdmissionError ?? ((error) => console.error('token queue: admission sweep failed', error)),
    draws: settings.draws,
  };
}

export function validateQueueSettings(options: TokenQueueSettings): void {
  if (!Number.isInteger(options.maxActive) || options.maxActive < 1) {
    throw new RangeError('token queue: maxActive must be a positive integer');
  }
  if (!Number.isInteger(options.activeTtlSeconds) || options.activeTtlSeconds < 1) {
    throw new RangeError('token queue: activeTtlSeconds must be a positive integer');
  }
  const waitingTtl = options.waitingTtlSeconds;
  if (waitingTtl !== undefined && (!Number.isInteger(waitingTtl) || waitingTtl < 1)) {
    throw new RangeError('token queue: waitingTtlSeconds must be a positive integer');
  }
  const interval = options.admissionIntervalMs;
  if (interval !== undefined && (!Number.isFinite(interval) || interval <= 0)) {
    throw new RangeError('token queue: admissionIntervalMs must be positive');
  }
}

/** The arguments of issue(), checked the same way by both lines. */
export function validateIssueArguments(userId: unknown, concertId: unknown, opensAt: unknown = null, draws?: QueueDrawStore): void {
  if (opensAt !== null && (typeof opensAt !== 'number' || !Number.isFinite(opensAt))) {
    throw new TypeError('token queue: opensAt must be epoch ms or null');
  }
  if (opensAt !== null && draws === undefined) {
    throw new TypeError('token queue: a concert with an on-sale time needs a draw store (TokenQueueSettings.draws)');
  }
  if (typeof userId !== 'string' || userId.length === 0) {
    throw new TypeError('token queue: userId must be a non-empty string');
  }
  if (typeof concertId !== 'string' || !isUuid(concertId)) {
    throw new TypeError('token queue: concertId must be a UUID');
  }
}
