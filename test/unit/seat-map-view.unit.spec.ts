/**
 * The seat map's JSON is rebuilt only for the chunks of seats a commit changed; whatever the
 * sequence of commits, it must equal a serialization of every seat from scratch.
 */
import fc from 'fast-check';
import { SeatMapView } from '../../src/actors/seat-map-view';
import type { ScheduleEvent } from '../../src/domain/schedule-events';
import { emptyState } from '../../src/domain/schedule-state';

const SEATS = 2_500; // three chunks of 1,024, the last one partial
const catalogue = {
  seatCount: SEATS,
  grades: Array.from({ length: SEATS }, (_, i) => (i < 100 ? 'VIP' : 'R')),
  rows: Array.from({ length: SEATS }, (_, i) => Math.floor(i / 10) + 1),
  prices: Array.from({ length: SEATS }, (_, i) => 1_000 + i),
};

function fromScratch(status: string[]): string {
  const seats = status.map((s, i) => ({ seatNo: i + 1, row: catalogue.rows[i], grade: catalogue.grades[i], price: catalogue.prices[i], status: s }));
  return JSON.stringify({ scheduleId: 's', seats });
}

describe('SeatMapView JSON', () => {
  it('when holds, releases, expiries and sales are committed in any order, then the JSON equals a full serialization', () => {
    const step = fc.record({ seats: fc.uniqueArray(fc.integer({ min: 1, max: SEATS }), { minLength: 1, maxLength: 4 }), end: fc.constantFrom('HoldReleased', 'HoldExpired', 'SeatsSold', 'none') });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), (steps) => {
        const view = new SeatMapView('s', catalogue, emptyState('s', catalogue));
        const status = Array<string>(SEATS).fill('AVAILABLE');
        expect(view.json()).toBe(fromScratch(status));
        steps.forEach(({ seats, end }, index) => {
          const free = seats.filter((n) => status[n - 1] === 'AVAILABLE');
          if (free.length === 0) return;
          const reservationId = `r${index}`;
          const held: ScheduleEvent = { type: 'SeatsHeld', reservationId, userId: 'u', seatNos: free, amount: 1, expiresAt: 1, at: 0 };
          view.applyCommitted(held);
          for (const n of free) status[n - 1] = 'HELD';
          expect(view.json()).toBe(fromScratch(status));
          if (end === 'none') return;
          const ended: ScheduleEvent =
            end === 'SeatsSold' ? { type: 'SeatsSold', reservationId, paymentId: 'p', at: 1 } : { type: end, reservationId, at: 1 };
          view.applyCommitted(ended);
          for (const n of free) status[n - 1] = end === 'SeatsSold' ? 'SOLD' : 'AVAILABLE';
          expect(view.json()).toBe(fromScratch(status));
        });
      }),
      { numRuns: 60 },
    );
  });
});
