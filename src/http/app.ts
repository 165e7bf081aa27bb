/** Builds the Fastify app over ready services. main.ts and the tests boot the same app. */
import Fastify, { type FastifyInstance } from 'fastify';
import type { AppServices } from './app-services';
import { errorHandler, sendProblem } from './error-handler';
import { openApiRoutes, registerOpenApi } from './openapi/openapi';
import { Problem } from './problem';
import { adminRoutes } from './routes/admin-routes';
import { concertRoutes } from './routes/concert-routes';
import { moneyRoutes } from './routes/money-routes';
import { opsRoutes } from './routes/ops-routes';
import { queueRoutes } from './routes/queue-routes';
import { reservationRoutes } from './routes/reservation-routes';

export async function buildApp(services: AppServices): Promise<FastifyInstance> {
  const app = Fastify({
    logger: services.config.logLevel === 'silent' ? false : { level: services.config.logLevel },
    bodyLimit: 1024 * 1024,
    // Strict validation: unknown fields are errors (not silently dropped), no type coercion of bodies.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    return503OnClosing: true,
  });

  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, new Problem('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`)),
  );

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    services.metrics.httpDuration.observe(
      { method: request.method, route, status_code: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  await registerOpenApi(app);
  adminRoutes(app, services);
  queueRoutes(app, services);
  concertRoutes(app, services);
  reservationRoutes(app, services);
  moneyRoutes(app, services);
  opsRoutes(app, services);
  openApiRoutes(app);
  return app;
}
