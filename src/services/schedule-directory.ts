/**
 * Which concerts exist and which concert a schedule belongs to. Neither changes once created, so
 * each is read from the database once and then served from memory (a few fields per schedule).
 * Seat catalogues (up to 100,000 seats each) are not kept here: an actor loads its own and frees
 * it when passivated.
 */
import type { CatalogueRepository, ConcertRow, ScheduleRow } from '../persistence/catalogue-repository';

export class ScheduleDirectory {
  private readonly concerts = new Map<string, Promise<ConcertRow | undefined>>();
  private readonly schedules = new Map<string, Promise<ScheduleRow | undefined>>();

  constructor(private readonly catalogue: CatalogueRepository) {}

  /** The concert (its on-sale time included, which never changes once created). */
  findConcert(concertId: string): Promise<ConcertRow | undefined> {
    return remembered(this.concerts, concertId, () => this.catalogue.findConcert(concertId));
  }

  async concertExists(concertId: string): Promise<boolean> {
    return (await this.findConcert(concertId)) !== undefined;
  }

  find(scheduleId: string): Promise<ScheduleRow | undefined> {
    return remembered(this.schedules, scheduleId, () => this.catalogue.findSchedule(scheduleId));
  }
}

/**
 * Concurrent first reads share one query; a found value is kept for good, a miss or a failure
 * is forgotten so that the next read asks again.
 */
function remembered<T>(cache: Map<string, Promise<T | undefined>>, key: string, load: () => Promise<T | undefined>) {
  let pending = cache.get(key);
  if (!pending) {
    pending = load();
    cache.set(key, pending);
    pending.then(
      (found) => found === undefined && cache.delete(key),
      () => cache.delete(key),
    );
  }
  return pending;
}
