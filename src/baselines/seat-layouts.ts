/**
 * Rows and grades per schedule for the baselines' best-available choice, remembered after the
 * first read: like the seat count (seat-counts.ts), a schedule's layout never changes once it is
 * created, so only the seats' status is read per hold. Concurrent first reads share one query.
 */
import type { Pool } from 'pg';
import type { SeatLayout } from '../domain/best-available';
import { loadSeatCatalogue } from '../persistence/catalogue-repository';

export class SeatLayouts {
  private readonly known = new Map<string, Promise<SeatLayout | undefined>>();

  constructor(private readonly db: Pool) {}

  of(scheduleId: string): Promise<SeatLayout | undefined> {
    let layout = this.known.get(scheduleId);
    if (!layout) {
      layout = loadSeatCatalogue(this.db, scheduleId);
      this.known.set(scheduleId, layout);
      // A miss or a failure is not remembered: the schedule may be created later, the query retried.
      layout.then(
        (found) => found === undefined && this.known.delete(scheduleId),
        () => this.known.delete(scheduleId),
      );
    }
    return layout;
  }
}
