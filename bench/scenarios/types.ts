/**
 * What a scenario is: parameters, server settings, the data it sets up through the admin API,
 * the script each virtual user runs, and what it checks afterwards. One file per scenario.
 */
import type { Client } from 'pg';
import type { Vu } from '../load/vu';
import type { SetupApi } from '../setup-api';

export interface ScenarioParams {
  /** Concurrent virtual users (constant profiles). */
  vus: number;
  /** Measurement window in seconds (the cap for scenarios that end by themselves). */
  durationS: number;
  /** Warm-up before the window, not measured. */
  warmupS: number;
  /** seed-replay: multiplies the original's virtual users (50 → 50 × scale, 150 → 150 × scale). */
  scale: number;
  /** sell-out: users who each try to buy one seat. */
  users: number;
  /** Seats per schedule. */
  seats: number;
  /** Schedules the load spreads over. */
  schedules: number;
  /** QUEUE_MAX_ACTIVE of the server (0 = the scenario's choice). */
  queueMaxActive: number;
  /** A request with no response within this time fails (status 0). */
  requestTimeoutMs: number;
  /** Seed of the virtual users' random choices. */
  seed: number;
  /** Arrival-rate scenarios (rush): iterations (arriving buyers) per second, for `durationS`. */
  rate: number;
  /** Arrival-rate scenarios: virtual users made before the first arrival (0 = the scenario's choice). */
  preAllocatedVus: number;
  /** Arrival-rate scenarios: most virtual users at once; an arrival beyond is dropped (0 = the scenario's choice). */
  maxVus: number;
  /** rush: longest wait between two polls of a WAITING token (the server's estimatedWaitSeconds, capped). */
  pollCapMs: number;
  /** hot-seat: a loser waits a uniformly random time in [min, max] ms before racing again (0-0 = at once). */
  backoffMinMs: number;
  backoffMaxMs: number;
}

export type ParamName = keyof ScenarioParams;

export interface Stage {
  durationMs: number;
  target: number;
}

export type LoadProfile =
  /** `vus` users from the start; the window is `durationMs` or ends earlier when the scenario finishes. */
  | { kind: 'constant'; vus: number; warmupMs: number; durationMs: number }
  /** k6 ramping-vus: linear ramps between stage targets; warm-up with `warmupVus` before. */
  | { kind: 'ramping'; warmupVus: number; warmupMs: number; stages: Stage[]; gracefulRampDownMs: number }
  /**
   * Open model, k6 constant-/ramping-arrival-rate: iterations start at `startRate` per second moving
   * linearly to each stage's target (per second), on a pool of `preAllocatedVus`..`maxVus` virtual
   * users; an arrival that finds none idle is dropped and counted. The window opens at the first
   * arrival and ends when the scenario finishes, or `gracefulStopMs` after the last arrival.
   * Warm-up: `warmupRate` per second for `warmupMs` on a pool of its own, before the window.
   */
  | {
      kind: 'arrival-rate';
      startRate: number;
      stages: Stage[];
      preAllocatedVus: number;
      maxVus: number;
      gracefulStopMs: number;
      warmupRate: number;
      warmupMs: number;
    };

export interface InvariantResult {
  name: string;
  ok: boolean;
  detail: string;
  /** Not checked (ok stays true so the run does not fail): `detail` says why, e.g. the bare server has no database. */
  skipped?: boolean;
}

export interface VerifyContext<Setup> {
  db: Client;
  setup: Setup;
  params: ScenarioParams;
  /** The server under test (for reading the engine's own view). */
  api: SetupApi;
  /** Successful operations the load generator counted in the window (and warm-up). */
  ok: number;
}

/** A published reference to print beside our numbers (seed-replay: the original load test). */
export interface Reference {
  title: string;
  rows: { metric: string; value: string }[];
}

/** k6-style threshold on the window's latency, e.g. p95 < 200 ms. */
export interface Threshold {
  metric: 'p95' | 'p99';
  belowMs: number;
}

export interface Scenario<Setup, Shared> {
  name: string;
  summary: string;
  /** What one successful operation (ok_per_s) is. */
  okMeans: string;
  /** Parameters this scenario reads; other command-line options do not apply to it. */
  uses: ParamName[];
  defaults: Partial<ScenarioParams>;
  reference?: Reference;
  thresholds?: Threshold[];
  /** The results table gets p95/p99 rows for every request type. */
  reportByRequest?: boolean;
  serverEnv(params: ScenarioParams): Record<string, string>;
  profile(params: ScenarioParams): LoadProfile;
  /** In the harness, before the server is loaded; through the HTTP API only. */
  setup(api: SetupApi, params: ScenarioParams): Promise<Setup>;
  /** In the load generator: state shared by its virtual users. */
  shared(setup: Setup, params: ScenarioParams): Shared;
  /** Once per virtual user before it iterates (not measured on constant profiles). */
  init?(vu: Vu<Setup, Shared>): Promise<void>;
  iteration(vu: Vu<Setup, Shared>): Promise<void>;
  /** Scenario-specific checks after the run (oversold and balances are checked for every scenario). */
  verify?(context: VerifyContext<Setup>): Promise<InvariantResult[]>;
  /** Figures read after the run (e.g. from the database), added to the scenario's own metrics in the table. */
  afterRun?(context: VerifyContext<Setup>): Promise<Record<string, number>>;
}

/** Keeps Setup/Shared inference at the definition and erases them for the registry. */
export function defineScenario<Setup, Shared>(scenario: Scenario<Setup, Shared>): Scenario<Setup, Shared> {
  return scenario;
}

export type AnyScenario = Scenario<unknown, unknown>;
