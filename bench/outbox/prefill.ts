/**
 * N unpublished outbox rows shaped like the ones a payment writes (recordPayment): the
 * ReservationConfirmed payload of confirmationRecord, key = scheduleId (spread over `schedules`
 * ids), headers {event-id, type}. Inserted in chunks through unnest(), outside the timed part.
 */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { confirmationRecord } from '../../src/persistence/outbox-store';

const CHUNK = 5_000;

export async function prefillOutbox(pool: Pool, rows: number, schedules: number, topic: string): Promise<void> {
  const scheduleIds = Array.from({ length: schedules }, () => randomUUID());
  for (let start = 0; start < rows; start += CHUNK) {
    const eventIds: string[] = [];
    const keys: string[] = [];
    const headers: string[] = [];
    const payloads: string[] = [];
    for (let i = start; i < Math.min(rows, start + CHUNK); i++) {
      const scheduleId = scheduleIds[i % schedules]!;
      const record = confirmationRecord({
        reservationId: randomUUID(),
        paymentId: randomUUID(),
        userId: randomUUID(),
        scheduleId,
        seatNos: [1 + Math.floor(i / schedules) * 2, 2 + Math.floor(i / schedules) * 2],
        amount: 198_000,
        confirmedAt: new Date(),
      });
      eventIds.push(record.eventId);
      keys.push(scheduleId);
      headers.push(JSON.stringify({ 'event-id': record.eventId, type: record.type }));
      payloads.push(JSON.stringify(record));
    }
    await pool.query(
      `INSERT INTO outbox (event_id, topic, message_key, headers, payload)
       SELECT e, $1, k, h::jsonb, p::jsonb FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[]) AS t(e, k, h, p)`,
      [topic, eventIds, keys, headers, payloads],
    );
  }
}
