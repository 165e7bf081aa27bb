/**
 * One prom-client registry per app instance (tests boot several apps in one process). Besides
 * the process defaults: HTTP latency, and what operators need to read the actors.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ReservationEngine } from '../engine/reservation-engine';

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  journalBatchSize: Histogram<string>;
  journalCommitSeconds: Histogram<string>;
  journalFailures: Counter<string>;
  actorRecoverySeconds: Histogram<string>;
  /** Gauges that read the engine at scrape time. */
  observeEngine(engine: ReservationEngine): void;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by route and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const journalBatchSize = new Histogram({
    name: 'ovation_journal_batch_events',
    help: 'Events per journal commit (group commit batch size)',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    registers: [registry],
  });
  const journalCommitSeconds = new Histogram({
    name: 'ovation_journal_commit_seconds',
    help: 'Duration of one journal batch commit',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const journalFailures = new Counter({
    name: 'ovation_journal_commit_failures_total',
    help: 'Journal commits that failed (the actor then recovers from the database)',
    registers: [registry],
  });
  const actorRecoverySeconds = new Histogram({
    name: 'ovation_actor_recovery_seconds',
    help: 'Time to rebuild a schedule actor from snapshot + journal',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });

  const observeEngine = (engine: ReservationEngine): void => {
    const perActor = (name: string, help: string, read: (a: ReturnType<ReservationEngine['actors']>[number]) => number) =>
      new Gauge({
        name,
        help,
        labelNames: ['schedule_id'] as const,
        registers: [registry],
        collect() {
          this.reset();
          for (const actor of engine.actors()) this.set({ schedule_id: actor.scheduleId }, read(actor));
        },
      });
    perActor('ovation_actor_mailbox_depth', 'Messages waiting in a schedule actor mailbox', (a) => a.mailboxDepth);
    perActor('ovation_actor_held_seats', 'Seats held (committed) per schedule actor', (a) => a.heldSeats);
    perActor('ovation_actor_sold_seats', 'Seats sold per schedule actor', (a) => a.soldSeats);
    perActor('ovation_actor_journal_seq', 'Last journal sequence number per schedule actor', (a) => a.journalSeq);
    perActor('ovation_actor_snapshot_age_seconds', 'Seconds since the last snapshot per schedule actor', (a) =>
      a.lastSnapshotAt === null ? -1 : (Date.now() - Date.parse(a.lastSnapshotAt)) / 1000,
    );
    new Gauge({
      name: 'ovation_actors_live',
      help: 'Schedule actors in memory',
      registers: [registry],
      collect() {
        this.set(engine.actors().length);
      },
    });
  };

  return {
    registry,
    httpDuration,
    journalBatchSize,
    journalCommitSeconds,
    journalFailures,
    actorRecoverySeconds,
    observeEngine,
  };
}
