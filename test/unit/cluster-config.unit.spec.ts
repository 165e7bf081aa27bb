import { ConfigError, loadConfig } from '../../src/config';

const REAL_SERVICES = {
  DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/ovation',
  REDIS_URL: 'redis://127.0.0.1:6379',
  KAFKA_BROKERS: '127.0.0.1:9092',
};
const MEMBER = { ...REAL_SERVICES, CLUSTER_ADVERTISE_URL: 'http://10.0.0.7:3000/', CLUSTER_SECRET: 's'.repeat(16) };

function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('the configuration was accepted');
}

describe('cluster configuration', () => {
  it('stays a single instance when CLUSTER_ADVERTISE_URL is unset', () => {
    expect(loadConfig(REAL_SERVICES).cluster).toBeUndefined();
  });

  it('turns cluster mode on with defaults argued in the README', () => {
    expect(loadConfig(MEMBER).cluster).toEqual({
      advertiseUrl: 'http://10.0.0.7:3000',
      secret: 's'.repeat(16),
      partitions: 48,
      topic: 'ovation.ownership',
      groupId: 'ovation-owners',
      sessionTimeoutMs: 6_000,
      heartbeatIntervalMs: 1_000,
    });
  });

  it('keeps one journal commit in flight per instance unless told otherwise (members × in-flight commits reach PostgreSQL)', () => {
    expect(loadConfig(REAL_SERVICES).actor.journalCommitsInFlight).toBe(1);
    expect(loadConfig(MEMBER).actor.journalCommitsInFlight).toBe(1);
    expect(loadConfig({ ...MEMBER, JOURNAL_COMMITS_IN_FLIGHT: '3' }).actor.journalCommitsInFlight).toBe(3);
  });

  it.each([
    ['DATABASE_URL', { ...MEMBER, DATABASE_URL: '' }],
    ['REDIS_URL', { ...MEMBER, REDIS_URL: '' }],
    ['KAFKA_BROKERS', { ...MEMBER, KAFKA_BROKERS: '' }],
    ['RESERVATION_ENGINE', { ...MEMBER, RESERVATION_ENGINE: 'sql' }],
    ['CLUSTER_SECRET', { ...MEMBER, CLUSTER_SECRET: 'short' }],
    ['CLUSTER_HEARTBEAT_MS', { ...MEMBER, CLUSTER_HEARTBEAT_MS: '3000' }],
    ['CLUSTER_PARTITIONS', { ...MEMBER, CLUSTER_PARTITIONS: '0' }],
  ])('refuses a member without what it shares with the others: %s', (variable, env) => {
    expect(refusal(env)).toContain(variable);
  });

  it('never prints the secret when it refuses it', () => {
    expect(refusal({ ...MEMBER, CLUSTER_SECRET: 'hunter2' })).not.toContain('hunter2');
  });
});
