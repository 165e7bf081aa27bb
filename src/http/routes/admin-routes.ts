/** Setup endpoints, guarded by X-Admin-Key. */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Problem } from '../problem';
import { ActorsResponse, AdminKeyHeaders, ConcertParams, CreateConcertBody, CreatedConcert, QueueDrawResponse } from '../schemas';
import type { AppServices } from '../app-services';

function sameKey(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

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
  const requireAdmin = async (request: FastifyRequest) => {
    const key = request.headers['x-admin-key'];
    if (typeof key !== 'string' || !sameKey(key, services.config.adminApiKey)) throw new Problem('ADMIN_KEY_INVALID');
  };

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

  app.get(
    '/v1/admin/actors',
    { onRequest: requireAdmin, schema: { headers: AdminKeyHeaders, response: { 200: ActorsResponse } } },
    async () => ({ actors: services.engine.actors() }),
  );
}
