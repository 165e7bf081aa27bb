/** What a schedule actor is asked to decide. Times are epoch milliseconds. */
import type { BestSeatsRequest } from './best-available';

export type ScheduleCommand =
  | {
      type: 'Hold';
      reservationId: string;
      userId: string;
      seatNos: number[];
      now: number;
      holdTtlMs: number;
      /** Seats one user may hold at once on one schedule. */
      maxSeatsPerUser: number;
    }
  /** A hold of the best seats available (src/domain/best-available.ts), chosen when decided. */
  | {
      type: 'HoldBest';
      reservationId: string;
      userId: string;
      best: BestSeatsRequest;
      now: number;
      holdTtlMs: number;
      maxSeatsPerUser: number;
    }
  | { type: 'Release'; reservationId: string; userId: string; now: number }
  /** Moves a live hold's expiry to now + holdTtlMs, never past its creation + holdMaxMs. */
  | { type: 'Extend'; reservationId: string; userId: string; now: number; holdTtlMs: number; holdMaxMs: number }
  | { type: 'Expire'; reservationId: string; now: number }
  | { type: 'Confirm'; reservationId: string; userId: string; paymentId: string; now: number };

/** Business refusals: result values, not exceptions. Mapped to HTTP codes at the edge. */
export type Rejection =
  | { code: 'SEAT_OUT_OF_RANGE'; seatNos: number[] }
  | { code: 'DUPLICATE_SEAT'; seatNos: number[] }
  | { code: 'SEAT_UNAVAILABLE'; seatNos: number[] }
  /** No choice satisfies a best-available request (all or nothing). */
  | { code: 'NO_BEST_SEATS'; best: BestSeatsRequest }
  /** The hold already lasts until its creation + the maximum: an extension would not move it. */
  | { code: 'HOLD_EXTENSION_LIMIT'; expiresAt: number }
  | { code: 'LIMIT_EXCEEDED'; limit: number; held: number }
  | { code: 'RESERVATION_NOT_FOUND' }
  | { code: 'NOT_OWNER' }
  | { code: 'RESERVATION_EXPIRED' }
  | { code: 'RESERVATION_NOT_HELD' };

export type RejectionCode = Rejection['code'];
