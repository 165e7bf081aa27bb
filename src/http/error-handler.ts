/** The one place where errors become problem+json responses. */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { Problem } from './problem';
import { EngineUnavailableError } from '../engine/engine-unavailable-error';
import { isTransientDatabaseError } from '../persistence/database';

function toProblem(error: FastifyError | Error): Problem {
  if (error instanceof Problem) return error;
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
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new Problem('UNSUPPORTED_MEDIA_TYPE', 'send application/json');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new Problem('PAYLOAD_TOO_LARGE');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new Problem('VALIDATION_FAILED', 'the body must be a JSON object');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new Problem('VALIDATION_FAILED', 'the body is not valid JSON');
  }
  if (fastifyError.statusCode === 400) return new Problem('VALIDATION_FAILED', 'the body is not valid JSON');
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
