/**
 * CPU time of processes and of the machine, from /proc (Linux). A meter is a snapshot now and the
 * usage since then, in % of one core (processes) or % of all cores (machine).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let clockTicks: number | undefined;

function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** Fields of /proc/<pid>/stat from field 3 (state) on: index = field number − 3. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces: split after its closing parenthesis.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** utime + stime of a process in seconds; undefined when it is gone. */
export function processCpuSeconds(pid: number): number | undefined {
  const fields = statFields(pid);
  return fields ? (Number(fields[11]) + Number(fields[12])) / ticksPerSecond() : undefined;
}

/**
 * CPU seconds of a process from the scheduler's own clock (/proc/<pid>/task/<tid>/schedstat, ns),
 * summed over its live threads: no 10 ms tick rounding, which matters when a short window is
 * divided by few operations. Falls back to utime + stime when schedstat is not there.
 */
export function processCpuSecondsPrecise(pid: number): number | undefined {
  let nanos = 0;
  let threads = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        nanos += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
        threads++;
      } catch {
        // The thread ended between the listing and the read.
      }
    }
  } catch {
    // The process is gone, or /proc has no task list here.
  }
  return threads > 0 ? nanos / 1e9 : processCpuSeconds(pid);
}

/** cutime + cstime: CPU seconds of a process's children that ended and were waited for. */
export function reapedChildrenCpuSeconds(pid: number): number | undefined {
  const fields = statFields(pid);
  return fields ? (Number(fields[13]) + Number(fields[14])) / ticksPerSecond() : undefined;
}

export function parentPid(pid: number): number | undefined {
  const fields = statFields(pid);
  return fields ? Number(fields[1]) : undefined;
}

/** Live children of a process (a scan of /proc). */
export function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    if (parentPid(Number(entry)) === pid) children.push(Number(entry));
  }
  return children;
}

export function processRssMb(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round(Number(match[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds of a set of processes (e.g. PostgreSQL backends), per pid. */
export function cpuByPid(pids: readonly number[]): Map<number, number> {
  const result = new Map<number, number>();
  for (const pid of pids) {
    const seconds = processCpuSecondsPrecise(pid);
    if (seconds !== undefined) result.set(pid, seconds);
  }
  return result;
}

/** Sum of CPU seconds used between two per-pid snapshots (pids new in `after` count from 0). */
export function cpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, seconds] of after) total += seconds - (before.get(pid) ?? 0);
  return total;
}

export interface MachineCpu {
  busy: number;
  total: number;
}

/** Aggregate CPU of every core since boot, in ticks (busy = all but idle and iowait). */
export function machineCpu(): MachineCpu {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.slice(0, 8).reduce((sum, value) => sum + value, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

/** % of all cores busy between two snapshots. */
export function machineBusyPct(before: MachineCpu, after: MachineCpu): number {
  const total = after.total - before.total;
  return total > 0 ? round1(((after.busy - before.busy) / total) * 100) : 0;
}

/** % of one core used by `cpuSeconds` over `wallMs`. */
export function corePct(cpuSeconds: number, wallMs: number): number {
  return wallMs > 0 ? round1((cpuSeconds / (wallMs / 1000)) * 100) : 0;
}

export function round1(value: number): number {
  return Math.round(value * 10) / 10;
}

export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
