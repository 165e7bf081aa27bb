/** What a schedule actor journals. Times are epoch milliseconds. */
export type ScheduleEvent =
  | {
      type: 'SeatsHeld';
      reservationId: string;
      userId: string;
      seatNos: number[];
      amount: number;
      expiresAt: number;
      at: number;
      /** The client's Idempotency-Key of the hold, and the hash of its request (no effect on seats). */
      idempotencyKey?: string;
      requestHash?: string;
    }
  | { type: 'HoldReleased'; reservationId: string; at: number; idempotencyKey?: string }
  | { type: 'HoldExpired'; reservationId: string; at: number }
  /** A live hold's expiry moved (POST /v1/reservations/{id}/extension). */
  | { type: 'HoldExtended'; reservationId: string; expiresAt: number; at: number }
  | { type: 'SeatsSold'; reservationId: string; paymentId: string; at: number }
  /**
   * A payment attempt the money side refused (balance, or its Idempotency-Key taken meanwhile).
   * It changes no seat; it fills the sequence number the attempt was given when it was decided,
   * so the journal stays dense while payments are pipelined.
   */
  | { type: 'PaymentDeclined'; reservationId: string; paymentId: string; at: number };

export type ScheduleEventType = ScheduleEvent['type'];
