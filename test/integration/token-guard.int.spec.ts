import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { createTokenQueue, type TokenQueue } from '../../src/queue/token-queue';
import { TokenGuard } from '../../src/services/token-guard';

describe('token guard: the short-lived memory of ACTIVE tokens', () => {
  const redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
  const keyPrefix = `test:${randomUUID()}:`;
  let clock = Date.now();
  let queue: TokenQueue;
  beforeAll(() => {
    queue = createTokenQueue({ redis, keyPrefix, maxActive: 10, activeTtlSeconds: 60 });
  });
  afterAll(async () => {
    const keys = await redis.keys(`${keyPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('when a token is used elsewhere, then it is honoured at most cacheMs longer here', async () => {
    const guard = new TokenGuard(queue, 1_000, () => clock);
    const { info } = await queue.issue(randomUUID(), randomUUID());
    expect((await guard.resolve(info.token)).lookup.kind).toBe('live');

    await queue.expire(info.token); // another instance took the payment
    clock += 999;
    expect((await guard.resolve(info.token)).lookup.kind).toBe('live');
    clock += 1;
    expect((await guard.resolve(info.token)).lookup.kind).toBe('used');
    expect((await guard.exact(info.token)).lookup.kind).toBe('used');
  });

  it('when a payment here forgets the token, then the next request sees it used at once', async () => {
    const guard = new TokenGuard(queue, 60_000, () => clock);
    const { info } = await queue.issue(randomUUID(), randomUUID());
    await guard.resolve(info.token);
    guard.forget(info.token);
    await queue.expire(info.token);
    expect((await guard.resolve(info.token)).lookup.kind).toBe('used');
  });

  it('when the cache is off, then every answer comes from Redis', async () => {
    const guard = new TokenGuard(queue, 0, () => clock);
    const { info } = await queue.issue(randomUUID(), randomUUID());
    await guard.resolve(info.token);
    await queue.expire(info.token);
    expect((await guard.resolve(info.token)).lookup.kind).toBe('used');
  });
});
