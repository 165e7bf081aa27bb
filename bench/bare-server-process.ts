/**
 * The `bare` engine label for the harness: bench/bare/bare-server.ts (Fastify answering the
 * scenarios' routes with no engine behind them, the HTTP ceiling) as a child process, beside
 * ServerProcess and ClusterServer with the surface engine-run.ts uses of them.
 *
 * It runs from the run's build, like the engines: tsconfig.build.json includes bench/, so
 * `tsc -p tsconfig.build.json` emits `<build>/bench/bare/bare-server.js` next to
 * `<build>/src/main.js` (with --no-build: dist/bench/bare/bare-server.js). Same compiled code
 * path, same Node flags (SERVER_NODE_FLAGS), same fastify from node_modules, and no ts-node
 * (its compile hooks and memory) in the process whose CPU is measured.
 *
 * No database, no Redis keys: there is nothing to clean up but the process. Ready when
 * /health/ready answers 200; SIGTERM, SIGKILL after a grace.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, type WriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import { freePort, REPO_ROOT, SERVER_NODE_FLAGS, StartError, TMP_DIR, type ServerExit } from './server-process';

export const BARE_ENGINE = 'bare';
/** The scenarios whose routes the bare server answers (a hold and its release, the token, the concert). */
export const BARE_SCENARIOS: readonly string[] = ['spread', 'hot-seat'];

const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 5_000;
const LOG_TAIL_LINES = 40;

/** `<build>/bench/bare/bare-server.js` beside the engines' `<build>/src/main.js`. */
export function bareEntryBeside(serverEntry: string): string {
  return join(dirname(dirname(serverEntry)), 'bench', 'bare', 'bare-server.js');
}

export interface BareServerOptions {
  /** The engines' entry (`<build>/src/main.js`); the bare server's is found beside it. */
  entry: string;
  runId: string;
  label: string;
  adminKey: string;
}

export class BareServer {
  /** Started and not yet stopped (an interrupted run stops them). */
  static readonly live = new Set<BareServer>();
  /** No database: the harness then skips the database counters and the invariants. */
  readonly databaseUrl: string | undefined = undefined;
  readonly adminUrl: string | undefined = undefined;
  private readonly tail: string[] = [];
  private readonly exited: Promise<{ code: number | null; signal: string | null }>;
  private exitInfo: { code: number | null; signal: string | null } | null = null;

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    readonly logFile: string,
    private readonly log: WriteStream,
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

  static async start(options: BareServerOptions): Promise<BareServer> {
    const entry = bareEntryBeside(options.entry);
    if (!existsSync(entry)) {
      throw new StartError(`${entry} does not exist: the build has no bench/bare/bare-server.js (with --no-build, run npm run build first)`);
    }
    const port = await freePort();
    mkdirSync(TMP_DIR, { recursive: true });
    const logFile = join(TMP_DIR, `${options.runId}-${options.label}-${BARE_ENGINE}.log`);
    const log = createWriteStream(logFile);
    const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, entry], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env['PATH'] ?? '',
        HOME: process.env['HOME'] ?? '',
        NODE_ENV: 'production',
        PORT: String(port),
        HOST: '127.0.0.1',
        ADMIN_API_KEY: options.adminKey,
      },
    });
    const server = new BareServer(child, `http://127.0.0.1:${port}`, logFile, log);
    BareServer.live.add(server);
    try {
      await server.waitReady();
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      if (!this.running) {
        throw new StartError(`the bare server exited during start-up (${this.exitInfo?.signal ?? `code ${this.exitInfo?.code}`}):\n${this.tail.join('\n')}`);
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
    throw new StartError(`the bare server was not ready within ${READY_TIMEOUT_MS / 1000} s (last /health/ready: ${last}):\n${this.tail.join('\n')}`);
  }

  async stop(): Promise<ServerExit> {
    if (this.running) {
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
      await this.exited;
      clearTimeout(timer);
    }
    const exit = await this.exited;
    BareServer.live.delete(this);
    await new Promise<void>((resolvePromise) => this.log.end(() => resolvePromise()));
    // Anything the bare server writes is an error (it has no logger): counted as warnings.
    return { ...exit, warnings: this.tail.length, warningSamples: this.tail.slice(0, 5) };
  }

  /** Nothing to clean up: no database, no Redis keys. */
  async cleanUp(_databaseBaseUrl: string, _redisUrl: string): Promise<void> {}

  /** An interrupted run. */
  static async stopAll(): Promise<void> {
    await Promise.all([...BareServer.live].map((server) => server.stop().catch(() => undefined)));
  }
}
