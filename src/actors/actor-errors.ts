/**
 * Why an actor could not answer. Each maps to 503 SERVICE_UNAVAILABLE at the edge: the request
 * may be retried, and nothing was acknowledged.
 */
export class ActorUnavailableError extends Error {
  constructor(
    message: string,
    /** Seconds a client should wait before retrying. */
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

export class MailboxFullError extends ActorUnavailableError {
  constructor(actor: string) {
    super(`mailbox of ${actor} is full`, 1);
  }
}

export class RequestTimeoutError extends ActorUnavailableError {
  constructor(actor: string) {
    super(`${actor} did not answer in time`, 1);
  }
}

export class ActorCrashedError extends ActorUnavailableError {
  constructor(actor: string) {
    super(`${actor} crashed and is recovering`, 1);
  }
}

export class ActorStoppedError extends ActorUnavailableError {
  constructor(actor: string) {
    super(`${actor} is stopping`, 1);
  }
}

export class CommitFailedError extends ActorUnavailableError {
  constructor(actor: string, cause: unknown) {
    super(`journal commit of ${actor} failed: ${cause instanceof Error ? cause.message : String(cause)}`, 1);
  }
}
