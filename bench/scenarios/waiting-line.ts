/**
 * A buyer in the waiting line: takes a token, and while it is WAITING polls it, as often as the
 * server's estimatedWaitSeconds suggests but never less often than the cap (a line that moves
 * faster than its estimate must not leave buyers asleep) and never more than every POLL_FLOOR_MS.
 */
import type { Vu } from '../load/vu';
import { issueToken, type TokenView } from './common';

/** No poll sooner than this after the previous one, whatever the estimate. */
export const POLL_FLOOR_MS = 250;

export interface WaitingTokenView extends TokenView {
  estimatedWaitSeconds: number;
}

/** ms until the next poll: the server's estimate, within [POLL_FLOOR_MS, capMs]. */
export function pollDelayMs(estimatedWaitSeconds: number, capMs: number): number {
  return Math.min(capMs, Math.max(POLL_FLOOR_MS, estimatedWaitSeconds * 1000));
}

export type Admission = { admitted: true; token: string } | { admitted: false; why: 'no token' | 'token lost' | 'poll failed' | 'stopped' };

/**
 * Issues a token and waits until it is ACTIVE. `onWaiting` is told once when the token had to wait.
 * `giveUp` is asked before every poll (e.g. the sale is over).
 */
export async function waitUntilAdmitted<S, Sh>(
  vu: Vu<S, Sh>,
  userId: string,
  concertId: string,
  pollCapMs: number,
  giveUp: () => boolean,
): Promise<Admission> {
  let view = (await issueToken(vu, userId, concertId)) as WaitingTokenView | undefined;
  if (!view) return { admitted: false, why: 'no token' };
  const token = view.token;
  while (view.status !== 'ACTIVE') {
    await vu.sleep(pollDelayMs(view.estimatedWaitSeconds, pollCapMs));
    if (giveUp()) return { admitted: false, why: 'stopped' };
    const poll = await vu.get('token status', '/v1/queue/tokens/current', { headers: { 'queue-token': token }, expect: [200, 401] });
    // 401: the waiting token expired (not polled within QUEUE_WAITING_TTL_SECONDS): its place is lost.
    if (poll.status === 401) return { admitted: false, why: 'token lost' };
    if (!vu.check('token status answered 200', poll.status === 200)) return { admitted: false, why: 'poll failed' };
    view = { ...poll.json<WaitingTokenView>(), token };
  }
  return { admitted: true, token };
}
