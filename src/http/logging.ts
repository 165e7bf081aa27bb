/**
 * Structured logs (pino, through Fastify): one JSON object per line, each request's lines carry
 * its `reqId`. Secrets never reach them: Fastify's request serializer logs method, URL, host and
 * address only, and should anything log headers, the ones that carry secrets (queue tokens, the
 * admin key, idempotency keys, credentials) are redacted. No route puts a secret in its URL.
 * Errors are logged by name, message, code and stack only: client libraries hang what they were
 * sending on their errors (ioredis: the command and its arguments, a queue token among them;
 * pg: the query's parameters in some messages' `where`), and pino's default would copy it all.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyServerOptions } from 'fastify';

const SECRET_HEADERS = ['queue-token', 'x-admin-key', 'idempotency-key', 'authorization', 'cookie'];

interface LoggedError {
  [key: string]: unknown;
  type: string;
  message: string;
  stack: string;
}

/** An error as logged: never its other own properties (see above). */
export function serializeError(error: unknown, depth = 0): LoggedError {
  if (!(error instanceof Error)) return { type: typeof error, message: String(error), stack: '' };
  const code = (error as { code?: unknown }).code;
  const logged: LoggedError = { type: error.name, message: error.message, ...(code === undefined ? {} : { code }), stack: error.stack ?? '' };
  if (error.cause !== undefined && depth < 3) logged.cause = serializeError(error.cause, depth + 1);
  return logged;
}

export function loggerOptions(level: string): FastifyServerOptions['logger'] {
  return {
    level,
    serializers: { err: (error: unknown) => serializeError(error) },
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
