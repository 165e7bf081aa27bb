/**
 * Structured logs (pino, through Fastify): one JSON object per line, each request's lines carry
 * its `reqId`. Secrets never reach them: Fastify's request serializer logs method, URL, host and
 * address only, and should anything log headers, the ones that carry secrets (queue tokens, the
 * admin key, idempotency keys, credentials) are redacted. No route puts a secret in its URL.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyServerOptions } from 'fastify';

const SECRET_HEADERS = ['queue-token', 'x-admin-key', 'idempotency-key', 'authorization', 'cookie'];

export function loggerOptions(level: string): FastifyServerOptions['logger'] {
  return {
    level,
    redact: {
      paths: SECRET_HEADERS.flatMap((header) => [`req.headers["${header}"]`, `headers["${header}"]`]),
      censor: '[redacted]',
    },
  };
}

/** A caller's id is kept only when it is short and plain: it is echoed in headers and logs. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function requestId(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID();
}
