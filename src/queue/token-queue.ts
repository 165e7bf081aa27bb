import { createAdmissionLoop } from './admission-loop';
import { tokenInfo } from './token-info';
import { createConcertRegistry } from './concert-registry';
import { concertKeys, concertRegistryKey } from './keys';
import { type AdmissionContext, registerQueueCommands } from './queue-commands';
import type { TokenDescription } from './script-replies';
import { generateToken, normalizeConcertId, parseToken } from './token-format';
import type { TokenInfo, TokenQueue, TokenQueueOptions } from './types';
import { onRedis, onRedisWrite } from './redis-unavailable';
import { resolveQueueSettings, validateIssueArguments } from './queue-settings';
import { afterDraw, createPreQueueDrawer } from './pre-queue-drawer';

export type { LineStats, TokenInfo, TokenLookup, TokenQueue, TokenQueueOptions, TokenQueueSettings, TokenStatus, TokenView } from './types';

type LiveDescription = Extract<TokenDescription, { kind: 'live' }>;

/**
 * Waiting queue per concert, held in Redis (tokens only, never locks).
 * At most `maxActive` tokens per concert are ACTIVE; the rest wait in FIFO order.
 */
export function createTokenQueue(options: TokenQueueOptions): TokenQueue {
  const settings = resolveQueueSettings(options);
  const { redis, keyPrefix } = options;
  const { maxActive, activeTtlSeconds, activeTtlMs, waitingTtlMs } = settings;
  const clock = settings.now;
  const commands = registerQueueCommands(redis);
  const registry = createConcertRegistry(redis, keyPrefix);

  const admissionContext = (): AdmissionContext => ({
    now: clock(),
    maxActive,
    activeTtlMs,
    // A used or expired token is kept this long, so that a payment replay can still find its user.
    retentionMs: settings.retentionMs,
    waitingTtlMs,
  });

  const toInfo = (concertId: string, description: LiveDescription): TokenInfo =>
    tokenInfo(concertId, description, { maxActive, activeTtlSeconds, now: clock() });

  const drawer = createPreQueueDrawer(settings.draws);
  /** Draws the concert's pre-queue into line if its draw is due (pre-queue-drawer.ts). */
  const draw = (concertId: string) => async (): Promise<void> => {
    const keys = concertKeys(keyPrefix, concertId);
    const { opensAtMs, drawn, arrivals } = await commands.prequeue(keys, admissionContext());
    if (drawn || opensAtMs === null || opensAtMs > clock()) return;
    await drawer.draw(concertId, opensAtMs, arrivals, async (order) => {
      await commands.applyDraw(keys, admissionContext(), order);
    });
  };

  /**
   * Drops a drained concert from the registry. The re-check after removing
   * closes the race with a concurrent issue(), which registers its concert only
   * after its script ran: either that registration comes after our removal, or
   * the re-check sees the new token and registers the concert again.
   */
  const sweepConcert = async (concertId: string): Promise<number> => {
    const keys = concertKeys(keyPrefix, concertId);
    const admit = () => afterDraw(() => commands.admit(keys, admissionContext()), draw(concertId));
    const first = await admit();
    if (first.live > 0) return first.admitted;
    await registry.remove(concertId);
    const recheck = await admit();
    if (recheck.live > 0) await registry.add(concertId);
    return first.admitted + recheck.admitted;
  };

  const admitAll = async (): Promise<number> => {
    const concertIds = await registry.list();
    const admittedPerConcert = await Promise.all(concertIds.map(sweepConcert));
    return admittedPerConcert.reduce((sum, admitted) => sum + admitted, 0);
  };

  const loop = createAdmissionLoop(admitAll, settings.admissionIntervalMs, settings.onAdmissionError);

  const queue: TokenQueue = {
    async issue(userId, concertId, opensAt = null) {
      validateIssueArguments(userId, concertId, opensAt, settings.draws);
      const normalizedConcertId = normalizeConcertId(concertId);
      const keys = concertKeys(keyPrefix, normalizedConcertId);
      const candidate = generateToken(normalizedConcertId);
      // One round trip: the script, then the concert's registration for the sweep (queue-commands.ts).
      const register = { registryKey: concertRegistryKey(keyPrefix), concertId: normalizedConcertId };
      const reply = await afterDraw(
        () => commands.issue(keys, admissionContext(), userId, candidate, opensAt, register),
        draw(normalizedConcertId),
      );
      if (reply.description.kind !== 'live') {
        throw new Error(`token queue: issued token is not live (${reply.description.kind})`);
      }
      return { created: reply.created, info: toInfo(normalizedConcertId, reply.description) };
    },

    async lookup(token) {
      const parsed = parseToken(token);
      if (!parsed) return { kind: 'invalid' };
      const keys = concertKeys(keyPrefix, parsed.concertId);
      const { requeued, description } = await afterDraw(() => commands.lookup(keys, admissionContext(), token), draw(parsed.concertId));
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
      const keys = concertKeys(keyPrefix, parsed.concertId);
      await afterDraw(() => commands.expire(keys, admissionContext(), token), draw(parsed.concertId));
    },

    admitAll,

    async stats() {
      const concertIds = await registry.list();
      if (concertIds.length === 0) return [];
      const pipeline = redis.pipeline();
      const now = clock();
      for (const concertId of concertIds) {
        const keys = concertKeys(keyPrefix, concertId);
        // ACTIVE: tokens still within their TTL (scores are expiry times); those past it are room.
        pipeline.zcard(keys.prequeue).zcard(keys.waiting).zcount(keys.active, `(${now}`, '+inf').get(keys.admitted);
      }
      const replies = (await pipeline.exec()) ?? [];
      return concertIds.map((concertId, index) => {
        const [prequeue, waiting, active, admitted] = replies.slice(index * 4, index * 4 + 4).map(([error, value]) => {
          if (error) throw error;
          return Number(value ?? 0);
        });
        return { concertId, prequeue: prequeue!, waiting: waiting!, active: active!, admittedTotal: admitted! };
      });
    },

    start: () => loop.start(),
    stop: () => loop.stop(),
  };
  return {
    ...queue,
    stats: () => onRedis(() => queue.stats()),
    issue: (userId, concertId, opensAt) => onRedisWrite(() => queue.issue(userId, concertId, opensAt)),
    lookup: (token) => onRedis(() => queue.lookup(token)),
    expire: (token) => onRedisWrite(() => queue.expire(token)),
  };
}
