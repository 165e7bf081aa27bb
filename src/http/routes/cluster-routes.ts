/**
 * Scale-out routes: the internal hop other members forward engine calls through (guarded by the
 * shared CLUSTER_SECRET; without it the route does not exist as far as a caller can tell), and
 * GET /v1/admin/cluster, what this member knows of the cluster.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { adminKeyRequired, sameKey } from '../admin-key';
import { sendProblem } from '../error-handler';
import { Problem } from '../problem';
import { AdminKeyHeaders, ClusterQuery, ClusterResponse, ForwardedCallParams } from '../schemas';
import type { AppServices } from '../app-services';
import type { ClusterEngine, ForwardedArgument } from '../../cluster/cluster-engine';
import { UUID_PATTERN } from '../validation';
import { CLUSTER_SECRET_HEADER, toWireFailure, type ForwardedOp } from '../../cluster/engine-wire';

export function clusterRoutes(app: FastifyInstance, services: AppServices, cluster: ClusterEngine | undefined): void {
  const requireAdmin = adminKeyRequired(services.config.adminApiKey);

  app.get<{ Querystring: ClusterQuery }>(
    '/v1/admin/cluster',
    { onRequest: requireAdmin, schema: { headers: AdminKeyHeaders, querystring: ClusterQuery, response: { 200: ClusterResponse } } },
    async (request) => {
      if (!cluster) return { mode: 'single' as const, actors: services.engine.actors().length };
      const status = cluster.node.status();
      const ownedActors = cluster.actors().map(({ scheduleId }) => ({ scheduleId, partition: cluster.node.partitionOf(scheduleId) }));
      const { scheduleId } = request.query;
      const schedule =
        scheduleId === undefined
          ? undefined
          : (() => {
              const partition = cluster.node.partitionOf(scheduleId);
              const owner = status.owners.find((o) => o.partition === partition);
              return { scheduleId, partition, ownerUrl: owner?.ownerUrl ?? null, epoch: owner?.epoch ?? null };
            })();
      return { mode: 'cluster' as const, ...status, ownedActors, ...(schedule ? { schedule } : {}) };
    },
  );

  const secret = services.config.cluster?.secret;
  app.post<{ Params: { op: ForwardedOp } }>(
    '/internal/v1/engine/:op',
    { schema: { hide: true, params: ForwardedCallParams } },
    async (request, reply) => {
      if (!cluster || secret === undefined || !sameSecret(request, secret)) {
        throw new Problem('NOT_FOUND', `no route POST ${request.url.split('?')[0]}`);
      }
      const { op } = request.params;
      const argument = forwardedArgument(op, request.body);
      try {
        const body = await cluster.serveForwarded(op, argument);
        return reply.code(200).type('application/json').send(body);
      } catch (error) {
        const wire = toWireFailure(error);
        if (wire.kind === 'internal') request.log.error({ err: error }, 'forwarded engine call failed');
        const code = wire.kind === 'outcome_unknown' ? 'OUTCOME_UNKNOWN' : wire.kind === 'internal' ? 'INTERNAL_ERROR' : 'SERVICE_UNAVAILABLE';
        return sendProblem(
          reply,
          new Problem(code, wire.kind === 'internal' ? undefined : wire.message, {
            ...(wire.kind === 'internal' ? {} : { retryAfterSeconds: wire.retryAfterSeconds }),
            extensions: { wire: wire.kind === 'internal' ? { ...wire, message: 'internal error on the owner' } : wire },
          }),
        );
      }
    },
  );
}

function sameSecret(request: FastifyRequest, secret: string): boolean {
  const given = request.headers[CLUSTER_SECRET_HEADER];
  return typeof given === 'string' && sameKey(given, secret);
}

/**
 * The members trust each other (the secret), but a malformed call must still be refused before
 * it reaches an actor: the fields the routing needs are checked; the rest was validated by the
 * forwarding member's own route schemas.
 */
function forwardedArgument(op: ForwardedOp, body: unknown): ForwardedArgument {
  // The op itself was checked by the route's params schema.
  if (typeof body !== 'object' || body === null) {
    throw new Problem('VALIDATION_FAILED', 'a forwarded call needs a JSON object');
  }
  const candidate = body as { scheduleId?: unknown; reservation?: { scheduleId?: unknown } };
  const scheduleId = op === 'hold' || op === 'seatMap' ? candidate.scheduleId : candidate.reservation?.scheduleId;
  if (typeof scheduleId !== 'string' || !UUID_PATTERN.test(scheduleId)) throw new Problem('VALIDATION_FAILED', 'a forwarded call names its schedule');
  return body as ForwardedArgument;
}
