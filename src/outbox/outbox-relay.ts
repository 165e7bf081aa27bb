/**
 * Relays outbox rows to the publisher (Kafka), at least once, in commit order per key.
 *
 * - One relay publishes at a time: the leader holds a session advisory lock on its own
 *   connection; other instances stand by and take over when that connection dies. Rows are still
 *   claimed FOR UPDATE SKIP LOCKED, so even a relay that lost the lock mid-batch cannot publish
 *   the same claimed rows concurrently with the new leader.
 * - A batch: in one transaction, claim the oldest unpublished rows and mark them published (one
 *   statement), publish them and wait for the broker's acks, commit. A crash or a failed publish
 *   before the commit leaves them unpublished, so they go out again (duplicates carry the same
 *   event-id header; consumers dedupe).
 *   Batches follow each other, so a row committed later is published later; within a batch the
 *   id order is the order the engine decided them.
 * - Wake-up: after a batch with rows, at once; when idle, every `idlePollMs`, or sooner when this
 *   process commits a payment (`nudge`). No LISTEN/NOTIFY: a NOTIFY in the payment transaction
 *   serialises every commit on PostgreSQL's notification queue.
 * - While the publisher fails (Kafka down), the batch is rolled back and retried with exponential
 *   backoff; rows wait in the table (ovation_outbox_pending grows) and go out in order afterwards.
 */
import type { Pool, PoolClient } from 'pg';
import { OUTBOX_SQL } from '../persistence/outbox-store';
import type { OutboxPublisher, OutboxRecord } from './outbox-publisher';

/** Arbitrary constant: the advisory lock whose holder is the one publishing relay. */
const RELAY_LOCK_KEY = 7_240_312;
const PRUNE_EVERY_MS = 60_000;
const PRUNE_CHUNK = 10_000;
const PRUNE_BUDGET_MS = 2_000;
const MAX_BACKOFF_MS = 5_000;
const STANDBY_RETRY_MS = 1_000;

export interface OutboxRelayOptions {
  db: Pool;
  publisher: OutboxPublisher;
  batchSize: number;
  idlePollMs: number;
  retentionHours: number;
  log: (level: 'info' | 'warn' | 'error', message: string, error?: unknown) => void;
  observer?: RelayObserver;
  /** Fault injection for tests: runs after the broker acknowledged a batch, before it is marked. */
  afterPublish?: (records: readonly OutboxRecord[]) => Promise<void>;
}

export interface RelayObserver {
  published(records: number, seconds: number): void;
  failed(): void;
}

export interface OutboxRelay {
  start(): void;
  /** Something was committed to the outbox: look now instead of at the next poll. */
  nudge(): void;
  /** Finishes the batch in flight, then stops. */
  stop(): Promise<void>;
  readonly leader: boolean;
}

interface Row {
  id: number;
  topic: string;
  key: string;
  headers: Record<string, string>;
  value: string;
}

export function createOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  const { db, publisher, batchSize, idlePollMs } = options;
  let stopping = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let nudged = false;
  let leaderClient: PoolClient | undefined;
  let lastPrune = 0;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (nudged || stopping) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  /** Becomes the leader if nobody is; false while another instance is. */
  const lead = async (): Promise<boolean> => {
    if (leaderClient) return true;
    const client = await db.connect();
    try {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [RELAY_LOCK_KEY]);
      if (!rows[0]?.locked) {
        client.release();
        return false;
      }
    } catch (error) {
      client.release(true);
      throw error;
    }
    client.on('error', () => undefined); // a dead connection shows up as a failed query below
    leaderClient = client;
    options.log('info', 'outbox relay is the leader: publishing');
    return true;
  };

  const resign = () => {
    leaderClient?.release(true); // destroying the connection releases the advisory lock
    leaderClient = undefined;
  };

  /** One batch; returns how many rows were published. */
  const relayBatch = async (client: PoolClient): Promise<number> => {
    await client.query('BEGIN');
    try {
      const { rows } = await client.query<Row>(OUTBOX_SQL.claimAndMark, [batchSize]);
      if (rows.length === 0) {
        await client.query('COMMIT');
        return 0;
      }
      const records: OutboxRecord[] = rows.sort((a, b) => a.id - b.id).map((row) => ({ ...row, headers: withType(row) }));
      const started = performance.now();
      await publisher.publish(records);
      await options.afterPublish?.(records);
      await client.query('COMMIT');
      options.observer?.published(records.length, (performance.now() - started) / 1000);
      return records.length;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  };

  /** Once a minute, whatever the traffic: chunks until the expired rows are gone or the budget is spent. */
  const pruneIfDue = async (client: PoolClient) => {
    if (Date.now() - lastPrune < PRUNE_EVERY_MS) return;
    lastPrune = Date.now();
    const budgetEnds = Date.now() + PRUNE_BUDGET_MS;
    while (Date.now() < budgetEnds) {
      const { rowCount } = await client.query(OUTBOX_SQL.prune, [options.retentionHours, PRUNE_CHUNK]);
      if ((rowCount ?? 0) < PRUNE_CHUNK) return;
    }
  };

  const run = async () => {
    let failures = 0;
    while (!stopping) {
      try {
        if (!(await lead())) {
          await sleep(STANDBY_RETRY_MS);
          continue;
        }
        nudged = false;
        const published = await relayBatch(leaderClient!);
        failures = 0;
        await pruneIfDue(leaderClient!);
        if (published > 0) continue;
        await sleep(idlePollMs);
      } catch (error) {
        failures += 1;
        options.observer?.failed();
        if (failures === 1 || failures % 20 === 0) options.log('warn', `outbox relay: batch failed (${failures} in a row); backing off`, error);
        resign(); // a fresh connection (and a fresh leader election) for the next try
        nudged = false;
        await sleep(Math.min(100 * 2 ** Math.min(failures - 1, 10), MAX_BACKOFF_MS));
      }
    }
  };

  return {
    start() {
      loop ??= run();
    },
    nudge() {
      nudged = true;
      wake?.();
    },
    async stop() {
      stopping = true;
      wake?.();
      await loop;
      resign();
      await publisher.close();
    },
    get leader() {
      return leaderClient !== undefined;
    },
  };
}

/** Rows written before the `type` header existed get it from the payload. */
function withType(row: Row): Record<string, string> {
  if (row.headers.type !== undefined) return row.headers;
  const type = (JSON.parse(row.value) as { type?: unknown }).type;
  return typeof type === 'string' ? { ...row.headers, type } : row.headers;
}
