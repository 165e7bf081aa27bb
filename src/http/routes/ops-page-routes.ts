/**
 * The live ops page (api.md, "Operations and docs"): GET /ops (the page), /ops/state (one
 * snapshot, JSON) and /ops/events (server-sent events: a snapshot every second). Like /metrics it
 * shows counts and schedule ids, never a user, token or key. Streams are bounded (a viewer past
 * the bound is refused 503 and the page falls back to polling) and are ended when the server
 * closes, so a graceful shutdown never waits on an open page.
 */
import type { FastifyInstance } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { OpsSnapshot } from '../../ops/ops-snapshot';
import { Problem } from '../problem';
import { OPS_PAGE } from '../ops/ops-page';

const MAX_STREAMS = 32;
const PUSH_EVERY_MS = 1_000;

export function opsPageRoutes(app: FastifyInstance, snapshot: () => Promise<OpsSnapshot>): void {
  const streams = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const stream of streams) stream.end();
  });

  app.get('/ops', { schema: { summary: 'The live operations page (HTML)' } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(OPS_PAGE),
  );

  app.get('/ops/state', { schema: { summary: 'One snapshot of what /ops shows (JSON)' } }, async (_request, reply) =>
    reply.header('cache-control', 'no-store').send(await snapshot()),
  );

  app.get('/ops/events', { schema: { summary: 'What /ops shows, as server-sent events (one `snapshot` event a second)' } }, async (_request, reply) => {
    if (streams.size >= MAX_STREAMS) {
      throw new Problem('SERVICE_UNAVAILABLE', `at most ${MAX_STREAMS} ops streams at once; poll /ops/state`, { retryAfterSeconds: 5 });
    }
    reply.hijack();
    const stream = reply.raw;
    stream.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    stream.write(`retry: ${PUSH_EVERY_MS * 2}\n\n`);
    streams.add(stream);
    let timer: NodeJS.Timeout | undefined;
    const push = async (): Promise<void> => {
      try {
        stream.write(`event: snapshot\ndata: ${JSON.stringify(await snapshot())}\n\n`);
      } catch {
        // A failed read skips this beat; the next one tries again.
      }
      if (streams.has(stream)) timer = setTimeout(push, PUSH_EVERY_MS);
    };
    stream.on('close', () => {
      streams.delete(stream);
      clearTimeout(timer);
    });
    void push();
  });
}
