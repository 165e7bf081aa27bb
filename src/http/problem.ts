/**
 * Every failure leaves as application/problem+json with a stable `code` (api.md, Conventions).
 * Services throw AppError (no HTTP in it); the edge throws Problem, an AppError with its status;
 * the error handler turns any other error into a problem that never leaks internals.
 */
import { AppError, type AppErrorCode, type AppErrorOptions } from '../services/app-error';
export type ProblemCode = AppErrorCode;

const STATUS: Record<ProblemCode, number> = {
  VALIDATION_FAILED: 400,
  TOKEN_MISSING: 401,
  TOKEN_INVALID: 401,
  INSUFFICIENT_BALANCE: 402,
  PAYMENT_DECLINED: 402,
  TOKEN_NOT_ACTIVE: 403,
  TOKEN_WRONG_CONCERT: 403,
  NOT_OWNER: 403,
  ADMIN_KEY_INVALID: 403,
  SALE_NOT_OPEN: 403,
  CONCERT_NOT_FOUND: 404,
  SCHEDULE_NOT_FOUND: 404,
  RESERVATION_NOT_FOUND: 404,
  SEAT_NOT_FOUND: 404,
  CHARGE_NOT_FOUND: 404,
  QUEUE_DRAW_NOT_FOUND: 404,
  NOT_FOUND: 404,
  SEAT_UNAVAILABLE: 409,
  SALE_CLOSED: 409,
  RESERVATION_NOT_HELD: 409,
  RESERVATION_EXPIRED: 409,
  HOLD_EXTENSION_LIMIT: 409,
  IDEMPOTENCY_KEY_REUSED: 409,
  REQUEST_TIMEOUT: 408,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  EXPECTATION_FAILED: 417,
  LIMIT_EXCEEDED: 422,
  RATE_LIMITED: 429,
  HEADERS_TOO_LARGE: 431,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
  OUTCOME_UNKNOWN: 503,
  PAYMENT_GATEWAY_UNAVAILABLE: 503,
};

const TITLES: Record<ProblemCode, string> = {
  VALIDATION_FAILED: 'The request is not valid',
  TOKEN_MISSING: 'A Queue-Token header is required',
  TOKEN_INVALID: 'The queue token is unknown, forged or expired',
  TOKEN_NOT_ACTIVE: 'The queue token is still waiting in line',
  TOKEN_WRONG_CONCERT: 'The queue token belongs to another concert',
  NOT_OWNER: 'The reservation belongs to another user',
  ADMIN_KEY_INVALID: 'The admin key is missing or wrong',
  CONCERT_NOT_FOUND: 'No such concert',
  SCHEDULE_NOT_FOUND: 'No such schedule',
  RESERVATION_NOT_FOUND: 'No such reservation',
  SEAT_NOT_FOUND: 'No such seat in this schedule',
  CHARGE_NOT_FOUND: 'No such charge',
  QUEUE_DRAW_NOT_FOUND: 'The waiting line of this concert has not been drawn',
  SALE_NOT_OPEN: 'The sale of this concert has not opened yet',
  SALE_CLOSED: 'The schedule has started; the sale is closed',
  NOT_FOUND: 'No such resource',
  INSUFFICIENT_BALANCE: 'The balance does not cover the amount',
  PAYMENT_DECLINED: 'The card gateway declined the charge',
  SEAT_UNAVAILABLE: 'A requested seat is not available',
  RESERVATION_NOT_HELD: 'The reservation is not held',
  RESERVATION_EXPIRED: 'The reservation has expired',
  HOLD_EXTENSION_LIMIT: 'The hold cannot be extended past its creation + HOLD_MAX_SECONDS',
  IDEMPOTENCY_KEY_REUSED: 'The Idempotency-Key was used with another request',
  LIMIT_EXCEEDED: 'The request exceeds a limit',
  RATE_LIMITED: 'Too many requests',
  UNSUPPORTED_MEDIA_TYPE: 'The content type is not supported',
  PAYLOAD_TOO_LARGE: 'The request body is too large',
  REQUEST_TIMEOUT: 'The request did not arrive in time',
  EXPECTATION_FAILED: 'The Expect header asks for something the server does not do',
  HEADERS_TOO_LARGE: 'The request line and headers are too large',
  SERVICE_UNAVAILABLE: 'The service is busy or recovering; retry shortly',
  OUTCOME_UNKNOWN: 'The outcome is not known yet; retry with the same Idempotency-Key to learn it',
  PAYMENT_GATEWAY_UNAVAILABLE: 'The payment gateway is unavailable; retry shortly',
  INTERNAL_ERROR: 'Internal error',
};

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  code: ProblemCode;
  detail?: string;
  [extension: string]: unknown;
}

export class Problem extends AppError {
  readonly status: number;

  constructor(code: ProblemCode, detail?: string, options: AppErrorOptions = {}) {
    super(code, detail, options);
    this.message = detail ?? TITLES[code];
    this.status = STATUS[code];
  }

  /** The HTTP form of a service's refusal. */
  static from(error: AppError): Problem {
    return error instanceof Problem ? error : new Problem(error.code, error.detail, error.options);
  }

  body(): ProblemBody {
    return {
      type: `https://ovation.dev/problems/${this.code.toLowerCase().replace(/_/g, '-')}`,
      title: TITLES[this.code],
      status: this.status,
      code: this.code,
      ...(this.detail === undefined ? {} : { detail: this.detail }),
      ...this.options.extensions,
    };
  }
}
