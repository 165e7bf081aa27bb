/** How many requests of a route an instance has served, read from its /metrics (every status class). */
export async function requestCount(instanceUrl: string, method: string, route: string): Promise<number> {
  const text = await (await fetch(`${instanceUrl}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('http_request_duration_seconds_count{')) continue;
    if (line.includes(`method="${method}"`) && line.includes(`route="${route}"`)) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
