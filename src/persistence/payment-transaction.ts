/**
 * The money side of a payment, shared by every engine: conditional debit, payment row,
 * reservation CONFIRMED, outbox row and the idempotency record, all in the caller's
 * transaction. The engine adds its own seat change (a journal event, or seat rows) to the same
 * transaction, so a payment is all or nothing.
 */
import type { PoolClient } from 'pg';
import { confirmationRecord } from './outbox-store';

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

/**
 * The whole money side in ONE statement (one round trip instead of eight): every write hangs off
 * the conditional debit, so when the balance does not cover the amount nothing at all is written.
 * The caller's transaction commits it, or rolls it back when the key turned out to be taken.
 */
const PAY = `
WITH debit AS (
  UPDATE balances SET balance = balance - $4, updated_at = now()
  WHERE user_id = $3 AND balance >= $4 RETURNING balance
), ledger AS (
  INSERT INTO balance_ledger (user_id, delta, balance_after, kind, ref_id)
  SELECT $3, -$4::bigint, balance, 'PAYMENT', $1 FROM debit
), payment AS (
  INSERT INTO payments (id, reservation_id, user_id, amount, created_at) SELECT $1, $2, $3, $4, $5 FROM debit
), confirmed AS (
  UPDATE reservations SET status = 'CONFIRMED', updated_at = $5
  WHERE id = $2 AND status = 'HELD' AND EXISTS (SELECT 1 FROM debit) RETURNING id
), outbox_row AS (
  INSERT INTO outbox (event_id, topic, message_key, headers, payload) SELECT $6, $7, $8, $9, $10 FROM debit
), recorded AS (
  INSERT INTO idempotency_keys (scope, key, request_hash, status_code, response)
  SELECT $11, $12, $13, 201, jsonb_build_object(
    'paymentId', $1::uuid, 'reservationId', $2::uuid, 'amount', $4::bigint, 'status', 'PAID', 'balance', balance)
  FROM debit
  ON CONFLICT (scope, key) DO NOTHING RETURNING 1
)
SELECT (SELECT balance FROM debit) AS balance,
       (SELECT count(*) FROM confirmed)::int AS confirmed,
       (SELECT count(*) FROM recorded)::int AS recorded`;

export async function recordPayment(tx: PoolClient, command: PaymentCommand): Promise<PaymentOutcome> {
  const confirmation = confirmationRecord(command);
  const { rows } = await tx.query<{ balance: number | null; confirmed: number; recorded: number }>(PAY, [
    command.paymentId,
    command.reservationId,
    command.userId,
    command.amount,
    command.confirmedAt,
    confirmation.eventId,
    command.outboxTopic,
    command.scheduleId,
    JSON.stringify({ 'event-id': confirmation.eventId, type: confirmation.type }),
    JSON.stringify(confirmation),
    command.idempotency.scope,
    command.idempotency.key,
    command.idempotency.requestHash,
  ]);
  const { balance, confirmed, recorded } = rows[0]!;
  if (balance === null) return { ok: false, code: 'INSUFFICIENT_BALANCE' };
  if (confirmed !== 1) throw new ReservationStateConflict(`reservation ${command.reservationId} is not HELD`);
  if (recorded !== 1) return { ok: false, code: 'IDEMPOTENCY_KEY_TAKEN' };
  return {
    ok: true,
    receipt: { paymentId: command.paymentId, reservationId: command.reservationId, amount: command.amount, status: 'PAID', balance },
  };
}
