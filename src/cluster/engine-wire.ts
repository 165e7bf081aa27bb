/**
 * The one hop between instances: an engine call for a schedule this instance does not own goes to
 * its owner as `POST /internal/v1/engine/<op>` with the call's argument as JSON, and comes back as
 * the call's result, or as one of a fixed set of failures that keep their meaning across the hop
 * (503 nothing applied, 503 outcome unknown). Only the decision hops: tokens, rate limits,
 * validation and idempotency records were handled by the instance the client reached.
 */
import { EngineOutcomeUnknownError } from '../engine/outcome-unknown-error';
import { EngineUnavailableError } from '../engine/engine-unavailable-error';
import { isTransientDatabaseError, StatementOutcomeUnknownError } from '../persistence/database';

export const FORWARDED_OPS = ['hold', 'release', 'extend', 'pay', 'seatMap'] as const;
export type ForwardedOp = (typeof FORWARDED_OPS)[number];

/** Ops that change state: a hop that breaks after sending one may have applied it. */
export const WRITE_OPS: ReadonlySet<ForwardedOp> = new Set(['hold', 'release', 'extend', 'pay']);

export const CLUSTER_SECRET_HEADER = 'x-ovation-cluster-secret';
/** Loop guard: a forwarded call is served locally or refused, never forwarded again. */
export const FORWARDED_BY_HEADER = 'x-ovation-forwarded-by';

export type WireFailureKind = 'unavailable' | 'outcome_unknown' | 'not_owner' | 'internal';

export interface WireFailure {
  kind: WireFailureKind;
  message: string;
  retryAfterSeconds: number;
}

/** The owner no longer serves the partition (lost it, or it is rebalancing): nothing was applied. */
export class NotOwnerError extends EngineUnavailableError {
  constructor(message: string) {
    super(message, 1);
  }
}

/** The owner could not be reached, or was shutting down: the call was never applied. The map is read again. */
export class OwnerUnreachableError extends NotOwnerError {}

/** How an error on the owner crosses the hop. */
export function toWireFailure(error: unknown): WireFailure {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof NotOwnerError) return { kind: 'not_owner', message, retryAfterSeconds: error.retryAfterSeconds };
  if (error instanceof EngineOutcomeUnknownError) return { kind: 'outcome_unknown', message, retryAfterSeconds: error.retryAfterSeconds };
  if (error instanceof StatementOutcomeUnknownError) return { kind: 'outcome_unknown', message, retryAfterSeconds: 2 };
  if (error instanceof EngineUnavailableError) return { kind: 'unavailable', message, retryAfterSeconds: error.retryAfterSeconds };
  if (isTransientDatabaseError(error)) return { kind: 'unavailable', message, retryAfterSeconds: 1 };
  return { kind: 'internal', message, retryAfterSeconds: 0 };
}

/** The same failure on the caller's side, so its edge answers exactly what the owner's would have. */
export function fromWireFailure(failure: WireFailure, owner: string): Error {
  const message = `${failure.message} (on ${owner})`;
  const retryAfter = Math.max(1, Math.min(60, Math.round(failure.retryAfterSeconds) || 1));
  switch (failure.kind) {
    case 'not_owner':
      return new NotOwnerError(message);
    case 'unavailable':
      return new EngineUnavailableError(message, retryAfter);
    case 'outcome_unknown':
      return new EngineOutcomeUnknownError(message, retryAfter);
    default:
      return new Error(message);
  }
}

export function isWireFailure(value: unknown): value is WireFailure {
  if (typeof value !== 'object' || value === null) return false;
  const { kind, message, retryAfterSeconds } = value as Record<string, unknown>;
  return (
    typeof kind === 'string' &&
    ['unavailable', 'outcome_unknown', 'not_owner', 'internal'].includes(kind) &&
    typeof message === 'string' &&
    typeof retryAfterSeconds === 'number'
  );
}
