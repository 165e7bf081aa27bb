import { ADMIN_KEY, startTestApp } from '../support/test-app';
import { eventually, untilPast } from '../support/eventually';
import { act, activeUser, createConcert, hold, holdRequest, seatStatuses } from '../support/api-client';


describe('actor lifecycle: backpressure, shutdown, expiry across restarts', () => {
  it('when a schedule actor mailbox is full, then new commands get 503 with Retry-After and nothing is lost', async () => {
    const t = await startTestApp({ ACTOR_MAILBOX_CAPACITY: '5', QUEUE_MAX_ACTIVE: '1000' });
    try {
      const concert = await createConcert(t.app, { seatCount: 200 });
      const scheduleId = concert.schedules[0]!.scheduleId;
      const users = await Promise.all(Array.from({ length: 100 }, () => activeUser(t.app, concert.concertId)));

      const responses = await Promise.all(users.map((u, i) => act(t.app, holdRequest(u.token, scheduleId, [i + 1]))));

      const busy = responses.filter((r) => r.status === 503);
      expect(busy.length).toBeGreaterThan(0);
      expect(busy.every((r) => r.body.code === 'SERVICE_UNAVAILABLE' && r.headers['retry-after'] === '1')).toBe(true);
      expect(responses.every((r) => r.status === 201 || r.status === 503)).toBe(true);
      const seats = await seatStatuses(t.app, scheduleId);
      const held = responses.filter((r) => r.status === 201).map((r) => r.body.seatNos[0]);
      expect([...seats].filter(([, s]) => s === 'HELD').map(([n]) => n).sort((a, b) => a - b)).toEqual(held.sort((a, b) => a - b));
    } finally {
      await t.close();
    }
  });

  it('when the server shuts down during a burst of holds, then every acknowledged hold is committed', async () => {
    const t = await startTestApp({ QUEUE_MAX_ACTIVE: '1000' });
    try {
      const concert = await createConcert(t.app, { seatCount: 300 });
      const scheduleId = concert.schedules[0]!.scheduleId;
      const users = await Promise.all(Array.from({ length: 300 }, () => activeUser(t.app, concert.concertId)));
      const burst = users.map((u, i) => act(t.app, holdRequest(u.token, scheduleId, [i + 1])));
      await Promise.race(burst); // the first holds are acknowledged, the rest are in flight
      const closing = t.app.close();
      const responses = await Promise.all(burst);
      await closing;

      const acknowledged = responses.filter((r) => r.status === 201).map((r) => r.body.reservationId);
      expect(acknowledged.length).toBeGreaterThan(0);
      await t.restart();
      const { rows } = await t.services.db.query(`SELECT id FROM reservations WHERE schedule_id = $1 AND status = 'HELD'`, [scheduleId]);
      expect(rows.map((r) => r.id).sort()).toEqual(acknowledged.sort());
      const seats = await seatStatuses(t.app, scheduleId);
      expect([...seats.values()].filter((s) => s === 'HELD')).toHaveLength(acknowledged.length);
    } finally {
      await t.close();
    }
  });

  it('when holds expire while the server is down, then recovery expires and journals them at once', async () => {
    const t = await startTestApp({ HOLD_TTL_SECONDS: '1' });
    try {
      const concert = await createConcert(t.app);
      const scheduleId = concert.schedules[0]!.scheduleId;
      const user = await activeUser(t.app, concert.concertId);
      const held = await hold(t.app, user.token, scheduleId, [4]);
      await t.app.close();
      await untilPast(held.expiresAt);
      await t.restart({ HOLD_TTL_SECONDS: '300' });

      const seats = await seatStatuses(t.app, scheduleId);
      expect(seats.get(4)).toBe('AVAILABLE');
      const { rows } = await t.services.db.query('SELECT seq, type FROM journal WHERE schedule_id = $1 ORDER BY seq', [scheduleId]);
      expect(rows).toEqual([
        { seq: 1, type: 'SeatsHeld' },
        { seq: 2, type: 'HoldExpired' },
      ]);
      const reservation = await t.services.db.query('SELECT status FROM reservations WHERE id = $1', [held.reservationId]);
      expect(reservation.rows[0].status).toBe('EXPIRED');
    } finally {
      await t.close();
    }
  });

  it('when a schedule has more events than SNAPSHOT_EVERY_EVENTS, then a snapshot is written and a restart recovers from it', async () => {
    const t = await startTestApp({ SNAPSHOT_EVERY_EVENTS: '10', MAX_SEATS_PER_HOLD: '50' });
    try {
      const concert = await createConcert(t.app, { seatCount: 50 });
      const scheduleId = concert.schedules[0]!.scheduleId;
      const user = await activeUser(t.app, concert.concertId);
      for (let seat = 1; seat <= 25; seat++) await hold(t.app, user.token, scheduleId, [seat]);
      // The snapshot is written on the side, after its commit: wait for it, not for a fixed time.
      const actors = await eventually(async () => {
        const answer = await act(t.app, { method: 'GET', url: '/v1/admin/actors', headers: { 'x-admin-key': 'test-admin-key' } });
        return answer.body.actors[0]?.snapshotSeq === 20 ? answer : undefined;
      });
      expect(actors.body.actors).toEqual([
        expect.objectContaining({ scheduleId, heldSeats: 25, journalSeq: 25, snapshotSeq: 20, lastSnapshotAt: expect.any(String) }),
      ]);

      await t.restart();

      const after = await act(t.app, { method: 'GET', url: '/v1/admin/actors', headers: { 'x-admin-key': 'test-admin-key' } });
      expect(after.body.actors).toEqual([]);
      const seats = await seatStatuses(t.app, scheduleId);
      expect([...seats.values()].filter((s) => s === 'HELD')).toHaveLength(25);
      const recovered = await act(t.app, { method: 'GET', url: '/v1/admin/actors', headers: { 'x-admin-key': 'test-admin-key' } });
      expect(recovered.body.actors[0]).toMatchObject({ journalSeq: 25, snapshotSeq: 20 });
      const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
      expect(metrics.body).toMatch(/ovation_actor_held_seats\{schedule_id="[^"]+"\} 25/);
      expect(metrics.body).toMatch(/http_request_duration_seconds_bucket/);
    } finally {
      await t.close();
    }
  });

  it('when schedules are listed, then no actor is spawned for them and the counts match the seats held', async () => {
    const t = await startTestApp({ QUEUE_MAX_ACTIVE: '1000' });
    try {
      const concert = await createConcert(t.app, { seatCount: 30, schedules: 5 });
      const actors = async () => (await act(t.app, { method: 'GET', url: '/v1/admin/actors', headers: { 'x-admin-key': ADMIN_KEY } })).body.actors;
      const listing = async () =>
        (await act(t.app, { method: 'GET', url: `/v1/concerts/${concert.concertId}/schedules` })).body.schedules.map(
          (s: { availableSeats: number }) => s.availableSeats,
        );
      expect(await listing()).toEqual([30, 30, 30, 30, 30]);
      expect(await actors()).toEqual([]);

      const buyer = await activeUser(t.app, concert.concertId);
      await hold(t.app, buyer.token, concert.schedules[1]!.scheduleId, [1, 2, 3]);
      expect(await listing()).toEqual([30, 27, 30, 30, 30]); // the live actor's memory
      expect((await actors()).map((a: { scheduleId: string }) => a.scheduleId)).toEqual([concert.schedules[1]!.scheduleId]);

      await t.restart({ QUEUE_MAX_ACTIVE: '1000' });
      expect(await listing()).toEqual([30, 27, 30, 30, 30]); // the database, no actor
      expect(await actors()).toEqual([]);
    } finally {
      await t.close();
    }
  });
});
