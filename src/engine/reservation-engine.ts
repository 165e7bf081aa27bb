/**
 * The seam between the HTTP use cases and whoever decides seats: the actor engine, or the lock
 * and sql baselines. All three keep the same tables for reservations, payments, balances and the
 * outbox, so the benchmark compares only how seats are decided.
 */
import type { EngineName } from '../config';
import type { Rejection } from '../domain/schedule-commands';
import type { PaymentReceipt } from '../persistence/payment-transaction';
import type { Reservation } from '../persistence/reservation-repository';

/** An optional client Idempotency-Key, written with the decision (same statement, same commit). */
export interface HoldIdempotency {
  key: string;
  requestHash: string;
}

export interface HoldRequest {
  reservationId: string;
  userId: string;
  scheduleId: string;
  seatNos: number[];
  idempotency?: HoldIdempotency;
}

export interface ReleaseRequest {
  reservation: Reservation;
  userId: string;
  idempotencyKey?: string;
}

export interface PayRequest {
  reservation: Reservation;
  userId: string;
  paymentId: string;
  idempotency: { scope: string; key: string; requestHash: string };
}

export type EngineRejection = Rejection | { code: 'INSUFFICIENT_BALANCE' } | { code: 'IDEMPOTENCY_KEY_TAKEN' };

export type HoldResult = { ok: true; reservation: Reservation } | { ok: false; rejection: EngineRejection };
export type ReleaseResult = { ok: true; reservation: Reservation } | { ok: false; rejection: EngineRejection };
export type PayResult = { ok: true; receipt: PaymentReceipt } | { ok: false; rejection: EngineRejection };

export interface ActorInfo {
  scheduleId: string;
  /** Messages handled per second lately (decayed over ~10 s): how hot the schedule is. */
  heat: number;
  mailboxDepth: number;
  /** Live holds (reservations), not seats. */
  activeHolds: number;
  heldSeats: number;
  soldSeats: number;
  journalSeq: number;
  snapshotSeq: number;
  lastSnapshotAt: string | null;
}

export interface ReservationEngine {
  readonly name: EngineName;
  start(): Promise<void>;
  /** Drains: every request already accepted is answered and committed before it resolves. */
  stop(): Promise<void>;
  isReady(): boolean;
  hold(request: HoldRequest): Promise<HoldResult>;
  release(request: ReleaseRequest): Promise<ReleaseResult>;
  pay(request: PayRequest): Promise<PayResult>;
  /** `{ "scheduleId", "seats": [...] }` already serialized (api.md, seat map). */
  seatMapJson(scheduleId: string): Promise<string>;
  availableSeats(scheduleId: string): Promise<number>;
  /** Live actors (empty on the baselines). */
  actors(): ActorInfo[];
}
