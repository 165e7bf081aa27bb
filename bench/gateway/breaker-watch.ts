/**
 * Watches the server's circuit breaker over a window: scrapes ovation_breaker_state every
 * `everyMs` and keeps the worst state seen, so a breaker that opened and closed again between the
 * window's edges is still caught (0 closed, 1 half-open, 2 open).
 */
import { family, scrapeSeries } from './prometheus-text';

export interface BreakerWatch {
  stop(): Promise<{ samples: number; worst: number; notClosedSamples: number }>;
}

export function watchBreaker(baseUrl: string, everyMs: number): BreakerWatch {
  let running = true;
  let samples = 0;
  let worst = 0;
  let notClosedSamples = 0;
  const loop = (async () => {
    while (running) {
      const state = Object.values(family(await scrapeSeries(baseUrl), 'ovation_breaker_state'))[0];
      if (state !== undefined) {
        samples++;
        worst = Math.max(worst, state);
        if (state !== 0) notClosedSamples++;
      }
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { samples, worst, notClosedSamples };
    },
  };
}
