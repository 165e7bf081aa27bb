/**
 * The composition root: builds every resource and service from the configuration, and closes
 * them in the order that loses nothing: stop taking requests and finish those in flight, drain
 * the engine (every accepted command committed and answered), then the queue, Redis, the pool.
 */
import type { FastifyInstance } from 'fastify';
import Redis from 'ioredis';
import type { Config } from './config';
import { createEngine } from './engine/create-engine';
import { buildApp } from './http/app';
import type { AppServices } from './http/app-services';
import { createMetrics } from './metrics/metrics';
import { CatalogueRepository } from './persistence/catalogue-repository';
import { createPool } from './persistence/database';
import { ensureDatabase } from './persistence/ensure-database';
import { IdempotencyStore } from './persistence/idempotency-store';
import { migrate } from './persistence/migrate';
import { ReservationRepository } from './persistence/reservation-repository';
import type { PaymentGateway } from './payments/payment-gateway';
import { SandboxGateway } from './payments/sandbox-gateway';
import { createTokenQueue } from './queue/token-queue';
import { BalanceService } from './services/balance-service';
import { PaymentService } from './services/payment-service';
import { ReservationService } from './services/reservation-service';
import { ScheduleDirectory } from './services/schedule-directory';
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
  await ensureDatabase(config.databaseUrl);
  const db = createPool(config.databaseUrl, overrides.poolSize ?? 20);
  const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 2, enableAutoPipelining: true });
  try {
    await migrate(db);
    await redis.ping();
  } catch (error) {
    await db.end().catch(() => undefined);
    redis.disconnect();
    throw error;
  }

  const metrics = createMetrics();
  const catalogue = new CatalogueRepository(db);
  const schedules = new ScheduleDirectory(catalogue);
  const reservationsRepo = new ReservationRepository(db);
  const queue = createTokenQueue({
    redis,
    keyPrefix: config.redisKeyPrefix,
    maxActive: config.queueMaxActive,
    activeTtlSeconds: config.queueActiveTtlSeconds,
  });
  const tokens = new TokenGuard(queue, config.queueTokenCacheMs);
  const engine = createEngine({ config, db, redis, metrics, schedules });
  metrics.observeEngine(engine);
  const gateway = overrides.gateway ?? new SandboxGateway();

  const services: AppServices = {
    config,
    db,
    redis,
    metrics,
    engine,
    queue,
    tokens,
    catalogue,
    schedules,
    reservations: new ReservationService(engine, schedules, reservationsRepo, tokens, config.maxSeatsPerHold),
    balances: new BalanceService(db, gateway),
    payments: new PaymentService(engine, schedules, reservationsRepo, new IdempotencyStore(db), tokens, queue, (error) =>
      app.log.warn({ err: error }, 'token expiry after payment failed; it ends at its TTL'),
    ),
  };

  const app = await buildApp(services);
  app.addHook('onClose', async () => {
    await engine.stop();
    await queue.stop();
    await redis.quit().catch(() => redis.disconnect());
    await db.end();
  });
  await engine.start();
  queue.start();
  return { app, services };
}
