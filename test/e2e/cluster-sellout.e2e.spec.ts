/**
 * Scale-out, the steady state: three instances behind a plain round-robin front, so two requests
 * in three reach an instance that does not own the schedule and must forward them to the one that
 * does. Buyers sell a schedule out; the database then says no seat was sold twice and every
 * acknowledged hold and payment is there.
 */
import { startClusterFixture, type ClusterFixture } from '../support/cluster-fixture';
import { checkAnswers, doubleBookedSeats, journalDoubleHolds, seatMapMismatches } from '../support/cluster-checks';
import { createConcert, prepareBuyers, startBuying } from '../support/cluster-load';
import { clusterView, ownerOf, settledOwnership } from '../support/cluster-view';
import { requestCount } from '../support/request-counts';

const SEATS = 120;

describe('cluster: sell-out through a round-robin front', () => {
  let f: ClusterFixture;
  beforeAll(async () => {
    f = await startClusterFixture('sellout');
  }, 120_000);
  afterAll(async () => {
    await f?.close();
  }, 120_000);

  it('when buyers spread round robin over three instances sell a schedule out, then no seat is sold twice and every acknowledged hold and payment is kept', async () => {
    const { instances, frontUrl } = f.cluster;
    await settledOwnership(instances);
    const { concertId, schedules } = await createConcert(frontUrl, [SEATS]);
    const scheduleId = schedules[0]!.scheduleId;
    const buyers = await prepareBuyers(frontUrl, concertId, 30);
    const owner = await ownerOf(instances, scheduleId);
    const holdsBefore = await Promise.all(instances.map((i) => requestCount(i.url, 'POST', '/v1/reservations')));

    const load = startBuying({ url: frontUrl, concertId, schedules, buyers, payShare: 1 });
    let timer: NodeJS.Timeout | undefined;
    const soldOut = await Promise.race([load.done.then(() => true), new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 40_000)))]);
    clearTimeout(timer);
    await load.stop();
    const check = await checkAnswers(f.db, load.answers);
    if (!soldOut) {
      const { rows } = await f.db.query(`SELECT id, seat_nos, status, expires_at FROM reservations WHERE schedule_id = $1 AND status = 'HELD'`, [scheduleId]);
      throw new Error(`not sold out in 40 s: ${JSON.stringify({ counts: check.counts, held: rows })}`);
    }

    // Round robin: every instance took about a third of the holds; the owner decided them all.
    const holdsAfter = await Promise.all(instances.map((i) => requestCount(i.url, 'POST', '/v1/reservations')));
    const served = holdsAfter.map((n, i) => n - holdsBefore[i]!);
    const total = served.reduce((a, b) => a + b, 0);
    for (const n of served) expect(n).toBeGreaterThan(total * 0.25);
    const views = await Promise.all(instances.map((i) => clusterView(i.url)));
    expect(views.filter((v) => v.ownedActors.some((a) => a.scheduleId === scheduleId)).map((v) => v.self.url)).toEqual([owner.url]);

    expect({ lostHolds: check.lostHolds, lostPayments: check.lostPayments, lostCancels: check.lostCancels }).toEqual({ lostHolds: [], lostPayments: [], lostCancels: [] });
    expect(check.appliedAfterNo).toEqual([]);
    expect(check.unexpected).toEqual([]);
    expect(await doubleBookedSeats(f.db)).toEqual([]);
    expect(await journalDoubleHolds(f.db, scheduleId)).toEqual([]);

    const { rows } = await f.db.query<{ seats: number; distinct: number; paid: number }>(
      `SELECT count(*)::int AS seats, count(DISTINCT seat)::int AS distinct,
              (SELECT count(*)::int FROM payments p JOIN reservations r ON r.id = p.reservation_id WHERE r.schedule_id = $1) AS paid
       FROM reservations, unnest(seat_nos) AS seat WHERE schedule_id = $1 AND status = 'CONFIRMED'`,
      [scheduleId],
    );
    expect(rows[0]).toEqual({ seats: SEATS, distinct: SEATS, paid: SEATS });
    const paid201 = load.answers.filter((a) => a.kind === 'pay' && a.status === 201);
    expect(new Set(paid201.map((a) => a.reservationId)).size).toBe(SEATS);
    // Every instance shows the owner's seat map (read through the forwarding), and it is the database's.
    for (const instance of instances) expect(await seatMapMismatches(instance.url, f.db, scheduleId)).toEqual([]);
  }, 90_000);
});
