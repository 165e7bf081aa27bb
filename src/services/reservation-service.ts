/** Holding, cancelling and listing reservations: the use cases behind /v1/reservations. */
import { randomUUID } from 'node:crypto';
import { AppError } from './app-error';
import type { ReservationEngine } from '../engine/reservation-engine';
import type { Reservation, ReservationRepository } from '../persistence/reservation-repository';
import type { ScheduleDirectory } from './schedule-directory';
import { activeHolder, type TokenGuard } from './token-guard';
import { rejectionError } from './rejections';
import { seatSelection, selectionHash, type HoldInput, type SeatSelection } from './seat-selection';
import { saleWindow } from '../domain/sale-window';

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: unknown })?.code === '23505';
}

/**
 * Requests of one user with one Idempotency-Key run one after the other on this instance: the
 * second then finds the first's committed row and replays it (or refuses a different body).
 * Deciding both would put two rows with one key in one commit, whose unique index would refuse the
 * whole batch — every other hold in it included.
 */
class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}

export class ReservationService {
  private readonly keyed = new KeyedQueue();

  constructor(
    private readonly engine: ReservationEngine,
    private readonly schedules: ScheduleDirectory,
    private readonly reservations: ReservationRepository,
    private readonly tokens: TokenGuard,
    private readonly maxSeatsPerHold: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * With an Idempotency-Key (optional, scoped to the token's user) the key is written on the
   * reservation row by the same commit as the hold: a replay answers the first 201, even after a
   * lost commit answer (503 OUTCOME_UNKNOWN); the same key with another request → 409.
   */
  async hold(tokenHeader: string | undefined, input: HoldInput, idempotencyKey?: string): Promise<Reservation> {
    const { token, lookup } = await this.tokens.resolve(tokenHeader);
    const { scheduleId } = input;
    const selection = seatSelection(input, this.maxSeatsPerHold);
    const schedule = await this.schedules.find(scheduleId);
    if (!schedule) throw new AppError('SCHEDULE_NOT_FOUND');
    // Before the token's state: before the on-sale time every token is WAITING, and "the sale has
    // not opened" is the answer that tells the client what to do.
    switch (saleWindow(this.now(), schedule)) {
      case 'NOT_OPEN':
        throw new AppError('SALE_NOT_OPEN', `the sale opens at ${schedule.onSaleAt}`, { extensions: { opensAt: schedule.onSaleAt } });
      case 'CLOSED':
        throw new AppError('SALE_CLOSED', `the schedule started at ${schedule.startsAt}`);
      case 'OPEN':
        break;
    }
    const holder = activeHolder(token, lookup, schedule.concertId);
    const outOfRange = (selection.seatNos ?? []).filter((n) => n > schedule.seatCount);
    if (outOfRange.length > 0) {
      throw new AppError('VALIDATION_FAILED', `no such seat: ${outOfRange.join(', ')} (seats are 1..${schedule.seatCount})`);
    }
    const idempotency = idempotencyKey === undefined ? undefined : { key: idempotencyKey, requestHash: selectionHash(scheduleId, selection) };
    if (!idempotency) return this.holdOnce(holder.userId, scheduleId, selection, undefined);
    return this.keyed.run(`hold:${holder.userId}:${idempotency.key}`, () => this.holdOnce(holder.userId, scheduleId, selection, idempotency));
  }

  private async holdOnce(
    userId: string,
    scheduleId: string,
    selection: SeatSelection,
    idempotency: { key: string; requestHash: string } | undefined,
  ): Promise<Reservation> {
    if (idempotency) {
      const first = await this.replayHold(userId, idempotency.key, idempotency.requestHash);
      if (first) return first;
    }
    const result = await this.engine
      .hold({ reservationId: randomUUID(), userId, scheduleId, ...selection, ...(idempotency ? { idempotency } : {}) })
      .catch(async (error: unknown) => {
        // Another instance raced with the same key (the baselines' insert hit the unique key).
        if (idempotency && isUniqueViolation(error)) {
          const first = await this.replayHold(userId, idempotency.key, idempotency.requestHash);
          if (first) return { ok: true as const, reservation: first };
        }
        throw error;
      });
    if (!result.ok) throw rejectionError(result.rejection);
    return result.reservation;
  }

  async cancel(tokenHeader: string | undefined, reservationId: string, idempotencyKey?: string): Promise<Reservation> {
    const { lookup } = await this.tokens.resolve(tokenHeader);
    // Cancelling needs a live token of the owner, WAITING or ACTIVE: giving seats back is always allowed.
    if (lookup.kind !== 'live') throw new AppError('TOKEN_INVALID');
    const userId = lookup.info.userId;
    const concertId = lookup.info.concertId;
    if (idempotencyKey === undefined) return this.cancelOnce(userId, concertId, reservationId, undefined);
    return this.keyed.run(`cancel:${userId}:${idempotencyKey}`, () => this.cancelOnce(userId, concertId, reservationId, idempotencyKey));
  }

  private async cancelOnce(userId: string, concertId: string, reservationId: string, idempotencyKey: string | undefined): Promise<Reservation> {
    if (idempotencyKey !== undefined) {
      const first = await this.replayCancel(userId, idempotencyKey, reservationId);
      if (first) return first;
    }
    const reservation = await this.reservations.find(reservationId);
    if (!reservation) throw new AppError('RESERVATION_NOT_FOUND');
    if (reservation.userId !== userId) throw new AppError('NOT_OWNER');
    const schedule = await this.schedules.find(reservation.scheduleId);
    if (schedule && schedule.concertId !== concertId) throw new AppError('TOKEN_WRONG_CONCERT');
    if (reservation.status === 'EXPIRED') throw new AppError('RESERVATION_EXPIRED');
    if (reservation.status !== 'HELD') throw new AppError('RESERVATION_NOT_HELD', `the reservation is ${reservation.status}`);
    const result = await this.engine.release({ reservation, userId, ...(idempotencyKey === undefined ? {} : { idempotencyKey }) });
    if (!result.ok) {
      const first = idempotencyKey !== undefined && (await this.replayCancel(userId, idempotencyKey, reservationId));
      if (first) return first;
      throw rejectionError(result.rejection);
    }
    return result.reservation;
  }

  /**
   * Owner's ACTIVE token for the reservation's concert. Anything but a live hold is 409
   * RESERVATION_NOT_HELD (api.md, "Hold extension"), an expired hold included; a hold already at
   * its creation + HOLD_MAX_SECONDS is 409 HOLD_EXTENSION_LIMIT.
   */
  async extend(tokenHeader: string | undefined, reservationId: string): Promise<Reservation> {
    const { token, lookup } = await this.tokens.resolve(tokenHeader);
    if (lookup.kind !== 'live') throw new AppError('TOKEN_INVALID');
    const reservation = await this.reservations.find(reservationId);
    if (!reservation) throw new AppError('RESERVATION_NOT_FOUND');
    if (reservation.userId !== lookup.info.userId) throw new AppError('NOT_OWNER');
    const schedule = await this.schedules.find(reservation.scheduleId);
    const holder = activeHolder(token, lookup, schedule?.concertId);
    if (reservation.status !== 'HELD') throw new AppError('RESERVATION_NOT_HELD', `the reservation is ${reservation.status}`);
    // Once the schedule has started a hold may still be paid until it expires, but not prolonged.
    if (schedule && saleWindow(this.now(), schedule) === 'CLOSED') {
      throw new AppError('SALE_CLOSED', `the schedule started at ${schedule.startsAt}: a hold is not extended any more`);
    }
    const result = await this.engine.extend({ reservation, userId: holder.userId });
    if (result.ok) return result.reservation;
    if (result.rejection.code === 'RESERVATION_EXPIRED') throw new AppError('RESERVATION_NOT_HELD', 'the reservation is EXPIRED');
    throw rejectionError(result.rejection);
  }

  private async replayHold(userId: string, key: string, hash: string): Promise<Reservation | undefined> {
    const first = await this.reservations.findByHoldKey(userId, key);
    if (!first) return undefined;
    if (first.requestHash !== hash) throw new AppError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used with a different hold');
    return first.reservation;
  }

  private async replayCancel(userId: string, key: string, reservationId: string): Promise<Reservation | undefined> {
    const first = await this.reservations.findByCancelKey(userId, key);
    if (!first) return undefined;
    if (first.reservationId !== reservationId) {
      throw new AppError('IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key cancelled another reservation');
    }
    return first;
  }

  listForUser(userId: string): Promise<Reservation[]> {
    return this.reservations.listByUser(userId);
  }
}
