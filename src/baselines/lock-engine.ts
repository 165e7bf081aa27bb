/**
 * The `lock` baseline: the design of the report's system, done carefully. A hold takes a Redis
 * lock per seat (ascending seat order, bounded wait), then runs a PostgreSQL transaction that
 * locks the seat rows with SELECT … FOR UPDATE, checks them and writes. Payment and release take
 * a Redis lock on the reservation, then the shared transaction that locks its row. The seat map
 * is cached in Redis and deleted on every change (hold, release, sale, expiry).
 *
 * Giving up on a busy lock: a hold whose seat lock stays busy for `lockWaitMs` answers
 * SEAT_UNAVAILABLE (409) — someone is taking that seat right now and almost always succeeds, so
 * that is the answer the client would get a moment later anyway, and it costs no database work.
 * A payment or release whose reservation lock stays busy throws LockBusyError (503, retry): a
 * concurrent request on the same reservation is running and its outcome decides ours.
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
import type { Reservation } from '../persistence/reservation-repository';
import { LockBusyError } from './engine-errors';
import {
  defaultBackgroundError,
  DEFAULT_LOCK_TTL_MS,
  DEFAULT_LOCK_WAIT_MS,
  DEFAULT_SEAT_MAP_CACHE_TTL_MS,
  DEFAULT_SWEEP_INTERVAL_MS,
  type LockEngineOptions,
} from './engine-options';
import { ExpirySweeper } from './expiry-sweeper';
import { freeSeats, searchBestSeats } from './best-seat-search';
import { extendHold } from './hold-extension';
import { beginWithUserHoldLock, heldReservation, insertHoldWithinLimit } from './hold-insert';
import { payHold } from './hold-payment';
import { releaseHold } from './hold-release';
import { BaselineEngine } from './baseline-engine';
import { scheduleLockKeys } from './lock-keys';
import { lockAndCheckSeats } from './locked-seat-check';
import { RedisLocks, type LockLease } from './redis-locks';
import { SeatMapCache } from './seat-map-cache';
import { lockOrder } from './seat-numbers';
import { querySeatMapJson } from './seat-map-query';
import { refuse, retryOnDeadlock, runTransaction } from './transaction';

export type { LockEngineOptions } from './engine-options';

export class LockEngine extends BaselineEngine implements ReservationEngine {
  readonly name = 'lock' as const;
  private readonly locks: RedisLocks;
  private readonly cache: SeatMapCache;
  protected readonly sweeper: ExpirySweeper;
  private readonly onError: (error: unknown, context: string) => void;

  constructor(private readonly options: LockEngineOptions) {
    super('lock', options);
    this.onError = options.onBackgroundError ?? defaultBackgroundError;
    this.locks = new RedisLocks(
      options.redis,
      options.lockTtlMs ?? DEFAULT_LOCK_TTL_MS,
      options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS,
    );
    this.cache = new SeatMapCache(options.redis, options.keyPrefix, options.seatMapCacheTtlMs ?? DEFAULT_SEAT_MAP_CACHE_TTL_MS);
    this.sweeper = new ExpirySweeper({
      db: options.db,
      intervalMs: options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS,
      now: this.now,
      // Inside the round, so a round is done only when the caches it made stale are gone.
      onExpired: async (scheduleIds) => {
        await Promise.all(scheduleIds.map((scheduleId) => this.cache.invalidate(scheduleId)));
      },
      onError: (error) => this.onError(error, 'expiry sweep'),
    });
  }

  hold(request: HoldRequest): Promise<HoldResult> {
    return this.inFlight.run(() => (request.best ? this.lockedHoldBest(request) : this.lockedHold(request)));
  }

  /** Seats do not change: no seat-map invalidation. */
  extend(request: ExtendRequest): Promise<ExtendResult> {
    const { reservation, userId } = request;
    const { holdTtlMs, holdMaxMs } = this.options;
    return this.inFlight.run(() =>
      this.underReservationLock(
        reservation,
        () => extendHold(this.db, reservation.reservationId, userId, this.now(), { holdTtlMs, holdMaxMs }),
        { changesSeats: false },
      ),
    );
  }

  release(request: ReleaseRequest): Promise<ReleaseResult> {
    const { reservation, userId, idempotencyKey } = request;
    return this.inFlight.run(() =>
      this.underReservationLock(reservation, () =>
        releaseHold(this.db, reservation.reservationId, userId, this.now(), idempotencyKey),
      ),
    );
  }

  pay(request: PayRequest): Promise<PayResult> {
    return this.inFlight.run(() =>
      this.underReservationLock(request.reservation, () =>
        payHold(this.db, request, { now: this.now, outboxTopic: this.options.outboxTopic }),
      ),
    );
  }

  seatMapJson(scheduleId: string): Promise<string> {
    return this.cache.get(scheduleId, () => querySeatMapJson(this.db, scheduleId));
  }


  /**
   * Best-available: choose from the free seats (read once from the table), then the named-seat
   * path with seat locks tried once each: a busy lock (someone is taking that seat) or a seat found
   * taken under FOR UPDATE drops those seats from the free set, and the choice is made again.
   */
  private async lockedHoldBest(request: BestSeatsHold): Promise<HoldResult> {
    const { scheduleId, best } = request;
    const refused = await this.refuseBestBeforeChoice(request, this.now());
    if (refused) return refused;
    const layout = (await this.layouts.of(scheduleId))!;
    const free = await freeSeats(this.db, scheduleId);
    const result = await searchBestSeats<HoldResult>(layout, free, best, async (seatNos) => {
      const attempt = await this.lockedHold({ ...request, best: undefined, seatNos }, 0);
      if (!attempt.ok && attempt.rejection.code === 'SEAT_UNAVAILABLE') return { done: false, unavailable: attempt.rejection.seatNos };
      return { done: true, value: attempt };
    });
    return result ?? { ok: false, rejection: { code: 'NO_BEST_SEATS', best } };
  }

  private async lockedHold(request: NamedSeatsHold, lockWaitMs?: number): Promise<HoldResult> {
    const { scheduleId, seatNos } = request;
    const outOfRange = await this.refuseOutOfRange(request);
    if (outOfRange) return outOfRange;
    const ordered = lockOrder(seatNos);
    const keys = scheduleLockKeys(this.options.keyPrefix, scheduleId);
    const acquired = await this.locks.acquireInOrder(
      ordered.map((seatNo) => keys.seat(seatNo)),
      lockWaitMs,
    );
    if (!acquired.ok) {
      return { ok: false, rejection: { code: 'SEAT_UNAVAILABLE', seatNos: [ordered[acquired.busyIndex]!] } };
    }
    let result: HoldResult | undefined;
    try {
      result = await retryOnDeadlock(() => this.holdInDatabase(request, ordered));
      return result;
    } finally {
      await this.afterChange(acquired.lease, result?.ok ? scheduleId : undefined);
    }
  }

  /**
   * Four round trips, as the sql engine: BEGIN + advisory lock (per-user limit, see
   * hold-insert.ts), SELECT … FOR UPDATE of the seats, limit check + insert + seat update in one
   * statement, COMMIT (or ROLLBACK).
   */
  private holdInDatabase(request: NamedSeatsHold, ordered: number[]): Promise<HoldResult> {
    const { reservationId, userId, scheduleId, seatNos, idempotency } = request;
    const { holdTtlMs, maxSeatsPerUser } = this.options;
    const now = this.now();
    return runTransaction<HoldResult>(
      this.db,
      async (tx) => {
        const check = await lockAndCheckSeats(tx, scheduleId, ordered);
        if (check.missing.length > 0) return refuse({ code: 'SEAT_OUT_OF_RANGE', seatNos: check.missing });
        if (check.taken.length > 0) return refuse({ code: 'SEAT_UNAVAILABLE', seatNos: check.taken });
        const hold = { reservationId, userId, scheduleId, seatNos, amount: check.amount, now, holdTtlMs, idempotency };
        const { inserted, held } = await insertHoldWithinLimit(tx, hold, maxSeatsPerUser, { markSeats: true });
        if (!inserted) return refuse({ code: 'LIMIT_EXCEEDED', limit: maxSeatsPerUser, held });
        return { commit: true, value: { ok: true, reservation: heldReservation(hold) } };
      },
      beginWithUserHoldLock(scheduleId, userId),
    );
  }

  /** Runs `work` holding the reservation's Redis lock; a change of seats it commits invalidates the seat map. */
  private async underReservationLock<T extends { ok: boolean }>(
    reservation: Reservation,
    work: () => Promise<T>,
    { changesSeats } = { changesSeats: true },
  ): Promise<T> {
    const key = scheduleLockKeys(this.options.keyPrefix, reservation.scheduleId).reservation(reservation.reservationId);
    const acquired = await this.locks.acquireInOrder([key]);
    if (!acquired.ok) throw new LockBusyError(`reservation ${reservation.reservationId}`);
    let result: T | undefined;
    try {
      result = await work();
      return result;
    } finally {
      await this.afterChange(acquired.lease, result?.ok && changesSeats ? reservation.scheduleId : undefined);
    }
  }

  /**
   * Frees the locks and, when seats changed, deletes the cached map: both sent at once (one round
   * trip of latency). The change is committed already, so a Redis failure here must not turn it
   * into an error for the client: the lock expires by its TTL, the map by its safety TTL.
   */
  private async afterChange(lease: LockLease, changedSchedule: string | undefined): Promise<void> {
    await Promise.all([
      this.locks.release(lease).catch((error: unknown) => this.onError(error, 'lock release')),
      changedSchedule === undefined
        ? undefined
        : this.cache.invalidate(changedSchedule).catch((error: unknown) => this.onError(error, 'seat map invalidation')),
    ]);
  }
}
