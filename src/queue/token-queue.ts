import { createAdmissionLoop } from './admission-loop';
import { createConcertRegistry } from './concert-registry';
import { concertKeys } from './keys';
import { type AdmissionContext, registerQueueCommands } from './queue-commands';
import type { TokenDescription } from './script-replies';
import { generateToken, isUuid, normalizeConcertId, parseToken } from './token-format';
import type { TokenInfo, TokenQueue, TokenQueueOptions } from './types';
import { onRedis, onRedisWrite } from './redis-unavailable';
import { estimateWaitSeconds } from './wait-estimate';

export type { TokenInfo, TokenLookup, TokenQueue, TokenQueueOptions, TokenStatus, TokenView } from './types';

const DEFAULT_ADMISSION_INTERVAL_MS = 250;
/** A day: a client that lost the 201 of its payment can replay it for that long. */
const DEFAULT_USED_TOKEN_RETENTION_SECONDS = 86_400;
/** api.md: a WAITING token that is not polled for this long loses its place. */
const DEFAULT_WAITING_TTL_SECONDS = 60;

type LiveDescription = Extract<TokenDescription, { kind: 'live' }>;

/**
 * Waiting queue per concert, held in Redis (tokens only, never locks).
 * At most `maxActive` tokens per concert are ACTIVE; the rest wait in FIFO order.
 */
export function createTokenQueue(options: TokenQueueOptions): TokenQueue {
  validateOptions(options);
  const { redis, keyPrefix, maxActive, activeTtlSeconds } = options;
  const clock = options.now ?? Date.now;
  const activeTtlMs = activeTtlSeconds * 1000;
  const waitingTtlMs = (options.waitingTtlSeconds ?? DEFAULT_WAITING_TTL_SECONDS) * 1000;
  const commands = registerQueueCommands(redis);
  const registry = createConcertRegistry(redis, keyPrefix);

  const admissionContext = (): AdmissionContext => ({
    now: clock(),
    maxActive,
    activeTtlMs,
    // A used or expired token is kept this long, so that a payment replay can still find its user.
    retentionMs: (options.usedTokenRetentionSeconds ?? DEFAULT_USED_TOKEN_RETENTION_SECONDS) * 1000,
    waitingTtlMs,
  });

  const toInfo = (concertId: string, description: LiveDescription): TokenInfo => ({
    token: description.token,
    status: description.status,
    position: description.position,
    estimatedWaitSeconds: estimateWaitSeconds({
      position: description.position,
      maxActive,
      activeTtlSeconds,
      admissionsLastMinute: description.admissionsLastMinute,
    }),
    activeUntil: description.activeUntilMs === null ? null : new Date(description.activeUntilMs).toISOString(),
    userId: description.userId,
    concertId,
  });

  /**
   * Drops a drained concert from the registry. The re-check after removing
   * closes the race with a concurrent issue(), which registers its concert only
   * after its script ran: either that registration comes after our removal, or
   * the re-check sees the new token and registers the concert again.
   */
  const sweepConcert = async (concertId: string): Promise<number> => {
    const keys = concertKeys(keyPrefix, concertId);
    const first = await commands.admit(keys, admissionContext());
    if (first.live > 0) return first.admitted;
    await registry.remove(concertId);
    const recheck = await commands.admit(keys, admissionContext());
    if (recheck.live > 0) await registry.add(concertId);
    return first.admitted + recheck.admitted;
  };

  const admitAll = async (): Promise<number> => {
    const concertIds = await registry.list();
    const admittedPerConcert = await Promise.all(concertIds.map(sweepConcert));
    return admittedPerConcert.reduce((sum, admitted) => sum + admitted, 0);
  };

  const loop = createAdmissionLoop(
    admitAll,
    options.admissionIntervalMs ?? DEFAULT_ADMISSION_INTERVAL_MS,
    options.onAdmissionError ?? ((error) => console.error('token queue: admission sweep failed', error)),
  );

  const queue: TokenQueue = {
    async issue(userId, concertId) {
      if (typeof userId !== 'string' || userId.length === 0) {
        throw new TypeError('token queue: userId must be a non-empty string');
      }
      if (typeof concertId !== 'string' || !isUuid(concertId)) {
        throw new TypeError('token queue: concertId must be a UUID');
      }
      const normalizedConcertId = normalizeConcertId(concertId);
      const keys = concertKeys(keyPrefix, normalizedConcertId);
      const reply = await commands.issue(keys, admissionContext(), userId, generateToken(normalizedConcertId));
      await registry.add(normalizedConcertId);
      if (reply.description.kind !== 'live') {
        throw new Error(`token queue: issued token is not live (${reply.description.kind})`);
      }
      return { created: reply.created, info: toInfo(normalizedConcertId, reply.description) };
    },

    async lookup(token) {
      const parsed = parseToken(token);
      if (!parsed) return { kind: 'invalid' };
      const keys = concertKeys(keyPrefix, parsed.concertId);
      const { requeued, description } = await commands.lookup(keys, admissionContext(), token);
      // A re-queued token may belong to a concert the sweep already dropped as drained.
      if (requeued) await registry.add(parsed.concertId);
      switch (description.kind) {
        case 'invalid':
          return { kind: 'invalid' };
        case 'used':
          return { kind: 'used', userId: description.userId, concertId: parsed.concertId };
        case 'live':
          return { kind: 'live', info: toInfo(parsed.concertId, description) };
      }
    },

    async expire(token) {
      const parsed = parseToken(token);
      if (!parsed) return;
      await commands.expire(concertKeys(keyPrefix, parsed.concertId), admissionContext(), token);
    },

    admitAll,
    start: () => loop.start(),
    stop: () => loop.stop(),
  };
  return {
    ...queue,
    issue: (userId, concertId) => onRedisWrite(() => queue.issue(userId, concertId)),
    lookup: (token) => onRedis(() => queue.lookup(token)),
    expire: (token) => onRedisWrite(() => queue.expire(token)),
  };
}

function validateOptions(options: TokenQueueOptions): void {
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
