/** Why an actor could not answer (each a 503 at the edge, see EngineUnavailableError). */
import { EngineUnavailableError } from '../engine/engine-unavailable-error';

export class MailboxFullError extends EngineUnavailableError {
  constructor(actor: string) {
    super(`mailbox of ${actor} is full`, 1);
  }
}

export class RequestTimeoutError extends EngineUnavailableError {
  constructor(actor: string) {
    super(`${actor} did not answer in time`, 1);
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

export class CommitFailedError extends EngineUnavailableError {
  constructor(actor: string, cause: unknown) {
    super(`journal commit of ${actor} failed: ${cause instanceof Error ? cause.message : String(cause)}`, 1);
  }
}
