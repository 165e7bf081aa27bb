/**
 * Paying for a held reservation. The order of checks matters: a replay of a payment that
 * succeeded must answer 201 with the same payment even though that payment expired the token,
 * so the Idempotency-Key is looked up (for the token's user) before the token must be ACTIVE.
 */
import { randomUUID } from 'node:crypto';
import { AppError } from './app-error';
import type { PayRequest, ReservationEngine } from '../engine/reservation-engine';
import { requestHash, type IdempotencyStore } from '../persistence/idempotency-store';
import type { ReservationRepository } from '../persistence/reservation-repository';
import type { TokenLookup, TokenQueue } from '../queue/token-queue';
import { replayOrRefuse, type Replay } from './idempotency';
import { rejectionError } from './rejections';
import type { ScheduleDirectory } from './schedule-directory';
import { activeHolder, type TokenGuard } from './token-guard';

export class PaymentService {
  constructor(
    private readonly engine: ReservationEngine,
    private readonly schedules: ScheduleDirectory,
    private readonly reservations: ReservationRepository,
    private readonly idempotency: IdempotencyStore,
    private readonly tokens: TokenGuard,
    private readonly queue: TokenQueue,
    private readonly onTokenExpiryFailed: (error: unknown) => void,
    /** A confirmation was committed to the outbox (the relay looks at once). */
    private readonly onConfirmed: () => void = () => undefined,
  ) {}

  async pay(tokenHeader: string | undefined, idempotencyKey: string, reservationId: string): Promise<Replay> {
    const { token, lookup } = await this.tokens.resolve(tokenHeader);
    if (lookup.kind === 'invalid') throw new AppError('TOKEN_INVALID');
    const userId = lookup.kind === 'live' ? lookup.info.userId : lookup.userId;
    const scope = `payment:${userId}`;
    const hash = requestHash({ reservationId });
    const seen = await this.idempotency.find(scope, idempotencyKey);
    if (seen) {
      const replay = replayOrRefuse(seen, hash);
      // The first answer may have been lost before its token was expired: finish that now.
      if (replay.statusCode === 201) await this.endToken(token);
      return replay;
    }
    try {
      return await this.payFirstTime(token, lookup, userId, reservationId, { scope, key: idempotencyKey, requestHash: hash });
    } catch (error) {
      // A concurrent request with the same key may have paid meanwhile (which is why this one
      // found the reservation CONFIRMED or its token expired): answer with that payment.
      if (!(error instanceof AppError) || !error.isRefusal) throw error;
      const winner = await this.idempotency.find(scope, idempotencyKey);
      if (winner) return replayOrRefuse(winner, hash);
      throw error;
    }
  }

  private async payFirstTime(
    token: string,
    lookup: TokenLookup,
    userId: string,
    reservationId: string,
    idempotency: PayRequest['idempotency'],
  ): Promise<Replay> {
    const reservation = await this.reservations.find(reservationId);
    if (!reservation) throw new AppError('RESERVATION_NOT_FOUND');
    const schedule = await this.schedules.find(reservation.scheduleId);
    activeHolder(token, lookup, schedule?.concertId);
    if (reservation.userId !== userId) throw new AppError('NOT_OWNER');
    if (reservation.status === 'EXPIRED') throw new AppError('RESERVATION_EXPIRED');
    if (reservation.status !== 'HELD') throw new AppError('RESERVATION_NOT_HELD', `the reservation is ${reservation.status}`);

    const result = await this.engine.pay({ reservation, userId, paymentId: randomUUID(), idempotency });
    if (!result.ok) throw rejectionError(result.rejection);
    this.onConfirmed();
    await this.endToken(token);
    return { statusCode: 201, body: result.receipt };
  }

  /**
   * The payment is committed; the token's slot goes to the next in line. Redis first, then the
   * cached copy: forgetting first would let a request in between re-cache the still-ACTIVE token.
   * If Redis fails the token still ends at its TTL, so the failure is reported, not thrown.
   */
  private async endToken(token: string): Promise<void> {
    await this.queue.expire(token).catch(this.onTokenExpiryFailed);
    this.tokens.forget(token);
  }
}
