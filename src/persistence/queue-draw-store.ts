/** The pre-queue draws (migration 006): one row per concert, the first one written wins. */
import type { Pool } from 'pg';
import type { QueueDraw, QueueDrawStore } from '../queue/queue-draws';

const COLUMNS = `concert_id AS "concertId", on_sale_at AS "onSaleAt", drawn_at AS "drawnAt", seed, arrivals AS count`;

interface DrawRow {
  concertId: string;
  onSaleAt: Date;
  drawnAt: Date;
  seed: string;
  count: number;
}

export function createQueueDrawStore(db: Pool): QueueDrawStore {
  const find = async (concertId: string): Promise<QueueDraw | undefined> => {
    const { rows } = await db.query<DrawRow>(`SELECT ${COLUMNS} FROM queue_draws WHERE concert_id = $1`, [concertId]);
    return rows[0] ? toDraw(rows[0]) : undefined;
  };
  return {
    async claim({ concertId, onSaleAt, seed, count }) {
      const { rows } = await db.query<DrawRow>(
        `INSERT INTO queue_draws (concert_id, on_sale_at, seed, arrivals) VALUES ($1, $2, $3, $4)
         ON CONFLICT (concert_id) DO NOTHING RETURNING ${COLUMNS}`,
        [concertId, new Date(onSaleAt), seed, count],
      );
      if (rows[0]) return toDraw(rows[0]);
      // Another instance (or an earlier life of this one) drew first. A new statement, so a new
      // snapshot: it sees the row whose commit the conflict waited for.
      const standing = await find(concertId);
      if (!standing) throw new Error(`queue draw of ${concertId}: the conflicting row is gone`);
      return standing;
    },
    find,
  };
}

function toDraw(row: DrawRow): QueueDraw {
  return { concertId: row.concertId, onSaleAt: row.onSaleAt.getTime(), drawnAt: row.drawnAt.getTime(), seed: row.seed, count: row.count };
}
