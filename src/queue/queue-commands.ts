import type Redis from 'ioredis';
import { type ConcertKeys, tokenKey } from './keys';
import { ADMIT_SCRIPT, APPLY_DRAW_SCRIPT, EXPIRE_SCRIPT, ISSUE_SCRIPT, LOOKUP_SCRIPT, PREQUEUE_SCRIPT } from './lua-scripts';
import {
  type AdmitReply,
  type IssueReply,
  type LookupReply,
  type PrequeueReply,
  parseAdmitReply,
  parseCount,
  parseIssueReply,
  parseLookupReply,
  parsePrequeueReply,
} from './script-replies';
import type { DrawDue } from './pre-queue-drawer';

/** Settings every script needs to run admission for a concert. */
export interface AdmissionContext {
  now: number;
  maxActive: number;
  activeTtlMs: number;
  retentionMs: number;
  /** A WAITING token not polled (issued again or looked up) for this long loses its place. */
  waitingTtlMs: number;
}

/**
 * Typed wrappers around the queue's Lua scripts (one script per operation). Each answers
 * 'draw-due' instead, having changed nothing, while the concert's pre-queue draw is due.
 */
export interface QueueCommands {
  /**
   * `register` is sent in the same round trip, right after the script (a pipeline: Redis runs
   * them in order), so the concert is registered for the admission sweep only once the script ran.
   */
  issue(
    keys: ConcertKeys,
    context: AdmissionContext,
    userId: string,
    candidateToken: string,
    opensAt: number | null,
    register: { registryKey: string; concertId: string },
  ): Promise<IssueReply | DrawDue>;
  lookup(keys: ConcertKeys, context: AdmissionContext, token: string): Promise<LookupReply | DrawDue>;
  expire(keys: ConcertKeys, context: AdmissionContext, token: string): Promise<number | DrawDue>;
  admit(keys: ConcertKeys, context: AdmissionContext): Promise<AdmitReply | DrawDue>;
  prequeue(keys: ConcertKeys, context: AdmissionContext): Promise<PrequeueReply>;
  /** Puts the pre-queue in line in `order` unless a draw was applied already; returns how many it placed. */
  applyDraw(keys: ConcertKeys, context: AdmissionContext, order: string[]): Promise<number>;
}

type ScriptInvoker = (...keysThenArgs: (string | number)[]) => Promise<unknown>;

const COMMAND_NAMES = {
  issue: 'ovationQueueIssue',
  lookup: 'ovationQueueLookup',
  expire: 'ovationQueueExpire',
  admit: 'ovationQueueAdmit',
  prequeue: 'ovationQueuePrequeue',
  applyDraw: 'ovationQueueApplyDraw',
} as const;

const SHARED_KEY_COUNT = 8;

export function registerQueueCommands(redis: Redis): QueueCommands {
  if (redis.options.keyPrefix) {
    throw new Error('token queue: the Redis client must not set keyPrefix; pass TokenQueueOptions.keyPrefix instead');
  }
  // Redefining is harmless: several queues may share one client.
  redis.defineCommand(COMMAND_NAMES.issue, { lua: ISSUE_SCRIPT, numberOfKeys: SHARED_KEY_COUNT + 1 });
  redis.defineCommand(COMMAND_NAMES.lookup, { lua: LOOKUP_SCRIPT, numberOfKeys: SHARED_KEY_COUNT + 1 });
  redis.defineCommand(COMMAND_NAMES.expire, { lua: EXPIRE_SCRIPT, numberOfKeys: SHARED_KEY_COUNT + 1 });
  redis.defineCommand(COMMAND_NAMES.admit, { lua: ADMIT_SCRIPT, numberOfKeys: SHARED_KEY_COUNT });
  redis.defineCommand(COMMAND_NAMES.prequeue, { lua: PREQUEUE_SCRIPT, numberOfKeys: SHARED_KEY_COUNT });
  redis.defineCommand(COMMAND_NAMES.applyDraw, { lua: APPLY_DRAW_SCRIPT, numberOfKeys: SHARED_KEY_COUNT });

  const invoke = (name: string): ScriptInvoker => {
    const command: unknown = (redis as unknown as Record<string, unknown>)[name];
    if (typeof command !== 'function') throw new Error(`token queue: command ${name} was not defined`);
    return (...keysThenArgs) => (command as ScriptInvoker).apply(redis, keysThenArgs);
  };
  const runLookup = invoke(COMMAND_NAMES.lookup);
  const runExpire = invoke(COMMAND_NAMES.expire);
  const runAdmit = invoke(COMMAND_NAMES.admit);
  const runPrequeue = invoke(COMMAND_NAMES.prequeue);
  const runApplyDraw = invoke(COMMAND_NAMES.applyDraw);

  return {
    async issue(keys, context, userId, candidateToken, opensAt, register) {
      const pipeline = redis.pipeline();
      // defineCommand puts the script on pipelines too; their typings do not know it.
      (pipeline as unknown as Record<string, (...keysThenArgs: (string | number)[]) => unknown>)[COMMAND_NAMES.issue]!(
        ...sharedKeys(keys),
        tokenKey(keys, candidateToken),
        ...sharedArgs(keys, context),
        userId,
        candidateToken,
        opensAt === null ? '' : Math.floor(opensAt),
      );
      pipeline.sadd(register.registryKey, register.concertId);
      const [[scriptError, reply] = [null, null], [registerError] = [null]] = (await pipeline.exec()) ?? [];
      if (scriptError) throw scriptError;
      if (registerError) throw registerError;
      return parseIssueReply(reply);
    },
    async lookup(keys, context, token) {
      const reply = await runLookup(...sharedKeys(keys), tokenKey(keys, token), ...sharedArgs(keys, context), token);
      return parseLookupReply(reply);
    },
    async expire(keys, context, token) {
      const reply = await runExpire(...sharedKeys(keys), tokenKey(keys, token), ...sharedArgs(keys, context), token);
      return parseCount(reply);
    },
    async admit(keys, context) {
      const reply = await runAdmit(...sharedKeys(keys), ...sharedArgs(keys, context));
      return parseAdmitReply(reply);
    },
    async prequeue(keys, context) {
      return parsePrequeueReply(await runPrequeue(...sharedKeys(keys), ...sharedArgs(keys, context)));
    },
    async applyDraw(keys, context, order) {
      const reply = await runApplyDraw(...sharedKeys(keys), ...sharedArgs(keys, context), ...order);
      const placed = parseCount(reply);
      if (typeof placed !== 'number') throw new Error('token queue: applying a draw answered draw-due');
      return placed;
    },
  };
}

function sharedKeys(keys: ConcertKeys): string[] {
  return [keys.waiting, keys.active, keys.users, keys.seq, keys.admissions, keys.pollDeadlines, keys.prequeue, keys.sale];
}

function sharedArgs(keys: ConcertKeys, context: AdmissionContext): (string | number)[] {
  return [
    Math.floor(context.now),
    context.maxActive,
    context.activeTtlMs,
    context.retentionMs,
    keys.tokenKeyPrefix,
    context.waitingTtlMs,
  ];
}
