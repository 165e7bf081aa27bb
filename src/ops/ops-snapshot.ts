/**
 * What the live ops page shows (/ops): the hottest actors, the waiting lines, the outbox lag,
 * the breaker and the charges awaiting their gateway answer, read from the same sources as
 * /metrics. Each part is read on its own: a part whose store does not answer is `null` (shown
 * as "unavailable") instead of failing the whole snapshot. Reads are shared: every viewer within
 * `maxAgeMs` of a read gets that read, so ten open pages cost what one does.
 */
import type { EngineName } from '../config';
import { hottestActors } from '../engine/hottest-actors';
import { SCRAPE_READ_TIMEOUT_MS } from '../metrics/once-per-scrape';
import { within } from '../within';
import type { ActorInfo, ReservationEngine } from '../engine/reservation-engine';
import type { BreakerState } from '../payments/guarded-gateway';
import type { LineStats, TokenQueue } from '../queue/types';

/** What the page shows of an actor: named field by field, so nothing new leaks out by itself. */
export type OpsActor = Pick<
  ActorInfo,
  'scheduleId' | 'heat' | 'mailboxDepth' | 'activeHolds' | 'heldSeats' | 'soldSeats' | 'journalSeq' | 'lastSnapshotAt'
>;

export interface OpsSnapshot {
  at: string;
  engine: EngineName;
  actors: { live: number; activeHolds: number; hottest: OpsActor[] };
  /** The longest lines (at most 20), longest first; null when the store (Redis) did not answer. */
  queue: LineStats[] | null;
  outbox: { relay: 'kafka' | 'off'; pending: number; oldestAgeSeconds: number } | null;
  breakers: Record<string, BreakerState>;
  charges: { pending: number; oldestAgeSeconds: number } | null;
}

export interface OpsSources {
  engine: ReservationEngine;
  queue: TokenQueue;
  relay: 'kafka' | 'off';
  outboxLag(): Promise<{ pending: number; oldestAgeSeconds: number }>;
  breakerState(): BreakerState;
  pendingCharges(): Promise<{ count: number; oldestAgeSeconds: number }>;
}

const HOTTEST = 10;
const LONGEST_LINES = 20;

const opsActor = (a: ActorInfo): OpsActor => ({
  scheduleId: a.scheduleId,
  heat: a.heat,
  mailboxDepth: a.mailboxDepth,
  activeHolds: a.activeHolds,
  heldSeats: a.heldSeats,
  soldSeats: a.soldSeats,
  journalSeq: a.journalSeq,
  lastSnapshotAt: a.lastSnapshotAt,
});

/** A store that fails or does not answer within a scrape's bound shows as unavailable. */
async function orNull<T>(read: () => Promise<T>): Promise<T | null> {
  try {
    return await within(SCRAPE_READ_TIMEOUT_MS, read);
  } catch {
    return null;
  }
}

export function createOpsSnapshot(sources: OpsSources, maxAgeMs = 500): () => Promise<OpsSnapshot> {
  let last: { at: number; snapshot: Promise<OpsSnapshot> } | undefined;

  const read = async (): Promise<OpsSnapshot> => {
    const actors = sources.engine.actors();
    const hottest = hottestActors(actors, HOTTEST).map(opsActor);
    const [queue, outbox, charges] = await Promise.all([
      orNull(async () =>
        (await sources.queue.stats())
          .sort((a, b) => b.prequeue + b.waiting + b.active - (a.prequeue + a.waiting + a.active))
          .slice(0, LONGEST_LINES),
      ),
      orNull(async () => ({ relay: sources.relay, ...(await sources.outboxLag()) })),
      orNull(async () => {
        const { count, oldestAgeSeconds } = await sources.pendingCharges();
        return { pending: count, oldestAgeSeconds };
      }),
    ]);
    return {
      at: new Date().toISOString(),
      engine: sources.engine.name,
      actors: { live: actors.length, activeHolds: actors.reduce((sum, a) => sum + a.activeHolds, 0), hottest },
      queue,
      outbox,
      breakers: { payment_gateway: sources.breakerState() },
      charges,
    };
  };

  return () => {
    const now = Date.now();
    if (!last || now - last.at >= maxAgeMs) last = { at: now, snapshot: read() };
    return last.snapshot;
  };
}
