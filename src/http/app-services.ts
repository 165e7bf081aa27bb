/** What the routes use: built once by the composition root (src/runtime.ts). */
import type { Pool } from 'pg';
import type Redis from 'ioredis';
import type { Config } from '../config';
import type { ReservationEngine } from '../engine/reservation-engine';
import type { ClusterEngine } from '../cluster/cluster-engine';
import type { Metrics } from '../metrics/metrics';
import type { InfraMetrics } from '../metrics/infra-metrics';
import type { OpsSnapshot } from '../ops/ops-snapshot';
import type { CatalogueRepository } from '../persistence/catalogue-repository';
import type { RateLimiter } from '../queue/rate-limiter';
import type { TokenQueue } from '../queue/token-queue';
import type { OutboxRelay } from '../outbox/outbox-relay';
import type { ChargeReconciler } from '../payments/charge-reconciler';
import type { GuardedGateway } from '../payments/guarded-gateway';
import type { BalanceService } from '../services/balance-service';
import type { ChargeService } from '../services/charge-service';
import type { PaymentService } from '../services/payment-service';
import type { QueueDrawService } from '../services/queue-draw-service';
import type { ReservationService } from '../services/reservation-service';
import type { ScheduleDirectory } from '../services/schedule-directory';
import type { SeatHistoryService } from '../services/seat-history-service';
import type { TokenGuard } from '../services/token-guard';

/** Which part runs embedded and which talks to a real service (api.md, /health/ready). */
export interface RunModes {
  database: 'embedded' | 'external';
  queue: 'memory' | 'redis';
  outbox: 'kafka' | 'off';
}

export interface AppServices {
  config: Config;
  modes: RunModes;
  db: Pool;
  /** Undefined when REDIS_URL is unset (embedded mode): the queue and the rate limits run in process. */
  redis: Redis | undefined;
  metrics: Metrics;
  infraMetrics: InfraMetrics;
  engine: ReservationEngine;
  /** Set when this instance is a cluster member (CLUSTER_ADVERTISE_URL): its engine as a member. */
  cluster: ClusterEngine | undefined;
  /** Redis, or in this process when REDIS_URL is unset (modes.queue). */
  queue: TokenQueue;
  /** The counters of the 429 limits (src/http/rate-limit.ts), kept where the queue is. */
  rateLimiter: RateLimiter;
  tokens: TokenGuard;
  catalogue: CatalogueRepository;
  schedules: ScheduleDirectory;
  reservations: ReservationService;
  seatHistory: SeatHistoryService;
  balances: BalanceService;
  charges: ChargeService;
  gateway: GuardedGateway;
  reconciler: ChargeReconciler;
  /** Undefined when KAFKA_BROKERS is unset: outbox rows wait. */
  relay: OutboxRelay | undefined;
  payments: PaymentService;
  /** What the live ops page shows (/ops). */
  opsSnapshot(): Promise<OpsSnapshot>;
  /** The pre-queue draws (GET /v1/admin/concerts/{id}/queue-draw). */
  queueDraws: QueueDrawService;
}
