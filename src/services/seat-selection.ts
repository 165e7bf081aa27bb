/**
 * Which seats a hold asks for (api.md, "Best-available seats"): named seats, or the best
 * available ones. Exactly one of the two; `adjacent` defaults to true. The Idempotency-Key's
 * fingerprint is the request as asked (a replay with the same key and body returns the seats
 * first chosen; another body is 409), and for named seats it is what it was before `best` existed.
 */
import { AppError } from './app-error';
import type { BestSeatsRequest } from '../domain/best-available';
import { requestHash } from '../persistence/idempotency-store';

export interface HoldInput {
  scheduleId: string;
  seatNos?: number[] | undefined;
  best?: { quantity: number; grade?: string | undefined; adjacent?: boolean | undefined } | undefined;
}

export type SeatSelection = { seatNos: number[]; best?: undefined } | { best: BestSeatsRequest; seatNos?: undefined };

export function seatSelection(input: HoldInput, maxSeatsPerHold: number): SeatSelection {
  const { seatNos, best } = input;
  if ((seatNos === undefined) === (best === undefined)) {
    throw new AppError('VALIDATION_FAILED', 'give exactly one of seatNos and best');
  }
  if (best) {
    if (best.quantity > maxSeatsPerHold) throw new AppError('LIMIT_EXCEEDED', `at most ${maxSeatsPerHold} seats per hold`);
    return { best: { quantity: best.quantity, adjacent: best.adjacent ?? true, ...(best.grade === undefined ? {} : { grade: best.grade }) } };
  }
  const named = seatNos!;
  if (named.length > maxSeatsPerHold) throw new AppError('LIMIT_EXCEEDED', `at most ${maxSeatsPerHold} seats per hold`);
  if (new Set(named).size !== named.length) throw new AppError('VALIDATION_FAILED', 'seatNos must be distinct');
  return { seatNos: named };
}

export function selectionHash(scheduleId: string, selection: SeatSelection): string {
  return selection.best ? requestHash({ scheduleId, best: selection.best }) : requestHash({ scheduleId, seatNos: selection.seatNos });
}
