/**
 * The `sql` baseline: no Redis, no application locks. A hold is one transaction around a
 * conditional UPDATE of the seat rows (all or nothing), the strongest lock-free database design
 * we know; release, payment and expiry are the shared conditional statements and transactions of
 * this folder. Seat maps are read from the seats table on every request.
 */
import type { Pool } from 'pg';
import type {
  ActorInfo,
  HoldRequest,
  HoldResult,
  PayRequest,
  PayResult,
  ReleaseRequest,
  ReleaseResult,
  ReservationEngine,
} from '../engine/reservation-engine';
import { claimAvailableSeats } from './conditional-seat-claim';
import { defaultBackgroundError, DEFAULT_SWEEP_INTERVAL_MS, type BaselineEngineOptions } from './engine-options';
import { ExpirySweeper } from './expiry-sweeper';
import { beginWithUserHoldLock, heldReservation, insertHoldWithinLimit } from './hold-insert';
import { payHold } from './hold-payment';
import { releaseHold } from './hold-release';
import { InFlight } from './in-flight';
import { SeatCounts } from './seat-counts';
import { lockOrder, seatsOutOfRange } from './seat-numbers';
import { queryAvailableSeats, querySeatMapJson } from './seat-map-query';
import { refuse, retryOnDeadlock, runTransaction } from './transaction';

export type SqlEngineOptions = BaselineEngineOptions;

export class SqlEngine implements ReservationEngine {
  readonly name = 'sql' as const;
  private readonly db: Pool;
  private readonly now: () => number;
  private readonly sweeper: ExpirySweeper;
  private readonly inFlight = new InFlight('sql');
  private readonly seatCounts: SeatCounts;

  constructor(private readonly options: SqlEngineOptions) {
    this.db = options.db;
    this.now = options.now ?? Date.now;
    this.seatCounts = new SeatCounts(options.db);
    const onError = options.onBackgroundError ?? defaultBackgroundError;
    this.sweeper = new ExpirySweeper({
      db: options.db,
      intervalMs: options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS,
      now: this.now,
      onError: (error) => onError(error, 'expiry sweep'),
    });
  }

  async start(): Promise<void> {
    this.inFlight.openGate();
    this.sweeper.start();
  }

  async stop(): Promise<void> {
    await this.inFlight.close();
    await this.sweeper.stop();
  }

  isReady(): boolean {
    return this.inFlight.isOpen;
  }

  hold(request: HoldRequest): Promise<HoldResult> {
    return this.inFlight.run(() => retryOnDeadlock(() => this.tryHold(request)));
  }

  release(request: ReleaseRequest): Promise<ReleaseResult> {
    return this.inFlight.run(() =>
      releaseHold(this.db, request.reservation.reservationId, request.userId, this.now()),
    );
  }

  pay(request: PayRequest): Promise<PayResult> {
    return this.inFlight.run(() => payHold(this.db, request, { now: this.now, outboxTopic: this.options.outboxTopic }));
  }

  seatMapJson(scheduleId: string): Promise<string> {
    return querySeatMapJson(this.db, scheduleId);
  }

  availableSeats(scheduleId: string): Promise<number> {
    return queryAvailableSeats(this.db, scheduleId);
  }

  actors(): ActorInfo[] {
    return [];
  }

  /**
   * Refusals come in the actor engine's order: out of range (in memory), taken, limit. Four round
   * trips: BEGIN + advisory lock, the conditional claim, the limit check + insert, COMMIT (or
   * ROLLBACK).
   */
  private async tryHold({ reservationId, userId, scheduleId, seatNos }: HoldRequest): Promise<HoldResult> {
    if (seatNos.length === 0) throw new RangeError('a hold needs at least one seat');
    const outOfRange = seatsOutOfRange(seatNos, await this.seatCounts.of(scheduleId));
    if (outOfRange.length > 0) return { ok: false, rejection: { code: 'SEAT_OUT_OF_RANGE', seatNos: outOfRange } };
    const now = this.now();
    const { holdTtlMs, maxSeatsPerUser } = this.options;
    return runTransaction<HoldResult>(
      this.db,
      async (tx) => {
        const claim = await claimAvailableSeats(tx, scheduleId, reservationId, lockOrder(seatNos));
        if (claim.taken.length > 0) return refuse({ code: 'SEAT_UNAVAILABLE', seatNos: claim.taken });
        const hold = { reservationId, userId, scheduleId, seatNos, amount: claim.amount, now, holdTtlMs };
        const { inserted, held } = await insertHoldWithinLimit(tx, hold, maxSeatsPerUser, { markSeats: false });
        if (!inserted) return refuse({ code: 'LIMIT_EXCEEDED', limit: maxSeatsPerUser, held });
        return { commit: true, value: { ok: true, reservation: heldReservation(hold) } };
      },
      beginWithUserHoldLock(scheduleId, userId),
    );
  }
}
