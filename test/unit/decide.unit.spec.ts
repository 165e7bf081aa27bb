import fc from 'fast-check';
import { decide } from '../../src/domain/decide';
import type { ScheduleCommand } from '../../src/domain/schedule-commands';
import type { ScheduleEvent } from '../../src/domain/schedule-events';
import { applyEvent, emptyState, seatStatus, type ScheduleState } from '../../src/domain/schedule-state';
import { fromSnapshot, toSnapshot } from '../../src/domain/schedule-snapshot';

const catalogue = (seatCount: number) => ({
  seatCount,
  grades: Array(seatCount).fill('R'),
  rows: Array.from({ length: seatCount }, (_, i) => Math.floor(i / 10) + 1),
  prices: Array.from({ length: seatCount }, (_, i) => 1_000 * (i + 1)),
});

function run(state: ScheduleState, command: ScheduleCommand) {
  const decision = decide(state, command);
  if (decision.ok) for (const event of decision.events) applyEvent(state, event);
  return decision;
}

const hold = (reservationId: string, userId: string, seatNos: number[], now = 0): ScheduleCommand => ({
  type: 'Hold',
  reservationId,
  userId,
  seatNos,
  now,
  holdTtlMs: 1_000,
  maxSeatsPerUser: 4,
});

describe('hold extension rules', () => {
  const extend = (now: number): ScheduleCommand => ({ type: 'Extend', reservationId: 'r1', userId: 'u1', now, holdTtlMs: 1_000, holdMaxMs: 2_500 });

  it('when a hold is extended, then its expiry moves to now + TTL, never past creation + max, and at the cap it is refused', () => {
    const state = emptyState('s', catalogue(10));
    run(state, hold('r1', 'u1', [1], 0)); // held at 0, expires at 1,000, cap 2,500
    expect(run(state, extend(600))).toEqual({ ok: true, events: [{ type: 'HoldExtended', reservationId: 'r1', expiresAt: 1_600, at: 600 }] });
    expect(run(state, extend(1_500))).toEqual({ ok: true, events: [{ type: 'HoldExtended', reservationId: 'r1', expiresAt: 2_500, at: 1_500 }] });
    expect(run(state, extend(2_000))).toEqual({ ok: false, rejection: { code: 'HOLD_EXTENSION_LIMIT', expiresAt: 2_500 } });
    expect(run(state, extend(2_500))).toEqual({ ok: false, rejection: { code: 'RESERVATION_EXPIRED' } });
  });

  it('when a snapshot written before holds kept their creation time is restored, then a hold was created at its expiry less the TTL', () => {
    const state = emptyState('s', catalogue(10));
    run(state, hold('r1', 'u1', [1], 5_000)); // expires at 6,000
    const snapshot = toSnapshot(state);
    const legacy = { ...snapshot, holds: snapshot.holds.map((h) => h.slice(0, 5)) } as typeof snapshot; // no heldAt
    const restored = fromSnapshot('s', catalogue(10), legacy, 1_000);
    expect(restored.holds.get('r1')!.heldAt).toBe(5_000);
    expect(run(restored, extend(5_900))).toEqual({ ok: true, events: [{ type: 'HoldExtended', reservationId: 'r1', expiresAt: 6_900, at: 5_900 }] });
    expect(run(restored, extend(6_800))).toMatchObject({ ok: true, events: [{ expiresAt: 7_500 }] }); // cap = 5,000 + 2,500
  });
});

describe('schedule rules', () => {
  it('when seats are free, then a hold takes them all and costs the sum of their prices', () => {
    const state = emptyState('s', catalogue(10));
    const decision = run(state, hold('r1', 'u1', [2, 3]));
    expect(decision).toEqual({
      ok: true,
      events: [{ type: 'SeatsHeld', reservationId: 'r1', userId: 'u1', seatNos: [2, 3], amount: 5_000, expiresAt: 1_000, at: 0 }],
    });
    expect([1, 2, 3].map((n) => seatStatus(state, n))).toEqual(['AVAILABLE', 'HELD', 'HELD']);
  });

  it('when one seat of a hold is taken, then nothing is held', () => {
    const state = emptyState('s', catalogue(10));
    run(state, hold('r1', 'u1', [3]));
    expect(run(state, hold('r2', 'u2', [1, 2, 3]))).toEqual({ ok: false, rejection: { code: 'SEAT_UNAVAILABLE', seatNos: [3] } });
    expect([1, 2].map((n) => seatStatus(state, n))).toEqual(['AVAILABLE', 'AVAILABLE']);
  });

  it('when a seat is outside the schedule, then SEAT_OUT_OF_RANGE', () => {
    expect(decide(emptyState('s', catalogue(10)), hold('r', 'u', [11])).ok).toBe(false);
  });

  it('when a seat is listed twice, then DUPLICATE_SEAT and nothing is held', () => {
    const state = emptyState('s', catalogue(10));
    expect(run(state, hold('r', 'u', [3, 3]))).toEqual({ ok: false, rejection: { code: 'DUPLICATE_SEAT', seatNos: [3] } });
    expect(state.heldCount).toBe(0);
  });

  it('when a user would hold more than the limit, then LIMIT_EXCEEDED', () => {
    const state = emptyState('s', catalogue(10));
    run(state, hold('r1', 'u1', [1, 2, 3]));
    expect(run(state, hold('r2', 'u1', [4, 5]))).toEqual({ ok: false, rejection: { code: 'LIMIT_EXCEEDED', limit: 4, held: 3 } });
  });

  it('when someone else releases or pays for a hold, then NOT_OWNER', () => {
    const state = emptyState('s', catalogue(10));
    run(state, hold('r1', 'u1', [1]));
    expect(decide(state, { type: 'Release', reservationId: 'r1', userId: 'u2', now: 1 })).toEqual({ ok: false, rejection: { code: 'NOT_OWNER' } });
    expect(decide(state, { type: 'Confirm', reservationId: 'r1', userId: 'u2', paymentId: 'p', now: 1 })).toEqual({
      ok: false,
      rejection: { code: 'NOT_OWNER' },
    });
  });

  it('when a hold is past its expiry, then paying is RESERVATION_EXPIRED and Expire frees the seats', () => {
    const state = emptyState('s', catalogue(10));
    run(state, hold('r1', 'u1', [1]));
    expect(decide(state, { type: 'Confirm', reservationId: 'r1', userId: 'u1', paymentId: 'p', now: 1_000 })).toEqual({
      ok: false,
      rejection: { code: 'RESERVATION_EXPIRED' },
    });
    expect(run(state, { type: 'Expire', reservationId: 'r1', now: 999 })).toEqual({ ok: true, events: [] });
    run(state, { type: 'Expire', reservationId: 'r1', now: 1_000 });
    expect(seatStatus(state, 1)).toBe('AVAILABLE');
  });

  it('when a hold is paid, then its seats are SOLD for good and it can be neither released nor paid again', () => {
    const state = emptyState('s', catalogue(10));
    run(state, hold('r1', 'u1', [1, 2]));
    run(state, { type: 'Confirm', reservationId: 'r1', userId: 'u1', paymentId: 'p', now: 10 });
    expect([1, 2].map((n) => seatStatus(state, n))).toEqual(['SOLD', 'SOLD']);
    expect(decide(state, { type: 'Release', reservationId: 'r1', userId: 'u1', now: 11 }).ok).toBe(false);
    expect(decide(state, { type: 'Confirm', reservationId: 'r1', userId: 'u1', paymentId: 'q', now: 11 })).toEqual({
      ok: false,
      rejection: { code: 'RESERVATION_NOT_HELD' },
    });
    expect(decide(state, hold('r2', 'u2', [2])).ok).toBe(false);
  });

  // Reservation ids are fresh UUIDs made by the server for every hold; other commands name any of them.
  const withFreshHoldIds = (commands: ScheduleCommand[]) =>
    commands.map((command, index) => (command.type === 'Hold' ? { ...command, reservationId: String(index) } : command));

  const commandsArb = (seatCount: number) => fc.array(commandArb(seatCount), { maxLength: 80 }).map(withFreshHoldIds);

  const commandArb = (seatCount: number) =>
    fc.oneof(
      fc.record({
        type: fc.constant('Hold' as const),
        reservationId: fc.integer({ min: 0, max: 80 }).map(String),
        userId: fc.integer({ min: 1, max: 5 }).map(String),
        seatNos: fc.uniqueArray(fc.integer({ min: 1, max: seatCount }), { minLength: 1, maxLength: 4 }),
        now: fc.integer({ min: 0, max: 5_000 }),
        holdTtlMs: fc.constant(1_000),
        maxSeatsPerUser: fc.constant(6),
      }),
      fc.record({
        type: fc.constant('Release' as const),
        reservationId: fc.integer({ min: 0, max: 80 }).map(String),
        userId: fc.integer({ min: 1, max: 5 }).map(String),
        now: fc.integer({ min: 0, max: 5_000 }),
      }),
      fc.record({ type: fc.constant('Expire' as const), reservationId: fc.integer({ min: 0, max: 80 }).map(String), now: fc.integer({ min: 0, max: 5_000 }) }),
      fc.record({
        type: fc.constant('Confirm' as const),
        reservationId: fc.integer({ min: 0, max: 80 }).map(String),
        userId: fc.integer({ min: 1, max: 5 }).map(String),
        paymentId: fc.constant('p'),
        now: fc.integer({ min: 0, max: 5_000 }),
      }),
    );

  it('for any command sequence, no seat is ever in two live reservations and the counts add up', () => {
    fc.assert(
      fc.property(commandsArb(12), (commands) => {
        const state = emptyState('s', catalogue(12));
        const sold = new Set<number>();
        for (const command of commands) {
          run(state, command);
          const owners = new Map<number, string>();
          for (const live of state.holds.values()) {
            for (const seat of live.seatNos) {
              expect(owners.has(seat) || sold.has(seat)).toBe(false);
              owners.set(seat, live.reservationId);
            }
          }
          for (let seat = 1; seat <= 12; seat++) if (seatStatus(state, seat) === 'SOLD') sold.add(seat);
        }
        expect(state.heldCount).toBe([...state.holds.values()].reduce((n, h) => n + h.seatNos.length, 0));
        expect(state.soldCount).toBe(sold.size);
      }),
      { numRuns: 300 },
    );
  });

  it('for any command sequence, recovery from a snapshot plus the rest of the journal equals replay from zero', () => {
    fc.assert(
      fc.property(commandsArb(12), fc.nat(), (commands, cut) => {
        const journal: ScheduleEvent[] = [];
        const live = emptyState('s', catalogue(12));
        for (const command of commands) {
          const decision = decide(live, command);
          if (!decision.ok) continue;
          for (const event of decision.events) {
            applyEvent(live, event);
            journal.push(event);
          }
        }
        const at = journal.length === 0 ? 0 : cut % (journal.length + 1);
        const upToCut = emptyState('s', catalogue(12));
        journal.slice(0, at).forEach((event) => applyEvent(upToCut, event));
        const snapshot = JSON.parse(JSON.stringify(toSnapshot(upToCut)));
        const recovered = fromSnapshot('s', catalogue(12), snapshot, 1_000);
        journal.slice(at).forEach((event) => applyEvent(recovered, event));
        expect(toSnapshot(recovered)).toEqual(toSnapshot(live));
        expect(recovered.heldSeatsByUser).toEqual(live.heldSeatsByUser);
        expect([recovered.heldCount, recovered.soldCount, recovered.seq]).toEqual([live.heldCount, live.soldCount, live.seq]);
      }),
      { numRuns: 300 },
    );
  });
});
