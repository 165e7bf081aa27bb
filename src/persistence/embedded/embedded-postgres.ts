/**
 * Embedded mode's database (design.md, "Embedded mode"): a real PostgreSQL 17 from the npm
 * package's binaries, with its data under DATA_DIR so it survives restarts — the same SQL, the
 * same migrations and the same group commit as production. Started by the server, stopped with it.
 *
 * - First start: initdb (trust auth, listening on 127.0.0.1 only; fsync stays on: a 201 must
 *   survive a crash here too).
 * - A postmaster left running by a server that was SIGKILLed (it outlives its parent) is shut down
 *   first; a stale postmaster.pid of a dead one is cleared by PostgreSQL itself.
 * - PostgreSQL refuses to run as root: as root it runs as the `postgres` OS user (created if the
 *   machine has none), and the data folder is handed to that user.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { findPostgresBinaries } from './postgres-binaries';
import { freeLocalPort } from './free-port';

export interface EmbeddedPostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  readonly adminUrl: string;
  readonly dataDir: string;
  databaseUrl(name: string): string;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 60_000; // includes crash recovery after an unclean stop
const STOP_TIMEOUT_MS = 15_000;

interface OsUser {
  uid: number;
  gid: number;
}

export async function startEmbeddedPostgres(dataRoot: string, log: (message: string) => void): Promise<EmbeddedPostgres> {
  const binaries = findPostgresBinaries();
  const dataDir = path.resolve(dataRoot, 'postgres');
  const user = process.getuid?.() === 0 ? postgresOsUser(log) : undefined;
  mkdirSync(path.dirname(dataDir), { recursive: true });
  // The postgres user must be able to reach its folder through DATA_DIR (e.g. a 0700 temp dir).
  if (user) chmodSync(path.dirname(dataDir), statSync(path.dirname(dataDir)).mode | 0o711);
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    log(`embedded PostgreSQL: creating a database cluster in ${dataDir}`);
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    if (user) chownRecursive(dataDir, user);
    try {
      execFileSync(binaries.initdb, ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C'], {
        stdio: ['ignore', 'ignore', 'pipe'],
        timeout: START_TIMEOUT_MS,
        ...(user ?? {}),
      });
    } catch (error) {
      const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim();
      const hint = user ? ' (it runs as the OS user "postgres": every folder above DATA_DIR must let it pass)' : '';
      throw new Error(`embedded PostgreSQL: initdb failed in ${dataDir}${hint}: ${stderr}`);
    }
  } else if (user && statSync(dataDir).uid !== user.uid) {
    chownRecursive(dataDir, user); // made by another user before (only then: a walk of every file)
  }
  await stopOrphanPostmaster(dataDir, log);

  const port = await freeLocalPort();
  const child = spawn(
    binaries.postgres,
    ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=100'],
    { stdio: ['ignore', 'ignore', 'pipe'], ...(user ?? {}) },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4_000)));
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await waitUntilReady(adminUrl, child, () => stderr);
  log(`embedded PostgreSQL 17 on 127.0.0.1:${port}, data in ${dataDir}`);

  return {
    adminUrl,
    dataDir,
    databaseUrl: (name) => `postgres://postgres@127.0.0.1:${port}/${name}`,
    stop: () => stopChild(child),
  };
}

async function waitUntilReady(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`embedded PostgreSQL exited (${child.exitCode}): ${stderr()}`);
    const client = new Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return;
    } catch {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline) throw new Error(`embedded PostgreSQL not ready after ${START_TIMEOUT_MS} ms: ${stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** Fast shutdown (SIGINT: transactions rolled back, a checkpoint written); SIGKILL if it hangs. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGINT');
  });
}

/** A postmaster of this data folder still running (its server was SIGKILLed) is shut down. */
async function stopOrphanPostmaster(dataDir: string, log: (message: string) => void): Promise<void> {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid) || !isPostgresOf(pid, dataDir)) return;
  log(`embedded PostgreSQL: a postmaster (pid ${pid}) from an earlier run still holds ${dataDir}; shutting it down`);
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  if (alive(pid)) process.kill(pid, 'SIGKILL');
  while (alive(pid)) await new Promise((resolve) => setTimeout(resolve, 50));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The pid may have been reused by another program: only a postgres serving this folder counts. */
function isPostgresOf(pid: number, dataDir: string): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmdline.some((arg) => arg.endsWith('postgres')) && cmdline.includes(dataDir);
  } catch {
    return false;
  }
}

function postgresOsUser(log: (message: string) => void): OsUser {
  const find = (): OsUser | undefined => {
    const line = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith('postgres:'));
    if (!line) return undefined;
    const [, , uid, gid] = line.split(':');
    return { uid: Number(uid), gid: Number(gid) };
  };
  const existing = find();
  if (existing) return existing;
  log('embedded PostgreSQL: running as root; creating the system user "postgres" to run it (PostgreSQL refuses root)');
  execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], { stdio: 'ignore' });
  const created = find();
  if (!created) throw new Error('could not create the OS user "postgres" for embedded PostgreSQL');
  return created;
}

function chownRecursive(dir: string, user: OsUser): void {
  chownSync(dir, user.uid, user.gid);
  for (const name of readdirSync(dir)) {
    const child = path.join(dir, name);
    if (statSync(child).isDirectory()) chownRecursive(child, user);
    else chownSync(child, user.uid, user.gid);
  }
}
