/** Liveness, readiness and Prometheus metrics. */
import type { FastifyInstance } from 'fastify';
import { Problem } from '../problem';
import { within } from '../../within';
import type { AppServices } from '../app-services';

/** A readiness probe answers within a second or counts as failed: readiness itself must not hang. */
const PROBE_TIMEOUT_MS = 1_000;

function check(probe: () => Promise<unknown>): Promise<boolean> {
  return within(PROBE_TIMEOUT_MS, probe).then(
    () => true,
    () => false,
  );
}

export function opsRoutes(app: FastifyInstance, services: AppServices): void {
  app.get('/health/live', { schema: { summary: 'The process is up' } }, async () => ({ status: 'ok' }));

  app.get('/health/ready', { schema: { summary: 'The database, the waiting line and the engine are ready (else 503)' } }, async () => {
    const redis = services.redis;
    const [database, queue] = await Promise.all([
      check(() => services.db.query('SELECT 1')),
      // `queue`: Redis answers PING; the in-process line of embedded mode (mode.queue = memory) always does.
      redis ? check(() => redis.ping()) : true,
    ]);
    const checks = { database, queue, engine: services.engine.isReady() };
    const mode = services.modes;
    if (!checks.database || !checks.queue || !checks.engine) {
      throw new Problem('SERVICE_UNAVAILABLE', 'not ready', { retryAfterSeconds: 1, extensions: { mode, checks } });
    }
    return { status: 'ready', mode, checks };
  });

  app.get('/metrics', { schema: { summary: 'Prometheus text exposition' } }, async (_request, reply) => {
    const body = await services.metrics.registry.metrics();
    return reply.type(services.metrics.registry.contentType).send(body);
  });
}
