import { within } from '../within';

/**
 * Reads `source` once for all the gauges of one scrape: prom-client starts every collect of a
 * scrape together (synchronously, in one loop), so they share the read in flight; the next scrape
 * reads afresh. This is how "one scrape computes each figure once" holds.
 */
export function oncePerScrape<T>(source: () => Promise<T> | T): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  return () => (inFlight ??= Promise.resolve().then(source).finally(() => (inFlight = undefined)));
}

/** How long a scrape waits for one store before it leaves that store's figures out. */
export const SCRAPE_READ_TIMEOUT_MS = 1_000;

/**
 * A read of a store (PostgreSQL, Redis) for a scrape: once per scrape, bounded by `timeoutMs`,
 * and never failing — a store that does not answer gives `undefined` (its gauges are then left
 * out of that scrape, and `failed()` counts it) instead of failing the whole of /metrics, which
 * would hide every other figure exactly when operators need them (and read as "instance down").
 */
export function guardedScrapeRead<T>(read: () => Promise<T>, failed: () => void, timeoutMs = SCRAPE_READ_TIMEOUT_MS): () => Promise<T | undefined> {
  return oncePerScrape(async () => {
    try {
      return await within(timeoutMs, read);
    } catch {
      failed();
      return undefined;
    }
  });
}
