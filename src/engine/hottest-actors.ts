import type { ActorInfo } from './reservation-engine';

/** The `topN` hottest actors: highest heat first, ties by deeper mailbox, then schedule id (stable). */
export function hottestActors(actors: readonly ActorInfo[], topN: number): ActorInfo[] {
  return [...actors]
    .sort((a, b) => b.heat - a.heat || b.mailboxDepth - a.mailboxDepth || a.scheduleId.localeCompare(b.scheduleId))
    .slice(0, topN);
}
