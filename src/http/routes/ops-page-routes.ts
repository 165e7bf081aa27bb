/**
 * The live ops page (api.md, "Operations and docs"): GET /ops (the page: no data, a strict CSP),
 * /ops/state (one snapshot, JSON) and /ops/events (server-sent events: a snapshot every second).
 * The data routes take the admin key, like /v1/admin/actors whose figures they show. Streams are
 * bounded (a viewer past the bound is refused 503 and the page polls instead), a viewer that does
 * not read is skipped rather than buffered for, and every stream is ended when the server closes,
 * so a graceful shutdown never waits on an open page.
 */
import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { OpsSnapshot } from '../../ops/ops-snapshot';
import { adminKeyRequired } from '../admin-key';
import { Problem } from '../problem';
import { AdminKeyHeaders } from '../schemas';
import { OPS_PAGE, OPS_PAGE_CSP } from '../ops/ops-page';
import { OpsStateResponse } from '../ops/ops-state-schema';

const MAX_STREAMS = 32;
const PUSH_EVERY_MS = 1_000;

export function opsPageRoutes(app: FastifyInstance, snapshot: () => Promise<OpsSnapshot>, adminApiKey: string): void {
  const requireAdmin = adminKeyRequired(adminApiKey);
  const streams = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const stream of streams) stream.end();
    streams.clear();
  });

  app.get('/ops', { schema: { summary: 'The live operations page (HTML; its data routes take the admin key)' } }, async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('content-security-policy', OPS_PAGE_CSP)
      .header('x-content-type-options', 'nosniff')
      .send(OPS_PAGE),
  );

  app.get(
    '/ops/state',
    { onRequest: requireAdmin, schema: { summary: 'One snapshot of what /ops shows', headers: AdminKeyHeaders, response: { 200: OpsStateResponse } } },
    async (_request, reply) => reply.header('cache-control', 'no-store').send(await snapshot()),
  );

  app.get(
    '/ops/events',
    {
      onRequest: requireAdmin,
      schema: { summary: 'What /ops shows, as server-sent events (a `snapshot` event a second, data as /ops/state)', headers: AdminKeyHeaders },
    },
    async (request, reply) => {
      if (streams.size >= MAX_STREAMS) {
        throw new Problem('SERVICE_UNAVAILABLE', `at most ${MAX_STREAMS} ops streams at once; poll /ops/state`, { retryAfterSeconds: 5 });
      }
      reply.hijack();
      const stream = reply.raw;
      let timer: NodeJS.Timeout | undefined;
      const forget = () => {
        streams.delete(stream);
        clearTimeout(timer);
      };
      stream.on('close', forget);
      stream.on('error', forget);
      if (request.raw.destroyed) return forget(); // gone before we started: hold no slot for it
      streams.add(stream);
      stream.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      stream.write(`retry: ${PUSH_EVERY_MS * 2}\n\n`);
      const push = async (): Promise<void> => {
        try {
          const data = JSON.stringify(await snapshot());
          // A viewer that does not read: skip this beat instead of buffering for it without bound.
          if (streams.has(stream) && !stream.writableEnded && !stream.writableNeedDrain) stream.write(`event: snapshot\ndata: ${data}\n\n`);
        } catch {
          // A failed read skips this beat; the next one tries again.
        }
        if (streams.has(stream)) timer = setTimeout(push, PUSH_EVERY_MS);
      };
      void push();
    },
  );
}
