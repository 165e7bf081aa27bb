/**
 * A Redis of the test's own (redis-server on a free port of 127.0.0.1, no persistence: no RDB
 * snapshots, no AOF), for tests that stop or crash Redis: never do that to the shared one on
 * 6379. start() after stop()/kill() comes back on the SAME port, so clients keep their URL and
 * simply reconnect — to an empty Redis, as after a real crash of a cache without persistence.
 *
 *   const redis = await startPrivateRedis();
 *   try { ... new Redis(redis.url) ... await redis.kill(); await redis.start(); ... }
 *   finally { await redis.remove(); }
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './server-process';

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;
const PORT_ATTEMPTS = 3;

export interface PrivateRedis {
  /** redis://127.0.0.1:<port> — the same across restarts. */
  readonly url: string;
  readonly port: number;
  /** The redis-server pid, or undefined while not running. */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** The temp dir (redis' working dir and redis.log). */
  readonly dir: string;
  /** SIGTERM and wait for the exit (SIGKILL after 10 s). Without persistence the data is gone. */
  stop(): Promise<void>;
  /** SIGKILL, a crash; waits for the exit. */
  kill(): Promise<void>;
  /** (Re)starts on the same port, empty; resolves once it answers. */
  start(): Promise<void>;
  /** Stops it (if running) and deletes the temp dir. Idempotent. */
  remove(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The process_id that the Redis on `port` reports (INFO server), or undefined if nothing answers
 * properly yet. Checking the pid tells our server from another one that got the port first.
 */
function redisPid(port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    const finish = (pid: number | undefined): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(pid);
    };
    const timer = setTimeout(() => finish(undefined), 1_000);
    socket.on('error', () => finish(undefined));
    socket.on('close', () => finish(undefined));
    socket.on('connect', () => socket.write('INFO server\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('utf8');
      if (reply.startsWith('-')) return finish(undefined); // e.g. -LOADING
      const match = /process_id:(\d+)\r\n/.exec(reply);
      if (match) finish(Number(match[1]));
    });
  });
}

const live = new Set<{ emergencyCleanup(): void }>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const instance of live) instance.emergencyCleanup();
  });
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ovation-redis-'));
  const logFile = path.join(dir, 'redis.log');
  let port = 0;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let removed = false;

  const isRunning = (): boolean => child !== undefined && child.exitCode === null && child.signalCode === null;

  const instance = {
    emergencyCleanup(): void {
      if (isRunning()) child?.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };

  function tail(): string {
    try {
      return readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      return '(no log)';
    }
  }

  async function waitExit(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const done = await Promise.race([exited.then(() => true), timedOut]);
    clearTimeout(timer);
    return done;
  }

  async function launch(): Promise<void> {
    if (isRunning()) return;
    const log = openSync(logFile, 'a');
    let spawned: ChildProcess;
    try {
      spawned = spawn(
        'redis-server',
        [
          '--port', String(port),
          '--bind', '127.0.0.1',
          '--dir', dir,
          '--save', '',
          '--appendonly', 'no',
          '--protected-mode', 'yes',
          '--daemonize', 'no',
          '--maxclients', '10000',
        ],
        { cwd: dir, stdio: ['ignore', log, log] },
      );
    } finally {
      closeSync(log);
    }
    child = spawned;
    exited = new Promise<void>((resolve) => {
      if (spawned.exitCode !== null || spawned.signalCode !== null) resolve();
      else spawned.once('exit', () => resolve());
    });
    spawned.on('error', () => undefined); // e.g. ENOENT: the exit check below reports it
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (spawned.exitCode !== null || spawned.signalCode !== null || spawned.pid === undefined) {
        throw new Error(`private redis: redis-server on port ${port} exited during startup\n${tail()}`);
      }
      if ((await redisPid(port)) === spawned.pid) return;
      if (Date.now() > deadline) {
        spawned.kill('SIGKILL');
        await exited;
        throw new Error(`private redis: redis-server not ready after ${START_TIMEOUT_MS} ms on port ${port}\n${tail()}`);
      }
      await sleep(20);
    }
  }

  async function kill(): Promise<void> {
    if (!isRunning()) return;
    child?.kill('SIGKILL');
    await waitExit(STOP_TIMEOUT_MS);
  }

  async function stop(): Promise<void> {
    if (!isRunning()) return;
    child?.kill('SIGTERM');
    if (!(await waitExit(STOP_TIMEOUT_MS))) await kill();
  }

  installExitHook();
  live.add(instance);
  try {
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await launch();
        break;
      } catch (error) {
        await kill();
        if (attempt >= PORT_ATTEMPTS) throw error;
      }
    }
  } catch (error) {
    live.delete(instance);
    instance.emergencyCleanup();
    throw error;
  }

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    get pid() {
      return isRunning() ? child?.pid : undefined;
    },
    get running() {
      return isRunning();
    },
    stop,
    kill,
    async start() {
      if (removed) throw new Error('private redis: removed');
      await launch();
    },
    async remove() {
      if (removed) return;
      removed = true;
      try {
        await stop();
      } finally {
        live.delete(instance);
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
