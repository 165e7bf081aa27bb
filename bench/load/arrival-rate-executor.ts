/**
 * The open-model executor (k6 `constant-arrival-rate` / `ramping-arrival-rate`): iterations start
 * at the planned times whatever the latency of the ones before, each on an idle virtual user of a
 * bounded pool. `preAllocatedVus` are made up front; more are made on demand up to `maxVus`; when
 * none is idle and the pool is full, the iteration is not started and is counted as dropped (k6
 * `dropped_iterations`): the generator could not keep the rate, which the report must show rather
 * than quietly lowering the load (the closed model's flaw: a slow server slows its own arrivals).
 *
 * After the last arrival the iterations in flight get `gracefulStopMs` to finish (k6
 * `gracefulStop`); whatever still runs then is the caller's to interrupt. `stop()` ends the run at
 * once (the scenario is done, e.g. sold out): no more arrivals, no waiting.
 *
 * Time comes from a Clock so that the scheduling can be tested without timers.
 */
import { arrivalOffsetsMs, plannedIterations, type RateStage } from './arrival-schedule';

export interface ArrivalRatePlan {
  /** Iterations per second at the start (constant-arrival-rate: the rate; ramping: k6 startRate). */
  startRate: number;
  stages: readonly RateStage[];
  preAllocatedVus: number;
  maxVus: number;
  gracefulStopMs: number;
}

export interface VuPool<V> {
  /** A new virtual user (the n-th made, from 0). */
  allocate(n: number): V;
  /** One iteration on that user; should not reject (a rejection is counted as completed anyway). */
  iterate(vu: V): Promise<void>;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export interface ArrivalOutcome {
  planned: number;
  started: number;
  /** No idle virtual user and the pool at maxVus (k6 dropped_iterations). */
  dropped: number;
  /** Not reached because stop() ended the run first. */
  unstarted: number;
  completed: number;
  /** Still running when run() returned (past the graceful stop, or stopped). */
  inFlightAtEnd: number;
  /** Virtual users made (k6 vus_max as used). */
  allocatedVus: number;
  /** Most iterations running at once (k6 vus at peak). */
  peakBusyVus: number;
}

export class ArrivalRateExecutor<V> {
  private stopped = false;
  private readonly stopSignal: Promise<void>;
  private signalStop: () => void = () => undefined;
  private readonly idle: V[] = [];
  private readonly running = new Set<Promise<void>>();
  private allocated = 0;
  private started = 0;
  private dropped = 0;
  private completed = 0;
  private peakBusy = 0;

  constructor(
    private readonly plan: ArrivalRatePlan,
    private readonly pool: VuPool<V>,
    private readonly clock: Clock = realClock,
  ) {
    if (plan.maxVus < 1 || plan.preAllocatedVus < 0 || plan.preAllocatedVus > plan.maxVus) {
      throw new Error(`arrival-rate executor: need 0 ≤ preAllocatedVus (${plan.preAllocatedVus}) ≤ maxVus (${plan.maxVus}) and maxVus ≥ 1`);
    }
    this.stopSignal = new Promise((resolve) => (this.signalStop = resolve));
  }

  /** No more arrivals; run() returns without waiting for the iterations in flight. */
  stop(): void {
    this.stopped = true;
    this.signalStop();
  }

  /** Resolves once every iteration started so far has settled. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  async run(): Promise<ArrivalOutcome> {
    const planned = plannedIterations(this.plan.startRate, this.plan.stages);
    while (this.allocated < this.plan.preAllocatedVus) this.idle.push(this.pool.allocate(this.allocated++));
    const start = this.clock.now();
    for (const offset of arrivalOffsetsMs(this.plan.startRate, this.plan.stages)) {
      const wait = start + offset - this.clock.now();
      // Arrivals already due are started in one go: timers fire at 1 ms at best, rates reach thousands a second.
      if (wait > 0) await this.untilStopOr(this.clock.sleep(wait));
      if (this.stopped) break;
      this.arrive();
    }
    if (!this.stopped && this.running.size > 0) {
      await this.untilStopOr(Promise.race([this.settled(), this.clock.sleep(this.plan.gracefulStopMs)]));
    }
    return {
      planned,
      started: this.started,
      dropped: this.dropped,
      unstarted: planned - this.started - this.dropped,
      completed: this.completed,
      inFlightAtEnd: this.running.size,
      allocatedVus: this.allocated,
      peakBusyVus: this.peakBusy,
    };
  }

  private untilStopOr(work: Promise<unknown>): Promise<unknown> {
    return Promise.race([work, this.stopSignal]);
  }

  private arrive(): void {
    let vu = this.idle.pop();
    if (vu === undefined && this.allocated < this.plan.maxVus) vu = this.pool.allocate(this.allocated++);
    if (vu === undefined) {
      this.dropped++;
      return;
    }
    const user = vu;
    this.started++;
    const iteration: Promise<void> = this.pool
      .iterate(user)
      .catch(() => undefined)
      .then(() => {
        this.completed++;
        this.running.delete(iteration);
        this.idle.push(user);
      });
    this.running.add(iteration);
    this.peakBusy = Math.max(this.peakBusy, this.running.size);
  }
}
