/**
 * The partition → owner table of a cluster (migration 007): claims by the instance the Kafka
 * group assigned a partition to, and the map every instance reads to forward requests.
 */
import type { Pool } from 'pg';
import { DatabaseError } from 'pg';

/** What a commit carries to prove it comes from the partition's current owner. */
export interface Fence {
  partition: number;
  epoch: number;
}

export interface PartitionOwner {
  partition: number;
  epoch: number;
  ownerUrl: string;
  incarnation: string;
  generation: number | null;
  claimedAt: Date;
}

/** SQLSTATE raised by ovation_assert_fences: a newer owner took the partition. */
export const FENCED_SQLSTATE = 'OVF01';

export function isFencedError(error: unknown): boolean {
  return error instanceof DatabaseError && error.code === FENCED_SQLSTATE;
}

/**
 * A partition this incarnation already holds keeps its epoch (its live actors stay valid); any
 * other owner's partition gets epoch + 1, which fences whoever had it. It runs holding the
 * partitions' fence locks exclusively (see migration 007), so it waits for the commits that
 * passed their check, and none of them lands after the claim.
 */
const CLAIM = `
INSERT INTO partition_owners AS po (partition, epoch, owner_url, incarnation, generation, claimed_at)
SELECT p, 1, $2, $3, $4, now() FROM unnest($1::int[]) AS p
ON CONFLICT (partition) DO UPDATE SET
  epoch = CASE WHEN po.incarnation = excluded.incarnation AND po.owner_url = excluded.owner_url THEN po.epoch ELSE po.epoch + 1 END,
  claimed_at = CASE WHEN po.incarnation = excluded.incarnation AND po.owner_url = excluded.owner_url THEN po.claimed_at ELSE now() END,
  owner_url = excluded.owner_url, incarnation = excluded.incarnation, generation = excluded.generation
RETURNING partition, epoch`;

export async function claimPartitions(
  db: Pool,
  partitions: number[],
  self: { url: string; incarnation: string; generation: number | null },
): Promise<Map<number, number>> {
  if (partitions.length === 0) return new Map();
  const sorted = [...partitions].sort((a, b) => a - b); // one lock order: two claimers never deadlock
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(79, p) FROM unnest($1::int[]) AS p ORDER BY p', [sorted]);
    const { rows } = await client.query<{ partition: number; epoch: string }>(CLAIM, [sorted, self.url, self.incarnation, self.generation]);
    await client.query('COMMIT');
    client.release();
    return new Map(rows.map((row) => [row.partition, Number(row.epoch)]));
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release(true);
    throw error;
  }
}

export async function readPartitionOwners(db: Pool): Promise<PartitionOwner[]> {
  const { rows } = await db.query<{
    partition: number;
    epoch: string;
    owner_url: string;
    incarnation: string;
    generation: number | null;
    claimed_at: Date;
  }>('SELECT partition, epoch, owner_url, incarnation, generation, claimed_at FROM partition_owners ORDER BY partition');
  return rows.map((row) => ({
    partition: row.partition,
    epoch: Number(row.epoch),
    ownerUrl: row.owner_url,
    incarnation: row.incarnation,
    generation: row.generation,
    claimedAt: row.claimed_at,
  }));
}

/** The fence check as SQL text for a simple-protocol query (integers only, so inlining is safe). */
export function fenceCheckSql(fence: Fence): string {
  if (!Number.isSafeInteger(fence.partition) || !Number.isSafeInteger(fence.epoch)) throw new Error('a fence is two integers');
  return `SELECT ovation_assert_fences(ARRAY[${fence.partition}]::int[], ARRAY[${fence.epoch}]::bigint[])`;
}

/** Schedules with a live hold: a new owner brings their actors up at once so the holds expire on time. */
export async function schedulesWithLiveHolds(db: Pool): Promise<string[]> {
  const { rows } = await db.query<{ schedule_id: string }>("SELECT DISTINCT schedule_id FROM reservations WHERE status = 'HELD'");
  return rows.map((row) => row.schedule_id);
}
