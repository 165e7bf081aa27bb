/** Reads a Kafka topic from its beginning, for tests that check what the relay delivered. */
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Consumer } from 'kafkajs';

export interface ReadRecord {
  partition: number;
  offset: number;
  key: string;
  headers: Record<string, string>;
  value: Record<string, unknown>;
  /** When this reader received it (ms since epoch). */
  receivedAt: number;
}

export interface TopicReader {
  readonly records: readonly ReadRecord[];
  /** Resolves once `done(records)` holds. */
  waitFor(done: (records: readonly ReadRecord[]) => boolean, timeoutMs?: number): Promise<readonly ReadRecord[]>;
  close(): Promise<void>;
}

export async function readTopic(brokers: string, topic: string): Promise<TopicReader> {
  const kafka = new Kafka({ clientId: 'ovation-test-reader', brokers: [brokers], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 3 }], waitForLeaders: true }).finally(() => admin.disconnect());
  const consumer: Consumer = kafka.consumer({ groupId: `test-${randomUUID()}`, maxWaitTimeInMs: 50 });
  const records: ReadRecord[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(message.headers ?? {})) headers[name] = String(value);
      records.push({
        partition,
        offset: Number(message.offset),
        key: message.key?.toString() ?? '',
        headers,
        value: JSON.parse(message.value?.toString() ?? 'null') as Record<string, unknown>,
        receivedAt: Date.now(),
      });
    },
  });
  return {
    records,
    async waitFor(done, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (!done(records)) {
        if (Date.now() > deadline) throw new Error(`topic ${topic}: condition not met after ${timeoutMs} ms (${records.length} records read)`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return records;
    },
    close: () => consumer.disconnect(),
  };
}
