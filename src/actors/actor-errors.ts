/**
 * Why an actor could not answer: EngineUnavailableError ones are 503 SERVICE_UNAVAILABLE (nothing
 * applied); EngineOutcomeUnknownError ones are 503 OUTCOME_UNKNOWN (a commit's answer was lost).
 */
import { EngineOutcomeUnknownError } from '../engine/outcome-unknown-error';
import { EngineUnavailableError } from '../engine/engine-unavailable-error';

export class MailboxFullError extends EngineUnavailableError {
  constructor(actor: string) {
    super(`mailbox of ${actor} is full`, 1);
  }
}

/** The ask's deadline passed before the actor took the message: it will never be decided. */
export class RequestTimeoutError extends EngineUnavailableError {
  constructor(actor: string) {
    super(`${actor} did not answer in time; the request was not applied`, 1);
  }
}

/** The actor decided the command but its commit did not answer in time (bounded by the pool's timeouts). */
export class DecidedTimeoutError extends EngineOutcomeUnknownError {
  constructor(actor: string) {
    super(`${actor} decided the request but its commit did not finish in time`, 2);
  }
}

export class ActorCrashedError extends EngineUnavailableError {
  constructor(actor: string) {
    super(`${actor} crashed and is recovering`, 1);
  }
}

export class ActorStoppedError extends EngineUnavailableError {
  constructor(actor: string) {
    super(`${actor} is stopping`, 1);
  }
}

/** The commit failed before it could apply anything (refused by the server, never sent). */
export class CommitFailedError extends EngineUnavailableError {
  constructor(actor: string, cause: unknown) {
    super(`journal commit of ${actor} failed: ${cause instanceof Error ? cause.message : String(cause)}`, 1);
  }
}

/** The commit was sent and its answer lost: it may have applied. The actor reloads from the journal. */
export class CommitOutcomeUnknownError extends EngineOutcomeUnknownError {
  constructor(actor: string, cause: unknown) {
    super(`journal commit of ${actor} lost its answer: ${cause instanceof Error ? cause.message : String(cause)}`, 2);
  }
}
