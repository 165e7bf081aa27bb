/** What both waiting lines (Redis and in-process) answer for a live token: the port's TokenInfo. */
import type { TokenInfo, TokenStatus } from './types';
import { estimateWaitSeconds } from './wait-estimate';

export interface LiveTokenFacts {
  token: string;
  userId: string;
  status: TokenStatus;
  /** null in the pre-queue. */
  position: number | null;
  activeUntilMs: number | null;
  admissionsLastMinute: number;
  /** The on-sale time, in the pre-queue only. */
  opensAtMs: number | null;
}

export function tokenInfo(
  concertId: string,
  facts: LiveTokenFacts,
  line: { maxActive: number; activeTtlSeconds: number; now: number },
): TokenInfo {
  const { position } = facts;
  const preQueued = position === null;
  return {
    token: facts.token,
    status: facts.status,
    position,
    // In the pre-queue nobody's place is known before the draw: the wait is at least until then.
    estimatedWaitSeconds: preQueued
      ? Math.max(0, Math.ceil(((facts.opensAtMs ?? line.now) - line.now) / 1000))
      : estimateWaitSeconds({
          position,
          maxActive: line.maxActive,
          activeTtlSeconds: line.activeTtlSeconds,
          admissionsLastMinute: facts.admissionsLastMinute,
        }),
    activeUntil: facts.activeUntilMs === null ? null : new Date(facts.activeUntilMs).toISOString(),
    ...(preQueued && facts.opensAtMs !== null ? { opensAt: new Date(facts.opensAtMs).toISOString() } : {}),
    userId: facts.userId,
    concertId,
  };
}
