/**
 * A PostgreSQL server of the test's own, for tests that stop, restart or crash the database:
 * never do that to the shared server on 5432 (other test files are using it).
 *
 * Built from the machine's Debian binaries (/usr/lib/postgresql/<newest version>/bin): initdb
 * into a fresh temp dir (~0.6-0.8 s here, so no cached template), then the postmaster on a free
 * port of 127.0.0.1 with trust auth, fsync on (durability is what such tests check),
 * shared_buffers 32MB, max_connections 100, and no Unix socket.
 *
 * initdb and postgres refuse to run as root; when this process is root they run as the
 * `postgres` OS user (the temp dir is chowned to it), otherwise as the current user.
 *
 * The postmaster is spawned directly as a child of this process (not daemonized through
 * `pg_ctl start`), so its exit is observed (and reaped) here; `stop()` still uses
 * `pg_ctl stop -m fast`.
 *
 *   const pg = await startPrivatePostgres();
 *   try { ... new Client({ connectionString: pg.url }) ... await pg.kill(); await pg.start(); ... }
 *   finally { await pg.remove(); }
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { appendFile, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { freePort } from './server-process';

const execFileAsync = promisify(execFile);

const INITDB_TIMEOUT_MS = 60_000;
const START_TIMEOUT_MS = 60_000; // includes crash recovery after kill()
const STOP_TIMEOUT_MS = 30_000;
const KILL_WAIT_MS = 10_000;
const PORT_ATTEMPTS = 3;

export interface PrivatePostgresOptions {
  /** Extra postgresql.conf settings, e.g. `{ statement_timeout: '5s' }` (values written verbatim). */
  settings?: Record<string, string | number>;
}

export interface PrivatePostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  readonly url: string;
  readonly port: number;
  /** The temp dir holding `data/` (the cluster) and `postgres.log`. */
  readonly dir: string;
  readonly dataDir: string;
  readonly logFile: string;
  /** PostgreSQL major version used, e.g. "15". */
  readonly version: string;
  /** The postmaster's pid, or undefined while not running. */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** The URL of database `name` on this server. */
  databaseUrl(name: string): string;
  /** Clean shutdown (`pg_ctl stop -m fast`: active transactions are rolled back, a checkpoint is written). */
  stop(): Promise<void>;
  /** (Re)starts on the same port and data; resolves once the server accepts connections. */
  start(): Promise<void>;
  /** stop() then start(). */
  restart(): Promise<void>;
  /**
   * A crash: SIGKILL to the postmaster and all its children at once (nothing is flushed or
   * checkpointed; clients see their connections drop). The next start() performs crash recovery
   * from the WAL, so committed transactions survive and uncommitted ones vanish.
   */
  kill(): Promise<void>;
  /** Stops the server (or kills it if it will not stop) and deletes the temp dir. Idempotent. */
  remove(): Promise<void>;
}

interface PgUser {
  uid: number;
  gid: number;
}

/** Newest /usr/lib/postgresql/<version>/bin with initdb, pg_ctl and postgres. */
async function findBinaries(): Promise<{ version: string; bin: string }> {
  const root = '/usr/lib/postgresql';
  const versions = (await readdir(root).catch(() => [] as string[]))
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .filter((v) => ['initdb', 'pg_ctl', 'postgres'].every((tool) => existsSync(path.join(root, v, 'bin', tool))))
    .sort((a, b) => Number(b) - Number(a));
  const version = versions[0];
  if (!version) throw new Error(`private postgres: no PostgreSQL binaries under ${root}/<version>/bin`);
  return { version, bin: path.join(root, version, 'bin') };
}

/** The `postgres` OS user when we are root (initdb and postgres refuse root), else undefined. */
async function runAsUser(): Promise<PgUser | undefined> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  try {
    const [{ stdout: uid }, { stdout: gid }] = await Promise.all([
      execFileAsync('id', ['-u', 'postgres'], { timeout: 5_000 }),
      execFileAsync('id', ['-g', 'postgres'], { timeout: 5_000 }),
    ]);
    return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
  } catch {
    throw new Error('private postgres: running as root but there is no `postgres` OS user to run initdb/postgres as');
  }
}

function childEnv(dir: string): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: dir, LC_ALL: 'C', TZ: 'UTC' };
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Pids whose parent is `ppid` (Linux /proc), read before killing the parent. */
function childPids(ppid: number): number[] {
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return pids;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid ..." — comm may contain spaces and parentheses.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Gone, or a zombie (dead, waiting to be reaped by whoever inherited it). */
function isDead(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function probe(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Live instances, killed and deleted if the process exits without remove(). */
const live = new Set<{ emergencyCleanup(): void }>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const instance of live) instance.emergencyCleanup();
  });
}

export async function startPrivatePostgres(options: PrivatePostgresOptions = {}): Promise<PrivatePostgres> {
  const { version, bin } = await findBinaries();
  const user = await runAsUser();
  const dir = await mkdtemp(path.join(os.tmpdir(), `ovation-pg${version}-`));
  const dataDir = path.join(dir, 'data');
  const logFile = path.join(dir, 'postgres.log');
  const asUser = user ? { uid: user.uid, gid: user.gid } : {};
  if (user) chownSync(dir, user.uid, user.gid);

  let port = 0;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let removed = false;

  const instance = {
    emergencyCleanup(): void {
      if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        const pids = childPids(child.pid);
        for (const pid of [child.pid, ...pids]) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };

  const urlOf = (database: string): string => `postgres://postgres@127.0.0.1:${port}/${database}`;

  const isRunning = (): boolean => child !== undefined && child.exitCode === null && child.signalCode === null;

  async function initdb(): Promise<void> {
    try {
      // --no-sync only skips fsyncing initdb's own files; the server itself runs with fsync on.
      await execFileAsync(
        path.join(bin, 'initdb'),
        ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'],
        { ...asUser, cwd: dir, env: childEnv(dir), timeout: INITDB_TIMEOUT_MS, killSignal: 'SIGKILL' },
      );
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      throw new Error(`private postgres: initdb failed: ${(error as Error).message}\n${stdout ?? ''}${stderr ?? ''}`);
    }
    const settings: Record<string, string | number> = {
      listen_addresses: "'127.0.0.1'",
      unix_socket_directories: "''",
      shared_buffers: "'32MB'",
      max_connections: 100,
      fsync: 'on',
      synchronous_commit: 'on',
      full_page_writes: 'on',
      huge_pages: 'off',
      logging_collector: 'off',
      ...options.settings,
    };
    const lines = Object.entries(settings).map(([key, value]) => `${key} = ${value}`);
    await appendFile(path.join(dataDir, 'postgresql.conf'), `\n# startPrivatePostgres\n${lines.join('\n')}\n`);
  }

  /** Postmaster status from postmaster.pid, if the file is ours (pid matches). */
  async function pidFileStatus(pid: number): Promise<string | undefined> {
    try {
      const lines = (await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n');
      if (Number(lines[0]) !== pid) return undefined;
      return lines[7]?.trim();
    } catch {
      return undefined;
    }
  }

  async function launch(): Promise<void> {
    if (isRunning()) return;
    const log = openSync(logFile, 'a');
    if (user) chownSync(logFile, user.uid, user.gid);
    let spawned: ChildProcess;
    try {
      spawned = spawn(path.join(bin, 'postgres'), ['-D', dataDir, '-p', String(port)], {
        ...asUser,
        cwd: dir,
        env: childEnv(dir),
        stdio: ['ignore', log, log],
      });
    } finally {
      closeSync(log);
    }
    child = spawned;
    exited = new Promise<void>((resolve) => {
      if (spawned.exitCode !== null || spawned.signalCode !== null) resolve();
      else spawned.once('exit', () => resolve());
    });
    spawned.on('error', () => undefined); // spawn failure: exit follows, reported below
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (spawned.exitCode !== null || spawned.signalCode !== null || spawned.pid === undefined) {
        throw new Error(`private postgres: postmaster on port ${port} exited during startup\n${tail(logFile)}`);
      }
      // "ready" only once recovery is over and the sockets are listening.
      if ((await pidFileStatus(spawned.pid)) === 'ready' && (await probe(urlOf('postgres')))) return;
      if (Date.now() > deadline) {
        spawned.kill('SIGKILL');
        await exited;
        throw new Error(`private postgres: not ready after ${START_TIMEOUT_MS} ms on port ${port}\n${tail(logFile)}`);
      }
      await sleep(50);
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

  async function stop(): Promise<void> {
    if (!isRunning()) return;
    try {
      await execFileAsync(path.join(bin, 'pg_ctl'), ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', String(STOP_TIMEOUT_MS / 1000)], {
        ...asUser,
        cwd: dir,
        env: childEnv(dir),
        timeout: STOP_TIMEOUT_MS + 5_000,
        killSignal: 'SIGKILL',
      });
    } catch {
      // pg_ctl could not do it (it timed out, or the pid file is gone): signal the postmaster ourselves.
      child?.kill('SIGINT');
    }
    if (!(await waitExit(STOP_TIMEOUT_MS))) {
      await kill();
      throw new Error(`private postgres: did not stop within ${STOP_TIMEOUT_MS} ms; killed it\n${tail(logFile)}`);
    }
  }

  async function kill(): Promise<void> {
    if (!child?.pid || !isRunning()) return;
    const postmaster = child.pid;
    // All at once: an orphaned backend still attached to the old shared memory would make the
    // next start refuse ("pre-existing shared memory block is still in use").
    const children = childPids(postmaster);
    for (const pid of [postmaster, ...children]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await waitExit(KILL_WAIT_MS);
    const deadline = Date.now() + KILL_WAIT_MS;
    while (children.some((pid) => !isDead(pid))) {
      if (Date.now() > deadline) throw new Error('private postgres: postgres processes still alive after SIGKILL');
      await sleep(20);
    }
  }

  async function start(): Promise<void> {
    if (removed) throw new Error('private postgres: removed');
    await launch();
  }

  installExitHook();
  live.add(instance);
  try {
    await initdb();
    // A free port can be taken before the postmaster binds it: then try another one.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await launch();
        break;
      } catch (error) {
        await kill().catch(() => undefined);
        if (attempt >= PORT_ATTEMPTS) throw error;
      }
    }
  } catch (error) {
    live.delete(instance);
    instance.emergencyCleanup();
    throw error;
  }

  return {
    get url() {
      return urlOf('postgres');
    },
    port,
    dir,
    dataDir,
    logFile,
    version,
    get pid() {
      return isRunning() ? child?.pid : undefined;
    },
    get running() {
      return isRunning();
    },
    databaseUrl: urlOf,
    stop,
    start,
    async restart() {
      await stop();
      await start();
    },
    kill,
    async remove() {
      if (removed) return;
      removed = true;
      try {
        await stop();
      } catch {
        await kill().catch(() => undefined);
      } finally {
        live.delete(instance);
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
