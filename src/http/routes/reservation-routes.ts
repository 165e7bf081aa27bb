/** Seat holds. */
import type { FastifyInstance } from 'fastify';
import { HoldBody, QueueTokenHeaders, QueueTokenOptionalKeyHeaders, Reservation, ReservationParams, ReservationsResponse, UserParams } from '../schemas';
import type { AppServices } from '../app-services';
import { rateLimitHooks } from '../rate-limit';

type TokenHeaders = { 'queue-token'?: string; 'idempotency-key'?: string };

export function reservationRoutes(app: FastifyInstance, services: AppServices): void {
  app.post<{ Body: HoldBody; Headers: TokenHeaders }>(
    '/v1/reservations',
    // 429 RATE_LIMITED past RATE_LIMIT_HOLDS_PER_TOKEN (src/http/rate-limit.ts); fails open without Redis.
    { schema: { headers: QueueTokenOptionalKeyHeaders, body: HoldBody, response: { 201: Reservation } }, preHandler: rateLimitHooks(services).holds },
    async (request, reply) => {
      const { 'queue-token': token, 'idempotency-key': key } = request.headers;
      const reservation = await services.reservations.hold(token, request.body, key);
      return reply.code(201).send(reservation);
    },
  );

  app.delete<{ Params: { reservationId: string }; Headers: TokenHeaders }>(
    '/v1/reservations/:reservationId',
    { schema: { headers: QueueTokenOptionalKeyHeaders, params: ReservationParams, response: { 200: Reservation } } },
    async (request) =>
      services.reservations.cancel(request.headers['queue-token'], request.params.reservationId, request.headers['idempotency-key']),
  );

  app.post<{ Params: { reservationId: string }; Headers: TokenHeaders }>(
    '/v1/reservations/:reservationId/extension',
    // No body: the new expiry is the server's (now + HOLD_TTL_SECONDS, capped at creation + HOLD_MAX_SECONDS).
    // Each extension is journaled, so it counts against RATE_LIMIT_HOLDS_PER_TOKEN like a hold.
    { schema: { headers: QueueTokenHeaders, params: ReservationParams, response: { 200: Reservation } }, preHandler: rateLimitHooks(services).holds },
    async (request) => services.reservations.extend(request.headers['queue-token'], request.params.reservationId),
  );

  app.get<{ Params: { userId: string } }>(
    '/v1/users/:userId/reservations',
    { schema: { params: UserParams, response: { 200: ReservationsResponse } } },
    async (request) => ({ reservations: await services.reservations.listForUser(request.params.userId) }),
  );
}
