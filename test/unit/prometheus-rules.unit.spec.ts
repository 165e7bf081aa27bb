/**
 * The alert rules as Prometheus itself reads them: `promtool check rules` accepts the file (and
 * `promtool check config` the scrape configuration that loads it, and every Grafana dashboard
 * query parses as PromQL),
 * `promtool test rules` runs docker/prometheus/alerts.test.yml (each alert firing on trouble and
 * silent otherwise), every alert has such a test, and every alert has its section in
 * docs/runbook.md. promtool comes from Debian's `prometheus` package (scripts/ensure-tools.sh).
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';

const execFileAsync = promisify(execFile);
const ROOT = path.resolve(__dirname, '../..');
const PROMETHEUS_DIR = path.join(ROOT, 'docker/prometheus');

interface RuleFile {
  groups: { rules: { alert: string; expr: string; for: string; annotations: Record<string, string> }[] }[];
}
interface RuleTests {
  tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[];
}

const alerts = (parse(readFileSync(path.join(PROMETHEUS_DIR, 'alerts.yml'), 'utf8')) as RuleFile).groups.flatMap((g) => g.rules);

async function promtool(...args: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await execFileAsync('promtool', args, { cwd: PROMETHEUS_DIR, timeout: 60_000 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, output: `${failed.stdout ?? ''}${failed.stderr ?? ''}` };
  }
}

describe('docker/prometheus/alerts.yml', () => {
  beforeAll(async () => {
    await execFileAsync('bash', [path.join(ROOT, 'scripts/ensure-tools.sh'), 'prometheus:promtool'], { timeout: 170_000 });
  }, 180_000);

  it('when promtool checks the rules, then every rule is valid', async () => {
    const { code, output } = await promtool('check', 'rules', 'alerts.yml');
    expect({ code, output }).toEqual({ code: 0, output: expect.stringContaining(`SUCCESS: ${alerts.length} rules found`) });
  });

  it('when promtool checks prometheus.yml (the compose scrape config, every replica by DNS), then it is valid and loads these rules', async () => {
    const { code, output } = await promtool('check', 'config', 'prometheus.yml');
    expect({ code, output }).toEqual({ code: 0, output: expect.stringContaining(`SUCCESS: ${alerts.length} rules found`) });
    expect(output).toMatch(/SUCCESS: prometheus\.yml is valid prometheus config file syntax/);
  });

  it('when a Grafana dashboard queries Prometheus, then every query is valid PromQL (promtool parses it as a recording rule)', async () => {
    interface Panel { title?: string; targets?: { expr?: string }[]; panels?: Panel[] }
    const flatten = (panels: Panel[] = []): Panel[] => panels.flatMap((panel) => [panel, ...flatten(panel.panels)]);
    const dir = path.join(ROOT, 'docker/grafana/dashboards');
    const expressions = readdirSync(dir)
      .filter((name) => name.endsWith('.json'))
      .flatMap((name) => flatten((JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as { panels?: Panel[] }).panels))
      .flatMap((panel) => (panel.targets ?? []).flatMap((target) => (target.expr === undefined ? [] : [target.expr])));
    expect(expressions.length).toBeGreaterThan(40);
    // Grafana's own variable: any range will do for parsing.
    const rules = expressions.map((expr, i) => ({ record: `dashboard:query_${i}`, expr: expr.replaceAll('$__rate_interval', '1m') }));
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'ovation-dashboard-')), 'queries.yml');
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
    const { code, output } = await promtool('check', 'rules', file);
    expect({ code, output }).toEqual({ code: 0, output: expect.stringContaining(`SUCCESS: ${rules.length} rules found`) });
  });

  it('when promtool runs alerts.test.yml, then every case passes', async () => {
    const { code, output } = await promtool('test', 'rules', 'alerts.test.yml');
    expect({ code, output }).toEqual({ code: 0, output: expect.stringContaining('SUCCESS') });
  });

  it('when a case expects the wrong alert, then promtool fails (the tests can fail)', async () => {
    const tests = readFileSync(path.join(PROMETHEUS_DIR, 'alerts.test.yml'), 'utf8').replace('instance: "app-1:3000" }', 'instance: "app-9:3000" }');
    const dir = mkdtempSync(path.join(tmpdir(), 'ovation-rules-'));
    copyFileSync(path.join(PROMETHEUS_DIR, 'alerts.yml'), path.join(dir, 'alerts.yml'));
    writeFileSync(path.join(dir, 'alerts.test.yml'), tests);
    const { code } = await promtool('test', 'rules', path.join(dir, 'alerts.test.yml'));
    expect(code).not.toBe(0);
  });

  it('when an alert is defined, then a promtool case shows it firing', () => {
    const tests = parse(readFileSync(path.join(PROMETHEUS_DIR, 'alerts.test.yml'), 'utf8')) as RuleTests;
    const shownFiring = new Set(
      tests.tests.flatMap((t) => t.alert_rule_test ?? []).filter((c) => c.exp_alerts.length > 0).map((c) => c.alertname),
    );
    expect(alerts.map((a) => a.alert).filter((name) => !shownFiring.has(name))).toEqual([]);
  });

  it('when an alert is defined, then docs/runbook.md has its section: meaning, confirm, act', () => {
    const runbook = readFileSync(path.join(ROOT, 'docs/runbook.md'), 'utf8');
    const sections = new Map<string, string>();
    for (const part of runbook.split(/^## /m).slice(1)) sections.set(part.split('\n')[0]!.trim(), part);
    const missing: string[] = [];
    for (const { alert } of alerts) {
      const section = sections.get(alert);
      if (section === undefined) missing.push(`${alert}: no "## ${alert}" section`);
      else for (const part of ['Meaning', 'Confirm', 'Act']) if (!new RegExp(`^\\*\\*${part}`, 'm').test(section)) missing.push(`${alert}: no **${part}**`);
    }
    expect(missing).toEqual([]);
  });
});
