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
import { randomUUID } from 'node:crypto';
import type { ClusterConfig } from '../config';
import type { FenceSource } from '../actors/schedule-messages';
import { ClusterEngine } from '../cluster/cluster-engine';
import { ClusterNode } from '../cluster/cluster-node';
import { EngineForwarder } from '../cluster/engine-forwarder';
import { joinOwnershipGroup } from '../cluster/kafka-membership';
import { DB_TIMEOUTS } from '../persistence/database';

export interface EngineDeps {
  config: Config;
  db: Pool;
  /** Undefined in embedded mode (REDIS_URL unset); only the lock engine needs it. */
  redis: Redis | undefined;
  metrics: Metrics;
  catalogue: CatalogueRepository;
  /** For the cluster's membership events (the app's logger, bound late by the composition root). */
  log: (level: 'info' | 'warn' | 'error', message: string, extra?: object) => void;
}

export function createEngine(deps: EngineDeps): ReservationEngine {
  const { config, db, redis } = deps;
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
      return config.cluster ? clusterEngine(deps, config.cluster) : actorEngine(deps);
    default: {
      const unknown: never = config.engine;
      throw new Error(`unknown engine ${String(unknown)}`);
    }
  }
}

function actorEngine({ config, db, metrics, catalogue }: EngineDeps, fencing?: FenceSource): ActorEngine {
  return new ActorEngine({
    ...(fencing ? { fencing } : {}),
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
}

/**
 * A cluster member (README, "Several instances"): its own actors fenced by the partitions it
 * owns, and a forwarder to the other members. The node needs the actors and the actors need the
 * node (their fence): the node reaches the engine through a closure set right after.
 */
function clusterEngine(deps: EngineDeps, cluster: ClusterConfig): ClusterEngine {
  const { config, db, metrics, log } = deps;
  let local: ActorEngine | undefined;
  const node = new ClusterNode({
    db,
    selfUrl: cluster.advertiseUrl,
    incarnation: randomUUID(),
    partitions: cluster.partitions,
    session: cluster,
    join: (events) =>
      joinOwnershipGroup(
        {
          brokers: config.kafkaBrokers,
          clientId: `ovation-owner-${new URL(cluster.advertiseUrl).host}`,
          groupId: cluster.groupId,
          topic: cluster.topic,
          partitions: cluster.partitions,
          sessionTimeoutMs: cluster.sessionTimeoutMs,
          heartbeatIntervalMs: cluster.heartbeatIntervalMs,
          log,
        },
        events,
      ),
    directoryRefreshMs: 1_000,
    actors: {
      releaseSchedules: (matches) => local!.releaseSchedules(matches),
      wakeHolders: (matches) => local!.wakeHolders(matches),
    },
    log,
    observer: metrics.cluster,
  });
  local = actorEngine(deps, node);
  metrics.cluster.observeNode(() => {
    const { state, ownedPartitions, leaseLive } = node.status().self;
    return { state, ownedPartitions: ownedPartitions.length, leaseLive, partitions: cluster.partitions };
  });
  const forwarder = new EngineForwarder({
    selfUrl: cluster.advertiseUrl,
    secret: cluster.secret,
    connectTimeoutMs: 1_000,
    // The owner answers a decided command within its own deadline (see ActorEngine.ask); plus the hop.
    answerTimeoutMs: config.actor.requestTimeoutMs + 2 * DB_TIMEOUTS.queryMs + 2_000,
    connectionsPerOwner: 32,
    observe: metrics.cluster.forwarded,
  });
  return new ClusterEngine(local, node, forwarder, db);
}
