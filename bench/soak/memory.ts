/**
 * The server's memory (and a few gauges) every 10 s: RSS from /proc/<pid>/status, the V8 heap from
 * /metrics (prom-client's nodejs_heap_size_used_bytes; /metrics may not answer during a database
 * fault, then only RSS is kept). The trend is judged on one incarnation of the server (a SIGKILL
 * restarts the count): the longest, after its warm-up; the averages of its first and last thirds
 * are compared, and growth over 20 % is flagged.
 */
import { readFileSync } from 'node:fs';
import { machineBusyPct, machineCpu, processCpuSeconds, type MachineCpu } from '../proc-stats';
import type { SoakServer } from './server';

export const SAMPLE_EVERY_MS = 10_000;
const WARMUP_MS = 30_000;
const MIN_WINDOW_MS = 120_000;
const GROWTH_LIMIT = 0.2;

export interface MemorySample {
  at: number;
  incarnation: number;
  pid: number;
  rssMb: number;
  heapUsedMb?: number;
  heapTotalMb?: number;
  externalMb?: number;
  outboxPending?: number;
  chargesPending?: number;
  breakerState?: number;
  /** % of one core since the previous sample (same incarnation). */
  serverCpuPct?: number;
  /** % of the whole machine since the previous sample. */
  machineBusyPct?: number;
}

export interface MemoryTrend {
  incarnation: number;
  windowSeconds: number;
  samples: number;
  rssFirstThirdMb: number;
  rssLastThirdMb: number;
  rssGrowthPct: number;
  heapFirstThirdMb?: number;
  heapLastThirdMb?: number;
  heapGrowthPct?: number;
  /** Growth over the limit on RSS or heap. */
  flagged: boolean;
  /** The window is too short to call it either way (still reported). */
  inconclusive: boolean;
  detail: string;
}

function rssMb(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

async function scrape(url: string): Promise<Map<string, number>> {
  const values = new Map<string, number>();
  try {
    const response = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(3_000) });
    if (response.status !== 200) return values;
    for (const line of (await response.text()).split('\n')) {
      const match = /^([a-z_]+)(\{[^}]*\})? ([0-9.eE+-]+)$/.exec(line);
      if (match && !values.has(match[1]!)) values.set(match[1]!, Number(match[3]));
    }
  } catch {
    // during a fault /metrics may hang on the database: RSS alone then
  }
  return values;
}

const mb = (bytes: number | undefined): number | undefined => (bytes === undefined ? undefined : Math.round((bytes / 1048576) * 10) / 10);
const round1 = (value: number): number => Math.round(value * 10) / 10;
const average = (values: number[]): number => values.reduce((sum, v) => sum + v, 0) / Math.max(1, values.length);

export class MemorySampler {
  readonly samples: MemorySample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastCpu: { pid: number; seconds: number; at: number } | undefined;
  private lastMachine: MachineCpu | undefined;

  constructor(private readonly server: SoakServer) {}

  start(): void {
    this.lastMachine = machineCpu();
    this.timer = setInterval(() => void this.sample(), SAMPLE_EVERY_MS);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async sample(): Promise<void> {
    const pid = this.server.pid;
    if (pid === undefined) return;
    const rss = rssMb(pid);
    if (rss === undefined) return;
    const at = Date.now();
    const incarnation = this.server.incarnation;
    const metrics = await scrape(this.server.url);
    const cpu = processCpuSeconds(pid);
    let serverCpuPct: number | undefined;
    if (cpu !== undefined && this.lastCpu?.pid === pid) serverCpuPct = round1(((cpu - this.lastCpu.seconds) / ((at - this.lastCpu.at) / 1000)) * 100);
    if (cpu !== undefined) this.lastCpu = { pid, seconds: cpu, at };
    const machine = machineCpu();
    const machinePct = this.lastMachine ? machineBusyPct(this.lastMachine, machine) : undefined;
    this.lastMachine = machine;
    this.samples.push({
      at,
      incarnation,
      pid,
      rssMb: round1(rss),
      heapUsedMb: mb(metrics.get('nodejs_heap_size_used_bytes')),
      heapTotalMb: mb(metrics.get('nodejs_heap_size_total_bytes')),
      externalMb: mb(metrics.get('nodejs_external_memory_bytes')),
      outboxPending: metrics.get('ovation_outbox_pending'),
      chargesPending: metrics.get('ovation_charges_pending'),
      breakerState: metrics.get('ovation_breaker_state'),
      ...(serverCpuPct !== undefined ? { serverCpuPct } : {}),
      ...(machinePct !== undefined ? { machineBusyPct: machinePct } : {}),
    });
  }

  /** The trend over the longest incarnation after its warm-up. */
  trend(): MemoryTrend | undefined {
    const byIncarnation = new Map<number, MemorySample[]>();
    for (const sample of this.samples) {
      const list = byIncarnation.get(sample.incarnation) ?? [];
      list.push(sample);
      byIncarnation.set(sample.incarnation, list);
    }
    let best: MemorySample[] = [];
    for (const list of byIncarnation.values()) {
      const warm = list.filter((s) => s.at - list[0]!.at >= WARMUP_MS);
      if (warm.length > best.length) best = warm;
    }
    if (best.length < 3) return undefined;
    const third = Math.max(1, Math.floor(best.length / 3));
    const first = best.slice(0, third);
    const last = best.slice(-third);
    const growth = (a: number, b: number): number => round1(((b - a) / a) * 100);
    const rssFirst = average(first.map((s) => s.rssMb));
    const rssLast = average(last.map((s) => s.rssMb));
    const heapOf = (list: MemorySample[]): number[] => list.flatMap((s) => (s.heapUsedMb === undefined ? [] : [s.heapUsedMb]));
    const [heapFirst, heapLast] = [heapOf(first), heapOf(last)];
    const hasHeap = heapFirst.length > 0 && heapLast.length > 0;
    const windowMs = best[best.length - 1]!.at - best[0]!.at;
    const rssGrowth = growth(rssFirst, rssLast);
    const heapGrowth = hasHeap ? growth(average(heapFirst), average(heapLast)) : undefined;
    const flagged = rssGrowth > GROWTH_LIMIT * 100 || (heapGrowth ?? 0) > GROWTH_LIMIT * 100;
    const inconclusive = windowMs < MIN_WINDOW_MS;
    const detail =
      `incarnation ${best[0]!.incarnation}, ${best.length} samples over ${Math.round(windowMs / 1000)} s after a ${WARMUP_MS / 1000} s warm-up: ` +
      `RSS ${round1(rssFirst)} → ${round1(rssLast)} MB (${rssGrowth >= 0 ? '+' : ''}${rssGrowth} %)` +
      (hasHeap ? `, heap used ${round1(average(heapFirst))} → ${round1(average(heapLast))} MB (${heapGrowth! >= 0 ? '+' : ''}${heapGrowth} %)` : ', heap not sampled') +
      (inconclusive ? `; window under ${MIN_WINDOW_MS / 1000} s: inconclusive` : '');
    return {
      incarnation: best[0]!.incarnation,
      windowSeconds: Math.round(windowMs / 1000),
      samples: best.length,
      rssFirstThirdMb: round1(rssFirst),
      rssLastThirdMb: round1(rssLast),
      rssGrowthPct: rssGrowth,
      ...(hasHeap ? { heapFirstThirdMb: round1(average(heapFirst)), heapLastThirdMb: round1(average(heapLast)), heapGrowthPct: heapGrowth } : {}),
      flagged,
      inconclusive,
      detail,
    };
  }
}
