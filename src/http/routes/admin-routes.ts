/** Setup endpoints, guarded by X-Admin-Key. */
import type { FastifyInstance } from 'fastify';
import { adminKeyRequired } from '../admin-key';
import { Problem } from '../problem';
import { ActorsQuery, ActorsResponse, AdminKeyHeaders, ConcertParams, CreateConcertBody, CreatedConcert, QueueDrawResponse, SeatHistoryParams, SeatHistoryResponse } from '../schemas';
import type { AppServices } from '../app-services';

/** Sections must lie inside the schedule and must not overlap. */
function checkSections(body: CreateConcertBody): void {
  body.schedules.forEach((schedule, index) => {
    const sections = [...(schedule.sections ?? [])].sort((a, b) => a.fromSeat - b.fromSeat);
    let lastSeat = 0;
    for (const section of sections) {
      const where = `schedules[${index}].sections (${section.grade})`;
      if (section.fromSeat > section.toSeat) throw new Problem('VALIDATION_FAILED', `${where}: fromSeat > toSeat`);
      if (section.toSeat > schedule.seatCount) {
        throw new Problem('VALIDATION_FAILED', `${where}: toSeat beyond seatCount ${schedule.seatCount}`);
      }
      if (section.fromSeat <= lastSeat) throw new Problem('VALIDATION_FAILED', `${where}: sections overlap`);
      lastSeat = section.toSeat;
    }
  });
}

/** A sale that opened only after a schedule started could never sell it. */
function checkOnSaleAt(body: CreateConcertBody): void {
  if (body.onSaleAt === undefined) return;
  const opensAt = Date.parse(body.onSaleAt);
  body.schedules.forEach((schedule, index) => {
    if (Date.parse(schedule.startsAt) <= opensAt) {
      throw new Problem('VALIDATION_FAILED', `schedules[${index}].startsAt must be after onSaleAt`);
    }
  });
}

export function adminRoutes(app: FastifyInstance, services: AppServices): void {
  const requireAdmin = adminKeyRequired(services.config.adminApiKey);

  app.post<{ Body: CreateConcertBody }>(
    '/v1/admin/concerts',
    { onRequest: requireAdmin, schema: { headers: AdminKeyHeaders, body: CreateConcertBody, response: { 201: CreatedConcert } } },
    async (request, reply) => {
      checkSections(request.body);
      checkOnSaleAt(request.body);
      const created = await services.catalogue.createConcert(request.body);
      return reply.code(201).send(created);
    },
  );

  // 404 CONCERT_NOT_FOUND, or 404 QUEUE_DRAW_NOT_FOUND (with why) until the line is drawn.
  app.get<{ Params: { concertId: string } }>(
    '/v1/admin/concerts/:concertId/queue-draw',
    { onRequest: requireAdmin, schema: { headers: AdminKeyHeaders, params: ConcertParams, response: { 200: QueueDrawResponse } } },
    async (request) => services.queueDraws.find(request.params.concertId),
  );

  app.get<{ Params: { scheduleId: string; seatNo: string } }>(
    '/v1/admin/schedules/:scheduleId/seats/:seatNo/history',
    { onRequest: requireAdmin, schema: { headers: AdminKeyHeaders, params: SeatHistoryParams, response: { 200: SeatHistoryResponse } } },
    async (request) => services.seatHistory.of(request.params.scheduleId, Number(request.params.seatNo)),
  );

  app.get<{ Querystring: ActorsQuery }>(
    '/v1/admin/actors',
    { onRequest: requireAdmin, schema: { headers: AdminKeyHeaders, querystring: ActorsQuery, response: { 200: ActorsResponse } } },
    async (request) => {
      const { sort = 'heat' } = request.query;
      const limit = Number(request.query.limit ?? 100);
      if (limit > 1000) throw new Problem('VALIDATION_FAILED', 'querystring/limit must be at most 1000');
      const actors = services.engine.actors();
      // Highest first; ties by schedule id, so pages of equal heat are stable.
      const sorted = actors.sort((a, b) => b[sort] - a[sort] || a.scheduleId.localeCompare(b.scheduleId));
      return { total: actors.length, actors: sorted.slice(0, limit) };
    },
  );
}
