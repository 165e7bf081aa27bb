/**
 * The results table of one scenario: a row per metric (the load test's vocabulary), a column per
 * engine, and for every other engine a column with the actor engine's value divided by its value
 * (throughput: how many times the actor's; latency and costs: the fraction the actor needs).
 * Printed to the console, and the same rows go into the HTML and the markdown summary.
 */
import type { EngineResult, RunReport } from './types';

interface Row {
  label: string;
  value(result: EngineResult): number | string | null;
  /** Numeric rows where actor ÷ engine means something. */
  ratio?: boolean;
}

function fmt(value: number, digits = 1): string {
  if (!Number.isFinite(value)) return '–';
  const rounded = Math.abs(value) >= 100 ? Math.round(value) : Number(value.toFixed(digits));
  return rounded.toLocaleString('en-US', { maximumFractionDigits: digits });
}

const pct = (value: number) => `${fmt(value * 100, 2)} %`;
const round = (value: number | undefined) => (value === undefined ? null : Math.round(value * 100) / 100);
const msOf = (seconds: number | undefined) => (seconds === undefined ? undefined : seconds * 1000);
const perOk = (r: EngineResult, count: number | undefined) => (!count || r.ok === 0 ? null : Math.round((count / r.ok) * 100) / 100);

function latencyRow(key: keyof EngineResult['latency_ms']): Row {
  return { label: `latency ${key} (ms)`, value: (r) => r.latency_ms[key], ratio: true };
}

/** CPU per successful operation (bench/cpu-per-op.ts); '–' for results saved before it existed. */
const cpuPerOkRows: Row[] = [
  { label: 'server CPU µs / ok', value: (r) => r.cpu_us_per_ok?.server ?? null, ratio: true },
  { label: "PostgreSQL CPU µs / ok (engine's backends)", value: (r) => r.cpu_us_per_ok?.postgres_backends ?? null, ratio: true },
  { label: 'PostgreSQL CPU µs / ok (whole cluster)', value: (r) => r.cpu_us_per_ok?.postgres_cluster ?? null, ratio: true },
  { label: 'server + PostgreSQL CPU µs / ok', value: (r) => r.cpu_us_per_ok?.server_and_postgres ?? null, ratio: true },
  { label: 'Redis CPU µs / ok', value: (r) => r.cpu_us_per_ok?.redis ?? null, ratio: true },
  { label: 'load-gen CPU µs / ok', value: (r) => r.cpu_us_per_ok?.load_generator ?? null, ratio: true },
];

/** Open-model runs: what became of the planned arrivals (k6 names). */
const iterationRows: Row[] = [
  { label: 'iterations planned', value: (r) => r.load_generator.iterations?.planned ?? null },
  { label: 'iterations started', value: (r) => r.load_generator.iterations?.started ?? null },
  { label: 'dropped_iterations', value: (r) => r.load_generator.iterations?.dropped_iterations ?? null },
  { label: 'iterations not reached (finished first)', value: (r) => r.load_generator.iterations?.unstarted ?? null },
  { label: 'iterations cut off at the end', value: (r) => r.load_generator.iterations?.interrupted ?? null },
  { label: 'vus_max (VUs made)', value: (r) => r.load_generator.iterations?.vus_max ?? null },
];

/** p95 and p99 of every request type, in the order of the first engine's counts. */
function requestRows(report: RunReport): Row[] {
  const names = [...new Set(report.results.flatMap((r) => r.latency_by_request.map((x) => x.name)))];
  return names.flatMap((name) =>
    (['p95', 'p99'] as const).map((key) => ({
      label: `${name} ${key} (ms)`,
      value: (r: EngineResult) => r.latency_by_request.find((x) => x.name === name)?.[key] ?? null,
      ratio: true,
    })),
  );
}

function rowsFor(report: RunReport): Row[] {
  const rows: Row[] = [
    { label: 'http_reqs', value: (r) => r.http_reqs },
    { label: 'req/s', value: (r) => r.req_per_s, ratio: true },
    { label: `ok_per_s`, value: (r) => r.ok_per_s, ratio: true },
    ...(report.results.some((r) => r.over_bare)
      ? [
          {
            label: 'ok_per_s ÷ bare (share of the HTTP ceiling)',
            value: (r: EngineResult) => (r.over_bare?.ok_per_s == null ? null : `${fmt(r.over_bare.ok_per_s, 2)}×`),
          },
        ]
      : []),
    ...(report.results.some((r) => r.repeats)
      ? [
          {
            label: 'ok_per_s of each repeat',
            value: (r: EngineResult) => (r.repeats ? r.repeats.map((x) => fmt(x.ok_per_s)).join(' ') : null),
          },
        ]
      : []),
    { label: 'checks passed / failed', value: (r) => `${fmt(r.checks.passed, 0)} / ${fmt(r.checks.failed, 0)}` },
    { label: 'http_req_failed', value: (r) => pct(r.http_req_failed_rate) },
    ...(['avg', 'min', 'med', 'p90', 'p95', 'p99', 'max'] as const).map(latencyRow),
    { label: 'requests / ok', value: (r) => (r.ok > 0 ? Math.round((r.http_reqs / r.ok) * 100) / 100 : null), ratio: true },
    ...(report.request_rows ? requestRows(report) : []),
    { label: 'conflicts (409)', value: (r) => r.conflicts },
    { label: '5xx', value: (r) => r.errors_5xx },
    { label: 'no response', value: (r) => r.transport_errors },
    { label: 'oversold', value: (r) => r.oversold },
    { label: 'DB transactions / ok', value: (r) => r.db?.xacts_per_ok ?? null, ratio: true },
    { label: 'DB rows written / ok', value: (r) => r.db?.tuples_written_per_ok ?? null, ratio: true },
    { label: 'Redis commands / ok', value: (r) => r.redis?.commands_per_ok ?? null, ratio: true },
    { label: 'journal commits / ok (actor)', value: (r) => perOk(r, r.server_metrics['ovation_journal_commit_seconds.count']) },
    { label: 'journal events / commit (actor)', value: (r) => round(r.server_metrics['ovation_journal_batch_size.avg']) },
    { label: 'journal commit avg (ms, actor)', value: (r) => round(msOf(r.server_metrics['ovation_journal_commit_seconds.avg'])) },
    { label: 'server CPU % (1 core = 100)', value: (r) => r.cpu_pct.server, ratio: true },
    { label: 'server CPU peak 1 s %', value: (r) => r.cpu_pct.server_peak_1s },
    { label: 'PostgreSQL CPU %', value: (r) => r.cpu_pct.database },
    { label: 'Redis CPU %', value: (r) => r.cpu_pct.redis },
    { label: 'load-gen CPU %', value: (r) => r.cpu_pct.load_generator },
    ...cpuPerOkRows,
    { label: 'load-gen loop delay p99 (ms)', value: (r) => r.load_generator.loop_delay_p99_ms },
    { label: 'machine CPU % (all cores)', value: (r) => r.cpu_pct.machine },
    { label: 'machine CPU % before start', value: (r) => r.cpu_pct.machine_before_start },
    { label: 'server RSS (MB)', value: (r) => r.server_rss_mb },
    { label: 'window (s)', value: (r) => r.duration_s },
    ...(report.results.some((r) => r.load_generator.iterations) ? iterationRows : []),
  ];
  const metricNames = [...new Set(report.results.flatMap((r) => Object.keys(r.scenario_metrics)))];
  for (const name of metricNames) rows.push({ label: name, value: (r) => r.scenario_metrics[name] ?? null });
  const thresholdNames = [...new Set(report.results.flatMap((r) => r.thresholds.map((t) => t.name)))];
  for (const name of thresholdNames) {
    rows.push({
      label: `threshold ${name}`,
      value: (r) => {
        const t = r.thresholds.find((x) => x.name === name);
        return t ? (t.ok ? 'pass' : 'FAIL') : null;
      },
    });
  }
  rows.push({
    label: 'invariants',
    value: (r) => {
      if (r.status !== 'ok') return r.status;
      return invariantsCell(r);
    },
  });
  return rows;
}

/** "all n hold", "k VIOLATED", or "skipped" when nothing was checked (the bare server, a target without its database; the why is printed below the table). */
export function invariantsCell(r: EngineResult): string {
  const checked = r.invariants.filter((i) => !i.skipped);
  const skipped = r.invariants.filter((i) => i.skipped);
  if (checked.length === 0 && skipped.length > 0) return 'skipped';
  const bad = checked.filter((i) => !i.ok).length;
  if (bad > 0) return `${bad} VIOLATED`;
  return `all ${checked.length} hold${skipped.length > 0 ? `, ${skipped.length} skipped` : ''}`;
}

function cell(value: number | string | null): string {
  if (value === null) return '–';
  return typeof value === 'number' ? fmt(value) : value;
}

/** Header row first; every row starts with its label. */
export function tableRows(report: RunReport): string[][] {
  const results = report.results;
  const actor = results.find((r) => r.engine === 'actor' && r.status === 'ok');
  const others = actor ? results.filter((r) => r !== actor && r.status === 'ok') : [];
  const reference = report.reference ? new Map(report.reference.rows.map((row) => [row.metric, row.value])) : undefined;
  const header = ['metric', ...results.map((r) => r.engine), ...others.map((r) => `actor/${r.engine}`)];
  if (reference) header.push('original');
  const lines = [header];
  for (const row of rowsFor(report)) {
    const line = [row.label, ...results.map((r) => (r.status === 'ok' || row.label === 'invariants' ? cell(row.value(r)) : '–'))];
    for (const other of others) {
      const a = row.value(actor!);
      const b = row.value(other);
      line.push(row.ratio && typeof a === 'number' && typeof b === 'number' && b !== 0 ? `${fmt(a / b, 2)}×` : '');
    }
    if (reference) line.push(reference.get(row.label) ?? '');
    lines.push(line);
  }
  return lines;
}

export function formatTable(report: RunReport): string {
  const rows = tableRows(report);
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  const render = (row: string[]) => row.map((text, i) => (i === 0 ? text.padEnd(widths[i]!) : text.padStart(widths[i]!))).join('  ');
  const out = [render(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(render)];
  return out.join('\n');
}
