/** How an engine's refusal reads at the edge. */
import { AppError } from './app-error';
import type { EngineRejection } from '../engine/reservation-engine';

export function rejectionError(rejection: EngineRejection): AppError {
  switch (rejection.code) {
    case 'SEAT_OUT_OF_RANGE':
      return new AppError('VALIDATION_FAILED', `no such seat: ${rejection.seatNos.join(', ')}`);
    case 'DUPLICATE_SEAT':
      return new AppError('VALIDATION_FAILED', `seat listed twice: ${rejection.seatNos.join(', ')}`);
    case 'SEAT_UNAVAILABLE':
      return new AppError('SEAT_UNAVAILABLE', `not available: seat ${rejection.seatNos.join(', ')}`, {
        extensions: { seatNos: rejection.seatNos },
      });
    case 'NO_BEST_SEATS': {
      const { quantity, grade, adjacent } = rejection.best;
      const what = `${quantity} ${adjacent ? 'adjacent seats in one row' : 'seats'}${grade === undefined ? '' : ` of grade ${grade}`}`;
      return new AppError('SEAT_UNAVAILABLE', `no ${what} are available`, { extensions: { seatNos: [] } });
    }
    case 'HOLD_EXTENSION_LIMIT':
      return new AppError(
        'HOLD_EXTENSION_LIMIT',
        `the hold already lasts until ${new Date(rejection.expiresAt).toISOString()}, its creation + HOLD_MAX_SECONDS`,
        { extensions: { expiresAt: new Date(rejection.expiresAt).toISOString() } },
      );
    case 'LIMIT_EXCEEDED':
      return new AppError(
        'LIMIT_EXCEEDED',
        `a user may hold at most ${rejection.limit} seats of a schedule at once (holding ${rejection.held})`,
      );
    case 'RESERVATION_NOT_FOUND':
    case 'NOT_OWNER':
    case 'RESERVATION_EXPIRED':
    case 'RESERVATION_NOT_HELD':
    case 'INSUFFICIENT_BALANCE':
      return new AppError(rejection.code);
    case 'IDEMPOTENCY_KEY_TAKEN':
      return new AppError('IDEMPOTENCY_KEY_REUSED', 'a concurrent request with this Idempotency-Key won');
    default: {
      const unknown: never = rejection;
      throw new Error(`unknown rejection ${JSON.stringify(unknown)}`);
    }
  }
}
