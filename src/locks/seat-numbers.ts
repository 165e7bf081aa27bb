/** Seat numbers as a hold request brings them, checked before they reach SQL. */

/** Largest value of a PostgreSQL integer: anything above cannot be a seat (and would not cast). */
const MAX_INT4 = 2_147_483_647;

/** Seat numbers no schedule can have (not positive integers): out of range without a query. */
export function impossibleSeatNos(seatNos: number[]): number[] {
  return seatNos.filter((n) => !Number.isInteger(n) || n < 1 || n > MAX_INT4);
}

/**
 * Distinct, ascending: the order every baseline locks seats in (Redis locks, and rows, where the
 * statement lets us choose), so two holds never wait for each other in a circle.
 */
export function lockOrder(seatNos: number[]): number[] {
  return [...new Set(seatNos)].sort((a, b) => a - b);
}
