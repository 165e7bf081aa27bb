/**
 * Rows of seats (api.md, "Best-available seats"). `schedules.row_length` is the schedule's grid
 * (default 10); `seats.row_no` is each seat's row, computed when the schedule is created
 * (src/domain/seat-rows.ts: sections may bring their own row length, and sections are not stored,
 * so the row is kept per seat). Seats of schedules created before this migration keep row_no NULL
 * and read as the default grid, `(seat_no - 1) / row_length + 1`: adding a nullable column
 * without a default rewrites nothing, however many seats exist.
 */
export const rowLength = `
ALTER TABLE schedules ADD COLUMN row_length integer NOT NULL DEFAULT 10 CHECK (row_length BETWEEN 1 AND 100000);
ALTER TABLE seats ADD COLUMN row_no integer CHECK (row_no >= 1);
`;
