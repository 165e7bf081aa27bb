/**
 * Seat-map reads of the baselines: straight from the seats table (the actor engine serves them
 * from memory; this query IS the baselines' cost of a read). PostgreSQL assembles the JSON in one
 * text value, in the same compact shape as the actor engine's. Measured on 100,000 seats it costs
 * about what parsing the rows and building the string in Node costs, but it runs in the database
 * process instead of blocking the event loop (and every other request) for that long.
 */
import type { Pool } from 'pg';
import { SEAT_ROW } from '../persistence/catalogue-repository';
import { prepared } from './prepared';

const SEATS_JSON = prepared(
  'seat-map',
  `
SELECT coalesce(string_agg(
  '{"seatNo":' || seats.seat_no || ',"row":' || ${SEAT_ROW} || ',"grade":' || to_json(seats.grade)::text
    || ',"price":' || seats.price || ',"status":"' || seats.status || '"}', ',' ORDER BY seats.seat_no), '') AS seats
FROM seats JOIN schedules ON schedules.id = seats.schedule_id WHERE seats.schedule_id = $1`,
);

const AVAILABLE = prepared(
  'available-seats',
  `SELECT count(*)::int AS available FROM seats WHERE schedule_id = $1 AND status = 'AVAILABLE'`,
);

export async function querySeatMapJson(db: Pool, scheduleId: string): Promise<string> {
  const { rows } = await db.query<{ seats: string }>(SEATS_JSON([scheduleId]));
  return `{"scheduleId":${JSON.stringify(scheduleId)},"seats":[${rows[0]?.seats ?? ''}]}`;
}

export async function queryAvailableSeats(db: Pool, scheduleId: string): Promise<number> {
  const { rows } = await db.query<{ available: number }>(AVAILABLE([scheduleId]));
  return rows[0]?.available ?? 0;
}
