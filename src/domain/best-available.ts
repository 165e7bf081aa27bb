/**
 * Best-available seats (api.md, "Best-available seats"): a pure choice over a seat layout and
 * which seats are free, shared by every engine (the actor picks from memory, the baselines from
 * the rows they lock). Deterministic: the same layout, free seats and request give the same seats.
 *
 * Rows are ranges of consecutive seat numbers (see rows.ts), numbered front to back, so "front-most
 * row first, then the lowest numbers" is simply "the lowest seat numbers".
 *
 * - adjacent (default): `quantity` consecutive free seats in one row (of `grade`, when given). In
 *   the front-most row that has such a block, the lowest-numbered block that leaves no single free
 *   seat stranded — between the block and a taken seat or the row's edge — is taken; only when
 *   every block of that row would strand one is the lowest of them taken (the buyer gets the
 *   front-most row they can have; the rule never sends them back a row to save a seat).
 * - not adjacent: the `quantity` lowest-numbered free seats (of `grade`), wherever they are. The
 *   stranded-seat rule is about blocks, so it does not apply.
 * All or nothing: undefined when no such choice exists.
 */

export interface BestSeatsRequest {
  quantity: number;
  grade?: string | undefined;
  adjacent: boolean;
}

/** Index seatNo - 1. `rows` never decreases with the seat number. */
export interface SeatLayout {
  seatCount: number;
  rows: ArrayLike<number>;
  grades: ArrayLike<string>;
}

export type IsFree = (seatNo: number) => boolean;

export function pickBestSeats(layout: SeatLayout, isFree: IsFree, request: BestSeatsRequest): number[] | undefined {
  if (!Number.isInteger(request.quantity) || request.quantity < 1) return undefined;
  return request.adjacent ? bestBlock(layout, isFree, request) : lowestSeats(layout, isFree, request);
}

function lowestSeats(layout: SeatLayout, isFree: IsFree, { quantity, grade }: BestSeatsRequest): number[] | undefined {
  const chosen: number[] = [];
  for (let seatNo = 1; seatNo <= layout.seatCount && chosen.length < quantity; seatNo++) {
    if (isFree(seatNo) && (grade === undefined || layout.grades[seatNo - 1] === grade)) chosen.push(seatNo);
  }
  return chosen.length === quantity ? chosen : undefined;
}

function bestBlock(layout: SeatLayout, isFree: IsFree, request: BestSeatsRequest): number[] | undefined {
  let rowStart = 1;
  while (rowStart <= layout.seatCount) {
    const rowEnd = lastSeatOfRow(layout, rowStart);
    const start = bestStartInRow(layout, isFree, request, rowStart, rowEnd);
    if (start !== undefined) return Array.from({ length: request.quantity }, (_, i) => start + i);
    rowStart = rowEnd + 1;
  }
  return undefined;
}

function lastSeatOfRow(layout: SeatLayout, rowStart: number): number {
  const row = layout.rows[rowStart - 1];
  let seatNo = rowStart;
  while (seatNo < layout.seatCount && layout.rows[seatNo] === row) seatNo++;
  return seatNo;
}

/**
 * Walks the row's runs of free seats (whatever their grade: a stranded seat is stranded for every
 * buyer) and, inside each, the starts of blocks whose seats all have the grade asked for.
 */
function bestStartInRow(layout: SeatLayout, isFree: IsFree, request: BestSeatsRequest, rowStart: number, rowEnd: number): number | undefined {
  const { quantity, grade } = request;
  let fallback: number | undefined;
  let seatNo = rowStart;
  while (seatNo <= rowEnd) {
    if (!isFree(seatNo)) {
      seatNo++;
      continue;
    }
    const runStart = seatNo;
    while (seatNo + 1 <= rowEnd && isFree(seatNo + 1)) seatNo++;
    const runEnd = seatNo;
    seatNo++;
    // `streak`: seats of the grade ending at `last`; a block ends at `last` once it reaches `quantity`.
    let streak = 0;
    for (let last = runStart; last <= runEnd; last++) {
      streak = grade === undefined || layout.grades[last - 1] === grade ? streak + 1 : 0;
      if (streak < quantity) continue;
      const start = last - quantity + 1;
      const strands = start - runStart === 1 || runEnd - last === 1;
      if (!strands) return start;
      fallback ??= start;
    }
  }
  return fallback;
}
