/**
 * The server's /metrics with labels kept (bench/server-metrics.ts keeps label-less series only):
 * `name{label="value",…} number` lines of the ovation_* families, keyed by the series text as
 * printed, so `ovation_gateway_calls_total{operation="charge",outcome="ok"}` can be read directly.
 */
export type Series = Map<string, number>;

export async function scrapeSeries(baseUrl: string): Promise<Series> {
  const series: Series = new Map();
  const response = await fetch(`${baseUrl}/metrics`);
  if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}`);
  for (const line of (await response.text()).split('\n')) {
    const match = /^(ovation_[a-z0-9_]+(?:\{[^}]*\})?) ([0-9.eE+-]+|NaN)$/.exec(line);
    if (match) series.set(match[1]!, Number(match[2]));
  }
  return series;
}

/** The series of one family as { "<labels>": value } ("" for no labels), e.g. by outcome. */
export function family(series: Series, name: string): Record<string, number> {
  const result: Record<string, number> = {};
  for (const [key, value] of series) {
    if (key === name) result[''] = value;
    else if (key.startsWith(`${name}{`)) result[key.slice(name.length + 1, -1)] = value;
  }
  return result;
}

/** after − before per series of one family (counters over a window). */
export function familyDelta(before: Series, after: Series, name: string): Record<string, number> {
  const start = family(before, name);
  return Object.fromEntries(Object.entries(family(after, name)).map(([labels, value]) => [labels, value - (start[labels] ?? 0)]));
}
