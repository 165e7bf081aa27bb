/**
 * The rules of a schedule: a pure function from (state, command) to the events to journal or a
 * rejection. Nothing here reads a clock or does I/O; `now` comes in the command.
 */
import type { Rejection, ScheduleCommand } from './schedule-commands';
import type { ScheduleEvent } from './schedule-events';
import type { Hold, ScheduleState } from './schedule-state';
import { pickBestSeats } from './best-available';

export type Decision = { ok: true; events: ScheduleEvent[] } | { ok: false; rejection: Rejection };

const accept = (...events: ScheduleEvent[]): Decision => ({ ok: true, events });
const reject = (rejection: Rejection): Decision => ({ ok: false, rejection });

function decideHold(state: ScheduleState, command: Extract<ScheduleCommand, { type: 'Hold' }>): Decision {
  const { seatNos, userId } = command;
  const outOfRange = seatNos.filter((n) => !Number.isInteger(n) || n < 1 || n > state.catalogue.seatCount);
  if (outOfRange.length > 0) return reject({ code: 'SEAT_OUT_OF_RANGE', seatNos: outOfRange });
  const duplicates = seatNos.filter((n, i) => seatNos.indexOf(n) !== i);
  if (duplicates.length > 0) return reject({ code: 'DUPLICATE_SEAT', seatNos: duplicates });
  const taken = seatNos.filter((n) => state.seatOwner[n - 1] !== null);
  if (taken.length > 0) return reject({ code: 'SEAT_UNAVAILABLE', seatNos: taken });
  const held = state.heldSeatsByUser.get(userId) ?? 0;
  if (held + seatNos.length > command.maxSeatsPerUser) {
    return reject({ code: 'LIMIT_EXCEEDED', limit: command.maxSeatsPerUser, held });
  }
  const amount = seatNos.reduce((sum, n) => sum + (state.catalogue.prices[n - 1] ?? 0), 0);
  return accept({
    type: 'SeatsHeld',
    reservationId: command.reservationId,
    userId,
    seatNos: [...seatNos],
    amount,
    expiresAt: command.now + command.holdTtlMs,
    at: command.now,
  });
}

/**
 * The seats are chosen here, against this state, so nothing can take them between the choice and
 * the hold; the event names them like any hold (a replay never chooses again). The per-user limit
 * is checked first: a user at their limit hears 422, not that no seats are left.
 */
function decideHoldBest(state: ScheduleState, command: Extract<ScheduleCommand, { type: 'HoldBest' }>): Decision {
  const held = state.heldSeatsByUser.get(command.userId) ?? 0;
  if (held + command.best.quantity > command.maxSeatsPerUser) {
    return reject({ code: 'LIMIT_EXCEEDED', limit: command.maxSeatsPerUser, held });
  }
  const seatNos = pickBestSeats(state.catalogue, (seatNo) => state.seatOwner[seatNo - 1] === null, command.best);
  if (!seatNos) return reject({ code: 'NO_BEST_SEATS', best: command.best });
  const { best: _best, ...rest } = command;
  return decideHold(state, { ...rest, type: 'Hold', seatNos });
}

/**
 * Never past heldAt + holdMaxMs and never earlier than it was; a hold already at its maximum is
 * refused (nothing would move) rather than answered with an unchanged expiry.
 */
function decideExtend(state: ScheduleState, command: Extract<ScheduleCommand, { type: 'Extend' }>): Decision {
  const hold = ownedLiveHold(state, command.reservationId, command.userId, command.now);
  if (isRejection(hold)) return reject(hold);
  const cap = hold.heldAt + command.holdMaxMs;
  if (hold.expiresAt >= cap) return reject({ code: 'HOLD_EXTENSION_LIMIT', expiresAt: hold.expiresAt });
  const expiresAt = Math.max(hold.expiresAt, Math.min(command.now + command.holdTtlMs, cap));
  return accept({ type: 'HoldExtended', reservationId: hold.reservationId, expiresAt, at: command.now });
}

/** A live hold that the given user may act on, or the reason they may not. */
function ownedLiveHold(state: ScheduleState, reservationId: string, userId: string, now: number): Hold | Rejection {
  const hold = state.holds.get(reservationId);
  if (!hold) return { code: 'RESERVATION_NOT_HELD' };
  if (hold.userId !== userId) return { code: 'NOT_OWNER' };
  if (hold.expiresAt <= now) return { code: 'RESERVATION_EXPIRED' };
  return hold;
}

const isRejection = (value: Hold | Rejection): value is Rejection => 'code' in value;

/** `Hold` carries a fresh reservation id (the server makes one per request). */
export function decide(state: ScheduleState, command: ScheduleCommand): Decision {
  switch (command.type) {
    case 'Hold':
      return decideHold(state, command);
    case 'HoldBest':
      return decideHoldBest(state, command);
    case 'Extend':
      return decideExtend(state, command);
    case 'Release': {
      const hold = ownedLiveHold(state, command.reservationId, command.userId, command.now);
      if (isRejection(hold)) return reject(hold);
      return accept({ type: 'HoldReleased', reservationId: hold.reservationId, at: command.now });
    }
    case 'Confirm': {
      const hold = ownedLiveHold(state, command.reservationId, command.userId, command.now);
      if (isRejection(hold)) return reject(hold);
      return accept({
        type: 'SeatsSold',
        reservationId: hold.reservationId,
        paymentId: command.paymentId,
        at: command.now,
      });
    }
    case 'Expire': {
      const hold = state.holds.get(command.reservationId);
      // Already released, sold or expired, or a timer that fired early: nothing to do.
      if (!hold || hold.expiresAt > command.now) return accept();
      return accept({ type: 'HoldExpired', reservationId: hold.reservationId, at: command.now });
    }
    default: {
      const unknown: never = command;
      throw new Error(`unknown command ${JSON.stringify(unknown)}`);
    }
  }
}
