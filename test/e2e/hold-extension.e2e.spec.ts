import { ENGINES, startTestApp, TEST_QUEUE, type TestApp } from '../support/test-app';
import { act, activeUser, createConcert, hold, issueToken, seatStatuses, type Request } from '../support/api-client';
import { eventually, untilPast } from '../support/eventually';

const extendRequest = (token: string, reservationId: string): Request => ({
  method: 'POST',
  url: `/v1/reservations/${reservationId}/extension`,
  headers: { 'queue-token': token },
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(ENGINES)('hold extension (%s engine)', (engine) => {
  let t: TestApp;
  beforeAll(async () => {
    // Holds last 2 s; an extension moves the expiry to now + 2 s, never past creation + 3 s.
    t = await startTestApp({ RESERVATION_ENGINE: engine, HOLD_TTL_SECONDS: '2', HOLD_MAX_SECONDS: '3' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('when a hold is extended, then expiresAt moves to now + TTL but never past creation + HOLD_MAX_SECONDS, and past the cap it is refused 409 HOLD_EXTENSION_LIMIT', async () => {
    const concert = await createConcert(t.app);
    const scheduleId = concert.schedules[0]!.scheduleId;
    const { userId, token } = await activeUser(t.app, concert.concertId);
    const held = await hold(t.app, token, scheduleId, [3]);
    const createdAt = Date.parse(held.expiresAt) - 2_000;
    await sleep(300);

    const before = Date.now();
    const first = await act(t.app, extendRequest(token, held.reservationId));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ reservationId: held.reservationId, status: 'HELD', seatNos: [3] });
    const firstExpiry = Date.parse(first.body.expiresAt);
    expect(firstExpiry).toBeGreaterThanOrEqual(before + 2_000 - 5);
    expect(firstExpiry).toBeLessThanOrEqual(Date.now() + 2_000);

    await sleep(1_200);
    const capped = await act(t.app, extendRequest(token, held.reservationId));
    expect(capped.status).toBe(200);
    // The cap is creation + 3 s, to the millisecond the database keeps.
    expect(Math.abs(Date.parse(capped.body.expiresAt) - (createdAt + 3_000))).toBeLessThanOrEqual(2);

    const refused = await act(t.app, extendRequest(token, held.reservationId));
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('HOLD_EXTENSION_LIMIT');
    const listed = await act(t.app, { method: 'GET', url: `/v1/users/${userId}/reservations` });
    expect(listed.body.reservations[0].expiresAt).toBe(capped.body.expiresAt);
  });

  it('when the schedule has started, then a live hold is not extended (409 SALE_CLOSED) and keeps its expiry', async () => {
    const startsAt = new Date(Date.now() + 1_000).toISOString();
    const created = await act(t.app, {
      method: 'POST',
      url: '/v1/admin/concerts',
      headers: { 'x-admin-key': 'test-admin-key' },
      body: { title: 'Starting now', venue: 'Hall', schedules: [{ startsAt, seatCount: 10, price: 1000 }] },
    });
    expect(created.status).toBe(201);
    const { userId, token } = await activeUser(t.app, created.body.concertId);
    const held = await hold(t.app, token, created.body.schedules[0].scheduleId, [1]);
    await untilPast(startsAt);
    const refused = await act(t.app, extendRequest(token, held.reservationId));
    expect([refused.status, refused.body.code]).toEqual([409, 'SALE_CLOSED']);
    const listed = await act(t.app, { method: 'GET', url: `/v1/users/${userId}/reservations` });
    expect(listed.body.reservations).toEqual([expect.objectContaining({ status: 'HELD', expiresAt: held.expiresAt })]);
  });

  it('when a hold is extended, then it outlives its first expiry and expires at the new one (the timer is re-armed)', async () => {
    const concert = await createConcert(t.app);
    const scheduleId = concert.schedules[0]!.scheduleId;
    const { token } = await activeUser(t.app, concert.concertId);
    const held = await hold(t.app, token, scheduleId, [4]);
    await sleep(800);
    const extended = await act(t.app, extendRequest(token, held.reservationId));
    expect(extended.status).toBe(200);

    await untilPast(held.expiresAt, 600); // well past the first expiry (and the baselines' sweep)
    expect((await seatStatuses(t.app, scheduleId)).get(4)).toBe('HELD');
    expect(await reservationStatus(t, held.reservationId)).toBe('HELD');

    await untilPast(extended.body.expiresAt);
    await eventually(async () => (await seatStatuses(t.app, scheduleId)).get(4) === 'AVAILABLE');
    expect(await reservationStatus(t, held.reservationId)).toBe('EXPIRED');
  });

  it('when the reservation is not a live hold, someone else’s, or unknown, then 409 RESERVATION_NOT_HELD, 403 NOT_OWNER, 404', async () => {
    const concert = await createConcert(t.app);
    const scheduleId = concert.schedules[0]!.scheduleId;
    const owner = await activeUser(t.app, concert.concertId);
    const stranger = await activeUser(t.app, concert.concertId);
    const cancelled = await hold(t.app, owner.token, scheduleId, [5]);
    await act(t.app, { method: 'DELETE', url: `/v1/reservations/${cancelled.reservationId}`, headers: { 'queue-token': owner.token } });
    const expiring = await hold(t.app, owner.token, scheduleId, [6]);
    const live = await hold(t.app, owner.token, scheduleId, [7]);
    await untilPast(expiring.expiresAt);

    const notHeld = await act(t.app, extendRequest(owner.token, cancelled.reservationId));
    const expired = await act(t.app, extendRequest(owner.token, expiring.reservationId));
    const notOwner = await act(t.app, extendRequest(stranger.token, live.reservationId));
    const unknown = await act(t.app, extendRequest(owner.token, '00000000-0000-4000-8000-000000000000'));
    const noToken = await act(t.app, { method: 'POST', url: `/v1/reservations/${live.reservationId}/extension` });
    const badId = await act(t.app, extendRequest(owner.token, 'not-a-uuid'));

    expect([notHeld.status, notHeld.body.code]).toEqual([409, 'RESERVATION_NOT_HELD']);
    expect([expired.status, expired.body.code]).toEqual([409, 'RESERVATION_NOT_HELD']);
    expect([notOwner.status, notOwner.body.code]).toEqual([403, 'NOT_OWNER']);
    expect([unknown.status, unknown.body.code]).toEqual([404, 'RESERVATION_NOT_FOUND']);
    expect([noToken.status, noToken.body.code]).toEqual([401, 'TOKEN_MISSING']);
    expect([badId.status, badId.body.code]).toEqual([400, 'VALIDATION_FAILED']);
  });
});

describe('hold extension across a restart (actor engine)', () => {
  let t: TestApp;
  const env = { RESERVATION_ENGINE: 'actor', HOLD_TTL_SECONDS: '3', HOLD_MAX_SECONDS: '5', SNAPSHOT_EVERY_EVENTS: '1' };
  beforeAll(async () => {
    // A snapshot after every event: the restart recovers the extension from a snapshot, not a replay.
    t = await startTestApp(env);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('when an extended hold’s server restarts, then the new expiresAt holds: it is HELD past the old expiry and expires at the new one', async () => {
    const concert = await createConcert(t.app);
    const scheduleId = concert.schedules[0]!.scheduleId;
    const { userId, token } = await activeUser(t.app, concert.concertId);
    const held = await hold(t.app, token, scheduleId, [8]);
    await sleep(1_000);
    const extended = await act(t.app, extendRequest(token, held.reservationId));
    expect(extended.status).toBe(200);
    const newExpiry = Date.parse(extended.body.expiresAt);
    expect(newExpiry).toBeGreaterThan(Date.parse(held.expiresAt) + 900);
    await eventually(async () => {
      const { rows } = await t.services.db.query('SELECT max(seq)::int AS seq FROM snapshots WHERE schedule_id = $1', [scheduleId]);
      return rows[0].seq === 2;
    });

    await t.restart(env);
    const freshToken = TEST_QUEUE === 'memory' ? (await issueToken(t.app, userId, concert.concertId)).token : token;

    await untilPast(held.expiresAt, 300);
    expect((await seatStatuses(t.app, scheduleId)).get(8)).toBe('HELD');
    // The recovered hold still knows when it was made: the next extension stops at creation + 5 s.
    const again = await act(t.app, extendRequest(freshToken, held.reservationId));
    expect(again.status).toBe(200);
    expect(Math.abs(Date.parse(again.body.expiresAt) - (Date.parse(held.expiresAt) - 3_000 + 5_000))).toBeLessThanOrEqual(2);

    await untilPast(again.body.expiresAt);
    await eventually(async () => (await seatStatuses(t.app, scheduleId)).get(8) === 'AVAILABLE');
    const { rows } = await t.services.db.query(`SELECT type, payload FROM journal WHERE schedule_id = $1 ORDER BY seq`, [scheduleId]);
    expect(rows.map((r) => r.type)).toEqual(['SeatsHeld', 'HoldExtended', 'HoldExtended', 'HoldExpired']);
    expect(rows[3].payload.at).toBeGreaterThanOrEqual(Date.parse(again.body.expiresAt));
    expect(await reservationStatus(t, held.reservationId)).toBe('EXPIRED');
  });
});

async function reservationStatus(t: TestApp, reservationId: string): Promise<string> {
  const { rows } = await t.services.db.query('SELECT status FROM reservations WHERE id = $1', [reservationId]);
  return rows[0].status;
}
