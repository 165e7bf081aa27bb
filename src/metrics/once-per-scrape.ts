/**
 * Reads `source` once for all the gauges of one scrape: prom-client starts every collect of a
 * scrape together (synchronously, in one loop), so they share the read in flight; the next scrape
 * reads afresh. This is how "one scrape computes each figure once" holds.
 */
export function oncePerScrape<T>(source: () => Promise<T> | T): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  return () => (inFlight ??= Promise.resolve().then(source).finally(() => (inFlight = undefined)));
}
