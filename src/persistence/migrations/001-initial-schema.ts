/**
 * Every table of ovation. Money is bigint KRW; a balance can never go negative (CHECK), a seat
 * can be paid for once (payments.reservation_id UNIQUE), a journal sequence number can be
 * written once per schedule (primary key: the fencing of design.md).
 */
export const initialSchema = `
CREATE TABLE concerts (
  id          uuid PRIMARY KEY,
  title       text NOT NULL,
  venue       text,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE schedules (
  id          uuid PRIMARY KEY,
  concert_id  uuid NOT NULL REFERENCES concerts (id),
  starts_at   timestamptz NOT NULL,
  seat_count  integer NOT NULL CHECK (seat_count BETWEEN 1 AND 100000),
  price       bigint NOT NULL CHECK (price > 0)
);
CREATE INDEX schedules_by_concert ON schedules (concert_id, starts_at);

-- grade and price are the catalogue (all engines). status and reservation_id are the seat
-- state of the lock and sql engines only: the actor engine keeps seat state in its journal.
CREATE TABLE seats (
  schedule_id     uuid NOT NULL REFERENCES schedules (id),
  seat_no         integer NOT NULL CHECK (seat_no >= 1),
  grade           text NOT NULL,
  price           bigint NOT NULL CHECK (price > 0),
  status          text NOT NULL DEFAULT 'AVAILABLE' CHECK (status IN ('AVAILABLE', 'HELD', 'SOLD')),
  reservation_id  uuid,
  PRIMARY KEY (schedule_id, seat_no)
);

CREATE TABLE balances (
  user_id     uuid PRIMARY KEY,
  balance     bigint NOT NULL CHECK (balance >= 0),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Every change of a balance, with the balance after it: balance = sum(delta) per user.
CREATE TABLE balance_ledger (
  id             bigserial PRIMARY KEY,
  user_id        uuid NOT NULL,
  delta          bigint NOT NULL CHECK (delta <> 0),
  balance_after  bigint NOT NULL CHECK (balance_after >= 0),
  kind           text NOT NULL CHECK (kind IN ('CHARGE', 'PAYMENT')),
  ref_id         uuid NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (kind, ref_id)
);
CREATE INDEX balance_ledger_by_user ON balance_ledger (user_id, id);

CREATE TABLE charges (
  id           uuid PRIMARY KEY,
  user_id      uuid NOT NULL,
  amount       bigint NOT NULL CHECK (amount > 0),
  gateway_ref  text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE reservations (
  id           uuid PRIMARY KEY,
  user_id      uuid NOT NULL,
  schedule_id  uuid NOT NULL REFERENCES schedules (id),
  seat_nos     integer[] NOT NULL,
  amount       bigint NOT NULL CHECK (amount > 0),
  status       text NOT NULL CHECK (status IN ('HELD', 'CONFIRMED', 'EXPIRED', 'CANCELLED')),
  expires_at   timestamptz NOT NULL,
  created_at   timestamptz NOT NULL,
  updated_at   timestamptz NOT NULL
);
CREATE INDEX reservations_by_user ON reservations (user_id, created_at);
CREATE INDEX reservations_held_by_expiry ON reservations (expires_at) WHERE status = 'HELD';
CREATE INDEX reservations_by_schedule ON reservations (schedule_id, status);

CREATE TABLE payments (
  id              uuid PRIMARY KEY,
  reservation_id  uuid NOT NULL UNIQUE REFERENCES reservations (id),
  user_id         uuid NOT NULL,
  amount          bigint NOT NULL CHECK (amount > 0),
  created_at      timestamptz NOT NULL DEFAULT now()
);

-- First result of a request made with an Idempotency-Key, replayed for the same key.
CREATE TABLE idempotency_keys (
  scope         text NOT NULL,
  key           text NOT NULL,
  request_hash  text NOT NULL,
  status_code   integer NOT NULL,
  response      jsonb NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, key)
);

-- The actor engine's source of truth: one row per decided event, per schedule, in order.
CREATE TABLE journal (
  schedule_id  uuid NOT NULL,
  seq          bigint NOT NULL CHECK (seq >= 1),
  type         text NOT NULL,
  payload      jsonb NOT NULL,
  recorded_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (schedule_id, seq)
);

CREATE TABLE snapshots (
  schedule_id  uuid NOT NULL,
  seq          bigint NOT NULL,
  state        jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (schedule_id, seq)
);

-- Written in the business transaction; a relay publishes it to Kafka (at least once).
CREATE TABLE outbox (
  id            bigserial PRIMARY KEY,
  event_id      uuid NOT NULL UNIQUE,
  topic         text NOT NULL,
  message_key   text NOT NULL,
  headers       jsonb NOT NULL,
  payload       jsonb NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  published_at  timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
`;
