/**
 * The seat state of one schedule, as an actor holds it in memory. `applyEvent` is the only
 * mutation and is deterministic: replaying the journal gives the same state. It mutates in
 * place on purpose: copying a 100,000-seat array per event would cost more than the decision.
 */
import type { ScheduleEvent } from './schedule-events';

export type SeatStatus = 'AVAILABLE' | 'HELD' | 'SOLD';

export interface SeatCatalogue {
  seatCount: number;
  /** Index seatNo - 1. */
  grades: string[];
  prices: number[];
  /** Row of each seat (never decreasing with the seat number; src/domain/seat-rows.ts). */
  rows: number[];
}

export interface Hold {
  reservationId: string;
  userId: string;
  seatNos: number[];
  amount: number;
  expiresAt: number;
  /** When the hold was made: extensions never move expiresAt past heldAt + the maximum. */
  heldAt: number;
}

export interface ScheduleState {
  scheduleId: string;
  catalogue: SeatCatalogue;
  /** Per seat (index seatNo - 1): the reservation holding or owning it, or null. */
  seatOwner: (string | null)[];
  /** Per seat: 1 when sold. */
  sold: Uint8Array;
  /** Live holds by reservation id. */
  holds: Map<string, Hold>;
  /** Seats held right now per user (for the per-user limit). */
  heldSeatsByUser: Map<string, number>;
  soldCount: number;
  heldCount: number;
  /** Sequence number of the last event applied. */
  seq: number;
}

export function emptyState(scheduleId: string, catalogue: SeatCatalogue): ScheduleState {
  return {
    scheduleId,
    catalogue,
    seatOwner: new Array<string | null>(catalogue.seatCount).fill(null),
    sold: new Uint8Array(catalogue.seatCount),
    holds: new Map(),
    heldSeatsByUser: new Map(),
    soldCount: 0,
    heldCount: 0,
    seq: 0,
  };
}

export function seatStatus(state: ScheduleState, seatNo: number): SeatStatus {
  const index = seatNo - 1;
  if (state.sold[index] === 1) return 'SOLD';
  return state.seatOwner[index] === null ? 'AVAILABLE' : 'HELD';
}

export function availableSeats(state: ScheduleState): number {
  return state.catalogue.seatCount - state.heldCount - state.soldCount;
}

function endHold(state: ScheduleState, reservationId: string, sold: boolean): void {
  const hold = state.holds.get(reservationId);
  if (!hold) return;
  state.holds.delete(reservationId);
  for (const seatNo of hold.seatNos) {
    if (sold) state.sold[seatNo - 1] = 1;
    else state.seatOwner[seatNo - 1] = null;
  }
  state.heldCount -= hold.seatNos.length;
  if (sold) state.soldCount += hold.seatNos.length;
  const left = (state.heldSeatsByUser.get(hold.userId) ?? 0) - hold.seatNos.length;
  if (left > 0) state.heldSeatsByUser.set(hold.userId, left);
  else state.heldSeatsByUser.delete(hold.userId);
}

/** What an event does to the seats, without moving the sequence number. */
export function applyEffect(state: ScheduleState, event: ScheduleEvent): void {
  switch (event.type) {
    case 'SeatsHeld': {
      const { reservationId, userId, seatNos, amount, expiresAt, at } = event;
      state.holds.set(reservationId, { reservationId, userId, seatNos, amount, expiresAt, heldAt: at });
      for (const seatNo of seatNos) state.seatOwner[seatNo - 1] = reservationId;
      state.heldCount += seatNos.length;
      state.heldSeatsByUser.set(userId, (state.heldSeatsByUser.get(userId) ?? 0) + seatNos.length);
      break;
    }
    case 'HoldReleased':
    case 'HoldExpired':
      endHold(state, event.reservationId, false);
      break;
    case 'SeatsSold':
      endHold(state, event.reservationId, true);
      break;
    case 'HoldExtended': {
      const hold = state.holds.get(event.reservationId);
      if (hold) hold.expiresAt = event.expiresAt;
      break;
    }
    case 'PaymentDeclined':
      break;
    default: {
      const unknown: never = event;
      throw new Error(`unknown event ${JSON.stringify(unknown)}`);
    }
  }
}

/** Replays one journal event: its effect, and the sequence number it took. */
export function applyEvent(state: ScheduleState, event: ScheduleEvent): void {
  applyEffect(state, event);
  state.seq++;
}

/**
 * Gives a payment its place in the schedule's order when it is decided; its effect (SeatsSold,
 * or nothing for PaymentDeclined) is applied when the money side has answered.
 */
export function reserveSeq(state: ScheduleState): number {
  return ++state.seq;
}
