/**
 * The waiting line per concert, read once per scrape from where it lives (Redis or this
 * process). With Redis every replica reports the same figures: alerts take max by concert.
 * A failed or slow read (Redis down) leaves the line's series out of that scrape and is counted
 * (ovation_scrape_read_failures_total{source="queue"}); the rest of /metrics stays readable.
 * ACTIVE counts only tokens still within their TTL: one past it that no admission pass has ended
 * yet (the loop stopped) is room, and the stalled-admission alert must see that room.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { LineStats, TokenQueue } from '../queue/types';
import { guardedScrapeRead } from './once-per-scrape';

export function registerQueueMetrics(registry: Registry, queue: TokenQueue, maxActive: number, onReadFailed: () => void): void {
  const registers = [registry];
  const read = guardedScrapeRead(() => queue.stats(), onReadFailed);
  const perConcert = (name: string, help: string, value: (line: LineStats) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['concert_id'] as const,
      registers,
      async collect() {
        const lines = await read();
        this.reset(); // when the read failed, last scrape's values would be a lie: absent is honest
        if (!lines) return;
        for (const line of lines) this.set({ concert_id: line.concertId }, value(line));
      },
    });
  perConcert('ovation_queue_prequeue', 'Tokens issued before the on-sale time, not ranked until the draw, per concert', (line) => line.prequeue);
  perConcert('ovation_queue_waiting', 'Tokens waiting in line (ranked), per concert', (line) => line.waiting);
  perConcert('ovation_queue_active', 'ACTIVE tokens, per concert', (line) => line.active);
  new Counter({
    name: 'ovation_queue_admitted_total',
    help: 'Tokens admitted (made ACTIVE, walk-ins included), per concert; resets when the store restarts',
    labelNames: ['concert_id'] as const,
    registers,
    async collect() {
      const lines = await read();
      this.reset();
      if (!lines) return;
      for (const line of lines) this.inc({ concert_id: line.concertId }, line.admittedTotal);
    },
  });
  new Gauge({
    name: 'ovation_queue_max_active',
    help: 'QUEUE_MAX_ACTIVE: ACTIVE tokens allowed per concert',
    registers,
    collect() {
      this.set(maxActive);
    },
  });
}
