/**
 * What the load generator measures inside the measurement window: every request's latency (kept
 * whole, sorted once at the end: runs are bounded, so exact percentiles are affordable), counters
 * in the load test's vocabulary, k6-style checks, per-second buckets, and a few samples of
 * failed responses so that a 5xx can be reported precisely.
 */
import type { ErrorSample, LatencySummary, NamedLatency, SecondBucket, WorkerStats } from './protocol';

class Samples {
  private data = new Float64Array(4096);
  length = 0;

  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }

  sorted(): Float64Array {
    return this.data.slice(0, this.length).sort();
  }
}

/** Nearest-rank percentile of sorted data (p in 0..100). */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(sorted: Float64Array): LatencySummary {
  let sum = 0;
  for (const value of sorted) sum += value;
  const round = (ms: number) => Math.round(ms * 1000) / 1000;
  return {
    count: sorted.length,
    avg: round(sorted.length === 0 ? 0 : sum / sorted.length),
    min: round(sorted.length === 0 ? 0 : sorted[0]!),
    med: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p95: round(percentile(sorted, 95)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.length === 0 ? 0 : sorted[sorted.length - 1]!),
  };
}

/** Percentile points for the latency curves: dense where the tail is (90, 99, 99.9, 99.99). */
export function curvePercentiles(): number[] {
  const points = new Set<number>([0, 10, 20, 30, 40, 50, 60, 70, 80]);
  for (let k = 10; k <= 40; k++) points.add(Math.round((100 - 100 * 10 ** (-k / 10)) * 10000) / 10000);
  points.add(100);
  return [...points].sort((a, b) => a - b);
}

const MAX_ERROR_SAMPLES = 10;

export class Recorder {
  private measuring = false;
  private startedAt = 0;
  private endedAt = 0;
  private readonly all = new Samples();
  private readonly byName = new Map<string, Samples>();
  private requests = 0;
  private failed = 0;
  private transportErrors = 0;
  private errors5xx = 0;
  private conflicts = 0;
  private ok = 0;
  private readonly statuses = new Map<string, number>();
  private readonly checks = new Map<string, { passed: number; failed: number }>();
  private readonly seconds: SecondBucket[] = [];
  private readonly errorSamples: ErrorSample[] = [];
  private readonly extra = new Map<string, number>();

  /** performance.now() at which the window opened (NaN before). */
  get windowStart(): number {
    return this.measuring || this.endedAt > 0 ? this.startedAt : Number.NaN;
  }

  get isMeasuring(): boolean {
    return this.measuring;
  }

  start(now: number): void {
    this.measuring = true;
    this.startedAt = now;
  }

  stop(now: number): void {
    if (!this.measuring) return;
    this.measuring = false;
    this.endedAt = now;
  }

  private bucket(now: number): SecondBucket {
    const index = Math.floor((now - this.startedAt) / 1000);
    while (this.seconds.length <= index) this.seconds.push({ requests: 0, ok: 0, conflicts: 0, failed: 0, latencySumMs: 0 });
    return this.seconds[index]!;
  }

  /** A response (or a transport failure: status 0) of a request started at `startedAt`. */
  request(name: string, startedAt: number, now: number, status: number, failed: boolean, code: string | undefined): boolean {
    if (!this.measuring || startedAt < this.startedAt) return false;
    const latency = now - startedAt;
    this.all.push(latency);
    let named = this.byName.get(name);
    if (!named) {
      named = new Samples();
      this.byName.set(name, named);
    }
    named.push(latency);
    this.requests++;
    const bucket = this.bucket(now);
    bucket.requests++;
    bucket.latencySumMs += latency;
    if (failed) {
      this.failed++;
      bucket.failed++;
    }
    if (status === 0) this.transportErrors++;
    if (status >= 500) this.errors5xx++;
    if (status === 409) {
      this.conflicts++;
      bucket.conflicts++;
    }
    if (status === 0 || status >= 400) {
      const key = `${name} ${status}${code ? ` ${code}` : ''}`;
      this.statuses.set(key, (this.statuses.get(key) ?? 0) + 1);
    }
    return true;
  }

  errorSample(sample: ErrorSample): void {
    if (this.errorSamples.length < MAX_ERROR_SAMPLES) this.errorSamples.push(sample);
  }

  check(name: string, passed: boolean): void {
    if (!this.measuring) return;
    let entry = this.checks.get(name);
    if (!entry) {
      entry = { passed: 0, failed: 0 };
      this.checks.set(name, entry);
    }
    if (passed) entry.passed++;
    else entry.failed++;
  }

  success(now: number, count: number): void {
    if (!this.measuring) return;
    this.ok += count;
    this.bucket(now).ok += count;
  }

  /** A scenario's own figure (e.g. time to sell out), reported as is. */
  metric(name: string, value: number): void {
    this.extra.set(name, value);
  }

  result(): WorkerStats {
    const durationMs = (this.measuring ? performance.now() : this.endedAt) - this.startedAt;
    const sorted = this.all.sorted();
    const curve = curvePercentiles().map((p) => ({ p, ms: Math.round(percentile(sorted, p) * 1000) / 1000 }));
    const byName: NamedLatency[] = [...this.byName.entries()]
      .map(([name, samples]) => ({ name, ...summarize(samples.sorted()) }))
      .sort((a, b) => b.count - a.count);
    let checksPassed = 0;
    let checksFailed = 0;
    for (const entry of this.checks.values()) {
      checksPassed += entry.passed;
      checksFailed += entry.failed;
    }
    return {
      durationMs,
      requests: this.requests,
      failed: this.failed,
      transportErrors: this.transportErrors,
      errors5xx: this.errors5xx,
      conflicts: this.conflicts,
      ok: this.ok,
      checksPassed,
      checksFailed,
      checks: Object.fromEntries(this.checks),
      statuses: Object.fromEntries([...this.statuses.entries()].sort((a, b) => b[1] - a[1])),
      latency: summarize(sorted),
      curve,
      byName,
      seconds: this.seconds,
      errorSamples: this.errorSamples,
      metrics: Object.fromEntries(this.extra),
    };
  }
}
