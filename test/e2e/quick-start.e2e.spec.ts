/**
 * The README's quick start, for real: the server started with no service configured (embedded
 * PostgreSQL, data in a fresh DATA_DIR, the waiting line in the process), the README's
 * walk-through run verbatim with bash and curl, then restarts — a clean one and one after SIGKILL
 * (which leaves the embedded postmaster running as an orphan) — keep the data and seed the demo
 * only once.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, type ServerProcess } from '../support/server-process';

const README = readFileSync(path.resolve(__dirname, '../../README.md'), 'utf8');

/** The bash block that follows "The whole flow against the demo" in the README. */
function walkThrough(): string {
  const after = README.slice(README.indexOf('The whole flow against the demo'));
  const match = /```bash\n([\s\S]*?)```/.exec(after);
  if (!match) throw new Error('README: the walk-through block is missing');
  return match[1]!;
}

function bash(script: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-euo', 'pipefail', '-c', script], { env: { ...process.env, ...env }, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('the README quick start in embedded mode', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'ovation-quick-start-'));
  // No DATABASE_URL, no REDIS_URL: embedded mode. Empty values count as unset.
  const env = { DATABASE_URL: '', REDIS_URL: '', DATA_DIR: dataDir, LOG_LEVEL: 'silent' };
  let server: ServerProcess | undefined;
  afterAll(async () => {
    await server?.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  });

  const concerts = async () => (await (await fetch(`${server!.url}/v1/concerts`)).json()) as { concerts: { concertId: string }[] };
  const seatStatus = async (scheduleId: string, seatNo: number) => {
    const map = (await (await fetch(`${server!.url}/v1/schedules/${scheduleId}/seats`)).json()) as { seats: { seatNo: number; status: string }[] };
    return map.seats.find((seat) => seat.seatNo === seatNo)?.status;
  };

  it('when started with nothing configured, then it is ready in embedded mode with the demo, and the walk-through sells two seats', async () => {
    server = await startServer(env);
    const ready = (await (await fetch(`${server.url}/health/ready`)).json()) as { mode: object; checks: object };
    expect(ready.mode).toMatchObject({ database: 'embedded', queue: 'memory' });
    expect(ready.checks).toEqual({ database: true, queue: true, engine: true });

    const run = await bash(walkThrough(), { BASE: server.url });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toBe('50'); // 50 seats available on the demo's first schedule
    expect(lines.at(-1)).toBe('CONFIRMED');
    expect(run.stdout).toContain('"status":"PAID"');
  }, 90_000);

  it('when restarted cleanly and after SIGKILL, then the data is kept and the demo is not seeded twice', async () => {
    const [demo] = (await concerts()).concerts;
    const scheduleId = ((await (await fetch(`${server!.url}/v1/concerts/${demo!.concertId}/schedules`)).json()) as { schedules: { scheduleId: string }[] })
      .schedules[0]!.scheduleId;

    await server!.kill('SIGTERM');
    server = await startServer(env);
    expect((await concerts()).concerts).toHaveLength(1);
    expect(await seatStatus(scheduleId, 7)).toBe('SOLD');

    // SIGKILL leaves the embedded postmaster running; the next start must shut it down and go on.
    await server.kill('SIGKILL');
    server = await startServer(env);
    expect((await concerts()).concerts).toHaveLength(1);
    expect(await seatStatus(scheduleId, 8)).toBe('SOLD');
  }, 120_000);
});
