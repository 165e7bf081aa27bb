/** Holding, cancelling and listing reservations: the use cases behind /v1/reservations. */
import { randomUUID } from 'node:crypto';
import { Problem } from '../http/problem';
import type { ReservationEngine } from '../engine/reservation-engine';
import type { Reservation, ReservationRepository } from '../persistence/reservation-repository';
import type { ScheduleDirectory } from './schedule-directory';
import { activeHolder, type TokenGuard } from './token-guard';
import { rejectionProblem } from './rejections';

export class ReservationService {
  constructor(
    private readonly engine: ReservationEngine,
    private readonly schedules: ScheduleDirectory,
    private readonly reservations: ReservationRepository,
    private readonly tokens: TokenGuard,
    private readonly maxSeatsPerHold: number,
  ) {}

  async hold(tokenHeader: string | undefined, scheduleId: string, seatNos: number[]): Promise<Reservation> {
    const { token, lookup } = await this.tokens.resolve(tokenHeader);
    if (seatNos.length > this.maxSeatsPerHold) {
      throw new Problem('LIMIT_EXCEEDED', `at most ${this.maxSeatsPerHold} seats per hold`);
    }
    if (new Set(seatNos).size !== seatNos.length) throw new Problem('VALIDATION_FAILED', 'seatNos must be distinct');
    const schedule = await this.schedules.find(scheduleId);
    if (!schedule) throw new Problem('SCHEDULE_NOT_FOUND');
    const holder = activeHolder(token, lookup, schedule.concertId);
    const outOfRange = seatNos.filter((n) => n > schedule.seatCount);
    if (outOfRange.length > 0) {
      throw new Problem('VALIDATION_FAILED', `no such seat: ${outOfRange.join(', ')} (seats are 1..${schedule.seatCount})`);
    }
    const result = await this.engine.hold({ reservationId: randomUUID(), userId: holder.userId, scheduleId, seatNos });
    if (!result.ok) throw rejectionProblem(result.rejection);
    return result.reservation;
  }

  async cancel(tokenHeader: string | undefined, reservationId: string): Promise<Reservation> {
    const { lookup } = await this.tokens.resolve(tokenHeader);
    // Cancelling needs a live token of the owner, WAITING or ACTIVE: giving seats back is always allowed.
    if (lookup.kind !== 'live') throw new Problem('TOKEN_INVALID');
    const reservation = await this.reservations.find(reservationId);
    if (!reservation) throw new Problem('RESERVATION_NOT_FOUND');
    if (reservation.userId !== lookup.info.userId) throw new Problem('NOT_OWNER');
    if (reservation.status === 'EXPIRED') throw new Problem('RESERVATION_EXPIRED');
    if (reservation.status !== 'HELD') throw new Problem('RESERVATION_NOT_HELD', `the reservation is ${reservation.status}`);
    const result = await this.engine.release({ reservation, userId: lookup.info.userId });
    if (!result.ok) throw rejectionProblem(result.rejection);
    return result.reservation;
  }

  listForUser(userId: string): Promise<Reservation[]> {
    return this.reservations.listByUser(userId);
  }
}
