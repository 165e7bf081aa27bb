/**
 * The bench's bare server (bench/bare/bare-server.ts, engine label `bare`) answers the routes the
 * spread and hot-seat scenarios call, with the statuses and the fields their scripts read. Two
 * ways: each route by hand (statuses, shapes, the app's error codes), then the scenarios' own
 * setup and virtual users (bench/load/runner.ts, in-process, a 1 s window) against it, so that a
 * scenario that starts calling a route or reading a field the bare server does not answer fails
 * here rather than as a silent column of errors in a benchmark. No database, no Redis.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { paramsFor } from '../../bench/args';
import { BARE_SCENARIOS } from '../../bench/bare-server-process';
import { buildBareApp } from '../../bench/bare/bare-server';
import { LoadRun } from '../../bench/load/runner';
import { scrapeMetrics } from '../../bench/server-metrics';
import { findScenario } from '../../bench/scenarios';
import { SetupApi } from '../../bench/setup-api';

const ADMIN_KEY = 'bare-test-admin-key';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let app: FastifyInstance;
let baseUrl: string;

beforeAll(async () => {
  app = await buildBareApp({ adminApiKey: ADMIN_KEY });
  await app.listen({ port: 0, host: '127.0.0.1' });
  baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await app.close();
});

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, type: response.headers.get('content-type') ?? '', text, json: () => JSON.parse(text) as Record<string, unknown> };
}

describe('bare server: each route the scenarios call', () => {
  it('creates a concert with the admin key (201, ids per schedule) and refuses without it (403 ADMIN_KEY_INVALID)', async () => {
    const concert = await new SetupApi(baseUrl, ADMIN_KEY).createConcert('bare', 3, 20, 10_000);
    expect(concert.concertId).toMatch(UUID);
    expect(concert.title).toBe('bare');
    expect(concert.schedules).toHaveLength(3);
    for (const schedule of concert.schedules) {
      expect(schedule.scheduleId).toMatch(UUID);
      expect(schedule.seatCount).toBe(20);
    }
    expect(new Set(concert.schedules.map((s) => s.scheduleId)).size).toBe(3);

    const refused = await call('POST', '/v1/admin/concerts', { title: 't', schedules: [{ startsAt: '2027-05-01T19:00:00Z', seatCount: 1, price: 1 }] }, { 'x-admin-key': 'wrong' });
    expect(refused.status).toBe(403);
    expect(refused.json()['code']).toBe('ADMIN_KEY_INVALID');
  });

  it('issues an ACTIVE token (201) in the app shape; holds (201) and releases (200) as the token user', async () => {
    const userId = randomUUID();
    const concertId = randomUUID();
    const issued = await call('POST', '/v1/queue/tokens', { userId, concertId });
    expect(issued.status).toBe(201);
    const token = issued.json();
    expect(token).toEqual({ token: expect.any(String), status: 'ACTIVE', position: 0, estimatedWaitSeconds: 0, activeUntil: expect.any(String) });
    // The app's token shape (src/queue/token-format.ts): <concertId>.<22 base64url characters>.
    expect(token['token']).toMatch(new RegExp(`^${concertId}\\.[A-Za-z0-9_-]{22}$`));

    const headers = { 'queue-token': String(token['token']) };
    const scheduleId = randomUUID();
    const hold = await call('POST', '/v1/reservations', { scheduleId, seatNos: [7] }, headers);
    expect(hold.status).toBe(201);
    const held = hold.json();
    expect(held).toEqual({
      reservationId: expect.stringMatching(UUID),
      userId,
      scheduleId,
      seatNos: [7],
      status: 'HELD',
      amount: expect.any(Number),
      expiresAt: expect.any(String),
    });
    const again = await call('POST', '/v1/reservations', { scheduleId, seatNos: [7] }, headers);
    expect(again.status).toBe(201);
    expect(again.json()['reservationId']).not.toBe(held['reservationId']);

    const release = await call('DELETE', `/v1/reservations/${String(held['reservationId'])}`, undefined, headers);
    expect(release.status).toBe(200);
    expect(release.json()).toMatchObject({ reservationId: held['reservationId'], userId, status: 'CANCELLED' });
  });

  it("answers a bad hold as the app does: no token 401 TOKEN_MISSING, a forged one 401 TOKEN_INVALID, a bad body 400 VALIDATION_FAILED", async () => {
    const scheduleId = randomUUID();
    const missing = await call('POST', '/v1/reservations', { scheduleId, seatNos: [1] });
    expect([missing.status, missing.json()['code']]).toEqual([401, 'TOKEN_MISSING']);
    expect(missing.type).toContain('application/problem+json');
    const forged = await call('POST', '/v1/reservations', { scheduleId, seatNos: [1] }, { 'queue-token': 'not-a-token' });
    expect([forged.status, forged.json()['code']]).toEqual([401, 'TOKEN_INVALID']);
    const token = (await call('POST', '/v1/queue/tokens', { userId: randomUUID(), concertId: randomUUID() })).json()['token'] as string;
    for (const body of [{ scheduleId, seatNos: [0] }, { scheduleId: 'nope', seatNos: [1] }, { scheduleId, seatNos: [1], extra: true }, { scheduleId }]) {
      const bad = await call('POST', '/v1/reservations', body, { 'queue-token': token });
      expect([bad.status, bad.json()['code']]).toEqual([400, 'VALIDATION_FAILED']);
    }
    const badId = await call('DELETE', '/v1/reservations/not-a-uuid', undefined, { 'queue-token': token });
    expect(badId.status).toBe(400);
  });

  it('is ready, and /metrics is valid Prometheus text with no ovation_* series (the harness reads none)', async () => {
    expect((await call('GET', '/health/ready')).status).toBe(200);
    const metrics = await call('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.type).toContain('text/plain');
    expect(metrics.text.split('\n').every((line) => line === '' || line.startsWith('#'))).toBe(true);
    expect((await scrapeMetrics(baseUrl)).size).toBe(0);
    expect((await call('GET', '/v1/no-such-route')).status).toBe(404);
  });
});

describe('bare server: the scenarios it stands for run against it without a failed check', () => {
  it.each(BARE_SCENARIOS.map((name) => [name]))('%s', async (name) => {
    const scenario = findScenario(name);
    const params = paramsFor(scenario, { vus: 4, durationS: 1, warmupS: 0, seats: 20, schedules: 3, backoffMinMs: 0, backoffMaxMs: 0 });
    const setup = await scenario.setup(new SetupApi(baseUrl, ADMIN_KEY), params);
    const { stats, usage } = await new LoadRun(scenario, { scenario: name, target: baseUrl, params, setup }, () => undefined).execute();
    expect(usage.iterationErrors).toBe(0);
    expect(stats.errorSamples).toEqual([]);
    expect(stats.statuses).toEqual({});
    expect(stats.checksFailed).toBe(0);
    expect(stats.failed).toBe(0);
    expect(stats.ok).toBeGreaterThan(0);
    // One hold and one release per cycle: the scenario read the reservationId and released it.
    expect(stats.byName.map((n) => n.name).sort()).toEqual(['hold', 'release']);
    expect(stats.checks['release answered 200']?.passed).toBe(stats.ok);
  });
});
