/**
 * The two baseline engines (sql: conditional UPDATE; lock: Redis locks + SELECT … FOR UPDATE)
 * against real PostgreSQL and Redis. One suite runs over both: they answer to the same port and
 * must give the same answers.
 */
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import type { Pool } from 'pg';
import type {
  EngineRejection,
  HoldRequest,
  HoldResult,
  PayRequest,
  PayResult,
  ReleaseResult,
  ReservationEngine,
} from '../../src/engine/reservation-engine';
import { LockEngine } from '../../src/baselines/lock-engine';
import { SqlEngine } from '../../src/baselines/sql-engine';
import type { LockEngineOptions } from '../../src/baselines/engine-options';
import { SeatMapCache } from '../../src/baselines/seat-map-cache';
import { scheduleLockKeys } from '../../src/baselines/lock-keys';
import { EngineStoppedError, LockBusyError } from '../../src/baselines/engine-errors';
import { credit } from '../../src/persistence/balance-repository';
import { CatalogueRepository } from '../../src/persistence/catalogue-repository';
import { createPool, inTransaction } from '../../src/persistence/database';
import type { Reservation } from '../../src/persistence/reservation-repository';
import { createTestDatabase, type TestDatabase } from '../support/test-database';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PRICE = 1_000;
const OUTBOX_TOPIC = 'reservations.confirmed';

type EngineKind = 'sql' | 'lock';
type EngineOverrides = Partial<Omit<LockEngineOptions, 'db' | 'redis' | 'keyPrefix'>>;

let database: TestDatabase;
let db: Pool;
let redis: Redis;
let catalogue: CatalogueRepository;
const keyPrefix = `test:baseline:${randomUUID()}:`;
let running: ReservationEngine[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  db = createPool(database.url, 30);
  redis = new Redis(REDIS_URL);
  catalogue = new CatalogueRepository(db);
});

afterEach(async () => {
  await Promise.all(running.map((engine) => engine.stop()));
  running = [];
});

afterAll(async () => {
  await deleteKeysMatching(`${keyPrefix}*`);
  await redis.quit();
  await db.end();
  await database.drop();
});

async function deleteKeysMatching(pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

async function startEngine(kind: EngineKind, overrides: EngineOverrides = {}): Promise<ReservationEngine> {
  const options = {
    db,
    holdTtlMs: 60_000,
    holdMaxMs: 180_000,
    maxSeatsPerUser: 4,
    outboxTopic: OUTBOX_TOPIC,
    // Long by default: tests that want the sweeper ask for it.
    sweepIntervalMs: 60_000,
    ...overrides,
  };
  const engine = kind === 'sql' ? new SqlEngine(options) : new LockEngine({ ...options, redis, keyPrefix });
  await engine.start();
  running.push(engine);
  return engine;
}

async function newSchedule(seatCount = 10): Promise<string> {
  const concert = await catalogue.createConcert({
    title: 'Baseline test',
    schedules: [
      {
        startsAt: '2030-01-01T19:00:00Z',
        seatCount,
        price: PRICE,
        sections: [{ grade: 'VIP', fromSeat: 1, toSeat: 2, price: 2 * PRICE }],
      },
    ],
  });
  return concert.schedules[0]!.scheduleId;
}

function holdRequest(scheduleId: string, seatNos: number[], userId: string = randomUUID()): HoldRequest {
  return { reservationId: randomUUID(), userId, scheduleId, seatNos };
}

function payRequest(reservation: Reservation, userId = reservation.userId): PayRequest {
  return {
    reservation,
    userId,
    paymentId: randomUUID(),
    idempotency: { scope: `payment:${userId}`, key: randomUUID(), requestHash: 'hash' },
  };
}

function heldOrFail(result: HoldResult): Reservation {
  if (!result.ok) throw new Error(`expected a hold, got ${JSON.stringify(result.rejection)}`);
  return result.reservation;
}

function rejectionOf(result: HoldResult | ReleaseResult | PayResult): EngineRejection | undefined {
  return result.ok ? undefined : result.rejection;
}

async function seatStatuses(engine: ReservationEngine, scheduleId: string): Promise<Map<number, string>> {
  const map = JSON.parse(await engine.seatMapJson(scheduleId)) as {
    scheduleId: string;
    seats: { seatNo: number; grade: string; price: number; status: string }[];
  };
  expect(map.scheduleId).toBe(scheduleId);
  return new Map(map.seats.map((seat) => [seat.seatNo, seat.status]));
}

async function seatRows(scheduleId: string): Promise<Map<number, { status: string; reservationId: string | null }>> {
  const { rows } = await db.query<{ seat_no: number; status: string; reservation_id: string | null }>(
    'SELECT seat_no, status, reservation_id FROM seats WHERE schedule_id = $1',
    [scheduleId],
  );
  return new Map(rows.map((row) => [row.seat_no, { status: row.status, reservationId: row.reservation_id }]));
}

async function reservationStatus(reservationId: string): Promise<string | undefined> {
  const { rows } = await db.query<{ status: string }>('SELECT status FROM reservations WHERE id = $1', [reservationId]);
  return rows[0]?.status;
}

async function count(sql: string, params: unknown[]): Promise<number> {
  const { rows } = await db.query<{ n: number }>(sql, params);
  return rows[0]!.n;
}

async function creditUser(userId: string, amount: number): Promise<void> {
  await inTransaction(db, (tx) => credit(tx, userId, amount, randomUUID()));
}

async function balanceOf(userId: string): Promise<number> {
  const { rows } = await db.query<{ balance: number }>('SELECT balance FROM balances WHERE user_id = $1', [userId]);
  return rows[0]?.balance ?? 0;
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.each<EngineKind>(['sql', 'lock'])('%s engine', (kind) => {
  test('when a seat is held and then released, then the seat map shows it HELD in between and AVAILABLE after', async () => {
    const engine = await startEngine(kind);
    const scheduleId = await newSchedule();
    const request = holdRequest(scheduleId, [3, 1]);
    const before = Date.now();

    const held = heldOrFail(await engine.hold(request));

    expect(held).toMatchObject({
      reservationId: request.reservationId,
      userId: request.userId,
      scheduleId,
      seatNos: [3, 1],
      status: 'HELD',
      amount: PRICE + 2 * PRICE,
    });
    expect(Date.parse(held.expiresAt) - before).toBeGreaterThanOrEqual(60_000);
    expect(Date.parse(held.expiresAt) - Date.now()).toBeLessThanOrEqual(60_000);
    const whileHeld = await seatStatuses(engine, scheduleId);
    expect([whileHeld.get(1), whileHeld.get(2), whileHeld.get(3)]).toEqual(['HELD', 'AVAILABLE', 'HELD']);
    expect(await engine.availableSeats(scheduleId)).toBe(8);
    expect(await reservationStatus(request.reservationId)).toBe('HELD');

    const released = await engine.release({ reservation: held, userId: request.userId });

    expect(released).toEqual({ ok: true, reservation: { ...held, status: 'CANCELLED' } });
    const after = await seatStatuses(engine, scheduleId);
    expect([...after.values()].every((status) => status === 'AVAILABLE')).toBe(true);
    expect(await engine.availableSeats(scheduleId)).toBe(10);
    expect(await reservationStatus(request.reservationId)).toBe('CANCELLED');
    expect(rejectionOf(await engine.release({ reservation: held, userId: request.userId }))).toEqual({
      code: 'RESERVATION_NOT_HELD',
    });
  });

  test('when one of several requested seats is taken, then the hold is refused with SEAT_UNAVAILABLE and none of them is held', async () => {
    const engine = await startEngine(kind);
    const scheduleId = await newSchedule();
    const first = heldOrFail(await engine.hold(holdRequest(scheduleId, [5])));

    const second = holdRequest(scheduleId, [4, 5, 6]);
    const result = await engine.hold(second);

    expect(rejectionOf(result)).toEqual({ code: 'SEAT_UNAVAILABLE', seatNos: [5] });
    const seats = await seatRows(scheduleId);
    expect(seats.get(4)).toEqual({ status: 'AVAILABLE', reservationId: null });
    expect(seats.get(5)).toEqual({ status: 'HELD', reservationId: first.reservationId });
    expect(seats.get(6)).toEqual({ status: 'AVAILABLE', reservationId: null });
    expect(await reservationStatus(second.reservationId)).toBeUndefined();
  });

  test('when 200 users hold the same seat at once, then exactly one succeeds and 199 get SEAT_UNAVAILABLE without a throw', async () => {
    const engine = await startEngine(kind);
    const scheduleId = await newSchedule();

    const results = await Promise.allSettled(
      Array.from({ length: 200 }, () => engine.hold(holdRequest(scheduleId, [7]))),
    );

    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const answers = results.map((r) => (r as PromiseFulfilledResult<HoldResult>).value);
    const winners = answers.filter((a) => a.ok);
    expect(winners).toHaveLength(1);
    expect(answers.filter((a) => rejectionOf(a)?.code === 'SEAT_UNAVAILABLE')).toHaveLength(199);
    const winner = heldOrFail(winners[0]!);
    expect((await seatRows(scheduleId)).get(7)).toEqual({ status: 'HELD', reservationId: winner.reservationId });
    expect(await count('SELECT count(*)::int AS n FROM reservations WHERE schedule_id = $1', [scheduleId])).toBe(1);
  });

  test('when a requested seat does not exist on the schedule, then SEAT_OUT_OF_RANGE names it and nothing is held', async () => {
    const engine = await startEngine(kind);
    const scheduleId = await newSchedule();

    const beyond = await engine.hold(holdRequest(scheduleId, [2, 11]));
    const impossible = await engine.hold(holdRequest(scheduleId, [0, 1.5, 3]));
    // Out of range wins over taken, as in the actor engine.
    heldOrFail(await engine.hold(holdRequest(scheduleId, [4])));
    const both = await engine.hold(holdRequest(scheduleId, [4, 12]));

    expect(rejectionOf(beyond)).toEqual({ code: 'SEAT_OUT_OF_RANGE', seatNos: [11] });
    expect(rejectionOf(impossible)).toEqual({ code: 'SEAT_OUT_OF_RANGE', seatNos: [0, 1.5] });
    expect(rejectionOf(both)).toEqual({ code: 'SEAT_OUT_OF_RANGE', seatNos: [12] });
    expect(await engine.availableSeats(scheduleId)).toBe(9);
  });

  test('when a hold would take a user past maxSeatsPerUser, then LIMIT_EXCEEDED reports the limit and the seats held, until a release makes room', async () => {
    const engine = await startEngine(kind, { maxSeatsPerUser: 4 });
    const scheduleId = await newSchedule();
    const userId = randomUUID();
    const first = heldOrFail(await engine.hold(holdRequest(scheduleId, [1, 2, 3], userId)));

    const over = await engine.hold(holdRequest(scheduleId, [4, 5], userId));
    const someoneElse = await engine.hold(holdRequest(scheduleId, [4, 5]));

    expect(rejectionOf(over)).toEqual({ code: 'LIMIT_EXCEEDED', limit: 4, held: 3 });
    expect(someoneElse.ok).toBe(true);
    expect((await seatRows(scheduleId)).get(6)!.status).toBe('AVAILABLE');

    await engine.release({ reservation: first, userId });
    const afterRelease = await engine.hold(holdRequest(scheduleId, [6, 7, 8, 9], userId));
    expect(afterRelease.ok).toBe(true);
  });

  test('when one user sends 10 single-seat holds at once with a limit of 4, then exactly 4 succeed', async () => {
    const engine = await startEngine(kind, { maxSeatsPerUser: 4 });
    const scheduleId = await newSchedule(20);
    const userId = randomUUID();

    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => engine.hold(holdRequest(scheduleId, [i + 1], userId))),
    );

    expect(results.filter((r) => r.ok)).toHaveLength(4);
    const refusals = results.map(rejectionOf).filter((r) => r !== undefined);
    expect(refusals).toHaveLength(6);
    for (const refusal of refusals) expect(refusal).toMatchObject({ code: 'LIMIT_EXCEEDED', limit: 4 });
    expect(
      await count(`SELECT count(*)::int AS n FROM seats WHERE schedule_id = $1 AND status = 'HELD'`, [scheduleId]),
    ).toBe(4);
  });

  test('when someone other than the owner releases or pays, then NOT_OWNER and the hold stays untouched', async () => {
    const engine = await startEngine(kind);
    const scheduleId = await newSchedule();
    const held = heldOrFail(await engine.hold(holdRequest(scheduleId, [3])));
    const stranger = randomUUID();
    await creditUser(stranger, 10 * PRICE);

    const release = await engine.release({ reservation: held, userId: stranger });
    const pay = await engine.pay(payRequest(held, stranger));

    expect(rejectionOf(release)).toEqual({ code: 'NOT_OWNER' });
    expect(rejectionOf(pay)).toEqual({ code: 'NOT_OWNER' });
    expect(await reservationStatus(held.reservationId)).toBe('HELD');
    expect((await seatRows(scheduleId)).get(3)!.status).toBe('HELD');
    expect(await balanceOf(stranger)).toBe(10 * PRICE);
  });

  test('when the owner pays with enough balance, then the balance is debited once with its ledger row, the seats are SOLD, the reservation CONFIRMED and one outbox row written', async () => {
    const engine = await startEngine(kind);
    const scheduleId = await newSchedule();
    const userId = randomUUID();
    await creditUser(userId, 5 * PRICE);
    const held = heldOrFail(await engine.hold(holdRequest(scheduleId, [2, 3], userId)));
    const request = payRequest(held);

    const paid = await engine.pay(request);

    expect(paid).toEqual({
      ok: true,
      receipt: { paymentId: request.paymentId, reservationId: held.reservationId, amount: 3 * PRICE, status: 'PAID', balance: 2 * PRICE },
    });
    expect(await balanceOf(userId)).toBe(2 * PRICE);
    const ledger = await db.query('SELECT delta, balance_after FROM balance_ledger WHERE kind = $1 AND ref_id = $2', [
      'PAYMENT',
      request.paymentId,
    ]);
    expect(ledger.rows).toEqual([{ delta: -3 * PRICE, balance_after: 2 * PRICE }]);
    const seats = await seatStatuses(engine, scheduleId);
    expect([seats.get(2), seats.get(3)]).toEqual(['SOLD', 'SOLD']);
    expect(await reservationStatus(held.reservationId)).toBe('CONFIRMED');
    const outbox = await db.query<{ topic: string; payload: Record<string, unknown> }>(
      `SELECT topic, payload FROM outbox WHERE payload->>'reservationId' = $1`,
      [held.reservationId],
    );
    expect(outbox.rows).toHaveLength(1);
    expect(outbox.rows[0]!.topic).toBe(OUTBOX_TOPIC);
    expect(outbox.rows[0]!.payload).toMatchObject({ paymentId: request.paymentId, seatNos: [2, 3], amount: 3 * PRICE });

    const again = await engine.pay(payRequest(held));
    expect(rejectionOf(again)).toEqual({ code: 'RESERVATION_NOT_HELD' });
    expect(await balanceOf(userId)).toBe(2 * PRICE);
  });

  test('when the balance does not cover the hold, then INSUFFICIENT_BALANCE and nothing changes', async () => {
    const engine = await startEngine(kind);
    const scheduleId = await newSchedule();
    const userId = randomUUID();
    await creditUser(userId, PRICE);
    const held = heldOrFail(await engine.hold(holdRequest(scheduleId, [1], userId)));

    const paid = await engine.pay(payRequest(held));

    expect(rejectionOf(paid)).toEqual({ code: 'INSUFFICIENT_BALANCE' });
    expect(await balanceOf(userId)).toBe(PRICE);
    expect(await count('SELECT count(*)::int AS n FROM balance_ledger WHERE user_id = $1', [userId])).toBe(1);
    expect(await count('SELECT count(*)::int AS n FROM payments WHERE reservation_id = $1', [held.reservationId])).toBe(0);
    expect(
      await count(`SELECT count(*)::int AS n FROM outbox WHERE payload->>'reservationId' = $1`, [held.reservationId]),
    ).toBe(0);
    expect(await reservationStatus(held.reservationId)).toBe('HELD');
    expect((await seatRows(scheduleId)).get(1)).toEqual({ status: 'HELD', reservationId: held.reservationId });
  });

  test('when 50 payments race on one balance that covers only 10, then 10 succeed, the balance never goes negative and balance plus payments is conserved', async () => {
    const engine = await startEngine(kind, { maxSeatsPerUser: 50 });
    const scheduleId = await newSchedule(60);
    const userId = randomUUID();
    const initial = 10 * PRICE + 500;
    await creditUser(userId, initial);
    // Seats 1-2 are VIP (2x price): use 11..60 so every hold costs PRICE.
    const holds = await Promise.all(
      Array.from({ length: 50 }, (_, i) => engine.hold(holdRequest(scheduleId, [i + 11], userId))),
    );

    const results = await Promise.all(holds.map((hold) => engine.pay(payRequest(heldOrFail(hold)))));

    const paid = results.filter((r): r is Extract<PayResult, { ok: true }> => r.ok);
    expect(paid).toHaveLength(10);
    expect(results.filter((r) => rejectionOf(r)?.code === 'INSUFFICIENT_BALANCE')).toHaveLength(40);
    const balance = await balanceOf(userId);
    expect(balance).toBe(500);
    expect(balance + paid.reduce((sum, r) => sum + r.receipt.amount, 0)).toBe(initial);
    expect(Math.min(...paid.map((r) => r.receipt.balance))).toBeGreaterThanOrEqual(0);
    expect(await count('SELECT sum(delta)::int AS n FROM balance_ledger WHERE user_id = $1', [userId])).toBe(balance);
    expect(await count('SELECT count(*)::int AS n FROM payments WHERE user_id = $1', [userId])).toBe(10);
    expect(
      await count(`SELECT count(*)::int AS n FROM seats WHERE schedule_id = $1 AND status = 'SOLD'`, [scheduleId]),
    ).toBe(10);
  });

  test('when a hold outlives its TTL, then the sweeper frees its seats and marks it EXPIRED, and paying afterwards answers RESERVATION_EXPIRED', async () => {
    const engine = await startEngine(kind, { holdTtlMs: 300, sweepIntervalMs: 50 });
    const scheduleId = await newSchedule();
    const userId = randomUUID();
    await creditUser(userId, 10 * PRICE);
    const held = heldOrFail(await engine.hold(holdRequest(scheduleId, [8, 9], userId)));
    expect((await seatStatuses(engine, scheduleId)).get(8)).toBe('HELD');

    await eventually(async () => (await reservationStatus(held.reservationId)) === 'EXPIRED');

    const seats = await seatStatuses(engine, scheduleId);
    expect([seats.get(8), seats.get(9)]).toEqual(['AVAILABLE', 'AVAILABLE']);
    expect(rejectionOf(await engine.pay(payRequest(held)))).toEqual({ code: 'RESERVATION_EXPIRED' });
    expect(rejectionOf(await engine.release({ reservation: held, userId }))).toEqual({ code: 'RESERVATION_EXPIRED' });
    expect(await balanceOf(userId)).toBe(10 * PRICE);
    expect((await engine.hold(holdRequest(scheduleId, [8, 9]))).ok).toBe(true);
  });

  test('when the clock passes a hold expiry before the sweeper runs, then pay and release answer RESERVATION_EXPIRED and nothing is charged', async () => {
    let clock = Date.now();
    const engine = await startEngine(kind, { holdTtlMs: 1_000, sweepIntervalMs: 600_000, now: () => clock });
    const scheduleId = await newSchedule();
    const userId = randomUUID();
    await creditUser(userId, 10 * PRICE);
    const held = heldOrFail(await engine.hold(holdRequest(scheduleId, [4], userId)));

    clock += 1_000;

    expect(rejectionOf(await engine.pay(payRequest(held)))).toEqual({ code: 'RESERVATION_EXPIRED' });
    expect(rejectionOf(await engine.release({ reservation: held, userId }))).toEqual({ code: 'RESERVATION_EXPIRED' });
    expect(await balanceOf(userId)).toBe(10 * PRICE);
    // Not swept yet: the row still says HELD, and the expired hold no longer counts for the limit.
    expect(await reservationStatus(held.reservationId)).toBe('HELD');
    expect((await engine.hold(holdRequest(scheduleId, [5, 6, 7, 8], userId))).ok).toBe(true);
  });

  test('when the engine is stopped, then it is not ready and refuses new requests as unavailable', async () => {
    const engine = await startEngine(kind);
    const scheduleId = await newSchedule();
    expect(engine.isReady()).toBe(true);
    expect(engine.actors()).toEqual([]);

    const inFlight = engine.hold(holdRequest(scheduleId, [1]));
    await engine.stop();

    expect((await inFlight).ok).toBe(true);
    expect(engine.isReady()).toBe(false);
    await expect(engine.hold(holdRequest(scheduleId, [2]))).rejects.toBeInstanceOf(EngineStoppedError);
  });
});

describe('lock engine (Redis specifics)', () => {
  test('when the seat map has been read, then it is served from Redis and every hold, release, sale and expiry deletes it', async () => {
    const engine = await startEngine('lock', { holdTtlMs: 400, sweepIntervalMs: 50 });
    const scheduleId = await newSchedule();
    const keys = scheduleLockKeys(keyPrefix, scheduleId);
    expect(keys.seatMap).toBe(`${keyPrefix}lock:{${scheduleId}}:seat-map`);
    const userId = randomUUID();
    await creditUser(userId, 10 * PRICE);
    const cachedAfterRead = async () => {
      const json = await engine.seatMapJson(scheduleId);
      expect(await redis.get(keys.seatMap)).toBe(json);
    };

    await cachedAfterRead();
    // Served from the cache: a planted value comes back.
    await redis.set(keys.seatMap, '{"planted":true}');
    expect(await engine.seatMapJson(scheduleId)).toBe('{"planted":true}');

    const sold = heldOrFail(await engine.hold(holdRequest(scheduleId, [1], userId)));
    expect(await redis.get(keys.seatMap)).toBeNull();
    expect((await seatStatuses(engine, scheduleId)).get(1)).toBe('HELD');

    await cachedAfterRead();
    const released = heldOrFail(await engine.hold(holdRequest(scheduleId, [2], userId)));
    await cachedAfterRead();
    await engine.release({ reservation: released, userId });
    expect(await redis.get(keys.seatMap)).toBeNull();
    expect((await seatStatuses(engine, scheduleId)).get(2)).toBe('AVAILABLE');

    await engine.pay(payRequest(sold));
    expect(await redis.get(keys.seatMap)).toBeNull();
    expect((await seatStatuses(engine, scheduleId)).get(1)).toBe('SOLD');

    const expiring = heldOrFail(await engine.hold(holdRequest(scheduleId, [3], userId)));
    await cachedAfterRead();
    await eventually(async () => (await reservationStatus(expiring.reservationId)) === 'EXPIRED');
    await eventually(async () => (await redis.get(keys.seatMap)) === null, 2_000);
    expect((await seatStatuses(engine, scheduleId)).get(3)).toBe('AVAILABLE');
  });

  test('when an invalidation lands while a cache fill is querying, then the stale map is not stored', async () => {
    const cache = new SeatMapCache(redis, keyPrefix, 60_000);
    const scheduleId = randomUUID();
    const keys = scheduleLockKeys(keyPrefix, scheduleId);

    const served = await cache.get(scheduleId, async () => {
      await cache.invalidate(scheduleId); // a writer commits and invalidates meanwhile
      return '{"stale":true}';
    });

    expect(served).toBe('{"stale":true}');
    expect(await redis.get(keys.seatMap)).toBeNull();
    await cache.get(scheduleId, async () => '{"fresh":true}');
    expect(await redis.get(keys.seatMap)).toBe('{"fresh":true}');
  });

  test('when a seat lock stays busy longer than lockWaitMs, then the hold gives up with SEAT_UNAVAILABLE without touching the database', async () => {
    const engine = await startEngine('lock', { lockWaitMs: 50 });
    const scheduleId = await newSchedule();
    const keys = scheduleLockKeys(keyPrefix, scheduleId);
    await redis.set(keys.seat(5), 'someone-else', 'PX', 10_000);

    const started = Date.now();
    const result = await engine.hold(holdRequest(scheduleId, [4, 5]));

    expect(rejectionOf(result)).toEqual({ code: 'SEAT_UNAVAILABLE', seatNos: [5] });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect((await seatRows(scheduleId)).get(4)!.status).toBe('AVAILABLE');
    // Seat 4's lock, taken before giving up, was given back; the foreign lock was not touched.
    expect(await redis.exists(keys.seat(4))).toBe(0);
    expect(await redis.get(keys.seat(5))).toBe('someone-else');
  });

  test('when a hold succeeds, then no lock key is left behind', async () => {
    const engine = await startEngine('lock');
    const scheduleId = await newSchedule();

    heldOrFail(await engine.hold(holdRequest(scheduleId, [1, 2, 3])));

    const [, left] = await redis.scan('0', 'MATCH', `${keyPrefix}lock:{${scheduleId}}:seat:*`, 'COUNT', 1000);
    expect(left).toEqual([]);
  });

  test('when a reservation lock stays busy longer than lockWaitMs, then pay throws LockBusyError and charges nothing', async () => {
    const engine = await startEngine('lock', { lockWaitMs: 50 });
    const scheduleId = await newSchedule();
    const userId = randomUUID();
    await creditUser(userId, 10 * PRICE);
    const held = heldOrFail(await engine.hold(holdRequest(scheduleId, [6], userId)));
    await redis.set(scheduleLockKeys(keyPrefix, scheduleId).reservation(held.reservationId), 'other', 'PX', 10_000);

    await expect(engine.pay(payRequest(held))).rejects.toBeInstanceOf(LockBusyError);

    expect(await balanceOf(userId)).toBe(10 * PRICE);
    expect(await reservationStatus(held.reservationId)).toBe('HELD');
  });
});
