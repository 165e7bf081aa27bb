/** Concerts, schedules and the seat catalogue (grade and price per seat). */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { inTransaction } from './database';
import type { SeatCatalogue } from '../domain/schedule-state';
import { DEFAULT_ROW_LENGTH, seatRows } from '../domain/seat-rows';

export interface SectionInput {
  grade: string;
  fromSeat: number;
  toSeat: number;
  price: number;
  /** Rows of this section (default: the schedule's grid); see src/domain/seat-rows.ts. */
  rowLength?: number;
}

export interface ScheduleInput {
  startsAt: string;
  seatCount: number;
  price: number;
  /** Seats per row (default 10); see src/domain/seat-rows.ts. */
  rowLength?: number;
  sections?: SectionInput[];
}

export interface ConcertInput {
  title: string;
  venue?: string;
  /** ISO time the sale opens (api.md, "On-sale time and the pre-queue"); absent = open at once. */
  onSaleAt?: string;
  schedules: ScheduleInput[];
}

export interface CreatedConcert {
  concertId: string;
  title: string;
  onSaleAt: string | null;
  schedules: { scheduleId: string; startsAt: string; seatCount: number }[];
}

export interface ConcertRow {
  concertId: string;
  title: string;
  venue: string | null;
  onSaleAt: string | null;
}

export interface ScheduleRow {
  scheduleId: string;
  concertId: string;
  startsAt: string;
  seatCount: number;
  /** The concert's on-sale time (ISO), or null. */
  onSaleAt: string | null;
}

/**
 * A seat's row in SQL over `seats` joined with `schedules`: seats of schedules created before
 * migration 005 have no row_no and follow the schedule's grid.
 */
export const SEAT_ROW = 'coalesce(seats.row_no, (seats.seat_no - 1) / schedules.row_length + 1)';

const SCHEDULE_COLUMNS = `s.id AS "scheduleId", s.concert_id AS "concertId", s.starts_at AS "startsAt",
  s.seat_count AS "seatCount", c.on_sale_at AS "onSaleAt"`;

/** Seats outside every section get this grade and the schedule's price. */
export const DEFAULT_GRADE = 'STANDARD';

export function seatCatalogue(schedule: ScheduleInput): SeatCatalogue {
  const grades = new Array<string>(schedule.seatCount).fill(DEFAULT_GRADE);
  const prices = new Array<number>(schedule.seatCount).fill(schedule.price);
  for (const section of schedule.sections ?? []) {
    for (let seatNo = section.fromSeat; seatNo <= section.toSeat; seatNo++) {
      grades[seatNo - 1] = section.grade;
      prices[seatNo - 1] = section.price;
    }
  }
  const rows = seatRows(schedule.seatCount, schedule.rowLength ?? DEFAULT_ROW_LENGTH, schedule.sections);
  return { seatCount: schedule.seatCount, grades, prices, rows };
}

export class CatalogueRepository {
  constructor(private readonly db: Pool) {}

  async createConcert(input: ConcertInput): Promise<CreatedConcert> {
    const concertId = randomUUID();
    const onSaleAt = input.onSaleAt === undefined ? null : new Date(input.onSaleAt).toISOString();
    return inTransaction(this.db, async (tx) => {
      await tx.query('INSERT INTO concerts (id, title, venue, on_sale_at) VALUES ($1, $2, $3, $4)', [
        concertId,
        input.title,
        input.venue ?? null,
        onSaleAt,
      ]);
      const schedules: CreatedConcert['schedules'] = [];
      for (const schedule of input.schedules) {
        const scheduleId = randomUUID();
        const startsAt = new Date(schedule.startsAt).toISOString();
        await tx.query(
          'INSERT INTO schedules (id, concert_id, starts_at, seat_count, price, row_length) VALUES ($1, $2, $3, $4, $5, $6)',
          [scheduleId, concertId, startsAt, schedule.seatCount, schedule.price, schedule.rowLength ?? DEFAULT_ROW_LENGTH],
        );
        const catalogue = seatCatalogue(schedule);
        await tx.query(
          `INSERT INTO seats (schedule_id, seat_no, grade, price, row_no)
           SELECT $1, n, g, p, r FROM unnest($2::int[], $3::text[], $4::bigint[], $5::int[]) AS s(n, g, p, r)`,
          [scheduleId, catalogue.grades.map((_, i) => i + 1), catalogue.grades, catalogue.prices, catalogue.rows],
        );
        schedules.push({ scheduleId, startsAt, seatCount: schedule.seatCount });
      }
      return { concertId, title: input.title, onSaleAt, schedules };
    });
  }

  async listConcerts(): Promise<ConcertRow[]> {
    const { rows } = await this.db.query(
      'SELECT id AS "concertId", title, venue, on_sale_at AS "onSaleAt" FROM concerts ORDER BY created_at, id',
    );
    return rows.map(toConcertRow);
  }

  async findConcert(concertId: string): Promise<ConcertRow | undefined> {
    const { rows } = await this.db.query(
      'SELECT id AS "concertId", title, venue, on_sale_at AS "onSaleAt" FROM concerts WHERE id = $1',
      [concertId],
    );
    return rows[0] ? toConcertRow(rows[0]) : undefined;
  }

  async concertExists(concertId: string): Promise<boolean> {
    return (await this.findConcert(concertId)) !== undefined;
  }

  async listSchedules(concertId: string): Promise<ScheduleRow[]> {
    const { rows } = await this.db.query(
      `SELECT ${SCHEDULE_COLUMNS} FROM schedules s JOIN concerts c ON c.id = s.concert_id
       WHERE s.concert_id = $1 ORDER BY s.starts_at, s.id`,
      [concertId],
    );
    return rows.map(toScheduleRow);
  }

  async findSchedule(scheduleId: string): Promise<ScheduleRow | undefined> {
    const { rows } = await this.db.query(
      `SELECT ${SCHEDULE_COLUMNS} FROM schedules s JOIN concerts c ON c.id = s.concert_id WHERE s.id = $1`,
      [scheduleId],
    );
    return rows[0] ? toScheduleRow(rows[0]) : undefined;
  }

  loadSeatCatalogue(scheduleId: string): Promise<SeatCatalogue | undefined> {
    return loadSeatCatalogue(this.db, scheduleId);
  }
}

/** Grade, price and row of every seat (the actor's catalogue, the baselines' seat layout). */
export async function loadSeatCatalogue(db: Pool, scheduleId: string): Promise<SeatCatalogue | undefined> {
  const { rows } = await db.query<{ grade: string; price: number; row: number }>(
    `SELECT seats.grade, seats.price, ${SEAT_ROW} AS row FROM seats JOIN schedules ON schedules.id = seats.schedule_id
     WHERE seats.schedule_id = $1 ORDER BY seats.seat_no`,
    [scheduleId],
  );
  if (rows.length === 0) return undefined;
  return {
    seatCount: rows.length,
    grades: rows.map((r) => r.grade),
    prices: rows.map((r) => r.price),
    rows: rows.map((r) => r.row),
  };
}

function toScheduleRow(row: { scheduleId: string; concertId: string; startsAt: Date; seatCount: number; onSaleAt: Date | null }): ScheduleRow {
  return { ...row, startsAt: row.startsAt.toISOString(), onSaleAt: row.onSaleAt?.toISOString() ?? null };
}

function toConcertRow(row: { concertId: string; title: string; venue: string | null; onSaleAt: Date | null }): ConcertRow {
  return { ...row, onSaleAt: row.onSaleAt?.toISOString() ?? null };
}
