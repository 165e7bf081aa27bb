/** The shape of a run's results: what --json writes and the HTML and tables read. */
import type { CpuPerOk } from '../cpu-per-op';
import type { ErrorSample, LatencySummary, NamedLatency } from '../load/protocol';
import type { InvariantResult, Reference, ScenarioParams } from '../scenarios/types';

/** The --json latency block: the load generator's summary without its count. */
export type LatencyMs = Omit<LatencySummary, 'count'>;

export interface EngineResult {
  engine: string;
  /** ok: measured; failed-to-start: the server did not become ready; failed: the run broke. */
  status: 'ok' | 'failed-to-start' | 'failed';
  error?: string;
  duration_s: number;
  http_reqs: number;
  req_per_s: number;
  /** Successful operations (see the report's ok_means) and their rate. */
  ok: number;
  ok_per_s: number;
  conflicts: number;
  errors_5xx: number;
  transport_errors: number;
  /** k6 http_req_failed: share of requests with an unexpected status or no response. */
  http_req_failed_rate: number;
  checks: { passed: number; failed: number; by_name: Record<string, { passed: number; failed: number }> };
  /** Seats in more than one live or sold reservation (null when the database was not reachable). */
  oversold: number | null;
  latency_ms: LatencyMs;
  latency_by_request: NamedLatency[];
  cpu_pct: {
    /** The server process, % of one core (200 = both cores of this machine). */
    server: number | null;
    server_peak_1s: number | null;
    load_generator: number;
    /** PostgreSQL backends connected to the engine's database, % of one core. */
    database: number | null;
    redis: number | null;
    /** Whole machine, % of all cores. */
    machine: number;
    /** Whole machine in the second before this engine's server started (others' load). */
    machine_before_start: number;
  };
  /** CPU per successful operation in µs (bench/cpu-per-op.ts); absent in results saved before 2026-11-26. */
  cpu_us_per_ok?: CpuPerOk;
  load_generator: {
    loop_delay_p99_ms: number;
    loop_delay_max_ms: number;
    peak_vus: number;
    iteration_errors: number;
    iteration_error_samples: string[];
    /** Arrival-rate (open-model) scenarios: what became of the planned iterations (k6 names). */
    iterations?: {
      planned: number;
      started: number;
      dropped_iterations: number;
      /** Not reached because the scenario finished first (e.g. sold out). */
      unstarted: number;
      /** Running when the window closed, then cut off. */
      interrupted: number;
      vus_max: number;
    };
  };
  db: { xacts: number; xacts_per_ok: number | null; rollbacks: number; tuples_read_per_ok: number | null; tuples_written_per_ok: number | null } | null;
  redis: { commands: number; commands_per_ok: number | null; top: Record<string, number>; private: boolean } | null;
  server_rss_mb: number | null;
  /** The server's ovation_* Prometheus figures over the window ("<histogram>.count", "<histogram>.avg", counters' increase). */
  server_metrics: Record<string, number>;
  thresholds: { name: string; ok: boolean }[];
  invariants: InvariantResult[];
  /** "<request> <status> <code>" → count for statuses ≥ 400 (0 = no response). */
  statuses: Record<string, number>;
  error_samples: ErrorSample[];
  scenario_metrics: Record<string, number>;
  server_log: { file: string; warnings: number; samples: string[] } | null;
  latency_curve: { p: number; ms: number }[];
  per_second: { requests: number; ok: number; conflicts: number; failed: number; avg_ms: number }[];
  /** With --repeat: every run's headline numbers (this result is the run with the median ok_per_s). */
  repeats?: {
    status: EngineResult['status'];
    ok_per_s: number;
    req_per_s: number;
    p95: number;
    p99: number;
    errors_5xx: number;
    oversold: number | null;
    invariants_hold: boolean;
  }[];
  /** actor's value ÷ this engine's (throughput: how many times faster; latency: fraction). */
  actor_over_engine?: { ok_per_s: number | null; req_per_s: number | null; p95: number | null; p99: number | null };
  /**
   * This engine's throughput ÷ the bare server's in the same run (engine label `bare`,
   * bench/bare/bare-server.ts: the HTTP ceiling): the share of the ceiling it reaches (issue 11: ≥ 0.4).
   */
  over_bare?: { ok_per_s: number | null; req_per_s: number | null };
}

export interface Machine {
  cpus: number;
  model: string;
  node: string;
  memory_gb: number;
  os: string;
  loadavg_at_start: number[];
}

export interface RunReport {
  scenario: string;
  summary: string;
  ok_means: string;
  machine: Machine;
  params: ScenarioParams;
  command: string;
  started_at: string;
  run_id: string;
  commit: string | null;
  server: { node_flags: readonly string[]; env: Record<string, string>; build: string };
  redis: 'private' | 'shared';
  reference?: Reference;
  /** The table has p95/p99 rows for every request type (the scenario asks for them). */
  request_rows?: boolean;
  results: EngineResult[];
}

export function emptyLatency(): LatencyMs {
  return { avg: 0, min: 0, med: 0, p90: 0, p95: 0, p99: 0, max: 0 };
}

export function latencyMs(summary: LatencySummary): LatencyMs {
  const { avg, min, med, p90, p95, p99, max } = summary;
  return { avg, min, med, p90, p95, p99, max };
}
