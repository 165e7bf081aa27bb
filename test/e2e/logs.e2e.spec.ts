/**
 * The server's logs as an operator reads them: JSON lines, each request's lines tied together by
 * its id (the caller's X-Request-Id when sane, echoed back), and no secret in them — not the admin
 * key, not a queue token, not an idempotency key — whatever the flow. The real server process
 * (src/main.ts) at LOG_LEVEL=debug, so every line it can write is written.
 */
import { randomUUID } from 'node:crypto';
import { eventually } from '../support/eventually';
import { startServer, type ServerProcess } from '../support/server-process';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const ADMIN_KEY = `secret-admin-${randomUUID()}`;

interface LogLine {
  level: number;
  time: number;
  msg: string;
  reqId?: string;
  [key: string]: unknown;
}

describe('structured logs with request ids and no secrets', () => {
  let database: TestDatabase;
  let server: ServerProcess;

  beforeAll(async () => {
    database = await createTestDatabase();
    server = await startServer({ DATABASE_URL: database.url, ADMIN_API_KEY: ADMIN_KEY, LOG_LEVEL: 'debug', REDIS_KEY_PREFIX: `logs:${randomUUID()}:` }, { captureStdout: true });
  }, 60_000);

  afterAll(async () => {
    await server?.kill('SIGTERM');
    await database?.drop();
  });

  const call = async (path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) => {
    const response = await fetch(`${server.url}${path}`, {
      method: init.method ?? 'GET',
      headers: { ...(init.body === undefined ? {} : { 'content-type': 'application/json' }), ...init.headers },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(10_000),
    });
    return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, any> };
  };

  /** The JSON log lines (the banner, printed once at start, is plain text and skipped). */
  const logLines = (): LogLine[] =>
    server
      .stdout()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as LogLine);

  it('when a request carries a sane X-Request-Id, then the answer echoes it and its log lines carry it; otherwise a fresh UUID', async () => {
    const traced = await call('/v1/concerts', { headers: { 'x-request-id': 'trace-abc.123_x' } });
    expect(traced.headers.get('x-request-id')).toBe('trace-abc.123_x');
    for (const insane of ['a'.repeat(65), 'has space', 'quote"d']) {
      const fresh = await call('/v1/concerts', { headers: { 'x-request-id': insane } });
      expect(fresh.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
    const untraced = await call('/v1/concerts');
    const id = untraced.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    // "request completed" is written after the answer has left: wait for it.
    const lines = await eventually(() => {
      const all = logLines();
      return all.filter((l) => l.reqId === id).length === 2 && all;
    });
    expect(lines.filter((l) => l.reqId === 'trace-abc.123_x').map((l) => l.msg)).toEqual(['incoming request', 'request completed']);
    expect(lines.every((l) => typeof l.level === 'number' && typeof l.time === 'number' && typeof l.msg === 'string')).toBe(true);
  });

  it('when a whole flow runs, refusals included, then no admin key, token or idempotency key appears in the output', async () => {
    const secrets: string[] = [ADMIN_KEY];
    const created = await call('/v1/admin/concerts', {
      method: 'POST',
      headers: { 'x-admin-key': ADMIN_KEY },
      body: { title: 'Logs', venue: 'Hall', schedules: [{ startsAt: '2027-03-01T19:00:00Z', seatCount: 10, price: 1000 }] },
    });
    expect(created.status).toBe(201);
    const refusedAdmin = await call('/v1/admin/actors', { headers: { 'x-admin-key': `${ADMIN_KEY}-wrong` } });
    expect(refusedAdmin.status).toBe(403);
    const userId = randomUUID();
    const issued = await call('/v1/queue/tokens', { method: 'POST', body: { userId, concertId: created.body.concertId } });
    const token: string = issued.body.token;
    secrets.push(token);
    const chargeKey = `charge-${randomUUID()}`;
    const holdKey = `hold-${randomUUID()}`;
    const payKey = `pay-${randomUUID()}`;
    secrets.push(chargeKey, holdKey, payKey);
    expect((await call(`/v1/users/${userId}/balance/charges`, { method: 'POST', headers: { 'idempotency-key': chargeKey }, body: { amount: 5000 } })).status).toBe(200);
    const held = await call('/v1/reservations', {
      method: 'POST',
      headers: { 'queue-token': token, 'idempotency-key': holdKey },
      body: { scheduleId: created.body.schedules[0].scheduleId, seatNos: [1] },
    });
    expect(held.status).toBe(201);
    const paid = await call('/v1/payments', { method: 'POST', headers: { 'queue-token': token, 'idempotency-key': payKey }, body: { reservationId: held.body.reservationId } });
    expect(paid.status).toBe(201);
    // Refusals and errors log too: a used token, a forged one.
    const forged = `${token.slice(0, -4)}AAAA`;
    secrets.push(forged);
    expect((await call('/v1/queue/tokens/current', { headers: { 'queue-token': token } })).status).toBe(401);
    expect((await call('/v1/queue/tokens/current', { headers: { 'queue-token': forged } })).status).toBe(401);

    const output = server.stdout() + server.stderr();
    expect(logLines().length).toBeGreaterThan(10);
    expect(secrets.filter((secret) => output.includes(secret))).toEqual([]);
    expect(output).toContain('X-Admin-Key: the value of ADMIN_API_KEY (not shown)');
  });
});
