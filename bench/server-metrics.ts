/**
 * The server's own Prometheus figures over the window (label-less ovation_* series only): how many
 * journal commits the actor engine made, how big its batches were, how long a commit took.
 * Histograms become "<name>.count" and "<name>.avg"; counters their increase. The lock and sql
 * engines publish none of these, so their entries stay empty.
 */
export type MetricsSnapshot = Map<string, number>;

export async function scrapeMetrics(baseUrl: string): Promise<MetricsSnapshot> {
  const snapshot: MetricsSnapshot = new Map();
  try {
    const response = await fetch(`${baseUrl}/metrics`);
    if (response.status !== 200) return snapshot;
    for (const line of (await response.text()).split('\n')) {
      const match = /^(ovation_[a-z0-9_]+) ([0-9.eE+-]+)$/.exec(line);
      if (match) snapshot.set(match[1]!, Number(match[2]));
    }
  } catch {
    // No metrics: nothing to report.
  }
  return snapshot;
}

export function metricsDelta(before: MetricsSnapshot, after: MetricsSnapshot): Record<string, number> {
  const result: Record<string, number> = {};
  for (const [name, value] of after) {
    if (name.endsWith('_sum') || name.endsWith('_bucket')) continue;
    const delta = value - (before.get(name) ?? 0);
    if (name.endsWith('_count')) {
      const base = name.slice(0, -'_count'.length);
      const sum = (after.get(`${base}_sum`) ?? 0) - (before.get(`${base}_sum`) ?? 0);
      result[`${base}.count`] = delta;
      if (delta > 0) result[`${base}.avg`] = Math.round((sum / delta) * 1e6) / 1e6;
    } else if (name.endsWith('_total')) {
      result[name] = delta;
    }
  }
  return result;
}
