/** Liveness, readiness and Prometheus metrics. */
import type { FastifyInstance } from 'fastify';
import { Problem } from '../problem';
import type { AppServices } from '../app-services';

/** A readiness probe answers within a second or counts as failed: readiness itself must not hang. */
const PROBE_TIMEOUT_MS = 1_000;

async function check(probe: () => Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS)));
  try {
    return await Promise.race([probe().then(() => true), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
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
    const mode = services.modes;
    if (!checks.database || !checks.redis || !checks.engine) {
      throw new Problem('SERVICE_UNAVAILABLE', 'not ready', { retryAfterSeconds: 1, extensions: { mode, checks } });
    }
    return { status: 'ready', mode, checks };
  });

  app.get('/metrics', { schema: { summary: 'Prometheus text exposition' } }, async (_request, reply) => {
    const body = await services.metrics.registry.metrics();
    return reply.type(services.metrics.registry.contentType).send(body);
  });
}
