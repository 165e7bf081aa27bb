/**
 * Configuration from the environment, validated once at start-up. A wrong value stops start-up
 * with a message that names the variable (api.md, "Configuration").
 */
export type EngineName = 'actor' | 'lock' | 'sql';

export interface Config {
  port: number;
  host: string;
  /** Unset: embedded mode runs its own PostgreSQL with its data under `dataDir`. */
  databaseUrl: string | undefined;
  /** Embedded mode's data folder (DATA_DIR). */
  dataDir: string;
  /** Unset: embedded mode keeps the waiting line and the rate-limit counters in this process. */
  redisUrl: string | undefined;
  kafkaBrokers: string[];
  kafkaTopicConfirmed: string;
  adminApiKey: string;
  engine: EngineName;
  holdTtlSeconds: number;
  /** An extended hold never lasts past its creation + this (at least holdTtlSeconds). */
  holdMaxSeconds: number;
  maxSeatsPerHold: number;
  queueMaxActive: number;
  /** Actors with per-schedule metric series: the hottest N (bounded cardinality). */
  metricsTopActors: number;
  queueActiveTtlSeconds: number;
  /** How long an ACTIVE token lookup may be reused in memory (0: ask Redis every time). */
  queueTokenCacheMs: number;
  /** A WAITING token not polled (issued again or looked up) for this long loses its place. */
  queueWaitingTtlSeconds: number;
  /** Fixed-window request limits kept in Redis (README, "Configuration"); a limit of 0 is off. */
  rateLimits: RateLimitConfig;
  /** The card gateway and the cockatiel policies around it (README, "Payments"). */
  gateway: GatewayConfig;
  /** How often PENDING charges are re-asked about (also once at start-up). */
  chargeReconcileIntervalMs: number;
  /** The relay of outbox rows to Kafka; off when KAFKA_BROKERS is unset. */
  outbox: OutboxConfig;
  logLevel: string;
  /** Prefix of every Redis key this instance writes; lets tests and benchmarks share one Redis. */
  redisKeyPrefix: string;
  /** Tuning of the actor engine (documented in the README). */
  actor: ActorTuning;
  /** Several instances, one owner per schedule (README, "Several instances"); undefined: one instance. */
  cluster: ClusterConfig | undefined;
}

export interface ClusterConfig {
  /** How the other members reach this one (CLUSTER_ADVERTISE_URL); setting it turns cluster mode on. */
  advertiseUrl: string;
  /** Shared by the members: guards the internal forwarding endpoint. */
  secret: string;
  partitions: number;
  topic: string;
  groupId: string;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
}

export interface ActorTuning {
  mailboxCapacity: number;
  requestTimeoutMs: number;
  idleMs: number;
  journalMaxBatch: number;
  journalCommitsInFlight: number;
  journalFlushMs: number;
  snapshotEveryEvents: number;
  snapshotEverySeconds: number;
}

export interface GatewayConfig {
  /** Unset: the built-in sandbox, which approves every charge. */
  url: string | undefined;
  timeoutMs: number;
  retries: number;
  retryBaseMs: number;
  retryMaxMs: number;
  breakerThreshold: number;
  breakerWindowMs: number;
  breakerMinCalls: number;
  breakerHalfOpenAfterMs: number;
  concurrency: number;
  queue: number;
}

export interface RateLimitConfig {
  /** Length of every limit's window. */
  windowSeconds: number;
  /** POST /v1/queue/tokens per userId per window. */
  tokenIssuePerUser: number;
  /** POST /v1/queue/tokens per client address (IPv6: per /64) per window. */
  tokenIssuePerIp: number;
  /** POST /v1/reservations per Queue-Token per window. */
  holdsPerToken: number;
}

export interface OutboxConfig {
  batchSize: number;
  idlePollMs: number;
  publishTimeoutMs: number;
  retentionHours: number;
}

/** The admin key of development and the demo; the banner shows it, and only it. */
export const DEV_ADMIN_KEY = 'dev-admin-key';

export class ConfigError extends Error {
  constructor(readonly variable: string, expected: string, got: string) {
    super(`Invalid configuration: ${variable} must be ${expected} (got ${JSON.stringify(got)})`);
  }
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const ENGINES: readonly EngineName[] = ['actor', 'lock', 'sql'];

function text(env: Env, name: string, fallback: string): string {
  const value = env[name];
  return value === undefined || value === '' ? fallback : value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `an integer from ${min} to ${max}`, raw);
  }
  return value;
}

function oneOf<T extends string>(env: Env, name: string, fallback: T, allowed: readonly T[]): T {
  const raw = text(env, name, fallback);
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `one of ${allowed.join(', ')}`, raw);
  }
  return raw as T;
}

function url(env: Env, name: string, fallback: string | undefined, protocols: string[]): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    // Unparsable, so its password cannot be picked out: the message names the variable only.
    throw new ConfigError(name, `a URL (${protocols.join(' or ')})`, '(not a URL; value not shown: it may hold a password)');
  }
  if (!protocols.includes(parsed.protocol)) throw new ConfigError(name, `a URL (${protocols.join(' or ')})`, withoutPassword(parsed));
  return raw;
}

/** A URL as it may be printed: its password replaced. */
export function withoutPassword(url: URL | string): string {
  try {
    const parsed = new URL(url.toString());
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(not a URL)';
  }
}

function fraction(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d*\.?\d+$/.test(raw.trim()) || !(value > 0 && value < 1)) throw new ConfigError(name, 'a number between 0 and 1 (exclusive)', raw);
  return value;
}

/** Unset: no Kafka (the relay is off and outbox rows wait). */
function brokers(env: Env): string[] {
  const raw = text(env, 'KAFKA_BROKERS', '');
  if (raw === '') return [];
  const list = raw.split(',').map((b) => b.trim());
  for (const broker of list) {
    if (!/^[A-Za-z0-9.\-_\[\]:]+:\d{1,5}$/.test(broker)) {
      throw new ConfigError('KAFKA_BROKERS', 'a comma-separated list of host:port', raw);
    }
  }
  return list;
}

/**
 * HOLD_MAX_SECONDS below HOLD_TTL_SECONDS would make a fresh hold outlive its own maximum: refused
 * when set so. Unset, it is 900 or HOLD_TTL_SECONDS when that is longer, so raising the TTL alone
 * never stops start-up.
 */
function holdMaxSeconds(env: Env): number {
  const ttl = integer(env, 'HOLD_TTL_SECONDS', 300, 1, 86400);
  const raw = env.HOLD_MAX_SECONDS;
  if (raw === undefined || raw === '') return Math.max(900, ttl);
  const max = integer(env, 'HOLD_MAX_SECONDS', 900, 1, 7 * 86400);
  if (max < ttl) throw new ConfigError('HOLD_MAX_SECONDS', `at least HOLD_TTL_SECONDS (${ttl})`, raw);
  return max;
}

export function loadConfig(env: Env = process.env): Config {
  const adminApiKey = text(env, 'ADMIN_API_KEY', DEV_ADMIN_KEY);
  // The message names the variable, never the secret's value.
  if (adminApiKey.length < 8) throw new ConfigError('ADMIN_API_KEY', 'at least 8 characters', `${adminApiKey.length} characters`);
  const config = readConfig(env, adminApiKey);
  // The lock baseline locks seats in Redis: there is no in-process stand-in for it.
  if (config.engine === 'lock' && config.redisUrl === undefined) {
    throw new ConfigError('REDIS_URL', 'set (a redis:// URL) when RESERVATION_ENGINE is lock', env.REDIS_URL ?? '');
  }
  return { ...config, cluster: clusterConfig(env, config) };
}

/**
 * Cluster mode (CLUSTER_ADVERTISE_URL set) shares everything between the members: the database,
 * the waiting line and the ownership group. So it needs the real PostgreSQL, Redis and Kafka —
 * embedded ones would be private to each process — and the actor engine (the baselines keep no
 * state in memory and scale out without ownership).
 */
function clusterConfig(env: Env, config: Omit<Config, 'cluster'>): ClusterConfig | undefined {
  const advertiseUrl = url(env, 'CLUSTER_ADVERTISE_URL', undefined, ['http:', 'https:']);
  if (advertiseUrl === undefined) return undefined;
  const needs = (name: string, missing: boolean, why: string) => {
    if (missing) throw new ConfigError(name, why, env[name] ?? '');
  };
  needs('RESERVATION_ENGINE', config.engine !== 'actor', 'actor when CLUSTER_ADVERTISE_URL is set (the baselines scale out without ownership)');
  needs('DATABASE_URL', config.databaseUrl === undefined, 'set when CLUSTER_ADVERTISE_URL is set (the members share one PostgreSQL)');
  needs('REDIS_URL', config.redisUrl === undefined, 'set when CLUSTER_ADVERTISE_URL is set (the members share one waiting line)');
  needs('KAFKA_BROKERS', config.kafkaBrokers.length === 0, 'set when CLUSTER_ADVERTISE_URL is set (ownership comes from a Kafka consumer group)');
  const secret = text(env, 'CLUSTER_SECRET', '');
  if (secret.length < 16) throw new ConfigError('CLUSTER_SECRET', 'at least 16 characters, the same on every member', `${secret.length} characters`);
  // Kafka refuses sessions shorter than group.min.session.timeout.ms (6 s by default).
  const sessionTimeoutMs = integer(env, 'CLUSTER_SESSION_TIMEOUT_MS', 6_000, 1_000, 300_000);
  const heartbeatIntervalMs = integer(env, 'CLUSTER_HEARTBEAT_MS', 1_000, 100, 60_000);
  if (heartbeatIntervalMs * 3 > sessionTimeoutMs) {
    throw new ConfigError('CLUSTER_HEARTBEAT_MS', `at most a third of CLUSTER_SESSION_TIMEOUT_MS (${sessionTimeoutMs})`, String(heartbeatIntervalMs));
  }
  return {
    advertiseUrl: advertiseUrl.replace(/\/+$/, ''),
    secret,
    partitions: integer(env, 'CLUSTER_PARTITIONS', 48, 1, 10_000),
    topic: text(env, 'CLUSTER_TOPIC', 'ovation.ownership'),
    groupId: text(env, 'CLUSTER_GROUP_ID', 'ovation-owners'),
    sessionTimeoutMs,
    heartbeatIntervalMs,
  };
}

function readConfig(env: Env, adminApiKey: string): Omit<Config, 'cluster'> {
  return {
    port: integer(env, 'PORT', 3000, 0, 65535),
    host: text(env, 'HOST', '127.0.0.1'),
    databaseUrl: url(env, 'DATABASE_URL', undefined, ['postgres:', 'postgresql:']),
    dataDir: text(env, 'DATA_DIR', './.ovation'),
    redisUrl: url(env, 'REDIS_URL', undefined, ['redis:', 'rediss:']),
    kafkaBrokers: brokers(env),
    kafkaTopicConfirmed: text(env, 'KAFKA_TOPIC_CONFIRMED', 'reservations.confirmed'),
    adminApiKey,
    engine: oneOf(env, 'RESERVATION_ENGINE', 'actor', ENGINES),
    holdTtlSeconds: integer(env, 'HOLD_TTL_SECONDS', 300, 1, 86400),
    holdMaxSeconds: holdMaxSeconds(env),
    maxSeatsPerHold: integer(env, 'MAX_SEATS_PER_HOLD', 4, 1, 100),
    queueMaxActive: integer(env, 'QUEUE_MAX_ACTIVE', 1000, 1, 10_000_000),
    metricsTopActors: integer(env, 'METRICS_TOP_ACTORS', 10, 0, 1_000),
    queueActiveTtlSeconds: integer(env, 'QUEUE_ACTIVE_TTL_SECONDS', 600, 1, 86400),
    queueTokenCacheMs: integer(env, 'QUEUE_TOKEN_CACHE_MS', 1_000, 0, 60_000),
    queueWaitingTtlSeconds: integer(env, 'QUEUE_WAITING_TTL_SECONDS', 60, 1, 86_400),
    // Defaults argued in src/http/rate-limit.ts and the README's configuration table.
    rateLimits: {
      windowSeconds: integer(env, 'RATE_LIMIT_WINDOW_SECONDS', 10, 1, 3_600),
      tokenIssuePerUser: integer(env, 'RATE_LIMIT_TOKEN_ISSUE_PER_USER', 10, 0, 1_000_000),
      tokenIssuePerIp: integer(env, 'RATE_LIMIT_TOKEN_ISSUE_PER_IP', 1_000, 0, 1_000_000),
      holdsPerToken: integer(env, 'RATE_LIMIT_HOLDS_PER_TOKEN', 20, 0, 1_000_000),
    },
    gateway: {
      url: url(env, 'PAYMENT_GATEWAY_URL', undefined, ['http:', 'https:']),
      timeoutMs: integer(env, 'PAYMENT_GATEWAY_TIMEOUT_MS', 3_000, 10, 60_000),
      retries: integer(env, 'PAYMENT_GATEWAY_RETRIES', 2, 0, 10),
      retryBaseMs: integer(env, 'PAYMENT_GATEWAY_RETRY_BASE_MS', 100, 1, 10_000),
      retryMaxMs: integer(env, 'PAYMENT_GATEWAY_RETRY_MAX_MS', 1_000, 1, 60_000),
      breakerThreshold: fraction(env, 'PAYMENT_BREAKER_FAILURE_RATE', 0.5),
      breakerWindowMs: integer(env, 'PAYMENT_BREAKER_WINDOW_MS', 10_000, 1_000, 600_000),
      breakerMinCalls: integer(env, 'PAYMENT_BREAKER_MIN_CALLS', 10, 1, 100_000),
      breakerHalfOpenAfterMs: integer(env, 'PAYMENT_BREAKER_HALF_OPEN_AFTER_MS', 5_000, 10, 600_000),
      concurrency: integer(env, 'PAYMENT_GATEWAY_CONCURRENCY', 32, 1, 10_000),
      queue: integer(env, 'PAYMENT_GATEWAY_QUEUE', 64, 0, 100_000),
    },
    chargeReconcileIntervalMs: integer(env, 'CHARGE_RECONCILE_INTERVAL_MS', 5_000, 10, 3_600_000),
    outbox: {
      batchSize: integer(env, 'OUTBOX_BATCH_SIZE', 500, 1, 10_000),
      idlePollMs: integer(env, 'OUTBOX_IDLE_POLL_MS', 50, 1, 60_000),
      publishTimeoutMs: integer(env, 'OUTBOX_PUBLISH_TIMEOUT_MS', 10_000, 100, 600_000),
      retentionHours: integer(env, 'OUTBOX_RETENTION_HOURS', 72, 1, 24 * 365),
    },
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', LOG_LEVELS),
    redisKeyPrefix: text(env, 'REDIS_KEY_PREFIX', 'ovation:'),
    actor: {
      mailboxCapacity: integer(env, 'ACTOR_MAILBOX_CAPACITY', 10_000, 1, 10_000_000),
      requestTimeoutMs: integer(env, 'ACTOR_REQUEST_TIMEOUT_MS', 5_000, 10, 600_000),
      idleMs: integer(env, 'ACTOR_IDLE_MS', 300_000, 100, 86_400_000),
      journalMaxBatch: integer(env, 'JOURNAL_MAX_BATCH', 1_024, 1, 100_000),
      // One commit in flight: the commits that wait meanwhile join into the next one, so under load
      // batches grow instead of commits multiplying. Measured on 2 cores (spread, 64 connections,
      // 100 schedules): 1 / 2 / 4 in flight gave 3,352 / 2,773 / 2,335 hold + release cycles/s and
      // 416 / 538 / 656 µs of server + PostgreSQL CPU per cycle. A cluster member has its own group
      // committer, so a cluster keeps (members × this) in flight (bench/README, "Several instances").
      // A PostgreSQL with many cores and fast fsync may want more: measure before raising it.
      journalCommitsInFlight: integer(env, 'JOURNAL_COMMITS_IN_FLIGHT', 1, 1, 64),
      journalFlushMs: integer(env, 'JOURNAL_FLUSH_MS', 0, 0, 1_000),
      snapshotEveryEvents: integer(env, 'SNAPSHOT_EVERY_EVENTS', 10_000, 1, 10_000_000),
      snapshotEverySeconds: integer(env, 'SNAPSHOT_EVERY_SECONDS', 60, 1, 86_400),
    },
  };
}
