import { OwnershipState } from '../../src/cluster/ownership-state';
import { EngineOutcomeUnknownError } from '../../src/engine/outcome-unknown-error';
import { EngineUnavailableError } from '../../src/engine/engine-unavailable-error';
import { fromWireFailure, NotOwnerError, toWireFailure } from '../../src/cluster/engine-wire';
import { StatementOutcomeUnknownError } from '../../src/persistence/database';

const LEASE = 5_000;

function serving(partitions: number[], at = 1_000): OwnershipState {
  const state = new OwnershipState(LEASE);
  const change = state.assigned(partitions, at);
  state.claimed(change.round, new Map(partitions.map((p) => [p, 7])));
  return state;
}

describe('ownership state', () => {
  it('serves a partition only once it is assigned, claimed and the lease is live', () => {
    const state = new OwnershipState(LEASE);
    expect(state.serves(0, 1_000)).toBe(false);
    const change = state.assigned([0, 2], 1_000);
    expect(state.serves(0, 1_000)).toBe(false); // assigned, not yet claimed
    state.claimed(change.round, new Map([[0, 3], [2, 4]]));
    expect(state.serves(0, 1_000)).toBe(true);
    expect(state.serves(1, 1_000)).toBe(false);
    expect(state.fence(2, 1_000)).toEqual({ partition: 2, epoch: 4 });
  });

  it('counts the lease from when the heartbeat was sent, so a reply that arrives after a pause does not revive it', () => {
    const state = serving([0], 1_000);
    expect(state.serves(0, 1_000 + LEASE - 1)).toBe(true);
    expect(state.serves(0, 1_000 + LEASE)).toBe(false);
    // A heartbeat sent before a long pause, answered after it: still expired.
    state.heartbeat(1_500, 3);
    expect(state.serves(0, 20_000)).toBe(false);
    state.heartbeat(19_000, 3);
    expect(state.serves(0, 20_000)).toBe(true);
    expect(state.generation).toBe(3);
  });

  it('serves nothing while rebalancing, and hands over only the partitions it lost', () => {
    const state = serving([0, 1, 2]);
    state.rebalancing();
    expect(state.serves(0, 1_000)).toBe(false);
    const change = state.assigned([1, 2, 3], 1_000);
    expect(change.revoked).toEqual([0]);
    expect(change.assigned).toEqual([1, 2, 3]);
    expect(state.holds({ partition: 1, epoch: 7 })).toBe(true); // kept: its actors stay valid
    expect(state.holds({ partition: 0, epoch: 7 })).toBe(false); // lost
  });

  it('reports as changed the partitions whose epoch moved (gained, or taken by someone else meanwhile)', () => {
    const state = serving([0, 1]);
    const change = state.assigned([0, 1, 2], 1_000);
    const changed = state.claimed(change.round, new Map([[0, 7], [1, 8], [2, 1]]));
    expect(changed).toEqual([1, 2]);
    expect(state.holds({ partition: 1, epoch: 7 })).toBe(false);
  });

  it('ignores a claim that finished after a newer assignment started', () => {
    const state = new OwnershipState(LEASE);
    const first = state.assigned([0], 1_000);
    const second = state.assigned([1], 1_000);
    expect(state.claimed(first.round, new Map([[0, 1]]))).toBe(false);
    expect(state.serves(0, 1_000)).toBe(false);
    expect(state.claimed(second.round, new Map([[1, 1]]))).toEqual([1]);
    expect(state.serves(1, 1_000)).toBe(true);
  });

  it('serves nothing once stopped', () => {
    const state = serving([0]);
    state.stop();
    expect(state.serves(0, 1_000)).toBe(false);
    expect(state.ownedPartitions()).toEqual([]);
  });
});

describe('engine failures across the hop', () => {
  it('keeps their meaning: nothing applied, outcome unknown, not the owner', () => {
    const cases: [Error, new (...args: never[]) => Error, number][] = [
      [new NotOwnerError('moved'), NotOwnerError, 1],
      [new EngineUnavailableError('busy', 3), EngineUnavailableError, 3],
      [new EngineOutcomeUnknownError('lost', 2), EngineOutcomeUnknownError, 2],
      [new StatementOutcomeUnknownError(new Error('cut')), EngineOutcomeUnknownError, 2],
    ];
    for (const [error, kind, retryAfter] of cases) {
      const back = fromWireFailure(JSON.parse(JSON.stringify(toWireFailure(error))), 'http://owner');
      expect(back).toBeInstanceOf(kind);
      expect((back as EngineUnavailableError).retryAfterSeconds).toBe(retryAfter);
      expect(back.message).toContain('http://owner');
    }
  });

  it('turns anything else into a plain error (500 at the edge), never into "nothing applied"', () => {
    const back = fromWireFailure(toWireFailure(new TypeError('bug')), 'http://owner');
    expect(back).not.toBeInstanceOf(EngineUnavailableError);
    expect(back).not.toBeInstanceOf(EngineOutcomeUnknownError);
  });
});
