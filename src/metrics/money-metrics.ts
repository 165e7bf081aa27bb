/**
 * Metrics of the two external systems: the card gateway (breaker state, call outcomes and
 * latency, charges waiting for reconciliation) and the outbox relay to Kafka (lag, throughput).
 * Lag figures read the database at scrape time, once per scrape, with the pool's statement timeout.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { BreakerState, GatewayObserver } from '../payments/guarded-gateway';
import type { RelayObserver } from '../outbox/outbox-relay';
import { guardedScrapeRead } from './once-per-scrape';

export interface MoneySources {
  breakerState(): BreakerState;
  pendingCharges(): Promise<{ count: number; oldestAgeSeconds: number }>;
  outboxLag(): Promise<{ pending: number; oldestAgeSeconds: number }>;
}

export interface MoneyMetrics {
  gateway: GatewayObserver;
  relay: RelayObserver;
  chargeAnswered(status: 'APPROVED' | 'DECLINED' | 'PENDING' | 'UNAVAILABLE'): void;
  chargeReconciled(status: 'APPROVED' | 'DECLINED'): void;
}

const BREAKER_VALUE: Record<BreakerState, number> = { closed: 0, 'half-open': 1, open: 2 };

/** `readFailed` counts a store read that a scrape had to leave out (ovation_scrape_read_failures_total). */
export function registerMoneyMetrics(registry: Registry, sources: MoneySources, readFailed: (source: 'charges' | 'outbox') => void): MoneyMetrics {
  const registers = [registry];
  new Gauge({
    name: 'ovation_breaker_state',
    help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open',
    labelNames: ['breaker'] as const,
    registers,
    collect() {
      this.set({ breaker: 'payment_gateway' }, BREAKER_VALUE[sources.breakerState()]);
    },
  });
  const calls = new Counter({
    name: 'ovation_gateway_calls_total',
    help: 'Payment gateway calls by operation and outcome (ok, unavailable, unknown, rejected_open, rejected_bulkhead)',
    labelNames: ['operation', 'outcome'] as const,
    registers,
  });
  const callSeconds = new Histogram({
    name: 'ovation_gateway_call_seconds',
    help: 'Payment gateway call duration, all attempts included',
    labelNames: ['operation'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const charges = new Counter({
    name: 'ovation_charges_total',
    help: 'Balance charges answered, by status (APPROVED, DECLINED, PENDING, UNAVAILABLE)',
    labelNames: ['status'] as const,
    registers,
  });
  const reconciled = new Counter({
    name: 'ovation_charges_reconciled_total',
    help: 'PENDING charges settled by the reconciler, by status',
    labelNames: ['status'] as const,
    registers,
  });
  // When the database does not answer in time these gauges read NaN (prom-client cannot leave an
  // unlabelled gauge out, and a stale value would be a lie) and the failure is counted; the rest
  // of /metrics is still served.
  const lagGauge = <T>(name: string, help: string, read: () => Promise<T | undefined>, value: (figures: T) => number) =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        const figures = await read();
        this.set(figures === undefined ? Number.NaN : value(figures));
      },
    });
  const pendingCharges = guardedScrapeRead(sources.pendingCharges, () => readFailed('charges'));
  lagGauge('ovation_charges_pending', 'Charges whose gateway outcome is not settled yet', pendingCharges, (c) => c.count);
  lagGauge('ovation_charges_pending_oldest_age_seconds', 'Age of the oldest PENDING charge (0 when none)', pendingCharges, (c) => c.oldestAgeSeconds);
  const outboxLag = guardedScrapeRead(sources.outboxLag, () => readFailed('outbox'));
  lagGauge('ovation_outbox_pending', 'Outbox records not yet published to Kafka', outboxLag, (o) => o.pending);
  lagGauge('ovation_outbox_oldest_age_seconds', 'Age of the oldest unpublished outbox record (0 when none)', outboxLag, (o) => o.oldestAgeSeconds);
  const published = new Counter({ name: 'ovation_outbox_published_total', help: 'Outbox records published to Kafka', registers });
  const publishSeconds = new Histogram({
    name: 'ovation_outbox_publish_seconds',
    help: 'Duration of one relay batch publish (until the broker acknowledged it)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers,
  });
  const publishFailures = new Counter({
    name: 'ovation_outbox_publish_failures_total',
    help: 'Relay batches that failed (Kafka or the database unavailable); retried with backoff',
    registers,
  });
  // Counters with labels exist from the start (0 is a value).
  for (const operation of ['charge', 'lookup', 'cancel']) callSeconds.zero({ operation });
  for (const status of ['APPROVED', 'DECLINED', 'PENDING', 'UNAVAILABLE']) charges.inc({ status }, 0);
  for (const status of ['APPROVED', 'DECLINED']) reconciled.inc({ status }, 0);

  return {
    gateway: {
      call(operation, outcome, seconds) {
        calls.inc({ operation, outcome });
        callSeconds.observe({ operation }, seconds);
      },
    },
    relay: {
      published(records, seconds) {
        published.inc(records);
        publishSeconds.observe(seconds);
      },
      failed() {
        publishFailures.inc();
      },
    },
    chargeAnswered: (status) => charges.inc({ status }),
    chargeReconciled: (status) => reconciled.inc({ status }),
  };
}
