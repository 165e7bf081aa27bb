/** Liveness, readiness and Prometheus metrics. */
import type { FastifyInstance } from 'fastify';
import { Problem } from '../problem';
import type { AppServices } from '../app-services';

async function check(probe: () => Promise<unknown>): Promise<boolean> {
  try {
    await probe();
    return true;
  } catch {
    return false;
  }
}

export function opsRoutes(app: FastifyInstance, services: AppServices): void {
  app.get('/health/live', { schema: { summary: 'The process is up' } }, async () => ({ status: 'ok' }));

  app.get('/health/ready', { schema: { summary: 'PostgreSQL, Redis and the engine are ready (else 503)' } }, async () => {
    const [database, redis] = await Promise.all([
      check(() => services.db.query('SELECT 1')),
      check(() => services.redis.ping()),
    ]);
    const checks = { database, redis, engine: services.engine.isReady() };
    if (!checks.database || !checks.redis || !checks.engine) {
      throw new Problem('SERVICE_UNAVAILABLE', 'not ready', { retryAfterSeconds: 1, extensions: { checks } });
    }
    return { status: 'ready', checks };
  });

  app.get('/metrics', { schema: { summary: 'Prometheus text exposition' } }, async (_request, reply) => {
    const body = await services.metrics.registry.metrics();
    return reply.type(services.metrics.registry.contentType).send(body);
  });
}
