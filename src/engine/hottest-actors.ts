import type { ActorInfo } from './reservation-engine';

const byHeat = (a: ActorInfo, b: ActorInfo) => b.heat - a.heat || b.mailboxDepth - a.mailboxDepth || a.scheduleId.localeCompare(b.scheduleId);
const byDepth = (a: ActorInfo, b: ActorInfo) => b.mailboxDepth - a.mailboxDepth || byHeat(a, b);

/**
 * The actors operators must see: the `topN` hottest (heat counts handled messages) and the `topN`
 * with the deepest mailboxes — a stuck or recovering actor handles nothing, so it looks cold just
 * when its mailbox is deepest. At most 2 × topN actors, hottest first; the order is stable.
 */
export function hottestActors(actors: readonly ActorInfo[], topN: number): ActorInfo[] {
  const chosen = new Set([...actors].sort(byHeat).slice(0, topN));
  for (const actor of [...actors].sort(byDepth).slice(0, topN)) if (actor.mailboxDepth > 0) chosen.add(actor);
  return [...chosen].sort(byHeat);
}
