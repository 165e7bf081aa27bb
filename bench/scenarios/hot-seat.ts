/**
 * hot-seat: every virtual user races for the same 4 seats of one schedule. A winner cancels its
 * hold at once and races again. Measures contended hold + release cycles per second: the case
 * that locks serialize and an actor decides from memory.
 */
import { activeTokenForNewUser, holdThenRelease, PRICE, UNTHROTTLED_QUEUE } from './common';
import { defineScenario } from './types';

interface Setup {
  concertId: string;
  scheduleId: string;
  seats: number;
}

export const hotSeat = defineScenario<Setup, { tokens: string[] }>({
  name: 'hot-seat',
  summary: 'all VUs race for the same few seats of one schedule; a winner releases at once and races again',
  okMeans: 'hold (201) + release (200) cycles',
  uses: ['vus', 'durationS', 'warmupS', 'seats'],
  defaults: { vus: 64, durationS: 10, warmupS: 2, seats: 4 },
  serverEnv: () => ({ QUEUE_MAX_ACTIVE: String(UNTHROTTLED_QUEUE), MAX_SEATS_PER_HOLD: '4' }),
  profile: (params) => ({ kind: 'constant', vus: params.vus, warmupMs: params.warmupS * 1000, durationMs: params.durationS * 1000 }),

  async setup(api, params) {
    const concert = await api.createConcert('bench hot-seat', 1, params.seats, PRICE);
    return { concertId: concert.concertId, scheduleId: concert.schedules[0]!.scheduleId, seats: params.seats };
  },

  shared: () => ({ tokens: [] }),

  async init(vu) {
    vu.shared.tokens[vu.id] = await activeTokenForNewUser(vu, vu.setup.concertId);
  },

  async iteration(vu) {
    const token = vu.shared.tokens[vu.id]!;
    await holdThenRelease(vu, token, vu.setup.scheduleId, 1 + vu.random(vu.setup.seats));
  },
});
