/**
 * Seat count per schedule, remembered after the first read: a schedule's seats never change
 * after it is created, so "is seat n out of range" is answered in memory, before any lock or
 * transaction, as the actor engine answers it from its catalogue. An unknown schedule is not
 * remembered (it may be created later).
 */
import type { Pool } from 'pg';
import { prepared } from './prepared';

const SEAT_COUNT = prepared('seat-count', 'SELECT seat_count FROM schedules WHERE id = $1');

export class SeatCounts {
  private readonly known = new Map<string, number>();
  /** One query per schedule even when a burst of first requests arrives at once. */
  private readonly loading = new Map<string, Promise<number | undefined>>();

  constructor(private readonly db: Pool) {}

  of(scheduleId: string): Promise<number | undefined> {
    const known = this.known.get(scheduleId);
    if (known !== undefined) return Promise.resolve(known);
    let loading = this.loading.get(scheduleId);
    if (!loading) {
      loading = this.load(scheduleId).finally(() => this.loading.delete(scheduleId));
      this.loading.set(scheduleId, loading);
    }
    return loading;
  }

  private async load(scheduleId: string): Promise<number | undefined> {
    const { rows } = await this.db.query<{ seat_count: number }>(SEAT_COUNT([scheduleId]));
    const seatCount = rows[0]?.seat_count;
    if (seatCount !== undefined) this.known.set(scheduleId, seatCount);
    return seatCount;
  }
}
