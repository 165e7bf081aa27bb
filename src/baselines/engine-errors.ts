/**
 * Infrastructure refusals of the baseline engines: 503 SERVICE_UNAVAILABLE with Retry-After at
 * the edge, like every EngineUnavailableError (nothing happened, retrying may help).
 */
import { EngineUnavailableError } from '../engine/engine-unavailable-error';

export class EngineStoppedError extends EngineUnavailableError {
  constructor(engine: string) {
    super(`${engine} engine is stopping`, 1);
  }
}

/** A reservation's lock stayed busy for the whole lock wait (a concurrent payment or release). */
export class LockBusyError extends EngineUnavailableError {
  constructor(what: string) {
    super(`${what} is locked by a concurrent request`, 1);
  }
}
