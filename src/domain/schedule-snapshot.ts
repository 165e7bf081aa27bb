/** A schedule's state at one sequence number, as plain JSON (the catalogue is not part of it). */
import { emptyState, type Hold, type ScheduleState, type SeatCatalogue } from './schedule-state';

export interface ScheduleSnapshot {
  seq: number;
  holds: Hold[];
  /** Sold seats grouped by the reservation that bought them. */
  sales: { reservationId: string; seatNos: number[] }[];
}

export function toSnapshot(state: ScheduleState): ScheduleSnapshot {
  const sales = new Map<string, number[]>();
  for (let index = 0; index < state.sold.length; index++) {
    if (state.sold[index] !== 1) continue;
    const reservationId = state.seatOwner[index]!;
    const seats = sales.get(reservationId) ?? [];
    seats.push(index + 1);
    sales.set(reservationId, seats);
  }
  return {
    seq: state.seq,
    holds: [...state.holds.values()].map((hold) => ({ ...hold, seatNos: [...hold.seatNos] })),
    sales: [...sales].map(([reservationId, seatNos]) => ({ reservationId, seatNos })),
  };
}

export function fromSnapshot(scheduleId: string, catalogue: SeatCatalogue, snapshot: ScheduleSnapshot): ScheduleState {
  const state = emptyState(scheduleId, catalogue);
  for (const sale of snapshot.sales) {
    for (const seatNo of sale.seatNos) {
      state.seatOwner[seatNo - 1] = sale.reservationId;
      state.sold[seatNo - 1] = 1;
    }
    state.soldCount += sale.seatNos.length;
  }
  for (const hold of snapshot.holds) {
    state.holds.set(hold.reservationId, hold);
    for (const seatNo of hold.seatNos) state.seatOwner[seatNo - 1] = hold.reservationId;
    state.heldCount += hold.seatNos.length;
    state.heldSeatsByUser.set(hold.userId, (state.heldSeatsByUser.get(hold.userId) ?? 0) + hold.seatNos.length);
  }
  state.seq = snapshot.seq;
  return state;
}
