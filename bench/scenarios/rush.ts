/**
 * rush: the on-sale moment, the seed's shape under an open model. A concert of 4 schedules × 50
 * seats goes on sale; buyers arrive at a fixed rate (default 2,000/s for 5 s: 10,000 buyers, each
 * with money for one seat) whatever the server's latency (k6 constant-arrival-rate). Each takes a
 * queue token — the line is real: QUEUE_MAX_ACTIVE is 100, far below the arrivals — polls it until
 * admitted (bench/scenarios/waiting-line.ts), then reads the schedules and a seat map, holds a
 * random available seat, pays on 201, and on a lost race re-reads and retries up to 3 times after
 * 200–500 ms (bench/scenarios/rush-buyer.ts). The window opens at the first arrival and closes at
 * sell-out (or 30 s after the last arrival).
 *
 * Reports the time to sell out, sales per second, requests per sale (table: requests / ok), p95/p99
 * of every request type, admitted buyers who got nothing, dropped iterations; checks from the
 * database that exactly 4 × 50 seats were sold, none twice.
 */
import { randomUUID } from 'node:crypto';
import type { Vu } from '../load/vu';
import { inParallel, type SetupApi } from '../setup-api';
import { PRICE } from './common';
import { buyOneSeat, type PurchasesInFlight, type RushTarget } from './rush-buyer';
import { defineScenario, type InvariantResult, type ScenarioParams, type VerifyContext } from './types';
import { waitUntilAdmitted } from './waiting-line';

export interface RushSetup {
  main: RushTarget;
  warmup: RushTarget;
  users: string[];
  warmupUsers: string[];
  seatsOnSale: number;
}

interface Shared extends PurchasesInFlight {
  nextUser: number;
  nextWarmupUser: number;
  warmupTally: PurchasesInFlight;
  arrived: number;
  admitted: number;
  sold: number;
  lostPlace: number;
  /** A buyer saw no schedule with an available seat. */
  soldOutSeen: boolean;
  /** Window ms of the latest payment 201. */
  lastSaleMs: number;
  done: boolean;
}

/** Admitted tokens live this long: a buyer who got nothing blocks a place in the line this long at most. */
const ACTIVE_TTL_SECONDS = 30;
const DEFAULT_QUEUE_MAX_ACTIVE = 100;
/** Warm-up buyers per second (on a concert of their own, before the window). */
const WARMUP_RATE = 50;
const GRACEFUL_STOP_MS = 30_000;
const SETUP_CONCURRENCY = 32;

type RushVu = Vu<RushSetup, Shared>;

/** How many buyers arrive: the executor plans ⌈rate × duration⌉. */
export function arrivals(params: ScenarioParams): number {
  return Math.ceil(params.rate * params.durationS);
}

/** Open model: `rate` buyers a second for `durationS`; by default a VU (connection) for every buyer. */
export function rushProfile(params: ScenarioParams, warmupRate: number) {
  const maxVus = params.maxVus > 0 ? params.maxVus : arrivals(params);
  return {
    kind: 'arrival-rate' as const,
    startRate: params.rate,
    stages: [{ durationMs: params.durationS * 1000, target: params.rate }],
    preAllocatedVus: Math.min(params.preAllocatedVus > 0 ? params.preAllocatedVus : params.rate, maxVus),
    maxVus,
    gracefulStopMs: GRACEFUL_STOP_MS,
    warmupRate,
    warmupMs: params.warmupS * 1000,
  };
}

export function rushServerEnv(params: ScenarioParams): Record<string, string> {
  return {
    QUEUE_MAX_ACTIVE: String(params.queueMaxActive > 0 ? params.queueMaxActive : DEFAULT_QUEUE_MAX_ACTIVE),
    QUEUE_ACTIVE_TTL_SECONDS: String(ACTIVE_TTL_SECONDS),
    MAX_SEATS_PER_HOLD: '4',
  };
}

/** Two concerts (the sale and a warm-up one), and one funded user per arriving buyer. */
export async function rushSetup(api: SetupApi, params: ScenarioParams, name: string, balance: number): Promise<RushSetup> {
  const main = await api.createConcert(`bench ${name}`, params.schedules, params.seats, PRICE);
  const warmup = await api.createConcert(`bench ${name} warm-up`, params.schedules, params.seats, PRICE);
  const users = Array.from({ length: arrivals(params) }, () => randomUUID());
  const warmupUsers = Array.from({ length: Math.max(1, Math.ceil(WARMUP_RATE * params.warmupS)) }, () => randomUUID());
  await inParallel([...users, ...warmupUsers], SETUP_CONCURRENCY, async (userId) => {
    await api.charge(userId, balance, `bench-charge-${userId}`);
  });
  const target = (concert: typeof main): RushTarget => ({ concertId: concert.concertId, scheduleIds: concert.schedules.map((s) => s.scheduleId) });
  return { main: target(main), warmup: target(warmup), users, warmupUsers, seatsOnSale: params.schedules * params.seats };
}

/** SOLD seats in the engine's own seat maps of these schedules. */
export async function soldInEngineMaps(api: SetupApi, scheduleIds: readonly string[]): Promise<number> {
  let sold = 0;
  for (const scheduleId of scheduleIds) sold += (await api.seatMap(scheduleId)).seats.filter((seat) => seat.status === 'SOLD').length;
  return sold;
}

/** From the database: exactly every seat of the sale sold, once each, each paid; the engine's maps agree. */
export async function verifySoldOut({ db, setup, api }: VerifyContext<RushSetup>): Promise<InvariantResult[]> {
  const { rows } = await db.query<{ reservations: number; seats: number; distinct_seats: number; payments: number }>(
    `SELECT count(*)::int AS reservations,
            coalesce(sum(cardinality(r.seat_nos)), 0)::int AS seats,
            (SELECT count(*)::int FROM (SELECT DISTINCT r2.schedule_id, s FROM reservations r2, unnest(r2.seat_nos) s
              WHERE r2.schedule_id = ANY ($1::uuid[]) AND r2.status = 'CONFIRMED') d) AS distinct_seats,
            (SELECT count(*)::int FROM payments p JOIN reservations r3 ON r3.id = p.reservation_id
              WHERE r3.schedule_id = ANY ($1::uuid[])) AS payments
       FROM reservations r
      WHERE r.schedule_id = ANY ($1::uuid[]) AND r.status = 'CONFIRMED'`,
    [setup.main.scheduleIds],
  );
  const sold = rows[0]!;
  const soldInMaps = await soldInEngineMaps(api, setup.main.scheduleIds);
  return [
    {
      name: `exactly ${setup.seatsOnSale} seats sold (database)`,
      ok: sold.seats === setup.seatsOnSale && sold.distinct_seats === setup.seatsOnSale && sold.payments === sold.reservations,
      detail: `${sold.seats} seats in ${sold.reservations} confirmed reservations (${sold.distinct_seats} distinct), ${sold.payments} payments`,
    },
    {
      name: 'engine seat maps agree with the database',
      ok: soldInMaps === sold.distinct_seats,
      detail: `seat maps show ${soldInMaps} SOLD, database ${sold.distinct_seats}`,
    },
  ];
}

function publish(vu: RushVu): void {
  const s = vu.shared;
  vu.metric('buyers_arrived', s.arrived);
  vu.metric('buyers_admitted', s.admitted);
  vu.metric('buyers_never_admitted', s.arrived - s.admitted);
  vu.metric('waiting_tokens_lost', s.lostPlace);
  vu.metric('seats_sold_acknowledged', s.sold);
  vu.metric('admitted_got_nothing', s.admitted - s.sold);
}

/** Sold out: every seat acknowledged sold, or nothing available and nobody left mid-purchase. */
function finishIfSoldOut(vu: RushVu): void {
  const s = vu.shared;
  if (s.done || !(s.sold >= vu.setup.seatsOnSale || (s.soldOutSeen && s.inPurchase === 0))) return;
  s.done = true;
  publish(vu);
  if (s.sold > 0) {
    vu.metric('time_to_sell_out_ms', Math.round(s.lastSaleMs));
    vu.metric('sales_per_s', Math.round((s.sold / (s.lastSaleMs / 1000)) * 10) / 10);
  }
  vu.finish();
}

export const rush = defineScenario<RushSetup, Shared>({
  name: 'rush',
  summary: 'on-sale rush, open model: buyers arrive at --rate/s, wait in a real line, hold a random free seat of 4 × 50 and pay, until sold out',
  okMeans: 'seats sold (payment 201)',
  uses: ['rate', 'durationS', 'warmupS', 'schedules', 'seats', 'queueMaxActive', 'preAllocatedVus', 'maxVus', 'pollCapMs'],
  defaults: { rate: 2000, durationS: 5, warmupS: 2, schedules: 4, seats: 50, queueMaxActive: DEFAULT_QUEUE_MAX_ACTIVE, pollCapMs: 2000 },
  reportByRequest: true,
  serverEnv: rushServerEnv,
  profile: (params) => rushProfile(params, WARMUP_RATE),
  setup: (api, params) => rushSetup(api, params, 'rush', PRICE),

  shared: () => ({
    inPurchase: 0,
    nextUser: 0,
    nextWarmupUser: 0,
    warmupTally: { inPurchase: 0 },
    arrived: 0,
    admitted: 0,
    sold: 0,
    lostPlace: 0,
    soldOutSeen: false,
    lastSaleMs: 0,
    done: false,
  }),

  async iteration(vu) {
    const { setup, shared } = vu;
    if (vu.phase !== 'measure') {
      // Warm-up: the same flow on a concert of its own, so the sale starts untouched.
      const userId = setup.warmupUsers[shared.nextWarmupUser++ % setup.warmupUsers.length]!;
      const admission = await waitUntilAdmitted(vu, userId, setup.warmup.concertId, vu.params.pollCapMs, () => vu.phase === 'measure');
      if (admission.admitted) await buyOneSeat(vu, admission.token, setup.warmup, shared.warmupTally);
      return;
    }
    if (shared.done || shared.nextUser >= setup.users.length) return;
    const userId = setup.users[shared.nextUser++]!;
    shared.arrived++;
    const admission = await waitUntilAdmitted(vu, userId, setup.main.concertId, vu.params.pollCapMs, () => shared.done);
    if (!admission.admitted) {
      if (admission.why === 'token lost') shared.lostPlace++;
      publish(vu);
      return;
    }
    shared.admitted++;
    const outcome = await buyOneSeat(vu, admission.token, setup.main, shared);
    if (outcome === 'sold') {
      shared.sold++;
      shared.lastSaleMs = vu.windowElapsedMs();
      vu.success();
    } else if (outcome === 'sold-out') {
      shared.soldOutSeen = true;
    }
    publish(vu);
    finishIfSoldOut(vu);
  },

  verify: verifySoldOut,
});
