import { checkRequiredServices, clusterSecret, instanceEnv } from '../../scripts/cluster/cluster-env';

describe('local cluster environment', () => {
  const services = { DATABASE_URL: 'postgres://x/db', REDIS_URL: 'redis://x', KAFKA_BROKERS: 'x:9092' };

  it('when a real service is not configured, then the cluster refuses to start and names every missing one', () => {
    expect(() => checkRequiredServices({ DATABASE_URL: 'postgres://x/db' })).toThrow(/REDIS_URL, KAFKA_BROKERS are not set/);
    expect(() => checkRequiredServices({ ...services, KAFKA_BROKERS: '' })).toThrow(/KAFKA_BROKERS is not set/);
    expect(() => checkRequiredServices(services)).not.toThrow();
  });

  it('when the caller sets no CLUSTER_SECRET, then one random secret long enough for the server is made', () => {
    expect(clusterSecret({ CLUSTER_SECRET: 'given-secret-0123456789' })).toBe('given-secret-0123456789');
    const made = clusterSecret({});
    expect(made).toMatch(/^[0-9a-f]{64}$/);
    expect(clusterSecret({})).not.toBe(made);
  });

  it("when an instance's environment is made, then everything passes through and its own port and URL win", () => {
    const env = instanceEnv({ ...services, PORT: '1', LOG_LEVEL: 'warn', UNSET: undefined }, 3002, 's'.repeat(32));
    expect(env).toEqual({
      ...services,
      LOG_LEVEL: 'warn',
      PORT: '3002',
      HOST: '127.0.0.1',
      CLUSTER_ADVERTISE_URL: 'http://127.0.0.1:3002',
      CLUSTER_SECRET: 's'.repeat(32),
    });
  });
});
