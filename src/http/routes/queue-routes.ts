/** Waiting-queue tokens. */
import type { FastifyInstance } from 'fastify';
import { Problem } from '../problem';
import { IssueTokenBody, QueueTokenHeaders, TokenResponse } from '../schemas';
import type { AppServices } from '../app-services';
import type { TokenInfo } from '../../queue/token-queue';
import { rateLimitHooks } from '../rate-limit';

const view = ({ token, status, position, estimatedWaitSeconds, activeUntil, opensAt }: TokenInfo) => ({
  token,
  status,
  position,
  estimatedWaitSeconds,
  activeUntil,
  ...(opensAt === undefined ? {} : { opensAt }),
});

export function queueRoutes(app: FastifyInstance, services: AppServices): void {
  const limits = rateLimitHooks(services);

  // Issuing is limited per user and per client address (429 RATE_LIMITED, src/http/rate-limit.ts);
  // asking again for the same token is also a poll that keeps a WAITING token's place.
  app.post<{ Body: IssueTokenBody }>(
    '/v1/queue/tokens',
    { schema: { body: IssueTokenBody, response: { 200: TokenResponse, 201: TokenResponse } }, preHandler: limits.tokenIssue },
    async (request, reply) => {
      const { userId, concertId } = request.body;
      const concert = await services.schedules.findConcert(concertId);
      if (!concert) throw new Problem('CONCERT_NOT_FOUND');
      const opensAt = concert.onSaleAt === null ? null : Date.parse(concert.onSaleAt);
      const { created, info } = await services.queue.issue(userId, concertId, opensAt);
      return reply.code(created ? 201 : 200).send(view(info));
    },
  );

  // Not rate-limited: polling is how a WAITING token keeps its place (QUEUE_WAITING_TTL_SECONDS).
  app.get<{ Headers: { 'queue-token'?: string } }>(
    '/v1/queue/tokens/current',
    { schema: { headers: QueueTokenHeaders, response: { 200: TokenResponse } } },
    async (request) => {
      const { lookup } = await services.tokens.exact(request.headers['queue-token']);
      if (lookup.kind !== 'live') throw new Problem('TOKEN_INVALID');
      return view(lookup.info);
    },
  );
}
