/** Messages between the harness and its load-generator process (Node IPC, JSON). */
import type { ScenarioParams } from '../scenarios/types';

export interface LoadJob {
  scenario: string;
  target: string;
  params: ScenarioParams;
  /** What the scenario's setup created (concerts, schedules, users), as JSON. */
  setup: unknown;
}

export interface LatencySummary {
  count: number;
  avg: number;
  min: number;
  med: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
}

export interface NamedLatency extends LatencySummary {
  name: string;
}

export interface SecondBucket {
  requests: number;
  ok: number;
  conflicts: number;
  failed: number;
  latencySumMs: number;
}

export interface ErrorSample {
  request: string;
  status: number;
  body: string;
  atMs: number;
}

export interface WorkerStats {
  durationMs: number;
  requests: number;
  /** k6 http_req_failed: a transport error or a status the request did not expect. */
  failed: number;
  transportErrors: number;
  errors5xx: number;
  conflicts: number;
  /** Successful operations, as the scenario defines them. */
  ok: number;
  checksPassed: number;
  checksFailed: number;
  checks: Record<string, { passed: number; failed: number }>;
  /** "<request> <status> <code>" → count, for every status ≥ 400 and transport errors (0). */
  statuses: Record<string, number>;
  latency: LatencySummary;
  curve: { p: number; ms: number }[];
  byName: NamedLatency[];
  seconds: SecondBucket[];
  errorSamples: ErrorSample[];
  metrics: Record<string, number>;
}

/** What an open-model (arrival-rate) run did with its planned iterations (k6 vocabulary). */
export interface ArrivalCounts {
  planned: number;
  started: number;
  /** No idle virtual user and the pool at its maximum: not started (k6 dropped_iterations). */
  dropped: number;
  /** Not reached because the scenario finished first (e.g. sold out). */
  unstarted: number;
  /** Still running when the window closed, then cut off. */
  interrupted: number;
  /** Virtual users made (k6 vus_max as used). */
  vusMax: number;
}

export interface LoadGenUsage {
  /** CPU of the load-generator process over the window, % of one core. */
  cpuPct: number;
  /** The same CPU in µs (process.cpuUsage over the window), for CPU per successful operation. */
  cpuMicros: number;
  /** Event-loop delay of the load generator (high = the generator itself was late). */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  /** Peak virtual users and iterations that threw (scenario or transport trouble). */
  peakVus: number;
  iterationErrors: number;
  iterationErrorSamples: string[];
  /** Arrival-rate profiles only. */
  arrivals?: ArrivalCounts;
}

export type WorkerMessage =
  | { type: 'phase'; phase: 'init' | 'warmup' | 'measure' | 'drain'; at: number }
  | { type: 'result'; stats: WorkerStats; usage: LoadGenUsage }
  | { type: 'fatal'; message: string };

export type HarnessMessage = { type: 'run'; job: LoadJob };
