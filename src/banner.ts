/** What `npm start` prints once serving: the mode of each part and how to switch it, where to look next. */
import path from 'node:path';
import { DEV_ADMIN_KEY, withoutPassword, type Config } from './config';
import type { RunModes } from './http/app-services';
import type { DemoConcert } from './demo-seed';

export function startBanner(config: Config, modes: RunModes, url: string, demo: DemoConcert | undefined): string {
  const row = (name: string, what: string, howToSwitch = '') => `  ${name.padEnd(9)} ${what}${howToSwitch ? `\n  ${''.padEnd(9)} ${howToSwitch}` : ''}`;
  const lines = [
    '',
    `ovation is serving on ${url}  (engine: ${config.engine})`,
    row(
      'database',
      modes.database === 'embedded'
        ? `embedded PostgreSQL 17, data in ${path.resolve(config.dataDir, 'postgres')}`
        : `PostgreSQL at ${withoutPassword(config.databaseUrl ?? '')}`,
      modes.database === 'embedded' ? 'set DATABASE_URL=postgres://… to use your own server' : '',
    ),
    row(
      'queue',
      modes.queue === 'memory' ? 'in-process waiting line (one instance only)' : `Redis at ${withoutPassword(config.redisUrl ?? '')}`,
      modes.queue === 'memory' ? 'set REDIS_URL=redis://… to keep the line in Redis' : '',
    ),
    row(
      'outbox',
      modes.outbox === 'kafka' ? `relayed to Kafka (${config.kafkaBrokers.join(',')}), topic ${config.kafkaTopicConfirmed}` : 'off: confirmations wait in the outbox table',
      modes.outbox === 'off' ? 'set KAFKA_BROKERS=host:9092 to relay them (npm run services:up starts one on 127.0.0.1:9092)' : '',
    ),
    row(
      'payments',
      config.gateway.url ? `card gateway at ${withoutPassword(config.gateway.url)}` : 'built-in sandbox gateway (approves every charge)',
      config.gateway.url ? '' : 'set PAYMENT_GATEWAY_URL=… for a card gateway (npm run gateway:sim runs a simulator)',
    ),
    row(
      'instances',
      config.cluster
        ? `cluster member ${config.cluster.advertiseUrl}: group ${config.cluster.groupId}, ${config.cluster.partitions} partitions on ${config.cluster.topic}`
        : 'one instance owns every schedule',
      config.cluster ? `who owns what: ${url}/v1/admin/cluster` : config.engine === 'actor' ? 'set CLUSTER_ADVERTISE_URL (and CLUSTER_SECRET) to run several (README, "Several instances")' : '',
    ),
    // A key the operator chose is a secret: it never reaches the output (and so the logs).
    row(
      'admin',
      config.adminApiKey === DEV_ADMIN_KEY
        ? `X-Admin-Key: ${DEV_ADMIN_KEY}  (the development default: set ADMIN_API_KEY)`
        : 'X-Admin-Key: the value of ADMIN_API_KEY (not shown)',
    ),
    row('docs', `${url}/docs   metrics: ${url}/metrics   health: ${url}/health/ready   live ops: ${url}/ops`),
  ];
  if (demo) lines.push(row('demo', `concert ${demo.concertId} seeded: 3 schedules × 50 seats (the first priced by section)`));
  lines.push(row('try', `curl -s ${url}/v1/concerts`), '');
  return lines.join('\n');
}
