/**
 * The composition root: builds every resource and service from the configuration, and closes
 * them in the order that loses nothing: stop taking requests and finish those in flight, drain
 * the engine (every accepted command committed and answered), then the queue, Redis, the pool.
 * With REDIS_URL unset (embedded mode) there is no Redis client: the waiting line and the rate-limit
 * counters live in this process (src/queue/memory-token-queue.ts, memory-rate-limiter.ts).
 */
import type { FastifyInstance } from 'fastify';
import Redis from 'ioredis';
import type { Config } from './config';
import { createEngine } from './compose/create-engine';
import { ClusterEngine } from './cluster/cluster-engine';
import { openDatabase } from './compose/open-database';
import { gatewayBudgetMs, paymentParts } from './compose/payment-parts';
import { REDIS_OPTIONS } from './compose/redis-options';
import { buildApp } from './http/app';
import type { AppServices } from './http/app-services';
import { createMetrics } from './metrics/metrics';
import { CatalogueRepository } from './persistence/catalogue-repository';
import { createPool } from './persistence/database';
import { IdempotencyStore } from './persistence/idempotency-store';
import { migrate } from './persistence/migrate';
import { ReservationRepository } from './persistence/reservation-repository';
import { createOutboxRelay } from './outbox/outbox-relay';
import { createKafkaPublisher } from './outbox/kafka-publisher';
import type { PaymentGateway } from './payments/payment-gateway';
import { registerMoneyMetrics } from './metrics/money-metrics';
import { registerInfraMetrics } from './metrics/infra-metrics';
import { registerQueueMetrics } from './metrics/queue-metrics';
import { createOpsSnapshot } from './ops/ops-snapshot';
import { BalanceRepository } from './persistence/balance-repository';
import { OUTBOX_SQL } from './persistence/outbox-store';
import { createQueueDrawStore } from './persistence/queue-draw-store';
import { createMemoryRateLimiter } from './queue/memory-rate-limiter';
import { createMemoryTokenQueue } from './queue/memory-token-queue';
import { createRateLimiter } from './queue/rate-limiter';
import { createTokenQueue } from './queue/token-queue';
import { BalanceService } from './services/balance-service';
import { ChargeService } from './services/charge-service';
import { PaymentService } from './services/payment-service';
import { QueueDrawService } from './services/queue-draw-service';
import { ReservationService } from './services/reservation-service';
import { ScheduleDirectory } from './services/schedule-directory';
import { SeatHistoryService } from './services/seat-history-service';
import { TokenGuard } from './services/token-guard';

export interface Ovation {
  app: FastifyInstance;
  services: AppServices;
}

export interface RuntimeOverrides {
  gateway?: PaymentGateway;
  poolSize?: number;
}

export async function createOvation(config: Config, overrides: RuntimeOverrides = {}): Promise<Ovation> {
  const database = await openDatabase(config);
  const db = createPool(database.url, overrides.poolSize ?? 20);
  const redis = config.redisUrl === undefined ? undefined : new Redis(config.redisUrl, REDIS_OPTIONS);
  const metrics = createMetrics();
  const infraMetrics = registerInfraMetrics(metrics.registry, db);
  // Reported per command (503), by /health/ready and by ovation_redis_errors_total{source="connection"}.
  redis?.on('error', () => infraMetrics.redisError('connection'));
  try {
    await migrate(db);
    if (redis) {
      await redis.connect();
      await redis.ping();
    }
  } catch (error) {
    await db.end().catch(() => undefined);
    redis?.disconnect();
    await database.close();
    throw error;
  }

  const catalogue = new CatalogueRepository(db);
  const schedules = new ScheduleDirectory(catalogue);
  const reservationsRepo = new ReservationRepository(db);
  const draws = createQueueDrawStore(db);
  const queueSettings = {
    maxActive: config.queueMaxActive,
    activeTtlSeconds: config.queueActiveTtlSeconds,
    waitingTtlSeconds: config.queueWaitingTtlSeconds,
    onAdmissionError: (error: unknown) => {
      metrics.admissionFailed();
      app.log.warn({ err: error }, 'waiting line: admission pass failed; nobody is admitted until it succeeds');
    },
    draws,
  };
  const queue = redis ? createTokenQueue({ redis, keyPrefix: config.redisKeyPrefix, ...queueSettings }) : createMemoryTokenQueue(queueSettings);
  const rateLimiter = redis ? createRateLimiter({ redis, keyPrefix: config.redisKeyPrefix }) : createMemoryRateLimiter();
  const tokens = new TokenGuard(queue, config.queueTokenCacheMs);
  const engine = createEngine({
    config,
    db,
    redis,
    metrics,
    catalogue,
    log: (level, message, extra) => app.log[level](extra ?? {}, message),
  });
  metrics.observeEngine(engine, config.metricsTopActors);
  registerQueueMetrics(metrics.registry, queue, config.queueMaxActive, () => metrics.scrapeReadFailed('queue'));
  const { gateway, charges, reconciler } = paymentParts(config, db, overrides.gateway);
  const outboxLag = async () => {
    const { rows } = await db.query<{ pending: number; oldest: number }>(OUTBOX_SQL.lag);
    return { pending: rows[0]!.pending, oldestAgeSeconds: rows[0]!.oldest };
  };
  const moneyMetrics = registerMoneyMetrics(metrics.registry, {
    breakerState: () => gateway.state,
    pendingCharges: () => charges.pendingSummary(),
    outboxLag,
  }, metrics.scrapeReadFailed);
  gateway.observe(moneyMetrics.gateway);
  const relay =
    config.kafkaBrokers.length === 0
      ? undefined
      : createOutboxRelay({
          db,
          publisher: createKafkaPublisher({
            brokers: config.kafkaBrokers,
            clientId: 'ovation-outbox',
            timeoutMs: config.outbox.publishTimeoutMs,
            log: (level, message, extra) => app.log[level](extra ?? {}, message),
          }),
          batchSize: config.outbox.batchSize,
          idlePollMs: config.outbox.idlePollMs,
          retentionHours: config.outbox.retentionHours,
          log: (level, message, error) => app.log[level]({ err: error }, message),
          observer: moneyMetrics.relay,
        });
  const balancesRepo = new BalanceRepository(db);

  const services: AppServices = {
    config,
    modes: { database: database.mode, queue: redis ? 'redis' : 'memory', outbox: relay ? 'kafka' : 'off' },
    db,
    redis,
    metrics,
    infraMetrics,
    engine,
    cluster: engine instanceof ClusterEngine ? engine : undefined,
    queue,
    rateLimiter,
    tokens,
    catalogue,
    schedules,
    reservations: new ReservationService(engine, schedules, reservationsRepo, tokens, config.maxSeatsPerHold),
    seatHistory: new SeatHistoryService(engine, schedules),
    balances: new BalanceService(balancesRepo),
    charges: new ChargeService(
      charges,
      balancesRepo,
      gateway,
      { requestBudgetMs: gatewayBudgetMs(config), reconcileDelayMs: config.chargeReconcileIntervalMs },
      Math.ceil(config.gateway.breakerHalfOpenAfterMs / 1000),
      moneyMetrics.chargeAnswered,
    ),
    gateway,
    reconciler: reconciler(
      (error, chargeId) => app.log.warn({ err: error, chargeId }, 'charge reconciliation failed; will ask again'),
      moneyMetrics.chargeReconciled,
    ),
    relay,
    opsSnapshot: createOpsSnapshot({
      engine,
      queue,
      relay: relay ? 'kafka' : 'off',
      outboxLag,
      breakerState: () => gateway.state,
      pendingCharges: () => charges.pendingSummary(),
    }),
    payments: new PaymentService(
      engine,
      schedules,
      reservationsRepo,
      new IdempotencyStore(db),
      tokens,
      queue,
      (error) => app.log.warn({ err: error }, 'token expiry after payment failed; it ends at its TTL'),
      () => relay?.nudge(),
    ),
    queueDraws: new QueueDrawService(schedules, draws),
  };

  const app = await buildApp(services);
  app.addHook('onClose', async () => {
    await engine.stop();
    await services.reconciler.stop();
    await relay?.stop();
    await queue.stop();
    await redis?.quit().catch(() => redis.disconnect());
    await db.end();
    await database.close();
  });
  await engine.start();
  queue.start();
  services.reconciler.start();
  relay?.start();
  if (config.gateway.url === undefined) app.log.info('payment gateway: built-in sandbox (approves every charge); set PAYMENT_GATEWAY_URL for a real one');
  if (relay === undefined) app.log.info('outbox relay: off (KAFKA_BROKERS unset); confirmations wait in the outbox table');
  return { app, services };
}
