/**
 * Infrastructure refusals of the baseline engines. They extend the actor engine's
 * ActorUnavailableError on purpose: the HTTP edge already maps that to 503 SERVICE_UNAVAILABLE
 * with Retry-After, and these mean the same thing (nothing happened, retrying may help).
 */
import { ActorUnavailableError } from '../actors/actor-errors';

export class EngineStoppedError extends ActorUnavailableError {
  constructor(engine: string) {
    super(`${engine} engine is stopping`, 1);
  }
}

/** A reservation's lock stayed busy for the whole lock wait (a concurrent payment or release). */
export class LockBusyError extends ActorUnavailableError {
  constructor(what: string) {
    super(`${what} is locked by a concurrent request`, 1);
  }
}
