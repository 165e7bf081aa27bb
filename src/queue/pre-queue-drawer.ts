/**
 * The pre-queue draw as both waiting lines run it (Redis: token-queue.ts, process memory:
 * memory-token-queue.ts). A line that finds a concert's draw due (its on-sale time has come and
 * the draw is not applied) reads its arrivals, records a draw through the QueueDrawStore — a fresh
 * seed, unless a draw of the concert stands already, recorded by another instance or before a
 * restart — and applies the order that the standing seed gives (src/domain/seeded-shuffle.ts).
 */
import { randomBytes } from 'node:crypto';
import { drawOrder } from '../domain/seeded-shuffle';
import { EngineUnavailableError } from '../engine/engine-unavailable-error';
import type { QueueDrawStore } from './queue-draws';

/** The draw could not be recorded (the database failed): 503, the line is left as it was. */
export class QueueDrawUnavailableError extends EngineUnavailableError {
  constructor(cause: unknown) {
    super(`the waiting line could not record its draw: ${cause instanceof Error ? cause.message : String(cause)}`, 1);
  }
}

/** What a line operation answers, having changed nothing, while the concert's draw is due. */
export const DRAW_DUE = 'draw-due';
export type DrawDue = typeof DRAW_DUE;

/** 128 bits: as unguessable as a token, so nobody can predict the order before the draw. */
const SEED_BYTES = 16;

export interface PreQueueDrawer {
  /**
   * Records the concert's draw unless one stands, and hands `apply` the order of `arrivals` by the
   * draw that stands. Concurrent calls for one concert on this instance share one draw.
   */
  draw(concertId: string, opensAt: number, arrivals: readonly string[], apply: (order: string[]) => Promise<void>): Promise<void>;
}

export function createPreQueueDrawer(store: QueueDrawStore | undefined): PreQueueDrawer {
  const inFlight = new Map<string, Promise<void>>();
  return {
    draw(concertId, opensAt, arrivals, apply) {
      const running = inFlight.get(concertId);
      if (running) return running;
      const drawing = (async () => {
        if (!store) throw new TypeError('token queue: a concert with an on-sale time needs a draw store (TokenQueueSettings.draws)');
        const proposal = { concertId, onSaleAt: opensAt, seed: randomBytes(SEED_BYTES).toString('hex'), count: arrivals.length };
        const draw = await store.claim(proposal).catch((error: unknown) => {
          // Nothing was applied to the line; whoever asks again (the sweep does) draws again and
          // finds the row if this claim did commit after all.
          throw new QueueDrawUnavailableError(error);
        });
        await apply(drawOrder(arrivals, draw.seed));
      })().finally(() => inFlight.delete(concertId));
      inFlight.set(concertId, drawing);
      return drawing;
    },
  };
}

/**
 * Runs a line operation; when it answers that the draw is due, draws and runs it again. Once
 * applied a draw is never due again, so the second try answers; the third is a margin (a draw
 * applied by another instance while this one found nothing left to do), and a fourth "due" is a bug.
 */
export async function afterDraw<T>(attempt: () => Promise<T | DrawDue>, draw: () => Promise<void>): Promise<T> {
  for (let tries = 0; tries < 2; tries += 1) {
    const reply = await attempt();
    if (reply !== DRAW_DUE) return reply;
    await draw();
  }
  const reply = await attempt();
  if (reply === DRAW_DUE) throw new Error('token queue: the pre-queue draw is still due after it was applied');
  return reply;
}
