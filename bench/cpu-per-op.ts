/**
 * CPU per successful operation, in µs: what each process of the system under test spent over the
 * measurement window, divided by the window's successful operations (`ok`). Read at the two edges
 * of the window, from /proc (Linux):
 *
 *  - server: the server process, every thread (/proc/<pid>/task/<tid>/schedstat: time on CPU in ns,
 *    libuv's pool and V8's helper threads included; a child such as the embedded PostgreSQL not);
 *  - PostgreSQL, engine's backends: the backends connected to the engine's database
 *    (pg_stat_activity, per pid, schedstat ns): the work of the engine's own statements;
 *  - PostgreSQL, whole cluster: the postmaster and every child of it, alive (schedstat) or reaped
 *    during the window (the postmaster's cutime + cstime in /proc/<pid>/stat): also the WAL
 *    writer, checkpointer and background writer, which work for every database;
 *  - Redis: the redis-server process (all its threads);
 *  - load generator: process.cpuUsage() in the generator over its window.
 *
 * Limits, to read the numbers right:
 *  - the whole-cluster figure counts every database of that PostgreSQL: on a shared one (this
 *    machine's 5432, where others' tests run) it includes their traffic; the engine's-backends
 *    figure does not, but misses the WAL writer's and checkpointer's work and any backend that
 *    connected and exited within the window (the engines' pools keep theirs). Compare engines
 *    on the backends figure, and use the cluster figure on a quiet machine (or actor-embedded, whose
 *    PostgreSQL is its own);
 *  - Redis: exact on the run's private redis-server; a shared one serves others too;
 *  - a reaped child's CPU comes in clock ticks (10 ms at CLK_TCK 100), the rest in ns;
 *  - the edges are taken one after another by the harness (a few ms apart) and the load
 *    generator's window is its own (opened and closed in its process, within ms of the harness's);
 *    over a short window with few operations (rush sells 200 seats in seconds) that is noise of a
 *    few % — a long window averages it out;
 *  - CPU is not time: on 2 shared cores a process waiting for a core spends no CPU.
 */
import type { Client } from 'pg';
import { childrenOf, parentPid, processCpuSecondsPrecise, reapedChildrenCpuSeconds } from './proc-stats';

/** PostgreSQL's postmaster: the parent of the monitor connection's own backend. */
export async function findPostmasterPid(monitor: Client): Promise<number | undefined> {
  try {
    const { rows } = await monitor.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const backend = rows[0]?.pid;
    return backend === undefined ? undefined : parentPid(backend);
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds the whole PostgreSQL cluster has used so far, as far as /proc can tell: the
 * postmaster itself, its live children, and its children reaped since it started. Between two
 * readings a child that exited moves from "live" to "reaped" with its whole time, so the
 * difference of two readings is what the cluster spent in between.
 */
export function postgresClusterCpuSeconds(postmasterPid: number): number | undefined {
  const own = processCpuSecondsPrecise(postmasterPid);
  const reaped = reapedChildrenCpuSeconds(postmasterPid);
  if (own === undefined || reaped === undefined) return undefined;
  let total = own + reaped;
  for (const child of childrenOf(postmasterPid)) total += processCpuSecondsPrecise(child) ?? 0;
  return total;
}

/** CPU seconds spent over the window, per process (undefined = not measured). */
export interface CpuSpent {
  server?: number;
  postgresBackends?: number;
  postgresCluster?: number;
  redis?: number;
  loadGenerator: number;
}

/** µs per successful operation; null when not measured or no operation succeeded. */
export interface CpuPerOk {
  server: number | null;
  postgres_backends: number | null;
  postgres_cluster: number | null;
  redis: number | null;
  load_generator: number | null;
  /** server + PostgreSQL (engine's backends): the cost of one operation in the engine. */
  server_and_postgres: number | null;
}

export function cpuPerOk(spent: CpuSpent, ok: number): CpuPerOk {
  const per = (seconds: number | undefined) => (seconds === undefined || ok <= 0 ? null : Math.round((seconds * 1e6) / ok));
  return {
    server: per(spent.server),
    postgres_backends: per(spent.postgresBackends),
    postgres_cluster: per(spent.postgresCluster),
    redis: per(spent.redis),
    load_generator: per(spent.loadGenerator),
    server_and_postgres:
      spent.server === undefined || spent.postgresBackends === undefined ? null : per(spent.server + spent.postgresBackends),
  };
}
