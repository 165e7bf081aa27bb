import { randomBytes, randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { createTokenQueue, type TokenInfo, type TokenQueue, type TokenQueueOptions } from '../../src/queue/token-queue';
import { eventually } from '../support/eventually';

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

function makeQueue(overrides: Partial<TokenQueueOptions> = {}): TokenQueue {
  const queue = createTokenQueue({
    redis,
    keyPrefix,
    maxActive: 2,
    activeTtlSeconds: 300,
    now: () => clockMs,
    ...overrides,
  });
  startedQueues.push(queue);
  return queue;
}

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

function tokenKeyOf(concertId: string, token: string): string {
  return `${keyPrefix}q:{${concertId}}:t:${token}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('token queue (Redis)', () => {
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

  test('when a token is issued, then its concert keys carry the concert hash tag and the concert is registered', async () => {
    const queue = makeQueue({ maxActive: 1 });
    const concertId = randomUUID();

    const { info: active } = await queue.issue('user-1', concertId);
    const { info: waiting } = await queue.issue('user-2', concertId);

    const base = `${keyPrefix}q:{${concertId}}:`;
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
    const base = `${keyPrefix}q:{${concertId}}:`;
    expect(await redis.zcard(`${base}active`)).toBe(1);
    expect(await redis.zcard(`${base}waiting`)).toBe(0);
    const tokenKeys = await redis.keys(`${base}t:*`);
    expect(tokenKeys).toHaveLength(1);
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
    const retentionMs = await redis.pttl(tokenKeyOf(concertId, first!.token));
    expect(retentionMs).toBeGreaterThan(0);
    expect(retentionMs).toBeLessThanOrEqual(60_000);
  });

  test('when the retention period of a used token has passed, then lookup reports it invalid', async () => {
    const queue = makeQueue({ activeTtlSeconds: 1, usedTokenRetentionSeconds: 1, now: Date.now });
    const concertId = randomUUID();
    const { info } = await queue.issue('user-1', concertId);

    await queue.expire(info.token);
    expect(await queue.lookup(info.token)).toEqual({ kind: 'used', userId: 'user-1', concertId });

    await sleep(1_100);
    expect(await queue.lookup(info.token)).toEqual({ kind: 'invalid' });
    expect(await redis.exists(tokenKeyOf(concertId, info.token))).toBe(0);
  });

  test('when a token was used, then by default it still resolves to its user a day later (payment replays)', async () => {
    const queue = makeQueue({ activeTtlSeconds: 60 });
    const concertId = randomUUID();
    const { info } = await queue.issue('user-1', concertId);
    await queue.expire(info.token);
    const retentionMs = await redis.pttl(tokenKeyOf(concertId, info.token));
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
    // Reads the token's state directly: lookup() would admit by itself and hide the loop's work.
    let admittedAt: number | null = null;
    while (admittedAt === null && Date.now() < slotFreesAt + 3_000) {
      const state = await redis.hget(tokenKeyOf(concertId, waiting.token), 'state');
      if (state === 'ACTIVE') admittedAt = Date.now();
      else await sleep(20);
    }
    await queue.stop();

    expect(admittedAt).not.toBeNull();
    expect(admittedAt! - slotFreesAt).toBeLessThan(1_000);
    expect(await redis.hget(tokenKeyOf(concertId, active.token), 'state')).toBe('USED');
  });

  test('when admitAll sweeps, then it reports the admissions and drops drained concerts from the registry', async () => {
    // The clock jumps minutes with nobody polling: a long waiting TTL keeps the line in place.
    const queue = makeQueue({ maxActive: 1, activeTtlSeconds: 60, waitingTtlSeconds: 3_600 });
    const concertA = randomUUID();
    const concertB = randomUUID();
    await issueInOrder(queue, concertA, 3);
    await issueInOrder(queue, concertB, 2);
    const registryKey = `${keyPrefix}q:concerts`;

    expect(await queue.admitAll()).toBe(0);

    clockMs += 60_000;
    expect(await queue.admitAll()).toBe(2);
    clockMs += 60_000;
    expect(await queue.admitAll()).toBe(1);
    expect(await redis.smembers(registryKey)).toEqual([concertA]);
    clockMs += 60_000;
    expect(await queue.admitAll()).toBe(0);
    expect(await redis.smembers(registryKey)).toEqual([]);
    expect(await redis.exists(`${keyPrefix}q:{${concertA}}:seq`, `${keyPrefix}q:{${concertB}}:seq`)).toBe(0);
  });

  test('when a token has the right shape but an unknown random part, then lookup reports it invalid', async () => {
    const queue = makeQueue();
    const concertId = randomUUID();
    const { info } = await queue.issue('user-1', concertId);
    const forged = `${concertId}.${randomBytes(16).toString('base64url')}`;

    expect(TOKEN_SHAPE.test(forged)).toBe(true);
    expect(await queue.lookup(forged)).toEqual({ kind: 'invalid' });
    await queue.expire(forged);
    expect(await redis.exists(tokenKeyOf(concertId, forged))).toBe(0);
    expect(await liveInfo(queue, info.token)).toMatchObject({ status: 'ACTIVE' });
  });

  test('when a token is malformed, then lookup reports it invalid without touching Redis', async () => {
    // Any command on this client fails at once, so a resolved lookup proves Redis was not used.
    const offlineRedis = new Redis(REDIS_URL, { lazyConnect: true, enableOfflineQueue: false });
    try {
      const queue = makeQueue({ redis: offlineRedis });
      await expect(offlineRedis.get('anything')).rejects.toThrow();
      const concertId = randomUUID();
      const random = randomBytes(16).toString('base64url');
      const malformed = [
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

      for (const token of malformed) {
        expect(await queue.lookup(token)).toEqual({ kind: 'invalid' });
        await expect(queue.expire(token)).resolves.toBeUndefined();
      }
    } finally {
      offlineRedis.disconnect();
    }
  });

  test("when concert A's token is presented under concert B's id, then it is invalid and B's keys hold nothing of it", async () => {
    const queue = makeQueue();
    const concertA = randomUUID();
    const concertB = randomUUID();
    const { info: tokenOfA } = await queue.issue('user-1', concertA);
    const { info: tokenOfB } = await queue.issue('user-2', concertB);
    const randomPartOfA = tokenOfA.token.slice(concertA.length + 1);

    expect(await queue.lookup(`${concertB}.${randomPartOfA}`)).toEqual({ kind: 'invalid' });

    const baseB = `${keyPrefix}q:{${concertB}}:`;
    expect(await redis.zrange(`${baseB}active`, 0, -1)).toEqual([tokenOfB.token]);
    expect(await redis.hgetall(`${baseB}users`)).toEqual({ 'user-2': tokenOfB.token });
    expect(await redis.keys(`${baseB}t:*`)).toEqual([tokenKeyOf(concertB, tokenOfB.token)]);
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
    expect(await redis.hget(`${keyPrefix}q:{${concertId}}:users`, 'user-1')).toBeNull();
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

  test('when options are out of range, then creating the queue fails', () => {
    expect(() => makeQueue({ maxActive: 0 })).toThrow(RangeError);
    expect(() => makeQueue({ activeTtlSeconds: 0 })).toThrow(RangeError);
  });

  test('when issue gets a concert id that is not a UUID, then it rejects', async () => {
    const queue = makeQueue();

    await expect(queue.issue('user-1', 'concert-1')).rejects.toThrow(TypeError);
    await expect(queue.issue('', randomUUID())).rejects.toThrow(TypeError);
  });
});

describe('token queue (Redis): WAITING tokens must be polled', () => {
  const base = (concertId: string) => `${keyPrefix}q:{${concertId}}:`;

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
    expect(await redis.zrange(`${base(concertId)}waiting`, 0, 0)).toEqual([silent!.token]);

    clockMs += 1;
    expect(await liveInfo(queue, poller!.token)).toMatchObject({ status: 'WAITING', position: 1 });
    expect(await liveInfo(queue, last!.token)).toMatchObject({ status: 'WAITING', position: 2 });
    expect(await queue.lookup(silent!.token)).toEqual({ kind: 'used', userId: 'user-2', concertId });
    expect(await redis.zrange(`${base(concertId)}waiting`, 0, -1)).toEqual([poller!.token, last!.token]);
    expect(await redis.zscore(`${base(concertId)}poll-deadlines`, silent!.token)).toBeNull();
    expect(await redis.hget(`${base(concertId)}users`, 'user-2')).toBeNull();
    // Kept for the retention period, like any ended token.
    expect(await redis.pttl(tokenKeyOf(concertId, silent!.token))).toBeGreaterThan(86_000_000);
  });

  test('when the deadline is reached exactly, then the token is expired (the deadline is the last polled instant + TTL)', async () => {
    const queue = makeQueue({ maxActive: 1, waitingTtlSeconds: 60 });
    const concertId = randomUUID();
    const [, waiting] = await issueInOrder(queue, concertId, 2);

    expect(await redis.zscore(`${base(concertId)}poll-deadlines`, waiting!.token)).toBe(String(clockMs + 60_000));
    clockMs += 60_000;
    expect(await queue.admitAll()).toBe(0);
    expect(await redis.hget(tokenKeyOf(concertId, waiting!.token), 'state')).toBe('USED');
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
    expect(await redis.zrange(`${base(concertId)}waiting`, 0, -1)).toEqual([poller!.token]);
    expect(await redis.hget(tokenKeyOf(concertId, silent!.token), 'state')).toBe('USED');

    await queue.expire(active!.token);
    expect(await redis.hget(tokenKeyOf(concertId, poller!.token), 'state')).toBe('ACTIVE');
    // An admitted token has no poll deadline any more: ACTIVE tokens keep their own TTL.
    expect(await redis.zcard(`${base(concertId)}poll-deadlines`)).toBe(0);
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
    // Reads Redis directly: lookup() would count as a poll and keep the token alive.
    await eventually(async () => (await redis.hget(tokenKeyOf(concertId, waiting.token), 'state')) === 'USED', { timeoutMs: 5_000 });
    await queue.stop();

    expect(await redis.zcard(`${base(concertId)}waiting`)).toBe(0);
    expect(await queue.lookup(waiting.token)).toEqual({ kind: 'used', userId: 'user-2', concertId });
  });

  test('when more tokens go stale than one script expires, then admission still never admits a stale one', async () => {
    // The ACTIVE token's TTL ends when the silent tokens' deadlines pass: one admission pass
    // (the lookup below) expires 1,000 of them, then meets the other 3 at the head of the line.
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
    expect(await redis.zcard(`${base(concertId)}waiting`)).toBe(0);
    expect(await redis.zcard(`${base(concertId)}poll-deadlines`)).toBe(0);
    expect(await redis.hlen(`${base(concertId)}users`)).toBe(1);
  });
});

describe('token queue (Redis): a WAITING token that lost its place in the waiting ZSET', () => {
  const waitingKey = (concertId: string) => `${keyPrefix}q:{${concertId}}:waiting`;

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
    await redis.del(waitingKey(concertId), `${keyPrefix}q:{${concertId}}:poll-deadlines`);
    await queue.admitAll(); // the concert looks drained: dropped from the registry

    clockMs += 30_000;
    expect(await liveInfo(queue, lost!.token)).toMatchObject({ status: 'WAITING', position: 1 });
    expect(await redis.zscore(`${keyPrefix}q:{${concertId}}:poll-deadlines`, lost!.token)).toBe(String(clockMs + 60_000));
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
