/**
 * The seam between the HTTP use cases and whoever decides seats: the actor engine, or the lock
 * and sql baselines. All three keep the same tables for reservations, payments, balances and the
 * outbox, so the benchmark compares only how seats are decided.
 */
import type { EngineName } from '../config';
import type { BestSeatsRequest } from '../domain/best-available';
import type { Rejection } from '../domain/schedule-commands';
import type { PaymentReceipt } from '../persistence/payment-transaction';
import type { Reservation } from '../persistence/reservation-repository';

/** An optional client Idempotency-Key, written with the decision (same statement, same commit). */
export interface HoldIdempotency {
  key: string;
  requestHash: string;
}

interface HoldBase {
  reservationId: string;
  userId: string;
  scheduleId: string;
  idempotency?: HoldIdempotency;
}

/** Named seats, or the best available ones (src/domain/best-available.ts), chosen by the engine. */
export type HoldRequest = NamedSeatsHold | BestSeatsHold;
export type NamedSeatsHold = HoldBase & { seatNos: number[]; best?: undefined };
export type BestSeatsHold = HoldBase & { best: BestSeatsRequest; seatNos?: undefined };

export interface ExtendRequest {
  reservation: Reservation;
  userId: string;
}

/** One seat-changing decision about a seat (GET /v1/admin/schedules/{id}/seats/{seatNo}/history). */
export interface SeatHistoryEvent {
  /** The journal's sequence number (actor engine); on the baselines, the event's place in the list. */
  seq: number;
  type: 'HELD' | 'EXTENDED' | 'CANCELLED' | 'EXPIRED' | 'SOLD';
  reservationId: string;
  userId: string;
  at: string;
}

export interface SeatHistory {
  /** Where it was read: the actor engine's journal, or the baselines' reservation rows. */
  source: 'journal' | 'reservations';
  events: SeatHistoryEvent[];
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
export type ExtendResult = { ok: true; reservation: Reservation } | { ok: false; rejection: EngineRejection };
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
  /** Moves a live hold's expiry (now + the TTL, never past its creation + the maximum). */
  extend(request: ExtendRequest): Promise<ExtendResult>;
  /** A seat's decisions, oldest first; the caller has checked that the schedule and seat exist. */
  seatHistory(scheduleId: string, seatNo: number): Promise<SeatHistory>;
  /** `{ "scheduleId", "seats": [...] }` already serialized (api.md, seat map). */
  seatMapJson(scheduleId: string): Promise<string>;
  availableSeats(scheduleId: string): Promise<number>;
  /** Live actors (empty on the baselines). */
  actors(): ActorInfo[];
}
