/**
 * One prom-client registry per app instance (tests boot several apps in one process). Besides
 * the process defaults: HTTP latency, the journal, the actors (actor-metrics.ts), payments; the
 * queue, the links (queue-metrics.ts, infra-metrics.ts) and money (money-metrics.ts) are
 * registered by the composition root, which owns what they read. Every series a dashboard or an
 * alert reads exists from the start (0 is a value).
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { registerActorMetrics, type ActorMetrics } from './actor-metrics';
import { registerClusterMetrics, type ClusterMetrics } from './cluster-metrics';

/** Stores a scrape reads (gauges of lines, lags and backlogs). */
export type ScrapeSource = 'queue' | 'outbox' | 'charges';

export interface Metrics extends ActorMetrics {
  registry: Registry;
  /** One HTTP request answered: by route template (never the raw URL) and status class (2xx…5xx). */
  httpAnswered(method: string, route: string, statusCode: number, seconds: number): void;
  journalBatchSize: Histogram<string>;
  journalCommitSeconds: Histogram<string>;
  journalFailures: Counter<string>;
  actorRecoverySeconds: Histogram<string>;
  /** A POST /v1/payments answered: CONFIRMED, or the problem code; `replayed` when an earlier attempt's answer was returned. */
  paymentAnswered(outcome: string, seconds: number, replayed: boolean): void;
  /** A scrape left a store's figures out: it did not answer in time. */
  scrapeReadFailed(source: ScrapeSource): void;
  /** The waiting line's admission pass failed (its store did not answer). */
  admissionFailed(): void;
  cluster: ClusterMetrics;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route template and status class',
    labelNames: ['method', 'route', 'status_class'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const journalBatchSize = new Histogram({
    name: 'ovation_journal_batch_size',
    help: 'Events per journal commit (group commit batch size)',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    registers,
  });
  const journalCommitSeconds = new Histogram({
    name: 'ovation_journal_commit_seconds',
    help: 'Duration of one journal batch commit',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers,
  });
  const journalFailures = new Counter({
    name: 'ovation_journal_commit_failures_total',
    help: 'Journal commits that failed (the actor then recovers from the database)',
    registers,
  });
  const actorRecoverySeconds = new Histogram({
    name: 'ovation_actor_recovery_seconds',
    help: 'Time to rebuild a schedule actor from snapshot + journal',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });
  const paymentSeconds = new Histogram({
    name: 'ovation_payment_seconds',
    help: 'POST /v1/payments from request to answer, by outcome (CONFIRMED or the problem code); replays of an earlier answer not included',
    labelNames: ['outcome'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });
  const paymentFailures = new Counter({
    name: 'ovation_payment_failures_total',
    help: 'Payments that did not confirm, by outcome (the problem code: INSUFFICIENT_BALANCE, RESERVATION_NOT_HELD, SERVICE_UNAVAILABLE, …); replays not included',
    labelNames: ['outcome'] as const,
    registers,
  });
  const paymentReplays = new Counter({
    name: 'ovation_payment_replays_total',
    help: 'Payments answered with an earlier attempt\'s answer (same Idempotency-Key)',
    registers,
  });
  const scrapeFailures = new Counter({
    name: 'ovation_scrape_read_failures_total',
    help: 'Scrapes that left a store\'s figures out because it did not answer within 1 s (queue: Redis or the line; outbox, charges: PostgreSQL)',
    labelNames: ['source'] as const,
    registers,
  });
  const admissionFailures = new Counter({
    name: 'ovation_queue_admission_failures_total',
    help: 'Admission passes of the waiting line that failed (its store did not answer); nobody is admitted meanwhile',
    registers,
  });
  paymentSeconds.zero({ outcome: 'CONFIRMED' });
  for (const outcome of ['INSUFFICIENT_BALANCE', 'RESERVATION_NOT_HELD', 'SERVICE_UNAVAILABLE', 'OUTCOME_UNKNOWN']) paymentFailures.inc({ outcome }, 0);
  for (const source of ['queue', 'outbox', 'charges'] as const) scrapeFailures.inc({ source }, 0);

  return {
    registry,
    httpAnswered(method, route, statusCode, seconds) {
      httpDuration.observe({ method, route, status_class: `${Math.floor(statusCode / 100)}xx` }, seconds);
    },
    journalBatchSize,
    journalCommitSeconds,
    journalFailures,
    actorRecoverySeconds,
    paymentAnswered(outcome, seconds, replayed) {
      if (replayed) return paymentReplays.inc();
      paymentSeconds.observe({ outcome }, seconds);
      if (outcome !== 'CONFIRMED') paymentFailures.inc({ outcome });
    },
    scrapeReadFailed: (source) => scrapeFailures.inc({ source }),
    admissionFailed: () => admissionFailures.inc(),
    cluster: registerClusterMetrics(registry),
    ...registerActorMetrics(registry),
  };
}
