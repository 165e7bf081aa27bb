/**
 * Payment of a hold, shared by both baselines (the lock engine wraps it in its Redis lock on the
 * reservation): ONE transaction that locks the reservation row, checks it is the payer's live
 * hold, records the money side (`recordPayment`: debit, payment row, CONFIRMED, outbox,
 * idempotency record) and sells the seats. Any refusal rolls everything back.
 */
import type { Pool, PoolClient } from 'pg';
import type { PayRequest, PayResult } from '../engine/reservation-engine';
import { recordPayment } from '../persistence/payment-transaction';
import { liveHoldRejection, lockReservationRow, type ReservationRow } from './reservation-rows';
import { refuse, runTransaction } from './transaction';
import { prepared } from './prepared';

export interface PaymentContext {
  now: () => number;
  outboxTopic: string;
}

const SELL_SEATS = prepared(
  'sell-seats',
  `UPDATE seats SET status = 'SOLD' WHERE schedule_id = $1 AND seat_no = ANY ($2::int[]) AND reservation_id = $3`,
);

async function sellSeats(tx: PoolClient, row: ReservationRow): Promise<void> {
  await tx.query(SELL_SEATS([row.schedule_id, row.seat_nos, row.id]));
}

export function payHold(db: Pool, request: PayRequest, context: PaymentContext): Promise<PayResult> {
  const { reservation, userId, paymentId, idempotency } = request;
  return runTransaction<PayResult>(db, async (tx) => {
    const row = await lockReservationRow(tx, reservation.reservationId);
    // Read the clock once the row is ours: expiry is decided at the moment of the decision.
    const now = context.now();
    const rejection = liveHoldRejection(row, userId, now);
    if (rejection || !row) return refuse(rejection ?? { code: 'RESERVATION_NOT_FOUND' });
    // The amount, seats and schedule come from the locked row, not from the caller's copy.
    const outcome = await recordPayment(tx, {
      paymentId,
      reservationId: row.id,
      userId,
      scheduleId: row.schedule_id,
      seatNos: row.seat_nos,
      amount: row.amount,
      confirmedAt: new Date(now),
      outboxTopic: context.outboxTopic,
      idempotency,
    });
    if (!outcome.ok) return refuse({ code: outcome.code });
    await sellSeats(tx, row);
    return { commit: true, value: { ok: true, receipt: outcome.receipt } };
  });
}
