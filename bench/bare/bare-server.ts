/**
 * bare: the HTTP ceiling of the harness (engine label `bare`, issue 11 "Cost per hold").
 *
 * WHAT IT IS: a Fastify server (the same fastify the app runs, from the same node_modules) that
 * answers the public routes the `spread` and `hot-seat` scenarios call, with the app's status
 * codes and response shapes, doing only what HTTP costs: Node's parser, Fastify's routing, JSON
 * body parsing, JSON-schema validation of the headers, params and bodies with the app's own
 * schemas and validator options (src/http/schemas.ts, src/http/validation.ts), and serialisation
 * through the app's response schemas (fast-json-stringify). Same cost-relevant server options as
 * src/http/app.ts: body limit, ajv options, maxParamLength, keep-alive (Fastify's default
 * keepAliveTimeout, as the app), text/plain refused; no logger (the app's bench servers log at
 * warn, i.e. nothing per request). Errors are answered by the app's error handler, so a bad
 * request gets the app's problem+json. `actor ok/s ÷ bare ok/s` is then "the share of the HTTP
 * ceiling the engine reaches" (issue 11's target: ≥ 40 %).
 *
 * WHAT IT IS NOT: an engine. No database, no Redis, no line, no seats: every hold is 201 (it never
 * answers 409), every release 200, every token ACTIVE; nothing is kept between requests, so there
 * is nothing to check afterwards (the harness reports its invariants as skipped). Nor does it run
 * the app's own per-request hooks (request-id UUID + header, NUL and id-case hygiene, HTTP
 * metrics, rate-limit preHandler): those are the app's cost, which the ratio charges to the app.
 * Fields no load script reads are placeholders of the right type: `amount` 0; a release's
 * `scheduleId` (nil UUID), `seatNos` ([]) and `amount` (0), since a stateless server cannot know
 * the hold it releases. The token has the app's shape (`<concertId>.<22 base64url characters>`)
 * and carries the user id in those 16 bytes, so holds and releases answer the token's user.
 *
 * Started by the harness (bench/bare-server-process.ts) from the run's build,
 * `node <build>/bench/bare/bare-server.js` with PORT, HOST and ADMIN_API_KEY; SIGTERM closes it.
 * Tested against the scenarios' own scripts: test/integration/bare-server.int.spec.ts.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { adminKeyRequired } from '../../src/http/admin-key';
import { errorHandler, sendProblem } from '../../src/http/error-handler';
import { Problem } from '../../src/http/problem';
import {
  AdminKeyHeaders,
  CreateConcertBody,
  CreatedConcert,
  HoldBody,
  IssueTokenBody,
  QueueTokenOptionalKeyHeaders,
  Reservation,
  ReservationParams,
  TokenResponse,
} from '../../src/http/schemas';
import { AJV_OPTIONS } from '../../src/http/validation';

/** As src/http/app.ts. */
const MAX_PARAM_LENGTH = 100;
const BODY_LIMIT = 1024 * 1024;
/** What a token's `activeUntil` and a hold's `expiresAt` say (placeholders: nothing expires here). */
const ACTIVE_FOR_MS = 10 * 60_000;
const HELD_FOR_MS = 5 * 60_000;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

type TokenHeaders = { 'queue-token'?: string; 'idempotency-key'?: string };

function uuidOf(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** `<concertId>.<userId's 16 bytes in base64url>`: the app's token shape (src/queue/token-format.ts). */
export function bareToken(concertId: string, userId: string): string {
  return `${concertId.toLowerCase()}.${Buffer.from(userId.replace(/-/g, ''), 'hex').toString('base64url')}`;
}

/** The user a token was issued to; 401 as the app (TOKEN_MISSING, TOKEN_INVALID). */
function userOf(token: string | undefined): string {
  if (token === undefined || token === '') throw new Problem('TOKEN_MISSING');
  const dot = token.indexOf('.');
  const bytes = dot < 0 ? undefined : Buffer.from(token.slice(dot + 1), 'base64url');
  if (bytes?.length !== 16) throw new Problem('TOKEN_INVALID');
  return uuidOf(bytes);
}

export interface BareOptions {
  adminApiKey: string;
}

export async function buildBareApp(options: BareOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT,
    ajv: AJV_OPTIONS,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    http: { requireHostHeader: false },
  });
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => sendProblem(reply, new Problem('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`)));

  app.post<{ Body: CreateConcertBody }>(
    '/v1/admin/concerts',
    { onRequest: adminKeyRequired(options.adminApiKey), schema: { headers: AdminKeyHeaders, body: CreateConcertBody, response: { 201: CreatedConcert } } },
    async (request, reply) =>
      reply.code(201).send({
        concertId: randomUUID(),
        title: request.body.title,
        onSaleAt: request.body.onSaleAt ?? null,
        schedules: request.body.schedules.map((schedule) => ({ scheduleId: randomUUID(), startsAt: schedule.startsAt, seatCount: schedule.seatCount })),
      }),
  );

  // Always a new ACTIVE token (the scenarios give every VU a fresh user), 201 as the app's first issue.
  app.post<{ Body: IssueTokenBody }>('/v1/queue/tokens', { schema: { body: IssueTokenBody, response: { 200: TokenResponse, 201: TokenResponse } } }, async (request, reply) =>
    reply.code(201).send({
      token: bareToken(request.body.concertId, request.body.userId),
      status: 'ACTIVE',
      position: 0,
      estimatedWaitSeconds: 0,
      activeUntil: new Date(Date.now() + ACTIVE_FOR_MS).toISOString(),
    }),
  );

  app.post<{ Body: HoldBody; Headers: TokenHeaders }>(
    '/v1/reservations',
    { schema: { headers: QueueTokenOptionalKeyHeaders, body: HoldBody, response: { 201: Reservation } } },
    async (request, reply) =>
      reply.code(201).send({
        reservationId: randomUUID(),
        userId: userOf(request.headers['queue-token']),
        scheduleId: request.body.scheduleId,
        // `best` holds: the bare server picks seats 1..quantity (it knows no seat map).
        seatNos: request.body.seatNos ?? Array.from({ length: request.body.best?.quantity ?? 1 }, (_, i) => i + 1),
        status: 'HELD',
        amount: 0,
        expiresAt: new Date(Date.now() + HELD_FOR_MS).toISOString(),
      }),
  );

  app.delete<{ Params: { reservationId: string }; Headers: TokenHeaders }>(
    '/v1/reservations/:reservationId',
    { schema: { headers: QueueTokenOptionalKeyHeaders, params: ReservationParams, response: { 200: Reservation } } },
    async (request) => ({
      reservationId: request.params.reservationId,
      userId: userOf(request.headers['queue-token']),
      scheduleId: NIL_UUID,
      seatNos: [],
      status: 'CANCELLED',
      amount: 0,
      expiresAt: new Date().toISOString(),
    }),
  );

  app.get('/health/live', async () => ({ status: 'ok' }));
  app.get('/health/ready', async () => ({ status: 'ready', mode: { engine: 'bare' }, checks: {} }));
  // Valid Prometheus text with no series: the harness's ovation_* figures stay empty ('–').
  app.get('/metrics', async (_request, reply) => reply.type(PROMETHEUS_CONTENT_TYPE).send('# bare: no engine, no metrics\n'));
  return app;
}

async function main(): Promise<void> {
  const port = Number(process.env['PORT'] ?? 3000);
  const host = process.env['HOST'] ?? '127.0.0.1';
  const adminApiKey = process.env['ADMIN_API_KEY'] ?? `bare-${randomBytes(8).toString('hex')}`;
  const app = await buildBareApp({ adminApiKey });
  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('bare: close failed:', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  await app.listen({ port, host });
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error('bare failed to start:', error);
    process.exit(1);
  });
}
