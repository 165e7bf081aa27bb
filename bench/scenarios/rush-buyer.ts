/**
 * One admitted buyer of the on-sale rush: reads the concert's schedules and a seat map, holds a
 * random AVAILABLE seat, and pays on 201. A lost race (409) or a map with nothing left is followed
 * by a 200–500 ms pause, a fresh read and another try, up to 3 retries: what a person clicking
 * "try again" does, not a retry storm.
 */
import { randomUUID } from 'node:crypto';
import type { Vu } from '../load/vu';
import { jitteredMs, type HeldReservation } from './common';

export interface RushTarget {
  concertId: string;
  scheduleIds: string[];
}

/** Buyers between "hold sent" and "payment answered": while any, a seat may still be sold. */
export interface PurchasesInFlight {
  inPurchase: number;
}

export type PurchaseOutcome = 'sold' | 'gave-up' | 'sold-out' | 'failed';

interface SchedulesBody {
  schedules: { scheduleId: string; availableSeats: number }[];
}

interface SeatMapBody {
  seats: { seatNo: number; status: 'AVAILABLE' | 'HELD' | 'SOLD' }[];
}

export const RETRIES = 3;
export const RETRY_PAUSE_MS = { min: 200, max: 500 } as const;

export async function buyOneSeat<S, Sh>(vu: Vu<S, Sh>, token: string, target: RushTarget, tally: PurchasesInFlight): Promise<PurchaseOutcome> {
  const headers = { 'queue-token': token };
  for (let attempt = 0; attempt <= RETRIES; attempt++) {
    if (attempt > 0) await vu.sleep(jitteredMs(vu, RETRY_PAUSE_MS.min, RETRY_PAUSE_MS.max));
    const list = await vu.get('schedules', `/v1/concerts/${target.concertId}/schedules`, { expect: [200] });
    if (!vu.check('schedules answered 200', list.status === 200)) return 'failed';
    const open = list.json<SchedulesBody>().schedules.filter((s) => s.availableSeats > 0);
    if (open.length === 0) return 'sold-out';
    const scheduleId = open[vu.random(open.length)]!.scheduleId;
    const map = await vu.get('seat map', `/v1/schedules/${scheduleId}/seats`, { expect: [200] });
    if (!vu.check('seat map answered 200', map.status === 200)) return 'failed';
    const available = map.json<SeatMapBody>().seats.filter((seat) => seat.status === 'AVAILABLE');
    if (available.length === 0) continue; // taken since the listing: a lost try like a 409
    const seatNo = available[vu.random(available.length)]!.seatNo;
    tally.inPurchase++;
    try {
      const hold = await vu.post('hold', '/v1/reservations', { scheduleId, seatNos: [seatNo] }, { headers, expect: [201, 409] });
      if (!vu.check('hold answered 201 or 409', hold.status === 201 || hold.status === 409)) return 'failed';
      if (hold.status === 409) continue;
      const { reservationId } = hold.json<HeldReservation>();
      const payment = await vu.post('pay', '/v1/payments', { reservationId }, { headers: { ...headers, 'idempotency-key': randomUUID() }, expect: [201] });
      return vu.check('payment answered 201', payment.status === 201) ? 'sold' : 'failed';
    } finally {
      tally.inPurchase--;
    }
  }
  return 'gave-up';
}
