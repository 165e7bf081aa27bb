/**
 * Runs a scenario's virtual users against the target with a load profile: constant (init, warm-up,
 * window), ramping (k6 ramping-vus stages after a separate warm-up) or arrival-rate (the open model,
 * k6 constant-/ramping-arrival-rate, bench/load/arrival-rate-executor.ts). Every loop ends by itself:
 * the window has a cap, a stopping run refuses new requests, and VUs that do not finish within the
 * grace period have their connections closed.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { ArrivalRateExecutor, type ArrivalOutcome } from './arrival-rate-executor';
import { HttpConnection } from './http-client';
import { Recorder } from './recorder';
import type { ArrivalCounts, LoadGenUsage, LoadJob, WorkerStats } from './protocol';
import { StopSignal, Vu, type Phase, type RunControl } from './vu';
import type { AnyScenario, LoadProfile, Stage } from '../scenarios/types';

type AnyVu = Vu<unknown, unknown>;

const STOP_GRACE_MS = 10_000;
/** An arrival-rate warm-up waits at most this long for its last iterations (they are not measured). */
const WARMUP_GRACEFUL_STOP_MS = 10_000;
const TICK_MS = 100;
const MAX_ITERATION_ERROR_SAMPLES = 5;

/** mulberry32: the same seed gives every engine the same sequence of choices. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Target VUs at `elapsedMs` into the stages (linear ramps, starting from 0). */
export function stageTarget(stages: Stage[], elapsedMs: number): number {
  let from = 0;
  let start = 0;
  for (const stage of stages) {
    if (elapsedMs < start + stage.durationMs) {
      const fraction = (elapsedMs - start) / stage.durationMs;
      return Math.round(from + (stage.target - from) * fraction);
    }
    from = stage.target;
    start += stage.durationMs;
  }
  return stages.length === 0 ? 0 : stages[stages.length - 1]!.target;
}

export class LoadRun implements RunControl {
  phase: Phase = 'init';
  stopping = false;
  readonly recorder = new Recorder();
  readonly random: () => number;
  private finished: (() => void) | null = null;
  private readonly sleepers = new Set<{ isCancelled: () => boolean; done: () => void }>();
  private readonly host: string;
  private readonly port: number;
  private readonly shared: unknown;
  private iterationErrors = 0;
  private readonly iterationErrorSamples: string[] = [];
  private peakVus = 0;
  private live = 0;
  private arrivals: ArrivalCounts | undefined;

  constructor(
    private readonly scenario: AnyScenario,
    private readonly job: LoadJob,
    private readonly onPhase: (phase: Phase) => void,
  ) {
    const url = new URL(job.target);
    if (url.protocol !== 'http:') throw new Error(`the load generator speaks http only, not ${url.protocol}`);
    this.host = url.hostname;
    this.port = Number(url.port || 80);
    this.random = seededRandom(job.params.seed);
    this.shared = scenario.shared(job.setup, job.params);
  }

  finish(): void {
    this.finished?.();
  }

  sleep(ms: number, isCancelled: () => boolean): Promise<void> {
    if (isCancelled() || ms <= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const sleeper = { isCancelled, done };
      const timer = setTimeout(done, ms);
      const sleepers = this.sleepers;
      function done() {
        clearTimeout(timer);
        sleepers.delete(sleeper);
        resolve();
      }
      this.sleepers.add(sleeper);
    });
  }

  /** Ends the sleeps of the VUs that retired or of every VU once the run stops. */
  private wakeCancelled(): void {
    for (const sleeper of [...this.sleepers]) if (sleeper.isCancelled()) sleeper.done();
  }

  private setPhase(phase: Phase): void {
    this.phase = phase;
    this.onPhase(phase);
  }

  private newVu(id: number): { vu: AnyVu; connection: HttpConnection } {
    const connection = new HttpConnection(this.host, this.port, this.job.params.requestTimeoutMs);
    return { vu: new Vu(id, this.job.setup, this.shared, this.job.params, this, connection), connection };
  }

  private noteError(error: unknown): void {
    this.iterationErrors++;
    if (this.iterationErrorSamples.length < MAX_ITERATION_ERROR_SAMPLES) {
      this.iterationErrorSamples.push(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    }
  }

  /** init (unless done already), then iterations until the VU retires or the run stops. */
  private async loop(vu: AnyVu, withInit: boolean): Promise<void> {
    this.live++;
    this.peakVus = Math.max(this.peakVus, this.live);
    try {
      if (withInit && this.scenario.init) await this.guard(() => this.scenario.init!(vu), () => vu.stopping);
      while (!vu.retiring) {
        const threw = await this.guard(() => this.scenario.iteration(vu), () => vu.stopping);
        // A failing iteration (server down, scenario trouble) must not spin: back off a little.
        if (threw) await this.sleep(50, () => vu.stopping);
      }
    } finally {
      this.live--;
    }
  }

  /** True when `work` threw something other than the stop signal. */
  private async guard(work: () => Promise<void>, vuStopping?: () => boolean): Promise<boolean> {
    try {
      await work();
      return false;
    } catch (error) {
      if (error instanceof StopSignal || vuStopping?.()) return false;
      this.noteError(error);
      return true;
    }
  }

  /** Sets stopping, wakes sleepers, waits for the loops (grace), then closes every connection. */
  private async stopAll(loops: Promise<void>[], connections: HttpConnection[]): Promise<void> {
    this.stopping = true;
    this.wakeCancelled();
    // The grace timer is cleared once the loops end, so an in-process run (a test) leaves none behind.
    let grace: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(loops), new Promise<void>((resolve) => (grace = setTimeout(resolve, STOP_GRACE_MS)))]);
    clearTimeout(grace);
    for (const connection of connections) connection.close();
    await Promise.all(loops);
  }

  async execute(): Promise<{ stats: WorkerStats; usage: LoadGenUsage }> {
    const profile: LoadProfile = this.scenario.profile(this.job.params);
    const loopDelay = monitorEventLoopDelay({ resolution: 5 });
    let cpuAtStart = process.cpuUsage();
    const openWindow = () => {
      this.recorder.start(performance.now());
      cpuAtStart = process.cpuUsage();
      loopDelay.enable();
      this.setPhase('measure');
    };
    const closeWindow = () => {
      this.recorder.stop(performance.now());
      loopDelay.disable();
      this.setPhase('drain');
    };
    const cpu = () => {
      const used = process.cpuUsage(cpuAtStart);
      return used.user + used.system;
    };

    let cpuMicros = 0;
    switch (profile.kind) {
      case 'constant':
        cpuMicros = await this.runConstant(profile, openWindow, closeWindow, cpu);
        break;
      case 'ramping':
        cpuMicros = await this.runRamping(profile, openWindow, closeWindow, cpu);
        break;
      case 'arrival-rate':
        cpuMicros = await this.runArrivalRate(profile, openWindow, closeWindow, cpu);
        break;
      default: {
        const unknown: never = profile;
        throw new Error(`unknown load profile ${JSON.stringify(unknown)}`);
      }
    }
    const stats = this.recorder.result();
    return {
      stats,
      usage: {
        cpuMicros,
        cpuPct: stats.durationMs > 0 ? Math.round((cpuMicros / 1000 / stats.durationMs) * 1000) / 10 : 0,
        loopDelayP99Ms: Math.round(loopDelay.percentile(99) / 1e4) / 100,
        loopDelayMaxMs: Math.round(loopDelay.max / 1e4) / 100,
        peakVus: this.peakVus,
        iterationErrors: this.iterationErrors,
        iterationErrorSamples: this.iterationErrorSamples,
        ...(this.arrivals ? { arrivals: this.arrivals } : {}),
      },
    };
  }

  private async runConstant(
    profile: Extract<LoadProfile, { kind: 'constant' }>,
    openWindow: () => void,
    closeWindow: () => void,
    cpu: () => number,
  ): Promise<number> {
    this.setPhase('init');
    const vus = Array.from({ length: profile.vus }, (_, id) => this.newVu(id));
    if (this.scenario.init) {
      const failures = await Promise.all(vus.map(({ vu }) => this.guard(() => this.scenario.init!(vu), () => vu.stopping)));
      const failed = failures.filter(Boolean).length;
      if (failed > 0) throw new Error(`${failed} of ${profile.vus} virtual users failed their init: ${this.iterationErrorSamples.join('; ')}`);
    }
    this.setPhase('warmup');
    const loops = vus.map(({ vu }) => this.loop(vu, false));
    await this.waitOrFinish(profile.warmupMs, false);
    openWindow();
    await this.waitOrFinish(profile.durationMs, true);
    const used = cpu();
    closeWindow();
    await this.stopAll(
      loops,
      vus.map(({ connection }) => connection),
    );
    return used;
  }

  /** Waits `ms`; when `finishable`, a scenario's finish() ends the wait early. */
  private async waitOrFinish(ms: number, finishable: boolean): Promise<void> {
    if (!finishable) {
      await delay(ms);
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.finished = done;
    });
    this.finished = null;
  }

  private async runRamping(
    profile: Extract<LoadProfile, { kind: 'ramping' }>,
    openWindow: () => void,
    closeWindow: () => void,
    cpu: () => number,
  ): Promise<number> {
    const connections: HttpConnection[] = [];
    if (profile.warmupMs > 0 && profile.warmupVus > 0) {
      this.setPhase('warmup');
      const warm = Array.from({ length: profile.warmupVus }, (_, id) => this.newVu(id));
      const loops = warm.map(({ vu }) => this.loop(vu, true));
      await delay(profile.warmupMs);
      for (const { vu } of warm) vu.retire();
      await Promise.race([Promise.all(loops), delay(profile.gracefulRampDownMs)]);
      for (const { vu, connection } of warm) {
        vu.interrupt();
        connection.close();
      }
      this.wakeCancelled();
      await Promise.all(loops);
    }

    openWindow();
    const started = performance.now();
    const total = profile.stages.reduce((sum, stage) => sum + stage.durationMs, 0);
    const active: { vu: AnyVu; connection: HttpConnection }[] = [];
    const retiring = new Map<AnyVu, { at: number; connection: HttpConnection }>();
    const busyIds = new Set<number>();
    const allLoops: Promise<void>[] = [];
    const lowestFreeId = () => {
      let id = 0;
      while (busyIds.has(id)) id++;
      return id;
    };
    for (;;) {
      const elapsed = performance.now() - started;
      const target = elapsed >= total ? 0 : stageTarget(profile.stages, elapsed);
      while (active.length < target) {
        const id = lowestFreeId();
        busyIds.add(id);
        const { vu, connection } = this.newVu(id);
        connections.push(connection);
        active.push({ vu, connection });
        allLoops.push(
          this.loop(vu, true).finally(() => {
            busyIds.delete(id);
            retiring.delete(vu);
            connection.close();
          }),
        );
      }
      while (active.length > target) {
        const last = active.pop()!;
        last.vu.retire();
        retiring.set(last.vu, { at: performance.now(), connection: last.connection });
      }
      // A retired VU that overstays the graceful ramp-down is cut off (k6 gracefulRampDown).
      let interrupted = false;
      for (const [vu, { at, connection }] of retiring) {
        if (performance.now() - at > profile.gracefulRampDownMs) {
          vu.interrupt();
          connection.close();
          retiring.delete(vu);
          interrupted = true;
        }
      }
      if (interrupted) this.wakeCancelled();
      if (elapsed >= total && this.live === 0) break;
      if (elapsed >= total + profile.gracefulRampDownMs) break;
      await delay(TICK_MS);
    }
    const used = cpu();
    closeWindow();
    await this.stopAll(allLoops, connections);
    return used;
  }

  /**
   * A pool of virtual users for an arrival-rate executor: each made with its own connection (kept
   * in `connections` to be closed at the end), its init run before its first iteration.
   */
  private arrivalPool(connections: HttpConnection[], vus: AnyVu[]) {
    const initialized = new WeakSet<AnyVu>();
    return {
      allocate: (n: number): AnyVu => {
        const { vu, connection } = this.newVu(n);
        connections.push(connection);
        vus.push(vu);
        return vu;
      },
      iterate: async (vu: AnyVu): Promise<void> => {
        this.live++;
        this.peakVus = Math.max(this.peakVus, this.live);
        try {
          if (this.scenario.init && !initialized.has(vu)) {
            initialized.add(vu);
            if (await this.guard(() => this.scenario.init!(vu), () => vu.stopping)) return;
          }
          await this.guard(() => this.scenario.iteration(vu), () => vu.stopping);
        } finally {
          this.live--;
        }
      },
    };
  }

  private async runArrivalRate(
    profile: Extract<LoadProfile, { kind: 'arrival-rate' }>,
    openWindow: () => void,
    closeWindow: () => void,
    cpu: () => number,
  ): Promise<number> {
    if (profile.warmupMs > 0 && profile.warmupRate > 0) {
      // A pool of its own: the warm-up's interrupted users must not carry over into the window.
      this.setPhase('warmup');
      const connections: HttpConnection[] = [];
      const vus: AnyVu[] = [];
      const warm = new ArrivalRateExecutor(
        {
          startRate: profile.warmupRate,
          stages: [{ durationMs: profile.warmupMs, target: profile.warmupRate }],
          preAllocatedVus: Math.min(profile.preAllocatedVus, Math.ceil(profile.warmupRate), profile.maxVus),
          maxVus: profile.maxVus,
          gracefulStopMs: Math.min(profile.gracefulStopMs, WARMUP_GRACEFUL_STOP_MS),
        },
        this.arrivalPool(connections, vus),
      );
      await warm.run();
      for (const vu of vus) vu.interrupt();
      for (const connection of connections) connection.close();
      this.wakeCancelled();
      await warm.settled();
    }

    const connections: HttpConnection[] = [];
    const executor = new ArrivalRateExecutor(
      {
        startRate: profile.startRate,
        stages: profile.stages,
        preAllocatedVus: profile.preAllocatedVus,
        maxVus: profile.maxVus,
        gracefulStopMs: profile.gracefulStopMs,
      },
      this.arrivalPool(connections, []),
    );
    // The scenario is done (e.g. sold out): no more arrivals, the window closes.
    this.finished = () => executor.stop();
    openWindow();
    let outcome: ArrivalOutcome;
    try {
      outcome = await executor.run();
    } finally {
      this.finished = null;
    }
    const used = cpu();
    closeWindow();
    this.arrivals = {
      planned: outcome.planned,
      started: outcome.started,
      dropped: outcome.dropped,
      unstarted: outcome.unstarted,
      interrupted: outcome.inFlightAtEnd,
      vusMax: outcome.allocatedVus,
    };
    this.stopping = true;
    this.wakeCancelled();
    await Promise.race([executor.settled(), delay(STOP_GRACE_MS)]);
    for (const connection of connections) connection.close();
    await executor.settled();
    return used;
  }
}
