/**
 * The soak's numbers: requests by route and status, latency percentiles per route, each fault with
 * what the buyers felt during it and how long until the next successful hold (and, for the gateway
 * faults, the next approved charge), then the markdown summary printed at the end.
 */
import type { Answer } from './client';
import type { FaultRecord } from './faults';
import type { MemoryTrend } from './memory';
import type { InvariantResult } from './types';

export interface RouteStats {
  route: string;
  requests: number;
  /** "201", "409 SEAT_UNAVAILABLE", "0 ECONNREFUSED", … → count */
  statuses: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface FaultOutcome extends FaultRecord {
  atSeconds: number;
  durationSeconds: number;
  /** Answers to requests sent while the fault lasted, by status (2xx/4xx not listed). */
  failuresDuring: Record<string, number>;
  /** From the heal until the first 201 hold sent after it was answered. */
  nextHoldMs: number | null;
  /** Gateway faults: until the first 200 charge sent after the heal. */
  nextApprovedChargeMs?: number | null;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! * 10) / 10;
}

const label = (a: Answer): string => `${a.status}${a.code ? ` ${a.code}` : a.error ? ` ${a.error}` : ''}`;

export function routeStats(answers: readonly Answer[]): RouteStats[] {
  const byRoute = new Map<string, Answer[]>();
  for (const a of answers) {
    const list = byRoute.get(a.route) ?? [];
    list.push(a);
    byRoute.set(a.route, list);
  }
  return [...byRoute.entries()]
    .map(([route, list]) => {
      const statuses: Record<string, number> = {};
      for (const a of list) statuses[label(a)] = (statuses[label(a)] ?? 0) + 1;
      const ms = list.map((a) => a.ms).sort((x, y) => x - y);
      return { route, requests: list.length, statuses, p50Ms: percentile(ms, 50), p99Ms: percentile(ms, 99), maxMs: Math.round(ms[ms.length - 1] ?? 0) };
    })
    .sort((x, y) => y.requests - x.requests);
}

function firstAfter(answers: readonly Answer[], from: number, ok: (a: Answer) => boolean): number | null {
  let best: number | null = null;
  for (const a of answers) if (a.sentAt >= from && ok(a) && (best === null || a.receivedAt < best)) best = a.receivedAt;
  return best === null ? null : Math.max(0, best - from);
}

export function faultOutcomes(faults: readonly FaultRecord[], answers: readonly Answer[], loadStart: number): FaultOutcome[] {
  return faults.map((fault) => {
    const failuresDuring: Record<string, number> = {};
    for (const a of answers) {
      if (a.sentAt < fault.startedAt || a.sentAt > fault.endedAt || (a.status !== 0 && a.status < 500)) continue;
      failuresDuring[`${a.op} ${label(a)}`] = (failuresDuring[`${a.op} ${label(a)}`] ?? 0) + 1;
    }
    const gateway = fault.kind === 'gateway-outage' || fault.kind === 'gateway-timeouts';
    return {
      ...fault,
      atSeconds: Math.round((fault.startedAt - loadStart) / 100) / 10,
      durationSeconds: Math.round((fault.endedAt - fault.startedAt) / 100) / 10,
      failuresDuring,
      nextHoldMs: firstAfter(answers, fault.endedAt, (a) => a.op === 'hold' && a.status === 201),
      ...(gateway ? { nextApprovedChargeMs: firstAfter(answers, fault.endedAt, (a) => a.op === 'charge' && a.status === 200) } : {}),
    };
  });
}

const fmt = (n: number): string => n.toLocaleString('en-US');
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export interface SummaryInput {
  title: string;
  context: string[];
  routes: RouteStats[];
  faults: FaultOutcome[];
  skipped: string[];
  invariants: InvariantResult[];
  memory: MemoryTrend | undefined;
  extra: string[];
}

export function markdown(input: SummaryInput): string {
  const lines: string[] = [`## ${input.title}`, '', ...input.context.map((c) => `- ${c}`), ''];
  lines.push('### Faults', '', '| # | fault | at (s) | lasted (s) | what | 5xx / no answer meanwhile | next 201 hold after heal | other recovery |', '|---:|---|---:|---:|---|---|---:|---|');
  input.faults.forEach((f, i) => {
    const felt = Object.entries(f.failuresDuring).map(([k, v]) => `${k}: ${v}`).join(', ') || 'none';
    const other = [
      f.restartMs !== undefined ? `ready again ${(f.restartMs / 1000).toFixed(1)} s after the kill` : '',
      f.outboxDrainedMs !== undefined ? `outbox drained ${(f.outboxDrainedMs / 1000).toFixed(1)} s after the broker's return` : '',
      f.nextApprovedChargeMs !== undefined ? `next approved charge ${f.nextApprovedChargeMs === null ? 'never' : `${(f.nextApprovedChargeMs / 1000).toFixed(1)} s`}` : '',
      f.error ? `INJECTION FAILED: ${f.error}` : '',
    ].filter(Boolean);
    lines.push(
      `| ${i + 1} | ${f.kind} | ${f.atSeconds} | ${f.durationSeconds} | ${cell(f.detail)} | ${cell(felt)} | ${f.nextHoldMs === null ? 'none' : `${fmt(f.nextHoldMs)} ms`} | ${cell(other.join('; '))} |`,
    );
  });
  if (input.skipped.length > 0) lines.push('', `Not injected (no time left in the load): ${input.skipped.join(', ')}.`);
  lines.push('', '### Requests', '', '| route | requests | p50 ms | p99 ms | max ms | statuses |', '|---|---:|---:|---:|---:|---|');
  for (const r of input.routes) {
    const statuses = Object.entries(r.statuses).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}: ${fmt(v)}`).join(', ');
    lines.push(`| ${r.route} | ${fmt(r.requests)} | ${r.p50Ms} | ${r.p99Ms} | ${fmt(r.maxMs)} | ${cell(statuses)} |`);
  }
  lines.push('', '### Invariants', '', '| | group | invariant | detail |', '|---|---|---|---|');
  for (const inv of input.invariants) {
    const mark = inv.inconclusive ? '?' : inv.ok ? 'ok' : '**FAIL**';
    lines.push(`| ${mark} | ${inv.group} | ${cell(inv.name)} | ${cell(inv.detail)} |`);
  }
  const failed = input.invariants.filter((i) => !i.ok);
  for (const inv of failed) {
    if (!inv.examples) continue;
    lines.push('', `Examples for "${inv.name}":`, '```', ...inv.examples.map((e) => JSON.stringify(e)), '```');
  }
  if (input.memory) lines.push('', `Memory: ${input.memory.detail}${input.memory.flagged ? ' — **growth over 20 %**' : ''}.`);
  lines.push(...input.extra.map((e) => `\n${e}`));
  lines.push('', failed.length === 0 ? '**Every invariant holds.**' : `**${failed.length} invariant(s) failed.**`);
  return lines.join('\n');
}
