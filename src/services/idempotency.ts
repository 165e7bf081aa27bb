/** Replays the first result of a request made with the same Idempotency-Key, or refuses a reuse. */
import { AppError } from './app-error';
import type { StoredResponse } from '../persistence/idempotency-store';

export interface Replay {
  statusCode: number;
  body: unknown;
  /** True when this is an earlier attempt's answer, returned again (metrics count it apart). */
  replayed?: boolean;
}

export function replayOrRefuse(stored: StoredResponse, requestHash: string): Replay {
  if (stored.requestHash !== requestHash) {
    throw new AppError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used with a different request');
  }
  return { statusCode: stored.statusCode, body: stored.body, replayed: true };
}
