/**
 * SIGTERM to the real server process (src/main.ts) under hold/cancel load and payments — the
 * in-process variant (app.close() during a burst, test/integration/actor-lifecycle.int.spec.ts)
 * does not exercise the signal handler, the listening socket or keep-alive connections.
 *
 * README, "Operations": stop accepting, finish requests in flight, drain every actor's mailbox and
 * journal writer, then close Redis and the pool; nothing acknowledged is lost. So:
 * - the process exits 0, well within its own shutdown deadline (45 s);
 * - every 2xx is in the database, no 503 SERVICE_UNAVAILABLE was applied;
 * - a request that arrives once shutdown has begun gets 503 SERVICE_UNAVAILABLE problem+json (on a
 *   connection that was already open) or a refused connection — never a 500, never a hang;
 * - a server started again on the same database serves, with every acknowledged hold and sale.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { call, checkAnswers, doubleBookedSeats, type Answer, type Buyer } from '../support/hold-load';
import { describeProbe, percentile, probe, tally, type Probe } from '../support/http-probe';
import { startPrivateRedis, type PrivateRedis } from '../support/private-redis';
import { startServer, type ServerProcess } from '../support/server-process';
import { ADMIN_KEY } from '../support/test-app';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const HOLDERS = 12; // hold/cancel on seats 1..48
const PAYERS = 6; // hold and pay, each on its own run of seats from 101 up
const PAYER_SEATS = 60;
const PRICE = 1_000;
const SHUTDOWN_DEADLINE_MS = 45_000; // src/main.ts

/**
 * The load is a few machines on one address: the per-token and per-address rate limits (which
 * are not what this test is about) must never refuse it.
 */
const UNREACHABLE_RATE_LIMITS = {
  RATE_LIMIT_TOKEN_ISSUE_PER_USER: '1000000',
  RATE_LIMIT_TOKEN_ISSUE_PER_IP: '1000000',
  RATE_LIMIT_HOLDS_PER_TOKEN: '1000000',
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** An answer of the load, with what a dying server may give instead of one. */
type Recorded = Answer & Pick<Probe, 'error' | 'problemJson' | 'method' | 'path'>;
interface PayRecord extends Pick<Probe, 'status' | 'code' | 'error' | 'problemJson' | 'ms' | 'startedAt' | 'method' | 'path'> {
  key: string;
  userId: string;
  reservationId: string;
  paymentId?: string;
}

function record(request: Pick<Answer, 'kind' | 'key' | 'token' | 'seatNo' | 'reservationId'>, p: Probe): Recorded {
  return {
    ...request,
    reservationId: request.reservationId ?? p.body?.reservationId,
    status: p.status,
    ...(p.code === undefined ? {} : { code: p.code }),
    ...(p.error === undefined ? {} : { error: p.error }),
    problemJson: p.problemJson,
    method: p.method,
    path: p.path,
    ms: p.ms,
    startedAt: p.startedAt,
  };
}

function startLoad(url: string, concertId: string, scheduleId: string, holders: Buyer[], payers: Buyer[]) {
  const answers: Recorded[] = [];
  const payments: PayRecord[] = [];
  const others: Probe[] = [];
  let stopping = false;
  const pause = (p: Probe) => sleep(p.status === 0 ? 20 : p.status >= 500 ? 10 : 0);

  const holderRuns = holders.map(async (buyer, index) => {
    for (let round = 0; !stopping; round++) {
      const seatNo = index * 4 + 1 + (round % 4);
      const key = randomUUID();
      const held = await probe(url, 'POST', '/v1/reservations', { scheduleId, seatNos: [seatNo] }, { 'queue-token': buyer.token, 'idempotency-key': key });
      answers.push(record({ kind: 'hold', key, token: buyer.token, seatNo }, held));
      if (held.status !== 201) {
        await pause(held);
        continue;
      }
      const cancelKey = randomUUID();
      const reservationId = held.body.reservationId as string;
      const cancelled = await probe(url, 'DELETE', `/v1/reservations/${reservationId}`, undefined, { 'queue-token': buyer.token, 'idempotency-key': cancelKey });
      answers.push(record({ kind: 'cancel', key: cancelKey, token: buyer.token, seatNo, reservationId }, cancelled));
      await pause(cancelled);
    }
  });

  const payerRuns = payers.map(async (buyer, index) => {
    for (let round = 0; !stopping; round++) {
      const seatNo = 101 + index * PAYER_SEATS + (round % PAYER_SEATS);
      const key = randomUUID();
      const held = await probe(url, 'POST', '/v1/reservations', { scheduleId, seatNos: [seatNo] }, { 'queue-token': buyer.token, 'idempotency-key': key });
      answers.push(record({ kind: 'hold', key, token: buyer.token, seatNo }, held));
      if (held.status !== 201) {
        await pause(held);
        continue;
      }
      const reservationId = held.body.reservationId as string;
      const payKey = randomUUID();
      const paid = await probe(url, 'POST', '/v1/payments', { reservationId }, { 'queue-token': buyer.token, 'idempotency-key': payKey });
      payments.push({
        key: payKey,
        userId: buyer.userId,
        reservationId,
        paymentId: paid.body?.paymentId,
        status: paid.status,
        ...(paid.code === undefined ? {} : { code: paid.code }),
        ...(paid.error === undefined ? {} : { error: paid.error }),
        problemJson: paid.problemJson,
        method: paid.method,
        path: paid.path,
        ms: paid.ms,
        startedAt: paid.startedAt,
      });
      if (paid.status !== 201) {
        await pause(paid);
        continue;
      }
      // The payment ended the token: take a new one to go on.
      const issued = await probe(url, 'POST', '/v1/queue/tokens', { userId: buyer.userId, concertId });
      others.push(issued);
      if (issued.status === 201 || issued.status === 200) buyer.token = issued.body.token;
      else await pause(issued);
    }
  });

  // Reads and new visitors: they never stop coming.
  const visitorRuns = [0, 1].map(async (worker) => {
    for (let round = 0; !stopping; round++) {
      const p =
        (round + worker) % 2 === 0
          ? await probe(url, 'GET', `/v1/schedules/${scheduleId}/seats`)
          : await probe(url, 'POST', '/v1/queue/tokens', { userId: randomUUID(), concertId });
      others.push(p);
      await sleep(p.status === 0 ? 20 : 5);
    }
  });

  return {
    answers,
    payments,
    others,
    async stop() {
      stopping = true;
      await Promise.all([...holderRuns, ...payerRuns, ...visitorRuns]);
    },
  };
}

describe('graceful shutdown of the real server process', () => {
  let database: TestDatabase;
  let redis: PrivateRedis;
  let server: ServerProcess | undefined;
  let db: Pool | undefined;

  beforeAll(async () => {
    [database, redis] = await Promise.all([createTestDatabase(), startPrivateRedis()]);
  });
  afterAll(async () => {
    await server?.kill('SIGKILL');
    await db?.end();
    await redis?.remove();
    await database?.drop();
  });

  it('when the server gets SIGTERM under load, then it exits 0 in time, late requests get 503 or a refused connection, and a restart serves every acknowledged hold and sale', async () => {
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: 'ovation:',
      RESERVATION_ENGINE: 'actor',
      ADMIN_API_KEY: ADMIN_KEY,
      ...UNREACHABLE_RATE_LIMITS,
      LOG_LEVEL: 'silent',
    };
    server = await startServer(env);
    const first = server;
    const concert = await call(`${first.url}/v1/admin/concerts`, 'POST', {
      title: 'Shutdown test',
      schedules: [{ startsAt: '2099-05-01T19:00:00Z', seatCount: 100 + PAYERS * PAYER_SEATS, price: PRICE }],
    }, { 'x-admin-key': ADMIN_KEY });
    expect(concert.status).toBe(201);
    const concertId: string = concert.body.concertId;
    const scheduleId: string = concert.body.schedules[0].scheduleId;
    const newBuyer = async (funds: number): Promise<Buyer> => {
      const userId = randomUUID();
      const issued = await call(`${first.url}/v1/queue/tokens`, 'POST', { userId, concertId });
      expect([issued.status, issued.body.status]).toEqual([201, 'ACTIVE']);
      if (funds > 0) {
        const charged = await call(`${first.url}/v1/users/${userId}/balance/charges`, 'POST', { amount: funds }, { 'idempotency-key': randomUUID() });
        expect(charged.status).toBe(200);
      }
      return { userId, token: issued.body.token as string };
    };
    const holders = await Promise.all(Array.from({ length: HOLDERS }, () => newBuyer(0)));
    const payers = await Promise.all(Array.from({ length: PAYERS }, () => newBuyer(1_000 * PRICE)));

    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
      first.child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
    );
    const load = startLoad(first.url, concertId, scheduleId, holders, payers);
    await sleep(2_000);

    // ---- The signal, under load.
    const signalAt = Date.now();
    first.child.kill('SIGTERM');
    let deadline: NodeJS.Timeout | undefined;
    const exit = await Promise.race([exited, new Promise<undefined>((resolve) => (deadline = setTimeout(() => resolve(undefined), SHUTDOWN_DEADLINE_MS + 5_000)))]);
    clearTimeout(deadline);
    if (exit === undefined) first.child.kill('SIGKILL');
    await sleep(300); // requests keep coming after the exit: refused
    await load.stop();

    expect(exit).toBeDefined();
    // (The server's stderr is shown only when the exit was not clean.)
    const clean = exit!.code === 0 && exit!.signal === null;
    expect({ code: exit!.code, signal: exit!.signal, stderr: clean ? '' : first.stderr() }).toEqual({ code: 0, signal: null, stderr: '' });
    const exitMs = exit!.at - signalAt;
    expect(exitMs).toBeLessThan(SHUTDOWN_DEADLINE_MS);

    const all: (Probe | Recorded | PayRecord)[] = [...load.answers, ...load.payments, ...load.others];
    const show = (p: Probe | Recorded | PayRecord) => `${describeProbe(p as Probe)} (+${Math.round(p.startedAt - signalAt)} ms, ${Math.round(p.ms)} ms)`;
    // There was load on both sides of the signal.
    expect(all.filter((p) => p.startedAt < signalAt && p.status >= 200 && p.status < 300).length).toBeGreaterThan(100);
    expect(all.filter((p) => p.startedAt >= signalAt).length).toBeGreaterThan(10);
    expect(load.payments.filter((p) => p.status === 201).length).toBeGreaterThan(5);

    // Never a 500, a non-problem error, an OUTCOME_UNKNOWN (the drain commits what it accepted) or a hang.
    expect(all.filter((p) => p.status >= 500 && !(p.status === 503 && p.code === 'SERVICE_UNAVAILABLE')).map(show)).toEqual([]);
    expect(all.filter((p) => p.status >= 400 && !p.problemJson).map(show)).toEqual([]);
    expect(all.filter((p) => p.error === 'TimeoutError' || p.error === 'AbortError').map(show)).toEqual([]);
    expect(Math.max(...all.map((p) => p.ms))).toBeLessThan(10_000);
    // A request in flight when the signal came was finished, not dropped.
    expect(all.filter((p) => p.startedAt < signalAt && p.startedAt + p.ms > signalAt).length).toBeGreaterThan(0);
    expect(all.filter((p) => p.startedAt < signalAt && p.status === 0).map(show)).toEqual([]);
    // Once the server was seen refusing (or was gone), nothing else was answered: 503 problem+json
    // on a connection that was already open, else a refused connection.
    const shutdown503 = (p: { status: number; code?: string; problemJson: boolean }) => p.status === 503 && p.code === 'SERVICE_UNAVAILABLE' && p.problemJson;
    const firstRefusalSeen = Math.min(
      exit!.at,
      ...all.filter((p) => p.startedAt >= signalAt && (shutdown503(p) || p.error === 'ECONNREFUSED')).map((p) => p.startedAt + p.ms),
    );
    const late = all.filter((p) => p.startedAt > firstRefusalSeen);
    expect(late.length).toBeGreaterThan(0);
    expect(late.filter((p) => !shutdown503(p) && p.error !== 'ECONNREFUSED').map(show)).toEqual([]);
    // Between the signal and the first refusal a request may still have been served (it reached
    // the server before the signal handler ran): then it must be true, which checkAnswers shows.
    // A request written on an idle keep-alive connection in that instant may also be reset
    // (ECONNRESET / UND_ERR_SOCKET): Node's server.close() destroys idle connections, and HTTP/1.1
    // cannot tell an idle client that its connection is going. Such a request was never read, so
    // it must not have been applied (checked below); with its Idempotency-Key it is safe to retry.

    // ---- Every answer is honest against the database.
    db = new Pool({ connectionString: database.url, max: 2 });
    const answered = load.answers.filter((a) => a.status !== 0);
    const check = await checkAnswers(db, answered);
    expect(check.dishonest).toEqual([]);
    expect(check.appliedAfterNo).toEqual([]);
    expect(check.lostAfterYes).toEqual([]);
    expect(check.unknown).toEqual([]);
    // No answer at all (a refused connection): nothing applied either.
    const noAnswer = load.answers.filter((a) => a.status === 0);
    const appliedWithoutAnswer = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM reservations WHERE idempotency_key = ANY($1) OR cancel_idempotency_key = ANY($1)`,
      [noAnswer.map((a) => a.key)],
    );
    expect(appliedWithoutAnswer.rows[0]!.n).toBe(0);
    const payRows = await db.query<{ id: string; reservation_id: string; status: string }>(
      `SELECT p.id, p.reservation_id, r.status FROM payments p JOIN reservations r ON r.id = p.reservation_id WHERE p.reservation_id = ANY($1::uuid[])`,
      [load.payments.map((p) => p.reservationId)],
    );
    const paidRows = new Map(payRows.rows.map((r) => [r.reservation_id, r]));
    const paidOk = load.payments.filter((p) => p.status === 201);
    expect(paidOk.filter((p) => paidRows.get(p.reservationId)?.id !== p.paymentId || paidRows.get(p.reservationId)?.status !== 'CONFIRMED')).toEqual([]);
    expect(load.payments.filter((p) => p.status !== 201 && paidRows.has(p.reservationId))).toEqual([]);
    expect(await doubleBookedSeats(db)).toBe(0);
    const money = await db.query<{ payments: number; debits: number; expected: string; actual: string }>(
      `SELECT (SELECT count(*) FROM payments)::int AS payments,
              (SELECT count(*) FROM balance_ledger WHERE kind = 'PAYMENT')::int AS debits,
              ((SELECT coalesce(sum(amount), 0) FROM charges) - (SELECT coalesce(sum(amount), 0) FROM payments))::text AS expected,
              (SELECT coalesce(sum(balance), 0) FROM balances)::text AS actual`,
    );
    expect(money.rows[0]!.payments).toBe(money.rows[0]!.debits);
    expect(money.rows[0]!.actual).toBe(money.rows[0]!.expected);

    // ---- A restart on the same database serves, with every acknowledged hold and sale.
    const restartStarted = Date.now();
    server = await startServer(env);
    const second = server;
    const restartMs = Date.now() - restartStarted;
    const truth = await db.query<{ id: string; user_id: string; status: string; seat_nos: number[] }>(
      'SELECT id, user_id, status, seat_nos FROM reservations WHERE schedule_id = $1',
      [scheduleId],
    );
    const byId = new Map(truth.rows.map((r) => [r.id, r]));
    const acknowledged = load.answers.filter((a) => a.kind === 'hold' && a.status === 201);
    expect(acknowledged.filter((a) => !byId.has(a.reservationId!))).toEqual([]);
    for (const a of load.answers.filter((x) => x.kind === 'cancel' && x.status === 200)) expect(byId.get(a.reservationId!)?.status).toBe('CANCELLED');
    for (const p of paidOk) expect(byId.get(p.reservationId)?.status).toBe('CONFIRMED');
    // The API of the new process lists each user's reservations as the database has them...
    for (const buyer of [...holders, ...payers]) {
      const listed = await call(`${second.url}/v1/users/${buyer.userId}/reservations`, 'GET');
      expect(listed.status).toBe(200);
      const mine = truth.rows.filter((r) => r.user_id === buyer.userId);
      expect(new Map(listed.body.reservations.map((r: { reservationId: string; status: string }) => [r.reservationId, r.status]))).toEqual(
        new Map(mine.map((r) => [r.id, r.status])),
      );
    }
    // ...and its recovered actor shows exactly those seats taken.
    const seats = await call(`${second.url}/v1/schedules/${scheduleId}/seats`, 'GET');
    const taken = new Map<number, string>();
    for (const r of truth.rows) {
      if (r.status === 'HELD') for (const n of r.seat_nos) taken.set(n, 'HELD');
      if (r.status === 'CONFIRMED') for (const n of r.seat_nos) taken.set(n, 'SOLD');
    }
    const shown = new Map<number, string>(
      seats.body.seats.filter((s: { status: string }) => s.status !== 'AVAILABLE').map((s: { seatNo: number; status: string }) => [s.seatNo, s.status]),
    );
    expect(shown).toEqual(taken);
    expect(taken.size).toBeGreaterThan(0);
    // And it takes new work with the tokens it had before (Redis was never touched).
    const freeSeat = Array.from({ length: 40 }, (_, i) => 50 + i).find((n) => !taken.has(n))!;
    const fresh = await call(`${second.url}/v1/reservations`, 'POST', { scheduleId, seatNos: [freeSeat] }, { 'queue-token': holders[0]!.token });
    expect(fresh.status).toBe(201);

    const afterSignal = all.filter((p) => p.startedAt >= signalAt);
    console.log('SIGTERM under load:', JSON.stringify({
      exitMs,
      restartMs,
      beforeSignal: all.filter((p) => p.startedAt < signalAt).length,
      afterSignal: tally(afterSignal, (p) => describeProbe(p as Probe)),
      inFlightAtSignal: all.filter((p) => p.startedAt < signalAt && p.startedAt + p.ms > signalAt).length,
      inFlightP99Ms: Math.round(percentile(all.filter((p) => p.startedAt < signalAt && p.startedAt + p.ms > signalAt).map((p) => p.ms), 99)),
      firstRefusalSeenMs: firstRefusalSeen - signalAt,
      load: check.counts,
      payments: tally(load.payments, (p) => `${p.status}${p.code ? ` ${p.code}` : ''}${p.error ? ` ${p.error}` : ''}`),
    }));
  }, 90_000);
});
