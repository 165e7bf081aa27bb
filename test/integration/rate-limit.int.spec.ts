/**
 * 429 RATE_LIMITED with Retry-After (api.md, "Errors and outcomes"): token issue per user and per
 * client address, holds per token — counted in the real Redis, shared by every instance, failing
 * open when Redis cannot answer. Limits here are tight on purpose; every other suite runs with
 * limits nobody reaches (test/support/rate-limits.ts).
 */
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import Redis from 'ioredis';
import { loadConfig } from '../../src/config';
import { clientAddress } from '../../src/http/rate-limit';
import { createMemoryRateLimiter } from '../../src/queue/memory-rate-limiter';
import { createRateLimiter, rateLimitKey, type RateLimiter, type RateRule } from '../../src/queue/rate-limiter';
import { act, activeUser, createConcert, holdRequest, type Request, type Response } from '../support/api-client';
import { eventually } from '../support/eventually';
import { startPrivateRedis, type PrivateRedis } from '../support/private-redis';
import { startTestApp, type TestApp } from '../support/test-app';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const WINDOW_SECONDS = 2;

function issueRequest(userId: string, concertId: string): Request {
  return { method: 'POST', url: '/v1/queue/tokens', body: { userId, concertId } };
}

function expectRateLimited(response: Response, detail: string): void {
  expect(response.status).toBe(429);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
  expect(response.body.detail).toContain(detail);
  const retryAfter = Number(response.headers['retry-after']);
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(WINDOW_SECONDS);
}

describe('rate limits over HTTP (tight limits)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      RATE_LIMIT_WINDOW_SECONDS: String(WINDOW_SECONDS),
      RATE_LIMIT_TOKEN_ISSUE_PER_USER: '3',
      RATE_LIMIT_TOKEN_ISSUE_PER_IP: '5',
      RATE_LIMIT_HOLDS_PER_TOKEN: '3',
      MAX_SEATS_PER_HOLD: '10',
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Each test gets an address of its own, so per-address counts never leak between tests. */
  let addressCounter = 0;
  const nextAddress = () => `198.51.100.${++addressCounter}`;
  const from = (address: string, request: Request): Promise<Response> =>
    t.app
      .inject({ method: request.method, url: request.url, payload: request.body as object | undefined, headers: request.headers, remoteAddress: address })
      .then((r) => ({ status: r.statusCode, body: r.body === '' ? undefined : JSON.parse(r.body), headers: r.headers }));

  it('when a user asks for a token more often than RATE_LIMIT_TOKEN_ISSUE_PER_USER in a window, then 429 RATE_LIMITED with Retry-After, and the window ending lets it through again', async () => {
    const { concertId } = await createConcert(t.app);
    const address = nextAddress();
    const userId = randomUUID();

    const allowed = [];
    for (let i = 0; i < 3; i++) allowed.push(await from(address, issueRequest(userId, concertId)));
    const refused = await from(address, issueRequest(userId, concertId));

    expect(allowed.map((r) => r.status)).toEqual([201, 200, 200]);
    expectRateLimited(refused, `at most 3 token requests per user every ${WINDOW_SECONDS} s`);
    // Another user from the same address is not affected by this user's limit.
    expect((await from(address, issueRequest(randomUUID(), concertId))).status).toBe(201);
    // Polling is not limited, and it is how a WAITING token keeps its place.
    const token = allowed[0]!.body.token as string;
    for (let i = 0; i < 10; i++) {
      expect((await act(t.app, { method: 'GET', url: '/v1/queue/tokens/current', headers: { 'queue-token': token } })).status).toBe(200);
    }
    await eventually(async () => (await from(nextAddress(), issueRequest(userId, concertId))).status === 200, { intervalMs: 250 });
  });

  it('when one client address asks for tokens for more users than RATE_LIMIT_TOKEN_ISSUE_PER_IP in a window, then 429 for that address only', async () => {
    const { concertId } = await createConcert(t.app);
    const crowded = nextAddress();

    const allowed = [];
    for (let i = 0; i < 5; i++) allowed.push(await from(crowded, issueRequest(randomUUID(), concertId)));
    const refused = await from(crowded, issueRequest(randomUUID(), concertId));

    expect(allowed.every((r) => r.status === 201)).toBe(true);
    expectRateLimited(refused, `at most 5 token requests per client address every ${WINDOW_SECONDS} s`);
    expect((await from(nextAddress(), issueRequest(randomUUID(), concertId))).status).toBe(201);
  });

  it('when IPv6 clients share a /64, then they share one per-address count; another /64 has its own', async () => {
    const { concertId } = await createConcert(t.app);
    const prefix = `2001:db8:${(++addressCounter).toString(16)}:1`;
    for (let i = 1; i <= 5; i++) expect((await from(`${prefix}::${i}`, issueRequest(randomUUID(), concertId))).status).toBe(201);

    expect((await from(`${prefix}:ffff:ffff:ffff:ffff`, issueRequest(randomUUID(), concertId))).status).toBe(429);
    expect((await from(`${prefix.replace(/:1$/, ':2')}::1`, issueRequest(randomUUID(), concertId))).status).toBe(201);
  });

  it('when a token holds more often than RATE_LIMIT_HOLDS_PER_TOKEN in a window, then 429 RATE_LIMITED (nothing held), other tokens and cancels are not affected', async () => {
    const { concertId, schedules } = await createConcert(t.app);
    const scheduleId = schedules[0]!.scheduleId;
    const buyer = await activeUser(t.app, concertId);
    const other = await activeUser(t.app, concertId);

    const answers = [];
    for (const seatNo of [1, 2, 1]) answers.push(await act(t.app, holdRequest(buyer.token, scheduleId, [seatNo])));
    const refused = await act(t.app, holdRequest(buyer.token, scheduleId, [3]));

    // Every hold counts, refused ones (409) too.
    expect(answers.map((r) => r.status)).toEqual([201, 201, 409]);
    expectRateLimited(refused, `at most 3 holds per queue token every ${WINDOW_SECONDS} s`);
    const seats = await act(t.app, { method: 'GET', url: `/v1/schedules/${scheduleId}/seats` });
    expect(seats.body.seats.find((seat: { seatNo: number }) => seat.seatNo === 3).status).toBe('AVAILABLE');

    expect((await act(t.app, holdRequest(other.token, scheduleId, [3]))).status).toBe(201);
    const cancel = await act(t.app, { method: 'DELETE', url: `/v1/reservations/${answers[0]!.body.reservationId}`, headers: { 'queue-token': buyer.token } });
    expect(cancel.status).toBe(200);
    // A request without a token is 401, not counted and not 429.
    const { headers: _ignored, ...noToken } = holdRequest(buyer.token, scheduleId, [4]);
    expect((await act(t.app, noToken)).status).toBe(401);

    await eventually(async () => (await act(t.app, holdRequest(buyer.token, scheduleId, [4]))).status === 201, { intervalMs: 250 });
  });
});

describe('rate limits when Redis is down or hung (they fail open)', () => {
  let redis: PrivateRedis;
  let t: TestApp | undefined;
  beforeAll(async () => {
    redis = await startPrivateRedis();
  });
  afterEach(async () => {
    if (redis.pid !== undefined) {
      try {
        process.kill(redis.pid, 'SIGCONT');
      } catch {
        // not stopped
      }
    }
    await t?.close();
    t = undefined;
  });
  afterAll(async () => {
    await redis?.remove();
  });

  const startOnPrivateRedis = () =>
    startTestApp({
      REDIS_URL: redis.url,
      QUEUE_TOKEN_CACHE_MS: '60000',
      RATE_LIMIT_HOLDS_PER_TOKEN: '1000',
      RATE_LIMIT_TOKEN_ISSUE_PER_USER: '10',
      RATE_LIMIT_TOKEN_ISSUE_PER_IP: '1000',
    });

  it('when Redis is stopped, then holds with a cached ACTIVE token still succeed and token issue answers 503, not 429 or 500', async () => {
    if (!redis.running) await redis.start();
    t = await startOnPrivateRedis();
    const { concertId, schedules } = await createConcert(t.app);
    const scheduleId = schedules[0]!.scheduleId;
    const buyer = await activeUser(t.app, concertId);
    expect((await act(t.app, holdRequest(buyer.token, scheduleId, [1]))).status).toBe(201); // caches the token

    await redis.stop();

    expect((await act(t.app, holdRequest(buyer.token, scheduleId, [2]))).status).toBe(201);
    const issue = await act(t.app, issueRequest(randomUUID(), concertId));
    expect(issue.status).toBe(503);
    expect(issue.body.code).toBe('SERVICE_UNAVAILABLE');
    await redis.start();
  });

  it('when Redis hangs (SIGSTOP), then a hold with a cached ACTIVE token is answered in well under the Redis command timeout', async () => {
    if (!redis.running) await redis.start();
    t = await startOnPrivateRedis();
    const { concertId, schedules } = await createConcert(t.app);
    const scheduleId = schedules[0]!.scheduleId;
    const buyer = await activeUser(t.app, concertId);
    expect((await act(t.app, holdRequest(buyer.token, scheduleId, [1]))).status).toBe(201);

    process.kill(redis.pid!, 'SIGSTOP');
    const started = Date.now();
    const held = await act(t.app, holdRequest(buyer.token, scheduleId, [2]));
    const elapsedMs = Date.now() - started;
    process.kill(redis.pid!, 'SIGCONT');

    expect(held.status).toBe(201);
    // The limiter gives up after 250 ms; ioredis' own command timeout is 2 s.
    expect(elapsedMs).toBeLessThan(1_500);
  });
});

/** Both counters behind the RateLimiter port: Redis (shared by instances) and embedded mode's in-process one. */
const counterRedis = new Redis(REDIS_URL, { lazyConnect: true });
const counterPrefix = `test:${randomUUID()}:`;
afterAll(async () => {
  if (counterRedis.status === 'ready') {
    const keys = await counterRedis.keys(`${counterPrefix}*`);
    if (keys.length > 0) await counterRedis.del(...keys);
  }
  counterRedis.disconnect();
});

const LIMITERS: [string, () => RateLimiter][] = [
  ['redis', () => createRateLimiter({ redis: counterRedis, keyPrefix: counterPrefix })],
  ['memory', () => createMemoryRateLimiter()],
];

describe.each(LIMITERS)('rate limiter (%s counters)', (_name, makeLimiter) => {
  it('when a subject goes over the limit in a window, then it is refused until the window ends; every request counts, other subjects and rules count apart', async () => {
    const limiter = makeLimiter();
    const rule: RateRule = { name: `fixed-${randomUUID()}`, limit: 3, windowMs: 1_000 };
    const other: RateRule = { ...rule, name: `other-${randomUUID()}` };

    const decisions = [];
    for (let i = 0; i < 5; i++) decisions.push(await limiter.take(rule, 'subject-1'));

    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false, false]);
    expect(decisions[0]).toEqual({ allowed: true, checked: true });
    expect(decisions[3]).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect(await limiter.take(rule, 'subject-2')).toEqual({ allowed: true, checked: true });
    expect(await limiter.take(other, 'subject-1')).toEqual({ allowed: true, checked: true });
    // The window started with the first request; once it ends, a new one starts with a count of 1.
    await eventually(async () => (await limiter.take(rule, 'subject-1')).allowed, { timeoutMs: 3_000, intervalMs: 100 });
    expect((await limiter.take(rule, 'subject-1')).allowed).toBe(true);
  });

  it('when a window is long, then Retry-After is the whole seconds left of it, rounded up', async () => {
    const limiter = makeLimiter();
    const rule: RateRule = { name: `long-${randomUUID()}`, limit: 1, windowMs: 10_000 };

    await limiter.take(rule, 's');

    expect(await limiter.take(rule, 's')).toEqual({ allowed: false, retryAfterSeconds: 10 });
  });

  it('when a limit is 0, then it is off and nothing is counted', async () => {
    const limiter = makeLimiter();
    const rule: RateRule = { name: `off-${randomUUID()}`, limit: 0, windowMs: 1_000 };
    for (let i = 0; i < 3; i++) expect(await limiter.take(rule, 's')).toEqual({ allowed: true, checked: false });
  });
});

describe('rate limiter (memory counters): the window on an injected clock', () => {
  it('when the clock reaches the end of the window, then the count starts again, and Retry-After counts down to it', async () => {
    let now = Date.UTC(2030, 0, 1);
    const limiter = createMemoryRateLimiter({ now: () => now });
    const rule: RateRule = { name: 'clock', limit: 1, windowMs: 10_000 };

    expect(await limiter.take(rule, 's')).toMatchObject({ allowed: true });
    now += 8_500;
    expect(await limiter.take(rule, 's')).toEqual({ allowed: false, retryAfterSeconds: 2 });
    now += 1_499;
    expect(await limiter.take(rule, 's')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    now += 1;
    expect(await limiter.take(rule, 's')).toEqual({ allowed: true, checked: true });
    expect(await limiter.take(rule, 's')).toEqual({ allowed: false, retryAfterSeconds: 10 });
  });
});

describe('rate limiter (Redis counters only): shared keys and failing open', () => {
  // Two clients stand for two instances; key names and TTLs are the Redis layout; the in-process
  // counters cannot be unreachable, so failing open is Redis's alone.
  const redis = new Redis(REDIS_URL);
  const keyPrefix = `test:${randomUUID()}:`;
  afterAll(async () => {
    const keys = await redis.keys(`${keyPrefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('when two instances count the same subject, then the limit holds across them', async () => {
    const other = new Redis(REDIS_URL);
    try {
      const a = createRateLimiter({ redis, keyPrefix });
      const b = createRateLimiter({ redis: other, keyPrefix });
      const rule: RateRule = { name: 'shared', limit: 4, windowMs: 10_000 };

      const decisions = [];
      for (const limiter of [a, b, a, b, a]) decisions.push(await limiter.take(rule, 'subject-1'));

      expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, true, false]);
      expect(decisions[4]).toMatchObject({ allowed: false, retryAfterSeconds: 10 });
      expect(await b.take(rule, 'subject-2')).toMatchObject({ allowed: true, checked: true });
      // One key per subject, hash-tagged by the subject, expiring with its window.
      const ttl = await redis.pttl(rateLimitKey(keyPrefix, rule, 'subject-1'));
      expect(ttl).toBeGreaterThan(9_000);
      expect(ttl).toBeLessThanOrEqual(10_000);
      expect(rateLimitKey(keyPrefix, rule, 'subject-1')).toBe(`${keyPrefix}rl:shared:{subject-1}`);
    } finally {
      await other.quit();
    }
  });

  it('when a limit is 0, then it is off and Redis is not asked', async () => {
    const offline = new Redis(REDIS_URL, { lazyConnect: true, enableOfflineQueue: false });
    const limiter = createRateLimiter({ redis: offline, keyPrefix });
    expect(await limiter.take({ name: 'off', limit: 0, windowMs: 1_000 }, 's')).toEqual({ allowed: true, checked: false });
    offline.disconnect();
  });

  it('when Redis cannot be reached, then the request is let through (fail open), never rejected', async () => {
    const offline = new Redis(REDIS_URL, { lazyConnect: true, enableOfflineQueue: false });
    const limiter = createRateLimiter({ redis: offline, keyPrefix });
    const decision = await limiter.take({ name: 'down', limit: 1, windowMs: 1_000 }, 's');
    expect(decision).toMatchObject({ allowed: true, checked: false });
    offline.disconnect();
  });

  it('when Redis accepts the command but never answers, then the check gives up after failOpenAfterMs and lets the request through', async () => {
    const sockets: net.Socket[] = [];
    // Answers the client's hello (CLIENT SETINFO), then never answers again.
    const silent = net.createServer((socket) => {
      sockets.push(socket);
      socket.on('data', (chunk) => {
        for (let i = 0; i < (chunk.toString().match(/SETINFO/g) ?? []).length; i++) socket.write('+OK\r\n');
      });
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    const hung = new Redis({ port, host: '127.0.0.1', enableReadyCheck: false, maxRetriesPerRequest: 0 });
    try {
      await eventually(() => hung.status === 'ready');
      const limiter = createRateLimiter({ redis: hung, keyPrefix, failOpenAfterMs: 100 });
      const started = Date.now();
      const decision = await limiter.take({ name: 'hung', limit: 1, windowMs: 1_000 }, 's');
      expect(decision).toMatchObject({ allowed: true, checked: false });
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      hung.disconnect();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe('rate limit settings', () => {
  it('when nothing is set, then the documented defaults apply', () => {
    expect(loadConfig({})).toMatchObject({
      queueWaitingTtlSeconds: 60,
      rateLimits: { windowSeconds: 10, tokenIssuePerUser: 10, tokenIssuePerIp: 1_000, holdsPerToken: 20 },
    });
  });

  it('when a limit is 0, then it is accepted (off); a negative one stops start-up naming the variable', () => {
    expect(loadConfig({ RATE_LIMIT_HOLDS_PER_TOKEN: '0' }).rateLimits.holdsPerToken).toBe(0);
    expect(() => loadConfig({ RATE_LIMIT_HOLDS_PER_TOKEN: '-1' })).toThrow(/RATE_LIMIT_HOLDS_PER_TOKEN/);
    expect(() => loadConfig({ QUEUE_WAITING_TTL_SECONDS: '0' })).toThrow(/QUEUE_WAITING_TTL_SECONDS/);
  });

  it.each([
    ['203.0.113.9', '203.0.113.9'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:0db8:0001:0002::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['64:ff9b::192.0.2.1', '64:ff9b:0:0::/64'],
  ])('when the client address is %s, then it is counted as %s', (ip, subject) => {
    expect(clientAddress(ip)).toBe(subject);
  });
});
