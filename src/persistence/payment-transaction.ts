/**
 * The money side of a payment, shared by every engine: conditional debit, payment row,
 * reservation CONFIRMED, outbox row and the idempotency record, all in the caller's
 * transaction. The engine adds its own seat change (a journal event, or seat rows) to the same
 * transaction, so a payment is all or nothing.
 */
import type { PoolClient } from 'pg';
import { debit } from './balance-repository';
import { recordResponse, type StoredResponse } from './idempotency-store';
import { enqueueConfirmation } from './outbox-store';

export interface PaymentCommand {
  paymentId: string;
  reservationId: string;
  userId: string;
  scheduleId: string;
  seatNos: number[];
  amount: number;
  confirmedAt: Date;
  outboxTopic: string;
  idempotency: { scope: string; key: string; requestHash: string };
}

export interface PaymentReceipt {
  paymentId: string;
  reservationId: string;
  amount: number;
  status: 'PAID';
  balance: number;
}

export type PaymentOutcome =
  | { ok: true; receipt: PaymentReceipt }
  | { ok: false; code: 'INSUFFICIENT_BALANCE' }
  /** The key was used meanwhile by a concurrent request: roll back and answer with its result. */
  | { ok: false; code: 'IDEMPOTENCY_KEY_TAKEN' };

/** Thrown when the reservation row is not HELD although the engine decided it was. */
export class ReservationStateConflict extends Error {}

export async function recordPayment(tx: PoolClient, command: PaymentCommand): Promise<PaymentOutcome> {
  const balance = await debit(tx, command.userId, command.amount, command.paymentId);
  if (balance === undefined) return { ok: false, code: 'INSUFFICIENT_BALANCE' };
  await tx.query('INSERT INTO payments (id, reservation_id, user_id, amount, created_at) VALUES ($1, $2, $3, $4, $5)', [
    command.paymentId,
    command.reservationId,
    command.userId,
    command.amount,
    command.confirmedAt,
  ]);
  const updated = await tx.query(
    `UPDATE reservations SET status = 'CONFIRMED', updated_at = $2 WHERE id = $1 AND status = 'HELD'`,
    [command.reservationId, command.confirmedAt],
  );
  if (updated.rowCount !== 1) throw new ReservationStateConflict(`reservation ${command.reservationId} is not HELD`);
  await enqueueConfirmation(tx, command.outboxTopic, {
    reservationId: command.reservationId,
    paymentId: command.paymentId,
    userId: command.userId,
    scheduleId: command.scheduleId,
    seatNos: command.seatNos,
    amount: command.amount,
    confirmedAt: command.confirmedAt.toISOString(),
  });
  const receipt: PaymentReceipt = {
    paymentId: command.paymentId,
    reservationId: command.reservationId,
    amount: command.amount,
    status: 'PAID',
    balance,
  };
  const stored: StoredResponse = { requestHash: command.idempotency.requestHash, statusCode: 201, body: receipt };
  const recorded = await recordResponse(tx, command.idempotency.scope, command.idempotency.key, stored);
  if (!recorded) return { ok: false, code: 'IDEMPOTENCY_KEY_TAKEN' };
  return { ok: true, receipt };
}
