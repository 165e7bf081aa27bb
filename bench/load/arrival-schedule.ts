/**
 * When the iterations of an open-model executor start (k6 `constant-arrival-rate` and
 * `ramping-arrival-rate`): the rate starts at `startRate` iterations per second and moves linearly
 * to each stage's target over the stage's duration. Iteration k starts at the moment the integral of
 * the rate reaches k, so the first one starts at 0 and `rate × seconds` start in a constant stage
 * (2,000/s for 5 s = 10,000 arrivals at 0, 0.5, 1, … 4,999.5 ms). Pure: no clock, no timers.
 */

export interface RateStage {
  durationMs: number;
  /** Iterations per second at the end of the stage. */
  target: number;
}

/** Tolerance for floating-point sums: an arrival "at" a stage's end belongs to the next stage. */
const EPSILON = 1e-9;

function stageCount(fromRate: number, stage: RateStage): number {
  return ((fromRate + stage.target) / 2) * (stage.durationMs / 1000);
}

/** How many iterations the stages plan in all. */
export function plannedIterations(startRate: number, stages: readonly RateStage[]): number {
  let from = startRate;
  let total = 0;
  for (const stage of stages) {
    total += stageCount(from, stage);
    from = stage.target;
  }
  return Math.max(0, Math.ceil(total - EPSILON));
}

/**
 * Seconds into a stage at which `m` iterations have started, for a rate going linearly from r0
 * with slope a (per s²): solves r0·t + a·t²/2 = m in the form 2m / (r0 + √(r0² + 2am)), which
 * stays exact when a = 0 and does not cancel when a is small.
 */
function secondsToReach(m: number, r0: number, a: number): number {
  const discriminant = r0 * r0 + 2 * a * m;
  if (discriminant < 0) return Number.POSITIVE_INFINITY;
  const denominator = r0 + Math.sqrt(discriminant);
  return denominator > 0 ? (2 * m) / denominator : m === 0 ? 0 : Number.POSITIVE_INFINITY;
}

/** Start offsets (ms from the executor's start) of every planned iteration, in order. */
export function* arrivalOffsetsMs(startRate: number, stages: readonly RateStage[]): Generator<number> {
  let from = startRate;
  let stageStartMs = 0;
  let before = 0; // iterations planned by the earlier stages (fractional)
  let k = 0;
  for (const stage of stages) {
    const count = stageCount(from, stage);
    const seconds = stage.durationMs / 1000;
    const slope = seconds > 0 ? (stage.target - from) / seconds : 0;
    while (k < before + count - EPSILON) {
      const t = secondsToReach(k - before, from, slope);
      if (!Number.isFinite(t)) break;
      yield stageStartMs + Math.min(Math.max(0, t), seconds) * 1000;
      k++;
    }
    before += count;
    from = stage.target;
    stageStartMs += stage.durationMs;
  }
}
