/** One HTML page per scenario run: the charts first (see the difference), then the numbers. */
import { barChart, escapeXml, lineChart, linearTicks, logTicks, type Axis, type BarGroup, type Series } from './svg';
import { tableRows } from './table';
import type { EngineResult, RunReport } from './types';

export const ENGINE_COLORS: Record<string, string> = { actor: '#1b9e77', lock: '#d95f02', sql: '#7570b3', bare: '#999999' };
const FALLBACK_COLORS = ['#e7298a', '#66a61e', '#e6ab02', '#a6761d'];

function color(engine: string, index: number): string {
  return ENGINE_COLORS[engine] ?? FALLBACK_COLORS[index % FALLBACK_COLORS.length]!;
}

function formatMs(ms: number): string {
  if (ms >= 1000) return `${ms / 1000} s`;
  if (ms >= 1) return `${ms} ms`;
  return `${ms * 1000} µs`;
}

function compact(value: number): string {
  if (value >= 10_000) return `${Math.round(value / 1000)}k`;
  if (value >= 1000) return `${(value / 1000).toFixed(1)}k`;
  return `${Math.round(value * 10) / 10}`;
}

/** Percentile p → "nines" (90 → 1, 99 → 2, 99.9 → 3) for the x axis of the latency curves. */
function nines(p: number): number {
  return p >= 100 ? 4.3 : -Math.log10(1 - p / 100);
}

function rateChart(measured: EngineResult[], title: string, label: string, read: (r: EngineResult) => number): string {
  const actor = measured.find((r) => r.engine === 'actor');
  const groups: BarGroup[] = measured.map((r, i) => ({
    label: r.engine,
    bars: [
      {
        name: r.engine,
        color: color(r.engine, i),
        value: read(r),
        note: `${compact(read(r))}${actor && r !== actor && read(r) > 0 ? ` · actor/${r.engine} ${(read(actor) / read(r)).toFixed(2)}×` : ''}`,
      },
    ],
  }));
  const ticks = linearTicks(Math.max(1, ...measured.map(read)) * 1.15, 5, compact);
  return barChart(title, { label, scale: 'linear', min: 0, max: ticks.max, ticks: ticks.ticks }, groups);
}

function latencyBars(measured: EngineResult[]): string {
  const keys = ['med', 'p90', 'p95', 'p99', 'max'] as const;
  const values = measured.flatMap((r) => keys.map((k) => r.latency_ms[k])).filter((v) => v > 0);
  const min = Math.max(0.01, 10 ** Math.floor(Math.log10(Math.min(...values, 1))));
  const max = 10 ** Math.ceil(Math.log10(Math.max(...values, 1)));
  const y: Axis = { label: 'latency (log scale)', scale: 'log', min, max, ticks: logTicks(min, max, formatMs) };
  const groups: BarGroup[] = keys.map((key) => ({
    label: key,
    bars: measured.map((r, i) => ({ name: r.engine, color: color(r.engine, i), value: r.latency_ms[key], note: compact(r.latency_ms[key]) })),
  }));
  return barChart('Latency per engine, ms (lower is better)', y, groups);
}

function percentileCurves(measured: EngineResult[]): string {
  const series: Series[] = measured.map((r, i) => ({
    name: r.engine,
    color: color(r.engine, i),
    points: r.latency_curve.filter((c) => c.ms > 0).map((c) => [nines(c.p), c.ms] as [number, number]),
  }));
  const values = series.flatMap((s) => s.points.map(([, ms]) => ms));
  const min = Math.max(0.01, 10 ** Math.floor(Math.log10(Math.min(...values, 1))));
  const max = 10 ** Math.ceil(Math.log10(Math.max(...values, 1)));
  const x: Axis = {
    label: 'percentile',
    scale: 'linear',
    min: 0,
    max: 4.3,
    ticks: [
      { value: 0, label: '0' },
      { value: nines(50), label: '50' },
      { value: 1, label: '90' },
      { value: 2, label: '99' },
      { value: 3, label: '99.9' },
      { value: 4, label: '99.99' },
      { value: 4.3, label: 'max' },
    ],
  };
  const y: Axis = { label: 'latency (log scale)', scale: 'log', min, max, ticks: logTicks(min, max, formatMs) };
  return lineChart('Latency by percentile (lower is better; the tail is on the right)', x, y, series);
}

function overTime(measured: EngineResult[]): string {
  const series: Series[] = measured.map((r, i) => ({
    name: r.engine,
    color: color(r.engine, i),
    points: r.per_second.map((s, second) => [second + 0.5, s.ok] as [number, number]),
  }));
  const maxX = Math.max(1, ...measured.map((r) => r.per_second.length));
  const maxY = Math.max(1, ...series.flatMap((s) => s.points.map(([, v]) => v)));
  const xTicks = linearTicks(maxX, 6, (v) => `${v}`);
  const yTicks = linearTicks(maxY * 1.1, 5, compact);
  const x: Axis = { label: 'seconds into the window', scale: 'linear', min: 0, max: xTicks.max, ticks: xTicks.ticks };
  const y: Axis = { label: 'ok per second', scale: 'linear', min: 0, max: yTicks.max, ticks: yTicks.ticks };
  return lineChart('Successful operations per second over the window', x, y, series);
}

function cpuChart(measured: EngineResult[]): string {
  const parts = [
    ['server', (r: EngineResult) => r.cpu_pct.server ?? 0],
    ['PostgreSQL', (r: EngineResult) => r.cpu_pct.database ?? 0],
    ['Redis', (r: EngineResult) => r.cpu_pct.redis ?? 0],
    ['load generator', (r: EngineResult) => r.cpu_pct.load_generator],
  ] as const;
  const groups: BarGroup[] = parts.map(([label, read]) => ({
    label,
    bars: measured.map((r, i) => ({ name: r.engine, color: color(r.engine, i), value: read(r), note: `${Math.round(read(r))}%` })),
  }));
  const max = Math.max(100, ...measured.flatMap((r) => parts.map(([, read]) => read(r))));
  const ticks = linearTicks(max * 1.1, 5, (v) => `${v}%`);
  return barChart('CPU during the window, % of one core (this machine has 2)', { label: '% of one core', scale: 'linear', min: 0, max: ticks.max, ticks: ticks.ticks }, groups);
}

function table(report: RunReport): string {
  const rows = tableRows(report);
  const head = rows[0]!;
  const body = rows.slice(1);
  return (
    `<table><thead><tr>${head.map((h) => `<th>${escapeXml(h)}</th>`).join('')}</tr></thead><tbody>` +
    body.map((row) => `<tr>${row.map((cell, i) => (i === 0 ? `<th>${escapeXml(cell)}</th>` : `<td>${escapeXml(cell)}</td>`)).join('')}</tr>`).join('\n') +
    '</tbody></table>'
  );
}

function details(report: RunReport): string {
  return report.results
    .map((r) => {
      const invariants = r.invariants
        .map((i) =>
          i.skipped
            ? `<li>– ${escapeXml(i.name)} — skipped: ${escapeXml(i.detail)}</li>`
            : `<li class="${i.ok ? 'ok' : 'bad'}">${i.ok ? '✓' : '✗'} ${escapeXml(i.name)} — ${escapeXml(i.detail)}</li>`,
        )
        .join('');
      const statuses = Object.entries(r.statuses)
        .map(([key, count]) => `<li>${escapeXml(key)}: ${count}</li>`)
        .join('');
      const samples = r.error_samples.map((s) => `<li><code>${escapeXml(`${s.request} → ${s.status} ${s.body}`)}</code></li>`).join('');
      const byRequest = r.latency_by_request
        .map((n) => `<tr><th>${escapeXml(n.name)}</th><td>${n.count}</td><td>${n.med}</td><td>${n.p95}</td><td>${n.p99}</td><td>${n.max}</td></tr>`)
        .join('');
      return `<section><h3 style="color:${ENGINE_COLORS[r.engine] ?? '#333'}">${escapeXml(r.engine)} — ${escapeXml(r.status)}</h3>
${r.error ? `<pre>${escapeXml(r.error)}</pre>` : ''}
${r.repeats ? `<p>Repeats (this column is the run with the median ok_per_s): ${escapeXml(r.repeats.map((x, i) => `#${i + 1} ${x.status === 'ok' ? `${x.ok_per_s} ok/s, p95 ${x.p95} ms, p99 ${x.p99} ms` : x.status}`).join(' · '))}</p>` : ''}
<ul>${invariants}</ul>
${byRequest ? `<table><thead><tr><th>request</th><th>count</th><th>med ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th></tr></thead><tbody>${byRequest}</tbody></table>` : ''}
${statuses ? `<p>Statuses ≥ 400 (0 = no response):</p><ul>${statuses}</ul>` : ''}
${samples ? `<p>First unexpected responses:</p><ul>${samples}</ul>` : ''}
${r.redis && Object.keys(r.redis.top).length > 0 ? `<p>Redis commands in the window: ${escapeXml(Object.entries(r.redis.top).map(([k, v]) => `${k} ${v}`).join(', '))}</p>` : ''}
${r.server_log && r.server_log.warnings > 0 ? `<p>Server log: ${r.server_log.warnings} warnings or errors, e.g.</p><pre>${escapeXml(r.server_log.samples.join('\n'))}</pre>` : ''}
</section>`;
    })
    .join('\n');
}

export function renderHtml(report: RunReport): string {
  const measured = report.results.filter((r) => r.status === 'ok');
  const charts =
    measured.length > 0
      ? [
          rateChart(measured, `Successful operations per second: ${report.ok_means} (higher is better)`, 'ok_per_s', (r) => r.ok_per_s),
          rateChart(measured, 'All requests per second (higher is better)', 'req/s', (r) => r.req_per_s),
          percentileCurves(measured),           latencyBars(measured),
          overTime(measured),
          cpuChart(measured),
        ]
      : [];
  const m = report.machine;
  const reference = report.reference
    ? `<h2>Reference: ${escapeXml(report.reference.title)}</h2><table>${report.reference.rows.map((row) => `<tr><th>${escapeXml(row.metric)}</th><td>${escapeXml(row.value)}</td></tr>`).join('')}</table>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ovation bench — ${escapeXml(report.scenario)} — ${escapeXml(report.started_at)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }
table { border-collapse: collapse; margin: 1em 0; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; }
th:first-child { text-align: left; }
.ok { color: #1b7e3f; } .bad { color: #b00020; font-weight: 600; }
svg { display: block; margin: 1.5em 0; }
code, pre { font-size: 12px; white-space: pre-wrap; }
</style></head><body>
<h1>ovation bench: ${escapeXml(report.scenario)}</h1>
<p>${escapeXml(report.summary)}. One successful operation = ${escapeXml(report.ok_means)}.</p>
<p><code>${escapeXml(report.command)}</code><br>
${escapeXml(report.started_at)} · ${m.cpus} × ${escapeXml(m.model)} · ${m.memory_gb} GiB · Node ${escapeXml(m.node)} · ${escapeXml(m.os)} · load average at start ${m.loadavg_at_start.join(' / ')} ·
Redis ${report.redis} · commit ${escapeXml(report.commit ?? 'unknown')}</p>
${charts.join('\n')}
<h2>Numbers</h2>
${table(report)}
${reference}
<h2>Per engine</h2>
${details(report)}
</body></html>
`;
}
