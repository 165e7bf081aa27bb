/** Runs the real server (src/main.ts) as a child process, for tests that kill it. */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { GENEROUS_RATE_LIMITS } from './rate-limits';

/** One helper for a free port, shared with the server's embedded mode and the bench. */
import { freeLocalPort as freePort } from '../../src/persistence/embedded/free-port';

export { freePort };

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** What the server wrote to stderr so far (a crash's stack trace, for instance). */
  stderr(): string;
  /** What it wrote to stdout (its logs and banner); only with `captureStdout`, else ''. */
  stdout(): string;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/**
 * The server uses the shared test Redis (TEST_REDIS_URL) unless the caller passes REDIS_URL:
 * another Redis, or '' for embedded mode's in-process waiting line. An unset REDIS_URL means the
 * in-process line, so without this default a crash test would silently lose its tokens on restart.
 */
export async function startServer(env: Record<string, string>, { captureStdout = false } = {}): Promise<ServerProcess> {
  const port = await freePort();
  const root = path.resolve(__dirname, '../..');
  const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/main.ts'], {
    cwd: root,
    env: { ...process.env, ...GENEROUS_RATE_LIMITS, REDIS_URL: redisUrl, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', captureStdout ? 'pipe' : 'ignore', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${stderr}`);
    const ready = await fetch(`${url}/health/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`server not ready in 30 s: ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    child,
    stderr: () => stderr,
    stdout: () => stdout,
    kill: (signal) =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}
