/**
 * The benchmark's own Kafka topics on the shared broker: created up front with a unique name
 * (so auto-creation is not timed, and no other test's records mix in), counted afterwards from
 * the partitions' offsets, deleted at the end. The broker itself is never stopped.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { REPO_ROOT } from '../server-process';
import { processCpuSeconds } from '../proc-stats';

export const DEFAULT_BROKERS = process.env.KAFKA_BROKERS ?? '127.0.0.1:9092';

function admin(brokers: string) {
  return new Kafka({ clientId: 'ovation-bench-admin', brokers: brokers.split(','), logLevel: logLevel.ERROR }).admin();
}

export async function createTopic(brokers: string, topic: string, partitions: number): Promise<void> {
  const client = admin(brokers);
  await client.connect();
  try {
    await client.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }] });
  } finally {
    await client.disconnect();
  }
}

/** Records in the topic (sum over partitions of high - low watermark). */
export async function topicRecordCount(brokers: string, topic: string): Promise<number> {
  const client = admin(brokers);
  await client.connect();
  try {
    const offsets = await client.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  } finally {
    await client.disconnect();
  }
}

export async function deleteTopics(brokers: string, topics: string[]): Promise<void> {
  if (topics.length === 0) return;
  const client = admin(brokers);
  await client.connect();
  try {
    await client.deleteTopics({ topics, timeout: 10_000 });
  } finally {
    await client.disconnect();
  }
}

/** Consumer groups of a finished run (their committed offsets would otherwise stay on the broker). */
export async function deleteGroups(brokers: string, groups: string[]): Promise<void> {
  if (groups.length === 0) return;
  const client = admin(brokers);
  await client.connect();
  try {
    await client.deleteGroups(groups);
  } finally {
    await client.disconnect();
  }
}

/**
 * CPU seconds of the shared broker's JVM (pid from scripts/kafka.sh's pid file), or undefined when
 * it is not found. Other tests may use the same broker meanwhile: the figure is an upper bound.
 */
export function brokerCpuSeconds(): number | undefined {
  const port = (DEFAULT_BROKERS.split(',')[0] ?? '').split(':')[1] ?? '9092';
  try {
    const pid = Number(readFileSync(join(REPO_ROOT, '.services', `kafka-${port}`, 'kafka.pid'), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? processCpuSeconds(pid) : undefined;
  } catch {
    return undefined;
  }
}
