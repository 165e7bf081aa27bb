/**
 * Forks one of the benchmark's helper processes (relay, consumer, load generator) with an IPC
 * channel: from source through ts-node (transpile only) like bench/load/spawn.ts, or the compiled
 * .js next to this file. Extra Node flags (e.g. --cpu-prof) go to that process only.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export function forkChild(dir: string, name: string, env: Record<string, string>, nodeFlags: string[] = []): ChildProcess {
  const fromSource = __filename.endsWith('.ts');
  return fork(join(dir, `${name}${fromSource ? '.ts' : '.js'}`), [], {
    execArgv: [...(fromSource ? ['-r', 'ts-node/register/transpile-only'] : []), ...nodeFlags],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** The first message `accept` returns a value for; rejects when `accept` throws, the child exits first or time runs out. */
export function nextMessage<M, T>(child: ChildProcess, accept: (message: M) => T | undefined, timeoutMs: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`${what}: no answer within ${timeoutMs / 1000} s`)), timeoutMs);
    const onMessage = (message: M) => {
      try {
        const value = accept(message);
        if (value !== undefined) finish(undefined, value);
      } catch (error) {
        finish(error instanceof Error ? error : new Error(String(error)));
      }
    };
    const onExit = (code: number | null, signal: string | null) => finish(new Error(`${what}: the process exited (${signal ?? `code ${code}`})`));
    function finish(error: Error | undefined, value?: T) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(value as T);
    }
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

/**
 * Waits up to `naturalMs` for the child to exit by itself (a --cpu-prof profile is written at
 * exit), then SIGTERM, then SIGKILL after `graceMs`.
 */
export async function endChild(child: ChildProcess, naturalMs = 0, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  if (naturalMs > 0 && (await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), naturalMs))]))) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
