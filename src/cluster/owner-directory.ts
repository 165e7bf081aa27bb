/**
 * Every instance's view of the partition → owner map, read from partition_owners (where each
 * owner publishes its URL when it claims a partition). Refreshed every `refreshMs` and at once
 * when a forward finds the map wrong; a read that fails keeps the last map (forwards to a gone
 * owner fail fast with "connection refused" and are answered 503).
 */
import type { Pool } from 'pg';
import { readPartitionOwners, type PartitionOwner } from '../persistence/partition-owners-store';

export class OwnerDirectory {
  private owners = new Map<number, PartitionOwner>();
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> | undefined;
  readAt: Date | undefined;

  constructor(
    private readonly db: Pool,
    private readonly refreshMs: number,
    private readonly onReadError: (error: unknown) => void,
  ) {}

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  ownerOf(partition: number): PartitionOwner | undefined {
    return this.owners.get(partition);
  }

  all(): PartitionOwner[] {
    return [...this.owners.values()];
  }

  /** One read at a time: concurrent callers share it. */
  refresh(): Promise<void> {
    this.reading ??= readPartitionOwners(this.db)
      .then((owners) => {
        this.owners = new Map(owners.map((owner) => [owner.partition, owner]));
        this.readAt = new Date();
      }, this.onReadError)
      .finally(() => (this.reading = undefined));
    return this.reading;
  }
}
