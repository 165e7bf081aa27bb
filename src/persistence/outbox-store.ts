/** The confirmation record of the transactional outbox (api.md, "Kafka"). */
import { randomUUID } from 'node:crypto';

export interface ReservationConfirmed {
  eventId: string;
  type: 'ReservationConfirmed';
  reservationId: string;
  paymentId: string;
  userId: string;
  scheduleId: string;
  seatNos: number[];
  amount: number;
  confirmedAt: string;
}

/** The record a payment writes to the outbox; `eventId` is stable so consumers can deduplicate. */
export function confirmationRecord(
  payment: Omit<ReservationConfirmed, 'eventId' | 'type' | 'confirmedAt'> & { confirmedAt: Date },
): ReservationConfirmed {
  const { reservationId, paymentId, userId, scheduleId, seatNos, amount, confirmedAt } = payment;
  return {
    eventId: randomUUID(),
    type: 'ReservationConfirmed',
    reservationId,
    paymentId,
    userId,
    scheduleId,
    seatNos,
    amount,
    confirmedAt: confirmedAt.toISOString(),
  };
}
