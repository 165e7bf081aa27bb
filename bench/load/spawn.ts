/**
 * Harness side of the load generator: forks bench/load/worker in its own process (same Node, no
 * extra flags but ts-node when running from source), hands it the job, relays its phases and
 * returns its result. A generator that outlives its time limit is killed.
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import type { LoadGenUsage, LoadJob, WorkerMessage, WorkerStats } from './protocol';
import type { Phase } from './vu';

export interface LoadResult {
  stats: WorkerStats;
  usage: LoadGenUsage;
  pid: number;
}

export function runLoadGenerator(job: LoadJob, timeLimitMs: number, onPhase: (phase: Phase, at: number) => void): Promise<LoadResult> {
  const fromSource = __filename.endsWith('.ts');
  const child = fork(join(__dirname, fromSource ? 'worker.ts' : 'worker.js'), [], {
    execArgv: fromSource ? ['-r', 'ts-node/register/transpile-only'] : [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise<LoadResult>((resolve, reject) => {
    let settled = false;
    const settle = (outcome: { result: LoadResult } | { error: Error }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if ('result' in outcome) resolve(outcome.result);
      else reject(outcome.error);
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      settle({ error: new Error(`the load generator did not finish within ${Math.round(timeLimitMs / 1000)} s; killed`) });
    }, timeLimitMs);
    child.on('message', (message: WorkerMessage) => {
      switch (message.type) {
        case 'phase':
          onPhase(message.phase, message.at);
          return;
        case 'result':
          settle({ result: { stats: message.stats, usage: message.usage, pid: child.pid ?? 0 } });
          return;
        case 'fatal':
          settle({ error: new Error(`load generator failed: ${message.message}`) });
          return;
        default: {
          const unknown: never = message;
          settle({ error: new Error(`unexpected message from the load generator: ${JSON.stringify(unknown)}`) });
        }
      }
    });
    child.on('error', (error) => settle({ error }));
    child.on('exit', (code, signal) => {
      settle({ error: new Error(`the load generator exited (${signal ?? `code ${code}`}) without a result`) });
    });
    child.send({ type: 'run', job });
  });
}
