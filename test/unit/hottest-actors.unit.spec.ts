import { hottestActors } from '../../src/engine/hottest-actors';
import type { ActorInfo } from '../../src/engine/reservation-engine';

const actor = (scheduleId: string, heat: number, mailboxDepth = 0): ActorInfo => ({
  scheduleId,
  heat,
  mailboxDepth,
  activeHolds: 0,
  heldSeats: 0,
  soldSeats: 0,
  journalSeq: 0,
  snapshotSeq: 0,
  lastSnapshotAt: null,
});

describe('hottestActors', () => {
  it('when many actors are live, then the N hottest come first, and a stuck one with a deep mailbox is kept though cold', () => {
    const actors = [actor('a', 5), actor('b', 50), actor('c', 20), actor('stuck', 0, 900), actor('d', 1)];
    expect(hottestActors(actors, 2).map((a) => a.scheduleId)).toEqual(['b', 'c', 'stuck']);
  });

  it('when mailboxes are empty, then exactly N are chosen, ties broken by schedule id', () => {
    const actors = [actor('z', 1), actor('y', 1), actor('x', 3)];
    expect(hottestActors(actors, 2).map((a) => a.scheduleId)).toEqual(['x', 'y']);
    expect(hottestActors(actors, 0)).toEqual([]);
  });
});
