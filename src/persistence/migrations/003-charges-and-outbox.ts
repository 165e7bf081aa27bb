/**
 * Charges through a real card gateway (issue: money in, confirmations out).
 *
 * - A charge row is written PENDING before the gateway is called and settled afterwards, so an
 *   approval the server did not credit (a crash in between, a timeout) is found and reconciled.
 *   The row is also the charge's idempotency record: (user_id, idempotency_key) is unique.
 *   Rows written before this migration were approved by the sandbox; their key and request hash
 *   come from the idempotency records that used to answer their replays.
 * - `next_check_at` is the reconciler's lease: it asks about a PENDING charge only once the
 *   request that created it has given up on the gateway.
 * - Outbox records carry the event type as a Kafka header too (api.md, "Kafka record headers").
 */
export const chargesAndOutbox = `
ALTER TABLE charges
  ALTER COLUMN gateway_ref DROP NOT NULL,
  ADD COLUMN idempotency_key text,
  ADD COLUMN request_hash    text,
  ADD COLUMN status          text NOT NULL DEFAULT 'APPROVED' CHECK (status IN ('PENDING', 'APPROVED', 'DECLINED')),
  ADD COLUMN decline_reason  text,
  ADD COLUMN balance_after   bigint,
  ADD COLUMN settled_at      timestamptz,
  ADD COLUMN next_check_at   timestamptz,
  ADD COLUMN checks          integer NOT NULL DEFAULT 0;

UPDATE charges c SET idempotency_key = i.key, request_hash = i.request_hash, settled_at = c.created_at
  FROM idempotency_keys i
 WHERE i.scope = 'charge:' || c.user_id AND i.response->>'chargeId' = c.id::text;
UPDATE charges c SET balance_after = l.balance_after
  FROM balance_ledger l WHERE l.kind = 'CHARGE' AND l.ref_id = c.id;
UPDATE charges SET settled_at = created_at WHERE settled_at IS NULL;
DELETE FROM idempotency_keys WHERE scope LIKE 'charge:%';

ALTER TABLE charges ALTER COLUMN status DROP DEFAULT;
CREATE UNIQUE INDEX charges_by_user_key ON charges (user_id, idempotency_key);
CREATE INDEX charges_pending ON charges (next_check_at) WHERE status = 'PENDING';

UPDATE outbox SET headers = headers || jsonb_build_object('type', payload->>'type') WHERE NOT headers ? 'type';
`;
