/** Seat numbers as a hold request brings them, checked before they reach SQL. */

/** Requested seats the schedule does not have (all of them when the schedule is unknown). */
export function seatsOutOfRange(seatNos: number[], seatCount: number | undefined): number[] {
  const count = seatCount ?? 0;
  return seatNos.filter((n) => !Number.isInteger(n) || n < 1 || n > count);
}

/**
 * Distinct, ascending: the order every baseline locks seats in (Redis locks, and rows, where the
 * statement lets us choose), so two holds never wait for each other in a circle.
 */
export function lockOrder(seatNos: number[]): number[] {
  return [...new Set(seatNos)].sort((a, b) => a - b);
}
