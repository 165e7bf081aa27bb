/** Command-line options of the harness, checked up front with messages that say what was expected. */
import { connectionLimitProblem } from './load/open-file-limit';
import { ENGINES, KNOWN_ENGINES } from './server-process';
import { clusterSize } from './cluster-server';
import { BARE_ENGINE, BARE_SCENARIOS } from './bare-server-process';
import { scenarios } from './scenarios';
import type { AnyScenario, ParamName, ScenarioParams } from './scenarios/types';

export const USAGE = `Usage:
  npm run bench -- --scenario <name>[,<name>…] [options]
  npm run bench -- --summary <result.json>…      markdown table of saved runs (for the README)
  npm run bench -- --list                          the scenarios and their defaults

Scenarios: ${Object.keys(scenarios).join(', ')}

Options:
  --engines <list>          engines to compare, one after another (default actor,lock,sql; also actor-embedded:
                            the actor engine on the server's own embedded PostgreSQL 17, REDIS_URL still set;
                            bare: Fastify answering the same routes with no engine, the HTTP ceiling, for
                            ${BARE_SCENARIOS.join(' and ')} — the table then has a row "ok_per_s ÷ bare")
  --vus <n>                 concurrent virtual users (hot-seat, spread, sell-out)
  --duration <s>            measurement window (sell-out: its time cap)
  --warmup <s>              warm-up before the window, not measured
  --scale <n>               seed-replay: × the original's virtual users (1 = 50/150/50)
  --users <n>               sell-out: buyers
  --seats <n>               seats per schedule
  --schedules <n>           schedules (spread, seed-replay, rush, best-available-rush)
  --queue-max-active <n>    seed-replay, rush*: QUEUE_MAX_ACTIVE (seed-replay: default 10 × scale; rush*: 100)
  --rate <n>                rush*: buyers arriving per second (open model) for --duration seconds
                            (rush* = rush and best-available-rush)
  --pre-allocated-vus <n>   rush*: virtual users made before the first arrival (k6 preAllocatedVUs;
                            default auto = one second of arrivals)
  --max-vus <n>             rush*: most virtual users (= connections) at once; an arrival that finds
                            none idle is dropped and counted (k6 maxVUs, dropped_iterations; default
                            auto = one per arriving buyer, so nothing is dropped unless you lower it)
  --poll-cap <ms>           rush*: longest wait between polls of a WAITING token (default 2000)
  --backoff <min-max>       hot-seat: a loser (409) waits a random min..max ms before racing again
                            (default 50-150; 0 = at once, the mode of the runs before 2026-11-26)
  --timeout <ms>            request timeout of the load generator (default 30000)
  --seed <n>                seed of the virtual users' random choices (default 42)
  --repeat <n>              run every engine n times, interleaved (odd rounds in the given order, even
                            rounds reversed); report the run with the median ok_per_s and every run's numbers
  --json <file>             write the results as JSON ("{scenario}" in the name: one file per scenario)
  --html <file>             write the HTML report with charts (same naming)
  --save                    write bench/results/<scenario>-<date>.json and .html
  --target <url>            load a running server instead of starting one per engine
  --database-url <url>      with --target: its database (for invariants and counters)
  --server-pid <pid,…>      with --target: its processes (for CPU; a cluster: every instance)
  --admin-key <key>         with --target: its ADMIN_API_KEY (default dev-admin-key)
  --redis-url <url>         Redis for the servers (default: a private redis-server of this run)
  --no-build                run dist/src/main.js as it is instead of building the server for this run
  --help`;

export class UsageError extends Error {}

export interface CliOptions {
  mode: 'run' | 'summary' | 'list' | 'help';
  scenarios: AnyScenario[];
  engines: string[];
  given: Partial<ScenarioParams>;
  json?: string;
  html?: string;
  save: boolean;
  target?: string;
  databaseUrl?: string;
  /** With --target: the processes whose CPU is the server's (a cluster: every instance and the front). */
  serverPids?: number[];
  adminKey?: string;
  redisUrl?: string;
  build: boolean;
  repeat: number;
  files: string[];
}

export const BASE_PARAMS: ScenarioParams = {
  vus: 64,
  durationS: 10,
  warmupS: 2,
  scale: 1,
  users: 5000,
  seats: 1000,
  schedules: 100,
  queueMaxActive: 0,
  requestTimeoutMs: 30_000,
  seed: 42,
  rate: 2000,
  preAllocatedVus: 0,
  maxVus: 0,
  pollCapMs: 2000,
  backoffMinMs: 0,
  backoffMaxMs: 0,
};

/** Options every scenario reads. */
const COMMON: ParamName[] = ['requestTimeoutMs', 'seed'];

const NUMERIC: Record<string, { param: ParamName; min: number; max: number }> = {
  '--vus': { param: 'vus', min: 1, max: 20_000 },
  '--duration': { param: 'durationS', min: 1, max: 3600 },
  '--warmup': { param: 'warmupS', min: 0, max: 600 },
  '--scale': { param: 'scale', min: 1, max: 100 },
  '--users': { param: 'users', min: 1, max: 1_000_000 },
  '--seats': { param: 'seats', min: 1, max: 100_000 },
  '--schedules': { param: 'schedules', min: 1, max: 10_000 },
  '--queue-max-active': { param: 'queueMaxActive', min: 1, max: 10_000_000 },
  '--timeout': { param: 'requestTimeoutMs', min: 100, max: 600_000 },
  '--seed': { param: 'seed', min: 0, max: 2 ** 31 - 1 },
  '--rate': { param: 'rate', min: 1, max: 1_000_000 },
  '--pre-allocated-vus': { param: 'preAllocatedVus', min: 1, max: 1_000_000 },
  '--max-vus': { param: 'maxVus', min: 1, max: 1_000_000 },
  '--poll-cap': { param: 'pollCapMs', min: 50, max: 60_000 },
};

/** Parameters whose 0 means "the scenario sizes it" (printed as auto). */
const AUTO_WHEN_ZERO: ParamName[] = ['preAllocatedVus', 'maxVus'];

/** Options given as a range "min-max" (or one number for both) that set two parameters. */
const RANGES: Record<string, { min: ParamName; max: ParamName; limit: number }> = {
  '--backoff': { min: 'backoffMinMs', max: 'backoffMaxMs', limit: 60_000 },
};

function range(option: string, raw: string | undefined, limit: number): [number, number] {
  const match = raw === undefined ? null : /^(\d+)(?:-(\d+))?$/.exec(raw);
  const low = Number(match?.[1]);
  const high = Number(match?.[2] ?? match?.[1]);
  if (!match || low > high || high > limit) {
    throw new UsageError(`${option} must be "<min>-<max>" or one number, in ms from 0 to ${limit}, min ≤ max (got "${raw ?? ''}")`);
  }
  return [low, high];
}

function integer(option: string, raw: string | undefined, min: number, max: number): number {
  if (raw === undefined || raw.startsWith('--')) throw new UsageError(`${option} needs a value (an integer from ${min} to ${max})`);
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) throw new UsageError(`${option} must be an integer from ${min} to ${max} (got "${raw}")`);
  return value;
}

function text(option: string, raw: string | undefined): string {
  if (raw === undefined || raw.startsWith('--') || raw === '') throw new UsageError(`${option} needs a value`);
  return raw;
}

function url(option: string, raw: string | undefined, protocols: string[]): string {
  const value = text(option, raw);
  try {
    if (!protocols.includes(new URL(value).protocol)) throw new Error('protocol');
  } catch {
    throw new UsageError(`${option} must be a URL (${protocols.join(' or ')}), got "${value}"`);
  }
  return value.replace(/\/$/, '');
}

export function parseArgs(argv: string[]): CliOptions {
  const options: CliOptions = { mode: 'run', scenarios: [], engines: [...ENGINES], given: {}, save: false, build: true, repeat: 1, files: [] };
  let scenarioList: string | undefined;
  let enginesGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = () => argv[++i];
    const numeric = NUMERIC[arg];
    if (numeric) {
      options.given[numeric.param] = integer(arg, next(), numeric.min, numeric.max);
      continue;
    }
    const ranged = RANGES[arg];
    if (ranged) {
      [options.given[ranged.min], options.given[ranged.max]] = range(arg, next(), ranged.limit);
      continue;
    }
    switch (arg) {
      case '--scenario':
        scenarioList = text(arg, next());
        break;
      case '--engines':
        options.engines = text(arg, next())
          .split(',')
          .map((e) => e.trim())
          .filter(Boolean);
        enginesGiven = true;
        break;
      case '--json':
        options.json = text(arg, next());
        break;
      case '--html':
        options.html = text(arg, next());
        break;
      case '--repeat':
        options.repeat = integer(arg, next(), 1, 10);
        break;
      case '--save':
        options.save = true;
        break;
      case '--target':
        options.target = url(arg, next(), ['http:']);
        break;
      case '--database-url':
        options.databaseUrl = url(arg, next(), ['postgres:', 'postgresql:']);
        break;
      case '--server-pid':
        options.serverPids = text(arg, next())
          .split(',')
          .map((pid) => integer(arg, pid, 1, 2 ** 22));
        break;
      case '--admin-key':
        options.adminKey = text(arg, next());
        break;
      case '--redis-url':
        options.redisUrl = url(arg, next(), ['redis:']);
        break;
      case '--no-build':
        options.build = false;
        break;
      case '--summary':
        options.mode = 'summary';
        while (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) options.files.push(argv[++i]!);
        if (options.files.length === 0) throw new UsageError('--summary needs one or more result JSON files');
        break;
      case '--list':
        options.mode = 'list';
        break;
      case '--help':
      case '-h':
        options.mode = 'help';
        break;
      default:
        throw new UsageError(`unknown option "${arg}"`);
    }
  }
  if (options.mode !== 'run') return options;
  if (!scenarioList) throw new UsageError('--scenario is required');
  for (const name of scenarioList.split(',').map((s) => s.trim())) {
    const scenario = scenarios[name];
    if (!scenario) throw new UsageError(`unknown scenario "${name}" (known: ${Object.keys(scenarios).join(', ')})`);
    options.scenarios.push(scenario);
  }
  if (options.engines.length === 0) throw new UsageError('--engines needs at least one engine');
  if (new Set(options.engines).size !== options.engines.length) throw new UsageError('--engines names an engine twice');
  if (options.target) {
    if (!enginesGiven || options.engines.length !== 1) {
      throw new UsageError('with --target, name the one engine that server runs: --engines actor|lock|sql (it labels the results)');
    }
  } else {
    for (const engine of options.engines) {
      if (engine === BARE_ENGINE) continue;
      if (!(KNOWN_ENGINES as readonly string[]).includes(engine) && clusterSize(engine) === undefined) {
        throw new UsageError(
          `unknown engine "${engine}" (known: ${KNOWN_ENGINES.join(', ')}, ${BARE_ENGINE}, and actor-x1 … actor-x9: a cluster of n behind a front)`,
        );
      }
    }
    const beyondBare = options.scenarios.filter((s) => !BARE_SCENARIOS.includes(s.name));
    if (options.engines.includes(BARE_ENGINE) && beyondBare.length > 0) {
      throw new UsageError(
        `the ${BARE_ENGINE} server answers only the routes of ${BARE_SCENARIOS.join(' and ')}, not ${beyondBare.map((s) => s.name).join(', ')}`,
      );
    }
    if (options.databaseUrl || options.serverPids || options.adminKey) {
      throw new UsageError('--database-url, --server-pid and --admin-key go with --target (the harness starts its own servers otherwise)');
    }
  }
  for (const key of Object.keys(options.given) as ParamName[]) {
    if (COMMON.includes(key)) continue;
    if (!options.scenarios.some((s) => s.uses.includes(key))) {
      throw new UsageError(`${flagOf(key)} does not apply to ${options.scenarios.map((s) => s.name).join(', ')}`);
    }
  }
  for (const scenario of options.scenarios) {
    const problem = connectionLimitProblem(scenario.profile(paramsFor(scenario, options.given)));
    if (problem) throw new UsageError(`${scenario.name}: ${problem}`);
  }
  if (options.scenarios.length > 1) {
    for (const [flag, file] of [['--json', options.json], ['--html', options.html]] as const) {
      if (file && !file.includes('{scenario}')) throw new UsageError(`with several scenarios, ${flag} needs "{scenario}" in the file name`);
    }
  }
  return options;
}

/** The command-line flag of a parameter, for printing parameters the way they are given. */
export function flagOf(param: ParamName): string {
  return (
    Object.entries(NUMERIC).find(([, n]) => n.param === param)?.[0] ??
    Object.entries(RANGES).find(([, r]) => r.min === param || r.max === param)?.[0] ??
    param
  );
}

/** A scenario's parameters as command-line options, e.g. "--vus 64 --duration 10 --backoff 50-150". */
export function describeParams(scenario: AnyScenario, params: ScenarioParams): string {
  const parts: string[] = [];
  for (const key of scenario.uses) {
    const ranged = Object.entries(RANGES).find(([, r]) => r.min === key || r.max === key);
    if (!ranged) {
      parts.push(`${flagOf(key)} ${AUTO_WHEN_ZERO.includes(key) && params[key] === 0 ? 'auto' : params[key]}`);
      continue;
    }
    const [flag, r] = ranged;
    if (key !== r.min) continue; // printed once, with its min
    parts.push(`${flag} ${params[r.min] === params[r.max] ? params[r.min] : `${params[r.min]}-${params[r.max]}`}`);
  }
  return parts.join(' ');
}

/** Base defaults ← the scenario's defaults ← what was given (if the scenario reads it). */
export function paramsFor(scenario: AnyScenario, given: Partial<ScenarioParams>): ScenarioParams {
  const params: ScenarioParams = { ...BASE_PARAMS, ...scenario.defaults };
  for (const [key, value] of Object.entries(given) as [ParamName, number][]) {
    if (scenario.uses.includes(key) || COMMON.includes(key)) params[key] = value;
  }
  return params;
}
