/**
 * A schedule's state at one sequence number, as compact JSON (tuples, not objects: a sold-out
 * 100,000-seat schedule snapshots in a few MB). The catalogue is not part of it.
 */
import { emptyState, type Hold, type ScheduleState, type SeatCatalogue } from './schedule-state';

/**
 * [reservationId, userId, seatNos, amount, expiresAt, heldAt]. Snapshots written before extensions
 * existed have no heldAt: such a hold reads as made at epoch 0, so it cannot be extended (its
 * maximum has passed) — the safe side for the few minutes such holds live after an upgrade.
 */
type HoldTuple = [string, string, number[], number, number, number?];
/** [reservationId, seatNos] */
type SaleTuple = [string, number[]];

export interface ScheduleSnapshot {
  seq: number;
  holds: HoldTuple[];
  sales: SaleTuple[];
}

export function toSnapshot(state: ScheduleState): ScheduleSnapshot {
  const sales = new Map<string, number[]>();
  for (let index = 0; index < state.sold.length; index++) {
    if (state.sold[index] !== 1) continue;
    const reservationId = state.seatOwner[index]!;
    const seats = sales.get(reservationId);
    if (seats) seats.push(index + 1);
    else sales.set(reservationId, [index + 1]);
  }
  const holds: HoldTuple[] = [];
  for (const h of state.holds.values()) holds.push([h.reservationId, h.userId, [...h.seatNos], h.amount, h.expiresAt, h.heldAt]);
  return { seq: state.seq, holds, sales: [...sales] };
}

/**
 * `holdTtlMs` dates the holds of a snapshot written before holds kept their creation time: such a
 * hold was never extended (extension came with heldAt), so it was created at its expiry less the TTL.
 */
export function fromSnapshot(scheduleId: string, catalogue: SeatCatalogue, snapshot: ScheduleSnapshot, holdTtlMs: number): ScheduleState {
  const state = emptyState(scheduleId, catalogue);
  for (const [reservationId, seatNos] of snapshot.sales) {
    for (const seatNo of seatNos) {
      state.seatOwner[seatNo - 1] = reservationId;
      state.sold[seatNo - 1] = 1;
    }
    state.soldCount += seatNos.length;
  }
  for (const [reservationId, userId, seatNos, amount, expiresAt, heldAt = expiresAt - holdTtlMs] of snapshot.holds) {
    const hold: Hold = { reservationId, userId, seatNos, amount, expiresAt, heldAt };
    state.holds.set(reservationId, hold);
    for (const seatNo of seatNos) state.seatOwner[seatNo - 1] = reservationId;
    state.heldCount += seatNos.length;
    state.heldSeatsByUser.set(userId, (state.heldSeatsByUser.get(userId) ?? 0) + seatNos.length);
  }
  state.seq = snapshot.seq;
  return state;
}
