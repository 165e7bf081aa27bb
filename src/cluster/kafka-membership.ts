/**
 * Membership of the ownership group (design.md, "Scale-out"): a kafkajs consumer in group
 * CLUSTER_GROUP_ID on topic CLUSTER_TOPIC, whose partitions are the ownership partitions. Nothing
 * is ever produced to the topic; the group protocol is all we use — Kafka's coordinator decides
 * who is alive (session timeout) and who gets which partition (the round-robin assigner).
 *
 * This adapter only translates kafkajs events into the three facts OwnershipState needs: a
 * rebalance started, an assignment arrived (with the time its SyncGroup was sent), a heartbeat
 * sent at time T succeeded. Every wait is bounded by kafkajs's request timeout.
 */
import { Kafka, logLevel, type Admin, type Consumer, type LogEntry } from 'kafkajs';

export interface MembershipOptions {
  brokers: string[];
  clientId: string;
  groupId: string;
  topic: string;
  partitions: number;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  log: (level: 'info' | 'warn' | 'error', message: string, extra?: object) => void;
}

export interface MembershipEvents {
  rebalancing(): void;
  assigned(partitions: number[], sentAt: number): void;
  heartbeat(sentAt: number, generation: number | null): void;
  /** The consumer crashed and kafkajs will not restart it: this member is out of the group for good. */
  failed(reason: string): void;
}

export interface Membership {
  /** Leaves the group (the others take the partitions over at once instead of after a session timeout). */
  stop(): Promise<void>;
}

export class OwnershipTopicMismatchError extends Error {}

export async function joinOwnershipGroup(options: MembershipOptions, events: MembershipEvents): Promise<Membership> {
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2_000 },
    logLevel: logLevel.WARN,
    logCreator: () => (entry: LogEntry) => {
      const { message, ...extra } = entry.log;
      options.log(entry.level === logLevel.ERROR ? 'error' : 'warn', `kafka ${entry.namespace}: ${message}`, extra);
    },
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureOwnershipTopic(admin, options.topic, options.partitions);
  } finally {
    await admin.disconnect();
  }
  const consumer = kafka.consumer({
    groupId: options.groupId,
    sessionTimeout: options.sessionTimeoutMs,
    heartbeatInterval: options.heartbeatIntervalMs,
    rebalanceTimeout: Math.max(10_000, 2 * options.sessionTimeoutMs),
    // The topic stays empty: a short fetch wait keeps the loop, and so the heartbeats, on time.
    maxWaitTimeInMs: Math.min(500, options.heartbeatIntervalMs),
    allowAutoTopicCreation: false,
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 2_000 },
  });
  watch(consumer, options, events);
  await consumer.connect();
  await consumer.subscribe({ topic: options.topic, fromBeginning: false });
  await consumer.run({ eachMessage: async () => undefined });
  return {
    stop: async () => {
      await consumer.disconnect();
    },
  };
}

function watch(consumer: Consumer, options: MembershipOptions, events: MembershipEvents): void {
  // When each group request was sent: a response that arrives after a pause must not count as fresh.
  const sentAt = { Heartbeat: 0, SyncGroup: 0 };
  consumer.on(consumer.events.REQUEST, ({ payload }) => {
    if (payload.apiName === 'Heartbeat' || payload.apiName === 'SyncGroup') sentAt[payload.apiName] = payload.sentAt;
  });
  consumer.on(consumer.events.HEARTBEAT, ({ payload }) => {
    events.heartbeat(sentAt.Heartbeat, payload.groupGenerationId ?? null);
  });
  consumer.on(consumer.events.REBALANCING, () => {
    options.log('info', 'ownership group: rebalancing; schedules are not served until the new assignment is claimed');
    events.rebalancing();
  });
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    const partitions = payload.memberAssignment[options.topic] ?? [];
    options.log('info', 'ownership group: joined', { memberId: payload.memberId, isLeader: payload.isLeader, partitions });
    events.assigned(partitions, sentAt.SyncGroup || Date.now());
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    // kafkajs restarts the consumer after a retriable crash (it then joins again); until then nothing is served.
    options.log('error', 'ownership group: consumer crashed', { error: payload.error?.message, restart: payload.restart });
    events.rebalancing();
    if (!payload.restart) events.failed(payload.error?.message ?? 'the ownership consumer crashed');
  });
}

/** Creates the ownership topic, or checks the existing one has the partition count this cluster uses. */
async function ensureOwnershipTopic(admin: Admin, topic: string, partitions: number): Promise<void> {
  await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true });
  const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
  const found = metadata.topics[0]?.partitions.length ?? 0;
  if (found !== partitions) {
    throw new OwnershipTopicMismatchError(
      `ownership topic ${topic} has ${found} partitions but CLUSTER_PARTITIONS is ${partitions}: the count is fixed for a cluster's life`,
    );
  }
}
