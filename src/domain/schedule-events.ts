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
    }
  | { type: 'HoldReleased'; reservationId: string; at: number }
  | { type: 'HoldExpired'; reservationId: string; at: number }
  | { type: 'SeatsSold'; reservationId: string; paymentId: string; at: number };

export type ScheduleEventType = ScheduleEvent['type'];
