/**
 * Several runs of one engine (--repeat): the run with the median ok_per_s stands for the engine,
 * every run's headline numbers are kept beside it, and anything that broke in any run (an
 * invariant, oversold seats, a failed run) is carried over, so a bad repetition cannot hide.
 */
import type { EngineResult } from './types';

export function combineRepeats(runs: EngineResult[]): EngineResult {
  if (runs.length === 1) return runs[0]!;
  const measured = runs.filter((r) => r.status === 'ok').sort((a, b) => a.ok_per_s - b.ok_per_s);
  const chosen = measured[Math.floor((measured.length - 1) / 2)] ?? runs[0]!;
  const combined: EngineResult = { ...chosen, invariants: [...chosen.invariants] };
  combined.repeats = runs.map((r) => ({
    status: r.status,
    ok_per_s: r.ok_per_s,
    req_per_s: r.req_per_s,
    p95: r.latency_ms.p95,
    p99: r.latency_ms.p99,
    errors_5xx: r.errors_5xx,
    oversold: r.oversold,
    invariants_hold: r.invariants.every((i) => i.ok),
  }));
  runs.forEach((run, index) => {
    if (run === chosen) return;
    if (run.status !== 'ok') combined.invariants.push({ name: `repeat ${index + 1} ran`, ok: false, detail: `${run.status}: ${(run.error ?? '').split('\n')[0]}` });
    for (const invariant of run.invariants) {
      if (!invariant.ok) combined.invariants.push({ ...invariant, name: `repeat ${index + 1}: ${invariant.name}` });
    }
  });
  const oversold = runs.map((r) => r.oversold).filter((v): v is number => v !== null);
  combined.oversold = oversold.length > 0 ? Math.max(...oversold) : null;
  return combined;
}
