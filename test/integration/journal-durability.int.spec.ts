import { Client } from 'pg';
import { createOvation, type Ovation } from '../../src/runtime';
import { startTestApp, type TestApp } from '../support/test-app';
import { act, activeUser, createConcert, hold, holdRequest, seatStatuses } from '../support/api-client';

describe('durable actors: failed commits, recovery and fencing', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ QUEUE_MAX_ACTIVE: '10000' });
  });
  afterAll(async () => {
    await t?.close();
  });

  const journalSeqs = async (scheduleId: string) =>
    (await t.services.db.query('SELECT seq FROM journal WHERE schedule_id = $1 ORDER BY seq', [scheduleId])).rows.map((r) => r.seq);

  it('when a commit fails, then the requests in it get 503 and the actor recovers to exactly the committed state', async () => {
    const concert = await createConcert(t.app, { seatCount: 40 });
    const scheduleId = concert.schedules[0]!.scheduleId;
    const users = await Promise.all(Array.from({ length: 30 }, () => activeUser(t.app, concert.concertId)));
    await hold(t.app, users[0]!.token, scheduleId, [1]);
    // From the 6th event on, every journal insert fails (as a full disk or a lost primary would).
    await t.services.db.query('ALTER TABLE journal ADD CONSTRAINT only_five CHECK (seq <= 5) NOT VALID');
    let responses;
    try {
      responses = await Promise.all(users.slice(1).map((u, i) => act(t.app, holdRequest(u.token, scheduleId, [i + 2]))));
    } finally {
      await t.services.db.query('ALTER TABLE journal DROP CONSTRAINT only_five');
    }

    const ok = responses.filter((r) => r.status === 201);
    const refused = responses.filter((r) => r.status !== 201);
    expect(ok.length).toBeLessThanOrEqual(4);
    expect(refused.length).toBeGreaterThanOrEqual(25);
    expect(refused.every((r) => r.status === 503 && r.body.code === 'SERVICE_UNAVAILABLE' && r.headers['retry-after'] === '1')).toBe(true);

    const seats = await seatStatuses(t.app, scheduleId);
    const heldSeats = [...seats].filter(([, status]) => status === 'HELD').map(([seatNo]) => seatNo).sort((a, b) => a - b);
    const { rows } = await t.services.db.query(
      `SELECT unnest(seat_nos) AS seat FROM reservations WHERE schedule_id = $1 AND status = 'HELD' ORDER BY 1`,
      [scheduleId],
    );
    expect(heldSeats).toEqual(rows.map((r) => r.seat));
    expect(heldSeats).toEqual([1, ...ok.map((r) => r.body.seatNos[0]).sort((a: number, b: number) => a - b)]);
    expect(await journalSeqs(scheduleId)).toEqual(heldSeats.map((_, i) => i + 1));

    // And it serves again: a refused seat can be held now.
    const retry = refused[0]!;
    const seat = responses.indexOf(retry) + 2;
    expect((await act(t.app, holdRequest(users[responses.indexOf(retry) + 1]!.token, scheduleId, [seat]))).status).toBe(201);
  });

  it('when the database drops every connection during a burst of holds, then every 201 is in the journal and nothing else is held', async () => {
    const concert = await createConcert(t.app, { seatCount: 400 });
    const scheduleId = concert.schedules[0]!.scheduleId;
    const users = await Promise.all(Array.from({ length: 100 }, () => activeUser(t.app, concert.concertId)));
    // A connection of its own, outside the app's pool, terminates every backend of the app over
    // and over while the burst runs, so commits in flight are cut, not just idle connections.
    const killer = new Client({ connectionString: t.database.url });
    await killer.connect();
    let terminated = 0;
    let bursting = true;
    const killing = (async () => {
      while (bursting) {
        const { rows } = await killer.query<{ killed: boolean }>(
          `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
           WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
        );
        terminated += rows.filter((row) => row.killed).length;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();
    const responses = await Promise.all(users.map((u, i) => act(t.app, holdRequest(u.token, scheduleId, [i + 1]))));
    bursting = false;
    await killing;
    await killer.end();

    // The fault happened: backends were terminated and some holds were refused because of it.
    expect(terminated).toBeGreaterThan(0);
    expect(responses.some((r) => r.status === 503)).toBe(true);

    expect(responses.filter((r) => r.status !== 201 && r.status !== 503).map((r) => [r.status, r.body])).toEqual([]);
    const acknowledged = responses.filter((r) => r.status === 201).map((r) => r.body.reservationId).sort();
    const { rows } = await t.services.db.query(
      `SELECT r.id FROM reservations r JOIN journal j ON j.schedule_id = r.schedule_id AND j.payload->>'reservationId' = r.id::text
       WHERE r.schedule_id = $1 AND r.status = 'HELD' ORDER BY r.id`,
      [scheduleId],
    );
    expect(rows.map((r) => r.id)).toEqual(expect.arrayContaining(acknowledged));
    const seats = await seatStatuses(t.app, scheduleId);
    const held = [...seats.values()].filter((s) => s === 'HELD').length;
    expect(held).toBe(rows.length);
  });

  describe('with a second instance writing the same schedule', () => {
    let second: Ovation;
    beforeAll(async () => {
      second = await createOvation(t.config, { poolSize: 4 });
    });
    afterAll(async () => {
      await second?.app.close();
    });

    it('when both decide from the same state, then the second writer hits the fence (503), reloads, and never overwrites', async () => {
      const concert = await createConcert(t.app, { seatCount: 10 });
      const scheduleId = concert.schedules[0]!.scheduleId;
      const user = await activeUser(t.app, concert.concertId);
      // Both instances load the schedule at seq 0.
      await seatStatuses(t.app, scheduleId);
      await seatStatuses(second.app, scheduleId);

      await hold(t.app, user.token, scheduleId, [1]);
      const fenced = await act(second.app, holdRequest(user.token, scheduleId, [1, 2]));

      expect(fenced.status).toBe(503);
      const seats = await seatStatuses(second.app, scheduleId);
      expect([seats.get(1), seats.get(2)]).toEqual(['HELD', 'AVAILABLE']);
      const again = await act(second.app, holdRequest(user.token, scheduleId, [1, 2]));
      expect(again.status).toBe(409); // decided against the reloaded state, seat 1 is taken
      expect((await act(second.app, holdRequest(user.token, scheduleId, [2]))).status).toBe(201);
      const { rows } = await t.services.db.query('SELECT seq, payload FROM journal WHERE schedule_id = $1 ORDER BY seq', [scheduleId]);
      expect(rows.map((r) => [r.seq, r.payload.seatNos])).toEqual([
        [1, [1]],
        [2, [2]],
      ]);
    });
  });
});
