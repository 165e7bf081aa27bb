/**
 * Which concert a schedule belongs to, and its seat catalogue. Schedules never change once
 * created, so each is read from the database once and then served from memory.
 */
import type { CatalogueRepository, ScheduleRow } from '../persistence/catalogue-repository';
import type { SeatCatalogue } from '../domain/schedule-state';

export class ScheduleDirectory {
  private readonly schedules = new Map<string, ScheduleRow>();
  private readonly catalogues = new Map<string, Promise<SeatCatalogue | undefined>>();

  constructor(private readonly catalogue: CatalogueRepository) {}

  async find(scheduleId: string): Promise<ScheduleRow | undefined> {
    const cached = this.schedules.get(scheduleId);
    if (cached) return cached;
    const row = await this.catalogue.findSchedule(scheduleId);
    if (row) this.schedules.set(scheduleId, row);
    return row;
  }

  /** Grades and prices per seat; concurrent first reads share one query. */
  seatCatalogue(scheduleId: string): Promise<SeatCatalogue | undefined> {
    let pending = this.catalogues.get(scheduleId);
    if (!pending) {
      pending = this.catalogue.loadSeatCatalogue(scheduleId);
      this.catalogues.set(scheduleId, pending);
      pending.then(
        (found) => found || this.catalogues.delete(scheduleId),
        () => this.catalogues.delete(scheduleId),
      );
    }
    return pending;
  }
}
