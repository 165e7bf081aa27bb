/** Seat holds. */
import type { FastifyInstance } from 'fastify';
import { HoldBody, QueueTokenHeaders, Reservation, ReservationParams, ReservationsResponse, UserParams } from '../schemas';
import type { AppServices } from '../app-services';

type TokenHeaders = { 'queue-token'?: string };

export function reservationRoutes(app: FastifyInstance, services: AppServices): void {
  app.post<{ Body: HoldBody; Headers: TokenHeaders }>(
    '/v1/reservations',
    { schema: { headers: QueueTokenHeaders, body: HoldBody, response: { 201: Reservation } } },
    async (request, reply) => {
      const { scheduleId, seatNos } = request.body;
      const reservation = await services.reservations.hold(request.headers['queue-token'], scheduleId, seatNos);
      return reply.code(201).send(reservation);
    },
  );

  app.delete<{ Params: { reservationId: string }; Headers: TokenHeaders }>(
    '/v1/reservations/:reservationId',
    { schema: { headers: QueueTokenHeaders, params: ReservationParams, response: { 200: Reservation } } },
    async (request) => services.reservations.cancel(request.headers['queue-token'], request.params.reservationId),
  );

  app.get<{ Params: { userId: string } }>(
    '/v1/users/:userId/reservations',
    { schema: { params: UserParams, response: { 200: ReservationsResponse } } },
    async (request) => ({ reservations: await services.reservations.listForUser(request.params.userId) }),
  );
}
