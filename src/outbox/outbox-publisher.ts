/** Where outbox records go: a port, so the relay does not know Kafka (kafka-publisher.ts does). */
export interface OutboxRecord {
  /** The outbox row id: commit order of the business transactions that wrote them. */
  id: number;
  topic: string;
  key: string;
  headers: Record<string, string>;
  /** The record value, JSON text as stored. */
  value: string;
}

export interface OutboxPublisher {
  /** Resolves once every record is acknowledged by the broker (acks=all); throws otherwise. */
  publish(records: readonly OutboxRecord[]): Promise<void>;
  close(): Promise<void>;
}
