/**
 * Scale-out, a deploy: every instance is restarted in turn (SIGTERM, drain, start, ready) while
 * buyers hold, pay and cancel through the front. A leaving instance hands its partitions over at
 * once (it leaves the group), a returning one takes some back; meanwhile the schedules concerned
 * answer 503 for a moment. Nothing acknowledged may be lost, and nothing but 503 may be a 5xx.
 */
import { startClusterFixture, type ClusterFixture } from '../support/cluster-fixture';
import { checkAnswers, doubleBookedSeats, journalDoubleHolds, seatMapMismatches } from '../support/cluster-checks';
import { createConcert, prepareBuyers, startBuying, type BuyingLoad } from '../support/cluster-load';
import { settledOwnership } from '../support/cluster-view';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('cluster: rolling restart', () => {
  let f: ClusterFixture;
  let load: BuyingLoad | undefined;
  beforeAll(async () => {
    f = await startClusterFixture('rolling');
  }, 120_000);
  afterAll(async () => {
    // A failed assertion leaves the load running: its buyers stop once the cluster is gone.
    const stopping = load?.stop();
    await f?.close();
    await stopping;
  }, 120_000);

  it('when all three instances are restarted one by one under load, then nothing acknowledged is lost and no answer is a 5xx other than 503', async () => {
    const { instances, frontUrl } = f.cluster;
    await settledOwnership(instances);
    const { concertId, schedules } = await createConcert(frontUrl, [2_000, 2_000, 2_000]);
    const buyers = await prepareBuyers(frontUrl, concertId, 20);
    const pidsBefore = instances.map((i) => i.pid);

    load = startBuying({ url: frontUrl, concertId, schedules, buyers, payShare: 0.5 });
    await pause(1_000);
    const restarts: string[] = [];
    for (const instance of instances) {
      const started = Date.now();
      await instance.restart(); // SIGTERM, wait for the exit, start on the same port, wait for /health/ready
      restarts.push(`instance ${instance.index} ${Date.now() - started} ms`);
    }
    const lastRestartAt = Date.now();
    await settledOwnership(instances, { timeoutMs: 30_000 });
    await pause(1_000); // the load goes on against the settled cluster
    await load.stop();
    const answers = load.answers;

    const check = await checkAnswers(f.db, answers);
    console.log(`rolling restart: ${restarts.join(', ')}; answers ${JSON.stringify(check.counts)}`);
    expect(instances.map((i) => i.pid).every((pid, n) => pid !== pidsBefore[n])).toBe(true);
    expect(check.unexpected).toEqual([]);
    expect({ lostHolds: check.lostHolds, lostPayments: check.lostPayments, lostCancels: check.lostCancels }).toEqual({
      lostHolds: [],
      lostPayments: [],
      lostCancels: [],
    });
    expect(check.appliedAfterNo).toEqual([]);
    expect(Math.max(...answers.map((a) => a.ms))).toBeLessThan(20_000);
    // Service came back: holds and payments succeeded after the last restart.
    expect(answers.some((a) => a.kind === 'hold' && a.status === 201 && a.at > lastRestartAt)).toBe(true);
    expect(answers.some((a) => a.kind === 'pay' && a.status === 201 && a.at > lastRestartAt)).toBe(true);

    expect(await doubleBookedSeats(f.db)).toEqual([]);
    for (const { scheduleId } of schedules) {
      expect(await journalDoubleHolds(f.db, scheduleId)).toEqual([]);
      for (const instance of instances) expect(await seatMapMismatches(instance.url, f.db, scheduleId)).toEqual([]);
    }
  }, 120_000);
});
