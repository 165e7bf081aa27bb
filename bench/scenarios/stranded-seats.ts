/**
 * What a sale of adjacent pairs leaves behind: free seats no pair can use. Rows as the
 * best-available contract defines them (/work/shared/api.md): row r holds seats
 * (r − 1) × rowLength + 1 … r × rowLength; neighbours are the seats on either side in the same row.
 */
export interface LeftOver {
  /** Free seats in all. */
  free: number;
  /** Free seats with both neighbours taken: a single seat stranded between taken ones. */
  stranded: number;
  /** Free seats with no free neighbour (stranded, or at a row's end beside a taken one): unsellable as a pair. */
  withoutFreeNeighbour: number;
}

export function leftOverSeats(seatCount: number, taken: ReadonlySet<number>, rowLength: number): LeftOver {
  const isFree = (seatNo: number) => seatNo >= 1 && seatNo <= seatCount && !taken.has(seatNo);
  const sameRow = (a: number, b: number) => Math.floor((a - 1) / rowLength) === Math.floor((b - 1) / rowLength);
  const result: LeftOver = { free: 0, stranded: 0, withoutFreeNeighbour: 0 };
  for (let seatNo = 1; seatNo <= seatCount; seatNo++) {
    if (!isFree(seatNo)) continue;
    result.free++;
    const left = seatNo - 1;
    const right = seatNo + 1;
    const leftInRow = left >= 1 && sameRow(left, seatNo);
    const rightInRow = right <= seatCount && sameRow(right, seatNo);
    const leftFree = leftInRow && isFree(left);
    const rightFree = rightInRow && isFree(right);
    if (!leftFree && !rightFree) result.withoutFreeNeighbour++;
    if (leftInRow && rightInRow && !leftFree && !rightFree) result.stranded++;
  }
  return result;
}
