/**
 * Can this machine open the connections a load profile needs? Every virtual user owns one TCP
 * connection, and both ends count against RLIMIT_NOFILE: the load generator (one socket per user)
 * and the server under test (one per accepted connection, plus its pools and log files). Both are
 * children of the harness and inherit its limit, so one check before a run, in the harness,
 * covers both; failing then beats EMFILE half-way through a run.
 */
import { readFileSync } from 'node:fs';
import type { LoadProfile } from '../scenarios/types';

/** File descriptors kept aside for what is not a virtual user's socket (pools, logs, stdio, IPC). */
export const FD_MARGIN = 256;

/** Soft RLIMIT_NOFILE of this process (Linux /proc); undefined when it cannot be read or is unlimited. */
export function openFileLimit(): number | undefined {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    const value = Number(soft);
    return Number.isInteger(value) && value > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The most connections a profile holds open at once (one per virtual user). */
export function connectionsNeeded(profile: LoadProfile): number {
  switch (profile.kind) {
    case 'constant':
      return profile.vus;
    case 'ramping':
      return Math.max(profile.warmupVus, ...profile.stages.map((stage) => stage.target));
    case 'arrival-rate':
      return profile.maxVus;
  }
}

/** Undefined when the profile fits, else what is wrong and what to do. */
export function connectionLimitProblem(profile: LoadProfile, limit = openFileLimit()): string | undefined {
  if (limit === undefined) return undefined;
  const needed = connectionsNeeded(profile);
  if (needed + FD_MARGIN <= limit) return undefined;
  return (
    `this run needs up to ${needed} connections (one per virtual user) + ${FD_MARGIN} other files, ` +
    `but the open-file limit is ${limit}: raise it in the shell that runs the bench (ulimit -n ${needed + 2 * FD_MARGIN}) ` +
    `or lower the virtual users (--vus, --max-vus)`
  );
}
