/**
 * The outbox relay alone in its own process, built exactly as src/runtime.ts builds it
 * (createOutboxRelay + createKafkaPublisher, a pool of 20, the OUTBOX_* settings read by
 * loadConfig from the environment), without the HTTP server around it, so its CPU is the relay's.
 *
 * IPC: the parent sends `start` (the relay begins) and `stop` (finish the batch, close);
 * this process reports `ready`, every batch as it is committed, and `stopped` with its totals.
 */
import { loadConfig } from '../../src/config';
import { createPool } from '../../src/persistence/database';
import { createKafkaPublisher } from '../../src/outbox/kafka-publisher';
import { createOutboxRelay } from '../../src/outbox/outbox-relay';

export type RelayCommand = { type: 'start' } | { type: 'stop' };
export type RelayReport =
  | { type: 'ready' }
  | { type: 'batch'; records: number; publishSeconds: number; at: number }
  | { type: 'stopped'; batches: number; failures: number }
  | { type: 'fatal'; message: string };

const send = (report: RelayReport) => process.send?.(report);

function main(): void {
  const config = loadConfig(process.env);
  if (config.kafkaBrokers.length === 0) throw new Error('KAFKA_BROKERS must be set for the relay process');
  const log = (level: string, message: string, extra?: unknown) =>
    process.stderr.write(`${JSON.stringify({ level, message, extra: extra instanceof Error ? extra.message : extra })}\n`);
  if (config.databaseUrl === undefined) throw new Error('DATABASE_URL must be set for the relay process');
  const db = createPool(config.databaseUrl, 20);
  let batches = 0;
  let failures = 0;
  const relay = createOutboxRelay({
    db,
    publisher: createKafkaPublisher({ brokers: config.kafkaBrokers, clientId: 'ovation-outbox', timeoutMs: config.outbox.publishTimeoutMs, log }),
    batchSize: config.outbox.batchSize,
    idlePollMs: config.outbox.idlePollMs,
    retentionHours: config.outbox.retentionHours,
    log,
    observer: {
      published(records, seconds) {
        batches++;
        send({ type: 'batch', records, publishSeconds: seconds, at: performance.timeOrigin + performance.now() });
      },
      failed() {
        failures++;
      },
    },
  });
  process.on('message', (command: RelayCommand) => {
    if (command.type === 'start') relay.start();
    else
      void relay
        .stop()
        .then(() => db.end())
        .then(() => {
          send({ type: 'stopped', batches, failures });
          process.disconnect?.();
        });
  });
  send({ type: 'ready' });
}

try {
  main();
} catch (error) {
  send({ type: 'fatal', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}
// The benchmark went away: do not linger.
process.on('disconnect', () => process.exit(0));
