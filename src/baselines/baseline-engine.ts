/**
 * What the two baselines share: the draining lifecycle (requests in flight, then the expiry
 * sweeper), the in-memory seat-range check, and the reads that need no lock.
 */
import type { Pool } from 'pg';
import type { ActorInfo, BestSeatsHold, HoldResult, NamedSeatsHold, SeatHistory } from '../engine/reservation-engine';
import { seatHistoryFromReservations } from '../persistence/seat-history-store';
import { heldSeats } from './hold-insert';
import { SeatLayouts } from './seat-layouts';
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
  protected readonly layouts: SeatLayouts;
  private readonly seatCounts: SeatCounts;

  constructor(
    engine: string,
    private readonly baselineOptions: BaselineEngineOptions,
  ) {
    this.db = baselineOptions.db;
    this.now = baselineOptions.now ?? Date.now;
    this.inFlight = new InFlight(engine);
    this.seatCounts = new SeatCounts(baselineOptions.db);
    this.layouts = new SeatLayouts(baselineOptions.db);
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

  /** No journal here: derived from the reservation rows (src/persistence/seat-history-store.ts). */
  seatHistory(scheduleId: string, seatNo: number): Promise<SeatHistory> {
    return seatHistoryFromReservations(this.db, scheduleId, seatNo);
  }

  /**
   * A best-available hold's refusal before any seat is chosen, in the actor engine's order: the
   * per-user limit (re-checked race-free by the insert), then a schedule without seats.
   */
  protected async refuseBestBeforeChoice({ scheduleId, userId, best }: BestSeatsHold, now: number): Promise<HoldResult | undefined> {
    const { maxSeatsPerUser } = this.baselineOptions;
    const held = await heldSeats(this.db, scheduleId, userId, now);
    if (held + best.quantity > maxSeatsPerUser) return { ok: false, rejection: { code: 'LIMIT_EXCEEDED', limit: maxSeatsPerUser, held } };
    if (!(await this.layouts.of(scheduleId))) return { ok: false, rejection: { code: 'NO_BEST_SEATS', best } };
    return undefined;
  }

  /** Out of range is decided in memory, before any lock or transaction (as the actor engine does). */
  protected async refuseOutOfRange({ scheduleId, seatNos }: NamedSeatsHold): Promise<HoldResult | undefined> {
    if (seatNos.length === 0) throw new RangeError('a hold needs at least one seat');
    const outOfRange = seatsOutOfRange(seatNos, await this.seatCounts.of(scheduleId));
    return outOfRange.length > 0 ? { ok: false, rejection: { code: 'SEAT_OUT_OF_RANGE', seatNos: outOfRange } } : undefined;
  }
}
