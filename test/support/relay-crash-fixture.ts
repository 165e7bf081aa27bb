/**
 * A relay process that dies by SIGKILL right after Kafka acknowledged its first batch and before
 * that batch is marked published — the window the at-least-once guarantee is about. Run as a
 * child process by the outbox test: DATABASE_URL and KAFKA_BROKERS from the environment.
 */
import { createPool } from '../../src/persistence/database';
import { createKafkaPublisher } from '../../src/outbox/kafka-publisher';
import { createOutboxRelay } from '../../src/outbox/outbox-relay';

const db = createPool(process.env.DATABASE_URL!, 2);
const relay = createOutboxRelay({
  db,
  publisher: createKafkaPublisher({
    brokers: process.env.KAFKA_BROKERS!.split(','),
    clientId: 'relay-crash-fixture',
    timeoutMs: 10_000,
    log: () => undefined,
  }),
  batchSize: Number(process.env.OUTBOX_BATCH_SIZE ?? 5),
  idlePollMs: 20,
  retentionHours: 72,
  log: () => undefined,
  afterPublish: async (records) => {
    process.stdout.write(`published ${records.map((r) => r.id).join(',')}\n`);
    process.kill(process.pid, 'SIGKILL');
  },
});
relay.start();
