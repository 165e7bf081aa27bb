/** Catalogue reads; no token needed. The seat map comes from the engine (actor memory). */
import type { FastifyInstance } from 'fastify';
import { Problem } from '../problem';
import { ConcertParams, ConcertsResponse, ScheduleParams, SchedulesResponse, SeatMapResponse } from '../schemas';
import type { AppServices } from '../app-services';

export function concertRoutes(app: FastifyInstance, services: AppServices): void {
  app.get('/v1/concerts', { schema: { response: { 200: ConcertsResponse } } }, async () => ({
    concerts: await services.catalogue.listConcerts(),
  }));

  app.get<{ Params: { concertId: string } }>(
    '/v1/concerts/:concertId/schedules',
    { schema: { params: ConcertParams, response: { 200: SchedulesResponse } } },
    async (request) => {
      const { concertId } = request.params;
      const schedules = await services.catalogue.listSchedules(concertId);
      if (schedules.length === 0 && !(await services.schedules.concertExists(concertId))) {
        throw new Problem('CONCERT_NOT_FOUND');
      }
      return {
        schedules: await Promise.all(
          schedules.map(async ({ scheduleId, startsAt, seatCount }) => ({
            scheduleId,
            startsAt,
            seatCount,
            availableSeats: await services.engine.availableSeats(scheduleId),
          })),
        ),
      };
    },
  );

  app.get<{ Params: { scheduleId: string } }>(
    '/v1/schedules/:scheduleId/seats',
    // The engine hands over the JSON already serialized; the schema documents it.
    { schema: { params: ScheduleParams, response: { 200: SeatMapResponse } } },
    async (request, reply) => {
      const { scheduleId } = request.params;
      if (!(await services.schedules.find(scheduleId))) throw new Problem('SCHEDULE_NOT_FOUND');
      // Already serialized by the engine (cached per version on the actor engine).
      return reply.type('application/json').send(await services.engine.seatMapJson(scheduleId));
    },
  );
}
