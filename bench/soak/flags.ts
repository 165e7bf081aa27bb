/**
 * The soak's command-line flags (bench/outbox/flags.ts does the parsing: strict, `--help`), checked
 * and completed with the values that depend on others (seats per schedule, fault spacing).
 */
import { parseFlags, UsageError } from '../outbox/flags';

export type EngineName = 'actor' | 'lock' | 'sql';

export interface SoakOptions {
  minutes: number;
  buyers: number;
  seed: number;
  engine: EngineName;
  json: string;
  concerts: number;
  schedulesPerConcert: number;
  seatsPerSchedule: number;
  /** Seconds between the starts of two faults. */
  faultEverySeconds: number;
  /** Seconds before the first fault. */
  firstFaultSeconds: number;
  holdTtlSeconds: number;
  server: 'build' | 'ts-node';
}

const USAGE = `npx ts-node --transpile-only bench/soak/soak.ts [--minutes 10] [--buyers 40] [--seed 42] [--engine actor|lock|sql] [--json out.json]

Runs the real server (child process) against PostgreSQL behind a TCP proxy, a private Redis, a private
Kafka broker and the payment gateway simulator, under a mixed load of buyers, while faults are injected
on a schedule; then checks the invariants from the database and Kafka. Exit code 1 if one fails.`;

const SPECS = {
  minutes: { default: 10, help: 'length of the load (faults included); verification comes after' },
  buyers: { default: 40, help: 'concurrent buyers (closed loop with think time; 30–60 suits a shared 2-core machine)' },
  seed: { default: 42, help: 'seed of every random choice of the load and of the fault schedule' },
  engine: { default: 'actor', help: 'reservation engine: actor, lock or sql' },
  json: { default: '', help: 'write the full result (summary, faults, invariants, memory samples) to this file' },
  concerts: { default: 3, help: 'concerts (each buyer shops at one, moving on now and then)' },
  schedules: { default: 2, help: 'schedules per concert' },
  seats: { default: 0, help: 'seats per schedule (0: sized so that the run does not sell out)' },
  'fault-every': { default: 0, help: 'seconds between fault starts (0: ~75 s, less on short runs so that every fault fits)' },
  'hold-ttl': { default: 20, help: 'HOLD_TTL_SECONDS of the server (short, so that holds expire during the run)' },
  server: { default: 'build', help: "'build' (tsc of src/ into bench/results/tmp, then node) or 'ts-node' (src/main.ts via ts-node)" },
} as const;

/** Faults in one cycle (faults.ts); the auto spacing fits them all into the run. */
export const FAULT_KINDS_IN_CYCLE = 7;

export function readOptions(argv = process.argv.slice(2)): SoakOptions {
  const flags = parseFlags(USAGE, SPECS, argv);
  const engine = flags.engine;
  if (engine !== 'actor' && engine !== 'lock' && engine !== 'sql') throw new UsageError(`--engine must be actor, lock or sql (got ${engine})`);
  if (flags.server !== 'build' && flags.server !== 'ts-node') throw new UsageError(`--server must be build or ts-node (got ${flags.server})`);
  if (!(flags.minutes > 0)) throw new UsageError('--minutes must be > 0');
  const integer = (name: string, value: number, min: number): number => {
    if (!Number.isInteger(value) || value < min) throw new UsageError(`--${name} must be an integer >= ${min} (got ${value})`);
    return value;
  };
  const buyers = integer('buyers', flags.buyers, 1);
  const concerts = integer('concerts', flags.concerts, 1);
  const schedulesPerConcert = integer('schedules', flags.schedules, 1);
  const schedules = concerts * schedulesPerConcert;
  // A buyer takes ~14 seats a minute (a cycle of ~3.5 s, 70 % paid, 1.3 seats a hold): about twice that, spread.
  const seats = flags.seats > 0 ? integer('seats', flags.seats, 1) : Math.min(3_000, Math.max(200, Math.ceil((buyers * flags.minutes * 30) / schedules)));
  const loadSeconds = flags.minutes * 60;
  const firstFaultSeconds = Math.min(30, Math.max(10, loadSeconds * 0.1));
  const lastStart = loadSeconds - 30;
  const faultEverySeconds =
    flags['fault-every'] > 0 ? flags['fault-every'] : Math.max(20, Math.min(75, (lastStart - firstFaultSeconds) / (FAULT_KINDS_IN_CYCLE - 1)));
  return {
    minutes: flags.minutes,
    buyers,
    seed: integer('seed', flags.seed, 0),
    engine,
    json: flags.json,
    concerts,
    schedulesPerConcert,
    seatsPerSchedule: seats,
    faultEverySeconds,
    firstFaultSeconds,
    holdTtlSeconds: integer('hold-ttl', flags['hold-ttl'], 1),
    server: flags.server,
  };
}

export { UsageError };
