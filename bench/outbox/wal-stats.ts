/**
 * PostgreSQL's WAL counters (pg_stat_wal, cluster-wide: other databases' writes are in them too,
 * so read them as an upper bound): records, full-page images, bytes, and how often WAL was
 * written and fsynced. The relay's cost to the payment path is mostly here: its claim locks rows
 * (a WAL record each), its mark-published UPDATE rewrites every row (not HOT: the partial index
 * outbox_unpublished depends on published_at), and each batch commits (one more flush).
 */
import type { Client } from 'pg';

export interface WalStats {
  records: number;
  fullPageImages: number;
  bytes: number;
  writes: number;
  syncs: number;
}

export async function walStats(client: Client): Promise<WalStats> {
  const { rows } = await client.query<Record<string, string>>('SELECT wal_records, wal_fpi, wal_bytes, wal_write, wal_sync FROM pg_stat_wal');
  const row = rows[0] ?? {};
  return {
    records: Number(row['wal_records'] ?? 0),
    fullPageImages: Number(row['wal_fpi'] ?? 0),
    bytes: Number(row['wal_bytes'] ?? 0),
    writes: Number(row['wal_write'] ?? 0),
    syncs: Number(row['wal_sync'] ?? 0),
  };
}

/** Per payment over a window: WAL records, full-page images, bytes, writes and fsyncs. */
export function walPer(before: WalStats, after: WalStats, payments: number): WalStats {
  const per = (a: number, b: number) => Math.round(((b - a) / Math.max(1, payments)) * 100) / 100;
  return {
    records: per(before.records, after.records),
    fullPageImages: per(before.fullPageImages, after.fullPageImages),
    bytes: Math.round((after.bytes - before.bytes) / Math.max(1, payments)),
    writes: per(before.writes, after.writes),
    syncs: per(before.syncs, after.syncs),
  };
}
