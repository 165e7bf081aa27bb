/** Part of the composition root: picks the reservation engine named by RESERVATION_ENGINE (the port in src/engine knows none of them). */
import type { Pool } from 'pg';
import type Redis from 'ioredis';
import type { Config } from '../config';
import { ActorEngine } from '../actors/actor-engine';
import { LockEngine } from '../baselines/lock-engine';
import { SqlEngine } from '../baselines/sql-engine';
import type { Metrics } from '../metrics/metrics';
import type { CatalogueRepository } from '../persistence/catalogue-repository';
import type { ReservationEngine } from '../engine/reservation-engine';

export interface EngineDeps {
  config: Config;
  db: Pool;
  /** Undefined in embedded mode (REDIS_URL unset); only the lock engine needs it. */
  redis: Redis | undefined;
  metrics: Metrics;
  catalogue: CatalogueRepository;
}

export function createEngine({ config, db, redis, metrics, catalogue }: EngineDeps): ReservationEngine {
  const baseline = {
    db,
    holdTtlMs: config.holdTtlSeconds * 1000,
    holdMaxMs: config.holdMaxSeconds * 1000,
    maxSeatsPerUser: config.maxSeatsPerHold,
    outboxTopic: config.kafkaTopicConfirmed,
    // Expired holds are freed within a quarter of their life (at most a second late).
    sweepIntervalMs: Math.min(1_000, (config.holdTtlSeconds * 1000) / 4),
  };
  switch (config.engine) {
    case 'sql':
      return new SqlEngine(baseline);
    case 'lock':
      // loadConfig refuses RESERVATION_ENGINE=lock without REDIS_URL; this guards other callers.
      if (!redis) throw new Error('the lock engine needs Redis: set REDIS_URL');
      return new LockEngine({ ...baseline, redis, keyPrefix: config.redisKeyPrefix });
    case 'actor':
      return new ActorEngine({
        db,
        loadCatalogue: (scheduleId) => catalogue.loadSeatCatalogue(scheduleId),
        settings: {
          holdTtlMs: config.holdTtlSeconds * 1000,
          holdMaxMs: config.holdMaxSeconds * 1000,
          maxSeatsPerUser: config.maxSeatsPerHold,
          outboxTopic: config.kafkaTopicConfirmed,
          snapshotEveryEvents: config.actor.snapshotEveryEvents,
          snapshotEveryMs: config.actor.snapshotEverySeconds * 1000,
          writer: { maxBatch: config.actor.journalMaxBatch, lingerMs: config.actor.journalFlushMs },
        },
        commitsInFlight: config.actor.journalCommitsInFlight,
        mailboxCapacity: config.actor.mailboxCapacity,
        requestTimeoutMs: config.actor.requestTimeoutMs,
        idleMs: config.actor.idleMs,
        observer: {
          ...metrics.observer,
          committed: (events, _schedules, seconds) => {
            metrics.journalBatchSize.observe(events);
            metrics.journalCommitSeconds.observe(seconds);
          },
          failed: () => metrics.journalFailures.inc(),
          recovered: (_scheduleId, seconds) => metrics.actorRecoverySeconds.observe(seconds),
        },
      });
    default: {
      const unknown: never = config.engine;
      throw new Error(`unknown engine ${String(unknown)}`);
    }
  }
}
