/**
 * What a use case refuses, or cannot do now, by a stable code (api.md's codes). Services throw
 * it; the HTTP edge alone (src/http/problem.ts, error-handler.ts) knows the status, the title and
 * problem+json.
 */
export type AppErrorCode =
  | 'VALIDATION_FAILED'
  | 'TOKEN_MISSING'
  | 'TOKEN_INVALID'
  | 'TOKEN_NOT_ACTIVE'
  | 'TOKEN_WRONG_CONCERT'
  | 'NOT_OWNER'
  | 'ADMIN_KEY_INVALID'
  | 'CONCERT_NOT_FOUND'
  | 'SCHEDULE_NOT_FOUND'
  | 'RESERVATION_NOT_FOUND'
  | 'SEAT_NOT_FOUND'
  | 'CHARGE_NOT_FOUND'
  | 'QUEUE_DRAW_NOT_FOUND'
  | 'SALE_NOT_OPEN'
  | 'SALE_CLOSED'
  | 'NOT_FOUND'
  | 'INSUFFICIENT_BALANCE'
  | 'PAYMENT_DECLINED'
  | 'SEAT_UNAVAILABLE'
  | 'RESERVATION_NOT_HELD'
  | 'RESERVATION_EXPIRED'
  | 'HOLD_EXTENSION_LIMIT'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'LIMIT_EXCEEDED'
  | 'RATE_LIMITED'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'PAYLOAD_TOO_LARGE'
  | 'REQUEST_TIMEOUT'
  | 'EXPECTATION_FAILED'
  | 'HEADERS_TOO_LARGE'
  | 'SERVICE_UNAVAILABLE'
  | 'OUTCOME_UNKNOWN'
  | 'PAYMENT_GATEWAY_UNAVAILABLE'
  | 'INTERNAL_ERROR';

/** Codes that say "not now" rather than "no": the request may be retried as it is. */
const UNAVAILABLE: ReadonlySet<AppErrorCode> = new Set([
  'SERVICE_UNAVAILABLE',
  'OUTCOME_UNKNOWN',
  'PAYMENT_GATEWAY_UNAVAILABLE',
  'INTERNAL_ERROR',
]);

export interface AppErrorOptions {
  retryAfterSeconds?: number;
  /** Extra members of the problem body (e.g. the chargeId of a declined charge). */
  extensions?: Record<string, unknown>;
}

export class AppError extends Error {
  constructor(
    readonly code: AppErrorCode,
    readonly detail?: string,
    readonly options: AppErrorOptions = {},
  ) {
    super(detail ?? code);
  }

  /** A business refusal (a 4xx), as opposed to a failure to serve. */
  get isRefusal(): boolean {
    return !UNAVAILABLE.has(this.code);
  }
}
