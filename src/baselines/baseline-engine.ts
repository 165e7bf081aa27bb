/**
 * What the two baselines share: the draining lifecycle (requests in flight, then the expiry
 * sweeper), the in-memory seat-range check, and the reads that need no lock.
 */
import type { Pool } from 'pg';
import type { ActorInfo, HoldRequest, HoldResult } from '../engine/reservation-engine';
import type { BaselineEngineOptions } from './engine-options';
import type { ExpirySweeper } from './expiry-sweeper';
import { InFlight } from './in-flight';
import { SeatCounts } from './seat-counts';
import { seatsOutOfRange } from './seat-numbers';
import { queryAvailableSeats } from './seat-map-query';

export abstract class BaselineEngine {
  protected readonly db: Pool;
  protected readonly now: () => number;
  protected readonly inFlight: InFlight;
  protected abstract readonly sweeper: ExpirySweeper;
  private readonly seatCounts: SeatCounts;

  constructor(engine: string, options: BaselineEngineOptions) {
    this.db = options.db;
    this.now = options.now ?? Date.now;
    this.inFlight = new InFlight(engine);
    this.seatCounts = new SeatCounts(options.db);
  }

  async start(): Promise<void> {
    this.inFlight.openGate();
    this.sweeper.start();
  }

  async stop(): Promise<void> {
    await this.inFlight.close();
    await this.sweeper.stop();
  }

  isReady(): boolean {
    return this.inFlight.isOpen;
  }

  availableSeats(scheduleId: string): Promise<number> {
    return queryAvailableSeats(this.db, scheduleId);
  }

  actors(): ActorInfo[] {
    return [];
  }

  /** Out of range is decided in memory, before any lock or transaction (as the actor engine does). */
  protected async refuseOutOfRange({ scheduleId, seatNos }: HoldRequest): Promise<HoldResult | undefined> {
    if (seatNos.length === 0) throw new RangeError('a hold needs at least one seat');
    const outOfRange = seatsOutOfRange(seatNos, await this.seatCounts.of(scheduleId));
    return outOfRange.length > 0 ? { ok: false, rejection: { code: 'SEAT_OUT_OF_RANGE', seatNos: outOfRange } } : undefined;
  }
}
