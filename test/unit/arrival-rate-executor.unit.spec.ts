/**
 * The bench's open-model executor (k6 constant-/ramping-arrival-rate): how many iterations it plans,
 * when they start, and what it does when its pool of virtual users runs out. The assertions do not
 * depend on timing: a fake clock where it matters, counts that hold whatever the timers do elsewhere.
 */
import { ArrivalRateExecutor, realClock, type ArrivalRatePlan, type Clock, type VuPool } from '../../bench/load/arrival-rate-executor';
import { arrivalOffsetsMs, plannedIterations } from '../../bench/load/arrival-schedule';

/** Virtual time: sleeping moves it forward at once. */
function fakeClock(): Clock {
  let now = 0;
  return {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
  };
}

interface FakeVu {
  id: number;
  iterations: number;
}

/** Iterations that never end until `release()` (a slow server); counts what ran. */
function stuckPool(): VuPool<FakeVu> & { release(): void; made: number } {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const pool = {
    made: 0,
    allocate: (n: number) => {
      pool.made++;
      return { id: n, iterations: 0 };
    },
    iterate: async (vu: FakeVu) => {
      vu.iterations++;
      await gate;
    },
    release: () => release(),
  };
  return pool;
}

/** Iterations that end at once (a fast server). */
function instantPool(): VuPool<FakeVu> & { runs: number } {
  const pool = {
    runs: 0,
    allocate: (n: number) => ({ id: n, iterations: 0 }),
    iterate: async (vu: FakeVu) => {
      vu.iterations++;
      pool.runs++;
    },
  };
  return pool;
}

const constant = (rate: number, durationMs: number, vus: { pre: number; max: number }, gracefulStopMs = 1_000): ArrivalRatePlan => ({
  startRate: rate,
  stages: [{ durationMs, target: rate }],
  preAllocatedVus: vus.pre,
  maxVus: vus.max,
  gracefulStopMs,
});

describe('arrival schedule', () => {
  it('When the rate is constant, then rate × duration iterations start, evenly spaced from 0', () => {
    const offsets = [...arrivalOffsetsMs(2_000, [{ durationMs: 5_000, target: 2_000 }])];
    expect(plannedIterations(2_000, [{ durationMs: 5_000, target: 2_000 }])).toBe(10_000);
    expect(offsets).toHaveLength(10_000);
    expect(offsets[0]).toBe(0);
    expect(offsets[1]).toBeCloseTo(0.5, 9);
    expect(offsets[9_999]).toBeCloseTo(4_999.5, 6);
  });

  it('When the rate ramps from 0 to 100/s over 10 s, then 500 start, ever closer together, all within the stage', () => {
    const stages = [{ durationMs: 10_000, target: 100 }];
    const offsets = [...arrivalOffsetsMs(0, stages)];
    expect(plannedIterations(0, stages)).toBe(500);
    expect(offsets).toHaveLength(500);
    for (let i = 1; i < offsets.length; i++) expect(offsets[i]!).toBeGreaterThanOrEqual(offsets[i - 1]!);
    expect(offsets[offsets.length - 1]!).toBeLessThan(10_000);
    // Quadratic growth: half the arrivals by 1/√2 of the time.
    expect(offsets[250]!).toBeCloseTo(10_000 / Math.SQRT2, 0);
  });

  it('When there are several stages, then the planned count is the integral of the rate and matches the offsets', () => {
    const stages = [
      { durationMs: 2_000, target: 300 },
      { durationMs: 3_000, target: 300 },
      { durationMs: 1_000, target: 0 },
    ];
    // 10 → 300 over 2 s = 310; 300 for 3 s = 900; 300 → 0 over 1 s = 150.
    expect(plannedIterations(10, stages)).toBe(1_360);
    expect([...arrivalOffsetsMs(10, stages)]).toHaveLength(1_360);
  });

  it('When a stage has a rate of 0 throughout, then it plans nothing and only shifts the next stage', () => {
    const stages = [
      { durationMs: 1_000, target: 0 },
      { durationMs: 1_000, target: 10 },
    ];
    const offsets = [...arrivalOffsetsMs(0, stages)];
    expect(offsets).toHaveLength(plannedIterations(0, stages));
    expect(offsets.every((t) => t >= 1_000 && t < 2_000)).toBe(true);
  });
});

describe('arrival-rate executor', () => {
  it('When the pool is one virtual user and iterations are slow, then one starts and the others are dropped', async () => {
    const pool = stuckPool();
    const executor = new ArrivalRateExecutor(constant(100, 1_000, { pre: 1, max: 1 }), pool, fakeClock());
    const outcome = await executor.run();
    expect(outcome.planned).toBe(100);
    expect(outcome.started).toBe(1);
    expect(outcome.dropped).toBe(99);
    expect(outcome.started + outcome.dropped).toBe(outcome.planned);
    expect(outcome.inFlightAtEnd).toBe(1); // past the graceful stop: the caller interrupts it
    pool.release();
    await executor.settled();
  });

  it('When iterations are slow, then the pool grows on demand to maxVus and drops only past it', async () => {
    const pool = stuckPool();
    const executor = new ArrivalRateExecutor(constant(50, 1_000, { pre: 5, max: 20 }), pool, fakeClock());
    const outcome = await executor.run();
    expect(outcome.allocatedVus).toBe(20);
    expect(pool.made).toBe(20);
    expect(outcome.started).toBe(20);
    expect(outcome.dropped).toBe(30);
    expect(outcome.peakBusyVus).toBe(20);
    pool.release();
    await executor.settled();
  });

  it('When iterations end at once and the pool is large enough, then every planned iteration starts and none is dropped', async () => {
    const pool = instantPool();
    const executor = new ArrivalRateExecutor(constant(200, 1_000, { pre: 200, max: 200 }), pool, fakeClock());
    const outcome = await executor.run();
    expect(outcome).toMatchObject({ planned: 200, started: 200, dropped: 0, unstarted: 0, completed: 200, inFlightAtEnd: 0 });
    expect(pool.runs).toBe(200);
  });

  it('When preAllocatedVus is below maxVus, then only that many are made before the first arrival', async () => {
    const pool = stuckPool();
    const executor = new ArrivalRateExecutor(constant(10, 1_000, { pre: 3, max: 10 }), pool, {
      now: () => 0,
      sleep: () => new Promise(() => undefined), // never returns: the run stays before the 2nd arrival
    });
    void executor.run();
    await Promise.resolve();
    expect(pool.made).toBe(3);
    executor.stop();
    pool.release();
    await executor.settled();
  });

  it('When stop() is called mid-run, then run() returns at once and started + dropped + unstarted = planned', async () => {
    const pool = stuckPool();
    const executor = new ArrivalRateExecutor(constant(1_000, 60_000, { pre: 2, max: 2 }), pool, realClock);
    const running = executor.run();
    setTimeout(() => executor.stop(), 50);
    const outcome = await running;
    expect(outcome.planned).toBe(60_000);
    expect(outcome.started).toBe(2);
    expect(outcome.dropped).toBeGreaterThan(0);
    expect(outcome.unstarted).toBeGreaterThan(0);
    expect(outcome.started + outcome.dropped + outcome.unstarted).toBe(outcome.planned);
    pool.release();
    await executor.settled();
  });

  it('When run on real timers with a pool of 1 and slow iterations, then started + dropped = planned and dropped > 0', async () => {
    const pool = stuckPool();
    const executor = new ArrivalRateExecutor(constant(200, 100, { pre: 1, max: 1 }, 10), pool, realClock);
    const outcome = await executor.run();
    expect(outcome.planned).toBe(20);
    expect(outcome.started + outcome.dropped).toBe(20);
    expect(outcome.dropped).toBeGreaterThan(0);
    pool.release();
    await executor.settled();
  });

  it('When the plan asks for more pre-allocated users than maxVus, then it is refused with a clear message', () => {
    expect(() => new ArrivalRateExecutor(constant(1, 1_000, { pre: 5, max: 2 }), instantPool())).toThrow(/preAllocatedVus \(5\) ≤ maxVus \(2\)/);
  });
});
