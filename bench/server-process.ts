/**
 * The server under test, one per engine and scenario: built once per harness run into a private
 * directory (so that a rebuild of dist/ by someone else cannot change it half-way), started as a
 * child process with the same Node flags for every engine on a fresh database, ready when
 * /health/ready answers 200, stopped with SIGTERM (SIGKILL after a grace), then its database
 * dropped and its Redis keys deleted.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import Redis from 'ioredis';
import { processCpuSeconds } from './proc-stats';

export type EngineName = 'actor' | 'lock' | 'sql' | 'actor-embedded';
/** The engines a run compares when --engines is not given. */
export const ENGINES: readonly EngineName[] = ['actor', 'lock', 'sql'];
/**
 * Every engine label --engines accepts. `actor-embedded` is the actor engine in embedded mode:
 * DATABASE_URL empty, so the server runs its own PostgreSQL 17 (data in a fresh temp DATA_DIR,
 * deleted after the run); REDIS_URL stays set, so only the database differs from `actor`.
 */
export const KNOWN_ENGINES: readonly EngineName[] = [...ENGINES, 'actor-embedded'];

/** The server's RESERVATION_ENGINE for an engine label (`actor-embedded`, and the clusters `actor-x<n>`, run the actor engine). */
export function reservationEngine(engine: EngineName): 'actor' | 'lock' | 'sql' {
  return engine === 'actor-embedded' || /^actor-x\d$/.test(engine) ? 'actor' : engine;
}

export function isEmbedded(engine: EngineName): boolean {
  return engine === 'actor-embedded';
}

export const REPO_ROOT = resolve(__dirname, '..');
export const TMP_DIR = join(REPO_ROOT, 'bench', 'results', 'tmp');
/** Node flags of every server (the same for every engine). */
export const SERVER_NODE_FLAGS: readonly string[] = [];

const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 15_000;
const LOG_TAIL_LINES = 40;

export class StartError extends Error {}

export interface BuildResult {
  entry: string;
  seconds: number;
}

/** tsc -p tsconfig.build.json into a directory of this run; returns the server's entry point. */
export function buildServer(runId: string): Promise<BuildResult> {
  const outDir = join(TMP_DIR, `build-${runId}`);
  const started = Date.now();
  const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--outDir', outDir], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolvePromise({ entry: join(outDir, 'src', 'main.js'), seconds: (Date.now() - started) / 1000 });
      else reject(new Error(`the server build failed (tsc exit ${code}); fix it or pass --no-build to use dist/ as it is:\n${output.slice(0, 3000)}`));
    });
  });
}

import { freeLocalPort as freePort } from '../src/persistence/embedded/free-port';

export { freePort };

export interface ServerOptions {
  engine: EngineName;
  entry: string;
  runId: string;
  label: string;
  databaseBaseUrl: string;
  redisUrl: string;
  adminKey: string;
  env: Record<string, string>;
}

export interface ServerExit {
  code: number | null;
  signal: string | null;
  /** Log lines at warn level or above (pino levels ≥ 40), counted over the whole life. */
  warnings: number;
  warningSamples: string[];
}

export class ServerProcess {
  /** Servers started and not yet cleaned up (for an interrupted run). */
  static readonly live = new Map<ServerProcess, { databaseBaseUrl: string; redisUrl: string }>();
  private readonly tail: string[] = [];
  private warnings = 0;
  private readonly warningSamples: string[] = [];
  private exited: Promise<{ code: number | null; signal: string | null }>;
  private exitInfo: { code: number | null; signal: string | null } | null = null;

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    /** The engine's database; in embedded mode known only once the server is ready. */
    public databaseUrl: string,
    readonly databaseName: string,
    readonly keyPrefix: string,
    readonly logFile: string,
    private readonly log: WriteStream,
    /** Embedded mode: the server's DATA_DIR (a temp folder of this run, deleted by cleanUp). */
    readonly dataDir?: string,
  ) {
    this.exited = new Promise((resolvePromise) => {
      child.on('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolvePromise(this.exitInfo);
      });
    });
    const collect = (chunk: Buffer) => {
      this.log.write(chunk);
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        this.tail.push(line);
        if (this.tail.length > LOG_TAIL_LINES) this.tail.shift();
        const level = /"level":(\d+)/.exec(line);
        if (level && Number(level[1]) >= 40) {
          this.warnings++;
          if (this.warningSamples.length < 5) this.warningSamples.push(line.slice(0, 600));
        }
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  get running(): boolean {
    return this.exitInfo === null;
  }

  cpuSeconds(): number | undefined {
    return processCpuSeconds(this.pid);
  }

  /** The maintenance database of the server's PostgreSQL (CHECKPOINT, pg_stat_*). */
  get adminUrl(): string {
    return this.databaseUrl.replace(/\/[^/]*$/, '/postgres');
  }

  logTail(): string {
    return this.tail.join('\n');
  }

  static async start(options: ServerOptions): Promise<ServerProcess> {
    const port = await freePort();
    const embedded = isEmbedded(options.engine);
    // Embedded mode: the server's own PostgreSQL, its database `ovation`, in a fresh data folder.
    const dataDir = embedded ? mkdtempSync(join(tmpdir(), `ovation-bench-${options.runId}-`)) : undefined;
    const databaseName = embedded ? 'ovation' : `bench_${options.runId}_${options.label}_${options.engine}`.toLowerCase().replace(/[^a-z0-9_]/g, '_');
    const databaseUrl = embedded ? '' : `${options.databaseBaseUrl.replace(/\/[^/]*$/, '')}/${databaseName}`;
    if (!embedded) await dropDatabase(options.databaseBaseUrl, databaseName);
    const keyPrefix = `bench:${options.runId}:${options.label}:${options.engine}:`;
    mkdirSync(TMP_DIR, { recursive: true });
    const logFile = join(TMP_DIR, `${options.runId}-${options.label}-${options.engine}.log`);
    const log = createWriteStream(logFile);
    const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, options.entry], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env['PATH'] ?? '',
        HOME: process.env['HOME'] ?? '',
        NODE_ENV: 'production',
        PORT: String(port),
        HOST: '127.0.0.1',
        DATABASE_URL: databaseUrl, // '' = embedded mode
        ...(dataDir ? { DATA_DIR: dataDir } : {}),
        REDIS_URL: options.redisUrl,
        REDIS_KEY_PREFIX: keyPrefix,
        RESERVATION_ENGINE: reservationEngine(options.engine),
        ADMIN_API_KEY: options.adminKey,
        LOG_LEVEL: 'warn',
        // The load generator is one address whose virtual users are machines (a hot-seat VU holds
        // hundreds of times a second on one token): the benchmarks measure the engine, not the
        // rate limits, so those are off (0) unless a scenario's env sets them.
        RATE_LIMIT_TOKEN_ISSUE_PER_USER: '0',
        RATE_LIMIT_TOKEN_ISSUE_PER_IP: '0',
        RATE_LIMIT_HOLDS_PER_TOKEN: '0',
        ...options.env,
      },
    });
    const server = new ServerProcess(child, `http://127.0.0.1:${port}`, databaseUrl, databaseName, keyPrefix, logFile, log, dataDir);
    ServerProcess.live.set(server, { databaseBaseUrl: options.databaseBaseUrl, redisUrl: options.redisUrl });
    try {
      await server.waitReady();
      if (dataDir) server.databaseUrl = `postgres://postgres@127.0.0.1:${embeddedPort(dataDir)}/${databaseName}`;
    } catch (error) {
      await server.stop();
      await server.cleanUp(options.databaseBaseUrl, options.redisUrl);
      throw error;
    }
    return server;
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      if (!this.running) {
        throw new StartError(`the server exited during start-up (${this.exitInfo?.signal ?? `code ${this.exitInfo?.code}`}):\n${this.logTail()}`);
      }
      try {
        const response = await fetch(`${this.url}/health/ready`);
        if (response.status === 200) return;
        last = `${response.status} ${(await response.text()).slice(0, 300)}`;
      } catch (error) {
        last = error instanceof Error ? error.message : String(error);
      }
      await new Promise((resolvePromise) => setTimeout(resolvePromise, 100));
    }
    throw new StartError(`the server was not ready within ${READY_TIMEOUT_MS / 1000} s (last /health/ready: ${last}):\n${this.logTail()}`);
  }

  /** SIGTERM (the server drains), SIGKILL after the grace period. */
  async stop(): Promise<ServerExit> {
    if (this.running) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
      await this.exited;
      clearTimeout(timer);
    }
    const exit = await this.exited;
    await new Promise<void>((resolvePromise) => this.log.end(() => resolvePromise()));
    return { ...exit, warnings: this.warnings, warningSamples: this.warningSamples };
  }

  /** Drops the database (embedded mode: deletes the data folder) and deletes the Redis keys of this server. */
  async cleanUp(databaseBaseUrl: string, redisUrl: string): Promise<void> {
    ServerProcess.live.delete(this);
    if (this.dataDir) await removeEmbeddedData(this.dataDir);
    else await dropDatabase(databaseBaseUrl, this.databaseName);
    await deleteKeys(redisUrl, this.keyPrefix);
  }

  /** An interrupted run: stop and clean up every server still around. */
  static async cleanUpAll(): Promise<void> {
    for (const [server, { databaseBaseUrl, redisUrl }] of [...ServerProcess.live]) {
      await server.stop().catch(() => undefined);
      await server.cleanUp(databaseBaseUrl, redisUrl).catch(() => undefined);
    }
  }
}

/** Line 4 of postmaster.pid: the port the embedded PostgreSQL listens on. */
function embeddedPort(dataDir: string): number {
  const file = join(dataDir, 'postgres', 'postmaster.pid');
  const port = Number(readFileSync(file, 'utf8').split('\n')[3]);
  if (!Number.isInteger(port) || port <= 0) throw new StartError(`no port in ${file}`);
  return port;
}

/**
 * Deletes an embedded server's data folder. The server stops its PostgreSQL on SIGTERM; a
 * postmaster still running (the server was SIGKILLed) is stopped first, by its pid from
 * postmaster.pid (fast shutdown, SIGKILL after 15 s).
 */
async function removeEmbeddedData(dataDir: string): Promise<void> {
  const pidFile = join(dataDir, 'postgres', 'postmaster.pid');
  const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) : 0;
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (Number.isInteger(pid) && pid > 0 && alive()) {
    process.kill(pid, 'SIGINT');
    const deadline = Date.now() + 15_000;
    while (alive() && Date.now() < deadline) await new Promise((resolvePromise) => setTimeout(resolvePromise, 100));
    if (alive()) process.kill(pid, 'SIGKILL');
  }
  rmSync(dataDir, { recursive: true, force: true });
}

async function withAdminClient<T>(databaseBaseUrl: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: databaseBaseUrl.replace(/\/[^/]*$/, '/postgres') });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

export function dropDatabase(databaseBaseUrl: string, name: string): Promise<void> {
  return withAdminClient(databaseBaseUrl, async (client) => {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
}

export async function deleteKeys(redisUrl: string, prefix: string): Promise<number> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2, lazyConnect: true });
  try {
    await redis.connect();
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    redis.disconnect();
  }
}

export function serverEntryFromDist(): string {
  const entry = join(REPO_ROOT, 'dist', 'src', 'main.js');
  if (!existsSync(entry)) throw new Error(`${entry} does not exist: run npm run build, or drop --no-build`);
  return entry;
}
