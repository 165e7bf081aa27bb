/**
 * The server under soak: built once (tsc of src/main.ts's import graph into a directory of the run,
 * so edits to src/ by others during the run cannot change it, nor a restart pick them up) or run
 * with ts-node; started as a child process on a fixed port (a restart after SIGKILL comes back on
 * the same URL); stdout and stderr go to a log file and a tail in memory. An exit nobody asked for
 * is a crash: recorded, and the server is started again so the soak goes on.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, writeFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../server-process';

const READY_TIMEOUT_MS = 90_000;
const TAIL_LINES = 200;

export interface Crash {
  at: number;
  code: number | null;
  signal: string | null;
  tail: string;
}

export interface ErrorLine {
  at: number;
  line: string;
}

/** tsc of src/main.ts and what it imports; emits even with type errors elsewhere (reported). */
export async function buildServer(dir: string): Promise<{ entry: string; seconds: number; warnings: string }> {
  mkdirSync(dir, { recursive: true });
  const config = join(dir, 'tsconfig.json');
  writeFileSync(
    config,
    JSON.stringify({
      extends: join(REPO_ROOT, 'tsconfig.json'),
      compilerOptions: { noEmit: false, outDir: join(dir, 'out'), rootDir: REPO_ROOT, sourceMap: true, incremental: false },
      files: [join(REPO_ROOT, 'src', 'main.ts')],
      include: [],
    }),
  );
  const started = Date.now();
  const tsc = join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const output = await new Promise<{ code: number | null; text: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [tsc, '-p', config], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, text }));
  });
  const entry = join(dir, 'out', 'src', 'main.js');
  if (!existsSync(entry)) throw new Error(`the server build produced no ${entry} (tsc exit ${output.code}):\n${output.text.slice(0, 3000)}`);
  return { entry, seconds: (Date.now() - started) / 1000, warnings: output.code === 0 ? '' : output.text.slice(0, 2000) };
}

export interface ServerSpec {
  /** Built entry point, or undefined to run src/main.ts with ts-node (transpile-only). */
  entry: string | undefined;
  port: number;
  env: Record<string, string>;
  logFile: string;
}

export class SoakServer {
  readonly url: string;
  readonly crashes: Crash[] = [];
  readonly errorLines: ErrorLine[] = [];
  errorLineCount = 0;
  warnLineCount = 0;
  /** Error lines (pino level ≥ 50) grouped by logger and message, with their count. */
  readonly errorGroups = new Map<string, number>();
  /** Incremented at every start (memory samples are per incarnation). */
  incarnation = 0;
  startedAt = 0;
  private child: ChildProcess | undefined;
  private expectingExit = false;
  private exited: Promise<void> = Promise.resolve();
  private readonly tail: string[] = [];
  private readonly log: WriteStream;
  private closed = false;

  constructor(private readonly spec: ServerSpec) {
    this.url = `http://127.0.0.1:${spec.port}`;
    this.log = createWriteStream(spec.logFile, { flags: 'a' });
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  logTail(lines = 40): string {
    return this.tail.slice(-lines).join('\n');
  }

  async start(): Promise<number> {
    if (this.running) return 0;
    const started = Date.now();
    const args = this.spec.entry ? [this.spec.entry] : ['-r', 'ts-node/register/transpile-only', join('src', 'main.ts')];
    this.incarnation++;
    this.log.write(`\n===== soak: server start #${this.incarnation} at ${new Date().toISOString()} =====\n`);
    const child = spawn(process.execPath, args, {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', ...this.spec.env, PORT: String(this.spec.port), HOST: '127.0.0.1' },
    });
    this.child = child;
    this.expectingExit = false;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.stdout?.on('data', (chunk: Buffer) => this.collect(chunk));
    child.stderr?.on('data', (chunk: Buffer) => this.collect(chunk));
    child.once('exit', (code, signal) => {
      this.log.write(`===== soak: server exit code=${code} signal=${signal} at ${new Date().toISOString()} =====\n`);
      if (this.expectingExit || this.closed) return;
      this.crashes.push({ at: Date.now(), code, signal, tail: this.logTail() });
      console.error(`[soak] the server exited by itself (code ${code}, signal ${signal}); starting it again`);
      void this.start().catch((error: unknown) => console.error(`[soak] restart after crash failed: ${(error as Error).message}`));
    });
    await this.waitReady(child);
    this.startedAt = Date.now();
    return Date.now() - started;
  }

  /** SIGKILL (a crash on purpose); resolves once the process is gone. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.expectingExit = true;
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM (graceful drain), SIGKILL after `graceMs`. Returns how it ended. */
  async stop(graceMs = 20_000): Promise<{ graceful: boolean; ms: number }> {
    const started = Date.now();
    if (!this.running) return { graceful: true, ms: 0 };
    this.expectingExit = true;
    this.child?.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const graceful = await Promise.race([
      this.exited.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
    ]);
    clearTimeout(timer);
    if (!graceful) await this.kill();
    return { graceful: graceful && this.child?.exitCode === 0, ms: Date.now() - started };
  }

  /** For clean-up: stop whatever runs, close the log. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.running) await this.stop(5_000);
    await new Promise<void>((resolve) => this.log.end(() => resolve()));
  }

  private collect(chunk: Buffer): void {
    this.log.write(chunk);
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      this.tail.push(line);
      if (this.tail.length > TAIL_LINES) this.tail.shift();
      const level = Number(/"level":(\d+)/.exec(line)?.[1] ?? (/error/i.test(line) ? 50 : 30));
      if (level >= 50) {
        this.errorLineCount++;
        const group = errorGroup(line);
        this.errorGroups.set(group, (this.errorGroups.get(group) ?? 0) + 1);
        if (this.errorLines.length < 50) this.errorLines.push({ at: Date.now(), line: line.slice(0, 2_000) });
      } else if (level >= 40) this.warnLineCount++;
    }
  }

  private async waitReady(child: ChildProcess): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let last = 'no answer yet';
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`the server exited during start-up (${child.signalCode ?? `code ${child.exitCode}`}):\n${this.logTail()}`);
      }
      try {
        const response = await fetch(`${this.url}/health/ready`, { signal: AbortSignal.timeout(2_000) });
        if (response.status === 200) return;
        last = `${response.status} ${(await response.text()).slice(0, 300)}`;
      } catch (error) {
        last = (error as Error).message;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`the server was not ready within ${READY_TIMEOUT_MS / 1000} s (last /health/ready: ${last}):\n${this.logTail()}`);
  }
}

/** "logger: message" of a pino line (the error's message when there is one), for grouping. */
function errorGroup(line: string): string {
  try {
    const entry = JSON.parse(line) as { logger?: string; msg?: string; err?: { type?: string; message?: string }; error?: string };
    const what = entry.err ? `${entry.err.type ?? 'Error'}: ${entry.err.message ?? ''}` : `${entry.msg ?? ''}${entry.error ? ` (${entry.error})` : ''}`;
    return `${entry.logger ? `[${entry.logger}] ` : ''}${what}`.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '<uuid>').replace(/\d+/g, 'N').slice(0, 160);
  } catch {
    return line.replace(/\d+/g, 'N').slice(0, 160);
  }
}
