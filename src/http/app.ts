/** Builds the Fastify app over ready services. main.ts and the tests boot the same app. */
import Fastify, { type FastifyInstance } from 'fastify';
import type { AppServices } from './app-services';
import { answerServerLevelErrors, clientErrorHandler, errorHandler, frameworkErrorHandler, sendProblem } from './error-handler';
import { openApiRoutes, registerOpenApi } from './openapi/openapi';
import { Problem } from './problem';
import { adminRoutes } from './routes/admin-routes';
import { clusterRoutes } from './routes/cluster-routes';
import { concertRoutes } from './routes/concert-routes';
import { moneyRoutes } from './routes/money-routes';
import { opsRoutes } from './routes/ops-routes';
import { opsPageRoutes } from './routes/ops-page-routes';
import { queueRoutes } from './routes/queue-routes';
import { reservationRoutes } from './routes/reservation-routes';
import { holdsNul, lowerCaseIds } from './input-hygiene';
import { AJV_OPTIONS } from './validation';
import { RedisUnavailableError } from '../queue/redis-unavailable';
import { loggerOptions, requestId } from './logging';

/**
 * Path parameters are UUIDs (36 characters), so 100 is plenty; the router stops matching a longer
 * one, and the error handler answers it 400 VALIDATION_FAILED like any other malformed id.
 */
const MAX_PARAM_LENGTH = 100;

const shown = (url: string) => {
  const path = url.split('?')[0] ?? '';
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
};

export async function buildApp(services: AppServices): Promise<FastifyInstance> {
  const app = Fastify({
    logger: services.config.logLevel === 'silent' ? false : loggerOptions(services.config.logLevel),
    // Every request has an id: the caller's X-Request-Id when it is a sane one, else a fresh UUID.
    // It is on every log line of the request (pino's reqId) and echoed in the answer.
    requestIdHeader: false,
    genReqId: requestId,
    bodyLimit: 1024 * 1024,
    ajv: AJV_OPTIONS,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Errors raised before any route or hook runs are answered by the same mapper (error-handler.ts).
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    // Node answers an HTTP/1.1 request without Host with a bare 400 of its own; the hook below
    // answers it as problem+json instead.
    http: { requireHostHeader: false },
    // Fastify's 503 while closing is not problem+json; the hook below answers it instead.
    return503OnClosing: false,
  });

  answerServerLevelErrors(app.server);

  // The API takes JSON only: a text/plain body is 415 UNSUPPORTED_MEDIA_TYPE, not a string that
  // then fails validation.
  app.removeContentTypeParser('text/plain');

  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (closing) {
      reply.header('connection', 'close');
      return sendProblem(reply, new Problem('SERVICE_UNAVAILABLE', 'the server is shutting down', { retryAfterSeconds: 1 }));
    }
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
      return sendProblem(reply, new Problem('VALIDATION_FAILED', 'an HTTP/1.1 request needs a Host header'));
    }
    return undefined;
  });

  // PostgreSQL text cannot hold U+0000 (JSON may carry it as "\u0000"): refused here for every
  // body, rather than failing in SQL (500) wherever a string is stored.
  app.addHook('preValidation', async (request) => {
    if (request.body !== undefined && holdsNul(request.body)) {
      throw new Problem('VALIDATION_FAILED', 'text in the body may not contain the character U+0000');
    }
    lowerCaseIds(request.params, () => true);
    lowerCaseIds(request.body, (key) => key.endsWith('Id'));
  });

  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) =>
    sendProblem(reply, new Problem('NOT_FOUND', `no route ${request.method} ${shown(request.url)}`)),
  );

  app.addHook('onResponse', async (request, reply) => {
    // The route template, never the raw URL: ids in paths would make the label set unbounded.
    services.metrics.httpAnswered(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });
  app.addHook('onError', async (_request, _reply, error) => {
    if (error instanceof RedisUnavailableError) services.infraMetrics.redisError('command');
  });

  await registerOpenApi(app);
  adminRoutes(app, services);
  clusterRoutes(app, services, services.cluster);
  queueRoutes(app, services);
  concertRoutes(app, services);
  reservationRoutes(app, services);
  moneyRoutes(app, services);
  opsRoutes(app, services);
  opsPageRoutes(app, () => services.opsSnapshot(), services.config.adminApiKey);
  openApiRoutes(app);
  return app;
}
