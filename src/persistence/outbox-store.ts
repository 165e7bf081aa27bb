/** Writes confirmations to the transactional outbox (api.md, "Kafka"). */
import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';

export interface ReservationConfirmed {
  eventId: string;
  type: 'ReservationConfirmed';
  reservationId: string;
  paymentId: string;
  userId: string;
  scheduleId: string;
  seatNos: number[];
  amount: number;
  confirmedAt: string;
}

export async function enqueueConfirmation(
  tx: PoolClient,
  topic: string,
  confirmation: Omit<ReservationConfirmed, 'eventId' | 'type'>,
): Promise<ReservationConfirmed> {
  const record: ReservationConfirmed = { eventId: randomUUID(), type: 'ReservationConfirmed', ...confirmation };
  await tx.query(
    `INSERT INTO outbox (event_id, topic, message_key, headers, payload) VALUES ($1, $2, $3, $4, $5)`,
    [record.eventId, topic, record.scheduleId, JSON.stringify({ 'event-id': record.eventId }), JSON.stringify(record)],
  );
  // Wakes the relay at once instead of at its next poll (delivered on commit only).
  await tx.query(`SELECT pg_notify('outbox', '')`);
  return record;
}
