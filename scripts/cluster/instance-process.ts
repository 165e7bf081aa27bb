/**
 * One instance of the real server (src/main.ts) as a child process, on a fixed port, with its
 * output appended to a log file. It can be signalled (SIGKILL, SIGSTOP/SIGCONT, SIGTERM) and
 * restarted on the same port, which is what the failover and rolling-restart tests need.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readSync, fstatSync, writeSync } from 'node:fs';
import path from 'node:path';
import { instanceUrl } from './cluster-env';

const ROOT = path.resolve(__dirname, '../..');

/** Joining a consumer group can take a rebalance or two; 30 s is what the single-server tests allow plus room. */
const DEFAULT_READY_TIMEOUT_MS = 60_000;

/** Signals after which the process is gone; `kill` waits for its exit. The others (SIGSTOP, SIGCONT) return at once. */
const ENDING_SIGNALS = new Set<NodeJS.Signals>(['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGQUIT']);

export interface InstanceOptions {
  index: number;
  port: number;
  env: Record<string, string>;
  logFile: string;
  readyTimeoutMs?: number;
  /** A built server (dist/src/main.js, or the bench's build) instead of src/main.ts through ts-node. */
  serverEntry?: string;
}

export interface InstanceProcess {
  readonly index: number;
  readonly port: number;
  readonly url: string;
  /** The current process's pid (a restart changes it). */
  readonly pid: number;
  /** True once the current process has exited (a SIGSTOPped one is not stopped). */
  readonly stopped: boolean;
  /** Resolves with the current process's exit code (or signal name) when it exits. */
  readonly exited: Promise<number | string>;
  /** Sends the signal; for SIGKILL/SIGTERM/SIGINT waits until the process has exited. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** SIGTERM (graceful drain), wait for the exit, start again on the same port, wait for readiness. */
  restart(): Promise<void>;
  /** Starts it again after it stopped (killed or exited), and waits for readiness. */
  start(): Promise<void>;
  /** The end of its log file, for error messages. */
  logTail(bytes?: number): string;
}

// Children die with the parent: a test worker or CLI that exits (even on an uncaught error)
// must not leave servers holding ports and group memberships. 'exit' handlers may only be
// synchronous, and process.kill is.
const living = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of living) child.kill('SIGKILL');
});

export async function startInstance(options: InstanceOptions): Promise<InstanceProcess> {
  const { index, port, env, logFile } = options;
  const url = instanceUrl(port);
  const readyTimeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  mkdirSync(path.dirname(logFile), { recursive: true });

  let child: ChildProcess;
  let exited: Promise<number | string>;

  const spawnChild = () => {
    const fd = openSync(logFile, 'a');
    try {
      writeSync(fd, `\n--- instance ${index} starting on port ${port} at ${new Date().toISOString()} ---\n`);
      // The log file's descriptor is handed to the child: its output does not pass through this
      // process, so a busy (or stopped) parent never blocks a server on a full pipe.
      const command = options.serverEntry ? [options.serverEntry] : ['-r', 'ts-node/register/transpile-only', 'src/main.ts'];
      child = spawn(process.execPath, command, {
        cwd: ROOT,
        env,
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    const current = child;
    living.add(current);
    exited = new Promise((resolve) => {
      current.once('exit', (code, signal) => {
        living.delete(current);
        resolve(code ?? signal ?? 'unknown');
      });
      current.once('error', (error) => {
        living.delete(current);
        resolve(`spawn failed: ${error.message}`);
      });
    });
  };

  const logTail = (bytes = 8_192): string => {
    try {
      const fd = openSync(logFile, 'r');
      try {
        const size = fstatSync(fd).size;
        const length = Math.min(bytes, size);
        const buffer = Buffer.alloc(length);
        readSync(fd, buffer, 0, length, size - length);
        return buffer.toString('utf8');
      } finally {
        closeSync(fd);
      }
    } catch {
      return '';
    }
  };

  const waitReady = async () => {
    const deadline = Date.now() + readyTimeoutMs;
    let ended: number | string | undefined;
    void exited.then((code) => (ended = code));
    for (;;) {
      if (ended !== undefined) throw new Error(`instance ${index} exited (${ended}) before it was ready:\n${logTail()}`);
      const ready = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(1_000) }).then(
        (response) => response.status === 200,
        () => false,
      );
      if (ready) return;
      if (Date.now() > deadline) throw new Error(`instance ${index} not ready in ${readyTimeoutMs} ms:\n${logTail()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  const kill = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    if (ENDING_SIGNALS.has(signal)) await exited;
  };

  const start = async () => {
    if (child.exitCode === null && child.signalCode === null) throw new Error(`instance ${index} is still running (pid ${child.pid})`);
    spawnChild();
    await waitReady();
  };

  spawnChild();
  const instance: InstanceProcess = {
    index,
    port,
    url,
    get pid() {
      return child.pid ?? -1;
    },
    get stopped() {
      return child.exitCode !== null || child.signalCode !== null;
    },
    get exited() {
      return exited;
    },
    kill,
    start,
    async restart() {
      await kill('SIGTERM');
      await start();
    },
    logTail,
  };
  try {
    await waitReady();
  } catch (error) {
    await kill('SIGKILL');
    throw error;
  }
  return instance;
}
