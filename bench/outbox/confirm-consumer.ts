/**
 * The downstream consumer of the confirmation latency benchmark, in its own process so that its
 * work (fetch, gunzip, JSON) never delays the payment writer's clock in the benchmark process.
 * It reads the topic from the beginning and keeps, per paymentId, the first time a record
 * reached it (epoch ms, performance.timeOrigin + now: comparable with the writer's commit times on
 * the same machine) and the record's Kafka timestamp (set by the relay's producer when it sent
 * the batch), so the latency splits into relay pickup (commit → send) and delivery (send → here).
 *
 * Env: BROKERS, TOPIC, GROUP. IPC: reports `ready` once it joined its group, `progress` every
 * 200 ms, and `receipts` when asked (`collect`), then exits.
 */
import { Kafka, logLevel } from 'kafkajs';

export type ConsumerCommand = { type: 'collect' };
export type ConsumerReport =
  | { type: 'ready' }
  | { type: 'progress'; received: number }
  /** [paymentId, received epoch ms, Kafka record timestamp ms] */
  | { type: 'receipts'; receipts: [string, number, number][]; duplicates: number; withoutEventId: number }
  | { type: 'fatal'; message: string };

/** Resolves once the message is handed to the IPC channel (a large one must not be cut off by an exit). */
const send = (report: ConsumerReport) => new Promise<void>((resolve) => (process.send ? process.send(report, undefined, {}, () => resolve()) : resolve()));

async function main(): Promise<void> {
  const [brokers, topic, groupId] = [process.env['BROKERS'], process.env['TOPIC'], process.env['GROUP']];
  if (!brokers || !topic || !groupId) throw new Error('BROKERS, TOPIC and GROUP must be set');
  const kafka = new Kafka({ clientId: 'ovation-bench-consumer', brokers: brokers.split(','), logLevel: logLevel.ERROR });
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  const receipts = new Map<string, [string, number, number]>();
  let duplicates = 0;
  let withoutEventId = 0;
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
  await consumer.run({
    eachBatch: async ({ batch }) => {
      const received = performance.timeOrigin + performance.now();
      for (const message of batch.messages) {
        if (message.headers?.['event-id'] === undefined) withoutEventId++;
        const { paymentId } = JSON.parse(message.value?.toString('utf8') ?? '{}') as { paymentId?: string };
        if (paymentId === undefined) continue;
        if (receipts.has(paymentId)) duplicates++;
        else receipts.set(paymentId, [paymentId, received, Number(message.timestamp)]);
      }
    },
  });
  await joined;
  await send({ type: 'ready' });
  const progress = setInterval(() => void send({ type: 'progress', received: receipts.size }), 200);
  process.on('message', (command: ConsumerCommand) => {
    if (command.type !== 'collect') return;
    clearInterval(progress);
    void send({ type: 'receipts', receipts: [...receipts.values()], duplicates, withoutEventId })
      .then(() => consumer.disconnect())
      .finally(() => process.disconnect?.());
  });
}

main().catch(async (error: unknown) => {
  await send({ type: 'fatal', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
});
process.on('disconnect', () => process.exit(0));
