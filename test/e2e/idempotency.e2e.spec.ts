import { randomUUID } from 'node:crypto';
import { ENGINES, startTestApp, type TestApp } from '../support/test-app';
import { act, activeUser, charge, createConcert, hold, holdRequest, issueToken, payRequest } from '../support/api-client';

describe.each(ENGINES)('idempotency keys (%s engine)', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RESERVATION_ENGINE: engine });
  });
  afterAll(async () => {
    await t?.close();
  });

  const chargeRequest = (userId: string, key: string, amount: number) => ({
    method: 'POST' as const,
    url: `/v1/users/${userId}/balance/charges`,
    headers: { 'idempotency-key': key },
    body: { amount },
  });

  it('when a charge is replayed with the same key, then the first result comes back and money is added once', async () => {
    const userId = randomUUID();
    const key = randomUUID();
    const first = await act(t.app, chargeRequest(userId, key, 5_000));
    const again = await act(t.app, chargeRequest(userId, key, 5_000));
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect((await act(t.app, { method: 'GET', url: `/v1/users/${userId}/balance` })).body.balance).toBe(5_000);
  });

  it('when 20 identical charges race with one key, then the balance grows once and all get the same chargeId', async () => {
    const userId = randomUUID();
    const key = randomUUID();
    const responses = await Promise.all(Array.from({ length: 20 }, () => act(t.app, chargeRequest(userId, key, 700))));
    // The first is APPROVED; one that arrives while the first is still at the gateway hears the truth: PENDING.
    expect(responses.map((r) => r.status).filter((s) => s !== 200 && s !== 202)).toEqual([]);
    expect(responses.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(1);
    expect(new Set(responses.map((r) => r.body.chargeId)).size).toBe(1);
    expect((await act(t.app, chargeRequest(userId, key, 700))).body).toMatchObject({ status: 'APPROVED', balance: 700 });
    expect((await act(t.app, { method: 'GET', url: `/v1/users/${userId}/balance` })).body.balance).toBe(700);
  });

  it('when a key is reused with another amount, then 409 IDEMPOTENCY_KEY_REUSED and nothing is charged', async () => {
    const userId = randomUUID();
    const key = randomUUID();
    await act(t.app, chargeRequest(userId, key, 1_000));
    const reused = await act(t.app, chargeRequest(userId, key, 2_000));
    expect(reused.status).toBe(409);
    expect(reused.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect((await act(t.app, { method: 'GET', url: `/v1/users/${userId}/balance` })).body.balance).toBe(1_000);
  });

  it('when a payment is replayed with the same key, then the same payment comes back (201) and the balance is debited once', async () => {
    const concert = await createConcert(t.app, { price: 10_000 });
    const { userId, token } = await activeUser(t.app, concert.concertId);
    await charge(t.app, userId, 50_000);
    const held = await hold(t.app, token, concert.schedules[0]!.scheduleId, [1]);
    const key = randomUUID();

    const first = await act(t.app, payRequest(token, held.reservationId, key));
    const replay = await act(t.app, payRequest(token, held.reservationId, key));

    expect(first.status).toBe(201);
    expect(replay.status).toBe(201);
    expect(replay.body.paymentId).toBe(first.body.paymentId);
    expect((await act(t.app, { method: 'GET', url: `/v1/users/${userId}/balance` })).body.balance).toBe(40_000);
    const { rows } = await t.services.db.query('SELECT count(*)::int AS n FROM payments WHERE user_id = $1', [userId]);
    expect(rows[0].n).toBe(1);
  });

  it('when the same payment races with one key, then one payment is made and every response carries it', async () => {
    const concert = await createConcert(t.app, { price: 10_000 });
    const { userId, token } = await activeUser(t.app, concert.concertId);
    await charge(t.app, userId, 50_000);
    const held = await hold(t.app, token, concert.schedules[0]!.scheduleId, [2]);
    const key = randomUUID();

    const responses = await Promise.all(Array.from({ length: 10 }, () => act(t.app, payRequest(token, held.reservationId, key))));

    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(201));
    expect(new Set(responses.map((r) => r.body.paymentId)).size).toBe(1);
    expect((await act(t.app, { method: 'GET', url: `/v1/users/${userId}/balance` })).body.balance).toBe(40_000);
  });

  it('when a paid reservation is paid again with a new key, then 409 RESERVATION_NOT_HELD', async () => {
    const concert = await createConcert(t.app, { price: 10_000 });
    const { userId, token } = await activeUser(t.app, concert.concertId);
    await charge(t.app, userId, 50_000);
    const held = await hold(t.app, token, concert.schedules[0]!.scheduleId, [3]);
    await act(t.app, payRequest(token, held.reservationId));
    const { token: second } = await issueToken(t.app, userId, concert.concertId);
    const again = await act(t.app, payRequest(second, held.reservationId));
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('RESERVATION_NOT_HELD');
    expect((await act(t.app, { method: 'GET', url: `/v1/users/${userId}/balance` })).body.balance).toBe(40_000);
  });

  const keyedHold = (token: string, scheduleId: string, seatNos: number[], key: string) => ({
    ...holdRequest(token, scheduleId, seatNos),
    headers: { 'queue-token': token, 'idempotency-key': key },
  });
  const keyedCancel = (token: string, reservationId: string, key: string) => ({
    method: 'DELETE' as const,
    url: `/v1/reservations/${reservationId}`,
    headers: { 'queue-token': token, 'idempotency-key': key },
  });

  it('when a hold is replayed with the same key, then the first 201 comes back and the seats are held once', async () => {
    const concert = await createConcert(t.app);
    const { userId, token } = await activeUser(t.app, concert.concertId);
    const scheduleId = concert.schedules[0]!.scheduleId;
    const first = await act(t.app, keyedHold(token, scheduleId, [5, 6], 'hold-1'));
    const replay = await act(t.app, keyedHold(token, scheduleId, [5, 6], 'hold-1'));
    expect([first.status, replay.status]).toEqual([201, 201]);
    expect(replay.body).toEqual(first.body);
    const { rows } = await t.services.db.query('SELECT count(*)::int AS n FROM reservations WHERE user_id = $1', [userId]);
    expect(rows[0].n).toBe(1);

    const reused = await act(t.app, keyedHold(token, scheduleId, [7], 'hold-1'));
    expect([reused.status, reused.body.code]).toEqual([409, 'IDEMPOTENCY_KEY_REUSED']);
  });

  it('when one keyed hold races with itself, then one reservation exists and every 201 names it', async () => {
    const concert = await createConcert(t.app);
    const { userId, token } = await activeUser(t.app, concert.concertId);
    const scheduleId = concert.schedules[0]!.scheduleId;
    const responses = await Promise.all(Array.from({ length: 8 }, () => act(t.app, keyedHold(token, scheduleId, [9], 'race'))));
    expect(responses.map((r) => r.status)).toEqual(Array(8).fill(201));
    const { rows } = await t.services.db.query('SELECT id FROM reservations WHERE user_id = $1', [userId]);
    expect(rows).toHaveLength(1);
    expect(new Set(responses.map((r) => r.body.reservationId))).toEqual(new Set([rows[0].id]));
  });

  it('when one key is sent with two different holds at once among other buyers, then one 201, one 409 IDEMPOTENCY_KEY_REUSED, and every other buyer holds', async () => {
    const concert = await createConcert(t.app);
    const scheduleId = concert.schedules[0]!.scheduleId;
    const abuser = await activeUser(t.app, concert.concertId);
    const others = await Promise.all(Array.from({ length: 6 }, () => activeUser(t.app, concert.concertId)));
    const [first, second, ...rest] = await Promise.all([
      act(t.app, keyedHold(abuser.token, scheduleId, [1], 'same')),
      act(t.app, keyedHold(abuser.token, scheduleId, [2], 'same')),
      ...others.map((o, i) => act(t.app, holdRequest(o.token, scheduleId, [10 + i]))),
    ]);
    expect([first!.status, second!.status].sort()).toEqual([201, 409]);
    expect([first, second].find((r) => r!.status === 409)!.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(rest.map((r) => r.status)).toEqual(Array(6).fill(201));
  });

  it('when a cancel is replayed with the same key, then the first 200 comes back; the key on another reservation → 409', async () => {
    const concert = await createConcert(t.app);
    const { token } = await activeUser(t.app, concert.concertId);
    const scheduleId = concert.schedules[0]!.scheduleId;
    const first = await hold(t.app, token, scheduleId, [11]);
    const second = await hold(t.app, token, scheduleId, [12]);
    const cancelled = await act(t.app, keyedCancel(token, first.reservationId, 'cancel-1'));
    const replay = await act(t.app, keyedCancel(token, first.reservationId, 'cancel-1'));
    expect([cancelled.status, replay.status]).toEqual([200, 200]);
    expect(replay.body).toEqual(cancelled.body);
    expect(cancelled.body.status).toBe('CANCELLED');
    const plain = await act(t.app, { ...keyedCancel(token, first.reservationId, 'other'), headers: { 'queue-token': token } });
    expect([plain.status, plain.body.code]).toEqual([409, 'RESERVATION_NOT_HELD']);
    const reused = await act(t.app, keyedCancel(token, second.reservationId, 'cancel-1'));
    expect([reused.status, reused.body.code]).toEqual([409, 'IDEMPOTENCY_KEY_REUSED']);
  });
});
