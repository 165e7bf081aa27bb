/**
 * The real Prometheus (Debian's `prometheus` package) against a running server: it scrapes
 * /metrics, loads docker/prometheus/alerts.yml, evaluates every rule without error, and an alert
 * fires when its condition really happens (the server goes away → OvationInstanceDown). The rules
 * are the repository's, with every `for:` set to 0s so the test need not wait minutes.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freeLocalPort } from '../../src/persistence/embedded/free-port';
import { eventually } from '../support/eventually';
import { startTestApp, type TestApp } from '../support/test-app';

const ROOT = path.resolve(__dirname, '../..');

interface RuleState {
  name: string;
  health: string;
  lastEvaluation: string;
  state?: string;
}

describe('Prometheus scraping a running server with the repository alert rules', () => {
  let t: TestApp | undefined;
  let prometheus: ChildProcess | undefined;
  let dir: string;
  let api: string;
  let output = '';
  const started = Date.now();

  const get = async <T>(query: string): Promise<T> => {
    const response = await fetch(`${api}${query}`, { signal: AbortSignal.timeout(5_000) });
    const body = (await response.json()) as { status: string; data: T };
    if (body.status !== 'success') throw new Error(`${query}: ${JSON.stringify(body)}`);
    return body.data;
  };

  beforeAll(async () => {
    await promisify(execFile)('bash', [path.join(ROOT, 'scripts/ensure-tools.sh'), 'prometheus'], { timeout: 170_000 });
    t = await startTestApp();
    const target = new URL(await t.app.listen({ port: 0, host: '127.0.0.1' })).host;
    dir = mkdtempSync(path.join(tmpdir(), 'ovation-prometheus-'));
    const rules = readFileSync(path.join(ROOT, 'docker/prometheus/alerts.yml'), 'utf8').replace(/^(\s+for: ).+$/gm, '$10s');
    writeFileSync(path.join(dir, 'alerts.yml'), rules);
    writeFileSync(
      path.join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s, scrape_timeout: 900ms }',
        'rule_files: [alerts.yml]',
        'scrape_configs:',
        `  - { job_name: ovation, metrics_path: /metrics, static_configs: [{ targets: ["${target}"] }] }`,
      ].join('\n'),
    );
    const port = await freeLocalPort();
    api = `http://127.0.0.1:${port}`;
    prometheus = spawn(
      'prometheus',
      [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prometheus.stdout?.on('data', (chunk) => (output += chunk));
    prometheus.stderr?.on('data', (chunk) => (output += chunk));
  }, 200_000);

  afterAll(async () => {
    prometheus?.kill('SIGKILL');
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('when Prometheus scrapes, then the target is up and the server’s figures are queryable', async () => {
    const targets = await eventually(
      async () => {
        const data = await get<{ activeTargets: { health: string; lastError: string }[] }>('/api/v1/targets');
        return data.activeTargets[0]?.health === 'up' && data.activeTargets;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    ).catch((error) => {
      throw new Error(`${String(error)}\nprometheus said:\n${output.slice(-3000)}`);
    });
    expect(targets).toHaveLength(1);
    const live = await eventually(async () => (await get<{ result: { value: [number, string] }[] }>('/api/v1/query?query=ovation_actors_live')).result[0]);
    expect(live.value[1]).toBe('0');
  }, 40_000);

  it('when the rules are evaluated, then every one of them runs without error and none fires on a healthy server', async () => {
    // Rules evaluated before the first scrape landed see no `up` at all (OvationNoInstanceUp would
    // rightly fire then): judge an evaluation that came after a successful scrape.
    const targets = await get<{ activeTargets: { lastScrape: string }[] }>('/api/v1/targets');
    const scraped = Date.parse(targets.activeTargets[0]!.lastScrape);
    expect(scraped).toBeGreaterThan(started);
    const rules = await eventually(
      async () => {
        const data = await get<{ groups: { rules: RuleState[] }[] }>('/api/v1/rules');
        const all = data.groups.flatMap((g) => g.rules);
        return all.length > 0 && all.every((r) => Date.parse(r.lastEvaluation) > scraped + 1_000) && all;
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    expect(rules.filter((r) => r.health !== 'ok')).toEqual([]);
    expect(rules.map((r) => r.name)).toEqual(expect.arrayContaining(['OvationInstanceDown', 'OvationQueueAdmissionStalled']));
    expect(rules.filter((r) => r.state === 'firing').map((r) => r.name)).toEqual([]);
  }, 30_000);

  it('when the server goes away, then OvationInstanceDown fires', async () => {
    await t!.close(); // the fault: nothing answers /metrics any more
    t = undefined;
    const firing = await eventually(
      async () => {
        const data = await get<{ alerts: { labels: { alertname: string }; state: string }[] }>('/api/v1/alerts');
        return data.alerts.find((a) => a.labels.alertname === 'OvationInstanceDown' && a.state === 'firing');
      },
      { timeoutMs: 20_000, intervalMs: 250 },
    );
    expect(firing.labels).toEqual(expect.objectContaining({ job: 'ovation', severity: 'critical' }));
  }, 30_000);
});
