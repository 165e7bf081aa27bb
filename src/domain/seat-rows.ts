/**
 * Which row each seat is in (api.md, "Best-available seats"). A row is a range of consecutive seat
 * numbers; rows are numbered 1, 2, … in seat order (row 1 is the front).
 *
 * - The schedule's `rowLength` R lays a grid over its seats: seats 1..R are a row, R+1..2R the
 *   next, and so on.
 * - A section with its own `rowLength` r replaces the grid inside it: its rows are fromSeat ..
 *   fromSeat+r-1, and so on to toSeat (the last one may be shorter). A row never crosses its
 *   edges: the seat before fromSeat ends a row and the seat after toSeat starts one, after which
 *   the schedule's grid goes on where it was.
 * - A section without `rowLength` follows the schedule's grid.
 */
export const DEFAULT_ROW_LENGTH = 10;

export interface RowSection {
  fromSeat: number;
  toSeat: number;
  rowLength?: number | undefined;
}

/** Row number per seat, index seatNo - 1. Sections must lie inside the schedule and not overlap. */
export function seatRows(seatCount: number, rowLength: number, sections: readonly RowSection[] = []): number[] {
  const sectionRowLength = new Array<number | undefined>(seatCount + 2);
  const sectionStart = new Array<number | undefined>(seatCount + 2);
  for (const section of sections) {
    if (section.rowLength === undefined) continue;
    for (let seatNo = section.fromSeat; seatNo <= section.toSeat; seatNo++) {
      sectionRowLength[seatNo] = section.rowLength;
      sectionStart[seatNo] = section.fromSeat;
    }
  }
  const rows = new Array<number>(seatCount);
  let row = 0;
  for (let seatNo = 1; seatNo <= seatCount; seatNo++) {
    const own = sectionRowLength[seatNo];
    const startsRow =
      own !== undefined
        ? (seatNo - sectionStart[seatNo]!) % own === 0
        : (seatNo - 1) % rowLength === 0 || sectionRowLength[seatNo - 1] !== undefined;
    if (startsRow || row === 0) row++;
    rows[seatNo - 1] = row;
  }
  return rows;
}
