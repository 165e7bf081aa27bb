/**
 * This instance as a member of the cluster: it joins the ownership group, claims in PostgreSQL
 * the partitions the group gives it (which fences their previous owner), hands over the actors
 * of the partitions it loses, and wakes the actors with live holds in the partitions it gains so
 * their holds expire on time. It is the engine's FenceSource, and answers "who owns this schedule".
 */
import type { Pool } from 'pg';
import { claimPartitions, type Fence, type PartitionOwner } from '../persistence/partition-owners-store';
import type { FenceSource } from '../actors/schedule-messages';
import { NotOwnerError } from './engine-wire';
import type { Membership, MembershipEvents } from './kafka-membership';
import { OwnerDirectory } from './owner-directory';
import { OwnershipState, type AssignmentChange, type NodeState } from './ownership-state';
import { partitionOf } from './partitioner';

export interface ClusterNodeOptions {
  db: Pool;
  selfUrl: string;
  /** This process's identity in partition_owners: a restart is another incarnation (new epochs). */
  incarnation: string;
  partitions: number;
  /** Session timeout and heartbeat interval of the group: the lease is derived from them. */
  session: { sessionTimeoutMs: number; heartbeatIntervalMs: number };
  /** Joins the ownership group (joinOwnershipGroup: Kafka) and reports its events. */
  join(events: MembershipEvents): Promise<Membership>;
  /** How often the partition → owner map is read again. */
  directoryRefreshMs: number;
  /** What the node needs from the engine. */
  actors: {
    releaseSchedules(matches: (scheduleId: string) => boolean): Promise<number>;
    wakeHolders(matches: (scheduleId: string) => boolean): Promise<number>;
  };
  log: (level: 'info' | 'warn' | 'error', message: string, extra?: object) => void;
  observer?: ClusterObserver;
}

export interface ClusterObserver {
  rebalanced?(): void;
  ownershipChanged?(gained: number, lost: number): void;
}

export interface ClusterStatus {
  self: {
    url: string;
    incarnation: string;
    state: NodeState;
    generation: number | null;
    leaseLive: boolean;
    ownedPartitions: number[];
    /** Why this member left the group for good, if it did (it is then not ready). */
    failure: string | null;
  };
  partitions: number;
  rebalances: number;
  /** The members as the partition map knows them (each with the partitions it claimed), this one included. */
  members: { url: string; partitions: number[] }[];
  owners: { partition: number; ownerUrl: string; epoch: number; generation: number | null; claimedAt: string }[];
  ownersReadAt: string | null;
}

export class ClusterNode implements FenceSource {
  readonly ownership: OwnershipState;
  readonly directory: OwnerDirectory;
  private membership: Membership | undefined;
  /** Assignments are handled one after the other, in the order they came. */
  private handling: Promise<void> = Promise.resolve();
  private joined = false;
  /** Set when the membership ended for good (a crash kafkajs does not restart). */
  private failure: string | undefined;

  constructor(private readonly options: ClusterNodeOptions) {
    const { sessionTimeoutMs, heartbeatIntervalMs } = options.session;
    this.ownership = new OwnershipState(sessionTimeoutMs - heartbeatIntervalMs);
    this.directory = new OwnerDirectory(options.db, options.directoryRefreshMs, (error) =>
      options.log('warn', 'cluster: reading partition owners failed; keeping the last map', { err: error }),
    );
  }

  async start(): Promise<void> {
    await this.directory.start();
    this.membership = await this.options.join({
      rebalancing: () => this.ownership.rebalancing(),
      failed: (reason) => {
        // Serving nothing already (rebalancing); not ready either, so the load balancer stops
        // sending here and a supervisor restarts the process. A restart is a new incarnation.
        this.failure = reason;
        this.options.log('error', 'cluster: left the ownership group for good; this instance is not ready until it is restarted', { reason });
      },
      heartbeat: (sentAt, generation) => this.ownership.heartbeat(sentAt, generation),
      assigned: (partitions, sentAt) => {
        const change = this.ownership.assigned(partitions, sentAt);
        this.options.observer?.rebalanced?.();
        this.handling = this.handling.then(() => this.takeOver(change));
      },
    });
  }

  /** Ready once it took part in one assignment (it may own nothing: it still forwards). */
  get ready(): boolean {
    return this.joined && this.failure === undefined && this.ownership.state !== 'stopped';
  }

  /** Resolves when every assignment received so far has been handled (claimed, or given up). */
  settled(): Promise<void> {
    return this.handling;
  }

  async stop(): Promise<void> {
    this.ownership.stop();
    this.directory.stop();
    await this.membership?.stop().catch((error: unknown) => this.options.log('warn', 'cluster: leaving the group failed', { err: error }));
    await this.handling;
  }

  partitionOf(scheduleId: string): number {
    return partitionOf(scheduleId, this.options.partitions);
  }

  serves(scheduleId: string): boolean {
    return this.ownership.serves(this.partitionOf(scheduleId), Date.now());
  }

  /** The owner to forward to; undefined while nobody else is known to own it (rebalancing, or the map says us). */
  ownerUrlOf(scheduleId: string): string | undefined {
    const owner = this.directory.ownerOf(this.partitionOf(scheduleId));
    return owner && owner.ownerUrl !== this.options.selfUrl ? owner.ownerUrl : undefined;
  }

  acquire(scheduleId: string): Fence {
    const partition = this.partitionOf(scheduleId);
    const fence = this.ownership.fence(partition, Date.now());
    if (!fence) throw new NotOwnerError(`this instance does not serve partition ${partition} (schedule ${scheduleId}) now`);
    return fence;
  }

  holds(fence: Fence): boolean {
    return this.ownership.holds(fence);
  }

  status(): ClusterStatus {
    const { ownership, directory } = this;
    return {
      self: {
        url: this.options.selfUrl,
        incarnation: this.options.incarnation,
        state: ownership.state,
        generation: ownership.generation,
        leaseLive: ownership.leaseLive(Date.now()),
        ownedPartitions: ownership.ownedPartitions(),
        failure: this.failure ?? null,
      },
      partitions: this.options.partitions,
      rebalances: ownership.rebalances,
      members: membersOf(this.options.selfUrl, directory.all()),
      owners: directory.all().map((owner) => ({
        partition: owner.partition,
        ownerUrl: owner.ownerUrl,
        epoch: owner.epoch,
        generation: owner.generation,
        claimedAt: owner.claimedAt.toISOString(),
      })),
      ownersReadAt: directory.readAt?.toISOString() ?? null,
    };
  }

  /**
   * Revoked partitions' actors finish their work and stop; then the new assignment is claimed
   * (retried while PostgreSQL does not answer: until then nothing is served, 503); partitions
   * whose epoch changed start afresh, and their schedules with live holds are woken.
   */
  private async takeOver(change: AssignmentChange): Promise<void> {
    const { log, actors } = this.options;
    try {
      if (change.revoked.length > 0) {
        const revoked = new Set(change.revoked);
        const stopped = await actors.releaseSchedules((id) => revoked.has(this.partitionOf(id)));
        log('info', 'cluster: handed partitions over', { partitions: change.revoked, actors: stopped });
      }
      const epochs = await this.claim(change);
      if (!epochs) return;
      // A kept partition someone else claimed meanwhile: its actors' state is stale, drop it first.
      const stale = new Set([...epochs].filter(([p, epoch]) => (this.ownership.epochOf(p) ?? epoch) !== epoch).map(([p]) => p));
      if (stale.size > 0) await actors.releaseSchedules((id) => stale.has(this.partitionOf(id)));
      const changed = this.ownership.claimed(change.round, epochs);
      if (changed === false) return;
      this.joined = true;
      this.options.observer?.ownershipChanged?.(changed.length, change.revoked.length);
      void this.directory.refresh();
      if (changed.length === 0) return;
      const fresh = new Set(changed);
      const woken = await actors.wakeHolders((id) => fresh.has(this.partitionOf(id)));
      log('info', 'cluster: serving partitions', { partitions: change.assigned, fresh: changed, woken });
    } catch (error) {
      log('error', 'cluster: taking over the assignment failed; waiting for the next one', { err: error });
    }
  }

  private async claim(change: AssignmentChange): Promise<Map<number, number> | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await claimPartitions(this.options.db, change.assigned, {
          url: this.options.selfUrl,
          incarnation: this.options.incarnation,
          generation: this.ownership.generation,
        });
      } catch (error) {
        this.options.log('warn', 'cluster: claiming partitions failed; retrying', { err: error, attempt });
        await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 200 * attempt)));
        // Stopped, or a newer assignment is queued behind this one: it claims instead.
        if (!this.ownership.isCurrent(change.round)) return undefined;
      }
    }
  }
}

/** Members by URL with the partitions the map gives them; this member is listed even when it owns none. */
function membersOf(selfUrl: string, owners: PartitionOwner[]): { url: string; partitions: number[] }[] {
  const byUrl = new Map<string, number[]>([[selfUrl, []]]);
  for (const owner of owners) {
    const partitions = byUrl.get(owner.ownerUrl) ?? [];
    partitions.push(owner.partition);
    byUrl.set(owner.ownerUrl, partitions);
  }
  return [...byUrl].map(([url, partitions]) => ({ url, partitions: partitions.sort((a, b) => a - b) })).sort((a, b) => a.url.localeCompare(b.url));
}
