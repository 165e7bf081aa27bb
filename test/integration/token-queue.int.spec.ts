/**
 * The waiting line's test suite, run over both implementations of the TokenQueue port: the Redis
 * line (Lua scripts) and embedded mode's in-process line (design.md, "Embedded mode": same
 * semantics, same test suite). Tests read what a line holds through a backend's probe, not through
 * the port, because lookup() admits and polls and would change what the test looks at.
 *
 * Redis-only, in their own describes below: the key layout (hash tags, the registry SET, the
 * sequence counter), the "never touches Redis" check with an offline client, and healing a WAITING
 * token whose ZSET entry was deleted behind the scripts' back (the in-process line has no second
 * structure that could lose it). Memory-only: the bounds on what the in-process line keeps.
 *
 * The pre-queue (on-sale time and the draw) records its draws in PostgreSQL through the server's
 * own store, on a database of this file's own; concerts are created through the catalogue, as the
 * draw's row refers to its concert.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { createMemoryTokenQueue, type MemoryTokenQueue } from '../../src/queue/memory-token-queue';
import { createTokenQueue, type TokenInfo, type TokenQueue, type TokenQueueOptions, type TokenQueueSettings } from '../../src/queue/token-queue';
import { Pool } from 'pg';
import { drawOrder } from '../../src/domain/seeded-shuffle';
import { CatalogueRepository } from '../../src/persistence/catalogue-repository';
import { createQueueDrawStore } from '../../src/persistence/queue-draw-store';
import type { QueueDrawStore } from '../../src/queue/queue-draws';
import { QueueDrawUnavailableError } from '../../src/queue/pre-queue-drawer';
import { eventually } from '../support/eventually';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const TOKEN_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.[A-Za-z0-9_-]{22}$/;

const redis = new Redis(REDIS_URL);

let keyPrefix: string;
let clockMs: number;
let startedQueues: TokenQueue[];

beforeEach(() => {
  keyPrefix = `test:${randomUUID()}:`;
  clockMs = Date.UTC(2030, 0, 1, 12, 0, 0);
  startedQueues = [];
});

afterEach(async () => {
  await Promise.all(startedQueues.map((queue) => queue.stop()));
  await deleteKeysMatching(`${keyPrefix}*`);
});

afterAll(async () => {
  await redis.quit();
});

type StoredState = 'WAITING' | 'ACTIVE' | 'USED';

/** One implementation of the port, and a probe of what it holds (never through the port). */
interface Backend {
  make(overrides?: Partial<TokenQueueSettings>): TokenQueue;
  /** The token's state as stored; null when the line holds nothing of it. */
  stateOf(concertId: string, token: string): Promise<StoredState | null>;
  /** WAITING tokens in line order. */
  waiting(concertId: string): Promise<string[]>;
  /** Tokens in the pre-queue (issued before the on-sale time, not drawn yet). */
  prequeued(concertId: string): Promise<string[]>;
  active(concertId: string): Promise<string[]>;
  /** userId → the user's live token. */
  users(concertId: string): Promise<Record<string, string>>;
  /** WAITING token → the instant it must be polled by. */
  pollDeadlines(concertId: string): Promise<Record<string, number>>;
  /** Concerts with live tokens, the ones the admission sweep visits (Redis: the registry SET). */
  sweptConcerts(): Promise<string[]>;
  /** Every token the concert holds, ended ones included. */
  tokensHeld(concertId: string): Promise<string[]>;
  /** How much longer an ended token resolves to its user. */
  retentionLeftMs(concertId: string, token: string): Promise<number>;
}

function baseSettings(overrides: Partial<TokenQueueSettings>): TokenQueueSettings {
  return { maxActive: 2, activeTtlSeconds: 300, now: () => clockMs, ...overrides };
}

function makeRedisQueue(overrides: Partial<TokenQueueOptions> = {}): TokenQueue {
  const queue = createTokenQueue({ redis, keyPrefix, maxActive: 2, activeTtlSeconds: 300, now: () => clockMs, ...overrides });
  startedQueues.push(queue);
  return queue;
}

const concertBase = (concertId: string) => `${keyPrefix}q:{${concertId}}:`;

function tokenKeyOf(concertId: string, token: string): string {
  return `${concertBase(concertId)}t:${token}`;
}

const redisBackend: Backend = {
  make: (overrides) => makeRedisQueue(overrides),
  stateOf: async (concertId, token) => (await redis.hget(tokenKeyOf(concertId, token), 'state')) as StoredState | null,
  waiting: (concertId) => redis.zrange(`${concertBase(concertId)}waiting`, 0, -1),
  prequeued: (concertId) => redis.zrange(`${concertBase(concertId)}prequeue`, 0, -1),
  active: (concertId) => redis.zrange(`${concertBase(concertId)}active`, 0, -1),
  users: (concertId) => redis.hgetall(`${concertBase(concertId)}users`),
  pollDeadlines: async (concertId) => {
    const flat = await redis.zrange(`${concertBase(concertId)}poll-deadlines`, 0, -1, 'WITHSCORES');
    const deadlines: Record<string, number> = {};
    for (let index = 0; index < flat.length; index += 2) deadlines[flat[index]!] = Number(flat[index + 1]);
    return deadlines;
  },
  sweptConcerts: () => redis.smembers(`${keyPrefix}q:concerts`),
  tokensHeld: async (concertId) => (await redis.keys(`${concertBase(concertId)}t:*`)).map((key) => key.slice(`${concertBase(concertId)}t:`.length)),
  retentionLeftMs: (concertId, token) => redis.pttl(tokenKeyOf(concertId, token)),
};

/** The in-process line made last in the test, and its clock. */
let memoryQueue: MemoryTokenQueue | undefined;
let memoryClock: () => number = () => clockMs;

function makeMemoryQueue(overrides: Partial<TokenQueueSettings> = {}): MemoryTokenQueue {
  const settings = baseSettings(overrides);
  const queue = createMemoryTokenQueue(settings);
  memoryQueue = queue;
  memoryClock = settings.now!;
  startedQueues.push(queue);
  return queue;
}

function memoryLine(concertId: string) {
  return memoryQueue?.inspect().concerts[concertId];
}

const memoryBackend: Backend = {
  make: (overrides) => makeMemoryQueue(overrides),
  stateOf: async (concertId, token) => {
    const line = memoryLine(concertId);
    if (line?.waiting.some((entry) => entry.token === token)) return 'WAITING';
    if (line?.active.some((entry) => entry.token === token)) return 'ACTIVE';
    return memoryQueue?.inspect().retired.some((entry) => entry.token === token) ? 'USED' : null;
  },
  waiting: async (concertId) => memoryLine(concertId)?.waiting.map((entry) => entry.token) ?? [],
  prequeued: async (concertId) => memoryLine(concertId)?.prequeue.map((entry) => entry.token) ?? [],
  active: async (concertId) => memoryLine(concertId)?.active.map((entry) => entry.token) ?? [],
  users: async (concertId) => memoryLine(concertId)?.users ?? {},
  pollDeadlines: async (concertId) => Object.fromEntries(memoryLine(concertId)?.waiting.map((entry) => [entry.token, entry.pollDeadline]) ?? []),
  sweptConcerts: async () =>
    Object.entries(memoryQueue?.inspect().concerts ?? {})
      .filter(([, line]) => line.prequeue.length + line.waiting.length + line.active.length > 0)
      .map(([concertId]) => concertId),
  tokensHeld: async (concertId) => {
    const line = memoryLine(concertId);
    const retired = memoryQueue?.inspect().retired.filter((entry) => entry.concertId === concertId) ?? [];
    return [...(line?.waiting ?? []), ...(line?.active ?? []), ...retired].map((entry) => entry.token);
  },
  retentionLeftMs: async (_concertId, token) => {
    const entry = memoryQueue?.inspect().retired.find((retired) => retired.token === token);
    return entry ? entry.retainedUntil - memoryClock() : -2;
  },
};

async function deleteKeysMatching(pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

async function issueInOrder(queue: TokenQueue, concertId: string, userCount: number): Promise<TokenInfo[]> {
  const infos: TokenInfo[] = [];
  for (let index = 1; index <= userCount; index += 1) {
    infos.push((await queue.issue(`user-${index}`, concertId)).info);
  }
  return infos;
}

async function liveInfo(queue: TokenQueue, token: string): Promise<TokenInfo> {
  const lookup = await queue.lookup(token);
  if (lookup.kind !== 'live') throw new Error(`expected ${token} to be live, got ${lookup.kind}`);
  return lookup.info;
}

function malformedTokens(concertId: string): string[] {
  const random = randomBytes(16).toString('base64url');
  return [
    '',
    'token',
    random,
    concertId,
    `${concertId}.`,
    `not-a-uuid.${random}`,
    `${concertId.slice(1)}.${random}`,
    `${concertId.toUpperCase()}.${random}`,
    `${concertId}.${random.slice(1)}`,
    `${concertId}.${random}x`,
    `${concertId}.${random}.${random}`,
    `${concertId}.${random.slice(0, 21)}*`,
    `{${concertId}}.${random}`,
  ];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const BACKENDS: [string, Backend][] = [
  ['redis', redisBackend],
  ['memory', memoryBackend],
];

describe.each(BACKENDS)('token queue (%s)', (_name, backend) => {
  const makeQueue = backend.make;

  test('when five users queue with maxActive=2, then the first two are ACTIVE and the rest WAITING at positions 1..3', async () => {
    const queue = makeQueue();
    const concertId = randomUUID();

    const infos = await issueInOrder(queue, concertId, 5);

    const expectedActiveUntil = new Date(clockMs + 300_000).toISOString();
    expect(infos.map((info) => [info.status, info.position])).toEqual([
      ['ACTIVE', 0],
      ['ACTIVE', 0],
      ['WAITING', 1],
      ['WAITING', 2],
      ['WAITING', 3],
    ]);
    for (const active of infos.slice(0, 2)) {
      expect(active.activeUntil).toBe(expectedActiveUntil);
      expect(active.estimatedWaitSeconds).toBe(0);
    }
    for (const waiting of infos.slice(2)) {
      expect(waiting.activeUntil).toBeNull();
      expect(waiting.estimatedWaitSeconds).toBeGreaterThan(0);
      expect(Number.isInteger(waiting.estimatedWaitSeconds)).toBe(true);
    }
    expect(infos.map((info) => info.userId)).toEqual(['user-1', 'user-2', 'user-3', 'user-4', 'user-5']);
    expect(infos.every((info) => info.concertId === concertId && TOKEN_SHAPE.test(info.token))).toBe(true);
    expect(new Set(infos.map((info) => info.token)).size).toBe(5);
  });

  test('when a token is issued, then the line holds it (active, waiting, the user index, its state) and the concert is swept', async () => {
    const queue = makeQueue({ maxActive: 1 });
    const concertId = randomUUID();

    const { info: active } = await queue.issue('user-1', concertId);
    const { info: waiting } = await queue.issue('user-2', concertId);

    expect(await backend.active(concertId)).toEqual([active.token]);
    expect(await backend.waiting(concertId)).toEqual([waiting.token]);
    expect(await backend.users(concertId)).toEqual({ 'user-1': active.token, 'user-2': waiting.token });
    expect(await backend.stateOf(concertId, waiting.token)).toBe('WAITING');
    expect(await backend.stateOf(concertId, active.token)).toBe('ACTIVE');
    expect(await backend.sweptConcerts()).toEqual([concertId]);
  });

  test('when the first active token is expired, then the first waiting token is admitted and the others move up in FIFO order', async () => {
    const queue = makeQueue();
    const concertId = randomUUID();
    const [first, second, third, fourth, fifth] = await issueInOrder(queue, concertId, 5);

    await queue.expire(first!.token);

    expect(await queue.lookup(first!.token)).toEqual({ kind: 'used', userId: 'user-1', concertId });
    expect(await liveInfo(queue, second!.token)).toMatchObject({ status: 'ACTIVE', position: 0 });
    const admitted = await liveInfo(queue, third!.token);
    expect(admitted).toMatchObject({ status: 'ACTIVE', position: 0, estimatedWaitSeconds: 0 });
    expect(admitted.activeUntil).toBe(new Date(clockMs + 300_000).toISOString());
    expect(await liveInfo(queue, fourth!.token)).toMatchObject({ status: 'WAITING', position: 1 });
    expect(await liveInfo(queue, fifth!.token)).toMatchObject({ status: 'WAITING', position: 2 });
  });

  test('when the same user asks twice for the same concert, then the same token comes back with created false', async () => {
    const queue = makeQueue();
    const concertId = randomUUID();

    const first = await queue.issue('user-1', concertId);
    const second = await queue.issue('user-1', concertId);

    expect(first.created).toBe(true);
    expect(second.created).toBe(false);
    expect(second.info.token).toBe(first.info.token);
    expect(second.info.status).toBe('ACTIVE');
  });

  test('when a waiting user asks again, then the same token comes back with its current position', async () => {
    const queue = makeQueue({ maxActive: 1 });
    const concertId = randomUUID();
    const [, waiting] = await issueInOrder(queue, concertId, 2);

    const again = await queue.issue('user-2', concertId);

    expect(again.created).toBe(false);
    expect(again.info).toMatchObject({ token: waiting!.token, status: 'WAITING', position: 1 });
  });

  test('when 20 issues for the same user and concert run concurrently, then exactly one token exists', async () => {
    const queue = makeQueue();
    const concertId = randomUUID();

    const results = await Promise.all(Array.from({ length: 20 }, () => queue.issue('user-1', concertId)));

    const tokens = new Set(results.map((result) => result.info.token));
    expect(tokens.size).toBe(1);
    expect(results.filter((result) => result.created)).toHaveLength(1);
    expect(await backend.active(concertId)).toHaveLength(1);
    expect(await backend.waiting(concertId)).toHaveLength(0);
    expect(await backend.tokensHeld(concertId)).toHaveLength(1);
  });

  test('when one user queues for two concerts, then each concert gets its own token', async () => {
    const queue = makeQueue();
    const concertA = randomUUID();
    const concertB = randomUUID();

    const a = await queue.issue('user-1', concertA);
    const b = await queue.issue('user-1', concertB);

    expect(b.created).toBe(true);
    expect(b.info.token).not.toBe(a.info.token);
    expect(a.info.token.startsWith(`${concertA}.`)).toBe(true);
    expect(b.info.token.startsWith(`${concertB}.`)).toBe(true);
  });

  test('when a concert id comes in upper case, then it is the same concert as in lower case', async () => {
    const queue = makeQueue();
    const concertId = randomUUID();

    const upper = await queue.issue('user-1', concertId.toUpperCase());
    const lower = await queue.issue('user-1', concertId);

    expect(upper.info.concertId).toBe(concertId);
    expect(lower).toMatchObject({ created: false, info: { token: upper.info.token } });
  });

  test('when an active token outlives activeTtlSeconds, then lookup reports it used and its slot goes to the next waiting token', async () => {
    const queue = makeQueue({ maxActive: 1, activeTtlSeconds: 60, usedTokenRetentionSeconds: 60 });
    const concertId = randomUUID();
    const [first, second] = await issueInOrder(queue, concertId, 2);

    clockMs += 59_999;
    expect(await liveInfo(queue, first!.token)).toMatchObject({ status: 'ACTIVE' });
    expect(await liveInfo(queue, second!.token)).toMatchObject({ status: 'WAITING', position: 1 });

    clockMs += 1;
    expect(await queue.lookup(first!.token)).toEqual({ kind: 'used', userId: 'user-1', concertId });
    const admitted = await liveInfo(queue, second!.token);
    expect(admitted).toMatchObject({ status: 'ACTIVE', position: 0 });
    expect(admitted.activeUntil).toBe(new Date(clockMs + 60_000).toISOString());
    const retentionMs = await backend.retentionLeftMs(concertId, first!.token);
    expect(retentionMs).toBeGreaterThan(0);
    expect(retentionMs).toBeLessThanOrEqual(60_000);
  });

  test('when the retention period of a used token has passed, then lookup reports it invalid and nothing of it is kept', async () => {
    const queue = makeQueue({ activeTtlSeconds: 1, usedTokenRetentionSeconds: 1, now: Date.now });
    const concertId = randomUUID();
    const { info } = await queue.issue('user-1', concertId);

    await queue.expire(info.token);
    expect(await queue.lookup(info.token)).toEqual({ kind: 'used', userId: 'user-1', concertId });

    await sleep(1_100);
    expect(await queue.lookup(info.token)).toEqual({ kind: 'invalid' });
    expect(await backend.stateOf(concertId, info.token)).toBeNull();
    expect(await backend.tokensHeld(concertId)).toEqual([]);
  });

  test('when a token was used, then by default it still resolves to its user a day later (payment replays)', async () => {
    const queue = makeQueue({ activeTtlSeconds: 60 });
    const concertId = randomUUID();
    const { info } = await queue.issue('user-1', concertId);
    await queue.expire(info.token);
    const retentionMs = await backend.retentionLeftMs(concertId, info.token);
    expect(retentionMs).toBeGreaterThan(86_000_000);
    expect(retentionMs).toBeLessThanOrEqual(86_400_000);
  });

  test('when the user of a used token asks again, then a new token is issued', async () => {
    const queue = makeQueue();
    const concertId = randomUUID();
    const first = await queue.issue('user-1', concertId);
    await queue.expire(first.info.token);

    const second = await queue.issue('user-1', concertId);

    expect(second.created).toBe(true);
    expect(second.info.token).not.toBe(first.info.token);
    expect(second.info.status).toBe('ACTIVE');
  });

  test('when the admission loop runs and a slot frees by TTL, then the waiting token is admitted within a second', async () => {
    const queue = makeQueue({ maxActive: 1, activeTtlSeconds: 1, now: Date.now });
    const concertId = randomUUID();
    const { info: active } = await queue.issue('user-1', concertId);
    const { info: waiting } = await queue.issue('user-2', concertId);
    expect(waiting.status).toBe('WAITING');
    const slotFreesAt = Date.parse(active.activeUntil!);

    queue.start();
    queue.start();
    // Reads the token's state through the probe: lookup() would admit by itself and hide the loop's work.
    let admittedAt: number | null = null;
    while (admittedAt === null && Date.now() < slotFreesAt + 3_000) {
      if ((await backend.stateOf(concertId, waiting.token)) === 'ACTIVE') admittedAt = Date.now();
      else await sleep(20);
    }
    await queue.stop();

    expect(admittedAt).not.toBeNull();
    expect(admittedAt! - slotFreesAt).toBeLessThan(1_000);
    expect(await backend.stateOf(concertId, active.token)).toBe('USED');
  });

  test('when admitAll sweeps, then it reports the admissions and drops drained concerts from the sweep', async () => {
    // The clock jumps minutes with nobody polling: a long waiting TTL keeps the line in place.
    const queue = makeQueue({ maxActive: 1, activeTtlSeconds: 60, waitingTtlSeconds: 3_600 });
    const concertA = randomUUID();
    const concertB = randomUUID();
    await issueInOrder(queue, concertA, 3);
    await issueInOrder(queue, concertB, 2);

    expect(await queue.admitAll()).toBe(0);
    expect((await backend.sweptConcerts()).sort()).toEqual([concertA, concertB].sort());

    clockMs += 60_000;
    expect(await queue.admitAll()).toBe(2);
    clockMs += 60_000;
    expect(await queue.admitAll()).toBe(1);
    expect(await backend.sweptConcerts()).toEqual([concertA]);
    clockMs += 60_000;
    expect(await queue.admitAll()).toBe(0);
    expect(await backend.sweptConcerts()).toEqual([]);
  });

  test('when a token has the right shape but an unknown random part, then lookup reports it invalid', async () => {
    const queue = makeQueue();
    const concertId = randomUUID();
    const { info } = await queue.issue('user-1', concertId);
    const forged = `${concertId}.${randomBytes(16).toString('base64url')}`;

    expect(TOKEN_SHAPE.test(forged)).toBe(true);
    expect(await queue.lookup(forged)).toEqual({ kind: 'invalid' });
    await queue.expire(forged);
    expect(await backend.tokensHeld(concertId)).toEqual([info.token]);
    expect(await liveInfo(queue, info.token)).toMatchObject({ status: 'ACTIVE' });
  });

  test('when a token is malformed, then lookup reports it invalid and expire does nothing', async () => {
    const queue = makeQueue();
    const concertId = randomUUID();
    const { info } = await queue.issue('user-1', concertId);

    for (const token of malformedTokens(concertId)) {
      expect(await queue.lookup(token)).toEqual({ kind: 'invalid' });
      await expect(queue.expire(token)).resolves.toBeUndefined();
    }
    expect(await backend.tokensHeld(concertId)).toEqual([info.token]);
  });

  test("when concert A's token is presented under concert B's id, then it is invalid and B's line holds nothing of it", async () => {
    const queue = makeQueue();
    const concertA = randomUUID();
    const concertB = randomUUID();
    const { info: tokenOfA } = await queue.issue('user-1', concertA);
    const { info: tokenOfB } = await queue.issue('user-2', concertB);
    const randomPartOfA = tokenOfA.token.slice(concertA.length + 1);

    expect(await queue.lookup(`${concertB}.${randomPartOfA}`)).toEqual({ kind: 'invalid' });

    expect(await backend.active(concertB)).toEqual([tokenOfB.token]);
    expect(await backend.users(concertB)).toEqual({ 'user-2': tokenOfB.token });
    expect(await backend.tokensHeld(concertB)).toEqual([tokenOfB.token]);
    expect(await liveInfo(queue, tokenOfA.token)).toMatchObject({ concertId: concertA, userId: 'user-1' });
  });

  test('when expire is called twice, then the second call changes nothing and lookup reports the token used', async () => {
    const queue = makeQueue({ maxActive: 1 });
    const concertId = randomUUID();
    const [first, second, third] = await issueInOrder(queue, concertId, 3);

    await queue.expire(first!.token);
    await queue.expire(first!.token);

    expect(await queue.lookup(first!.token)).toEqual({ kind: 'used', userId: 'user-1', concertId });
    expect(await liveInfo(queue, second!.token)).toMatchObject({ status: 'ACTIVE', position: 0 });
    expect(await liveInfo(queue, third!.token)).toMatchObject({ status: 'WAITING', position: 1 });
    expect((await backend.users(concertId))['user-1']).toBeUndefined();
  });

  test('when a WAITING token is expired, then it leaves the line and the tokens behind it move up', async () => {
    const queue = makeQueue({ maxActive: 1 });
    const concertId = randomUUID();
    const [, second, third, fourth] = await issueInOrder(queue, concertId, 4);

    await queue.expire(third!.token);

    expect(await queue.lookup(third!.token)).toEqual({ kind: 'used', userId: 'user-3', concertId });
    expect(await liveInfo(queue, second!.token)).toMatchObject({ status: 'WAITING', position: 1 });
    expect(await liveInfo(queue, fourth!.token)).toMatchObject({ status: 'WAITING', position: 2 });
    expect(await backend.waiting(concertId)).toEqual([second!.token, fourth!.token]);
  });

  test('when waiting tokens were admitted within the last minute, then the wait estimate follows the observed admission rate', async () => {
    const queue = makeQueue({ maxActive: 1, activeTtlSeconds: 300, waitingTtlSeconds: 3_600 });
    const concertId = randomUUID();
    const infos = await issueInOrder(queue, concertId, 6);
    // Nothing admitted from the line yet: capacity estimate ceil(position / maxActive * ttl).
    expect(infos[1]!.estimatedWaitSeconds).toBe(300);
    expect(infos[5]!.estimatedWaitSeconds).toBe(1_500);

    await queue.expire(infos[0]!.token);
    clockMs += 10_000;
    await queue.expire(infos[1]!.token);

    // Two admissions in the last minute: ceil(position * 60 / 2).
    expect(await liveInfo(queue, infos[3]!.token)).toMatchObject({ position: 1, estimatedWaitSeconds: 30 });
    expect(await liveInfo(queue, infos[5]!.token)).toMatchObject({ position: 3, estimatedWaitSeconds: 90 });

    // Once both admissions fall out of the 60 s window, the capacity estimate applies again.
    clockMs += 60_001;
    expect(await liveInfo(queue, infos[5]!.token)).toMatchObject({ position: 3, estimatedWaitSeconds: 900 });
  });

  test('when a line drains and forms again within the minute, then the wait estimate still counts the earlier admissions', async () => {
    const queue = makeQueue({ maxActive: 1, activeTtlSeconds: 300 });
    const concertId = randomUUID();
    const [first, second] = await issueInOrder(queue, concertId, 2);
    await queue.expire(first!.token); // admits the second from the line: one admission
    await queue.expire(second!.token);
    expect(await queue.admitAll()).toBe(0);
    expect(await backend.sweptConcerts()).toEqual([]);

    clockMs += 30_000;
    const [, waiting] = await issueInOrder(queue, concertId, 2);

    // One admission in the last minute: ceil(1 * 60 / 1), not the capacity estimate of 300.
    expect(waiting).toMatchObject({ status: 'WAITING', position: 1, estimatedWaitSeconds: 60 });
  });

  test('when options are out of range, then creating the queue fails', () => {
    expect(() => makeQueue({ maxActive: 0 })).toThrow(RangeError);
    expect(() => makeQueue({ activeTtlSeconds: 0 })).toThrow(RangeError);
    expect(() => makeQueue({ waitingTtlSeconds: 0 })).toThrow(RangeError);
    expect(() => makeQueue({ admissionIntervalMs: 0 })).toThrow(RangeError);
  });

  test('when issue gets a concert id that is not a UUID, then it rejects', async () => {
    const queue = makeQueue();

    await expect(queue.issue('user-1', 'concert-1')).rejects.toThrow(TypeError);
    await expect(queue.issue('', randomUUID())).rejects.toThrow(TypeError);
  });
});

describe.each(BACKENDS)('token queue (%s): stats for operators', (_name, backend) => {
  test('when tokens walk in, wait and are admitted (by a lookup, by a payment), then stats count them and admit nothing', async () => {
    const queue = backend.make({ maxActive: 2, activeTtlSeconds: 10 });
    const concertId = randomUUID();
    const other = randomUUID();
    const infos = await issueInOrder(queue, concertId, 5); // 2 walk in, 3 wait
    await queue.issue('someone', other);
    const byConcert = async () => Object.fromEntries((await queue.stats()).map((s) => [s.concertId, s]));

    expect(await byConcert()).toEqual({
      [concertId]: { concertId, prequeue: 0, waiting: 3, active: 2, admittedTotal: 2 },
      [other]: { concertId: other, prequeue: 0, waiting: 0, active: 1, admittedTotal: 1 },
    });
    clockMs += 11_000; // both ACTIVE tokens are past their TTL (the waiting ones not past theirs): that is room, but stats admit nobody
    expect((await byConcert())[concertId]).toMatchObject({ waiting: 3, active: 0, admittedTotal: 2 });
    await liveInfo(queue, infos[2]!.token); // a lookup admits first: two come in
    expect((await byConcert())[concertId]).toMatchObject({ waiting: 1, active: 2, admittedTotal: 4 });
    await queue.expire(infos[2]!.token); // a payment ends one: the last one comes in
    expect((await byConcert())[concertId]).toMatchObject({ waiting: 0, active: 2, admittedTotal: 5 });
  });
});

describe.each(BACKENDS)('token queue (%s): WAITING tokens must be polled', (_name, backend) => {
  const makeQueue = backend.make;

  test('when a WAITING token is not polled for waitingTtlSeconds, then it leaves the line, is ended like a used token, and the tokens behind move up', async () => {
    const queue = makeQueue({ maxActive: 1, waitingTtlSeconds: 60 });
    const concertId = randomUUID();
    const [, silent, poller, last] = await issueInOrder(queue, concertId, 4);
    expect([silent, poller, last].map((info) => info!.position)).toEqual([1, 2, 3]);

    clockMs += 30_000;
    await liveInfo(queue, poller!.token);
    await queue.issue('user-4', concertId); // asking again is a poll too
    clockMs += 29_999;
    // A sweep (not a lookup, which would count as a poll) one millisecond before the deadline.
    await queue.admitAll();
    expect((await backend.waiting(concertId))[0]).toBe(silent!.token);

    clockMs += 1;
    expect(await liveInfo(queue, poller!.token)).toMatchObject({ status: 'WAITING', position: 1 });
    expect(await liveInfo(queue, last!.token)).toMatchObject({ status: 'WAITING', position: 2 });
    expect(await queue.lookup(silent!.token)).toEqual({ kind: 'used', userId: 'user-2', concertId });
    expect(await backend.waiting(concertId)).toEqual([poller!.token, last!.token]);
    expect((await backend.pollDeadlines(concertId))[silent!.token]).toBeUndefined();
    expect((await backend.users(concertId))['user-2']).toBeUndefined();
    // Kept for the retention period, like any ended token.
    expect(await backend.retentionLeftMs(concertId, silent!.token)).toBeGreaterThan(86_000_000);
  });

  test('when the deadline is reached exactly, then the token is expired (the deadline is the last polled instant + TTL)', async () => {
    const queue = makeQueue({ maxActive: 1, waitingTtlSeconds: 60 });
    const concertId = randomUUID();
    const [, waiting] = await issueInOrder(queue, concertId, 2);

    expect((await backend.pollDeadlines(concertId))[waiting!.token]).toBe(clockMs + 60_000);
    clockMs += 60_000;
    expect(await queue.admitAll()).toBe(0);
    expect(await backend.stateOf(concertId, waiting!.token)).toBe('USED');
  });

  test('when the user of an expired WAITING token asks again, then a new token is issued at the end of the line', async () => {
    const queue = makeQueue({ maxActive: 1, waitingTtlSeconds: 60 });
    const concertId = randomUUID();
    const [, silent, poller] = await issueInOrder(queue, concertId, 3);

    clockMs += 40_000;
    await liveInfo(queue, poller!.token);
    clockMs += 20_000;
    const again = await queue.issue('user-2', concertId);

    expect(again.created).toBe(true);
    expect(again.info.token).not.toBe(silent!.token);
    expect(again.info).toMatchObject({ status: 'WAITING', position: 2 });
    expect(await liveInfo(queue, poller!.token)).toMatchObject({ position: 1 });
  });

  test('when nobody polls and nobody asks, then the admission sweep expires the line on its own and hands the next slot to a token that polled', async () => {
    const queue = makeQueue({ maxActive: 1, waitingTtlSeconds: 60, activeTtlSeconds: 300 });
    const concertId = randomUUID();
    const [active, silent, poller] = await issueInOrder(queue, concertId, 3);

    clockMs += 59_000;
    await liveInfo(queue, poller!.token);
    clockMs += 1_000;
    expect(await queue.admitAll()).toBe(0);
    expect(await backend.waiting(concertId)).toEqual([poller!.token]);
    expect(await backend.stateOf(concertId, silent!.token)).toBe('USED');

    await queue.expire(active!.token);
    expect(await backend.stateOf(concertId, poller!.token)).toBe('ACTIVE');
    // An admitted token has no poll deadline any more: ACTIVE tokens keep their own TTL.
    expect(await backend.pollDeadlines(concertId)).toEqual({});
    clockMs += 120_000;
    expect(await liveInfo(queue, poller!.token)).toMatchObject({ status: 'ACTIVE' });
  });

  test('when the admission loop runs on the real clock, then a WAITING token nobody polls is gone within its TTL plus a sweep', async () => {
    const queue = makeQueue({ maxActive: 1, waitingTtlSeconds: 1, admissionIntervalMs: 50, now: Date.now });
    const concertId = randomUUID();
    await queue.issue('user-1', concertId);
    const { info: waiting } = await queue.issue('user-2', concertId);
    expect(waiting.status).toBe('WAITING');

    queue.start();
    // Reads through the probe: lookup() would count as a poll and keep the token alive.
    await eventually(async () => (await backend.stateOf(concertId, waiting.token)) === 'USED', { timeoutMs: 5_000 });
    await queue.stop();

    expect(await backend.waiting(concertId)).toEqual([]);
    expect(await queue.lookup(waiting.token)).toEqual({ kind: 'used', userId: 'user-2', concertId });
  });

  test('when more tokens go stale than one script expires, then admission still never admits a stale one', async () => {
    // The ACTIVE token's TTL ends when the silent tokens' deadlines pass: one admission pass
    // (the lookup below) expires them (Redis: 1,000 per script, then meets the other 3 at the head
    // of the line), and admits the poller.
    const queue = makeQueue({ maxActive: 1, waitingTtlSeconds: 60, activeTtlSeconds: 60 });
    const concertId = randomUUID();
    await issueInOrder(queue, concertId, 1);
    for (let batch = 0; batch < 1_003; batch += 100) {
      const size = Math.min(100, 1_003 - batch);
      await Promise.all(Array.from({ length: size }, (_, index) => queue.issue(`silent-${batch + index}`, concertId)));
    }
    const { info: poller } = await queue.issue('poller', concertId);
    clockMs += 30_000;
    await liveInfo(queue, poller.token);
    clockMs += 30_000;

    expect(await liveInfo(queue, poller.token)).toMatchObject({ status: 'ACTIVE' });
    expect(await backend.waiting(concertId)).toEqual([]);
    expect(await backend.pollDeadlines(concertId)).toEqual({});
    expect(Object.keys(await backend.users(concertId))).toEqual(['poller']);
  });
});

describe.each(BACKENDS)('token queue (%s): the pre-queue and the draw at the on-sale time', (_name, backend) => {
  let database: TestDatabase;
  let pool: Pool;
  let draws: QueueDrawStore;
  let catalogue: CatalogueRepository;

  beforeAll(async () => {
    database = await createTestDatabase();
    pool = new Pool({ connectionString: database.url, max: 4 });
    draws = createQueueDrawStore(pool);
    catalogue = new CatalogueRepository(pool);
  });
  afterAll(async () => {
    await pool.end();
    await database.drop();
  });

  const SECOND = 1_000;
  const makeQueue = (overrides: Partial<TokenQueueSettings> = {}) => backend.make({ draws, waitingTtlSeconds: 60, ...overrides });

  /** A concert whose sale opens `inMs` after the test clock's now. */
  async function concertOnSaleIn(inMs: number): Promise<{ concertId: string; opensAt: number }> {
    const opensAt = clockMs + inMs;
    const { concertId } = await catalogue.createConcert({
      title: 'pre-queue',
      onSaleAt: new Date(opensAt).toISOString(),
      schedules: [{ startsAt: new Date(opensAt + 86_400 * SECOND).toISOString(), seatCount: 10, price: 1_000 }],
    });
    return { concertId, opensAt };
  }

  async function preQueue(queue: TokenQueue, concertId: string, opensAt: number, count: number): Promise<string[]> {
    const tokens: string[] = [];
    for (let index = 1; index <= count; index += 1) tokens.push((await queue.issue(`user-${index}`, concertId, opensAt)).info.token);
    return tokens;
  }

  /** The line as admission sees it: ACTIVE first (in admission order, by activeUntil), then WAITING by place. */
  async function lineOrder(concertId: string): Promise<string[]> {
    return [...(await backend.active(concertId)), ...(await backend.waiting(concertId))];
  }

  test('when tokens are issued before the on-sale time, then they are WAITING with no place and the on-sale time, and nobody is admitted though the concert has room', async () => {
    const queue = makeQueue({ maxActive: 10 });
    const { concertId, opensAt } = await concertOnSaleIn(30 * SECOND);

    const issued = await Promise.all([1, 2, 3].map((n) => queue.issue(`user-${n}`, concertId, opensAt)));
    await queue.admitAll();
    const looked = await Promise.all(issued.map(({ info }) => liveInfo(queue, info.token)));

    for (const info of [...issued.map((issue) => issue.info), ...looked]) {
      expect(info).toMatchObject({ status: 'WAITING', position: null, activeUntil: null, opensAt: new Date(opensAt).toISOString() });
      expect(info.estimatedWaitSeconds).toBe(30);
    }
    expect(issued.every((issue) => issue.created)).toBe(true);
    expect(await backend.active(concertId)).toEqual([]);
    expect(await backend.waiting(concertId)).toEqual([]);
    expect((await backend.prequeued(concertId)).sort()).toEqual(issued.map(({ info }) => info.token).sort());
    expect(await backend.sweptConcerts()).toContain(concertId);
    expect(await draws.find(concertId)).toBeUndefined();
    // Asking again is the same token, still without a place.
    const again = await queue.issue('user-1', concertId, opensAt);
    expect(again).toMatchObject({ created: false, info: { token: issued[0]!.info.token, position: null } });
  });

  test('when a pre-queued token is not polled for longer than waitingTtlSeconds before the on-sale time, then it keeps its chance; its idle clock starts at the draw', async () => {
    const queue = makeQueue({ maxActive: 1, waitingTtlSeconds: 5 });
    const { concertId, opensAt } = await concertOnSaleIn(60 * SECOND);
    const tokens = await preQueue(queue, concertId, opensAt, 3);
    expect(await backend.pollDeadlines(concertId)).toEqual({});

    clockMs = opensAt - SECOND; // 59 s without a poll, far past the 5 s idle TTL
    await queue.admitAll();
    expect((await backend.prequeued(concertId)).sort()).toEqual([...tokens].sort());

    clockMs = opensAt + 2 * SECOND; // the draw comes late (no sweep ran at opensAt)
    await queue.admitAll();
    const [admitted, ...waiting] = await lineOrder(concertId);
    expect(await backend.stateOf(concertId, admitted!)).toBe('ACTIVE');
    expect(Object.values(await backend.pollDeadlines(concertId))).toEqual(waiting.map(() => clockMs + 5 * SECOND));

    // From the draw on, the idle TTL applies as to any WAITING token.
    clockMs += 5 * SECOND;
    await queue.admitAll();
    expect(await backend.waiting(concertId)).toEqual([]);
    expect(await Promise.all(waiting.map((token) => backend.stateOf(concertId, token)))).toEqual(['USED', 'USED']);
  });

  test('when the on-sale time comes, then one draw is recorded and the line is the seed\'s shuffle of the arrivals, admitted FIFO from there', async () => {
    const queue = makeQueue({ maxActive: 2 });
    const { concertId, opensAt } = await concertOnSaleIn(10 * SECOND);
    const tokens = await preQueue(queue, concertId, opensAt, 12);

    clockMs = opensAt;
    expect(await queue.admitAll()).toBe(2);

    const draw = await draws.find(concertId);
    expect(draw).toMatchObject({ concertId, onSaleAt: opensAt, count: 12 });
    expect(draw!.seed).toMatch(/^[0-9a-f]{32}$/);
    const expected = drawOrder(tokens, draw!.seed);
    expect(await backend.active(concertId)).toEqual(expect.arrayContaining(expected.slice(0, 2)));
    expect(await backend.waiting(concertId)).toEqual(expected.slice(2));
    expect(await backend.prequeued(concertId)).toEqual([]);
    const third = await liveInfo(queue, expected[2]!);
    expect(third).toMatchObject({ status: 'WAITING', position: 1 });
    expect(third.opensAt).toBeUndefined();

    // Admission goes on in the drawn order.
    await queue.expire(expected[0]!);
    expect(await backend.stateOf(concertId, expected[2]!)).toBe('ACTIVE');
    expect(await backend.waiting(concertId)).toEqual(expected.slice(3));
  });

  test('when someone arrives after the on-sale time but before any sweep, then the draw comes first and they join the end of the line', async () => {
    const queue = makeQueue({ maxActive: 1 });
    const { concertId, opensAt } = await concertOnSaleIn(10 * SECOND);
    const tokens = await preQueue(queue, concertId, opensAt, 5);

    clockMs = opensAt + SECOND;
    const late = await queue.issue('late-user', concertId, opensAt);

    const { seed } = (await draws.find(concertId))!;
    expect(late.info).toMatchObject({ status: 'WAITING', position: 5 });
    expect(late.info.opensAt).toBeUndefined();
    expect(await lineOrder(concertId)).toEqual([...drawOrder(tokens, seed), late.info.token]);
    expect((await draws.find(concertId))!.count).toBe(5);
  });

  test('when a draw of the concert is already recorded (by another instance, or before a restart), then the line follows that seed and no other draw is made', async () => {
    const queue = makeQueue({ maxActive: 1 });
    const { concertId, opensAt } = await concertOnSaleIn(10 * SECOND);
    const tokens = await preQueue(queue, concertId, opensAt, 8);
    const recorded = await draws.claim({ concertId, onSaleAt: opensAt, seed: 'recorded-before-the-restart', count: 8 });

    clockMs = opensAt;
    await queue.admitAll();

    expect(await lineOrder(concertId)).toEqual(drawOrder(tokens, 'recorded-before-the-restart'));
    expect(await draws.find(concertId)).toEqual(recorded);
    const { rows } = await pool.query('SELECT count(*)::int AS n FROM queue_draws WHERE concert_id = $1', [concertId]);
    expect(rows[0].n).toBe(1);
  });

  test('when every kind of operation comes at once at the on-sale time, then the draw is applied once and every answer agrees with it', async () => {
    const queue = makeQueue({ maxActive: 1 });
    const { concertId, opensAt } = await concertOnSaleIn(10 * SECOND);
    const tokens = await preQueue(queue, concertId, opensAt, 20);

    clockMs = opensAt;
    const [, looked, late] = await Promise.all([
      queue.admitAll(),
      Promise.all(tokens.map((token) => liveInfo(queue, token))),
      Promise.all(['late-1', 'late-2'].map((user) => queue.issue(user, concertId, opensAt))),
    ]);

    const expected = drawOrder(tokens, (await draws.find(concertId))!.seed);
    const order = await lineOrder(concertId);
    expect(order.slice(0, 20)).toEqual(expected);
    expect(order.slice(20).sort()).toEqual(late.map(({ info }) => info.token).sort());
    expect(looked.map((info) => info.position)).toEqual(tokens.map((token) => expected.indexOf(token)));
  });

  test('when the concert has no on-sale time, then nothing is drawn and the line is FIFO at once', async () => {
    const queue = makeQueue({ maxActive: 1 });
    const { concertId } = await catalogue.createConcert({
      title: 'on sale now',
      schedules: [{ startsAt: new Date(clockMs + 86_400 * SECOND).toISOString(), seatCount: 10, price: 1_000 }],
    });
    const infos = await issueInOrder(queue, concertId, 3);
    expect(infos.map((info) => [info.status, info.position])).toEqual([['ACTIVE', 0], ['WAITING', 1], ['WAITING', 2]]);
    expect(await draws.find(concertId)).toBeUndefined();
  });

  test('when the database cannot record the draw, then the operation is refused as unavailable and the pre-queue is left as it was', async () => {
    // A real pool to a port nobody listens on: every claim fails with ECONNREFUSED.
    const deadPool = new Pool({ connectionString: 'postgres://postgres@127.0.0.1:1/none', connectionTimeoutMillis: 1_000 });
    try {
      const queue = makeQueue({ draws: createQueueDrawStore(deadPool), maxActive: 5 });
      const { concertId, opensAt } = await concertOnSaleIn(10 * SECOND);
      const tokens = await preQueue(queue, concertId, opensAt, 3);

      clockMs = opensAt;
      await expect(queue.lookup(tokens[0]!)).rejects.toBeInstanceOf(QueueDrawUnavailableError);
      await expect(queue.admitAll()).rejects.toBeInstanceOf(QueueDrawUnavailableError);

      expect((await backend.prequeued(concertId)).sort()).toEqual([...tokens].sort());
      expect(await backend.active(concertId)).toEqual([]);
      expect(await draws.find(concertId)).toBeUndefined();
    } finally {
      await deadPool.end();
    }
  });

  test('when a line has no draw store, then issuing for a concert with an on-sale time fails', async () => {
    const queue = backend.make();
    await expect(queue.issue('user-1', randomUUID(), clockMs + SECOND)).rejects.toThrow(TypeError);
  });
});

describe('token queue (Redis only): two instances at the on-sale time', () => {
  test('when two instances sweep the same line at the on-sale time, then one draw is recorded and both apply the same order', async () => {
    const database = await createTestDatabase();
    const pool = new Pool({ connectionString: database.url, max: 4 });
    try {
      // Each instance records through its own store, as two servers would.
      const [first, second] = [createQueueDrawStore(pool), createQueueDrawStore(pool)].map((draws) => makeRedisQueue({ draws, maxActive: 1 }));
      const opensAt = clockMs + 5_000;
      const { concertId } = await new CatalogueRepository(pool).createConcert({
        title: 'two instances',
        onSaleAt: new Date(opensAt).toISOString(),
        schedules: [{ startsAt: new Date(opensAt + 86_400_000).toISOString(), seatCount: 10, price: 1_000 }],
      });
      const tokens: string[] = [];
      for (let index = 0; index < 30; index += 1) {
        const queue = index % 2 === 0 ? first! : second!;
        tokens.push((await queue.issue(`user-${index}`, concertId, opensAt)).info.token);
      }

      clockMs = opensAt;
      await Promise.all([first!.admitAll(), second!.admitAll(), first!.admitAll(), second!.admitAll()]);

      const { rows } = await pool.query('SELECT seed, arrivals FROM queue_draws WHERE concert_id = $1', [concertId]);
      expect(rows).toHaveLength(1);
      expect(rows[0].arrivals).toBe(30);
      const line = [...(await redisBackend.active(concertId)), ...(await redisBackend.waiting(concertId))];
      expect(line).toEqual(drawOrder(tokens, rows[0].seed));
    } finally {
      await pool.end();
      await database.drop();
    }
  });
});

describe('token queue (Redis only): the key layout', () => {
  const makeQueue = makeRedisQueue;

  test('when a token is issued, then its concert keys carry the concert hash tag and the concert is registered', async () => {
    const queue = makeQueue({ maxActive: 1 });
    const concertId = randomUUID();

    const { info: active } = await queue.issue('user-1', concertId);
    const { info: waiting } = await queue.issue('user-2', concertId);

    const base = concertBase(concertId);
    expect(await redis.zscore(`${base}active`, active.token)).toBe(String(clockMs + 300_000));
    expect(await redis.zrange(`${base}waiting`, 0, -1)).toEqual([waiting.token]);
    expect(await redis.hgetall(`${base}users`)).toEqual({ 'user-1': active.token, 'user-2': waiting.token });
    expect(await redis.hgetall(tokenKeyOf(concertId, waiting.token))).toEqual({
      userId: 'user-2',
      state: 'WAITING',
      activeUntil: '',
    });
    expect(await redis.smembers(`${keyPrefix}q:concerts`)).toEqual([concertId]);
  });

  test('when a concert drains, then the sweep deletes its sequence counter (numbering restarts without breaking FIFO)', async () => {
    const queue = makeQueue({ maxActive: 1 });
    const concertId = randomUUID();
    const [first, second] = await issueInOrder(queue, concertId, 2);
    expect(await redis.exists(`${concertBase(concertId)}seq`)).toBe(1);

    await queue.expire(first!.token);
    await queue.expire(second!.token);
    await queue.admitAll();

    expect(await redis.exists(`${concertBase(concertId)}seq`)).toBe(0);
  });

  test('when a token is malformed, then lookup reports it invalid without touching Redis', async () => {
    // Any command on this client fails at once, so a resolved lookup proves Redis was not used.
    const offlineRedis = new Redis(REDIS_URL, { lazyConnect: true, enableOfflineQueue: false });
    try {
      const queue = makeQueue({ redis: offlineRedis });
      await expect(offlineRedis.get('anything')).rejects.toThrow();
      for (const token of malformedTokens(randomUUID())) {
        expect(await queue.lookup(token)).toEqual({ kind: 'invalid' });
        await expect(queue.expire(token)).resolves.toBeUndefined();
      }
    } finally {
      offlineRedis.disconnect();
    }
  });
});

describe('token queue (Redis only): a WAITING token that lost its place in the waiting ZSET', () => {
  // A partial state of the Redis layout (the token HASH says WAITING, the ZSET has no entry),
  // made by deleting keys behind the scripts' back. The in-process line keeps a WAITING token in
  // one Map, so it has no such state to heal.
  const makeQueue = makeRedisQueue;
  const waitingKey = (concertId: string) => `${concertBase(concertId)}waiting`;

  test('when its entry is deleted from the ZSET, then lookup puts it back at the end of the line instead of failing', async () => {
    const queue = makeQueue({ maxActive: 1 });
    const concertId = randomUUID();
    const [, lost, second, third] = await issueInOrder(queue, concertId, 4);
    expect(await redis.zrem(waitingKey(concertId), lost!.token)).toBe(1);

    expect(await liveInfo(queue, lost!.token)).toMatchObject({ token: lost!.token, status: 'WAITING', position: 3 });
    expect(await liveInfo(queue, second!.token)).toMatchObject({ position: 1 });
    expect(await liveInfo(queue, third!.token)).toMatchObject({ position: 2 });
    expect(await redis.zrange(waitingKey(concertId), 0, -1)).toEqual([second!.token, third!.token, lost!.token]);
  });

  test('when its entry is deleted from the ZSET, then issue for its user returns the same token at the end of the line', async () => {
    const queue = makeQueue({ maxActive: 1 });
    const concertId = randomUUID();
    const [, lost] = await issueInOrder(queue, concertId, 3);
    await redis.zrem(waitingKey(concertId), lost!.token);

    const again = await queue.issue('user-2', concertId);

    expect(again.created).toBe(false);
    expect(again.info).toMatchObject({ token: lost!.token, status: 'WAITING', position: 2 });
  });

  test('when it was the only one waiting and the concert has room, then the lookup that puts it back admits it', async () => {
    const queue = makeQueue({ maxActive: 1 });
    const concertId = randomUUID();
    const [active, lost] = await issueInOrder(queue, concertId, 2);
    await redis.zrem(waitingKey(concertId), lost!.token);
    await queue.expire(active!.token);
    // Its poll deadline keeps the concert in the registry, so the sweep keeps visiting it.
    await queue.admitAll();
    expect(await redis.smembers(`${keyPrefix}q:concerts`)).toEqual([concertId]);

    expect(await liveInfo(queue, lost!.token)).toMatchObject({ status: 'ACTIVE', position: 0 });
  });

  test('when its poll deadline was lost too, then the lookup re-queues it with a fresh deadline', async () => {
    const queue = makeQueue({ maxActive: 1, waitingTtlSeconds: 60 });
    const concertId = randomUUID();
    const [, lost] = await issueInOrder(queue, concertId, 2);
    await redis.del(waitingKey(concertId), `${concertBase(concertId)}poll-deadlines`);
    await queue.admitAll(); // the concert looks drained: dropped from the registry

    clockMs += 30_000;
    expect(await liveInfo(queue, lost!.token)).toMatchObject({ status: 'WAITING', position: 1 });
    expect(await redis.zscore(`${concertBase(concertId)}poll-deadlines`, lost!.token)).toBe(String(clockMs + 60_000));
    expect(await redis.smembers(`${keyPrefix}q:concerts`)).toEqual([concertId]);
  });

  test('when it lost its place and then was not polled in time, then it is expired, not re-queued', async () => {
    const queue = makeQueue({ maxActive: 1, waitingTtlSeconds: 60 });
    const concertId = randomUUID();
    const [, lost] = await issueInOrder(queue, concertId, 2);
    await redis.zrem(waitingKey(concertId), lost!.token);

    clockMs += 60_000;
    expect(await queue.lookup(lost!.token)).toEqual({ kind: 'used', userId: 'user-2', concertId });
    expect(await redis.zcard(waitingKey(concertId))).toBe(0);
  });
});

describe('token queue (memory only): what the in-process line keeps is bounded', () => {
  test('when every token of a concert has ended, then its line is dropped once the wait estimate no longer counts its admissions', async () => {
    const queue = makeMemoryQueue({ maxActive: 1 });
    const concertId = randomUUID();
    const [first, second] = await issueInOrder(queue, concertId, 2);
    await queue.expire(first!.token);
    await queue.expire(second!.token);

    await queue.admitAll();
    expect(Object.keys(queue.inspect().concerts)).toEqual([concertId]); // one admission in the last minute
    clockMs += 60_001;
    await queue.admitAll();

    expect(queue.inspect().concerts).toEqual({});
    expect(await queue.lookup(second!.token)).toEqual({ kind: 'used', userId: 'user-2', concertId });
  });

  test('when a concert never had anyone admitted from its line, then it is dropped as soon as its last token ends', async () => {
    const queue = makeMemoryQueue();
    const concertId = randomUUID();
    const { info } = await queue.issue('user-1', concertId);

    await queue.expire(info.token);

    expect(queue.inspect().concerts).toEqual({});
  });

  test('when the retention period passes, then ended tokens are purged by the next operation on any concert', async () => {
    const queue = makeMemoryQueue({ maxActive: 1, usedTokenRetentionSeconds: 60 });
    const concertId = randomUUID();
    const infos = await issueInOrder(queue, concertId, 3);
    for (const info of infos) await queue.expire(info.token);
    expect(queue.inspect().retired.map((entry) => entry.token)).toEqual(infos.map((info) => info.token));

    clockMs += 59_999;
    await queue.admitAll();
    expect(queue.inspect().retired).toHaveLength(3);
    clockMs += 1;
    await queue.lookup(`${randomUUID()}.${randomBytes(16).toString('base64url')}`);

    expect(queue.inspect().retired).toEqual([]);
    expect(await queue.lookup(infos[0]!.token)).toEqual({ kind: 'invalid' });
  });

  test('when 10,000 users come and go through one line, then nothing of them is left after the retention period', async () => {
    const queue = makeMemoryQueue({ maxActive: 100, usedTokenRetentionSeconds: 60, waitingTtlSeconds: 3_600 });
    const concertId = randomUUID();
    const infos = await Promise.all(Array.from({ length: 10_000 }, (_, index) => queue.issue(`user-${index}`, concertId)));
    expect(infos.at(-1)!.info).toMatchObject({ status: 'WAITING', position: 9_900 });
    for (const { info } of infos) await queue.expire(info.token);
    expect(queue.inspect().retired).toHaveLength(10_000);

    clockMs += 120_000;
    await queue.admitAll();

    expect(queue.inspect()).toEqual({ concerts: {}, retired: [] });
  });
});
