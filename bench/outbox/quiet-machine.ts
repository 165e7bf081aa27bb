/**
 * Busy share of the machine over one second before a phase starts, waiting (up to 30 s) for it to
 * drop to 15 % or less — the harness's rule (bench/engine-run.ts): other engineers' tests share
 * these two cores, and a phase started in their burst measures them as much as us.
 */
import { machineBusyPct, machineCpu } from '../proc-stats';

const QUIET_PCT = 15;
const QUIET_WAIT_MS = 30_000;

export async function waitForQuietMachine(log: (line: string) => void = console.log): Promise<number> {
  const deadline = Date.now() + QUIET_WAIT_MS;
  for (;;) {
    const before = machineCpu();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const busy = machineBusyPct(before, machineCpu());
    if (busy <= QUIET_PCT) return busy;
    if (Date.now() > deadline) {
      log(`  ! the machine is ${busy}% busy before the phase (other processes): numbers will be noisy`);
      return busy;
    }
  }
}
