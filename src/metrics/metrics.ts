/**
 * One prom-client registry per app instance (tests boot several apps in one process). Besides
 * the process defaults: HTTP latency, the journal, the actors (actor-metrics.ts), payments; the
 * queue, the links (queue-metrics.ts, infra-metrics.ts) and money (money-metrics.ts) are
 * registered by the composition root, which owns what they read. Every series a dashboard or an
 * alert reads exists from the start (0 is a value).
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { registerActorMetrics, type ActorMetrics } from './actor-metrics';

/** What a POST /v1/payments came to: CONFIRMED (or its replay), or the problem code it answered. */
export type PaymentOutcome = string;

export interface Metrics extends ActorMetrics {
  registry: Registry;
  /** One HTTP request answered: by route template (never the raw URL) and status class (2xx…5xx). */
  httpAnswered(method: string, route: string, statusCode: number, seconds: number): void;
  journalBatchSize: Histogram<string>;
  journalCommitSeconds: Histogram<string>;
  journalFailures: Counter<string>;
  actorRecoverySeconds: Histogram<string>;
  paymentAnswered(outcome: PaymentOutcome, seconds: number): void;
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
    help: 'POST /v1/payments from request to answer, by outcome (CONFIRMED or the problem code)',
    labelNames: ['outcome'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  });
  const paymentFailures = new Counter({
    name: 'ovation_payment_failures_total',
    help: 'Payments that did not confirm, by problem code (INSUFFICIENT_BALANCE, RESERVATION_NOT_HELD, SERVICE_UNAVAILABLE, …)',
    labelNames: ['code'] as const,
    registers,
  });
  paymentSeconds.zero({ outcome: 'CONFIRMED' });
  for (const code of ['INSUFFICIENT_BALANCE', 'RESERVATION_NOT_HELD', 'SERVICE_UNAVAILABLE', 'OUTCOME_UNKNOWN']) paymentFailures.inc({ code }, 0);

  return {
    registry,
    httpAnswered(method, route, statusCode, seconds) {
      httpDuration.observe({ method, route, status_class: `${Math.floor(statusCode / 100)}xx` }, seconds);
    },
    journalBatchSize,
    journalCommitSeconds,
    journalFailures,
    actorRecoverySeconds,
    paymentAnswered(outcome, seconds) {
      paymentSeconds.observe({ outcome }, seconds);
      if (outcome !== 'CONFIRMED') paymentFailures.inc({ code: outcome });
    },
    ...registerActorMetrics(registry),
  };
}
