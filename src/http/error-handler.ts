/**
 * The one place where errors become problem+json responses: errors thrown by handlers and hooks
 * (`errorHandler`), errors the router raises before any route runs (`frameworkErrorHandler`:
 * malformed URL, over-long path parameter) and errors Node's HTTP parser raises before Fastify
 * sees a request at all (`clientErrorHandler`: malformed request line or headers, headers too
 * large, request timeout). Every one of them leaves with a stable `code`; a 5xx never carries the
 * error's message.
 */
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { Problem } from './problem';
import { AppError } from '../services/app-error';
import { EngineUnavailableError } from '../engine/engine-unavailable-error';
import { EngineOutcomeUnknownError } from '../engine/outcome-unknown-error';
import { isTransientDatabaseError, StatementOutcomeUnknownError } from '../persistence/database';

/** Fastify's own request-time errors (its `FST_ERR_*` codes), by code. */
function frameworkProblem(code: string | undefined): Problem | undefined {
  switch (code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new Problem('UNSUPPORTED_MEDIA_TYPE', 'send application/json');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new Problem('PAYLOAD_TOO_LARGE');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new Problem('VALIDATION_FAILED', 'the body must be a JSON object');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new Problem('VALIDATION_FAILED', 'the body is not valid JSON');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new Problem('VALIDATION_FAILED', 'the body does not match its Content-Length');
    case 'FST_ERR_BAD_URL':
      return new Problem('VALIDATION_FAILED', 'the URL is malformed (bad percent-encoding or not a path)');
    // Path parameters are UUIDs (36 characters); the router gives up on one longer than
    // `maxParamLength` (app.ts). That is the same mistake as any other malformed id, so it gets the
    // same answer as `/v1/users/not-a-uuid/balance`: 400 VALIDATION_FAILED, not Fastify's 414
    // (which would tell the client that a shorter URL for the same thing exists).
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new Problem('VALIDATION_FAILED', 'a path parameter is too long (ids are UUIDs)');
    case 'FST_ERR_NOT_FOUND':
      return new Problem('NOT_FOUND');
    // FST_ERR_ASYNC_CONSTRAINT (no route here uses an async constraint) and every other framework
    // error is the server's fault: 500 INTERNAL_ERROR below, logged, with no detail.
    default:
      return undefined;
  }
}

/** The problem an error is answered with (also the outcome label of payment metrics). */
export function toProblem(error: FastifyError | Error): Problem {
  if (error instanceof AppError) return Problem.from(error);
  // A commit whose answer was lost: the client learns the truth by retrying with its key.
  if (error instanceof EngineOutcomeUnknownError || error instanceof StatementOutcomeUnknownError) {
    const retryAfterSeconds = error instanceof EngineOutcomeUnknownError ? error.retryAfterSeconds : 2;
    return new Problem('OUTCOME_UNKNOWN', undefined, { retryAfterSeconds });
  }
  if (error instanceof EngineUnavailableError) {
    return new Problem('SERVICE_UNAVAILABLE', undefined, { retryAfterSeconds: error.retryAfterSeconds });
  }
  if (isTransientDatabaseError(error)) {
    return new Problem('SERVICE_UNAVAILABLE', 'the database is unavailable for a moment', { retryAfterSeconds: 1 });
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const context = fastifyError.validationContext ?? 'request';
    return new Problem('VALIDATION_FAILED', `${context}${fastifyError.message.replace(/^[a-z]+/, '')}`);
  }
  const known = frameworkProblem(fastifyError.code);
  if (known) return known;
  // A body that could not be read (the client aborted it, a decoding stream failed): Fastify marks
  // the stream's error 400. Any other status an error may carry is not trusted (500 below).
  if (fastifyError.statusCode === 400) return new Problem('VALIDATION_FAILED', 'the request body could not be read');
  if (error instanceof SyntaxError) return new Problem('VALIDATION_FAILED', 'the body is not valid JSON');
  return new Problem('INTERNAL_ERROR');
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  if (problem.options.retryAfterSeconds !== undefined) reply.header('retry-after', String(problem.options.retryAfterSeconds));
  return reply.code(problem.status).type('application/problem+json').send(problem.body());
}

export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const problem = toProblem(error);
  if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
  return sendProblem(reply, problem);
}

/**
 * Fastify's `frameworkErrors` option: errors the router raises before a route is chosen
 * (FST_ERR_BAD_URL, FST_ERR_MAX_PARAM_LENGTH, FST_ERR_ASYNC_CONSTRAINT). Same mapping as above.
 */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  errorHandler(error, request, reply);
}

/** What Node's HTTP parser reports on a connection (`clientError`), as a problem. */
function clientProblem(error: NodeJS.ErrnoException): Problem {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return new Problem('HEADERS_TOO_LARGE', "the request line and headers exceed the server's limit (Node's maxHeaderSize, 16 KiB by default)");
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new Problem('PAYLOAD_TOO_LARGE', 'the chunk extensions are too large');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new Problem('REQUEST_TIMEOUT');
    default:
      return new Problem('VALIDATION_FAILED', 'the request is not valid HTTP/1.1');
  }
}

/** The HTTP/1.1 bytes of a problem response that closes the connection. */
function rawProblemResponse(problem: Problem): string {
  const body = JSON.stringify(problem.body());
  return (
    `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? ''}\r\n` +
    'Content-Type: application/problem+json; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n' +
    body
  );
}

/**
 * Fastify's `clientErrorHandler` option (Node's `clientError` event): the request never reached
 * Fastify, so the answer is written on the socket by hand, as Node's own handler does — but as
 * problem+json. As in Node: nothing is written when the peer is gone or a response on this
 * connection has already begun (bytes of ours would corrupt it); the connection is then closed.
 */
export function clientErrorHandler(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  // Node attaches the response in progress on a connection to its socket (`_httpMessage`).
  const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    endWith(socket, clientProblem(error));
    return;
  }
  socket.destroy(error);
}

/**
 * Writes a problem on a socket Node has given up on and closes it. end() rather than write() +
 * destroy(): destroying a socket with unread input (an oversized header still arriving) sends a
 * reset that can overtake the answer. The timer bounds a peer that never reads.
 */
function endWith(socket: Duplex, problem: Problem): void {
  socket.end(rawProblemResponse(problem));
  setTimeout(() => socket.destroy(), 1_000).unref();
}

/**
 * The answers Node's HTTP server would give by itself, outside Fastify, as problem+json:
 * - an `Expect` other than `100-continue` (Node: 417 with an empty body) → 417 EXPECTATION_FAILED;
 * - `CONNECT` (Node: the connection is dropped without an answer; this is no proxy) → 404 NOT_FOUND,
 *   as for any method a path does not have.
 */
export function answerServerLevelErrors(server: Server): void {
  server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
    const expectation = String(request.headers.expect ?? '').slice(0, 100);
    const body = JSON.stringify(new Problem('EXPECTATION_FAILED', `unsupported Expect: ${expectation}`).body());
    response.writeHead(417, {
      'content-type': 'application/problem+json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      connection: 'close',
    });
    response.end(body);
  });
  server.on('connect', (_request: IncomingMessage, socket: Duplex) => {
    endWith(socket, new Problem('NOT_FOUND', 'CONNECT is not supported'));
  });
}
