/** What both waiting lines (Redis and in-process) answer for a live token: the port's TokenInfo. */
import type { TokenInfo, TokenStatus } from './types';
import { estimateWaitSeconds } from './wait-estimate';

export interface LiveTokenFacts {
  token: string;
  userId: string;
  status: TokenStatus;
  position: number;
  activeUntilMs: number | null;
  admissionsLastMinute: number;
}

export function tokenInfo(
  concertId: string,
  facts: LiveTokenFacts,
  line: { maxActive: number; activeTtlSeconds: number },
): TokenInfo {
  return {
    token: facts.token,
    status: facts.status,
    position: facts.position,
    estimatedWaitSeconds: estimateWaitSeconds({
      position: facts.position,
      maxActive: line.maxActive,
      activeTtlSeconds: line.activeTtlSeconds,
      admissionsLastMinute: facts.admissionsLastMinute,
    }),
    activeUntil: facts.activeUntilMs === null ? null : new Date(facts.activeUntilMs).toISOString(),
    userId: facts.userId,
    concertId,
  };
}
