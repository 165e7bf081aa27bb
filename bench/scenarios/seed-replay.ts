/**
 * seed-replay: the load test of the report we start from (shared/seed/load-test-report.ko.md),
 * translated. k6 ramping VUs 0 → 50 → 150 → 50 → 0 over 60 s (stages 10 s, 20 s, 20 s, 10 s: our
 * reading of "over 60 s"), VUs multiplied by --scale. Each iteration: issue a queue token, poll it
 * every 2 s until ACTIVE, read the schedules and a seat map, hold an available seat and pay, sleep
 * 1 s. The line is used for real: QUEUE_MAX_ACTIVE is 10 × scale, so on the plateau most users wait
 * and poll (a user is ACTIVE for the ~1 s between admission and noticing it at the next poll, plus the
 * purchase); an admitted token lives 30 s, so a user who left the line stops blocking it within that time.
 * The original's threshold: p95 < 200 ms.
 */
import { randomUUID } from 'node:crypto';
import type { Vu } from '../load/vu';
import { inParallel, type SetupApi } from '../setup-api';
import { issueToken, PRICE, type HeldReservation, type TokenView } from './common';
import { defineScenario } from './types';

interface Target {
  concertId: string;
  scheduleIds: string[];
}

interface Setup {
  main: Target;
  warmup: Target;
  users: string[];
  warmupUsers: string[];
}

interface SchedulesBody {
  schedules: { scheduleId: string; availableSeats: number }[];
}

interface SeatMapBody {
  seats: { seatNo: number; status: 'AVAILABLE' | 'HELD' | 'SOLD' }[];
}

const STAGES = [
  { durationMs: 10_000, target: 50 },
  { durationMs: 20_000, target: 150 },
  { durationMs: 20_000, target: 50 },
  { durationMs: 10_000, target: 0 },
];
const POLL_MS = 2_000;
const THINK_MS = 1_000;
const WARMUP_VUS = 10;
const BALANCE = PRICE * 100;
const ACTIVE_TTL_SECONDS = 30;
const SETUP_CONCURRENCY = 16;

type ReplayVu = Vu<Setup, null>;

/** The original's k6 iteration, plus the hold and the payment. */
async function visit(vu: ReplayVu, userId: string, target: Target): Promise<void> {
  let token: TokenView | undefined = await issueToken(vu, userId, target.concertId);
  while (token && token.status !== 'ACTIVE') {
    await vu.sleep(POLL_MS);
    const poll = await vu.get('token status', '/v1/queue/tokens/current', { headers: { 'queue-token': token.token }, expect: [200] });
    if (!vu.check('token status answered 200', poll.status === 200)) return;
    token = { ...poll.json<TokenView>(), token: token.token };
  }
  if (!token) return;
  const headers = { 'queue-token': token.token };

  const list = await vu.get('schedules', `/v1/concerts/${target.concertId}/schedules`, { expect: [200] });
  if (!vu.check('schedules answered 200', list.status === 200)) return;
  const open = list.json<SchedulesBody>().schedules.filter((s) => s.availableSeats > 0);
  if (open.length > 0) {
    const scheduleId = open[vu.random(open.length)]!.scheduleId;
    const map = await vu.get('seat map', `/v1/schedules/${scheduleId}/seats`, { expect: [200] });
    if (!vu.check('seat map answered 200', map.status === 200)) return;
    const available = map.json<SeatMapBody>().seats.filter((seat) => seat.status === 'AVAILABLE');
    if (available.length > 0) {
      const seatNo = available[vu.random(available.length)]!.seatNo;
      const hold = await vu.post('hold', '/v1/reservations', { scheduleId, seatNos: [seatNo] }, { headers, expect: [201, 409] });
      vu.check('hold answered 201 or 409', hold.status === 201 || hold.status === 409);
      if (hold.status === 201) {
        const { reservationId } = hold.json<HeldReservation>();
        const payment = await vu.post('pay', '/v1/payments', { reservationId }, { headers: { ...headers, 'idempotency-key': randomUUID() }, expect: [201] });
        if (vu.check('payment answered 201', payment.status === 201)) vu.success();
      }
    }
  }
  await vu.sleep(THINK_MS);
}

async function chargeAll(api: SetupApi, users: string[]): Promise<void> {
  await inParallel(users, SETUP_CONCURRENCY, async (userId) => {
    await api.charge(userId, BALANCE, `bench-charge-${userId}`);
  });
}

export const seedReplay = defineScenario<Setup, null>({
  name: 'seed-replay',
  summary: "the report's k6 test: ramping VUs 0→50→150→50→0 over 60 s (× scale), queue token, poll, schedules, seat map, hold, pay",
  okMeans: 'seats bought (payment 201)',
  uses: ['scale', 'warmupS', 'seats', 'schedules', 'queueMaxActive'],
  defaults: { scale: 1, warmupS: 3, seats: 1000, schedules: 20 },
  reference: {
    title: 'the original load test (Spring Boot + MariaDB + Redis locks + Kafka), same script without hold/pay, scale 1',
    rows: [
      { metric: 'http_reqs', value: '2,521' },
      { metric: 'req/s', value: '27.89' },
      { metric: 'checks passed / failed', value: '2,520 / 1' },
      { metric: 'http_req_failed', value: '0 %' },
      { metric: 'latency avg (ms)', value: '1,230' },
      { metric: 'latency min (ms)', value: '9.28' },
      { metric: 'latency med (ms)', value: '234.14' },
      { metric: 'latency p90 (ms)', value: '2,680' },
      { metric: 'latency p95 (ms)', value: '11,840' },
      { metric: 'latency max (ms)', value: '14,890' },
      { metric: 'server CPU % (1 core = 100)', value: '> 85 % (their server)' },
      { metric: 'threshold p95 < 200 ms', value: 'FAIL' },
    ],
  },
  thresholds: [{ metric: 'p95', belowMs: 200 }],
  serverEnv: (params) => ({
    QUEUE_MAX_ACTIVE: String(params.queueMaxActive > 0 ? params.queueMaxActive : 10 * params.scale),
    QUEUE_ACTIVE_TTL_SECONDS: String(ACTIVE_TTL_SECONDS),
    MAX_SEATS_PER_HOLD: '4',
  }),
  profile: (params) => ({
    kind: 'ramping',
    warmupVus: WARMUP_VUS,
    warmupMs: params.warmupS * 1000,
    stages: STAGES.map((stage) => ({ durationMs: stage.durationMs, target: stage.target * params.scale })),
    gracefulRampDownMs: 30_000,
  }),

  async setup(api, params) {
    const main = await api.createConcert('bench seed-replay', params.schedules, params.seats, PRICE);
    const warmup = await api.createConcert('bench seed-replay warm-up', 1, params.seats, PRICE);
    // One user per VU slot; ramping down and up again can briefly need a few more slots.
    const users = Array.from({ length: Math.ceil(150 * params.scale * 1.2) }, () => randomUUID());
    const warmupUsers = Array.from({ length: WARMUP_VUS }, () => randomUUID());
    await chargeAll(api, users);
    await chargeAll(api, warmupUsers);
    return {
      main: { concertId: main.concertId, scheduleIds: main.schedules.map((s) => s.scheduleId) },
      warmup: { concertId: warmup.concertId, scheduleIds: warmup.schedules.map((s) => s.scheduleId) },
      users,
      warmupUsers,
    };
  },

  shared: () => null,

  async iteration(vu) {
    const measuring = vu.phase === 'measure';
    const users = measuring ? vu.setup.users : vu.setup.warmupUsers;
    await visit(vu, users[vu.id % users.length]!, measuring ? vu.setup.main : vu.setup.warmup);
  },
});
