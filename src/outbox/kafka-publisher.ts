/**
 * The outbox publisher on Kafka (kafkajs): an idempotent producer (acks=all, one request in flight
 * per broker, so a retry can neither duplicate nor reorder a record within a partition), gzip
 * batches, the Java client's murmur2 partitioner (key = scheduleId: one schedule, one partition,
 * in order). Every call is bounded: kafkajs retries are capped and the whole send has a deadline,
 * after which the producer is dropped and rebuilt (a hung broker link becomes an error in seconds).
 */
import { CompressionTypes, Kafka, Partitioners, logLevel, type LogEntry, type Producer } from 'kafkajs';
import type { OutboxPublisher, OutboxRecord } from './outbox-publisher';

export interface KafkaPublisherOptions {
  brokers: string[];
  clientId: string;
  /** Deadline of one publish() (connect + send + acks). */
  timeoutMs: number;
  log: (level: 'warn' | 'error', message: string, extra?: object) => void;
}

export class PublishTimeoutError extends Error {}

const COMPRESS_FROM_RECORDS = 64;
/**
 * kafkajs warns at every start that capped retries "may invalidate EoS guarantees": true for its
 * exactly-once transactions, which we do not use; the relay retries whole batches itself.
 */
const KNOWN_NOISE = /Limiting retries for the idempotent producer/;

export function createKafkaPublisher(options: KafkaPublisherOptions): OutboxPublisher {
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: 3_000,
    requestTimeout: Math.min(options.timeoutMs, 10_000),
    retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 2_000 },
    logLevel: logLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      const { message, ...extra } = entry.log;
      if (KNOWN_NOISE.test(message)) return;
      options.log(entry.level === logLevel.ERROR ? 'error' : 'warn', `kafka ${entry.namespace}: ${message}`, extra);
    },
  });
  let producer: Producer | undefined;
  let connecting: Promise<Producer> | undefined;
  /** Bumped by drop(): a connect that finishes after it was dropped disconnects itself. */
  let generation = 0;

  const connected = (): Promise<Producer> => {
    const mine = generation;
    connecting ??= (async () => {
      const fresh = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: true,
        createPartitioner: Partitioners.DefaultPartitioner,
        retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 2_000 },
      });
      await fresh.connect();
      if (mine !== generation) {
        await fresh.disconnect().catch(() => undefined);
        throw new Error('the Kafka producer was dropped while it connected');
      }
      producer = fresh;
      return fresh;
    })().catch((error: unknown) => {
      connecting = undefined;
      throw error;
    });
    return connecting;
  };

  const drop = async () => {
    generation += 1;
    const stale = producer;
    producer = undefined;
    connecting = undefined;
    await stale?.disconnect().catch(() => undefined);
  };

  const send = async (records: readonly OutboxRecord[]) => {
    const byTopic = new Map<string, OutboxRecord[]>();
    for (const record of records) {
      const list = byTopic.get(record.topic);
      if (list) list.push(record);
      else byTopic.set(record.topic, [record]);
    }
    await (await connected()).sendBatch({
      acks: -1,
      timeout: options.timeoutMs,
      // gzip costs CPU per batch; only batches large enough to gain from it are compressed.
      compression: records.length >= COMPRESS_FROM_RECORDS ? CompressionTypes.GZIP : CompressionTypes.None,
      topicMessages: [...byTopic].map(([topic, list]) => ({
        topic,
        messages: list.map((r) => ({ key: r.key, value: r.value, headers: r.headers })),
      })),
    });
  };

  return {
    async publish(records) {
      if (records.length === 0) return;
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new PublishTimeoutError(`Kafka publish took over ${options.timeoutMs} ms`)), options.timeoutMs);
      });
      try {
        await Promise.race([send(records), deadline]);
      } catch (error) {
        await drop(); // a half-broken producer is rebuilt on the next publish
        throw error;
      } finally {
        clearTimeout(timer);
      }
    },
    close: drop,
  };
}
