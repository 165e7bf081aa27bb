/** Steps several scenarios share: queue tokens and the hold-then-release cycle. */
import { randomUUID } from 'node:crypto';
import type { Vu } from '../load/vu';

export interface TokenView {
  token: string;
  status: 'WAITING' | 'ACTIVE';
  position: number;
}

export interface HeldReservation {
  reservationId: string;
}

/** A token that bypasses the line: the scenarios that measure seats set QUEUE_MAX_ACTIVE above their users. */
export const UNTHROTTLED_QUEUE = 10_000_000;

/** The ticket price of every bench schedule (KRW). */
export const PRICE = 10_000;

export async function issueToken<S, Sh>(vu: Vu<S, Sh>, userId: string, concertId: string): Promise<TokenView | undefined> {
  const response = await vu.post('token', '/v1/queue/tokens', { userId, concertId }, { expect: [200, 201] });
  if (!vu.check('token issued', response.status === 200 || response.status === 201)) return undefined;
  return response.json<TokenView>();
}

/**
 * Issues an ACTIVE token for a fresh user of the VU (init of the hold/release scenarios); throws
 * if the line did not admit it at once, since those scenarios run with an unthrottled line.
 */
export async function activeTokenForNewUser<S, Sh>(vu: Vu<S, Sh>, concertId: string): Promise<string> {
  const token = await issueToken(vu, randomUUID(), concertId);
  if (!token) throw new Error('no token');
  if (token.status !== 'ACTIVE') throw new Error(`token is ${token.status} at position ${token.position}: is QUEUE_MAX_ACTIVE too low?`);
  return token.token;
}

/**
 * Hold one seat, and if it is ours, cancel the hold at once: one successful operation. A 409
 * (someone else holds it) is a conflict, expected under contention; the caller decides whether to
 * back off before the next try.
 */
export async function holdThenRelease<S, Sh>(
  vu: Vu<S, Sh>,
  token: string,
  scheduleId: string,
  seatNo: number,
): Promise<'released' | 'conflict' | 'failed'> {
  const headers = { 'queue-token': token };
  const hold = await vu.post('hold', '/v1/reservations', { scheduleId, seatNos: [seatNo] }, { headers, expect: [201, 409] });
  if (!vu.check('hold answered 201 or 409', hold.status === 201 || hold.status === 409)) return 'failed';
  if (hold.status !== 201) return 'conflict';
  const { reservationId } = hold.json<HeldReservation>();
  const release = await vu.delete('release', `/v1/reservations/${reservationId}`, { headers, expect: [200] });
  if (!vu.check('release answered 200', release.status === 200)) return 'failed';
  vu.success();
  return 'released';
}

/** A uniformly random wait in [minMs, maxMs] (jitter: losers of one race do not all come back together). */
export function jitteredMs<S, Sh>(vu: Vu<S, Sh>, minMs: number, maxMs: number): number {
  return minMs + vu.random(maxMs - minMs + 1);
}
