/**
 * Optional Idempotency-Keys on holds and cancels (api.md, "Idempotency on holds"). The key is
 * written on the reservation row by the same statement that journals the decision, so after a
 * lost commit answer (503 OUTCOME_UNKNOWN) a retry with the key finds the truth in the row. The
 * indexes are partial: rows without a key (most) cost nothing.
 */
export const holdIdempotency = `
ALTER TABLE reservations
  ADD COLUMN idempotency_key        text,
  ADD COLUMN request_hash           text,
  ADD COLUMN cancel_idempotency_key text;
CREATE UNIQUE INDEX reservations_by_user_hold_key ON reservations (user_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE UNIQUE INDEX reservations_by_user_cancel_key ON reservations (user_id, cancel_idempotency_key)
  WHERE cancel_idempotency_key IS NOT NULL;
`;
