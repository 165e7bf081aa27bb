/**
 * Why an engine could not answer now: a full mailbox, a timeout, a failed commit, a busy lock, a
 * shutdown. Maps to 503 SERVICE_UNAVAILABLE with Retry-After at the edge: the request may be
 * retried, and nothing was acknowledged.
 */
export class EngineUnavailableError extends Error {
  constructor(
    message: string,
    /** Seconds a client should wait before retrying. */
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}
