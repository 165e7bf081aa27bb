/** What a schedule actor is asked to decide. Times are epoch milliseconds. */
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
  | { type: 'Release'; reservationId: string; userId: string; now: number }
  | { type: 'Expire'; reservationId: string; now: number }
  | { type: 'Confirm'; reservationId: string; userId: string; paymentId: string; now: number };

/** Business refusals: result values, not exceptions. Mapped to HTTP codes at the edge. */
export type Rejection =
  | { code: 'SEAT_OUT_OF_RANGE'; seatNos: number[] }
  | { code: 'DUPLICATE_SEAT'; seatNos: number[] }
  | { code: 'SEAT_UNAVAILABLE'; seatNos: number[] }
  | { code: 'LIMIT_EXCEEDED'; limit: number; held: number }
  | { code: 'RESERVATION_NOT_FOUND' }
  | { code: 'NOT_OWNER' }
  | { code: 'RESERVATION_EXPIRED' }
  | { code: 'RESERVATION_NOT_HELD' };

export type RejectionCode = Rejection['code'];
