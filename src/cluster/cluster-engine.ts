/**
 * The actor engine of a cluster member: a call for a schedule this instance serves goes to its
 * own actors; one for a schedule another instance owns is forwarded to that owner (one hop); one
 * for a schedule nobody serves right now (a rebalance, a crashed owner before the group noticed)
 * is answered 503 with Retry-After — nothing applied. Seat maps are forwarded too: they come from
 * the owner's memory, never from a stale copy here. Counts and seat history read PostgreSQL.
 */
import type { Pool } from 'pg';
import type { ActorEngine } from '../actors/actor-engine';
import { availableSeatsFromReservations } from '../persistence/seat-availability';
import type {
  ActorInfo,
  ExtendRequest,
  ExtendResult,
  HoldRequest,
  HoldResult,
  PayRequest,
  PayResult,
  ReleaseRequest,
  ReleaseResult,
  ReservationEngine,
  SeatHistory,
} from '../engine/reservation-engine';
import type { ClusterNode } from './cluster-node';
import type { EngineForwarder } from './engine-forwarder';
import { NotOwnerError, type ForwardedOp } from './engine-wire';

export class ClusterEngine implements ReservationEngine {
  readonly name = 'actor' as const;

  constructor(
    private readonly local: ActorEngine,
    readonly node: ClusterNode,
    private readonly forwarder: EngineForwarder,
    private readonly db: Pool,
  ) {}

  async start(): Promise<void> {
    await this.local.start();
    await this.node.start();
  }

  /** Drains its own actors first (every accepted command committed), then leaves the group. */
  async stop(): Promise<void> {
    await this.local.stop();
    await this.node.stop();
    await this.forwarder.close();
  }

  isReady(): boolean {
    return this.local.isReady() && this.node.ready;
  }

  hold(request: HoldRequest): Promise<HoldResult> {
    return this.route(request.scheduleId, 'hold', request, () => this.local.hold(request));
  }

  release(request: ReleaseRequest): Promise<ReleaseResult> {
    return this.route(request.reservation.scheduleId, 'release', request, () => this.local.release(request));
  }

  extend(request: ExtendRequest): Promise<ExtendResult> {
    return this.route(request.reservation.scheduleId, 'extend', request, () => this.local.extend(request));
  }

  pay(request: PayRequest): Promise<PayResult> {
    return this.route(request.reservation.scheduleId, 'pay', request, () => this.local.pay(request));
  }

  async seatMapJson(scheduleId: string): Promise<string> {
    if (this.node.serves(scheduleId)) return this.local.seatMapJson(scheduleId);
    return this.forward(scheduleId, 'seatMap', { scheduleId });
  }

  /** The owner's memory when it is this instance; otherwise what is committed (listings never hop). */
  async availableSeats(scheduleId: string): Promise<number> {
    if (this.node.serves(scheduleId)) return this.local.availableSeats(scheduleId);
    return availableSeatsFromReservations(this.db, scheduleId);
  }

  seatHistory(scheduleId: string, seatNo: number): Promise<SeatHistory> {
    return this.local.seatHistory(scheduleId, seatNo);
  }

  actors(): ActorInfo[] {
    return this.local.actors();
  }

  /**
   * A call forwarded here by another member: served only if this instance serves the schedule
   * now — never forwarded again (the map may be changing; the caller's client retries on 503).
   * Returns the answer's body: `{ "result": … }`, or the seat map's JSON itself.
   */
  async serveForwarded(op: ForwardedOp, argument: ForwardedArgument): Promise<string> {
    const scheduleId = scheduleOf(op, argument);
    if (!this.node.serves(scheduleId)) {
      throw new NotOwnerError(`schedule ${scheduleId} (partition ${this.node.partitionOf(scheduleId)}) is not served here now`);
    }
    switch (op) {
      case 'seatMap':
        return this.local.seatMapJson(scheduleId);
      case 'hold':
        return JSON.stringify({ result: await this.local.hold(argument as HoldRequest) });
      case 'release':
        return JSON.stringify({ result: await this.local.release(argument as ReleaseRequest) });
      case 'extend':
        return JSON.stringify({ result: await this.local.extend(argument as ExtendRequest) });
      case 'pay':
        return JSON.stringify({ result: await this.local.pay(argument as PayRequest) });
    }
  }

  private async route<T>(scheduleId: string, op: ForwardedOp, argument: unknown, here: () => Promise<T>): Promise<T> {
    if (this.node.serves(scheduleId)) return here();
    const body = await this.forward(scheduleId, op, argument);
    return (JSON.parse(body) as { result: T }).result;
  }

  private async forward(scheduleId: string, op: ForwardedOp, argument: unknown): Promise<string> {
    const owner = this.node.ownerUrlOf(scheduleId);
    if (!owner) {
      throw new NotOwnerError(`schedule ${scheduleId} (partition ${this.node.partitionOf(scheduleId)}) has no owner right now (rebalancing)`);
    }
    try {
      return await this.forwarder.call(owner, op, argument);
    } catch (error) {
      // The map was wrong (the owner is gone or lost the partition): read it again for the retry.
      if (error instanceof NotOwnerError) void this.node.directory.refresh();
      throw error;
    }
  }
}

export type ForwardedArgument = HoldRequest | ReleaseRequest | ExtendRequest | PayRequest | { scheduleId: string };

/** The schedule a forwarded call is about (the internal route validated the argument's shape). */
export function scheduleOf(op: ForwardedOp, argument: ForwardedArgument): string {
  if (op === 'hold' || op === 'seatMap') return (argument as { scheduleId: string }).scheduleId;
  return (argument as ReleaseRequest).reservation.scheduleId;
}
