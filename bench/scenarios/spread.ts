/**
 * spread: the hot-seat cycle (hold one seat, release it) over 100 schedules and uniformly random
 * seats. Almost no two requests want the same seat: the engines' throughput ceiling without
 * contention, on the same operations as hot-seat.
 */
import { activeTokenForNewUser, holdThenRelease, PRICE, UNTHROTTLED_QUEUE } from './common';
import { defineScenario } from './types';

interface Setup {
  concertId: string;
  scheduleIds: string[];
  seats: number;
}

export const spread = defineScenario<Setup, { tokens: string[] }>({
  name: 'spread',
  summary: 'hold + release of uniformly random seats over many schedules (no contention)',
  okMeans: 'hold (201) + release (200) cycles',
  uses: ['vus', 'durationS', 'warmupS', 'seats', 'schedules'],
  defaults: { vus: 64, durationS: 10, warmupS: 2, seats: 1000, schedules: 100 },
  serverEnv: () => ({ QUEUE_MAX_ACTIVE: String(UNTHROTTLED_QUEUE), MAX_SEATS_PER_HOLD: '4' }),
  profile: (params) => ({ kind: 'constant', vus: params.vus, warmupMs: params.warmupS * 1000, durationMs: params.durationS * 1000 }),

  async setup(api, params) {
    const concert = await api.createConcert('bench spread', params.schedules, params.seats, PRICE);
    return { concertId: concert.concertId, scheduleIds: concert.schedules.map((s) => s.scheduleId), seats: params.seats };
  },

  shared: () => ({ tokens: [] }),

  async init(vu) {
    vu.shared.tokens[vu.id] = await activeTokenForNewUser(vu, vu.setup.concertId);
  },

  async iteration(vu) {
    const { scheduleIds, seats } = vu.setup;
    const scheduleId = scheduleIds[vu.random(scheduleIds.length)]!;
    await holdThenRelease(vu, vu.shared.tokens[vu.id]!, scheduleId, 1 + vu.random(seats));
  },
});
