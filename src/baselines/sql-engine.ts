/**
 * The `sql` baseline: no Redis, no application locks. A hold is one transaction around a
 * conditional UPDATE of the seat rows (all or nothing), the strongest lock-free database design
 * we know; release, payment and expiry are the shared conditional statements and transactions of
 * this folder. A best-available hold locks its chosen seats with SELECT … FOR UPDATE SKIP LOCKED
 * and chooses again around seats a concurrent hold has (best-seat-search.ts). Seat maps are read from the seats table on every request.
 */
import type {
  BestSeatsHold,
  ExtendRequest,
  ExtendResult,
  HoldRequest,
  NamedSeatsHold,
  HoldResult,
  PayRequest,
  PayResult,
  ReleaseRequest,
  ReleaseResult,
  ReservationEngine,
} from '../engine/reservation-engine';
import { freeSeats, searchBestSeats } from './best-seat-search';
import { claimAvailableSeats } from './conditional-seat-claim';
import { extendHold } from './hold-extension';
import { lockFreeSeatsSkippingLocked } from './skip-locked-seats';
import { defaultBackgroundError, DEFAULT_SWEEP_INTERVAL_MS, type BaselineEngineOptions } from './engine-options';
import { ExpirySweeper } from './expiry-sweeper';
import { beginWithUserHoldLock, heldReservation, insertHoldWithinLimit } from './hold-insert';
import { payHold } from './hold-payment';
import { releaseHold } from './hold-release';
import { BaselineEngine } from './baseline-engine';
import { lockOrder } from './seat-numbers';
import { querySeatMapJson } from './seat-map-query';
import { refuse, retryOnDeadlock, runTransaction } from './transaction';

export type SqlEngineOptions = BaselineEngineOptions;

export class SqlEngine extends BaselineEngine implements ReservationEngine {
  readonly name = 'sql' as const;
  protected readonly sweeper: ExpirySweeper;

  constructor(private readonly options: SqlEngineOptions) {
    super('sql', options);
    const onError = options.onBackgroundError ?? defaultBackgroundError;
    this.sweeper = new ExpirySweeper({
      db: options.db,
      intervalMs: options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS,
      now: this.now,
      onError: (error) => onError(error, 'expiry sweep'),
    });
  }

  hold(request: HoldRequest): Promise<HoldResult> {
    return this.inFlight.run(() => retryOnDeadlock(() => (request.best ? this.tryHoldBest(request) : this.tryHold(request))));
  }

  extend(request: ExtendRequest): Promise<ExtendResult> {
    const { holdTtlMs, holdMaxMs } = this.options;
    return this.inFlight.run(() =>
      extendHold(this.db, request.reservation.reservationId, request.userId, this.now(), { holdTtlMs, holdMaxMs }),
    );
  }

  release(request: ReleaseRequest): Promise<ReleaseResult> {
    return this.inFlight.run(() =>
      releaseHold(this.db, request.reservation.reservationId, request.userId, this.now(), request.idempotencyKey),
    );
  }

  pay(request: PayRequest): Promise<PayResult> {
    return this.inFlight.run(() => payHold(this.db, request, { now: this.now, outboxTopic: this.options.outboxTopic }));
  }

  seatMapJson(scheduleId: string): Promise<string> {
    return querySeatMapJson(this.db, scheduleId);
  }


  /**
   * Refusals come in the actor engine's order: out of range (in memory), taken, limit. Four round
   * trips: BEGIN + advisory lock, the conditional claim, the limit check + insert, COMMIT (or
   * ROLLBACK).
   */
  private async tryHold(request: NamedSeatsHold): Promise<HoldResult> {
    const { reservationId, userId, scheduleId, seatNos, idempotency } = request;
    const outOfRange = await this.refuseOutOfRange(request);
    if (outOfRange) return outOfRange;
    const now = this.now();
    const { holdTtlMs, maxSeatsPerUser } = this.options;
    return runTransaction<HoldResult>(
      this.db,
      async (tx) => {
        const claim = await claimAvailableSeats(tx, scheduleId, reservationId, lockOrder(seatNos));
        if (claim.taken.length > 0) return refuse({ code: 'SEAT_UNAVAILABLE', seatNos: claim.taken });
        const hold = { reservationId, userId, scheduleId, seatNos, amount: claim.amount, now, holdTtlMs, idempotency };
        const { inserted, held } = await insertHoldWithinLimit(tx, hold, maxSeatsPerUser, { markSeats: false });
        if (!inserted) return refuse({ code: 'LIMIT_EXCEEDED', limit: maxSeatsPerUser, held });
        return { commit: true, value: { ok: true, reservation: heldReservation(hold) } };
      },
      beginWithUserHoldLock(scheduleId, userId),
    );
  }

  /**
   * Best-available: choose from the free seats (read in the transaction), lock the choice with
   * SELECT … FOR UPDATE SKIP LOCKED behind a savepoint; seats skipped (a concurrent hold has them)
   * or no longer AVAILABLE are dropped from the free set, the savepoint undoes the partial locks,
   * and the choice is made again. The locked seats become HELD by the insert's statement.
   */
  private async tryHoldBest(request: BestSeatsHold): Promise<HoldResult> {
    const { reservationId, userId, scheduleId, idempotency, best } = request;
    const now = this.now();
    const refused = await this.refuseBestBeforeChoice(request, now);
    if (refused) return refused;
    const layout = (await this.layouts.of(scheduleId))!;
    const { holdTtlMs, maxSeatsPerUser } = this.options;
    return runTransaction<HoldResult>(
      this.db,
      async (tx) => {
        const free = await freeSeats(tx, scheduleId);
        const claimed = await searchBestSeats(layout, free, best, async (seatNos) => {
          await tx.query('SAVEPOINT best_seats');
          const locked = await lockFreeSeatsSkippingLocked(tx, scheduleId, seatNos);
          if (locked.seatNos.size === seatNos.length) return { done: true, value: { seatNos, amount: locked.amount } };
          // Undo the partial locks and drop the savepoint, so retries do not nest subtransactions.
          await tx.query('ROLLBACK TO SAVEPOINT best_seats; RELEASE SAVEPOINT best_seats');
          return { done: false, unavailable: seatNos.filter((seatNo) => !locked.seatNos.has(seatNo)) };
        });
        if (!claimed) return refuse({ code: 'NO_BEST_SEATS', best });
        const hold = { reservationId, userId, scheduleId, ...claimed, now, holdTtlMs, idempotency };
        const { inserted, held } = await insertHoldWithinLimit(tx, hold, maxSeatsPerUser, { markSeats: true });
        if (!inserted) return refuse({ code: 'LIMIT_EXCEEDED', limit: maxSeatsPerUser, held });
        return { commit: true, value: { ok: true, reservation: heldReservation(hold) } };
      },
      beginWithUserHoldLock(scheduleId, userId),
    );
  }
}
