/**
 * Scale-out, a paused owner: the owner of a schedule is frozen (SIGSTOP) past its session
 * timeout — at a moment it has a payment transaction open — so the group gives its partitions to
 * another instance, which sells the seats the frozen one still believes free. Holds sent straight
 * to the frozen owner wait in its socket; when it resumes (SIGCONT) it must not decide them from
 * its stale memory: nothing it answers after losing ownership is a success that is not in the
 * database, and no seat is taken twice in the journal or in the reservations. And the frozen
 * owner's open transaction must not hold the failover up.
 */
import { randomUUID } from 'node:crypto';
import { startClusterFixture, type ClusterFixture } from '../support/cluster-fixture';
import { checkAnswers, doubleBookedSeats, journalDoubleHolds, seatMapMismatches } from '../support/cluster-checks';
import { createConcert, prepareBuyers, startBuying, type BuyingLoad, type Schedule } from '../support/cluster-load';
import { clusterView, ownerOf, settledOwnership } from '../support/cluster-view';
import { call } from '../support/hold-load';
import { pauseInFencedTransaction } from '../support/pause-in-fenced-transaction';
import type { InstanceProcess } from '../../scripts/cluster/instance-process';

const CONTESTED = [11, 12, 13, 14, 15, 16, 17, 18];
const FAILOVER_BOUND_MS = 10_000;

/** Two schedules with the same owner: one for the contested seats, one for a payment load. */
async function twoSchedulesOfOneOwner(frontUrl: string, instances: InstanceProcess[]) {
  for (let attempt = 1; attempt <= 5; attempt++) {
    const { concertId, schedules } = await createConcert(frontUrl, [60, 2_000, 2_000, 2_000, 2_000]);
    const contested = schedules[0]!;
    const owner = await ownerOf(instances, contested.scheduleId);
    for (const other of schedules.slice(1)) {
      if ((await ownerOf(instances, other.scheduleId)) === owner) return { concertId, contested, loaded: other as Schedule, owner };
    }
  }
  throw new Error('no two schedules with one owner in 5 concerts');
}

describe('cluster: a paused owner is fenced', () => {
  let f: ClusterFixture;
  let load: BuyingLoad | undefined;
  beforeAll(async () => {
    f = await startClusterFixture('fencing');
  }, 120_000);
  afterAll(async () => {
    // A failed assertion leaves the load running: its buyers stop once the cluster is gone.
    const stopping = load?.stop();
    await f?.close();
    await stopping;
  }, 120_000);

  it('when the owner is frozen mid-transaction past its session timeout and resumed, then another instance takes over within 10 s and nothing the frozen one decides after losing ownership is committed or answered as a success', async () => {
    const { instances, frontUrl } = f.cluster;
    await settledOwnership(instances);
    const { concertId, contested, loaded, owner: paused } = await twoSchedulesOfOneOwner(frontUrl, instances);
    const scheduleId = contested.scheduleId;
    const others = instances.filter((i) => i !== paused);
    const [warm, ...buyers] = await prepareBuyers(frontUrl, concertId, 1 + 2 * CONTESTED.length + 10);
    const stale = buyers.slice(0, CONTESTED.length);
    const fresh = buyers.slice(CONTESTED.length, 2 * CONTESTED.length);
    const loaders = buyers.slice(2 * CONTESTED.length);

    // The owner's actor is live: its memory says the contested seats are free.
    const warmed = await call(`${paused.url}/v1/reservations`, 'POST', { scheduleId, seatNos: [1] }, { 'queue-token': warm!.token });
    expect(warmed.status).toBe(201);
    const epochBefore = (await clusterView(paused.url, scheduleId)).schedule!.epoch!;

    // Payments on its other schedule keep transactions open on it; it is frozen in one of them.
    load = startBuying({ url: frontUrl, concertId, schedules: [loaded], buyers: loaders, payShare: 1 });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const stoppedAt = await pauseInFencedTransaction(paused, f.db);
    // Straight to the frozen owner: the kernel accepts the connections, the requests wait in its socket.
    const staleKeys = stale.map(() => randomUUID());
    const staleAnswers = stale.map((buyer, i) =>
      call(`${paused.url}/v1/reservations`, 'POST', { scheduleId, seatNos: [CONTESTED[i]!] }, {
        'queue-token': buyer.token,
        'idempotency-key': staleKeys[i]!,
      }).then(
        (answer) => ({ ...answer, at: Date.now() }),
        (error: Error) => ({ status: 0, body: { code: error.name }, ms: 0, at: Date.now() }),
      ),
    );

    // The group notices (session timeout) and another instance claims the partition.
    const owners = await settledOwnership(others, { timeoutMs: 70_000 });
    const ownerChangedAt = Date.now();
    // The frozen transaction holds its fence row FOR SHARE: it must not keep the new owner's claim waiting.
    expect(ownerChangedAt - stoppedAt).toBeLessThan(FAILOVER_BOUND_MS);
    const view = await clusterView(others[0]!.url, scheduleId);
    const newOwner = others.find((i) => i.url === view.schedule!.ownerUrl)!;
    expect(newOwner).toBeDefined();
    expect(view.schedule!.epoch!).toBeGreaterThan(epochBefore);
    expect([...owners.values()]).not.toContain(paused.url);

    // The new owner recovered from the journal (seat 1 is held) and sells the contested seats.
    const refused = await call(`${newOwner.url}/v1/reservations`, 'POST', { scheduleId, seatNos: [1] }, { 'queue-token': fresh[0]!.token });
    expect([refused.status, refused.body.code]).toEqual([409, 'SEAT_UNAVAILABLE']);
    const taken = await Promise.all(
      fresh.map((buyer, i) => call(`${newOwner.url}/v1/reservations`, 'POST', { scheduleId, seatNos: [CONTESTED[i]!] }, { 'queue-token': buyer.token })),
    );
    expect(taken.map((t) => t.status)).toEqual(CONTESTED.map(() => 201));

    const resumedAt = Date.now();
    await paused.kill('SIGCONT');
    const answers = await Promise.all(staleAnswers);
    await load.stop();
    console.log(
      `fencing: stopped ${resumedAt - stoppedAt} ms, owner changed ${ownerChangedAt - stoppedAt} ms after the stop; ` +
        `the resumed owner answered ${JSON.stringify(answers.map((a) => `${a.status} ${a.body?.code ?? ''}`.trim()))}`,
    );
    expect(ownerChangedAt).toBeLessThan(resumedAt);
    // Nothing was answered while it was frozen; afterwards only "not now" (503) or the new owner's verdict (409).
    for (const answer of answers) expect(answer.at).toBeGreaterThanOrEqual(resumedAt);
    expect(answers.filter((a) => !(a.status === 503 || (a.status === 409 && a.body.code === 'SEAT_UNAVAILABLE')))).toEqual([]);

    // And the database agrees: none of the stale holds was committed, no seat is taken twice.
    const { rows: applied } = await f.db.query(`SELECT idempotency_key FROM reservations WHERE idempotency_key = ANY($1)`, [staleKeys]);
    expect(applied).toEqual([]);
    expect(await doubleBookedSeats(f.db)).toEqual([]);
    expect(await journalDoubleHolds(f.db, scheduleId)).toEqual([]);
    expect(await journalDoubleHolds(f.db, loaded.scheduleId)).toEqual([]);
    const loadCheck = await checkAnswers(f.db, load.answers);
    expect([loadCheck.lostHolds, loadCheck.lostPayments, loadCheck.lostCancels, loadCheck.appliedAfterNo, loadCheck.unexpected]).toEqual([[], [], [], [], []]);

    // The resumed instance rejoins; whoever owns the schedule then shows what the database holds.
    await settledOwnership(instances, { timeoutMs: 30_000 });
    for (const instance of instances) {
      expect(await seatMapMismatches(instance.url, f.db, scheduleId)).toEqual([]);
      expect(await seatMapMismatches(instance.url, f.db, loaded.scheduleId)).toEqual([]);
    }
    const { rows: held } = await f.db.query<{ seat: number }>(
      `SELECT seat FROM reservations, unnest(seat_nos) AS seat WHERE schedule_id = $1 AND status = 'HELD' ORDER BY seat`,
      [scheduleId],
    );
    expect(held.map((r) => r.seat)).toEqual([1, ...CONTESTED]);
  }, 150_000);
});
