/**
 * sell-out: one schedule of 1,000 seats and 5,000 users, each with money for one seat. Each user
 * takes a token, reads the seat map, picks an available seat, holds it and pays (up to 3 tries
 * when someone was faster). Runs until the schedule is sold out. Reports the time to sell out;
 * checks that exactly 1,000 seats were sold, none twice, and that money was conserved.
 */
import { randomUUID } from 'node:crypto';
import type { Vu } from '../load/vu';
import { inParallel } from '../setup-api';
import { issueToken, PRICE, UNTHROTTLED_QUEUE, type HeldReservation } from './common';
import { defineScenario } from './types';

interface Target {
  concertId: string;
  scheduleId: string;
}

interface Setup {
  main: Target;
  warmup: Target;
  users: string[];
  warmupUsers: string[];
  seats: number;
}

interface Shared {
  nextUser: number;
  flowsInProgress: number;
  sold: number;
  gaveUp: number;
  /** A seat map showed every seat SOLD. */
  soldOutSeen: boolean;
  done: boolean;
}

interface SeatMapBody {
  seats: { seatNo: number; status: 'AVAILABLE' | 'HELD' | 'SOLD' }[];
}

const ATTEMPTS = 3;
const SETUP_CONCURRENCY = 16;
/** Warm-up users buy many seats in turn (the per-user limit counts live holds only). */
const WARMUP_BALANCE = PRICE * 1000;

type SellOutVu = Vu<Setup, Shared>;

/** 'sold' | 'gave-up' | 'sold-out' (nothing left to hold: every seat is SOLD). */
async function buyOneSeat(vu: SellOutVu, userId: string, target: Target): Promise<'sold' | 'gave-up' | 'sold-out'> {
  const token = await issueToken(vu, userId, target.concertId);
  if (!token || !vu.check('token ACTIVE at once', token.status === 'ACTIVE')) return 'gave-up';
  const headers = { 'queue-token': token.token };
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const map = await vu.get('seat map', `/v1/schedules/${target.scheduleId}/seats`, { expect: [200] });
    if (!vu.check('seat map answered 200', map.status === 200)) return 'gave-up';
    const seats = map.json<SeatMapBody>().seats;
    const available = seats.filter((seat) => seat.status === 'AVAILABLE');
    if (available.length === 0) return seats.every((seat) => seat.status === 'SOLD') ? 'sold-out' : 'gave-up';
    const seatNo = available[vu.random(available.length)]!.seatNo;
    const hold = await vu.post('hold', '/v1/reservations', { scheduleId: target.scheduleId, seatNos: [seatNo] }, { headers, expect: [201, 409] });
    if (!vu.check('hold answered 201 or 409', hold.status === 201 || hold.status === 409)) return 'gave-up';
    if (hold.status === 409) continue;
    const { reservationId } = hold.json<HeldReservation>();
    const payment = await vu.post('pay', '/v1/payments', { reservationId }, { headers: { ...headers, 'idempotency-key': randomUUID() }, expect: [201] });
    return vu.check('payment answered 201', payment.status === 201) ? 'sold' : 'gave-up';
  }
  return 'gave-up';
}

function finishIfDone(vu: SellOutVu): void {
  const shared = vu.shared;
  const usersLeft = shared.nextUser < vu.setup.users.length;
  if (shared.done || shared.soldOutSeen || shared.sold >= vu.setup.seats || (!usersLeft && shared.flowsInProgress === 0)) {
    if (!shared.done) {
      shared.done = true;
      vu.metric('sold_acknowledged', shared.sold);
      vu.metric('users_served', shared.nextUser);
      vu.metric('users_gave_up', shared.gaveUp);
      if (shared.sold >= vu.setup.seats || shared.soldOutSeen) vu.metric('time_to_sell_out_ms', Math.round(vu.windowElapsedMs()));
    }
    vu.finish();
  }
}

export const sellOut = defineScenario<Setup, Shared>({
  name: 'sell-out',
  summary: '5,000 users with money for one seat each buy the 1,000 seats of one schedule, until sold out',
  okMeans: 'seats sold (payment 201)',
  uses: ['vus', 'durationS', 'warmupS', 'users', 'seats'],
  defaults: { vus: 64, durationS: 120, warmupS: 2, users: 5000, seats: 1000 },
  serverEnv: () => ({ QUEUE_MAX_ACTIVE: String(UNTHROTTLED_QUEUE), MAX_SEATS_PER_HOLD: '4' }),
  profile: (params) => ({ kind: 'constant', vus: params.vus, warmupMs: params.warmupS * 1000, durationMs: params.durationS * 1000 }),

  async setup(api, params) {
    const main = await api.createConcert('bench sell-out', 1, params.seats, PRICE);
    const warmup = await api.createConcert('bench sell-out warm-up', 1, params.seats, PRICE);
    const users = Array.from({ length: params.users }, () => randomUUID());
    const warmupUsers = Array.from({ length: params.vus }, () => randomUUID());
    await inParallel(users, SETUP_CONCURRENCY, async (userId) => {
      await api.charge(userId, PRICE, `bench-charge-${userId}`);
    });
    await inParallel(warmupUsers, SETUP_CONCURRENCY, async (userId) => {
      await api.charge(userId, WARMUP_BALANCE, `bench-charge-${userId}`);
    });
    return {
      main: { concertId: main.concertId, scheduleId: main.schedules[0]!.scheduleId },
      warmup: { concertId: warmup.concertId, scheduleId: warmup.schedules[0]!.scheduleId },
      users,
      warmupUsers,
      seats: params.seats,
    };
  },

  shared: () => ({ nextUser: 0, flowsInProgress: 0, sold: 0, gaveUp: 0, soldOutSeen: false, done: false }),

  async iteration(vu) {
    const { setup, shared } = vu;
    if (vu.phase !== 'measure') {
      // Warm-up: the same flow on a schedule of its own, so the measured one starts untouched.
      await buyOneSeat(vu, setup.warmupUsers[vu.id % setup.warmupUsers.length]!, setup.warmup);
      return;
    }
    if (shared.done || shared.nextUser >= setup.users.length) {
      finishIfDone(vu);
      vu.retire();
      return;
    }
    const userId = setup.users[shared.nextUser++]!;
    shared.flowsInProgress++;
    try {
      const outcome = await buyOneSeat(vu, userId, setup.main);
      if (outcome === 'sold') {
        shared.sold++;
        vu.success();
      } else if (outcome === 'gave-up') {
        shared.gaveUp++;
      } else {
        shared.soldOutSeen = true;
      }
    } finally {
      shared.flowsInProgress--;
    }
    finishIfDone(vu);
  },

  async verify({ db, setup, api }) {
    const { rows } = await db.query<{ reservations: number; seats: number; distinct_seats: number; payments: number }>(
      `SELECT count(*)::int AS reservations,
              coalesce(sum(cardinality(r.seat_nos)), 0)::int AS seats,
              (SELECT count(DISTINCT s)::int FROM reservations r2, unnest(r2.seat_nos) s
                WHERE r2.schedule_id = $1 AND r2.status = 'CONFIRMED') AS distinct_seats,
              (SELECT count(*)::int FROM payments p JOIN reservations r3 ON r3.id = p.reservation_id
                WHERE r3.schedule_id = $1) AS payments
         FROM reservations r
        WHERE r.schedule_id = $1 AND r.status = 'CONFIRMED'`,
      [setup.main.scheduleId],
    );
    const sold = rows[0]!;
    const map = await api.seatMap(setup.main.scheduleId);
    const soldInMap = map.seats.filter((seat) => seat.status === 'SOLD').length;
    return [
      {
        name: `exactly ${setup.seats} seats sold`,
        ok: sold.seats === setup.seats && sold.distinct_seats === setup.seats && sold.payments === sold.reservations,
        detail: `${sold.seats} seats in ${sold.reservations} confirmed reservations (${sold.distinct_seats} distinct), ${sold.payments} payments`,
      },
      {
        name: 'engine seat map agrees with the database',
        ok: soldInMap === sold.distinct_seats,
        detail: `seat map shows ${soldInMap} SOLD, database ${sold.distinct_seats}`,
      },
    ];
  },
});
