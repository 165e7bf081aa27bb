/**
 * hot-seat: every virtual user races for the same 4 seats of one schedule. A winner cancels its
 * hold at once and races again. Measures contended hold + release cycles per second: the case
 * that locks serialize and an actor decides from memory.
 *
 * A loser (409) waits a jittered backoff (--backoff, default 50–150 ms) before racing again, as
 * real clients do. `--backoff 0` retries at once: the retry storm of the runs before 2026-11-26,
 * where the actor engine spent its core answering ~8,000 lost races a second while the lock
 * engine's 300 ms lock wait throttled its own losers.
 */
import { activeTokenForNewUser, holdThenRelease, jitteredMs, PRICE, UNTHROTTLED_QUEUE } from './common';
import { defineScenario } from './types';

interface Setup {
  concertId: string;
  scheduleId: string;
  seats: number;
}

export const hotSeat = defineScenario<Setup, { tokens: string[] }>({
  name: 'hot-seat',
  summary: 'all VUs race for the same few seats of one schedule; a winner releases at once and races again, a loser backs off',
  okMeans: 'hold (201) + release (200) cycles',
  uses: ['vus', 'durationS', 'warmupS', 'seats', 'backoffMinMs', 'backoffMaxMs'],
  defaults: { vus: 64, durationS: 10, warmupS: 2, seats: 4, backoffMinMs: 50, backoffMaxMs: 150 },
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
    const outcome = await holdThenRelease(vu, token, vu.setup.scheduleId, 1 + vu.random(vu.setup.seats));
    const { backoffMinMs, backoffMaxMs } = vu.params;
    // No draw when there is no backoff: the old mode keeps the old sequence of seat choices.
    if (outcome === 'conflict' && backoffMaxMs > 0) await vu.sleep(jitteredMs(vu, backoffMinMs, backoffMaxMs));
  },
});
