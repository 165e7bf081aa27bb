/**
 * The README's results table, made from saved result files (so the table and the JSON cannot
 * disagree): per scenario and engine the headline numbers and the ratio to the actor engine.
 */
import { readFileSync } from 'node:fs';
import type { CpuPerOk } from '../cpu-per-op';
import type { EngineResult, RunReport } from './types';

const num = (value: number | null | undefined, digits = 1) =>
  value === null || value === undefined ? '–' : value.toLocaleString('en-US', { maximumFractionDigits: digits });

function ratio(actor: EngineResult | undefined, result: EngineResult): string {
  if (!actor || result === actor || result.status !== 'ok' || result.ok_per_s === 0) return '';
  return `${(actor.ok_per_s / result.ok_per_s).toFixed(1)}×`;
}

/** "hold", "n violated", or "skipped" when nothing was checked (the bare server has no database). */
function invariantsSummary(r: EngineResult): string {
  const checked = r.invariants.filter((i) => !i.skipped);
  if (checked.length === 0 && r.invariants.length > 0) return 'skipped';
  const bad = checked.filter((i) => !i.ok).length;
  return bad === 0 ? 'hold' : `${bad} violated`;
}

/** CPU µs per successful operation ('–' in results saved before it was measured). */
const cpu = (r: EngineResult, key: keyof CpuPerOk) => num(r.cpu_us_per_ok?.[key], 0);

export function summaryMarkdown(files: string[]): string {
  const reports = files.map((file) => ({ file, report: JSON.parse(readFileSync(file, 'utf8')) as RunReport }));
  const lines: string[] = [];
  const first = reports[0]?.report.machine;
  if (first) lines.push(`Machine: ${first.cpus} × ${first.model}, ${first.memory_gb} GiB, Node ${first.node}, ${first.os}.`, '');
  // A column "÷ bare" only when some run had the bare server (bench/bare/bare-server.ts): the share of the HTTP ceiling.
  const withBare = reports.some(({ report }) => report.results.some((r) => r.over_bare));
  lines.push(
    `| scenario | engine | req/s | ok_per_s | actor ÷ engine (ok/s) |${withBare ? ' engine ÷ bare (ok/s) |' : ''} p95 ms | p99 ms | 5xx | oversold | server CPU % | load-gen CPU % | server µs/ok | PostgreSQL µs/ok | Redis µs/ok | load-gen µs/ok | invariants |`,
    `|---|---|---:|---:|---:|${withBare ? '---:|' : ''}---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|`,
  );
  for (const { report } of reports) {
    const actor = report.results.find((r) => r.engine === 'actor' && r.status === 'ok');
    for (const r of report.results) {
      if (r.status !== 'ok') {
        lines.push(`| ${report.scenario} | ${r.engine} | ${r.status} | | | |${withBare ? ' |' : ''} | | | | | | | | | |`);
        continue;
      }
      const overBare = withBare ? ` ${r.over_bare?.ok_per_s == null ? '' : `${r.over_bare.ok_per_s.toFixed(2)}×`} |` : '';
      lines.push(
        `| ${report.scenario} | ${r.engine} | ${num(r.req_per_s)} | ${num(r.ok_per_s)} | ${ratio(actor, r)} |${overBare} ${num(r.latency_ms.p95, 2)} | ${num(r.latency_ms.p99, 2)} | ${r.errors_5xx} | ${num(r.oversold)} | ${num(r.cpu_pct.server)} | ${num(r.cpu_pct.load_generator)} | ${cpu(r, 'server')} | ${cpu(r, 'postgres_backends')} | ${cpu(r, 'redis')} | ${cpu(r, 'load_generator')} | ${invariantsSummary(r)} |`,
      );
    }
  }
  lines.push('', 'Commands:', '');
  for (const { file, report } of reports) lines.push(`- \`${report.command}\` → \`${file}\``);
  return lines.join('\n');
}
