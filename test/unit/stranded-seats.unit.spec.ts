/** The bench's count of seats a sale of adjacent pairs leaves unsellable (best-available-rush). */
import { leftOverSeats } from '../../bench/scenarios/stranded-seats';

describe('left-over seats of a pair sale', () => {
  it('When a free seat sits between two taken ones of its row, then it is stranded', () => {
    // Row 1 = seats 1..10: 1 2 taken, 3 free, 4 5 taken, 6..10 free.
    const result = leftOverSeats(10, new Set([1, 2, 4, 5]), 10);
    expect(result).toEqual({ free: 6, stranded: 1, withoutFreeNeighbour: 1 });
  });

  it('When a free seat is at a row end beside a taken one, then it has no free neighbour but is not "between taken ones"', () => {
    // Rows of 5: row 1 = 1..5, row 2 = 6..10. Seat 5 free (row end), 4 taken; seat 6 free (row start), 7 taken.
    const result = leftOverSeats(10, new Set([1, 2, 3, 4, 7, 8, 9, 10]), 5);
    expect(result).toEqual({ free: 2, stranded: 0, withoutFreeNeighbour: 2 });
  });

  it('When neighbours are in another row, then they do not count as neighbours', () => {
    // Seat 10 (end of row 1) and 11 (start of row 2) are both free: each has no free neighbour in its row.
    const taken = new Set([...Array.from({ length: 9 }, (_, i) => i + 1), ...Array.from({ length: 9 }, (_, i) => i + 12)]);
    expect(leftOverSeats(20, taken, 10)).toEqual({ free: 2, stranded: 0, withoutFreeNeighbour: 2 });
  });

  it('When nothing is taken, then nothing is stranded', () => {
    expect(leftOverSeats(50, new Set(), 10)).toEqual({ free: 50, stranded: 0, withoutFreeNeighbour: 0 });
  });
});
