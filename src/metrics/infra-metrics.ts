/** The links under everything: the PostgreSQL pool and Redis. */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Pool } from 'pg';

export type RedisErrorSource = 'connection' | 'command';

export interface InfraMetrics {
  /** `connection`: the client lost or could not open its link; `command`: a request got no answer from Redis (503). */
  redisError(source: RedisErrorSource): void;
}

export function registerInfraMetrics(registry: Registry, pool: Pool): InfraMetrics {
  const registers = [registry];
  const poolGauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });
  poolGauge('ovation_pg_pool_total', 'PostgreSQL connections open in the pool', () => pool.totalCount);
  poolGauge('ovation_pg_pool_idle', 'PostgreSQL connections idle in the pool', () => pool.idleCount);
  poolGauge('ovation_pg_pool_waiting', 'Queries waiting for a free PostgreSQL connection', () => pool.waitingCount);
  const redisErrors = new Counter({
    name: 'ovation_redis_errors_total',
    help: 'Redis failures: connection (the client lost its link) and command (a request answered 503 for want of Redis)',
    labelNames: ['source'] as const,
    registers,
  });
  for (const source of ['connection', 'command'] as const) redisErrors.inc({ source }, 0);
  return { redisError: (source) => redisErrors.inc({ source }) };
}
