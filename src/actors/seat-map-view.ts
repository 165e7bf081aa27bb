/**
 * The committed seat map of one schedule, served to readers without a database query and
 * without a trip through the mailbox. It moves only when a commit succeeds, so a reader never
 * sees a seat that a failed commit would have held. The JSON is built once per version, and
 * only the chunks of seats a commit changed are serialized again: a hold on a 100,000-seat schedule
 * re-serializes 1,024 seats, not 100,000 (bench/seat-map/seat-map-bench.ts).
 */
import { seatStatus, type ScheduleState, type SeatCatalogue } from '../domain/schedule-state';
import type { ScheduleEvent } from '../domain/schedule-events';

const AVAILABLE = 0;
const HELD = 1;
const SOLD = 2;
const STATUS_NAMES = ['AVAILABLE', 'HELD', 'SOLD'] as const;
/** Seats per cached JSON chunk: small enough to rebuild in well under a millisecond. */
const CHUNK_SEATS = 1_024;

export class SeatMapView {
  private readonly status: Uint8Array;
  private readonly seatsOf = new Map<string, number[]>();
  private held = 0;
  private sold = 0;
  private version = 0;
  private cached: { version: number; json: string } | undefined;
  /** The JSON of each chunk's seats (without brackets); undefined when a seat in it changed. */
  private readonly chunks: (string | undefined)[];

  constructor(
    private readonly scheduleId: string,
    private readonly catalogue: SeatCatalogue,
    state: ScheduleState,
  ) {
    this.status = new Uint8Array(catalogue.seatCount);
    this.chunks = new Array<string | undefined>(Math.ceil(catalogue.seatCount / CHUNK_SEATS)).fill(undefined);
    for (let seatNo = 1; seatNo <= catalogue.seatCount; seatNo++) {
      const status = seatStatus(state, seatNo);
      this.status[seatNo - 1] = status === 'SOLD' ? SOLD : status === 'HELD' ? HELD : AVAILABLE;
    }
    for (const hold of state.holds.values()) this.seatsOf.set(hold.reservationId, hold.seatNos);
    this.held = state.heldCount;
    this.sold = state.soldCount;
  }

  get heldSeats(): number {
    return this.held;
  }

  get soldSeats(): number {
    return this.sold;
  }

  get availableSeats(): number {
    return this.catalogue.seatCount - this.held - this.sold;
  }

  applyCommitted(event: ScheduleEvent): void {
    // Neither moves a seat (an extension changes only when the hold ends).
    if (event.type === 'PaymentDeclined' || event.type === 'HoldExtended') return;
    if (event.type === 'SeatsHeld') {
      this.seatsOf.set(event.reservationId, event.seatNos);
      this.mark(event.seatNos, HELD);
      this.held += event.seatNos.length;
    } else {
      const seatNos = this.seatsOf.get(event.reservationId) ?? [];
      this.seatsOf.delete(event.reservationId);
      this.mark(seatNos, event.type === 'SeatsSold' ? SOLD : AVAILABLE);
      this.held -= seatNos.length;
      if (event.type === 'SeatsSold') this.sold += seatNos.length;
    }
    this.version++;
  }

  json(): string {
    if (this.cached?.version === this.version) return this.cached.json;
    for (let chunk = 0; chunk < this.chunks.length; chunk++) this.chunks[chunk] ??= this.chunkJson(chunk);
    const json = `{"scheduleId":${JSON.stringify(this.scheduleId)},"seats":[${this.chunks.join(',')}]}`;
    this.cached = { version: this.version, json };
    return json;
  }

  private chunkJson(chunk: number): string {
    const from = chunk * CHUNK_SEATS;
    const to = Math.min(from + CHUNK_SEATS, this.catalogue.seatCount);
    const seats = new Array<string>(to - from);
    for (let index = from; index < to; index++) {
      seats[index - from] = JSON.stringify({
        seatNo: index + 1,
        row: this.catalogue.rows[index],
        grade: this.catalogue.grades[index],
        price: this.catalogue.prices[index],
        status: STATUS_NAMES[this.status[index]!],
      });
    }
    return seats.join(',');
  }

  private mark(seatNos: number[], status: number): void {
    for (const seatNo of seatNos) {
      this.status[seatNo - 1] = status;
      this.chunks[Math.floor((seatNo - 1) / CHUNK_SEATS)] = undefined;
    }
  }
}
