/** How an engine's refusal reads at the edge. */
import { Problem } from '../http/problem';
import type { EngineRejection } from '../engine/reservation-engine';

export function rejectionProblem(rejection: EngineRejection): Problem {
  switch (rejection.code) {
    case 'SEAT_OUT_OF_RANGE':
      return new Problem('VALIDATION_FAILED', `no such seat: ${rejection.seatNos.join(', ')}`);
    case 'DUPLICATE_SEAT':
      return new Problem('VALIDATION_FAILED', `seat listed twice: ${rejection.seatNos.join(', ')}`);
    case 'SEAT_UNAVAILABLE':
      return new Problem('SEAT_UNAVAILABLE', `not available: seat ${rejection.seatNos.join(', ')}`, {
        extensions: { seatNos: rejection.seatNos },
      });
    case 'LIMIT_EXCEEDED':
      return new Problem(
        'LIMIT_EXCEEDED',
        `a user may hold at most ${rejection.limit} seats of a schedule at once (holding ${rejection.held})`,
      );
    case 'RESERVATION_NOT_FOUND':
    case 'NOT_OWNER':
    case 'RESERVATION_EXPIRED':
    case 'RESERVATION_NOT_HELD':
    case 'INSUFFICIENT_BALANCE':
      return new Problem(rejection.code);
    case 'IDEMPOTENCY_KEY_TAKEN':
      return new Problem('IDEMPOTENCY_KEY_REUSED', 'a concurrent request with this Idempotency-Key won');
    default: {
      const unknown: never = rejection;
      throw new Error(`unknown rejection ${JSON.stringify(unknown)}`);
    }
  }
}
