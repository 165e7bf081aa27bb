/**
 * What one instance believes it owns, and whether it may act on that belief now. Pure: the Kafka
 * membership and the database claims feed it events; the engine asks it before every decision.
 *
 * Serving needs three things: the group gave us the partition, we claimed it in PostgreSQL
 * (which gave us its epoch), and our lease is live. The lease runs from when the last successful
 * heartbeat was *sent*, for the session timeout less one heartbeat interval: the coordinator
 * cannot give the partition to anyone before that (it waits a whole session timeout after the
 * last heartbeat it received). A process paused past its session (SIGSTOP, a long GC, a frozen
 * VM) therefore stops serving by itself the moment it resumes, before it hears anything — and
 * whatever it still tries to commit is refused by the epoch check in the database.
 */
import type { Fence } from '../persistence/partition-owners-store';

export type NodeState = 'joining' | 'rebalancing' | 'serving' | 'stopped';

export interface AssignmentChange {
  /** Partitions we had and lost: their actors must drain and stop. */
  revoked: number[];
  /** Partitions we are given now (kept ones included): to claim. */
  assigned: number[];
  /** Identifies this assignment: a claim that finishes after a newer one started is ignored. */
  round: number;
}

export class OwnershipState {
  private current: NodeState = 'joining';
  /** partition → epoch, for the partitions claimed in the current round. */
  private readonly owned = new Map<number, number>();
  private leaseUntil = 0;
  private round = 0;
  generation: number | null = null;
  rebalances = 0;

  constructor(private readonly leaseMs: number) {}

  get state(): NodeState {
    return this.current;
  }

  /** Whether `round` is still the latest assignment (a claim for an older one is pointless). */
  isCurrent(round: number): boolean {
    return round === this.round && this.current !== 'stopped';
  }

  /** The group is rebalancing: nothing is served until the next assignment is claimed. */
  rebalancing(): void {
    if (this.current === 'stopped') return;
    this.current = 'rebalancing';
    this.round++;
  }

  /** A heartbeat sent at `sentAt` succeeded: we were a member then, with this generation. */
  heartbeat(sentAt: number, generation: number | null): void {
    this.leaseUntil = Math.max(this.leaseUntil, sentAt + this.leaseMs);
    if (generation !== null) this.generation = generation;
  }

  /** The group gave us `partitions` (joined at `sentAt`, the time its SyncGroup was sent). */
  assigned(partitions: number[], sentAt: number): AssignmentChange {
    this.rebalancing();
    this.rebalances++;
    this.leaseUntil = Math.max(this.leaseUntil, sentAt + this.leaseMs);
    const kept = new Set(partitions);
    const revoked = [...this.owned.keys()].filter((partition) => !kept.has(partition));
    for (const partition of revoked) this.owned.delete(partition);
    return { revoked, assigned: [...partitions].sort((a, b) => a - b), round: this.round };
  }

  /**
   * The database gave us these epochs for the round's partitions. Returns the partitions whose
   * epoch changed (new to us, or taken by someone else meanwhile): their actors start afresh.
   * False when a newer round started meanwhile (the claim is stale; the next one decides).
   */
  claimed(round: number, epochs: Map<number, number>): number[] | false {
    if (round !== this.round || this.current === 'stopped') return false;
    const changed: number[] = [];
    for (const [partition, epoch] of epochs) {
      if (this.owned.get(partition) !== epoch) changed.push(partition);
    }
    this.owned.clear();
    for (const [partition, epoch] of epochs) this.owned.set(partition, epoch);
    this.current = 'serving';
    return changed;
  }

  stop(): void {
    this.current = 'stopped';
    this.owned.clear();
    this.round++;
  }

  leaseLive(now: number): boolean {
    return now < this.leaseUntil;
  }

  serves(partition: number, now: number): boolean {
    return this.current === 'serving' && this.owned.has(partition) && this.leaseLive(now);
  }

  fence(partition: number, now: number): Fence | undefined {
    const epoch = this.owned.get(partition);
    return epoch !== undefined && this.serves(partition, now) ? { partition, epoch } : undefined;
  }

  /** Whether state recovered under `fence` is still ours (the partition kept its epoch). */
  holds(fence: Fence): boolean {
    return this.owned.get(fence.partition) === fence.epoch;
  }

  ownedPartitions(): number[] {
    return [...this.owned.keys()].sort((a, b) => a - b);
  }

  epochOf(partition: number): number | undefined {
    return this.owned.get(partition);
  }
}
