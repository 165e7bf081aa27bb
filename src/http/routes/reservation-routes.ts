/** Seat holds. */
import type { FastifyInstance } from 'fastify';
import { HoldBody, QueueTokenOptionalKeyHeaders, Reservation, ReservationParams, ReservationsResponse, UserParams } from '../schemas';
import type { AppServices } from '../app-services';
import { rateLimitHooks } from '../rate-limit';

type TokenHeaders = { 'queue-token'?: string; 'idempotency-key'?: string };

export function reservationRoutes(app: FastifyInstance, services: AppServices): void {
  app.post<{ Body: HoldBody; Headers: TokenHeaders }>(
    '/v1/reservations',
    // 429 RATE_LIMITED past RATE_LIMIT_HOLDS_PER_TOKEN (src/http/rate-limit.ts); fails open without Redis.
    { schema: { headers: QueueTokenOptionalKeyHeaders, body: HoldBody, response: { 201: Reservation } }, preHandler: rateLimitHooks(services).holds },
    async (request, reply) => {
      const { scheduleId, seatNos } = request.body;
      const { 'queue-token': token, 'idempotency-key': key } = request.headers;
      const reservation = await services.reservations.hold(token, scheduleId, seatNos, key);
      return reply.code(201).send(reservation);
    },
  );

  app.delete<{ Params: { reservationId: string }; Headers: TokenHeaders }>(
    '/v1/reservations/:reservationId',
    { schema: { headers: QueueTokenOptionalKeyHeaders, params: ReservationParams, response: { 200: Reservation } } },
    async (request) =>
      services.reservations.cancel(request.headers['queue-token'], request.params.reservationId, request.headers['idempotency-key']),
  );

  app.get<{ Params: { userId: string } }>(
    '/v1/users/:userId/reservations',
    { schema: { params: UserParams, response: { 200: ReservationsResponse } } },
    async (request) => ({ reservations: await services.reservations.listForUser(request.params.userId) }),
  );
}
